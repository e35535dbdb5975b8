"""A single neuron y = σ(w·x + b): the small widget notebook 00 uses to check widgets work."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

# sigmoid, tanh, relu, step 1{x > 0}, as in the notes; the compute is activations.neuron
from ..activations import ACTIVATIONS, neuron
from .controls import fill_cells
from .view import FigureWidget


def y_limits(y) -> tuple[float, float]:
    """Limits that show the whole curve: at least [−1.1, 1.1] (sigmoid, tanh, step), more for
    ReLU, whose output reaches |w|·5 + |b| = 24 at w = b = 4."""
    y = np.asarray(y, dtype=float)
    low, high = min(-1.1, float(y.min())), max(1.1, float(y.max()))
    pad = 0.05 * (high - low)
    return low - pad * (low < -1.1), high + pad * (high > 1.1)


class NeuronWidget(FigureWidget):
    """Sliders for w and b, a menu for σ; the curve σ(w·x + b) updates in place."""

    def __init__(self):
        self.x = np.linspace(-5, 5, 401)
        super().__init__({
            "w": widgets.FloatSlider(value=1.0, min=-4, max=4, step=0.1, description="w"),
            "b": widgets.FloatSlider(value=0.0, min=-4, max=4, step=0.1, description="b"),
            "activation": widgets.Dropdown(options=list(ACTIVATIONS), value="sigmoid",
                                           description="σ"),
        }, figsize=(6, 2.8))
        fill_cells(self.controls.values())

    def build(self, fig):
        ax = fig.add_subplot()
        (self.line,) = ax.plot(self.x, neuron(self.x, 1.0, 0.0), lw=2)
        self.threshold = ax.axvline(0.0, color="gray", ls="--", lw=1, label="w·x + b = 0")
        self.ax = ax
        ax.set(xlim=(-5, 5), xlabel="x", ylabel="σ(w·x + b)")
        ax.legend(loc="upper left")
        fig.tight_layout()

    def animated(self):
        return [self.line, self.threshold]

    def draw(self, w, b, activation):
        y = neuron(self.x, w, b, activation)
        self.line.set_ydata(y)
        self.ax.set_ylim(*y_limits(y))
        crossing = -b / w if w != 0 else np.nan  # where the pre-activation changes sign
        self.threshold.set_xdata([crossing, crossing])
