"""Universal approximation widget (§1.5): g(x) = Σᵢ vᵢ σ(wᵢx + bᵢ) against f on [0, 1].

Controls: the number of hidden units N (first), the activation σ, the target f. View: f and g,
the error |f − g| with its supremum, and the sup error against N. The fit is closed-form
(random features, least-squares v; see :mod:`mplib.approximation`), so each change costs a
few milliseconds; the error curve is computed once per (activation, target) and cached.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import approximation as ua
from ..approximation_curves import sup_error_curve
from ..plot import COLORS
from .controls import fill_cells
from .view import FigureWidget, nice_ceiling

NMAX = 100


class ApproximationWidget(FigureWidget):
    """N slider, σ and f menus; f and g, |f − g| with its sup, sup error against N."""

    def __init__(self, N: int = 5):
        super().__init__({
            "N": widgets.IntSlider(value=N, min=1, max=NMAX, description="N units"),
            "activation": widgets.Dropdown(options=list(ua.ACTIVATIONS), value="sigmoid",
                                           description="σ"),
            "target": widgets.Dropdown(options=list(ua.TARGETS), value="sine",
                                       description="target f"),
        }, figsize=(9.6, 3.0))
        fill_cells(self.controls.values())

    @staticmethod
    def curve(target, activation):
        return sup_error_curve(target, activation, NMAX)

    def build(self, fig):
        self.ax_f, self.ax_e, self.ax_n = fig.subplots(1, 3)
        x = np.linspace(0, 1, ua.EVAL_POINTS)
        (self.f_line,) = self.ax_f.plot(x, x, color="k", lw=2, label="f")
        (self.g_line,) = self.ax_f.plot(x, x, color=COLORS[1], lw=1.3, label="g")
        self.ax_f.set(xlim=(0, 1), xlabel="x", title="f and g")
        self.ax_f.legend(loc="upper right", fontsize=8)
        (self.e_line,) = self.ax_e.plot(x, x, color=COLORS[0], lw=1)
        self.sup_line = self.ax_e.axhline(1, color=COLORS[1], ls="--", lw=1)
        (self.sup_point,) = self.ax_e.plot([0], [0], "o", color=COLORS[1])
        self.ax_e.set(xlim=(0, 1), xlabel="x", ylabel="|f − g|")
        Ns = np.arange(1, NMAX + 1)
        (self.n_line,) = self.ax_n.plot(Ns, np.ones(NMAX), color=COLORS[0], lw=1.3)
        (self.n_point,) = self.ax_n.plot([1], [1], "o", color=COLORS[1])
        self.ax_n.set_yscale("log")
        from matplotlib.ticker import FuncFormatter, NullLocator

        self.ax_n.yaxis.set_minor_locator(NullLocator())
        self.ax_n.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        self.ax_n.set(xlim=(0, NMAX + 1), xlabel="hidden units N", ylabel="sup |f − g|",
                      title="sup error against N")
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.16, top=0.88, wspace=0.35)

    def animated(self):
        return [self.f_line, self.g_line, self.e_line, self.sup_line, self.sup_point,
                self.n_line, self.n_point, self.ax_e.title, self.ax_f.title]

    def draw(self, N, activation, target):
        result = ua.approximate(target, N, activation)
        self.fit = result
        self.f_line.set_ydata(result.f)
        self.g_line.set_ydata(result.g)
        lo, hi = result.f.min(), result.f.max()
        pad = 0.25 * (hi - lo) + 0.05
        self.ax_f.set_ylim(lo - pad, hi + pad)
        err = np.abs(result.f - result.g)
        self.e_line.set_ydata(err)
        self.sup_line.set_ydata([result.sup_error] * 2)
        k = int(err.argmax())
        self.sup_point.set_data([result.x[k]], [err[k]])
        self.ax_e.set_ylim(0, nice_ceiling(result.sup_error * 1.15 + 1e-12))
        self.ax_e.set_title(f"sup |f − g| = {result.sup_error:.1e}")
        Ns, errors = self.curve(target, activation)
        floor = max(errors.min(), 1e-6)
        self.n_line.set_ydata(np.maximum(errors, floor))
        self.n_point.set_data([N], [max(result.sup_error, floor)])
        self.ax_n.set_ylim(floor / 2, errors.max() * 2)
        self.ax_f.set_title(f"f = {target}, g with N = {N} {activation} units", fontsize=9)
