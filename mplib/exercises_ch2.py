"""Chapter 2's exercises: reference solutions, test inputs and known mistakes.

Each ``check_*`` function is what a check cell of notebook 02 calls with the student's answer;
the references here are independent of the notebook, so a solution edited there cannot make
its own check pass. The convention is the notebook's: ``A ⋆ B`` is the correlation in which A
slides over B, ``(A ⋆ B)[i, j] = Σ_m Σ_n A[m, n] B[i + m, j + n]``.
"""

from __future__ import annotations

import torch

from mplib.exercises import (Case, Feedback, Mistake, _not_tried, _raised, _report, check_choice,
                             check_function, check_value, value_feedback)
from mplib.receptive_field import receptive_field, stack

# --------------------------------------------------------------------------- §2.1 convolution


def correlate_any(I, K):
    """Valid correlation (K ⋆ I)[i, j] = Σ_m Σ_n K[m, n] I[i + m, j + n], m < k_h, n < k_w.

    Any kernel shape, even sizes included; the output is (H − k_h + 1) × (W − k_w + 1).
    """
    kh, kw = K.shape
    H, W = I.shape
    out = torch.zeros(H - kh + 1, W - kw + 1, dtype=torch.promote_types(I.dtype, K.dtype))
    for i in range(H - kh + 1):
        for j in range(W - kw + 1):
            out[i, j] = (K * I[i:i + kh, j:j + kw]).sum()
    return out


def _grid(h, w, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(h, w, generator=g, dtype=torch.float64)


CORRELATE_CASES = [
    Case((_grid(6, 5, 1), _grid(3, 3, 2)), label="a 6×5 image with a random 3×3 kernel"),
    Case((_grid(5, 6, 0), torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)),
         label="a 5×6 image with the 2×2 kernel [[1, 2], [3, 4]] (an even kernel)"),
    Case((_grid(4, 7, 3), _grid(1, 4, 4)), label="a 4×7 image with a random 1×4 kernel"),
    Case((_grid(6, 6, 5), _grid(3, 2, 6)), label="a 6×6 image with a random 3×2 kernel"),
]


def _shape_off(got, expected, rows: bool, cols: bool) -> bool:
    (gh, gw), (eh, ew) = tuple(got.shape), tuple(expected.shape)
    return (gh != eh) == rows and (gw != ew) == cols


CORRELATE_MISTAKES = [
    Mistake("convolution", "Your numbers are those of the convolution: the kernel is mirrored. "
            "Correlation multiplies K[m, n] with I[i + m, j + n], both indices moving the same "
            "way.",
            fn=lambda I, K: correlate_any(I, K.flip(0, 1))),
    Mistake("one short", "The output is one row and one column too small: the kernel fits at "
            "H − k_h + 1 positions (i = 0, …, H − k_h), not H − k_h.",
            predicate=lambda got, exp: tuple(got.shape) == (exp.shape[0] - 1, exp.shape[1] - 1)),
    Mistake("square kernel", "The number of rows or of columns of your output is wrong for this "
            "non-square kernel: use k_h = K.shape[0] for the rows and k_w = K.shape[1] for the "
            "columns, not one size for both.",
            predicate=lambda got, exp: _shape_off(got, exp, True, False)
            or _shape_off(got, exp, False, True)),
]


def check_correlate_any(student_fn):
    return check_function(student_fn, correlate_any, CORRELATE_CASES, mistakes=CORRELATE_MISTAKES,
                          exercise="correlate_any")


def toeplitz_1d(k, n):
    """(n + m − 1) × n matrix T with T @ x = the full 1-D convolution of x with k (m = len(k))."""
    m = len(k)
    T = torch.zeros(n + m - 1, n, dtype=k.dtype)
    for col in range(n):
        T[col:col + m, col] = k
    return T


TOEPLITZ_CASES = [
    Case((torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), 4), label="k = (1, 2, 3), n = 4"),
    Case((torch.tensor([2.0, -1.0], dtype=torch.float64), 5), label="k = (2, −1), n = 5"),
    Case((torch.tensor([0.5, 1.0, -2.0, 4.0], dtype=torch.float64), 3),
         label="k = (0.5, 1, −2, 4), n = 3"),
]

TOEPLITZ_MISTAKES = [
    Mistake("transposed", "Your matrix is n × (n + m − 1): it must multiply the signal x (length "
            "n) from the right, so it has n columns and one row per output, n + m − 1 rows.",
            fn=lambda k, n: toeplitz_1d(k, n).T),
    Mistake("flipped", "Each column holds the kernel reversed: that matrix computes the "
            "correlation. For the convolution, column c holds k₁, k₂, … from row c downwards.",
            fn=lambda k, n: toeplitz_1d(k.flip(0), n)),
    Mistake("valid only", "You kept only the rows where the whole kernel overlaps x (the valid "
            "part); the notes' matrix is the full convolution, n + m − 1 rows.",
            fn=lambda k, n: toeplitz_1d(k, n)[len(k) - 1:n]),
]


def check_toeplitz_1d(student_fn):
    return check_function(student_fn, toeplitz_1d, TOEPLITZ_CASES, mistakes=TOEPLITZ_MISTAKES,
                          exercise="toeplitz_1d")


SYMMETRIC_KERNEL_OPTIONS = {
    "a": "F.conv2d computes a correlation for any kernel, so `assert_close(corr, torch_out)` "
         "holds for a Gaussian as well.",
    "b": "A Gaussian is symmetric: Rot180(K) = K, so convolution and correlation give the same "
         "numbers, and `assert not torch.allclose(convo, torch_out)` fails. With a symmetric "
         "kernel you cannot tell the two apart.",
    "c": "One check does fail: the one that needs convolution and correlation to differ, which "
         "they no longer do.",
    "d": "Flipping a symmetric kernel changes nothing, so `convo` still equals conv2d with the "
         "flipped kernel.",
}


def check_symmetric_kernel(answer):
    return check_choice(answer, "b", SYMMETRIC_KERNEL_OPTIONS,
                        exercise="break it: a symmetric kernel")


# --------------------------------------------------------------------------- §2.2 CNN

# A 32×32 RGB image -> 8 feature maps of 30×30 with a 3×3 convolution, and a dense layer
# that maps the same image to the same 8·30·30 outputs.
CONV_PARAMS = 3 * 3 * 3 * 8 + 8                          # 224
DENSE_PARAMS = (32 * 32 * 3) * (30 * 30 * 8) + 30 * 30 * 8   # 22,125,600

CONV_PARAMS_MISTAKES = [
    Mistake("no bias", "Count the biases too: one per output channel.", value=3 * 3 * 3 * 8),
    Mistake("no input channels", "Each kernel spans all C_in = 3 input channels: "
            "3 × 3 × C_in × C_out weights, not 3 × 3 × C_out.", value=3 * 3 * 8 + 8),
    Mistake("per position", "The layer shares its kernels across all 30 × 30 positions: its "
            "parameter count does not depend on the image size.",
            predicate=lambda got, exp: float(got) in {exp * 900.0, (exp - 8) * 900.0}),
]

DENSE_PARAMS_MISTAKES = [
    Mistake("no bias", "Count the biases too: one per output unit, 30 · 30 · 8 of them.",
            value=DENSE_PARAMS - 30 * 30 * 8),
    Mistake("no channels", "Both sides have channels: 32 · 32 · 3 inputs and 30 · 30 · 8 "
            "outputs, every input connected to every output.",
            predicate=lambda got, exp: float(got) in {32 * 32 * 30 * 30 + 30 * 30.0,
                                                      32 * 32 * 3 * 30 * 30 + 30 * 30.0,
                                                      32 * 32 * 30 * 30 * 8 + 30 * 30 * 8.0}),
]


def check_parameter_counts(answer):
    """``answer``: a function returning (conv parameters, dense parameters).

    Each count is judged on its own ("too high", "too low" and a hint), so that a wrong count
    does not give the right one away.
    """
    name = "parameter counts"
    try:
        pair = answer() if callable(answer) else answer
    except NotImplementedError:
        pair = None
    except Exception as exc:  # the student's code: one line, as every checker does
        return _report(_raised(name, exc))
    if pair is None or pair is Ellipsis:
        return _report(_not_tried(name, "the answer is still None"))
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        return _report(Feedback(name, "failed", f"✗ {name}: return two numbers, (conv, dense); "
                                f"got {pair!r}."))
    parts = [value_feedback(pair[0], CONV_PARAMS, mistakes=CONV_PARAMS_MISTAKES,
                            exercise="conv layer"),
             value_feedback(pair[1], DENSE_PARAMS, mistakes=DENSE_PARAMS_MISTAKES,
                            exercise="dense layer")]
    if all(p.passed for p in parts):
        return _report(Feedback(name, "passed", f"✓ {name}: conv {CONV_PARAMS:,}, dense "
                                f"{DENSE_PARAMS:,}. Weight sharing: about "
                                f"{DENSE_PARAMS // CONV_PARAMS:,} times fewer parameters."))
    wrong = next(p for p in parts if not p.passed)
    right = sum(p.passed for p in parts)
    text = f"✗ {name}: {right} of 2 right.\n" + "\n".join("  " + p.text.replace("\n", "\n  ")
                                                          for p in parts)
    return _report(Feedback(name, "failed", text, mistake=f"{wrong.exercise}: {wrong.mistake}"))


# conv3, conv3 with stride 2, max pool 2, conv3 with dilation 2
RF_STACK = stack([3, 3, 3], strides=[1, 2, 1], dilations=[1, 1, 2], pools=[1, 2, 1])
RF_SIZE = receptive_field(RF_STACK)[-1].size       # 1 + 2·1 + 2·1 + 1·2 + 4·4 = 23

RF_MISTAKES = [
    Mistake("no strides", "Every layer widens r by (k̂ − 1) units *of the layer below*, and "
            "after strides those units are Π sᵢ input pixels apart: multiply by the jump.",
            value=1 + 2 + 2 + 1 + 4),
    Mistake("no dilation", "The dilated kernel spans k̂ = d(k − 1) + 1 = 5 pixels of its input, "
            "not 3.", value=1 + 2 + 2 + 1 * 2 + 2 * 4),
    Mistake("own stride", "The jump of layer ℓ is the product of the strides *before* it, "
            "Π_{i<ℓ} sᵢ, not including its own stride.",
            value=1 + 2 * 1 + 2 * 2 + 1 * 4 + 4 * 4),
]


def check_receptive_field(answer):
    return check_value(answer, RF_SIZE, mistakes=RF_MISTAKES, exercise="receptive field r",
                       explanation="The all-ones probe below confirms it.")


def maxpool(Z, delta, k, s):
    """Max pooling of Z (H, W) with a k×k window and stride s, and its backward pass.

    Returns (out, delta_prev): out[i, j] = max Z[s·i : s·i + k, s·j : s·j + k] and delta_prev,
    where each delta[i, j] is added to the input that won window (i, j); with s < k windows
    overlap, so one input can collect several gradients.
    """
    H_out, W_out = (Z.shape[0] - k) // s + 1, (Z.shape[1] - k) // s + 1
    out = torch.zeros(H_out, W_out, dtype=Z.dtype)
    delta_prev = torch.zeros_like(Z)
    for i in range(H_out):
        for j in range(W_out):
            window = Z[s * i:s * i + k, s * j:s * j + k]
            out[i, j] = window.max()
            a, b = divmod(int(window.argmax()), k)
            delta_prev[s * i + a, s * j + b] += delta[i, j]
    return out, delta_prev


def _pool_case(h, w, k, s, seed, label):
    g = torch.Generator().manual_seed(seed)
    Z = torch.randn(h, w, generator=g, dtype=torch.float64)
    H_out, W_out = (h - k) // s + 1, (w - k) // s + 1
    delta = torch.rand(H_out, W_out, generator=g, dtype=torch.float64) + 0.5
    return Case((Z, delta, k, s), label=label)


# The same input twice: once with a large value in an overlap (collected by 4 windows).
_peak = _pool_case(5, 5, 3, 2, 7, "").args[0].clone()
_peak[2, 2] = 10.0
POOL_CASES = [
    _pool_case(4, 6, 2, 2, 0, "a 4×6 input, k = 2, s = 2 (no overlap)"),
    Case((_peak, torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64), 3, 2),
         label="a 5×5 input whose maximum 10 sits at [2, 2], k = 3, s = 2 (overlapping windows)"),
    _pool_case(7, 6, 3, 2, 1, "a 7×6 input, k = 3, s = 2"),
    _pool_case(6, 7, 2, 3, 2, "a 6×7 input, k = 2, s = 3 (gaps between windows)"),
]


def _overwrite(Z, delta, k, s):
    out, _ = maxpool(Z, delta, k, s)
    delta_prev = torch.zeros_like(Z)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            a, b = divmod(int(Z[s * i:s * i + k, s * j:s * j + k].argmax()), k)
            delta_prev[s * i + a, s * j + b] = delta[i, j]
    return out, delta_prev


def _spread(Z, delta, k, s):
    out, _ = maxpool(Z, delta, k, s)
    delta_prev = torch.zeros_like(Z)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            delta_prev[s * i:s * i + k, s * j:s * j + k] += delta[i, j] / k ** 2
    return out, delta_prev


POOL_MISTAKES = [
    Mistake("stride is k", "Windows start at s·i, not k·i: the stride and the window size "
            "differ here.", predicate=lambda got, exp: isinstance(got, (tuple, list))
            and len(got) == 2 and got[0].ndim == 2 and got[0].numel() < exp[0].numel()),
    Mistake("overwrite", "Where windows overlap, one input can win several of them: add the "
            "gradients (+=) instead of overwriting (=).", fn=_overwrite),
    Mistake("spread", "The gradient of a max goes only to the input that won it, not spread "
            "over the window (that is average pooling).", fn=_spread),
    Mistake("window offset", "The argmax of a window is relative to the window: add its corner "
            "(s·i, s·j) to get the input's position.",
            predicate=lambda got, exp: torch.allclose(got[0], exp[0])
            and torch.allclose(got[1].sum(), exp[1].sum())
            and not torch.allclose(got[1], exp[1])),
]


def check_maxpool(student_fn):
    return check_function(student_fn, maxpool, POOL_CASES, mistakes=POOL_MISTAKES,
                          exercise="maxpool")
