"""Attention-map widget (§6.7).

Given the attention weights of a trained causal transformer for one input, shape
(layers, heads, n, n), the widget shows, for the chosen query position i, its weights over the
key positions j ≤ i (bars), and the whole map with row i outlined.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Rectangle

from .view import FigureWidget, nice_ceiling


def attention_row(maps, query: int, layer: int = 0, head: int = 0) -> np.ndarray:
    """The weights A[layer, head, query, :] of one query over all key positions."""
    maps = np.asarray(maps)
    if maps.ndim != 4 or maps.shape[2] != maps.shape[3]:
        raise ValueError(f"maps must have shape (layers, heads, n, n), got {maps.shape}")
    L, Hh, n, _ = maps.shape
    for value, size, name in ((query, n, "query"), (layer, L, "layer"), (head, Hh, "head")):
        if not (isinstance(value, (int, np.integer)) and 0 <= value < size):
            raise ValueError(f"{name} must be an integer in 0..{size - 1}, got {value!r}")
    return maps[layer, head, query]


class AttentionWidget(FigureWidget):
    """Slider: query position (first); menus: layer and head."""

    def __init__(self, maps, labels=None):
        maps = np.asarray(maps, dtype=float)
        attention_row(maps, 0)  # validates the shape
        self.maps = maps
        L, Hh, n, _ = maps.shape
        self.labels = labels
        super().__init__({
            "query": widgets.IntSlider(value=n // 2, min=0, max=n - 1, description="query i"),
            "layer": widgets.Dropdown(options=list(range(L)), value=0, description="layer"),
            "head": widgets.Dropdown(options=list(range(Hh)), value=0, description="head"),
        }, figsize=(9, 3.4))

    def build(self, fig):
        n = self.maps.shape[-1]
        ax_bar, ax_map = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        self.bars = ax_bar.bar(np.arange(n), np.zeros(n), width=0.9)
        ax_bar.set(xlim=(-1, n), ylim=(0, 1.05), xlabel="key position j",
                   ylabel="attention weight")
        self.ax_bar = ax_bar
        self.im = ax_map.imshow(self.maps[0, 0], cmap="viridis", vmin=0, vmax=1)
        ax_map.set(xlabel="key position j", ylabel="query position i")
        ax_map.grid(False)
        self.row = Rectangle((-0.5, -0.5), n, 1, fill=False, edgecolor="#d62728", linewidth=2)
        ax_map.add_patch(self.row)
        self.ax_map = ax_map
        fig.colorbar(self.im, ax=ax_map, fraction=0.046)
        fig.subplots_adjust(left=0.07, right=0.95, top=0.88, bottom=0.16, wspace=0.25)

    def animated(self):
        return [*self.bars, self.im, self.row, self.ax_bar.title, self.ax_map.title]

    def draw(self, query, layer, head):
        row = attention_row(self.maps, query, layer, head)
        for bar, h in zip(self.bars, row):
            bar.set_height(h)
        self.ax_bar.set_ylim(0, nice_ceiling(max(1e-3, float(row.max())) * 1.1))
        self.im.set_data(self.maps[layer, head])
        self.row.set_y(query - 0.5)
        where = f" ({self.labels[query]})" if self.labels is not None else ""
        self.ax_bar.set_title(f"query {query}{where}, layer {layer}, head {head}: "
                              f"weights on keys 0..{query}")
        self.ax_map.set_title("all queries (row i outlined)")
