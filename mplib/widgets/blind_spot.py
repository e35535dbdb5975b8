"""PixelCNN blind spot widget (§6.4, Figure 17).

For a stack of ``layers`` 3×3 masked layers, plain or two-stack (vertical + horizontal), and a
pixel to inspect, the grid shows which input pixels that output pixel depends on (found by
autograd on a small untrained net) and, in grey, the blind spot: the pixels the stack should
reach but does not. The map is :func:`mplib.pixelcnn.footprint_map`.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.colors import ListedColormap

from ..pixelcnn import FOOTPRINT_KINDS as KINDS, footprint_map
from .view import FigureWidget

# 0 not reachable / after the pixel, 1 seen, 2 blind spot, 3 the pixel itself
CMAP = ListedColormap(["white", "#f6c700", "#9a9a9a", "black"])


class BlindSpotWidget(FigureWidget):
    """Sliders: number of layers (first), the pixel's row and column; a toggle plain/two-stack."""

    def __init__(self, size=(11, 11)):
        self.size = tuple(size)
        H, W = self.size
        super().__init__({
            "layers": widgets.IntSlider(value=2, min=1, max=5, description="layers"),
            "kind": widgets.ToggleButtons(options=KINDS, value="plain", description="stacks"),
            "row": widgets.IntSlider(value=H - 2, min=0, max=H - 1, description="pixel row"),
            "col": widgets.IntSlider(value=W // 2, min=0, max=W - 1, description="pixel col"),
        }, figsize=(4.6, 4.2), columns=2)

    def build(self, fig):
        H, W = self.size
        ax = fig.add_subplot()
        self.im = ax.imshow(np.zeros(self.size), cmap=CMAP, vmin=-0.5, vmax=3.5)
        ax.set_xticks(np.arange(W + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(H + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="#cccccc", linewidth=1)
        ax.grid(which="major", visible=False)
        ax.tick_params(which="both", length=0)
        ax.set(xlabel="column", ylabel="row")
        from matplotlib.patches import Patch
        handles = [Patch(facecolor=CMAP(k), edgecolor="gray", label=lab)
                   for k, lab in ((3, "pixel"), (1, "seen"), (2, "blind spot"))]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
        self.ax = ax
        fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.2)

    def animated(self):
        return [self.im, self.ax.title]

    def draw(self, layers, kind, row, col):
        m = footprint_map(kind, layers, (row, col), self.size)
        self.im.set_data(m)
        self.ax.set_title(f"{kind}, {layers} layer{'s' * (layers > 1)}: sees {int((m == 1).sum())}"
                          f" pixels, blind spot {int((m == 2).sum())}")
