"""Chapter 1's exercises: reference solutions, test inputs and known mistakes.

Each ``check_*`` function is what a check cell of notebook 01 calls with the student's answer;
the references here are independent of the notebook, so a solution edited there cannot make
its own check pass.
"""

from __future__ import annotations

import numpy as np
import torch

from mplib.exercises import Case, Mistake, check_choice, check_function, check_value

# --------------------------------------------------------------------------- §1.1 perceptron


def sigma_step(x):
    """σ(x) = 1{x > 0}"""
    return (np.asarray(x) > 0).astype(float)


def perceptron_step(theta, x, y, eta):
    """θ ← θ + η (y − ŷ) x̃ with ŷ = 1{θᵀx̃ > 0}."""
    y_hat = sigma_step(theta @ x)
    return theta + eta * (y - y_hat) * x


_theta = np.array([0.5, -1.0, 0.2])
_x = np.array([1.0, 1.0, 1.0])   # θᵀx̃ = -0.3
PERCEPTRON_CASES = [
    Case((_theta, _x, 1, 0.5),
         label="θ = (0.5, −1, 0.2), x̃ = (1, 1, 1), y = 1, η = 0.5 (a missed 1)"),
    Case((_theta, _x, 0, 0.5),
         label="θ = (0.5, −1, 0.2), x̃ = (1, 1, 1), y = 0, η = 0.5 (right already)"),
    Case((-_theta, _x, 0, 0.5),
         label="θ = (−0.5, 1, −0.2), x̃ = (1, 1, 1), y = 0, η = 0.5 (a false alarm)"),
    Case((np.zeros(3), np.array([2.0, -1.0, 1.0]), 0, 1.0),
         label="θ = (0, 0, 0), x̃ = (2, −1, 1), y = 0, η = 1 (θᵀx̃ = 0 exactly)"),
    Case((np.array([1.0, 2.0, -3.0]), np.array([-0.5, 0.25, 1.0]), 1, 2.0),
         label="θ = (1, 2, −3), x̃ = (−0.5, 0.25, 1), y = 1, η = 2"),
]

PERCEPTRON_MISTAKES = [
    Mistake("sign", "θ moved away from an example it missed. The residual is y − ŷ (target minus "
            "prediction): a missed 1 must pull θ towards x̃.",
            fn=lambda t, x, y, eta: t - eta * (y - sigma_step(t @ x)) * x),
    Mistake("no residual", "θ changed although the prediction was right. Multiply by the residual "
            "y − ŷ, which is 0 when the example is classified correctly.",
            fn=lambda t, x, y, eta: t + eta * y * x),
    Mistake("threshold", "At θᵀx̃ = 0 (for instance θ = 0 at the start) the prediction must be 0: "
            "σ(x) = 1{x > 0}, a strict inequality, not x ≥ 0.",
            fn=lambda t, x, y, eta: t + eta * (y - float(t @ x >= 0)) * x),
    Mistake("no eta", "The change has the right direction but the wrong length: the learning rate "
            "η is missing.", fn=lambda t, x, y, eta: t + (y - sigma_step(t @ x)) * x),
]


def check_perceptron_step(student_fn):
    return check_function(student_fn, perceptron_step, PERCEPTRON_CASES,
                          mistakes=PERCEPTRON_MISTAKES, exercise="perceptron_step")


# Two points on a line: x = −2 with label 0 and x = +2 with label 1.
BOUND_X = np.array([[-2.0], [2.0]])
BOUND_Y = np.array([0, 1])
# x̃ = (∓2, 1): R² = 5; the best unit θ* = (1, 0) has margin γ = 2, so (R/γ)² = 5/4.
BOUND = 5 / 4

BOUND_MISTAKES = [
    Mistake("no bias coordinate", "R is the largest norm of x̃ = (x, 1), with the constant 1 "
            "appended: ‖(2, 1)‖ = √5, not 2.", value=1.0),
    Mistake("not squared", "The bound is (R/γ)², squared.", value=np.sqrt(5) / 2),
    Mistake("inverted", "The bound is (R/γ)², R over γ: large radius and small margin mean many "
            "mistakes.", value=4 / 5),
    Mistake("gamma is one", "γ is the margin of a unit-norm θ*, not the 1 of the SVM constraint "
            "sᵢθᵀx̃ᵢ ≥ 1: with θ* = (1, 0), γ = 2.", value=5.0),
]


def check_predicted_bound(answer):
    return check_value(answer, BOUND, mistakes=BOUND_MISTAKES, tol=0.01,
                       exercise="Novikoff's bound",
                       explanation="R = √5 and γ = 2, so at most one mistake is possible.")


# --------------------------------------------------------------------------- §1.2 losses


def mean_bce(y_hat, y):
    """Mean binary cross-entropy −(1/n) Σ [yᵢ log ŷᵢ + (1 − yᵢ) log(1 − ŷᵢ)] (numpy arrays)."""
    return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


BCE_CASES = [
    Case((np.array([0.9, 0.2, 0.6, 0.3]), np.array([1.0, 0.0, 1.0, 1.0])),
         label="ŷ = [0.9, 0.2, 0.6, 0.3], y = [1, 0, 1, 1]"),
    Case((np.array([0.5]), np.array([0.0])), label="ŷ = [0.5], y = [0]"),
    Case((np.linspace(0.05, 0.95, 10), (np.arange(10) % 3 == 0).astype(float)),
         label="ŷ = 10 values from 0.05 to 0.95, y = [1, 0, 0, 1, 0, 0, 1, 0, 0, 1]"),
]

BCE_MISTAKES = [
    Mistake("missing 1/n", "Your loss is n times too large: it should be the mean over the "
            "examples (the 1/n), not the sum.",
            fn=lambda yh, y: float(-np.sum(y * np.log(yh) + (1 - y) * np.log(1 - yh)))),
    Mistake("sign", "Your loss is negative, but −log of a probability is ≥ 0: the minus sign is "
            "missing.", fn=lambda yh, y: -mean_bce(yh, y)),
    Mistake("one term", "Examples with y = 0 add nothing to your loss: the term "
            "−(1 − y) log(1 − ŷ) is missing.",
            fn=lambda yh, y: float(-np.mean(y * np.log(yh)))),
    Mistake("swapped", "ŷ and y are swapped: the log is taken of the prediction ŷ, and y "
            "weighs the terms.", fn=lambda yh, y: mean_bce(y, yh)),
]


def check_mean_bce(student_fn):
    return check_function(student_fn, mean_bce, BCE_CASES, mistakes=BCE_MISTAKES,
                          exercise="mean_bce")


MAP_UNIFORM_OPTIONS = {
    "a": "The ridge solution needs a Gaussian prior: λ‖θ‖² is −log of N(0, τ²I). A uniform "
         "prior's −log p(θ) is a constant (inside its box), which adds no penalty at all.",
    "b": "−log p(θ) is the same constant for every θ in the box, so it does not move the "
         "argmin: the MAP estimate is the MLE, least squares here (as long as the box contains "
         "it).",
    "c": "Nothing pulls θ towards 0: that would need a prior with its peak at 0. A uniform prior "
         "has no peak.",
    "d": "−log p(θ) is finite inside the box, so the objective and its minimiser exist; only "
         "outside the box is it +∞.",
}


def check_map_uniform(answer):
    return check_choice(answer, "b", MAP_UNIFORM_OPTIONS, exercise="MAP with a uniform prior")


# --------------------------------------------------------------------------- §1.3 backprop


def linear_backward(dY, X, W):
    """Gradients of a layer Y = X Wᵀ + b, given dY = ∂L/∂Y: returns (∂L/∂X, ∂L/∂W, ∂L/∂b)."""
    return dY @ W, dY.T @ X, dY.sum(0)


def _layer_case(n, d_in, d_out, seed):
    g = torch.Generator().manual_seed(seed)
    dY = torch.randn(n, d_out, generator=g, dtype=torch.float64)
    X = torch.randn(n, d_in, generator=g, dtype=torch.float64)
    W = torch.randn(d_out, d_in, generator=g, dtype=torch.float64)
    return Case((dY, X, W), label=f"n = {n} rows, {d_in} inputs, {d_out} outputs "
                f"(dY {n}×{d_out}, X {n}×{d_in}, W {d_out}×{d_in})")


# A square layer first, so that a transposed product gives wrong numbers rather than a crash.
LAYER_CASES = [_layer_case(4, 3, 3, 0), _layer_case(5, 3, 2, 1), _layer_case(1, 4, 6, 2)]

LAYER_MISTAKES = [
    Mistake("dW transposed", "∂L/∂W must have W's shape (outputs × inputs): it is dYᵀX, "
            "not XᵀdY.", fn=lambda dY, X, W: (dY @ W, X.T @ dY, dY.sum(0))),
    Mistake("dX with Wᵀ", "Y = XWᵀ, so ∂L/∂X = dY W (W itself, not Wᵀ); compare the shapes: "
            "dY is n×outputs and W is outputs×inputs.",
            fn=lambda dY, X, W: (dY @ W.T, dY.T @ X, dY.sum(0))),
    Mistake("db mean", "The bias is added to every row, so its gradient is the sum of dY over the "
            "rows, not the mean (the loss's 1/n is already inside dY).",
            fn=lambda dY, X, W: (dY @ W, dY.T @ X, dY.mean(0))),
]


def check_linear_backward(student_fn):
    return check_function(student_fn, linear_backward, LAYER_CASES, mistakes=LAYER_MISTAKES,
                          exercise="linear_backward")


# --------------------------------------------------------------------------- §1.4 activations


def sigmoid_prime(x):
    """sigmoid'(x) = sigmoid(x) (1 − sigmoid(x)) for a tensor x."""
    s = torch.sigmoid(x)
    return s * (1 - s)


SIGMOID_CASES = [
    Case((torch.tensor([0.0], dtype=torch.float64),), label="x = [0]"),
    Case((torch.tensor([-3.0, -1.0, 0.5, 2.0, 6.0], dtype=torch.float64),),
         label="x = [−3, −1, 0.5, 2, 6]"),
    Case((torch.linspace(-8, 8, 33, dtype=torch.float64),), label="33 values from −8 to 8"),
]

SIGMOID_MISTAKES = [
    Mistake("x instead of sigmoid(x)", "sigmoid'(x) = s(1 − s) with s = sigmoid(x): apply the "
            "sigmoid first, then use its value.", fn=lambda x: x * (1 - x)),
    Mistake("sign", "The sigmoid increases everywhere, so its derivative is positive: check the "
            "sign of d/dx (1 + e^(−x))^(−1).", fn=lambda x: -sigmoid_prime(x)),
    Mistake("square missing", "d/dx (1 + e^(−x))^(−1) = e^(−x) / (1 + e^(−x))²: the square in "
            "the denominator is missing.", fn=lambda x: torch.exp(-x) / (1 + torch.exp(-x))),
]


def check_sigmoid_prime(student_fn):
    return check_function(student_fn, sigmoid_prime, SIGMOID_CASES, mistakes=SIGMOID_MISTAKES,
                          exercise="sigmoid_prime")


BREAK_RELU_OPTIONS = {
    "a": "The first check compares deep_linear, which never had ReLUs, with W and b: removing "
         "the ReLUs from with_relu does not touch it.",
    "b": "Without the ReLUs, with_relu is three affine maps in a row, which is the single "
         "affine map x ↦ Wx + b: the outputs now agree, and `assert not torch.allclose(...)` "
         "fails.",
    "c": "One of them does fail: the check that the ReLU network differs from Wx + b relies on "
         "the non-linearity, which is gone.",
    "d": "The shapes stay 5 → 7 → 6 → 3 with or without the ReLUs (they act entry by entry).",
}


def check_break_relu(answer):
    return check_choice(answer, "b", BREAK_RELU_OPTIONS, exercise="break it: no ReLU")


# --------------------------------------------------------------------------- §1.5 approximation

JUMP_SUP_ERROR = 0.5

JUMP_MISTAKES = [
    Mistake("theorem applies", "The theorem promises any ε only for a continuous f. A continuous g "
            "must pass through every value between 0 and 1 near the jump, so some x is at "
            "least ½ away from f.", predicate=lambda got, expected: float(got) < 0.25),
    Mistake("whole jump", "g can do better than the whole jump: sitting halfway (g = ½) at the "
            "jump costs only ½ there, and elsewhere g can follow f closely.",
            predicate=lambda got, expected: float(got) >= 0.75),
]


def check_jump_sup_error(answer):
    return check_value(answer, JUMP_SUP_ERROR, mistakes=JUMP_MISTAKES, tol=0.02,
                       exercise="sup error on the jump",
                       explanation="Half the jump: no continuous g does better on all of [0, 1].")
