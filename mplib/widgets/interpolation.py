"""Latent interpolation widget (§5.3): walk from one digit to another through a 2-D latent space.

The notebook trains a VAE with a 2-D latent space once and hands over its decoder (a function
from latent points to images) and the encoded data. The widget never trains: each change only
decodes a dozen latent points and updates the artists.

Controls: the weight t (first, a slider), the start and end class, linear or spherical paths.
View: the latent map (encoded data coloured by class, the path, the point at t), the image
decoded at t, and the strip of images decoded along the whole path.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.gridspec import GridSpec
from matplotlib.patches import Rectangle

from .. import checks
from ..interpolation import METHODS, class_anchors, interpolate
from ..plot import COLORS
from .view import FigureWidget

CLASS_COLORS = COLORS + ["#e377c2", "#7f7f7f", "#bcbd22"]


class InterpolationWidget(FigureWidget):
    """decode: function (M, 2) array -> (M, H, W) images in [0, 1]; Z (N, 2) codes; labels (N,)."""

    def __init__(self, decode, Z, labels, *, steps: int = 9, start=None, end=None):
        if not callable(decode):
            raise TypeError("decode must be a function from latent points to images")
        Z = np.asarray(Z.detach().cpu() if hasattr(Z, "detach") else Z, dtype=float)
        labels = np.asarray(labels.detach().cpu() if hasattr(labels, "detach") else labels)
        if Z.ndim != 2 or Z.shape[1] != 2:
            raise ValueError(f"Z must hold 2-D latent codes, shape (N, 2), got {Z.shape}")
        steps = checks.integer(steps, "steps", minimum=2)
        self.decode, self.Z, self.labels, self.steps = decode, Z, labels, steps
        self.anchors = class_anchors(Z, labels)
        classes = list(self.anchors)
        start = classes[0] if start is None else start
        end = classes[-1] if end is None else end
        self.image_shape = np.asarray(decode(Z[:1])).shape[1:]
        super().__init__({
            "t": widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="t"),
            "start": widgets.Dropdown(options=classes, value=start, description="from class"),
            "end": widgets.Dropdown(options=classes, value=end, description="to class"),
            "method": widgets.ToggleButtons(options=list(METHODS), value="linear",
                                            description="path",
                                            style={"button_width": "80px"}),  # one row
        }, figsize=(9, 4.2))

    def build(self, fig):
        gs = GridSpec(2, self.steps, figure=fig, height_ratios=[3.2, 1], hspace=0.5,
                      wspace=0.1, left=0.06, right=0.98, top=0.92, bottom=0.02)
        half = self.steps // 2 + 1
        self.ax_map = fig.add_subplot(gs[0, :half])
        colors = [CLASS_COLORS[int(c) % len(CLASS_COLORS)] if np.issubdtype(type(c), np.integer)
                  else COLORS[0] for c in self.labels]
        self.ax_map.scatter(self.Z[:, 0], self.Z[:, 1], c=colors, s=4, alpha=0.35, lw=0)
        for c, a in self.anchors.items():
            self.ax_map.annotate(str(c), a, fontsize=9, weight="bold", ha="center", va="center")
        (self.path_line,) = self.ax_map.plot([], [], "k-", lw=1.5)
        (self.ends,) = self.ax_map.plot([], [], "ko", ms=5)
        (self.point,) = self.ax_map.plot([], [], "o", color="#d62728", ms=9, mec="k")
        self.ax_map.set(xlabel="z₁", ylabel="z₂", title="latent map (μ of each test image)")
        self.ax_img = fig.add_subplot(gs[0, half + 1:])
        blank = np.zeros(self.image_shape)
        self.img = self.ax_img.imshow(blank, cmap="gray_r", vmin=0, vmax=1)
        self.ax_img.axis("off")
        self.strip, self.frames = [], []
        for k in range(self.steps):
            ax = fig.add_subplot(gs[1, k])
            self.strip.append(ax.imshow(blank, cmap="gray_r", vmin=0, vmax=1))
            ax.axis("off")
            ax.set_title(f"{k / (self.steps - 1):.2g}", fontsize=7)
            frame = Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, lw=3,
                              ec="#d62728", visible=False, clip_on=False)
            ax.add_patch(frame)
            self.frames.append(frame)

    def animated(self):
        return [self.path_line, self.ends, self.point, *self.strip, *self.frames, self.img,
                self.ax_img.title]

    def draw(self, t, start, end, method):
        if start == end:
            raise ValueError("choose two different classes for start and end")
        a, b = self.anchors[start], self.anchors[end]
        ts = np.linspace(0, 1, self.steps)
        fine = interpolate(a, b, np.linspace(0, 1, 50), method)
        path = interpolate(a, b, ts, method)
        here = interpolate(a, b, t, method)
        images = np.asarray(self.decode(np.vstack([path, here[None]])))
        self.path_line.set_data(fine[:, 0], fine[:, 1])
        self.ends.set_data([a[0], b[0]], [a[1], b[1]])
        self.point.set_data([here[0]], [here[1]])
        for k, im in enumerate(self.strip):
            im.set_data(images[k])
        nearest = int(np.argmin(np.abs(ts - t)))
        for k, frame in enumerate(self.frames):
            frame.set_visible(k == nearest)
        self.img.set_data(images[-1])
        self.ax_img.set_title(f"decoded at t = {t:.2f} ({method})")
