"""Chapter 6b's exercises (PixelCNN §6.4, WaveNet §6.5): references, test inputs, known mistakes.

Each ``check_*`` function is what a check cell of notebook 06b calls with the student's answer.
The references here are written independently of the notebook and of :mod:`mplib.pixelcnn` /
:mod:`mplib.wavenet` (the tests compare them), so an edited solution cannot pass its own check.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import checks
from mplib.exercises import Case, Mistake, check_choice, check_function, check_value

# --------------------------------------------------------------------------- §6.4 the mask


def mask(k, mask_type):
    """The k×k PixelCNN mask: 1 above the centre row and left of the centre in the centre row;
    the centre itself 1 for type "B", 0 for type "A"; 0 everywhere after the centre."""
    k = checks.integer(k, "k")
    if k % 2 == 0:
        raise ValueError(f"k must be odd (the mask is centred), got {k}")
    checks.choice(mask_type, "mask_type", ("A", "B"))
    r = k // 2
    M = torch.zeros(k, k)
    M[:r, :] = 1
    M[r, :r] = 1
    M[r, r] = float(mask_type == "B")
    return M


MASK_CASES = [Case((k, t), label=f"k = {k}, type {t}")
              for k, t in ((3, "A"), (3, "B"), (5, "A"), (5, "B"), (7, "A"), (1, "B"))]


def _mask_swapped(k, mask_type):
    return mask(k, "B" if mask_type == "A" else "A")


def _mask_whole_centre_row(k, mask_type):
    M = mask(k, mask_type)
    M[k // 2, k // 2 + 1:] = 1
    return M


def _mask_transposed(k, mask_type):
    return mask(k, mask_type).T.contiguous()


def _mask_rows_above_only(k, mask_type):
    M = mask(k, mask_type)
    M[k // 2, :k // 2] = 0
    return M


MASK_MISTAKES = [
    Mistake("A and B swapped", "Type A is the *first* layer: it must hide the centre, the very "
            "pixel x_i it predicts. Type B keeps the centre.", fn=_mask_swapped),
    Mistake("whole centre row", "In raster order the pixels right of the centre in its own row "
            "come *after* it: keep only b < r in the centre row.", fn=_mask_whole_centre_row),
    Mistake("transposed", "Rows are the first index (a), columns the second (b): the mask keeps "
            "whole rows above the centre, and your mask keeps whole columns left of it.",
            fn=_mask_transposed),
    Mistake("centre row dropped", "The pixels left of the centre in the same row come before "
            "it in raster order and must stay visible (a = r and b < r).",
            fn=_mask_rows_above_only),
]


def check_mask(student_fn):
    return check_function(student_fn, mask, MASK_CASES, mistakes=MASK_MISTAKES, exercise="mask")


# --------------------------------------------------------------------------- §6.4 blind spot


def blind_spot(L):
    """The blind spot of L stacked masked 3×3 layers (type A, then B) as offsets (a, b): the
    pixel (i − a, j + b) is within reach but unseen, exactly when 1 ≤ a < b ≤ L."""
    L = checks.integer(L, "L")
    return {(a, b) for b in range(1, L + 1) for a in range(1, b)}


def _as_sorted_pairs(offsets):
    """Any collection of (a, b) pairs as a sorted (n, 2) integer array (the order is free)."""
    try:
        pairs = sorted((int(a), int(b)) for a, b in offsets)
    except (TypeError, ValueError):
        raise TypeError(f"return a set of (a, b) pairs of ints, got {offsets!r}"[:120]) from None
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _sorted_blind_spot(L):
    return _as_sorted_pairs(blind_spot(L))


BLIND_SPOT_CASES = [Case((L,), label=f"L = {L}") for L in (1, 2, 3, 4, 6)]

BLIND_SPOT_MISTAKES = [
    Mistake("diagonal included", "(i − a, j + a) is reached: every layer may step one row up and "
            "one column right at once, so a layers get a columns to the right. Only b > a is "
            "out of reach.",
            fn=lambda L: _as_sorted_pairs((a, b) for a in range(1, L + 1)
                                          for b in range(a, L + 1))),
    Mistake("whole block", "Not the whole up-right square: the pixels with b ≤ a are seen.",
            fn=lambda L: _as_sorted_pairs((a, b) for a in range(1, L + 1)
                                          for b in range(1, L + 1))),
    Mistake("one layer short", "L layers of 3×3 reach L rows up and L columns to each side: "
            "b runs up to L, not L − 1.",
            fn=lambda L: _as_sorted_pairs((a, b) for b in range(1, L) for a in range(1, b))),
    Mistake("left side", "b counts columns to the *right* (j + b, b > 0): everything to the "
            "left in the rows above is seen.",
            fn=lambda L: _as_sorted_pairs((a, -b) for b in range(1, L + 1) for a in range(1, b))),
]


def check_blind_spot(student_fn):
    def normalised(L):
        return _as_sorted_pairs(student_fn(L))
    if student_fn is None or student_fn is Ellipsis or not callable(student_fn):
        normalised = student_fn
    else:
        normalised.__name__ = "blind_spot"
    return check_function(normalised, _sorted_blind_spot, BLIND_SPOT_CASES,
                          mistakes=BLIND_SPOT_MISTAKES, exercise="blind_spot")


# --------------------------------------------------------------------------- §6.4 break it

VERTICAL_LEAK_OPTIONS = {
    "a": "It does leak. The vertical features are added into the horizontal stack in every "
         "layer, so whatever the vertical stack sees, the output sees too.",
    "b": "The first vertical layer at (i, j) now reads x_{i,j+1} and x_{i,j+2}, which come "
         "after x_ij in raster order. Its features flow into the horizontal stack, so the logit "
         "of pixel (i, j) depends on later pixels: the full causality check (every pixel "
         "flipped) finds changed conditionals above the diagonal.",
    "c": "A pixel flipped at the start of a row, (4, 0), has no earlier pixel in its own row to "
         "the left that could see it, and rows above never read row 4: such a check passes "
         "even with this leak. Only flipping every pixel (or the full Jacobian) catches it.",
    "d": "log p(x) = Σ log p(x_i | ...) holds for any logits, causal or not: that check tests "
         "the sum, not the conditioning.",
}


def check_vertical_leak(answer):
    return check_choice(answer, "b", VERTICAL_LEAK_OPTIONS,
                        exercise="break it: the vertical stack sees its own row")


# --------------------------------------------------------------------------- §6.5 receptive field

RF_DILATIONS = (1, 2, 4, 8, 1, 2, 4, 8)
RF_KERNEL = 2
RF_EXPECTED = 1 + sum((RF_KERNEL - 1) * d for d in RF_DILATIONS)   # 31

RF_MISTAKES = [
    Mistake("two to the L", "R = 2^L holds for ONE block of doubling dilations 1, 2, ..., "
            "2^(L−1). Here the dilations restart: use R = 1 + Σ_ℓ (k − 1) d_ℓ.",
            value=2 ** len(RF_DILATIONS)),
    Mistake("plus one missing", "Σ_ℓ (k − 1) d_ℓ counts how far back the stack reaches; the "
            "present sample x_t itself adds 1.", value=RF_EXPECTED - 1),
    Mistake("one block", "That is the receptive field of the first block of four layers; the "
            "second block widens it by another 1 + 2 + 4 + 8.", value=2 ** 4),
    Mistake("blocks added", "Two blocks of 16 do not make 32: the second block starts from the "
            "first block's outputs, so the two windows share a sample. Add the reaches "
            "(k − 1) d_ℓ, then 1 once.", value=2 * 2 ** 4),
]


def check_receptive_field(answer):
    return check_value(answer, RF_EXPECTED, mistakes=RF_MISTAKES,
                       exercise=f"receptive field of dilations {list(RF_DILATIONS)}",
                       explanation="The cell below measures it with autograd.")


# --------------------------------------------------------------------------- §6.5 μ-law


def mu_law_encode(x, mu=255):
    """round((F(x) + 1)/2 · μ) with F(x) = sign(x) ln(1 + μ|x|) / ln(1 + μ), as int64."""
    x = torch.as_tensor(x, dtype=torch.float64)
    F_x = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    return torch.round((F_x + 1) / 2 * mu).long()


def mu_law_decode(q, mu=255):
    """y = 2q/μ − 1, then x̂ = sign(y) ((1 + μ)^|y| − 1) / μ (float32)."""
    y = 2 * torch.as_tensor(q, dtype=torch.float64) / mu - 1
    return (torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu).float()


_MU_X = [-1.0, -0.5, -0.1, -0.01, 0.0, 0.003, 0.02, 0.2, 0.7, 1.0]
MU_X = torch.tensor(_MU_X)
MU_Q = torch.tensor([0, 1, 17, 64, 100, 127, 128, 129, 160, 200, 254, 255])

ENCODE_CASES = [
    Case((MU_X,), label=f"x = {_MU_X}"),
    Case((torch.linspace(-1, 1, 201),), label="x = 201 points from −1 to 1"),
    Case((torch.tensor([-0.8, -0.05, 0.0, 0.05, 0.8]),), {"mu": 15},
         label="x = [−0.8, −0.05, 0, 0.05, 0.8] with μ = 15"),
]

DECODE_CASES = [
    Case((MU_Q,), label=f"q = {MU_Q.tolist()}"),
    Case((torch.arange(256),), label="q = 0, 1, ..., 255"),
    Case((torch.arange(16),), {"mu": 15}, label="q = 0, ..., 15 with μ = 15"),
]


def _encode_unnormalised(x, mu=255):
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.round((torch.sign(x) * torch.log1p(mu * x.abs()) + 1) / 2 * mu).long()


def _encode_no_sign(x, mu=255):
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.round((torch.log1p(mu * x.abs()) / math.log1p(mu) + 1) / 2 * mu).long()


def _encode_truncated(x, mu=255):
    x = torch.as_tensor(x, dtype=torch.float64)
    return ((torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu) + 1) / 2 * mu).long()


def _encode_mu_plus_one(x, mu=255):
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.round((torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu) + 1) / 2
                       * (mu + 1)).long()


ENCODE_MISTAKES = [
    Mistake("not normalised", "F(x) must lie in [−1, 1]: divide ln(1 + μ|x|) by ln(1 + μ).",
            fn=_encode_unnormalised),
    Mistake("sign lost", "Negative amplitudes must land in the lower classes: F(x) keeps the "
            "sign of x, sign(x) · ln(1 + μ|x|) / ln(1 + μ).", fn=_encode_no_sign),
    Mistake("truncated", "Round to the nearest class: .long() alone cuts the fraction off, so "
            "every value moves down by up to a whole class.", fn=_encode_truncated),
    Mistake("times 256", "The classes are 0..μ (μ + 1 = 256 of them): scale (F + 1)/2 by μ, "
            "so that x = 1 gives class μ = 255, not 256.", fn=_encode_mu_plus_one),
]


def _decode_no_rescale(q, mu=255):
    y = torch.as_tensor(q, dtype=torch.float64) / mu
    return (torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu).float()


def _decode_exp(q, mu=255):
    y = 2 * torch.as_tensor(q, dtype=torch.float64) / mu - 1
    return (torch.sign(y) * (torch.exp(y.abs()) - 1) / mu).float()


def _decode_no_minus_one(q, mu=255):
    y = 2 * torch.as_tensor(q, dtype=torch.float64) / mu - 1
    return (torch.sign(y) * (1 + mu) ** y.abs() / mu).float()


def _decode_no_sign(q, mu=255):
    y = 2 * torch.as_tensor(q, dtype=torch.float64) / mu - 1
    return (((1 + mu) ** y.abs() - 1) / mu).float()


DECODE_MISTAKES = [
    Mistake("y not rescaled", "Undo the last step of encoding first: classes 0..μ back to "
            "y ∈ [−1, 1] is y = 2q/μ − 1, not q/μ.", fn=_decode_no_rescale),
    Mistake("exp", "F⁻¹ has base 1 + μ, not e: x̂ = sign(y) ((1 + μ)^|y| − 1)/μ, which undoes "
            "ln(1 + μ|x|)/ln(1 + μ).", fn=_decode_exp),
    Mistake("minus one", "Solve |y| ln(1 + μ) = ln(1 + μ|x|) for |x|: (1 + μ)^|y| = 1 + μ|x|, "
            "so subtract the 1 before dividing by μ.", fn=_decode_no_minus_one),
    Mistake("sign lost", "The classes below μ/2 are negative amplitudes: multiply by sign(y).",
            fn=_decode_no_sign),
]


def check_mu_law_encode(student_fn):
    return check_function(student_fn, mu_law_encode, ENCODE_CASES, mistakes=ENCODE_MISTAKES,
                          atol=0, rtol=0, exercise="mu_law_encode")


def check_mu_law_decode(student_fn):
    return check_function(student_fn, mu_law_decode, DECODE_CASES, mistakes=DECODE_MISTAKES,
                          atol=1e-6, rtol=1e-5, exercise="mu_law_decode")
