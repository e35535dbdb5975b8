"""The demonstration exercise of notebook 00: one neuron's output σ(w·x + b)."""

from __future__ import annotations

import numpy as np

from mplib.exercises import Case, Mistake, check_function


def neuron(x, w, b):
    """σ(w·x + b) with the sigmoid σ(a) = 1 / (1 + e^(−a)), for a number or an array x."""
    return 1 / (1 + np.exp(-(w * x + b)))


NEURON_CASES = [
    Case((0.0, 1.0, 0.0), label="x = 0, w = 1, b = 0"),
    Case((2.0, 1.5, -1.0), label="x = 2, w = 1.5, b = −1"),
    Case((np.array([-1.0, 0.0, 1.0]), -2.0, 0.5), label="x = [−1, 0, 1], w = −2, b = 0.5"),
]

NEURON_MISTAKES = [
    Mistake("exponent sign", "σ(a) = 1 / (1 + e^(−a)): the exponent has a minus sign, so that σ "
            "grows with a.", fn=lambda x, w, b: 1 / (1 + np.exp(w * x + b))),
    Mistake("bias outside", "The bias goes inside the sigmoid: σ(w·x + b), not σ(w·x) + b.",
            fn=lambda x, w, b: 1 / (1 + np.exp(-w * x)) + b),
]


def check_neuron(student_fn):
    return check_function(student_fn, neuron, NEURON_CASES, mistakes=NEURON_MISTAKES,
                          exercise="neuron")
