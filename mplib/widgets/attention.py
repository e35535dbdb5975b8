"""Attention-map widget (§6.7).

Given the attention weights of a trained causal transformer for one input, shape
(layers, heads, n, n), the widget shows, for the chosen query position i, its weights over the
key positions j ≤ i (bars), and the whole map with row i outlined. With ``image_shape=(H, W)``
(a transformer over an image's pixels in raster order with its input shifted by one: n = H·W,
position 0 holds the start token, position j pixel j − 1, and query i predicts pixel i) the
right panel shows query i's weights on the image grid instead, with the pixel that query i
predicts outlined. ``labels[i]`` names query i in the title.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Rectangle

from .. import checks
from ..transformer import attention_row
from .view import FigureWidget, nice_ceiling


class AttentionWidget(FigureWidget):
    """Slider: query position (first); menus: layer and head."""

    def __init__(self, maps, labels=None, image_shape=None):
        maps = np.asarray(maps, dtype=float)
        attention_row(maps, 0)  # validates the shape
        self.maps = maps
        L, Hh, n, _ = maps.shape
        if labels is not None and len(labels) != n:
            raise ValueError(f"labels must name the {n} query positions, got {len(labels)}")
        if image_shape is not None:
            wanted = f"image_shape must be (H, W) with H·W = n = {n} (one query position per " \
                     f"predicted pixel), got {image_shape!r}"
            if len(image_shape) != 2:
                raise ValueError(wanted)
            image_shape = (checks.integer(image_shape[0], "image_shape[0]"),
                           checks.integer(image_shape[1], "image_shape[1]"))
            if image_shape[0] * image_shape[1] != n:
                raise ValueError(wanted)
        self.labels = labels
        self.image_shape = image_shape
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
        self.ax_map = ax_map
        ax_map.grid(False)
        if self.image_shape is not None:
            H, W = self.image_shape
            # Each query's weights scaled to its own maximum (printed in the title); the
            # pixels a query cannot read are left blank (NaN).
            self.im = ax_map.imshow(np.zeros((H, W)), cmap="viridis", vmin=0, vmax=1)
            ax_map.set(xticks=range(W), yticks=range(H), xlabel="column", ylabel="row")
            self.row = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="#d62728",
                                 linewidth=2)
            ax_map.add_patch(self.row)
            fig.subplots_adjust(left=0.09, right=0.97, top=0.84, bottom=0.16, wspace=0.3)
            return
        self.im = ax_map.imshow(self.maps[0, 0], cmap="viridis", vmin=0, vmax=1)
        ax_map.set(xlabel="key position j", ylabel="query position i")
        self.row = Rectangle((-0.5, -0.5), n, 1, fill=False, edgecolor="#d62728", linewidth=2)
        ax_map.add_patch(self.row)
        fig.colorbar(self.im, ax=ax_map, fraction=0.046)
        fig.subplots_adjust(left=0.09, right=0.95, top=0.88, bottom=0.16, wspace=0.25)

    def animated(self):
        return [*self.bars, self.im, self.row, self.ax_bar.title, self.ax_map.title]

    def draw(self, query, layer, head):
        row = attention_row(self.maps, query, layer, head)
        for bar, h in zip(self.bars, row):
            bar.set_height(h)
        self.ax_bar.set_ylim(0, nice_ceiling(max(1e-3, float(row.max())) * 1.1))
        where = f" ({self.labels[query]})" if self.labels is not None else ""
        self.ax_bar.set_title(f"query {query}{where}, layer {layer}, head {head}: "
                              f"weights on keys 0..{query}", fontsize=9)
        if self.image_shape is None:
            self.im.set_data(self.maps[layer, head])
            self.row.set_y(query - 0.5)
            self.ax_map.set_title("all queries (row i outlined)")
            return
        H, W = self.image_shape
        # key j >= 1 holds pixel j - 1, so query i reads pixels 0..i-1; the rest stay blank
        pixels = np.full(H * W, np.nan)
        pixels[:query] = row[1:query + 1]
        pixels = pixels.reshape(H, W)
        top = float(np.nanmax(pixels)) if query > 0 else 0.0
        self.im.set_data(pixels / top if top > 0 else pixels)
        self.row.set_xy((query % W - 0.5, query // W - 0.5))   # query i predicts pixel i
        self.ax_map.set_title(f"on the image (max {top:.2f}; start token {row[0]:.2f});\n"
                              f"outlined: the pixel query {query} predicts", fontsize=9)
