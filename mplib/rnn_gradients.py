"""How far a gradient travels back in time: ‖∂h^(T)/∂h^(k)‖ for Elman and LSTM cells (§4.1, §4.2).

For the Elman cell h^(t) = σ(W_h h^(t-1) + W_x x^(t)) one step back multiplies by the Jacobian
J_t = ∂h^(t)/∂h^(t-1) = diag(σ'(a^(t))) W_h, so ∂h^(T)/∂h^(k) = J_T J_(T-1) ··· J_(k+1) and
‖∂h^(T)/∂h^(k)‖ ≤ (γ σ_max(W_h))^(T-k), with γ = sup|σ'| and σ_max the largest singular value.
For the LSTM the state is (h, c) and the step Jacobian is written out from the gate equations.

Everything is NumPy in float64, with the product renormalised at every step (its log norm is
carried separately), so norms like 1e-300 or 1e+300 come out as finite logarithms.
"""

from __future__ import annotations

import numpy as np

from . import checks
from .activations import ACTIVATIONS

# The Elman cell's choices of σ: those of mplib.activations with a derivative σ' and γ.
ACTIVATION_NAMES = ("tanh", "sigmoid", "relu")
CELLS = ("elman", "lstm")


def _sigmoid(a):
    return ACTIVATIONS["sigmoid"].f(a)


def gamma(activation: str) -> float:
    """γ = sup |σ'(a)|: 1 for tanh and ReLU, 1/4 for the logistic sigmoid."""
    return ACTIVATIONS[checks.choice(activation, "activation", ACTIVATION_NAMES)].gamma


def with_largest_singular_value(W: np.ndarray, scale: float) -> np.ndarray:
    """W rescaled so that its largest singular value (its spectral norm) equals ``scale``."""
    scale = checks.number(scale, "scale", above=0)
    W = np.asarray(W, dtype=float)
    top = np.linalg.norm(W, 2)
    if top == 0:
        raise ValueError("W must not be the zero matrix")
    return W * (scale / top)


class RandomWeights:
    """Fixed random weights (seeded) for both cells; ``W_h`` blocks rescaled on demand."""

    def __init__(self, hidden: int = 32, inputs: int = 4, T_max: int = 100, seed: int = 0):
        hidden = checks.integer(hidden, "hidden")
        inputs = checks.integer(inputs, "inputs")
        T_max = checks.integer(T_max, "T_max")
        rng = np.random.default_rng(seed)
        self.hidden, self.inputs, self.T_max = hidden, inputs, T_max
        # One base matrix per recurrent block (Elman: 1, LSTM: f, i, o, g), unit spectral norm.
        self.base_h = {k: with_largest_singular_value(rng.standard_normal((hidden, hidden)), 1.0)
                       for k in ("elman", "f", "i", "o", "g")}
        self.W_x = {k: 0.5 * rng.standard_normal((hidden, inputs)) / np.sqrt(inputs)
                    for k in ("elman", "f", "i", "o", "g")}
        self.x = rng.standard_normal((T_max, inputs))


def elman_forward(W_h, W_x, x, activation: str = "tanh", h0=None):
    """h^(t) = σ(W_h h^(t-1) + W_x x^(t)) for t = 1..T; returns (h of shape (T+1, H), a (T, H))."""
    sigma = ACTIVATIONS[checks.choice(activation, "activation", ACTIVATION_NAMES)].f
    W_h, W_x, x = (np.asarray(v, dtype=float) for v in (W_h, W_x, x))
    H = W_h.shape[0]
    if W_h.shape != (H, H):
        raise ValueError(f"W_h must be square, got shape {W_h.shape}")
    if x.ndim != 2 or W_x.shape != (H, x.shape[1]):
        raise ValueError(f"W_x must have shape (H, D) = ({H}, x.shape[1]), got {W_x.shape} "
                         f"for x of shape {x.shape}")
    h = np.zeros((len(x) + 1, H))
    if h0 is not None:
        h[0] = h0
    a = np.zeros((len(x), H))
    for t in range(len(x)):
        a[t] = W_h @ h[t] + W_x @ x[t]
        h[t + 1] = sigma(a[t])
    return h, a


def elman_step_jacobians(W_h, W_x, x, activation: str = "tanh", h0=None) -> np.ndarray:
    """J_t = ∂h^(t)/∂h^(t-1) = diag(σ'(a^(t))) W_h for t = 1..T, shape (T, H, H)."""
    _, a = elman_forward(W_h, W_x, x, activation, h0)
    dsigma = ACTIVATIONS[activation].derivative
    return dsigma(a)[:, :, None] * np.asarray(W_h, dtype=float)[None]


def lstm_step_jacobians(W_h: dict, W_x: dict, x, b_f: float = 0.0) -> np.ndarray:
    """Jacobians of the LSTM state s = (h, c) one step back, shape (T, 2H, 2H).

    Gates as in §4.2: f, i, o = σ(W_h· h + W_x· x) (the forget gate with bias ``b_f``),
    g = tanh(W_hg h + W_xg x), c^(t) = f ⊙ c^(t-1) + i ⊙ g, h^(t) = o ⊙ tanh(c^(t)).
    """
    x = np.asarray(x, dtype=float)
    H = W_h["f"].shape[0]
    h, c = np.zeros(H), np.zeros(H)
    J = np.zeros((len(x), 2 * H, 2 * H))
    for t in range(len(x)):
        f = _sigmoid(W_h["f"] @ h + W_x["f"] @ x[t] + b_f)
        i = _sigmoid(W_h["i"] @ h + W_x["i"] @ x[t])
        o = _sigmoid(W_h["o"] @ h + W_x["o"] @ x[t])
        g = np.tanh(W_h["g"] @ h + W_x["g"] @ x[t])
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        dc_dh = ((c * f * (1 - f))[:, None] * W_h["f"] + (g * i * (1 - i))[:, None] * W_h["i"]
                 + (i * (1 - g ** 2))[:, None] * W_h["g"])
        dc_dc = np.diag(f)
        dh_dh = (tc * o * (1 - o))[:, None] * W_h["o"] + (o * (1 - tc ** 2))[:, None] * dc_dh
        dh_dc = (o * (1 - tc ** 2))[:, None] * dc_dc
        J[t] = np.block([[dh_dh, dh_dc], [dc_dh, dc_dc]])
        h, c = o * tc, c_new
    return J


def log_norms_back(J: np.ndarray, rows: int | None = None) -> np.ndarray:
    """ln ‖∂h^(T)/∂s^(k)‖₂ for k = T, T-1, ..., 0 (index n = T - k), from step Jacobians J.

    ``rows``: keep only the first ``rows`` rows of the product (the h part of an LSTM state).
    Uses the recursion P_k = P_(k+1) J_(k+1), renormalising P at every step.
    """
    J = np.asarray(J, dtype=float)
    if J.ndim != 3 or J.shape[1] != J.shape[2]:
        raise ValueError(f"J must have shape (T, S, S), got {J.shape}")
    S = J.shape[1]
    P = np.eye(S)[: (rows or S)]
    log_scale = 0.0
    out = np.empty(len(J) + 1)
    for n in range(len(J) + 1):
        norm2 = np.linalg.norm(P, 2)
        out[n] = log_scale + np.log(norm2) if norm2 > 0 else -np.inf
        if n == len(J):
            break
        P = P @ J[len(J) - 1 - n]
        size = np.linalg.norm(P)  # Frobenius: cheap, and only used to keep P representable
        if size == 0 or not np.isfinite(size):
            out[n + 1:] = -np.inf if size == 0 else np.inf
            break
        P /= size
        log_scale += np.log(size)
    return out


def gradient_curves(weights: RandomWeights, scale: float, activation: str = "tanh",
                    T: int = 50, b_f: float = 3.0) -> dict:
    """Everything the vanishing-gradient widget draws, for one setting of its controls.

    Returns a dict: ``n`` (= T - k), ``elman`` and ``lstm`` (ln of the gradient norms),
    ``bound`` (n · ln(γ σ_max), the Elman bound) and ``slope`` (ln(γ σ_max)).
    """
    scale = checks.number(scale, "scale", above=0)
    checks.choice(activation, "activation", ACTIVATION_NAMES)
    T = checks.integer(T, "T", maximum=weights.T_max)
    b_f = checks.number(b_f, "b_f")
    x = weights.x[:T]
    W_h = weights.base_h["elman"] * scale
    elman = log_norms_back(elman_step_jacobians(W_h, weights.W_x["elman"], x, activation))
    W_h4 = {k: weights.base_h[k] * scale for k in "fiog"}
    W_x4 = {k: weights.W_x[k] for k in "fiog"}
    lstm = log_norms_back(lstm_step_jacobians(W_h4, W_x4, x, b_f), rows=weights.hidden)
    slope = float(np.log(gamma(activation) * scale))
    n = np.arange(T + 1)
    return {"n": n, "elman": elman, "lstm": lstm, "bound": n * slope, "slope": slope}
