"""Widget: vanishing and exploding gradients in an Elman RNN and an LSTM (§4.1, §4.2).

Controls: the largest singular value of W_h (first, a slider), the Elman activation, the
sequence length T, which cell to show, and the LSTM's forget-gate bias b_f (default 0, the
notes' LSTM, which has no bias). View: against T - k, ln ‖∂h^(T)/∂h^(k)‖ for the Elman cell
with its bound (T - k) · ln(γ σ_max) as a dashed line, and ln ‖∂h^(T)/∂(h, c)^(k)‖ for the
LSTM, whose state is the pair (h, c). The y-limits fit the curves shown, nothing hidden.
The weights are fixed and seeded; only their scale changes. Compute: mplib.rnn_gradients.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import checks, rnn_gradients
from ..plot import COLORS
from .view import FigureWidget, round_limits

SHOW = ("Elman", "LSTM", "both")


class VanishingGradientWidget(FigureWidget):
    """ln ‖∂h^(T)/∂h^(k)‖ against T - k for random Elman and LSTM cells of a chosen scale."""

    def __init__(self, hidden: int = 32, T_max: int = 100, seed: int = 0,
                 curves=rnn_gradients.gradient_curves):
        self.weights = rnn_gradients.RandomWeights(hidden=hidden, T_max=T_max, seed=seed)
        self.curves = curves
        self.last = None
        super().__init__({
            "scale": widgets.FloatSlider(value=1.0, min=0.1, max=3.0, step=0.05,
                                         description="σ_max(W_h)", continuous_update=False),
            "activation": widgets.Dropdown(options=list(rnn_gradients.ACTIVATION_NAMES),
                                           value="tanh", description="σ (Elman)",
                                           layout=widgets.Layout(width="95%")),
            "T": widgets.IntSlider(value=min(60, T_max), min=5, max=T_max, step=5,
                                   description="length T", continuous_update=False,
                                   style={"description_width": "initial"}),
            "show": widgets.ToggleButtons(options=list(SHOW), value="both",
                                          style={"button_width": "72px"}),
            "b_f": widgets.FloatSlider(value=0.0, min=-2.0, max=6.0, step=0.5,
                                       description="LSTM b_f", continuous_update=False),
        }, figsize=(7.5, 3.4))

    def build(self, fig):
        ax = self.ax = fig.add_subplot()
        (self.elman_line,) = ax.plot([], [], color=COLORS[0], lw=2,
                                     label="Elman, ln ‖∂h(T)/∂h(k)‖")
        (self.lstm_line,) = ax.plot([], [], color=COLORS[2], lw=2,
                                    label="LSTM, ln ‖∂h(T)/∂(h, c)(k)‖")
        (self.bound_line,) = ax.plot([], [], color=COLORS[1], ls="--", lw=1.5,
                                     label="Elman bound")
        ax.axhline(0.0, color="gray", lw=0.8)
        ax.set(xlabel="T − k (steps back in time)", ylabel="ln of the gradient norm")
        ax.legend(loc="lower left", fontsize=9)
        self.legend_loc = "lower left"
        ax.set_title("placeholder")  # so that tight_layout leaves room for the title
        fig.tight_layout()

    def animated(self):
        return [self.elman_line, self.lstm_line, self.bound_line, self.ax.title]

    def draw(self, scale, activation, T, show, b_f):
        checks.choice(show, "show", SHOW)
        c = self.last = self.curves(self.weights, scale, activation, T, b_f)
        n = c["n"]
        self.elman_line.set_data(n, c["elman"])
        self.lstm_line.set_data(n, c["lstm"])
        self.bound_line.set_data(n, c["bound"])
        self.elman_line.set_visible(show in ("Elman", "both"))
        self.bound_line.set_visible(show in ("Elman", "both"))
        self.lstm_line.set_visible(show in ("LSTM", "both"))
        label = f"Elman bound, slope ln(γ σ_max) = {c['slope']:+.2f}"
        self.bound_line.set_label(label)
        # keep the legend away from the curves: they sit low when the bound rises
        loc = "upper left" if c["slope"] > 0 else "lower left"
        if loc != self.legend_loc:  # a new legend only when it moves (a full redraw)
            self.ax.legend(loc=loc, fontsize=9)
            self.legend_loc = loc
        self.ax.legend_.get_texts()[2].set_text(label)  # in place: redrawn with the curves
        # only what is visible sets the limits: the hidden Elman bound must not squash the LSTM
        shown = [c[k] for k, on in (("bound", show != "LSTM"), ("elman", show != "LSTM"),
                                    ("lstm", show != "Elman")) if on]
        values = np.concatenate(shown)
        values = values[np.isfinite(values)]
        lo, hi = min(values.min(), -1.0), max(values.max(), 1.0)
        pad = 0.05 * (hi - lo)
        self.ax.set_xlim(0, T)
        self.ax.set_ylim(*round_limits(lo - pad, hi + pad))
        self.ax.set_title(f"{activation} Elman (γ = {rnn_gradients.gamma(activation):g}) and "
                          f"LSTM (b_f = {b_f:g}), hidden {self.weights.hidden}, "
                          f"σ_max(W_h) = {scale:.2f}", fontsize=10)
