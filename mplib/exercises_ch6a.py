"""Chapter 6a's exercises (§6–6.3): reference solutions, test inputs and known mistakes.

Each ``check_*`` function is what a check cell of notebook 06a calls with the student's answer;
the references here are independent of the notebook, so a solution edited there cannot make
its own check pass. Pixels are numbered from 1 in the prose and from 0 in the code.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from mplib.exercises import (Case, Feedback, Mistake, _report, _resolve_answer, check_choice,
                             check_function, value_feedback)

# --------------------------------------------------------------------------- §6 parameter counts

# Full-size MNIST: n = 784 pixels, NADE with d = 500 hidden units (the paper's size).
COUNT_N, COUNT_D = 784, 500
FVSBN_PARAMS = COUNT_N * (COUNT_N + 1) // 2                       # Σ_i i = 307,720
NADE_PARAMS = 2 * COUNT_N * COUNT_D + COUNT_N + COUNT_D            # W, V, b, c = 785,284

FVSBN_PARAMS_MISTAKES = [
    Mistake("full matrix", "A full n × n matrix lets pixel i see itself and the pixels after "
            "it. Conditional i has only the i − 1 weights α_1..α_{i−1} plus α_0.",
            value=COUNT_N ** 2),
    Mistake("no alpha_0", "Each conditional has its own bias α_0^(i) too: i parameters for "
            "pixel i, Σ_i i in all, not Σ_i (i − 1).", value=COUNT_N * (COUNT_N - 1) // 2),
    Mistake("full matrix and biases", "The strictly lower triangle holds the weights: "
            "n(n − 1)/2 of them, plus n biases.", value=COUNT_N ** 2 + COUNT_N),
]

NADE_PARAMS_MISTAKES = [
    Mistake("no sharing", "That counts a separate hidden layer for every conditional. NADE "
            "shares one W (d × n) across all i; that is the point of §6.2.",
            predicate=lambda got, exp: float(got) > 10 * exp),
    Mistake("no biases", "Count the biases b (d of them) and c (n of them) as well.",
            value=2 * COUNT_N * COUNT_D),
    Mistake("one matrix", "There are two matrices: W (d × n) into the hidden layer and "
            "V (n × d) out of it.", value=COUNT_N * COUNT_D + COUNT_N + COUNT_D),
]


def _check_parts(name, answer, parts_spec, labels, success):
    """A prediction of several numbers, each judged on its own so a wrong one gives nothing away.

    parts_spec: [(expected, mistakes, exercise name)]; labels: how to return them, for the
    message when the shape of the answer is wrong.
    """
    got, early = _resolve_answer(answer, name)
    if early is not None:
        return _report(early)
    if not isinstance(got, (tuple, list)) or len(got) != len(parts_spec):
        return _report(Feedback(name, "failed", f"✗ {name}: return {len(parts_spec)} numbers, "
                                f"{labels}; got {got!r}."))
    parts = [value_feedback(g, expected, mistakes=mistakes, exercise=part)
             for g, (expected, mistakes, part) in zip(got, parts_spec)]
    if all(p.passed for p in parts):
        return _report(Feedback(name, "passed", f"✓ {name}: {success}"))
    wrong = next(p for p in parts if not p.passed)
    right = sum(p.passed for p in parts)
    text = (f"✗ {name}: {right} of {len(parts)} right.\n"
            + "\n".join("  " + p.text.replace("\n", "\n  ") for p in parts))
    return _report(Feedback(name, "failed", text, mistake=f"{wrong.exercise}: {wrong.mistake}"))


def check_parameter_counts(answer):
    """``answer``: a function returning (FVSBN parameters, NADE parameters) for n = 784, d = 500."""
    return _check_parts(
        "parameter counts, n = 784, d = 500", answer,
        [(FVSBN_PARAMS, FVSBN_PARAMS_MISTAKES, "FVSBN"),
         (NADE_PARAMS, NADE_PARAMS_MISTAKES, "NADE")],
        "(fvsbn, nade)",
        f"FVSBN {FVSBN_PARAMS:,}, NADE {NADE_PARAMS:,}. NADE has more here because "
        f"2d = 1000 > n/2 = 392; with d fixed it grows like n, FVSBN like n².")


# --------------------------------------------------------------------------- §6.1 FVSBN


def fvsbn_log_prob(x, alpha, alpha0):
    """log p(x) = Σ_i [x_i log f_i + (1 − x_i) log(1 − f_i)] for each row of x (N, n),

    f_i = σ(α_0^(i) + Σ_{j<i} α_j^(i) x_j); alpha (n, n) holds α_j^(i) in row i (entries
    j ≥ i are not parameters and are ignored), alpha0 (n,) the biases.
    """
    n = x.shape[1]
    A = alpha * torch.tril(torch.ones(n, n, dtype=alpha.dtype), diagonal=-1)
    logits = alpha0 + x @ A.T
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)


def _fvsbn_case(N, n, seed):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(N, n, generator=g) < 0.4).double()
    # entries on and above the diagonal are not zero: they must be ignored
    alpha = torch.randn(n, n, generator=g, dtype=torch.float64)
    alpha0 = torch.randn(n, generator=g, dtype=torch.float64)
    return x, alpha, alpha0


FVSBN_CASES = [
    Case(_fvsbn_case(4, 5, 1), label="4 random vectors of n = 5 pixels, random α (all of it "
         "nonzero, also on and above the diagonal)"),
    Case(_fvsbn_case(3, 8, 2), label="3 random vectors of n = 8 pixels, random α"),
    Case((torch.zeros(2, 3, dtype=torch.float64), torch.zeros(3, 3, dtype=torch.float64),
          torch.zeros(3, dtype=torch.float64)),
         label="α = 0: every pixel Bernoulli(1/2), so log p(x) = 3 log ½ for any x"),
]


def _fvsbn_with_diagonal(x, alpha, alpha0):
    A = alpha * torch.tril(torch.ones_like(alpha))
    return -F.binary_cross_entropy_with_logits(alpha0 + x @ A.T, x, reduction="none").sum(1)


def _fvsbn_unmasked(x, alpha, alpha0):
    return -F.binary_cross_entropy_with_logits(alpha0 + x @ alpha.T, x, reduction="none").sum(1)


def _fvsbn_log_f_only(x, alpha, alpha0):
    n = x.shape[1]
    A = alpha * torch.tril(torch.ones(n, n, dtype=alpha.dtype), diagonal=-1)
    return F.logsigmoid(alpha0 + x @ A.T).sum(1)


def _fvsbn_mean(x, alpha, alpha0):
    return fvsbn_log_prob(x, alpha, alpha0) / x.shape[1]


FVSBN_MISTAKES = [
    Mistake("own pixel", "f_i may only use x_1..x_{i−1}: the mask is strictly lower triangular "
            "(j < i). With j ≤ i, pixel i is predicted from itself.", fn=_fvsbn_with_diagonal),
    Mistake("no mask", "Row i of α has entries for j ≥ i too, and they are not parameters of "
            "f_i: multiply α by the strictly lower-triangular mask first.", fn=_fvsbn_unmasked),
    Mistake("log f only", "log p(x_i | x_<i) is log f_i only when x_i = 1; when x_i = 0 it is "
            "log(1 − f_i).", fn=_fvsbn_log_f_only),
    Mistake("mean", "log p(x) is the *sum* over the n pixels of the log-conditionals, not "
            "their mean.", fn=_fvsbn_mean),
    Mistake("sign", "That is −log p(x), the negative log-likelihood: log p(x) ≤ 0.",
            fn=lambda x, alpha, alpha0: -fvsbn_log_prob(x, alpha, alpha0)),
]


def check_fvsbn_log_prob(student_fn):
    return check_function(student_fn, fvsbn_log_prob, FVSBN_CASES, mistakes=FVSBN_MISTAKES,
                          exercise="fvsbn_log_prob")


# --------------------------------------------------------------------------- §6.2 NADE


def nade_recursive(x, W, b, V, c):
    """x̂ (N, n): x̂_i = σ(V_{i,:} h_i + c_i), h_i = σ(a_i + b),

    a_1 = 0, a_{i+1} = a_i + W_{:,i} x_i: O(nd) for all n conditionals.
    """
    contrib = x[:, :, None] * W.T[None]                    # (N, n, d): W_{:,i} x_i
    a = torch.cumsum(contrib, dim=1) - contrib             # exclusive: a_i sums j < i
    h = torch.sigmoid(a + b)
    return torch.sigmoid((h * V[None]).sum(-1) + c)


def _nade_case(N, n, d, seed):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(N, n, generator=g) < 0.5).double()
    W = torch.randn(d, n, generator=g, dtype=torch.float64)
    b = torch.randn(d, generator=g, dtype=torch.float64)
    V = torch.randn(n, d, generator=g, dtype=torch.float64)
    c = torch.randn(n, generator=g, dtype=torch.float64)
    return x, W, b, V, c


NADE_CASES = [
    Case(_nade_case(3, 6, 4, 1), label="3 random vectors, n = 6, d = 4, random W, b, V, c"),
    Case(_nade_case(2, 9, 5, 2), label="2 random vectors, n = 9, d = 5, random W, b, V, c"),
    Case(_nade_case(1, 2, 3, 3), label="one vector, n = 2, d = 3"),
]


def _nade_inclusive(x, W, b, V, c):
    a = torch.cumsum(x[:, :, None] * W.T[None], dim=1)     # a_i includes W_{:,i} x_i
    return torch.sigmoid((torch.sigmoid(a + b) * V[None]).sum(-1) + c)


def _nade_logits(x, W, b, V, c):
    contrib = x[:, :, None] * W.T[None]
    h = torch.sigmoid(torch.cumsum(contrib, dim=1) - contrib + b)
    return (h * V[None]).sum(-1) + c


def _nade_no_b(x, W, b, V, c):
    return nade_recursive(x, W, torch.zeros_like(b), V, c)


def _nade_no_hidden_sigmoid(x, W, b, V, c):
    contrib = x[:, :, None] * W.T[None]
    h = torch.cumsum(contrib, dim=1) - contrib + b
    return torch.sigmoid((h * V[None]).sum(-1) + c)


NADE_MISTAKES = [
    Mistake("sees x_i", "x̂_i must be computed from a_i *before* adding W_{:,i} x_i: the update "
            "a_{i+1} = a_i + W_{:,i} x_i comes after x̂_i, or x̂_i sees the pixel it predicts.",
            fn=_nade_inclusive),
    Mistake("logits", "x̂_i is a probability: apply σ to V_{i,:} h_i + c_i.", fn=_nade_logits),
    Mistake("no b", "h_i = σ(a_i + b): the bias b is added to every a_i (a_1 = 0 itself has "
            "no bias).", fn=_nade_no_b),
    Mistake("linear hidden", "h_i = σ(a_i + b): the hidden units go through a sigmoid before V.",
            fn=_nade_no_hidden_sigmoid),
]


def check_nade_recursive(student_fn):
    return check_function(student_fn, nade_recursive, NADE_CASES, mistakes=NADE_MISTAKES,
                          exercise="nade_recursive")


# --------------------------------------------------------------------------- §6.3 MADE


def output_mask(m_L, m_0):
    """M^V (n, H_L): M^V_ij = 1{m^(L)(j) < m^(0)(i)}, float."""
    return (m_L[None, :] < m_0[:, None]).float()


def _longs(*values):
    return torch.tensor(values, dtype=torch.long)


OUTPUT_MASK_CASES = [
    Case((_longs(2, 1, 2, 2), _longs(3, 1, 2)),
         label="m^(L) = (2, 1, 2, 2), ordering m^(0) = (3, 1, 2)"),
    Case((_longs(1, 4, 2, 3, 3, 1), _longs(2, 5, 1, 4, 3)),
         label="m^(L) = (1, 4, 2, 3, 3, 1), ordering m^(0) = (2, 5, 1, 4, 3)"),
    Case((_longs(1, 1, 2), _longs(1, 2, 3, 4)),
         label="m^(L) = (1, 1, 2), natural ordering (1, 2, 3, 4)"),
]

OUTPUT_MASK_MISTAKES = [
    Mistake("≤", "At the output the degree must *strictly* increase: with ≤, output i is "
            "connected to units of degree m^(0)(i), which may depend on x_i itself.",
            fn=lambda m_L, m_0: (m_L[None, :] <= m_0[:, None]).float()),
    Mistake("transposed", "M^V has one row per output i and one column per hidden unit j: "
            "shape (n, H_L), like the weight V it masks.",
            predicate=lambda got, exp: tuple(got.shape) == tuple(exp.shape)[::-1]),
    Mistake("reversed", "The comparison is the wrong way round: hidden unit j may feed output "
            "i when m^(L)(j) < m^(0)(i), i.e. the unit depends only on inputs before i.",
            fn=lambda m_L, m_0: (m_L[None, :] > m_0[:, None]).float()),
    Mistake("positions", "Output i carries the degree m^(0)(i) of input i (its place in the "
            "ordering), not its index i: use m_0.",
            fn=lambda m_L, m_0: (m_L[None, :] < torch.arange(1, len(m_0) + 1)[:, None]).float()),
]


def check_output_mask(student_fn):
    return check_function(student_fn, output_mask, OUTPUT_MASK_CASES,
                          mistakes=OUTPUT_MASK_MISTAKES, exercise="output_mask")


BREAK_OUTPUT_OPTIONS = {
    "a": "The Jacobian test: a hidden unit of degree m^(0)(i) depends on x_i, and with ≤ it "
         "now feeds output i, so ∂x̂_i/∂x_i ≠ 0 and the permuted Jacobian gets a nonzero "
         "diagonal. (Only the output of degree n escapes: no hidden unit has degree n.)",
    "b": "No check fails? Hidden degrees only go up to n − 1, but that protects only the "
         "output of degree n. For any other output i a hidden unit of degree m^(0)(i) may "
         "carry x_i straight to x̂_i.",
    "c": "It is the other way round: the output of degree n is the only one that cannot see "
         "its own input, because no hidden unit has degree n.",
    "d": "The shapes do not change: M^V is (n, H_L) whichever comparison fills it, so the "
         "forward pass runs; only which entries are 1 changes.",
}


def check_break_output_rule(answer):
    return check_choice(answer, "a", BREAK_OUTPUT_OPTIONS,
                        exercise="break it: M^V with ≤ instead of <")


# The layout the notebook's widget used to show by default: every unit of the second hidden
# layer has degree 2.
DISCONNECTED_DEGREES = [_longs(3, 1, 2), _longs(2, 1, 2, 2), _longs(2, 2, 2, 2)]


def disconnected_outputs(degrees):
    """Indices i (from 1) of the outputs x̂_i with no path from any input, sorted."""
    from mplib.masked import connectivity, made_masks

    C = connectivity(made_masks(degrees))
    return [i + 1 for i in range(C.shape[0]) if float(C[i].sum()) == 0]


DISCONNECTED = disconnected_outputs(DISCONNECTED_DEGREES)        # [2, 3]

DISCONNECTED_MISTAKES = [
    Mistake("only the first", "x̂_2 (degree 1) is disconnected by design. But x̂_3 has degree 2 "
            "and needs a last-layer unit of degree < 2, that is of degree 1: is there one?",
            value=[2]),
    Mistake("forgot the first", "x̂_3 is right. x̂_2 has degree 1, first in the ordering: no "
            "unit has a degree below 1, so it never gets an input (p(x_2) is a marginal).",
            value=[3]),
    Mistake("degrees", "Those look like degrees. Answer with the index i of x̂_i; output i "
            "carries m^(0)(i): x̂_1 has degree 3, x̂_2 degree 1, x̂_3 degree 2.",
            value=[1, 2]),
    Mistake("none", "Look at the output mask: M^V_ij = 1{m^(2)(j) < m^(0)(i)}. Which rows "
            "of it are all zero?", value=[]),
]


def check_disconnected(answer):
    """``answer``: a function returning the list of disconnected output indices (from 1)."""
    name = "disconnected outputs"
    got, early = _resolve_answer(answer, name)
    if early is not None:
        return _report(early)
    if isinstance(got, (set, frozenset, tuple)):
        got = list(got)
    if not isinstance(got, list) or not all(isinstance(v, int) for v in got):
        return _report(Feedback(name, "failed", f"✗ {name}: return a list of output indices "
                                f"such as [1, 3]; got {got!r}."))
    got = sorted(got)
    if got == DISCONNECTED:
        return _report(Feedback(name, "passed", f"✓ {name}: {DISCONNECTED} is right. x̂_2 "
                                "models p(x_2), as intended, but x̂_3 models p(x_3) instead "
                                "of p(x_3 | x_2): the degrees, not the data, removed that "
                                "dependency."))
    text = f"✗ {name}: {got} is not it."
    hit = next((m for m in DISCONNECTED_MISTAKES if m.value == got), None)
    if hit is None and any(not 1 <= v <= 3 for v in got):
        text += "\n  Hint: the outputs are x̂_1, x̂_2, x̂_3: answer with indices from 1 to 3."
    elif hit is not None:
        text += f"\n  Hint: {hit.hint}"
    return _report(Feedback(name, "failed", text, hit.name if hit else None))


__all__ = ["check_parameter_counts", "check_fvsbn_log_prob", "check_nade_recursive",
           "check_output_mask", "check_break_output_rule", "check_disconnected",
           "fvsbn_log_prob", "nade_recursive", "output_mask", "disconnected_outputs",
           "FVSBN_CASES", "NADE_CASES", "OUTPUT_MASK_CASES"]
