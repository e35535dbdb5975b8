"""Receptive-field widget (§2.2): theoretical and effective receptive field of an output unit.

Controls: the output unit (integer sliders "unit row" and "unit col" over the stack's
output map; their maximum follows the stack), a seed for the random weights, the number of
layers and, per layer, kernel k, stride s, dilation d and an optional max pooling.
View, on the input grid: (1) how many paths lead from each input pixel to the unit (the
input gradient of the same stack with all-ones kernels), with the box of size r from the
recurrence; (2) the effective receptive field |∂y/∂x| of that stack with random weights;
(3, 4) the effective receptive field of a given network before and after training
(precomputed in ``__init__``: the callback never trains or evaluates that network).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.patches import Rectangle

from ..receptive_field import (build_stack, erf_table, input_gradient, input_window,
                               layers_from_module, output_size, receptive_field, same_place,
                               stack)
from .view import FigureWidget

MAX_LAYERS = 4
KERNELS = [1, 2, 3, 5, 7]
STRIDES = [1, 2, 3]
DILATIONS = [1, 2, 3, 4]
POOLS = [("none", 1), ("max 2", 2), ("max 3", 3)]


class ReceptiveFieldWidget(FigureWidget):
    """Theoretical vs effective receptive field; ``trained``/``untrained``: the same conv
    feature extractor (an nn.Sequential ending before Flatten) after and before training."""

    def __init__(self, trained, untrained, images):
        if not isinstance(images, torch.Tensor):
            raise TypeError(f"images must be a tensor of shape (N, 1, H, W), got "
                            f"{type(images).__name__}")
        if images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(f"images must be a tensor of shape (N, 1, H, W), got "
                             f"{tuple(images.shape)}")
        self.images = images.detach().cpu()[:32]
        self.n = int(self.images.shape[-1])
        self.net_layers = layers_from_module(trained)
        self.tables = {"untrained": erf_table(untrained.cpu().eval(), self.images),
                       "trained": erf_table(trained.cpu().eval(), self.images)}
        # The sliders' maximum is set by draw() to the stack's output size; while it is being
        # set, a clamped value must not start a second redraw.
        self._syncing = False
        controls = {
            "row": widgets.IntSlider(value=1, min=0, max=3, description="unit row",
                                     style={"description_width": "initial"}),
            "seed": widgets.IntSlider(value=0, min=0, max=9, description="seed"),
            "layers": widgets.IntSlider(value=2, min=1, max=MAX_LAYERS, description="layers"),
            "column": widgets.IntSlider(value=2, min=0, max=3, description="unit col",
                                        style={"description_width": "initial"}),
        }
        for ell in range(1, MAX_LAYERS + 1):
            first = ell <= 2
            controls[f"k{ell}"] = widgets.Dropdown(options=KERNELS, value=5 if first else 3,
                                                   description=f"k{ell}")
            controls[f"s{ell}"] = widgets.Dropdown(options=STRIDES, value=1,
                                                   description=f"s{ell}")
            controls[f"d{ell}"] = widgets.Dropdown(options=DILATIONS, value=1,
                                                   description=f"d{ell}")
            controls[f"pool{ell}"] = widgets.Dropdown(options=POOLS, value=2 if first else 1,
                                                      description=f"pool{ell}")
        for c in controls.values():
            c.layout = widgets.Layout(width="98%")
        # short labels (k1, s1...) in a dense grid: one fixed width lines them up
        super().__init__(controls, figsize=(10.5, 3.3), columns=4, label_width="48px")

    def build(self, fig):
        axes = fig.subplots(1, 4)
        self.axes = axes
        self.images_artists, self.boxes = [], []
        titles = ["paths to the unit\n(all-ones kernels)", "ERF, this stack\n(random weights)",
                  "ERF, notebook CNN\nuntrained", "ERF, notebook CNN\ntrained"]
        for ax, title in zip(axes, titles):
            art = ax.imshow(np.zeros((self.n, self.n)), cmap="magma", vmin=0, vmax=1,
                            interpolation="nearest")
            box = Rectangle((0, 0), 1, 1, fill=False, edgecolor="#2ca02c", linewidth=2)
            ax.add_patch(box)
            ax.set(xlim=(-0.5, self.n - 0.5), ylim=(self.n - 0.5, -0.5), title=title)
            ax.tick_params(labelsize=7)
            ax.grid(False)
            self.images_artists.append(art)
            self.boxes.append(box)
        self.axes[0].set_ylabel("input row")
        for ax in axes:
            ax.set_xlabel("input column")
        self.title = fig.suptitle("")
        fig.subplots_adjust(left=0.05, right=0.99, bottom=0.2, top=0.72, wspace=0.3)

    def animated(self):
        return [*self.images_artists, *self.boxes, self.axes[0].xaxis.label,
                self.axes[2].xaxis.label, self.title]

    def _on_change(self, change) -> None:
        if not self._syncing:
            super()._on_change(change)

    def _follow_output_size(self, size: int) -> None:
        """Let the row and column sliders span the output map (size × size)."""
        self._syncing = True
        try:
            for name in ("row", "column"):
                self.controls[name].max = size - 1
        finally:
            self._syncing = False

    def _set_box(self, k, layers, unit):
        rows, cols = input_window(layers, unit)
        self.boxes[k].set_xy((cols.start - 0.5, rows.start - 0.5))
        self.boxes[k].set_width(cols.stop - cols.start)
        self.boxes[k].set_height(rows.stop - rows.start)

    def draw(self, row, seed, layers, column, **per_layer):
        size = self.n
        for ell in range(1, layers + 1):  # the first ℓ layers; say which one does not fit
            stacked = stack([per_layer[f"k{e}"] for e in range(1, ell + 1)],
                            [per_layer[f"s{e}"] for e in range(1, ell + 1)],
                            [per_layer[f"d{e}"] for e in range(1, ell + 1)],
                            [per_layer[f"pool{e}"] for e in range(1, ell + 1)])
            try:
                size = output_size(stacked, self.n)[-1]
            except ValueError:
                raise ValueError(
                    f"layer {ell} (k = {per_layer[f'k{ell}']}, d = {per_layer[f'd{ell}']}, "
                    f"pooling {per_layer[f'pool{ell}']}) does not fit on its {size}x{size} input "
                    f"map: use fewer layers, smaller kernels, strides or dilations") from None
        layers = stacked
        self._follow_output_size(size)
        u = (min(row, size - 1), min(column, size - 1))
        probe = build_stack(layers, channels=1, probe=True)
        paths = input_gradient(probe, torch.ones(1, 1, self.n, self.n), u)
        self.images_artists[0].set_data((paths / max(float(paths.max()), 1e-12)).numpy())
        g = input_gradient(build_stack(layers, channels=4, seed=seed), self.images[:8], u)
        self.images_artists[1].set_data((g / max(float(g.max()), 1e-12)).numpy())
        self._set_box(0, layers, u)
        self._set_box(1, layers, u)
        for k, name in ((2, "untrained"), (3, "trained")):
            table = self.tables[name]
            v = (same_place(u[0], size, table.shape[0]), same_place(u[1], size, table.shape[1]))
            self.images_artists[k].set_data(table[v])
            self._set_box(k, self.net_layers, v)
        self.axes[2].set_xlabel(f"unit {v} of {table.shape[0]}x{table.shape[1]} (same place), "
                                f"r = {receptive_field(self.net_layers)[-1].size}")
        sizes = [rf.size for rf in receptive_field(layers)]
        self.axes[0].set_xlabel(f"output unit (row, column) = {u} of {size}x{size}")
        self.title.set_text(f"this stack: r = {sizes[-1]} px (r after each layer: "
                            + " → ".join(map(str, sizes)) + ")   green box: theoretical "
                            "receptive field from the recurrence")
