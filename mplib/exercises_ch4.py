"""Chapter 4's exercises: reference solutions, test inputs and known mistakes.

Each ``check_*`` function is what a check cell of notebook 04 calls with the student's answer;
the references here are independent of the notebook, so a solution edited there cannot make
its own check pass.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from mplib.exercises import (Case, Feedback, Mistake, _not_tried, _raised, _report,
                             check_function, value_feedback)

# --------------------------------------------------------------------------- §4.1 Elman RNN


def bptt_step(delta, h_t, h_prev, x_t, W_h):
    """One step of backpropagation through time in the Elman RNN h = tanh(W_h h_prev + W_x x).

    ``delta`` is δ^(t) = ∂L/∂h^(t) (both contributions already added). Returns
    ``(dW_h, dW_x, carry)``: this step's terms of ∂L/∂W_h and ∂L/∂W_x, and
    carry = W_hᵀ (σ'(a^(t)) ⊙ δ^(t)), the part of δ^(t−1) that comes from step t.
    tanh'(a^(t)) = 1 − h^(t)², since h^(t) = tanh(a^(t)).
    """
    da = (1 - h_t ** 2) * delta
    return torch.outer(da, h_prev), torch.outer(da, x_t), W_h.T @ da


def _bptt_case(H, D, seed, label):
    g = torch.Generator().manual_seed(seed)
    W_h = 0.5 * torch.randn(H, H, dtype=torch.float64, generator=g)
    h_prev = torch.tanh(torch.randn(H, dtype=torch.float64, generator=g))
    x_t = torch.randn(D, dtype=torch.float64, generator=g)
    W_x = torch.randn(H, D, dtype=torch.float64, generator=g)
    h_t = torch.tanh(W_h @ h_prev + W_x @ x_t)
    delta = torch.randn(H, dtype=torch.float64, generator=g)
    return Case((delta, h_t, h_prev, x_t, W_h), label=label)


BPTT_CASES = [
    _bptt_case(4, 3, 1, "H = 4 hidden units, D = 3 inputs, random state and δ"),
    _bptt_case(3, 2, 2, "H = 3, D = 2, another random state"),
    _bptt_case(5, 1, 3, "H = 5, D = 1"),
]


def _no_tanh_prime(delta, h_t, h_prev, x_t, W_h):
    return torch.outer(delta, h_prev), torch.outer(delta, x_t), W_h.T @ delta


def _tanh_of_h(delta, h_t, h_prev, x_t, W_h):
    da = (1 - torch.tanh(h_t) ** 2) * delta
    return torch.outer(da, h_prev), torch.outer(da, x_t), W_h.T @ da


def _not_transposed(delta, h_t, h_prev, x_t, W_h):
    da = (1 - h_t ** 2) * delta
    return torch.outer(da, h_prev), torch.outer(da, x_t), W_h @ da


def _h_t_not_h_prev(delta, h_t, h_prev, x_t, W_h):
    da = (1 - h_t ** 2) * delta
    return torch.outer(da, h_t), torch.outer(da, x_t), W_h.T @ da


def _outer_swapped(delta, h_t, h_prev, x_t, W_h):
    da = (1 - h_t ** 2) * delta
    return torch.outer(h_prev, da), torch.outer(x_t, da), W_h.T @ da


BPTT_MISTAKES = [
    Mistake("no tanh'", "The error has to pass back through the tanh first: multiply δ by "
            "tanh'(a^(t)) = 1 − h^(t)² (element-wise) before it meets any weight.",
            fn=_no_tanh_prime),
    Mistake("tanh of h", "h^(t) is already tanh(a^(t)): the derivative is 1 − h^(t)², not "
            "1 − tanh(h^(t))² (that applies tanh twice).", fn=_tanh_of_h),
    Mistake("W_h not transposed", "Going back a step multiplies by W_hᵀ, not W_h: the forward "
            "step sends h^(t−1) through W_h, so the error comes back through its transpose.",
            fn=_not_transposed),
    Mistake("h_t for h_prev", "W_h multiplies h^(t−1) in a^(t) = W_h h^(t−1) + W_x x^(t): the "
            "gradient is (σ' ⊙ δ) h^(t−1)ᵀ, with the *previous* state.", fn=_h_t_not_h_prev),
    Mistake("outer order", "∂L/∂W has the shape of W: rows belong to the output (σ' ⊙ δ), "
            "columns to the input, so torch.outer(σ' ⊙ δ, h^(t−1)), in that order.",
            fn=_outer_swapped),
]


def check_bptt_step(student_fn):
    return check_function(student_fn, bptt_step, BPTT_CASES, mistakes=BPTT_MISTAKES,
                          exercise="bptt_step")


# The non-normal counterexample: eigenvalues below ½, gradient that grows anyway.
MAX_LAG = 200


def lag_norms(W_h, lags: int = MAX_LAG) -> np.ndarray:
    """‖∂h^(T)/∂h^(k)‖₂ for T − k = 0 .. lags, for zero inputs from h^(0) = 0.

    Then every a^(t) = 0, tanh'(0) = 1, and the notes' product ∏ W_hᵀ diag(σ') is (W_hᵀ)^(T−k):
    the norms are ‖W_h^n‖₂, exactly.
    """
    W = np.asarray(W_h, dtype=float)
    P, out = np.eye(len(W)), [1.0]
    for _ in range(lags):
        P = P @ W.T
        out.append(float(np.linalg.norm(P, 2)))
    return np.array(out)


def counterexample_W_h():
    """A reference answer: 0.45 on the diagonal, 1 just above it (8 × 8)."""
    return 0.45 * np.eye(8) + np.diag(np.ones(7), 1)


def check_counterexample(answer):
    """``answer``: a function returning a square matrix W_h (a tensor, an array or nested lists).

    Right when every eigenvalue has |λ| < ½ (the notes' case 1) and yet the gradient norm
    ‖∂h^(T)/∂h^(k)‖ exceeds 1 at some lag T − k (zero inputs, so σ' = 1 at every step).
    """
    name = "a W_h that breaks the notes' case 1"
    try:
        W = answer() if callable(answer) else answer
    except NotImplementedError:
        return _report(_not_tried(name, "the function still raises NotImplementedError"))
    except Exception as exc:  # the student's code: one line
        return _report(_raised(name, exc))
    if W is None or W is Ellipsis:
        return _report(_not_tried(name, "the answer is still None"))
    if hasattr(W, "detach"):
        W = W.detach().cpu().numpy()
    try:
        W = np.asarray(W, dtype=float)
    except (TypeError, ValueError):
        return _report(Feedback(name, "failed", f"✗ {name}: return a square matrix of numbers, "
                                f"got {type(W).__name__}."))
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 1:
        return _report(Feedback(name, "failed", f"✗ {name}: W_h must be a square matrix "
                                f"(H × H); got shape {W.shape}."))
    if W.shape[0] > 100 or not np.all(np.isfinite(W)):
        return _report(Feedback(name, "failed", f"✗ {name}: keep W_h finite and at most "
                                f"100 × 100; got shape {W.shape}."))
    rho = float(np.abs(np.linalg.eigvals(W)).max())
    norms = lag_norms(W)
    peak, lag = float(norms.max()), int(norms.argmax())
    if rho >= 0.5:
        return _report(Feedback(name, "failed", (
            f"✗ {name}: its largest |eigenvalue| is {rho:.3g}, not below ½.\n"
            "  Hint: the notes' case 1 assumes λ₁ < ½; keep every eigenvalue inside that circle "
            "(for a triangular matrix the eigenvalues are the diagonal entries)."),
            mistake="eigenvalue too large"))
    if peak <= 1.0 + 1e-9:
        normal = np.allclose(W @ W.T, W.T @ W, atol=1e-9 * max(1.0, np.abs(W).max() ** 2))
        hint = ("For a normal matrix (a symmetric one, say) ‖W_h^n‖ = |λ₁|^n, which only "
                "shrinks: make it non-normal, with large entries on one side of the diagonal."
                if normal else
                "It is non-normal, but not enough: the entries above (or below) the diagonal set "
                "how much ‖W_h^n‖ grows before the eigenvalues win; make them larger.")
        return _report(Feedback(name, "failed", (
            f"✗ {name}: the eigenvalues are fine (|λ₁| = {rho:.3g} < ½), but the gradient norm "
            f"never exceeds 1: its largest value is {peak:.3g} at T − k = {lag}.\n  Hint: {hint}"),
            mistake="normal" if normal else "too little growth"))
    return _report(Feedback(name, "passed", (
        f"✓ {name}: |λ₁| = {rho:.3g} < ½, yet ‖∂h(T)/∂h(k)‖ = ‖W_h^(T−k)‖ reaches {peak:.3g} "
        f"at T − k = {lag}. The notes' case 1 promises a norm below 1 at every distance.")))


# --------------------------------------------------------------------------- §4.2 LSTM

LAG_FORGET = 60
# With the forget gate's pre-activation equal to its bias b_f = 0, f = σ(0) = ½ at every step
# and the cell path alone scales the gradient by ½ per step: ln of 60 factors of ½.
FORGET_PATH = LAG_FORGET * math.log(0.5)

FORGET_MISTAKES = [
    Mistake("one step", "That is one step back. Over T − k = 60 steps the factors multiply, so "
            "their logarithms add: 60 × ln f.", predicate=lambda got, exp: abs(
                float(got) - math.log(0.5)) < 0.05),
    Mistake("log10", "The widget's axis is the natural logarithm, ln, not log₁₀.",
            predicate=lambda got, exp: abs(float(got) - LAG_FORGET * math.log10(0.5)) < 0.5),
    Mistake("sigma prime", "σ'(0) = ¼ is the slope of the sigmoid; the cell path is scaled by "
            "the gate's *value* f = σ(b_f) = ½, since c^(t) = f ⊙ c^(t−1) + ...",
            predicate=lambda got, exp: abs(float(got) - LAG_FORGET * math.log(0.25)) < 0.5),
    Mistake("sign", "A gradient scaled by factors below 1 shrinks: its logarithm is negative.",
            predicate=lambda got, exp: abs(float(got) + exp) < 0.5),
    Mistake("b_f = 3", "That is the widget's default b_f = 3 (f = σ(3) ≈ 0.95). The notes' "
            "LSTM has no bias: b_f = 0.",
            predicate=lambda got, exp: abs(float(got) - LAG_FORGET * math.log(
                1 / (1 + math.exp(-3)))) < 0.5),
]


def check_forget_prediction(answer):
    return _report(value_feedback(
        answer, FORGET_PATH, mistakes=FORGET_MISTAKES, tol=0.5,
        exercise="ln ‖∂c(T)/∂c(k)‖ at T − k = 60, b_f = 0",
        explanation="(60 ln ½ ≈ −41.6.) The cell below compares it with the widget's LSTM."))


TORCH_GATE_ORDER = ("i", "f", "g", "o")


def _lstm_hidden(x, blocks_x, blocks_h, order):
    """h^(t) of the notes' LSTM (no bias) whose gate weights are cut from PyTorch's stacked
    matrices with the row-block order ``order``."""
    W = {}
    for gate, Wx, Wh in zip(order, blocks_x, blocks_h):
        W[gate] = (Wx, Wh)
    H = blocks_h[0].shape[0]
    h, c, out = torch.zeros(H, dtype=x.dtype), torch.zeros(H, dtype=x.dtype), []
    for x_t in x:
        pre = {k: W[k][0] @ x_t + W[k][1] @ h for k in "fiog"}
        f, i, o = (torch.sigmoid(pre[k]) for k in "fio")
        c = f * c + i * torch.tanh(pre["g"])
        h = o * torch.tanh(c)
        out.append(h)
    return torch.stack(out)


def gate_order_error(order) -> float:
    """Largest |h| difference from ``nn.LSTM`` when its blocks are read in ``order``."""
    g = torch.Generator().manual_seed(4)
    lstm = torch.nn.LSTM(3, 4, bias=False, batch_first=True).double()
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.randn(p.shape, dtype=torch.float64, generator=g))
    x = torch.randn(6, 3, dtype=torch.float64, generator=g)
    with torch.no_grad():
        want = lstm(x[None])[0][0]
        got = _lstm_hidden(x, lstm.weight_ih_l0.chunk(4), lstm.weight_hh_l0.chunk(4), order)
    return float((got - want).abs().max())


GATE_ORDER_HINTS = {
    ("f", "i", "o", "g"): "That is the notes' order. PyTorch stacks its blocks in an order of "
                          "its own: print your cell's h next to nn.LSTM's and try another.",
    ("i", "f", "o", "g"): "Close: the input and forget gates come first, but the tanh "
                          "candidate g comes before the output gate o.",
    ("f", "i", "g", "o"): "Close: g then o is right, but the input gate comes before the "
                          "forget gate.",
}


def check_torch_gate_order(answer):
    """``answer``: a function returning the four gate letters in PyTorch's row-block order."""
    name = "PyTorch's gate order"
    try:
        order = answer() if callable(answer) else answer
    except NotImplementedError:
        return _report(_not_tried(name, "the function still raises NotImplementedError"))
    except Exception as exc:
        return _report(_raised(name, exc))
    if order is None or order is Ellipsis:
        return _report(_not_tried(name, "the answer is still None"))
    given = order
    if isinstance(order, str):
        order = [c for c in order if c.isalpha()]
    try:
        order = tuple(str(v).strip().lower() for v in order)
    except TypeError:  # not iterable
        order = None
    if order is None or sorted(order) != sorted("fiog"):
        return _report(Feedback(name, "failed", f"✗ {name}: give each of \"f\", \"i\", \"o\", "
                                f"\"g\" exactly once, as a tuple; got {given!r}."))
    if order == TORCH_GATE_ORDER:
        return _report(Feedback(name, "passed", f"✓ {name}: {', '.join(order)} is right: the "
                                "first H rows of weight_ih_l0 belong to i, then f, g and o. "
                                "The check below cuts the matrices that way."))
    err = gate_order_error(order)
    text = (f"✗ {name}: with the blocks read as {', '.join(order)} our cell's h differs from "
            f"nn.LSTM's by up to {err:.3g}.")
    hint = GATE_ORDER_HINTS.get(order)
    if hint:
        text += f"\n  Hint: {hint}"
    return _report(Feedback(name, "failed", text, mistake="".join(order) if hint else None))


# --------------------------------------------------------------------------- §4.3 clipping


def clip_gradient(g, T):
    """The notes' rule: g if ‖g‖ ≤ T, else T g / ‖g‖ (g one flat vector)."""
    norm = torch.linalg.vector_norm(g)
    return g if norm <= T else T * g / norm


CLIP_CASES = [
    Case((torch.tensor([3.0, 4.0], dtype=torch.float64), 1.0),
         label="g = (3, 4), T = 1 (‖g‖ = 5: clipped)"),
    Case((torch.tensor([0.3, 0.4], dtype=torch.float64), 1.0),
         label="g = (0.3, 0.4), T = 1 (‖g‖ = 0.5: left alone)"),
    Case((torch.tensor([1.0, -2.0, 2.0], dtype=torch.float64), 3.0),
         label="g = (1, −2, 2), T = 3 (‖g‖ = T exactly)"),
    Case((torch.zeros(4, dtype=torch.float64), 1.0), label="g = 0, T = 1"),
    Case((torch.linspace(-2.0, 3.0, 11, dtype=torch.float64), 2.5),
         label="11 entries from −2 to 3, T = 2.5"),
]

CLIP_MISTAKES = [
    Mistake("by value", "That clips every entry to [−T, T] (PyTorch's clip_grad_value_), which "
            "changes the direction. The notes rescale the whole vector: T g / ‖g‖.",
            fn=lambda g, T: g.clamp(-T, T)),
    Mistake("never clips", "A gradient longer than T must come back with norm T: compare "
            "‖g‖ with T and rescale when ‖g‖ > T.", fn=lambda g, T: g),
    Mistake("always rescales", "A gradient shorter than T stays as it is; only ‖g‖ > T is "
            "rescaled.", fn=lambda g, T: T * g / torch.linalg.vector_norm(g)),
    Mistake("no T", "g / ‖g‖ has norm 1: multiply by the threshold T to get norm T.",
            fn=lambda g, T: g if torch.linalg.vector_norm(g) <= T
            else g / torch.linalg.vector_norm(g)),
    Mistake("squared norm", "Divide by ‖g‖ (the square root of Σ g²), not by ‖g‖².",
            fn=lambda g, T: g if (g ** 2).sum() <= T else T * g / (g ** 2).sum()),
]


def check_clip_gradient(student_fn):
    return check_function(student_fn, clip_gradient, CLIP_CASES, mistakes=CLIP_MISTAKES,
                          exercise="clip_gradient")


# Two scalar parameters a = b = 0 with gradients 3 and 4, threshold T = 1, learning rate 0.1.
STEP_GRADS, STEP_T, STEP_LR = (3.0, 4.0), 1.0, 0.1
STEP_AFTER = [round(-STEP_LR * STEP_T * g / 5.0, 12) for g in STEP_GRADS]  # [-0.06, -0.08]

STEP_MISTAKES = [
    Mistake("no clipping", "‖g‖ = ‖(3, 4)‖ = 5 > T = 1: the step is clipped to length γ T.",
            value=[-0.3, -0.4]),
    Mistake("per parameter", "sgd_step_clipped clips all parameters together, as one vector "
            "g = (3, 4), not each one on its own (which would give each a step of γ T).",
            value=[-0.1, -0.1]),
    Mistake("no learning rate", "The clipped gradient is still multiplied by γ = 0.1.",
            value=[-0.6, -0.8]),
    Mistake("sign", "Gradient *descent*: θ ← θ − γ (clipped g), so both go down.",
            value=[0.06, 0.08]),
]


def check_clipped_step(answer):
    return _report(value_feedback(
        answer, STEP_AFTER, mistakes=STEP_MISTAKES, tol=1e-6,
        exercise="a and b after one clipped step",
        explanation="The cell below takes that step with sgd_step_clipped."))


__all__ = ["bptt_step", "BPTT_CASES", "check_bptt_step", "lag_norms", "counterexample_W_h",
           "check_counterexample", "FORGET_PATH", "check_forget_prediction", "TORCH_GATE_ORDER",
           "gate_order_error", "check_torch_gate_order", "clip_gradient", "CLIP_CASES",
           "check_clip_gradient", "STEP_AFTER", "check_clipped_step"]
