"""The neuron widget of notebook 00: the notes' step 1{x > 0}, and y-limits that fit the curve."""

from __future__ import annotations

import numpy as np

from mplib.activations import neuron
from mplib.widgets.neuron import NeuronWidget, y_limits


def test_step_is_strict_as_in_the_notes():
    np.testing.assert_array_equal(neuron(np.array([-1.0, 0.0, 1.0]), 1.0, 0.0, "step"), [0, 0, 1])


def test_relu_is_never_clipped():
    w = NeuronWidget()
    w.controls["activation"].value = "relu"
    w.controls["w"].value = 4.0
    w.controls["b"].value = 4.0
    low, high = w.ax.get_ylim()
    assert w.line.get_ydata().max() == 24.0 and high >= 24.0 and low <= -1.0
    w.controls["w"].value = -4.0
    assert w.ax.get_ylim()[1] >= 24.0


def test_bounded_activations_keep_the_usual_limits():
    w = NeuronWidget()
    for name in ("sigmoid", "tanh", "step"):
        w.controls["activation"].value = name
        assert w.ax.get_ylim() == (-1.1, 1.1)
    assert y_limits(np.array([-3.0, 5.0]))[0] < -3.0


def test_chapter_one_widgets_fill_their_grid_cells():
    from mplib.widgets.approximation import ApproximationWidget
    from mplib.widgets.perceptron import PerceptronWidget

    for widget in (NeuronWidget(), PerceptronWidget(), ApproximationWidget()):
        for name, control in widget.controls.items():
            assert control.layout.width == "100%", f"{type(widget).__name__}.{name}"
