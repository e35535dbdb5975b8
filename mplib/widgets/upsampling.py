"""Upsampling explorer (§3.1): an input grid and its upsampled output, numbers written in.

Controls: the stride / upsampling factor s (the first slider), the method, the input, and
the kernel size k of the transposed convolution (a k x k kernel of ones, so every output
number is the sum of the input values whose kernel copies overlap there: where s does not
divide k, the overlaps alternate and a constant input turns into a checkerboard).

The compute (the inputs, :func:`~mplib.upsampling.explore`) is in :mod:`mplib.upsampling`.
The output grid has at most (3 - 1) * 4 + 5 = 13 cells a side; its 13 x 13 text artists
are made once and only updated (text, position, visibility) on each change.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle

from ..upsampling import INPUTS, METHODS, explore, figure_indices_apply, write_footprint
from .view import FigureWidget

S_MAX, K_MAX, N_IN = 4, 5, 3
N_OUT = (N_IN - 1) * S_MAX + K_MAX


class UpsamplingWidget(FigureWidget):
    """Pick a method, an input, s and k; see the output with its numbers.

    ``functions``: optional dict {method name: your implementation} with the signatures of
    ``mplib.upsampling`` (e.g. the notebook's own ``transposed_conv``).
    """

    def __init__(self, functions: dict | None = None):
        self.functions = functions
        super().__init__({
            "s": widgets.IntSlider(value=2, min=1, max=S_MAX, description="stride s"),
            "method": widgets.Dropdown(options=METHODS, value="transposed convolution",
                                       description="method"),
            "input_name": widgets.Dropdown(options=list(INPUTS), value="constant (3x3)",
                                           description="input"),
            "k": widgets.IntSlider(value=3, min=1, max=K_MAX, description="kernel k"),
        }, figsize=(8.4, 4.2), columns=2)

    def _grid(self, ax, n):
        im = ax.imshow(np.zeros((n, n)), cmap="Blues", vmin=0, vmax=1)
        texts = [[ax.text(j, i, "", ha="center", va="center") for j in range(n)]
                 for i in range(n)]
        ax.grid(False)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        # the cell borders: lines drawn with the cells, not a tick grid, so that a new size
        # changes only animated artists (see free_limits)
        borders = ax.add_collection(LineCollection([], colors="white", linewidths=1.2))
        self.borders.append(borders)
        return im, texts

    def build(self, fig):
        self.ax_in = fig.add_axes([0.03, 0.25, 0.25, 0.55])
        self.ax_out = fig.add_axes([0.36, 0.04, 0.62, 0.84])
        self.borders, self.axes_list = [], [self.ax_in, self.ax_out]
        self.im_in, self.t_in = self._grid(self.ax_in, N_IN)
        self.im_out, self.t_out = self._grid(self.ax_out, N_OUT)
        style = dict(fill=False, edgecolor="#d62728", linewidth=2.5)
        self.box_in = self.ax_in.add_patch(Rectangle((-0.5, -0.5), 1, 1, **style))
        self.box_out = self.ax_out.add_patch(Rectangle((-0.5, -0.5), 1, 1, **style))

    def animated(self):
        texts = [t for grid in (self.t_in, self.t_out) for row in grid for t in row]
        return [self.im_in, self.im_out, *self.borders, *texts, self.box_in, self.box_out,
                self.ax_in.title, self.ax_out.title]

    def free_limits(self):
        return [self.ax_in, self.ax_out]  # no ticks, labels or grid: see _grid

    def _show(self, ax, im, texts, A, vmax, fontsize):
        h, w = A.shape
        im.set_data(A)
        im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        im.set_clim(min(A.min(), 0), vmax * 1.6)
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        for i, row in enumerate(texts):
            for j, t in enumerate(row):
                inside = i < h and j < w
                t.set_visible(inside)
                if inside:
                    t.set_text(f"{A[i, j]:g}")
                    t.set_fontsize(fontsize)
        # the cell borders
        xs, ys = np.arange(w + 1) - 0.5, np.arange(h + 1) - 0.5
        self.borders[self.axes_list.index(ax)].set_segments(
            [[(x, ys[0]), (x, ys[-1])] for x in xs] + [[(xs[0], y), (xs[-1], y)] for y in ys])

    def draw(self, s, method, input_name, k):
        x, y = explore(method, input_name, s, k, self.functions)
        X, Y = x.numpy(), y.numpy()
        vmax = max(float(Y.max()), float(X.max()), 1e-9)
        n = max(Y.shape)
        self._show(self.ax_in, self.im_in, self.t_in, X, vmax, 11)
        self._show(self.ax_out, self.im_out, self.t_out, Y, vmax,
                   11 if n <= 6 else 9 if n <= 9 else 7)
        foot, marks = write_footprint(method, s, k)
        self.box_out.set_bounds(-0.5, -0.5, foot, foot)
        detail = f", kernel {k}x{k} of ones" if method == "transposed convolution" else ""
        if method == "max unpooling" and not figure_indices_apply(input_name, s):
            # Only Figure 10's input at s = 2 has known pooling positions.
            detail = ", RANDOM positions (no pooling recorded)"
        self.ax_in.set_title(f"input x {X.shape[0]}x{X.shape[1]}\n(red: pixel (0, 0))")
        self.ax_out.set_title(f"{method}, s = {s}{detail}: output {Y.shape[0]}x{Y.shape[1]}\n"
                              f"(red: {marks})")
