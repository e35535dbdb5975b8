"""One consistent look for every figure, and the drawings more than one chapter needs.

Figures are built with ``matplotlib.figure.Figure`` where they are rendered by a widget
(no pyplot state, nothing shown twice) and with ``plt.subplots`` in plain notebook cells.
"""

from __future__ import annotations

import io

import matplotlib as mpl
import numpy as np

from . import checks

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]

# The resolution of every picture written out: saved figures, widget frames and their PNGs.
DPI = 100

STYLE = {
    "figure.dpi": 80,              # notebooks stay small; what is written out uses DPI
    "savefig.dpi": DPI,
    "figure.figsize": (6.4, 3.6),
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "image.cmap": "viridis",
    "legend.frameon": False,
}


def style() -> None:
    """Apply the collection's matplotlib style (every notebook calls this once)."""
    mpl.rcParams.update(STYLE)


def _as_numpy(a):
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def image_grid(images, *, ncols: int = 10, titles=None, ax_size: float = 0.9, cmap="gray_r",
               vmin=0.0, vmax=1.0, suptitle=None):
    """Draw images of shape (N, H, W) or (N, 1, H, W) in a grid; return the figure."""
    import matplotlib.pyplot as plt

    ncols = checks.integer(ncols, "ncols")
    ax_size = checks.number(ax_size, "ax_size", above=0)
    imgs = _as_numpy(images)
    if imgs.ndim == 4 and imgs.shape[1] == 1:
        imgs = imgs[:, 0]
    if imgs.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W) or (N, 1, H, W), got {imgs.shape}")
    if titles is not None and len(titles) != len(imgs):
        raise ValueError(f"titles must have one entry per image ({len(imgs)}), got {len(titles)}")
    n = len(imgs)
    ncols = max(1, min(ncols, n))  # at least one column, even for no images
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * ax_size, nrows * ax_size * 1.1),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(imgs[k], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[k]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_array(ax, A, *, fmt="{:g}", cmap="Blues", title=None, highlight=None, fontsize=10):
    """Draw a 2-D array as a grid of cells with its numbers written in (Figures 7-10).

    ``highlight``: optional boolean mask of cells to outline in red.
    """
    A = _as_numpy(A)
    if A.ndim != 2:
        raise ValueError(f"A must be a 2-D array, got shape {A.shape}")
    ax.imshow(A, cmap=cmap, vmin=min(A.min(), 0), vmax=max(A.max(), 1e-9) * 1.6)
    for (i, j), v in np.ndenumerate(A):
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=fontsize)
    if highlight is not None:
        for i, j in zip(*np.nonzero(_as_numpy(highlight))):
            ax.add_patch(mpl.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False,
                                               edgecolor="#d62728", linewidth=2))
    ax.set_xticks(np.arange(A.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(A.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.grid(which="major", visible=False)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if title:
        ax.set_title(title)
    return ax


def decision_boundary(ax, predict, X, y, *, resolution: int = 200, pad: float = 0.3):
    """Shade the regions ``predict`` assigns to each class and scatter the points (X, y).

    ``predict`` maps an (M, 2) float tensor to M class labels (or scores thresholded at 0.5).
    """
    import torch

    X, y = _as_numpy(X), _as_numpy(y)
    lo, hi = X.min(0) - pad, X.max(0) + pad
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = torch.tensor(np.c_[xx.ravel(), yy.ravel()], dtype=torch.float32)
    with torch.no_grad():
        z = _as_numpy(predict(grid)).reshape(xx.shape)
    ax.contourf(xx, yy, z, levels=[-np.inf, 0.5, np.inf], colors=[COLORS[0], COLORS[1]],
                alpha=0.18)
    ax.contour(xx, yy, z, levels=[0.5], colors="k", linewidths=1)
    for c in np.unique(y):
        ax.scatter(*X[y == c].T, s=14, color=COLORS[int(c) % len(COLORS)], label=f"class {c}")
    ax.set_aspect("equal")
    return ax


def png_bytes(fig, dpi: int = DPI) -> bytes:
    """Render a figure to PNG bytes (no ``bbox_inches='tight'``: it doubles the cost)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


class LiveLoss:
    """A loss curve redrawn in place after each epoch (``fit(..., live_plot=True)``)."""

    def __init__(self):
        from IPython.display import display
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=(5, 2.6))
        self.ax = self.fig.add_subplot()
        self.ax.set_xlabel("epoch")
        self.ax.set_ylabel("loss")
        (self.train,) = self.ax.plot([], [], label="train")
        (self.test,) = self.ax.plot([], [], label="test")
        self.ax.legend()
        self.fig.tight_layout()
        self.handle = display(self.fig, display_id=True)

    def update(self, history) -> None:
        self.train.set_data(history.epoch, history.train_loss)
        if history.test_loss:
            self.test.set_data(history.epoch, history.test_loss)
        self.ax.relim()
        self.ax.autoscale_view()
        if self.handle is not None:
            self.handle.update(self.fig)
