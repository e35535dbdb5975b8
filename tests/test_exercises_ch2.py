"""Chapter 2's exercise checkers: each accepts its reference, rejects realistic wrong answers with
their own hints, says "not tried yet" for a stub; the references agree with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mplib import conv
from mplib import exercises_ch2 as ch2
from mplib.receptive_field import build_stack, input_gradient


from exercise_support import not_graded, run, stub  # noqa: E402,F401  (not_graded: autouse)


# ---------------------------------------------------------------- wrong answers a student writes


def correlate_convolution(I, K):
    kh, kw = K.shape
    out = torch.zeros(I.shape[0] - kh + 1, I.shape[1] - kw + 1, dtype=I.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = sum(K[m, n] * I[i + kh - 1 - m, j + kw - 1 - n]
                            for m in range(kh) for n in range(kw))
    return out


def correlate_one_short(I, K):
    kh, kw = K.shape
    out = torch.zeros(I.shape[0] - kh, I.shape[1] - kw, dtype=I.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (K * I[i:i + kh, j:j + kw]).sum()
    return out


def correlate_square(I, K):
    k = K.shape[0]                                       # assumes a square kernel
    out = torch.zeros(I.shape[0] - k + 1, I.shape[1] - k + 1, dtype=I.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (K * I[i:i + k, j:j + k]).sum()
    return out


def toeplitz_rows(k, n):
    T = torch.zeros(n, n + len(k) - 1, dtype=k.dtype)
    for r in range(n):
        T[r, r:r + len(k)] = k
    return T


def toeplitz_reversed(k, n):
    T = torch.zeros(n + len(k) - 1, n, dtype=k.dtype)
    for col in range(n):
        T[col:col + len(k), col] = k.flip(0)
    return T


def toeplitz_valid(k, n):
    m = len(k)
    T = torch.zeros(n - m + 1, n, dtype=k.dtype)
    for r in range(n - m + 1):
        T[r, r:r + m] = k.flip(0)
    return T


def maxpool_stride_k(Z, delta, k, s):
    return ch2.maxpool(Z, delta[: (Z.shape[0] - k) // k + 1, : (Z.shape[1] - k) // k + 1], k, k)


def maxpool_overwrite(Z, delta, k, s):
    H_out, W_out = (Z.shape[0] - k) // s + 1, (Z.shape[1] - k) // s + 1
    out, dprev = torch.zeros(H_out, W_out, dtype=Z.dtype), torch.zeros_like(Z)
    for i in range(H_out):
        for j in range(W_out):
            w = Z[s * i:s * i + k, s * j:s * j + k]
            out[i, j] = w.max()
            a, b = divmod(int(w.argmax()), k)
            dprev[s * i + a, s * j + b] = delta[i, j]
    return out, dprev


def maxpool_spread(Z, delta, k, s):
    out = F.max_pool2d(Z[None, None], k, s)[0, 0]
    dprev = torch.zeros_like(Z)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            dprev[s * i:s * i + k, s * j:s * j + k] += delta[i, j] / (k * k)
    return out, dprev


def maxpool_no_offset(Z, delta, k, s):
    out, _ = ch2.maxpool(Z, delta, k, s)
    dprev = torch.zeros_like(Z)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            a, b = divmod(int(Z[s * i:s * i + k, s * j:s * j + k].argmax()), k)
            dprev[a, b] += delta[i, j]
    return out, dprev


def params(conv_count, dense_count):
    return lambda: (conv_count, dense_count)


C, D = ch2.CONV_PARAMS, ch2.DENSE_PARAMS
EXERCISES = {
    # check: (reference answer, [(wrong answer, name of the mistake it should be told), ...])
    ch2.check_correlate_any: (ch2.correlate_any, [
        (correlate_convolution, "convolution"), (correlate_one_short, "one short"),
        (correlate_square, "square kernel")]),
    ch2.check_toeplitz_1d: (ch2.toeplitz_1d, [
        (toeplitz_rows, "transposed"), (toeplitz_reversed, "flipped"),
        (toeplitz_valid, "valid only")]),
    ch2.check_symmetric_kernel: ("b", [("a", "a"), ("c", "c"), ("d", "d")]),
    ch2.check_parameter_counts: (params(C, D), [
        (params(216, D), "conv layer: no bias"), (params(80, D), "conv layer: no input channels"),
        (params(C * 900, D), "conv layer: per position"),
        (params(C, D - 7200), "dense layer: no bias"),
        (params(C, 32 * 32 * 30 * 30 + 900), "dense layer: no channels")]),
    ch2.check_receptive_field: (lambda: ch2.RF_SIZE, [
        (lambda: 10, "no strides"), (lambda: 15, "no dilation"), (lambda: 27, "own stride")]),
    ch2.check_maxpool: (ch2.maxpool, [
        (maxpool_stride_k, "stride is k"), (maxpool_overwrite, "overwrite"),
        (maxpool_spread, "spread"), (maxpool_no_offset, "window offset")]),
}
IDS = [c.__name__ for c in EXERCISES]


def _hints(mistakes, prefix=""):
    return {prefix + m.name: m.hint for m in mistakes}


HINTS = {
    ch2.check_correlate_any: _hints(ch2.CORRELATE_MISTAKES),
    ch2.check_toeplitz_1d: _hints(ch2.TOEPLITZ_MISTAKES),
    ch2.check_symmetric_kernel: ch2.SYMMETRIC_KERNEL_OPTIONS,
    ch2.check_parameter_counts: {**_hints(ch2.CONV_PARAMS_MISTAKES, "conv layer: "),
                                 **_hints(ch2.DENSE_PARAMS_MISTAKES, "dense layer: ")},
    ch2.check_receptive_field: _hints(ch2.RF_MISTAKES),
    ch2.check_maxpool: _hints(ch2.POOL_MISTAKES),
}


def test_every_known_mistake_is_tested():
    for check, hints in HINTS.items():
        tested = {name for _, name in EXERCISES[check][1]}
        assert set(hints) - tested <= {EXERCISES[check][0]}, f"{check.__name__}: untested hints"


@pytest.mark.parametrize("check", EXERCISES, ids=IDS)
def test_reference_passes(check, capsys):
    fb, out = run(check, EXERCISES[check][0], capsys)
    assert fb.passed and out.startswith("✓"), out


@pytest.mark.parametrize("check", EXERCISES, ids=IDS)
def test_realistic_mistakes_get_their_own_hint(check, capsys):
    wrongs = EXERCISES[check][1]
    assert len(wrongs) >= 2
    for answer, mistake in wrongs:
        fb, out = run(check, answer, capsys)
        assert fb.status == "failed" and out.startswith("✗"), out
        assert fb.mistake == mistake, f"{mistake!r} was diagnosed as {fb.mistake!r}:\n{out}"
        assert f"Hint: {HINTS[check][mistake]}" in out


@pytest.mark.parametrize("check", EXERCISES, ids=IDS)
@pytest.mark.parametrize("blank", [stub, None, ...], ids=["stub", "None", "ellipsis"])
def test_unattempted_says_not_tried_yet(check, blank, capsys):
    fb, out = run(check, blank, capsys)
    assert fb.status == "not tried" and "not tried yet" in out


def test_parameter_counts_do_not_give_the_answer_away(capsys):
    fb, out = run(ch2.check_parameter_counts, params(216, D), capsys)
    assert str(C) not in out and "too low" in out and "✓ dense layer" in out
    fb, out = run(ch2.check_parameter_counts, lambda: 224, capsys)
    assert fb.status == "failed" and "(conv, dense)" in out


def test_an_odd_only_correlation_is_reported_in_one_line(capsys):
    def correlate_odd(I, K):                 # the half-width loops: an even kernel overflows
        k = K.shape[0] // 2
        out = torch.zeros(I.shape[0] - 2 * k, I.shape[1] - 2 * k, dtype=I.dtype)
        for i in range(k, I.shape[0] - k):
            for j in range(k, I.shape[1] - k):
                out[i - k, j - k] = sum(K[m + k, n + k] * I[i + m, j + n]
                                        for m in range(-k, k + 1) for n in range(-k, k + 1))
        return out

    fb, out = run(ch2.check_correlate_any, correlate_odd, capsys)
    assert fb.status == "failed" and "IndexError" in out and "2×2 kernel" in out


# ---------------------------------------------------------------- the references themselves


def test_references_agree_with_pytorch():
    for case in ch2.CORRELATE_CASES:
        I, K = case.args
        torch.testing.assert_close(ch2.correlate_any(I, K),
                                   F.conv2d(I[None, None], K[None, None])[0, 0])
        torch.testing.assert_close(ch2.correlate_any(I, K), conv.correlate2d(I, K))
    for case in ch2.TOEPLITZ_CASES:
        k, n = case.args
        x = torch.randn(n, dtype=torch.float64)
        np.testing.assert_allclose((ch2.toeplitz_1d(k, n) @ x).numpy(),
                                   np.convolve(x.numpy(), k.numpy()))
    for case in ch2.POOL_CASES:
        Z, delta, k, s = case.args
        Zg = Z.clone().requires_grad_(True)
        out = F.max_pool2d(Zg[None, None], k, s)[0, 0]
        (out * delta).sum().backward()
        mine = ch2.maxpool(Z, delta, k, s)
        torch.testing.assert_close(mine[0], out.detach())
        torch.testing.assert_close(mine[1], Zg.grad)
    assert ch2.POOL_CASES[1].args[2] > ch2.POOL_CASES[1].args[3]     # overlapping windows


def test_parameter_counts_agree_with_pytorch():
    count = lambda m: sum(p.numel() for p in m.parameters())   # noqa: E731
    assert count(nn.Conv2d(3, 8, 3)) == ch2.CONV_PARAMS
    # nn.Linear(32·32·3, 30·30·8) would allocate 22 M floats; its formula is in_·out + out
    assert ch2.DENSE_PARAMS == 3072 * 7200 + 7200


def test_receptive_field_agrees_with_the_all_ones_probe():
    n = 40
    model = build_stack(ch2.RF_STACK, channels=1, probe=True).double()
    grad = input_gradient(model, torch.ones(1, 1, n, n, dtype=torch.float64), (1, 1))
    rows = torch.nonzero(grad.sum(1)).flatten()
    assert int(rows.max() - rows.min()) + 1 == ch2.RF_SIZE == 23


def test_notebook_has_exercises_of_every_kind_in_both_sections():
    from pathlib import Path

    import jupytext

    nb = jupytext.read(Path(__file__).resolve().parents[1] / "notebooks"
                       / "02_convolutional_networks.py")
    section, covered, kinds, prose = None, {}, set(), ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            prose = cell.source
            for line in cell.source.splitlines():
                if line.startswith("## 2."):
                    section = line.split()[1]
        if cell.metadata.get("nbgrader", {}).get("solution"):
            covered[section] = covered.get(section, 0) + 1
            kinds.update(k for k in ("implement", "predict", "break it")
                         if f"Your turn ({k})" in prose)
    assert set(covered) == {"2.1", "2.2"} and sum(covered.values()) >= 4, covered
    assert kinds == {"implement", "predict", "break it"}
