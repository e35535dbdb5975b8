"""Rosenblatt's perceptron and Novikoff's mistake bound (§1.1).

Conventions (the same as notebook 01):

* labels y ∈ {0, 1}; the prediction is ŷ = 1{θᵀx̃ > 0} with the step activation;
* every input carries a constant 1 for the bias: x̃ = (x₁, x₂, 1), so θ = (w₁, w₂, b);
* one step visits one example: θ ← θ + η (y − ŷ) x̃, which changes θ only on a mistake.

``train_perceptron`` runs any such step function (the notebook passes its own) over the data in
a fixed order, epoch after epoch, and keeps the whole trajectory of θ, so a widget can show
any step without recomputing. ``novikoff_bound`` gives R and γ of the convergence theorem:
at most (R/γ)² mistakes when θ starts at 0, where R = max‖x̃ᵢ‖ and γ is the margin of the
max-margin separator through the origin of the x̃-space. γ is computed exactly (to solver
tolerance) by solving the hard-margin SVM quadratic programme min ½‖θ‖² s.t.
sᵢ θᵀx̃ᵢ ≥ 1 (sᵢ = 2yᵢ − 1) with scipy's SLSQP; then γ = 1/‖θ*‖.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import checks


def augment(X) -> np.ndarray:
    """x̃ = (x, 1) for every row of X: the bias becomes the last entry of θ."""
    X = _as_2d(X, "X")
    return np.hstack([X, np.ones((len(X), 1))])


def perceptron_step(theta, x, y, eta):
    """One update θ ← θ + η (y − ŷ) x with ŷ = 1{θᵀx > 0}; x already carries the 1 (x̃)."""
    y_hat = float(theta @ x > 0)
    return theta + eta * (y - y_hat) * x


@dataclass
class Trajectory:
    """What :func:`train_perceptron` returns.

    thetas              (T + 1, d+1) array: θ after 0, 1, ..., T steps (T = epochs · n)
    mistakes_per_epoch  (epochs,) ints: how many examples were misclassified when visited
    mistake_at_step     (T,) bools: whether step t (1-based t-1 here) was a mistake
    order               (T,) ints: which example each step visited
    """

    thetas: np.ndarray
    mistakes_per_epoch: np.ndarray
    mistake_at_step: np.ndarray
    order: np.ndarray

    @property
    def theta(self) -> np.ndarray:
        """The final θ."""
        return self.thetas[-1]

    @property
    def total_mistakes(self) -> int:
        return int(self.mistakes_per_epoch.sum())


def _as_2d(X, name):
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n, d), got shape {X.shape}")
    return X


def _labels(y, n):
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must hold labels in {0, 1}")
    return y.astype(float)


def train_perceptron(X, y, eta: float = 1.0, epochs: int = 10, *, step=perceptron_step,
                     theta0=None) -> Trajectory:
    """Run ``step`` over the examples (in order) for ``epochs`` epochs from θ₀ (default 0).

    ``step(theta, x, y, eta) -> theta`` gets numpy arrays (x is x̃ with its trailing 1).
    A visit is counted as a mistake when 1{θᵀx̃ > 0} ≠ y before the step.
    """
    X = augment(X)
    n, d = X.shape
    y = _labels(y, n)
    eta = checks.number(eta, "eta", above=0)
    epochs = checks.integer(epochs, "epochs")
    if not callable(step):
        raise TypeError(f"step must be callable, got {type(step).__name__}")
    theta = np.zeros(d) if theta0 is None else np.asarray(theta0, dtype=float).copy()
    if theta.shape != (d,):
        raise ValueError(f"theta0 must have shape ({d},) (weights and bias), got {theta.shape}")
    T = epochs * n
    thetas = np.empty((T + 1, d))
    thetas[0] = theta
    mistake = np.zeros(T, dtype=bool)
    order = np.tile(np.arange(n), epochs)
    for t, i in enumerate(order):
        mistake[t] = float(theta @ X[i] > 0) != y[i]
        theta = np.asarray(step(theta, X[i], y[i], eta), dtype=float).reshape(d)
        thetas[t + 1] = theta
    per_epoch = mistake.reshape(epochs, n).sum(1)
    return Trajectory(thetas, per_epoch, mistake, order)


@dataclass
class Bound:
    """R, γ and the mistake bound of Novikoff's theorem (γ = 0 and bound = inf if not separable)."""

    R: float
    gamma: float
    bound: float
    theta: np.ndarray | None  # the max-margin θ* (unit norm), None when not separable


def max_margin(X, y):
    """The max-margin separator through the origin of x̃-space: (unit θ*, γ) or (None, 0.0).

    Solves the hard-margin SVM  min ½‖θ‖²  s.t.  sᵢ θᵀx̃ᵢ ≥ 1  exactly with SLSQP.
    """
    from scipy.optimize import minimize

    Xa = augment(X)
    s = 2 * _labels(y, len(Xa)) - 1
    A = s[:, None] * Xa
    # A feasible start if one exists: the least-squares fit of s, scaled up.
    start = np.linalg.lstsq(Xa, s, rcond=None)[0]
    m = (A @ start).min()
    start = start / m if m > 0 else start
    res = minimize(lambda t: 0.5 * t @ t, start, jac=lambda t: t, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": lambda t: A @ t - 1, "jac": lambda t: A}],
                   options={"maxiter": 500, "ftol": 1e-12})
    theta = res.x
    margins = A @ theta
    if not res.success or margins.min() < 1 - 1e-6:
        return None, 0.0
    norm = np.linalg.norm(theta)
    return theta / norm, float(margins.min() / norm)


def novikoff_bound(X, y, *, theta0=None, eta: float = 1.0) -> Bound:
    """R = max‖x̃ᵢ‖, γ = max margin; the perceptron makes at most (R/γ)² mistakes from θ₀ = 0.

    From θ₀ ≠ 0 the same argument gives (R/γ)² + 2‖θ₀‖/(ηγ) (the extra term is what the
    start costs); that is the bound returned when ``theta0`` is given.
    """
    Xa = augment(X)
    R = float(np.linalg.norm(Xa, axis=1).max())
    theta, gamma = max_margin(X, y)
    if theta is None or gamma <= 0:
        return Bound(R, 0.0, float("inf"), None)
    bound = (R / gamma) ** 2
    if theta0 is not None:
        bound += 2 * float(np.linalg.norm(theta0)) / (eta * gamma)
    return Bound(R, gamma, bound, theta)


# -- what the perceptron widget (widgets/perceptron.py) shows -------------------------------

DATASETS = ("blobs", "xor")
OFFSET = np.array([1.0, 0.5])  # moves the blobs off the origin, so the bias has to be learned


@dataclass
class Demo:
    X: np.ndarray
    y: np.ndarray
    theta0: np.ndarray
    trajectory: Trajectory
    bound: Bound


def perceptron_demo(kind: str = "blobs", margin: float = 0.3, seed: int = 0, eta: float = 1.0,
                    *, step=perceptron_step, n: int = 60, epochs: int = 12) -> Demo:
    """Data of the given kind, the whole perceptron trajectory from a random θ₀, the bound."""
    checks.choice(kind, "kind", DATASETS)
    from . import data as mpdata  # torch is needed only here

    if kind == "blobs":
        X, y = mpdata.blobs(n, margin=margin, seed=seed)
        X = X.numpy().astype(float) + OFFSET
    else:
        X, y = mpdata.xor(n, noise=0.15, seed=seed)
        X = X.numpy().astype(float)
    y = y.numpy()
    theta0 = 0.5 * np.random.default_rng(seed).standard_normal(X.shape[1] + 1)
    trajectory = train_perceptron(X, y, eta, epochs, step=step, theta0=theta0)
    bound = novikoff_bound(X, y, theta0=theta0, eta=eta)
    return Demo(X, y, theta0, trajectory, bound)


def misclassified(theta, X, y) -> np.ndarray:
    """Boolean mask of the points that 1{θᵀx̃ > 0} gets wrong."""
    return (augment(X) @ np.asarray(theta, dtype=float) > 0).astype(int) != np.asarray(y)
