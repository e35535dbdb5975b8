"""The activation functions σ of the notes (§1.1), in one table for every chapter.

Each entry holds σ in NumPy (float64, for figures and exact analyses), its derivative σ',
γ = sup |σ'| (the factor in §4.1's bound on how far a gradient travels back in time), and the
torch module that puts σ into a network. The step has σ' = 0 wherever it is defined, so
nothing can be trained through it: it has no derivative, γ or module here.

* step     1{x > 0}, as in the notes (0 at x = 0).
* sigmoid  1 / (1 + e^{−x}), computed as ½(1 + tanh(x/2)), which is the same function and
           does not overflow for large negative x.

:func:`neuron` is one neuron with one input, y = σ(w·x + b), the curve notebook 00's widget draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from torch import nn

from . import checks


@dataclass(frozen=True)
class Activation:
    """σ (NumPy), σ' (or None), γ = sup |σ'| (or None) and the torch module (or None)."""

    name: str
    f: Callable
    derivative: Callable | None
    gamma: float | None
    module: type[nn.Module] | None

    def __call__(self, a) -> np.ndarray:
        return self.f(np.asarray(a, dtype=float))


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))       # = 1/(1 + e^{-a}), without overflow


def _sigmoid_derivative(a):
    e = np.exp(-np.abs(a))                        # σ' is even; e ≤ 1, so no overflow
    return e / (1.0 + e) ** 2


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_derivative, 0.25, nn.Sigmoid),
    "tanh": Activation("tanh", np.tanh, lambda a: 1.0 - np.tanh(a) ** 2, 1.0, nn.Tanh),
    "relu": Activation("relu", lambda a: np.maximum(a, 0.0),
                       lambda a: (a > 0).astype(float), 1.0, nn.ReLU),
    "step": Activation("step", lambda a: (a > 0).astype(float), None, None, None),
}


def get(name: str, *, among=None) -> Activation:
    """The entry ``name``; ``among`` (names) narrows the choice, e.g. to the trainable ones.

    A name outside the choice raises ValueError naming the argument and the choices.
    """
    choices = tuple(ACTIVATIONS) if among is None else tuple(c for c in among if c in ACTIVATIONS)
    return ACTIVATIONS[checks.choice(name, "activation", choices)]


def neuron(x, w: float, b: float, activation: str = "sigmoid") -> np.ndarray:
    """The output y = σ(w·x + b) of one neuron with one input (§1.1), for every x."""
    w, b = checks.number(w, "w"), checks.number(b, "b")
    return get(activation)(w * np.asarray(x, dtype=float) + b)


def names(*, trainable: bool = False, differentiable: bool = False) -> tuple[str, ...]:
    """The table's names, in order; only those with a torch module or with σ' if asked."""
    return tuple(n for n, a in ACTIVATIONS.items()
                 if (not trainable or a.module is not None)
                 and (not differentiable or a.derivative is not None))
