"""Chapter 3's exercises: reference solutions, test inputs and known mistakes.

Each ``check_*`` function is what a check cell of notebook 03 calls with the student's answer;
the references here are independent of the notebook, so a solution edited there cannot make
its own check pass.
"""

from __future__ import annotations

import torch

from . import checks
from mplib.exercises import (Case, Feedback, Mistake, _not_tried, _raised, _report, check_choice,
                             check_function, value_feedback)

# --------------------------------------------------------------------------- §3.1 upsampling

# An 8×8 input of ones, F.conv_transpose2d with a 5×5 kernel of ones and stride 2.
TCONV_H, TCONV_K, TCONV_S = 8, 5, 2
TCONV_SIZE = (TCONV_H - 1) * TCONV_S + TCONV_K                       # 19
# Along one axis a pixel is covered by ceil(5/2) = 3 or floor(5/2) = 2 copies; in 2-D the
# counts multiply: 2·2, 2·3, 3·3.
TCONV_VALUES = [4.0, 6.0, 9.0]

TCONV_SIZE_MISTAKES = [
    Mistake("H times s", "H·s is the size of nearest-neighbour or bed-of-nails upsampling. The "
            "transposed convolution places H kernel copies s apart, the last one starting at "
            "(H − 1)·s, and that copy is k wide.", value=TCONV_H * TCONV_S),
    Mistake("H·s + k", "The last copy starts at (H − 1)·s, not at H·s: count the positions of "
            "the copies from 0.", value=TCONV_H * TCONV_S + TCONV_K),
    Mistake("convolution size", "(H − k)/s + 1 is the size of a strided *convolution*, which "
            "shrinks; the transposed one goes the other way.",
            predicate=lambda got, exp: float(got) < TCONV_H),
]

TCONV_VALUES_MISTAKES = [
    Mistake("one axis", "Those are the counts along one axis. In 2-D a pixel is covered by "
            "(copies along the rows) × (copies along the columns).",
            predicate=lambda got, exp: [float(v) for v in got] == [2.0, 3.0]),
    Mistake("average", "k/s = 2.5 copies per axis is the *average* coverage; a pixel is covered "
            "a whole number of times, ⌊k/s⌋ or ⌈k/s⌉ per axis.",
            predicate=lambda got, exp: any(abs(float(v) - 6.25) < 1e-9 for v in got)),
    Mistake("uniform", "With s = 2 not dividing k = 5 the coverage alternates: more than one "
            "value in the interior (that is the checkerboard).",
            predicate=lambda got, exp: len(got) == 1),
]


def check_transposed_prediction(answer):
    """``answer``: a function returning (output side length, sorted distinct interior values).

    Each part is judged on its own, so that a wrong size does not give the values away.
    """
    name = "transposed convolution, k = 5, s = 2"
    try:
        pair = answer() if callable(answer) else answer
    except NotImplementedError:
        pair = None
    except Exception as exc:  # the student's code: one line, as every checker does
        return _report(_raised(name, exc))
    if pair is None or pair is Ellipsis:
        return _report(_not_tried(name, "the answer is still None"))
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not isinstance(pair[1], (tuple, list))):
        return _report(Feedback(name, "failed", f"✗ {name}: return (size, [values]), a number "
                                f"and a list of numbers; got {pair!r}."))
    values = sorted(float(v) for v in pair[1])
    parts = [value_feedback(pair[0], TCONV_SIZE, mistakes=TCONV_SIZE_MISTAKES,
                            exercise="output size"),
             value_feedback(values, TCONV_VALUES, mistakes=TCONV_VALUES_MISTAKES,
                            exercise="interior values")]
    if all(p.passed for p in parts):
        return _report(Feedback(name, "passed", f"✓ {name}: {TCONV_SIZE} × {TCONV_SIZE}, "
                                f"interior values {TCONV_VALUES}. The cell below computes them."))
    wrong = next(p for p in parts if not p.passed)
    right = sum(p.passed for p in parts)
    text = f"✗ {name}: {right} of 2 right.\n" + "\n".join("  " + p.text.replace("\n", "\n  ")
                                                          for p in parts)
    return _report(Feedback(name, "failed", text, mistake=f"{wrong.exercise}: {wrong.mistake}"))


def bilinear_kernel(s):
    """The (k × k) transposed-convolution kernel of bilinear upsampling by an integer s ≥ 1.

    k = 2s − (s mod 2); along each axis the weights fall linearly from 1 at the centre c to 0
    at distance s, w[m] = 1 − |m − c| / s, with c = (k − 1)/2 for odd s and s − 1/2 for even
    s; the 2-D kernel is the outer product w wᵀ.
    """
    s = checks.integer(s, "s")
    k = 2 * s - s % 2
    c = (k - 1) / 2 if s % 2 else s - 0.5
    m = torch.arange(k, dtype=torch.float64)
    w = 1 - (m - c).abs() / s
    return w[:, None] * w[None, :]


def bilinear_upsample(x, s, kernel=bilinear_kernel):
    """x (H × W) upsampled by s with ``F.conv_transpose2d`` and ``kernel(s)``.

    The input is padded by one pixel (edge values repeated) and the result cropped to sH × sW,
    which makes it equal to ``F.interpolate(mode="bilinear", align_corners=False)``.
    """
    import torch.nn.functional as F
    K = torch.as_tensor(kernel(s), dtype=x.dtype)
    k = K.shape[0]
    padded = F.pad(x[None, None], (1, 1, 1, 1), mode="replicate")
    y = F.conv_transpose2d(padded, K[None, None], stride=s)[0, 0]
    # Input pixel i (i + 1 after padding) has its centre at s(i + 1) + (k − 1)/2 in y and at
    # s·i + (s − 1)/2 in the output: crop the difference.
    o = s + (k - s) // 2
    H, W = x.shape
    return y[o:o + s * H, o:o + s * W]


BILINEAR_CASES = [Case((s,), label=f"s = {s}") for s in (2, 3, 4, 1)]


def _not_separable(s):
    k = 2 * s - s % 2
    c = (k - 1) / 2 if s % 2 else s - 0.5
    m = torch.arange(k, dtype=torch.float64)
    d = ((m[:, None] - c) ** 2 + (m[None, :] - c) ** 2).sqrt()
    return (1 - d / s).clamp_min(0)


BILINEAR_MISTAKES = [
    Mistake("one axis", "That is the 1-D profile w. The 2-D kernel is the outer product "
            "w[:, None] * w[None, :] (bilinear = linear along the rows times linear along the "
            "columns).", predicate=lambda got, exp: got.ndim == 1),
    Mistake("centre off", "The weights are not symmetric about the kernel's centre: for even s "
            "the centre lies between two taps, at s − 1/2, not at s.",
            fn=lambda s: (lambda w: w[:, None] * w[None, :])(
                (1 - (torch.arange(2 * s - s % 2, dtype=torch.float64) - s).abs() / s)
                .clamp_min(0))),
    Mistake("not separable", "Weights by the Euclidean distance from the centre give a cone, "
            "not bilinear interpolation: multiply the 1-D weights instead.", fn=_not_separable),
    Mistake("scale", "Right shape, wrong scale: every output pixel's weights must add up to 1 "
            "(w[m] = 1 − |m − c|/s, which is 1 at the centre), or a constant image changes "
            "brightness.", predicate=lambda got, exp: got.shape == exp.shape
            and torch.allclose(got / got.max(), exp / exp.max(), atol=1e-6)),
]


def check_bilinear_kernel(student_fn):
    return check_function(student_fn, bilinear_kernel, BILINEAR_CASES,
                          mistakes=BILINEAR_MISTAKES, exercise="bilinear_kernel")


CHECKERBOARD_OPTIONS = {
    "a": "k = 6, s = 3: s divides k, so every interior pixel is covered by 6/3 = 2 copies along "
         "each axis; no checkerboard.",
    "b": "k = 6, s = 4: 4 does not divide 6, so a pixel is covered ⌊6/4⌋ = 1 or ⌈6/4⌉ = 2 "
         "times depending on its position modulo 4: a checkerboard.",
    "c": "k = s = 2, the U-net's own choice: the copies tile the output exactly, each pixel "
         "covered once.",
    "d": "k = 9, s = 3: 3 divides 9, every interior pixel is covered 3 times along each axis.",
}


def check_checkerboard(answer):
    return check_choice(answer, "b", CHECKERBOARD_OPTIONS,
                        exercise="which (k, s) gives a checkerboard")


# --------------------------------------------------------------------------- §3.2 U-net

# Three classes present with different IoUs, class 3 absent from both maps.
MIOU_TARGET = torch.tensor([[0, 0, 0, 1],
                            [0, 0, 1, 1],
                            [2, 2, 2, 0]])
MIOU_PRED = torch.tensor([[0, 0, 1, 1],
                          [0, 0, 0, 1],
                          [2, 0, 0, 0]])


def mean_iou(pred, target, num_classes):
    """Mean over classes 0..num_classes−1 of |{pred = c} ∩ {target = c}| over the size of
    their union, skipping classes absent from both maps (union 0)."""
    ious = []
    for c in range(num_classes):
        p, t = pred == c, target == c
        union = (p | t).sum().item()
        if union:
            ious.append((p & t).sum().item() / union)
    return sum(ious) / len(ious)


def _ious(pred, target, num_classes):
    return [((pred == c) & (target == c)).sum().item() / ((pred == c) | (target == c)).sum().item()
            if ((pred == c) | (target == c)).any() else None for c in range(num_classes)]


def _absent_as_zero(pred, target, num_classes):
    return sum(v or 0.0 for v in _ious(pred, target, num_classes)) / num_classes


def _no_background(pred, target, num_classes):
    v = [x for x in _ious(pred, target, num_classes)[1:] if x is not None]
    return sum(v) / len(v)


def _pixel_accuracy(pred, target, num_classes):
    return (pred == target).double().mean().item()


def _frequency_weighted(pred, target, num_classes):
    v = _ious(pred, target, num_classes)
    n = target.numel()
    return sum((target == c).sum().item() / n * x for c, x in enumerate(v) if x is not None)


MIOU_EXAMPLE = mean_iou(MIOU_PRED, MIOU_TARGET, 4)

MIOU_MISTAKES_BY_HAND = [
    Mistake("absent as zero", "Class 3 appears in neither map: its IoU is 0/0, undefined, and "
            "it is skipped; do not count it as 0 or divide by 4.",
            value=_absent_as_zero(MIOU_PRED, MIOU_TARGET, 4)),
    Mistake("no background", "Background is a class too: the mean includes IoU₀.",
            value=_no_background(MIOU_PRED, MIOU_TARGET, 4)),
    Mistake("pixel accuracy", "That is the fraction of right pixels, not an IoU: compute "
            "intersection over union for each class.",
            value=_pixel_accuracy(MIOU_PRED, MIOU_TARGET, 4)),
    Mistake("frequency weighted", "Each present class counts equally in the *mean* IoU, "
            "however many pixels it has.", value=_frequency_weighted(MIOU_PRED, MIOU_TARGET, 4)),
    Mistake("one class", "That is the IoU of one class only; the mean runs over every class "
            "present in either map.", predicate=lambda got, exp: any(
                v is not None and abs(float(got) - v) < 1e-3
                for v in _ious(MIOU_PRED, MIOU_TARGET, 4))),
]


def check_miou_by_hand(answer):
    return _report(value_feedback(answer, MIOU_EXAMPLE, mistakes=MIOU_MISTAKES_BY_HAND, tol=1e-3,
                                  exercise="mIoU by hand",
                                  explanation="The cell below checks it with "
                                              "segmentation.mean_iou."))


def _labels(h, w, classes, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.tensor(classes)[torch.randint(len(classes), (h, w), generator=g)]


MIOU_CASES = [
    Case((MIOU_PRED, MIOU_TARGET, 4), label="the 3×4 example above (class 3 absent)"),
    Case((_labels(6, 7, [0, 0, 0, 1, 2], 1), _labels(6, 7, [0, 0, 1, 2, 2], 2), 4),
         label="random 6×7 maps, class 3 absent, background most frequent"),
    Case((_labels(5, 5, [0, 1, 3], 3), _labels(5, 5, [0, 0, 0, 1], 4), 4),
         label="random 5×5 maps; class 3 only predicted (IoU 0), class 2 absent"),
]

MIOU_FN_MISTAKES = [
    Mistake("absent as zero", "A class absent from both maps has no IoU (0/0): skip it instead "
            "of counting 0 and dividing by num_classes.", fn=_absent_as_zero),
    Mistake("no background", "Background (class 0) is a class too: include IoU₀ in the mean.",
            fn=_no_background),
    Mistake("pixel accuracy", "That is the fraction of right pixels: compute the IoU of each "
            "class, then average.", fn=_pixel_accuracy),
    Mistake("frequency weighted", "Each present class counts equally in the mean, however many "
            "pixels it has.", fn=_frequency_weighted),
]


def check_mean_iou(student_fn):
    return check_function(student_fn, mean_iou, MIOU_CASES, mistakes=MIOU_FN_MISTAKES,
                          exercise="mean_iou")


SKIP_ORDER_OPTIONS = {
    "a": "It does not get as far as training: at the first decoder stage the upsampled features "
         "are 16 × 16, but copies[0] is encoder 1's 32 × 32 map.",
    "b": "torch.cat joins along the channels and needs every other dimension equal: 16 × 16 "
         "against 32 × 32 raises a RuntimeError on the first forward pass.",
    "c": "The order matters: each copy has the resolution of its own level, and the decoder "
         "climbs the levels in the reverse order of the encoder.",
    "d": "The forward pass stops at the first concatenation, long before the head.",
}


def check_skip_order(answer):
    return check_choice(answer, "b", SKIP_ORDER_OPTIONS,
                        exercise="break it: copies in the wrong order")
