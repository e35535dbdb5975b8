"""Perceptron convergence widget (§1.1): watch θ ← θ + η (y − ŷ) x̃ step by step.

:func:`mplib.perceptron.perceptron_demo` (pure compute, tested without UI) makes the data, runs the whole
trajectory with a given step function and computes Novikoff's bound. The widget calls it only
when a data setting (data set, margin, seed, η) changes; the step slider just indexes into the
stored trajectory, so moving it (or pressing Play) is cheap.

The run starts from a small random θ₀ (drawn from the data seed), not from 0: from θ₀ = 0 the
learning rate would only rescale θ and change nothing visible. The bound shown is therefore
(R/γ)² + 2‖θ₀‖/(ηγ) (see :func:`mplib.perceptron.novikoff_bound`).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..perceptron import DATASETS, augment, misclassified, perceptron_demo, perceptron_step
from ..plot import COLORS
from .controls import fill_cells
from .view import FigureWidget

class PerceptronWidget(FigureWidget):
    """Step slider (with Play), η, margin, data set, seed; points, boundary, mistakes, bound."""

    N = 60
    EPOCHS = 12          # the default; the epochs slider goes up to MAX_EPOCHS
    MAX_EPOCHS = 40
    LIM = (-1.6, 2.8)

    def __init__(self, step=perceptron_step):
        if not callable(step):
            raise TypeError(f"step must be callable, got {type(step).__name__}")
        self.step = step
        self._key = None
        T = self.N * self.EPOCHS
        slider = widgets.IntSlider(value=20, min=0, max=T, step=1, description="step t",
                                   continuous_update=True)
        self.epochs = self.EPOCHS
        self.play = widgets.Play(value=slider.value, min=0, max=T, step=2, interval=60,
                                 description="play")
        widgets.jslink((self.play, "value"), (slider, "value"))
        super().__init__({
            "t": slider,
            "eta": widgets.FloatLogSlider(value=10 ** -0.5, base=10, min=-2, max=1, step=0.1,
                                          description="η"),
            "margin": widgets.FloatSlider(value=0.1, min=0.05, max=1.5, step=0.05,
                                          description="margin"),
            "kind": widgets.Dropdown(options=DATASETS, value="blobs", description="data"),
            "seed": widgets.IntSlider(value=0, min=0, max=9, description="data seed"),
            # With a small margin and a small η some seeds still make mistakes after 12 epochs:
            # more epochs let the run finish (Novikoff's bound says it must).
            "epochs": widgets.IntSlider(value=self.EPOCHS, min=1, max=self.MAX_EPOCHS,
                                        description="epochs"),
        }, figsize=(8.4, 3.9), columns=2, extra=[self.play])
        fill_cells(self.controls.values())

    def build(self, fig):
        self.ax, self.ax_m = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        ax = self.ax
        g = np.linspace(*self.LIM, 120)
        self.grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
        from matplotlib.colors import ListedColormap

        from matplotlib.colors import to_rgb

        # Opaque tints (15 % of each class colour over the axes' background), not alpha=0.15:
        # redrawn over itself the region then looks the same, whether or not the cached
        # background holds it (matplotlib 3.10 keeps an animated image in a canvas draw).
        face = np.array(to_rgb(ax.get_facecolor()))
        tints = [0.15 * np.array(to_rgb(COLORS[c])) + 0.85 * face for c in (0, 1)]
        self.region = ax.imshow(np.zeros((120, 120)), extent=(*self.LIM, *self.LIM), origin="lower",
                                cmap=ListedColormap(tints), vmin=0, vmax=1,
                                interpolation="nearest")
        self.points = [ax.scatter([], [], s=16, color=COLORS[c], label=f"y = {c}", zorder=3)
                       for c in (0, 1)]
        self.wrong = ax.scatter([], [], s=80, facecolors="none", edgecolors="k", linewidths=1.4,
                                label="misclassified", zorder=4)
        self.current = ax.scatter([], [], s=160, marker="*", color=COLORS[3], edgecolors="k",
                                  label="visited at step t", zorder=5)
        (self.line,) = ax.plot([], [], "k-", lw=1.5)
        ax.set(xlim=self.LIM, ylim=self.LIM, xlabel="x₁", ylabel="x₂", aspect="equal")
        # Below the axes, where it can never hide a data point.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=4, fontsize=7,
                  frameon=False, handletextpad=0.3, columnspacing=0.8)
        m = self.ax_m
        epochs = np.arange(1, self.EPOCHS + 1)
        (self.per_epoch,) = m.plot(epochs, np.zeros(self.EPOCHS), "o-", label="mistakes in epoch")
        (self.cumulative,) = m.plot([0], [0], "-", color=COLORS[2], label="total mistakes so far")
        self.bound_line = m.axhline(1, color=COLORS[1], ls="--", label="Novikoff bound")
        self.bound0_line = m.axhline(1, color=COLORS[1], ls=":", label="(R/γ)²")
        self.now = m.axvline(1, color="gray", lw=1)
        m.set_yscale("symlog", linthresh=1)
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

        m.yaxis.set_major_locator(FixedLocator([0, 1, 10, 100, 1000, 10000, 100000]))
        m.yaxis.set_minor_locator(NullLocator())
        m.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # no mathtext: fast
        m.set(xlabel="epoch", ylabel="mistakes")
        self._epoch_axis(self.EPOCHS)
        m.legend(loc="upper right", fontsize=7)
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.22, top=0.9, wspace=0.25)

    def animated(self):
        # the points sit above the shaded region, so they are redrawn with it
        return [self.region, *self.points, self.wrong, self.current, self.line,
                self.cumulative, self.now, self.ax.title, self.ax_m.title]

    def _epoch_axis(self, epochs):
        self.ax_m.set_xticks(range(1, epochs + 1, max(1, epochs // 6)))
        self.ax_m.set_xlim(0.5, epochs + 0.5)

    def draw(self, t, eta, margin, kind, seed, epochs=EPOCHS):
        key = (eta, margin, kind, seed, epochs)
        if key != self._key:
            self.demo = perceptron_demo(kind, margin, seed, eta, step=self.step, n=self.N,
                                        epochs=epochs)
            self._key = key
            self.epochs = epochs
            T = self.N * epochs
            play = getattr(self, "play", None)  # made after the first draw
            if play is not None and play.max != T:
                play.max = T
            if self.controls["t"].max != T:
                # A smaller max clamps the value, which redraws once with the new t (and the
                # demo just computed); continue with that t here.
                self.controls["t"].max = T
                t = self.controls["t"].value
            X, y = self.demo.X, self.demo.y
            for c in (0, 1):
                self.points[c].set_offsets(X[y == c])
            self.per_epoch.set_data(np.arange(1, epochs + 1),
                                    self.demo.trajectory.mistakes_per_epoch)
            self._epoch_axis(epochs)
            b = self.demo.bound
            self.bound_line.set_visible(np.isfinite(b.bound))
            self.bound0_line.set_visible(np.isfinite(b.bound))
            if np.isfinite(b.bound):
                self.bound_line.set_ydata([b.bound, b.bound])
                self.bound_line.set_label(f"bound from θ₀: (R/γ)² + 2‖θ₀‖/(ηγ) = {b.bound:.0f}")
                plain = (b.R / b.gamma) ** 2
                self.bound0_line.set_ydata([plain, plain])
                self.bound0_line.set_label(f"(R/γ)² = {plain:.0f} (the bound from θ₀ = 0)")
            top = max(b.bound if np.isfinite(b.bound) else 0,
                      self.demo.trajectory.total_mistakes, 10)
            self.ax_m.set_ylim(0, top * 60)  # room above the bound for the legend
            self.ax_m.legend(loc="upper right", fontsize=7)
        d = self.demo
        theta = d.trajectory.thetas[t]
        self.region.set_data((augment(self.grid) @ theta > 0).reshape(120, 120).astype(float))
        wrong = misclassified(theta, d.X, d.y)
        self.wrong.set_offsets(d.X[wrong] if wrong.any() else np.empty((0, 2)))
        if t > 0:
            self.current.set_offsets(d.X[d.trajectory.order[t - 1]][None])
        else:
            self.current.set_offsets(np.empty((0, 2)))
        self.line.set_data(*_line(theta, self.LIM))
        n = len(d.X)
        cum = np.concatenate([[0], np.cumsum(d.trajectory.mistake_at_step[:t])])
        self.cumulative.set_data(np.arange(t + 1) / n + 0.5, cum)
        self.now.set_xdata([t / n + 0.5] * 2)
        epoch = (t - 1) // n + 1 if t else 0
        b = d.bound
        gamma = f"γ = {b.gamma:.3f}, R = {b.R:.2f}" if b.gamma > 0 else "not separable: no bound"
        self.ax.set_title(f"step {t} (epoch {epoch}): {int(wrong.sum())} misclassified")
        self.ax_m.set_title(
            f"{d.trajectory.total_mistakes} mistakes in {self.epochs} epochs; {gamma}", fontsize=9)


def _line(theta, lim):
    """Two far-apart points on θ₁x₁ + θ₂x₂ + θ₃ = 0 (empty if w = 0)."""
    w, b = theta[:2], theta[2]
    norm2 = float(w @ w)
    if norm2 < 1e-12:
        return [], []
    p0 = -b * w / norm2
    u = np.array([-w[1], w[0]]) / np.sqrt(norm2)
    s = np.array([-20.0, 20.0])
    pts = p0 + s[:, None] * u
    return pts[:, 0], pts[:, 1]
