"""One hidden layer approximates a continuous function: g(x) = Σᵢ vᵢ σ(wᵢx + bᵢ) (§1.5).

The theorem says that good wᵢ, bᵢ, vᵢ exist; it does not say how to find them. Here they are
found fast and deterministically: the hidden weights are *random features* (unit i switches
at a random point cᵢ of [0, 1] with a random slope wᵢ, so bᵢ = −wᵢcᵢ), and only the output
weights v are fitted, by linear least squares (a closed form; a tiny ridge term 1e-9·‖v‖²
keeps it stable when two units are nearly the same). The first N of a fixed
pool of features are used, so g for N + 1 units extends g for N units.

Everything is on the unit interval I₁ = [0, 1] (m = 1), as in the theorem's Iₘ.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

import numpy as np

from . import checks
from .activations import ACTIVATIONS  # σ: sigmoid, tanh, relu, step 1{x > 0}

TARGETS = {
    "sine": lambda x: np.sin(2 * np.pi * 2 * x),
    "bump": lambda x: np.exp(-((x - 0.5) ** 2) / (2 * 0.08 ** 2)),
    "|x − 0.4|": lambda x: np.abs(x - 0.4),
    "wiggle": lambda x: np.sin(12 * x) * x + 0.3 * np.cos(30 * x ** 2),
    "jump (not continuous)": lambda x: (x > 0.5).astype(float),
}

POOL = 200          # hidden units available (N is at most this)
FIT_POINTS = 400    # where v is fitted
EVAL_POINTS = 2001  # where the sup error is measured (a finer grid)
RIDGE = 1e-9       # a whisper of ridge keeps nearly collinear units from exploding v


@functools.cache
def _controller():
    try:  # threadpoolctl comes with scikit-learn
        from threadpoolctl import ThreadpoolController
        return ThreadpoolController()
    except ImportError:  # pragma: no cover
        return None


def _one_blas_thread():
    """These matrices are small: several BLAS threads only fight over the cores (on a busy
    2-core machine a 2 ms fit took seconds), so the fits run on one thread."""
    c = _controller()
    return c.limit(limits=1, user_api="blas") if c is not None else contextlib.nullcontext()


def random_features(N: int, seed: int = 0):
    """w (N,), b (N,): slopes of random sign and size in [5, 60), switch points cᵢ in [0, 1]."""
    N = checks.integer(N, "N", maximum=POOL)
    seed = checks.integer(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    sign = rng.choice([-1.0, 1.0], POOL)
    w = sign * rng.uniform(5.0, 60.0, POOL)
    c = rng.uniform(0.0, 1.0, POOL)
    return w[:N], -w[:N] * c[:N]


def hidden(x, w, b, activation: str) -> np.ndarray:
    """The hidden layer σ(wᵢx + bᵢ) for every x (rows) and unit i (columns)."""
    checks.choice(activation, "activation", ACTIVATIONS)
    x = np.asarray(x, dtype=float).reshape(-1, 1)
    return ACTIVATIONS[activation](x * w + b)


def g(x, v, w, b, activation: str) -> np.ndarray:
    """g(x) = Σᵢ vᵢ σ(wᵢx + bᵢ)."""
    return hidden(x, w, b, activation) @ v


@dataclass
class Fit:
    N: int
    activation: str
    w: np.ndarray
    b: np.ndarray
    v: np.ndarray
    x: np.ndarray        # the evaluation grid on [0, 1]
    f: np.ndarray        # f on the grid
    g: np.ndarray        # g on the grid
    sup_error: float     # max |f − g| on the grid


def target_function(target):
    """``target`` itself if it is a function, else the function of that name in TARGETS."""
    return target if callable(target) else TARGETS[checks.choice(target, "target", TARGETS)]


def _nested_least_squares(H, y, Ns, ridge=RIDGE):
    """For each N in Ns, v minimising ‖H[:, :N] v − y‖² + ridge·‖v‖².

    One QR factorisation of [H; √ridge·I] serves every N: the leading N columns of Q and the
    leading N×N block of R factorise the problem restricted to the first N units.
    """
    from scipy.linalg import solve_triangular

    P = H.shape[1]
    with _one_blas_thread():
        Q, R = np.linalg.qr(np.vstack([H, np.sqrt(ridge) * np.eye(P)]))
        z = Q.T @ np.concatenate([y, np.zeros(P)])
        return [solve_triangular(R[:N, :N], z[:N]) for N in Ns]


def approximate(target="sine", N: int = 10, activation: str = "sigmoid", *, seed: int = 0) -> Fit:
    """Random wᵢ, bᵢ, then v by least squares on a grid; the sup error on a finer grid.

    (Named for what it does to the target, and so that it is not mistaken for train.fit,
    which trains a network by gradient descent.)
    """
    checks.choice(activation, "activation", ACTIVATIONS)
    f = target_function(target)
    N = checks.integer(N, "N", maximum=POOL)
    w, b = random_features(N, seed)
    xs = np.linspace(0.0, 1.0, FIT_POINTS)
    (v,) = _nested_least_squares(hidden(xs, w, b, activation), f(xs), [N])
    x = np.linspace(0.0, 1.0, EVAL_POINTS)
    with _one_blas_thread():
        fx, gx = f(x), g(x, v, w, b, activation)
    return Fit(N, activation, w, b, v, x, fx, gx, float(np.abs(fx - gx).max()))


def error_curve(target="sine", activation: str = "sigmoid", Ns=None, *, seed: int = 0):
    """Sup error of the fitted g for each N in ``Ns`` (default 1..100): (Ns, errors).

    Same numbers as ``approximate(target, N, activation).sup_error`` for each N, computed at once.
    """
    checks.choice(activation, "activation", ACTIVATIONS)
    f = target_function(target)
    Ns = np.arange(1, 101) if Ns is None else np.asarray(Ns, dtype=int)
    for N in Ns:
        checks.integer(N, "N", maximum=POOL)
    w, b = random_features(int(Ns.max()), seed)
    xs = np.linspace(0.0, 1.0, FIT_POINTS)
    vs = _nested_least_squares(hidden(xs, w, b, activation), f(xs), Ns)
    x = np.linspace(0.0, 1.0, EVAL_POINTS)
    Hx, fx = hidden(x, w, b, activation), f(x)
    with _one_blas_thread():
        errors = np.array([np.abs(fx - Hx[:, :N] @ v).max() for N, v in zip(Ns, vs)])
    return Ns, errors
