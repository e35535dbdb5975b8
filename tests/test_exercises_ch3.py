"""Chapter 3's exercise checkers: each accepts its reference, rejects realistic wrong answers with
their own hints, says "not tried yet" for a stub; the references agree with PyTorch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mplib import exercises_ch3 as ch3
from mplib import segmentation
from mplib.exercises import ExerciseFailed
from mplib.unet import UNet


from exercise_support import (  # noqa: E402,F401  (not_graded: autouse)
    not_graded, rejects_each, run, stub)


# ---------------------------------------------------------------- references against PyTorch


def test_transposed_prediction_is_what_pytorch_computes():
    n, k, s = ch3.TCONV_H, ch3.TCONV_K, ch3.TCONV_S
    out = F.conv_transpose2d(torch.ones(1, 1, n, n), torch.ones(1, 1, k, k), stride=s)[0, 0]
    assert out.shape == (ch3.TCONV_SIZE, ch3.TCONV_SIZE)
    assert sorted(set(out[k:-k, k:-k].flatten().tolist())) == ch3.TCONV_VALUES


@pytest.mark.parametrize("s", [1, 2, 3, 4, 5])
def test_bilinear_kernel_reproduces_interpolate(s):
    x = torch.rand(5, 7, dtype=torch.float64)
    want = F.interpolate(x[None, None], scale_factor=s, mode="bilinear", align_corners=False)
    torch.testing.assert_close(ch3.bilinear_upsample(x, s), want[0, 0])


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-2, ValueError), (2.0, TypeError),
                                        (True, TypeError), ("2", TypeError)])
def test_bilinear_kernel_rejects_bad_stride(bad, error):
    # a wrong type is a TypeError, an integer below 1 a ValueError
    with pytest.raises(error, match="s must be an integer"):
        ch3.bilinear_kernel(bad)


def test_mean_iou_reference_matches_segmentation():
    for case in ch3.MIOU_CASES:
        assert ch3.mean_iou(*case.args) == pytest.approx(segmentation.mean_iou(*case.args))


def test_miou_example_has_distinct_ious_and_an_absent_class():
    ious = ch3._ious(ch3.MIOU_PRED, ch3.MIOU_TARGET, 4)
    present = [v for v in ious if v is not None]
    assert ious[3] is None and len(present) == 3 and len(set(present)) == 3
    wrong = [ch3._absent_as_zero, ch3._no_background, ch3._pixel_accuracy,
             ch3._frequency_weighted]
    values = [f(ch3.MIOU_PRED, ch3.MIOU_TARGET, 4) for f in wrong] + present
    assert all(abs(v - ch3.MIOU_EXAMPLE) > 0.01 for v in values)


def test_skip_order_break_it_really_raises():
    net = UNet(1, 4, channels=(16, 32, 8))
    def forward(x):  # UNet.forward with `reversed(copies)` replaced by `copies`
        copies = []
        for block in net.down:
            x = block(x)
            copies.append(x)
            x = net.pool(x)
        x = net.bottom(x)
        for up, merge, copy in zip(net.up, net.merge, copies):
            x = merge(torch.cat([copy, up(x)], dim=1))
        return net.head(x)

    with pytest.raises(RuntimeError, match="[Ss]izes"):
        forward(torch.zeros(1, 1, 32, 32))


# ---------------------------------------------------------------- the checkers


def test_transposed_prediction(capsys):
    fb, out = run(ch3.check_transposed_prediction, lambda: (19, [9, 4, 6]), capsys)
    assert fb.passed and out.startswith("✓")
    fb, out = run(ch3.check_transposed_prediction, lambda: (16, [4, 6, 9]), capsys)
    assert not fb.passed and "1 of 2 right" in out and "(H − 1)·s" in out
    assert fb.mistake == "output size: H times s"
    fb, out = run(ch3.check_transposed_prediction, lambda: (19, [2, 3]), capsys)
    assert fb.mistake == "interior values: one axis" and "(copies along the rows)" in out
    fb, out = run(ch3.check_transposed_prediction, lambda: (21, [6.25]), capsys)
    assert fb.mistake == "output size: H·s + k" and "0 of 2 right" in out
    fb, out = run(ch3.check_transposed_prediction, lambda: 19, capsys)
    assert not fb.passed and "return (size, [values])" in out
    fb, out = run(ch3.check_transposed_prediction, stub, capsys)
    assert fb.status == "not tried"


def _bilinear_1d_only(s):
    k = 2 * s - s % 2
    c = (k - 1) / 2 if s % 2 else s - 0.5
    return 1 - (torch.arange(k, dtype=torch.float64) - c).abs() / s


def _bilinear_unnormalised(s):
    return ch3.bilinear_kernel(s) * s * s


def _bilinear_centre_at_s(s):
    k = 2 * s - s % 2
    w = (1 - (torch.arange(k, dtype=torch.float64) - s).abs() / s).clamp_min(0)
    return w[:, None] * w[None, :]


def _bilinear_cone(s):
    k = 2 * s - s % 2
    c = (k - 1) / 2 if s % 2 else s - 0.5
    m = torch.arange(k, dtype=torch.float64)
    return (1 - ((m[:, None] - c) ** 2 + (m[None, :] - c) ** 2).sqrt() / s).clamp_min(0)


def test_bilinear_kernel(capsys):
    fb, out = run(ch3.check_bilinear_kernel, ch3.bilinear_kernel, capsys)
    assert fb.passed and "4 test inputs" in out
    rejects_each(ch3.check_bilinear_kernel,
                 [(_bilinear_1d_only, "one axis"), (_bilinear_unnormalised, "scale"),
                  (_bilinear_centre_at_s, "centre off"),
                  (_bilinear_cone, "not separable")], capsys)
    fb, out = run(ch3.check_bilinear_kernel, stub, capsys)
    assert fb.status == "not tried"


def test_checkerboard_choice(capsys):
    fb, out = run(ch3.check_checkerboard, "b", capsys)
    assert fb.passed
    for wrong in "acd":
        fb, out = run(ch3.check_checkerboard, wrong, capsys)
        assert not fb.passed and ("divides" in out or "tile" in out) and "Hint:" in out
    fb, out = run(ch3.check_checkerboard, "e", capsys)
    assert not fb.passed and "not one of the options" in out


def test_miou_by_hand(capsys):
    fb, out = run(ch3.check_miou_by_hand, lambda: 25 / 54, capsys)
    assert fb.passed
    for value, mistake in [((5 / 9 + 1 / 2 + 1 / 3 + 0) / 4, "absent as zero"),
                           ((1 / 2 + 1 / 3) / 2, "no background"),
                           (8 / 12, "pixel accuracy"), (1 / 3, "one class")]:
        fb, out = run(ch3.check_miou_by_hand, lambda v=value: v, capsys)
        assert not fb.passed and fb.mistake == mistake, (value, out)
    fb, out = run(ch3.check_miou_by_hand, lambda: None, capsys)
    assert fb.status == "not tried"


def _miou_divide_by_c(pred, target, num_classes):
    total = 0.0
    for c in range(num_classes):
        union = ((pred == c) | (target == c)).sum().item()
        total += ((pred == c) & (target == c)).sum().item() / union if union else 0.0
    return total / num_classes


def _miou_from_one(pred, target, num_classes):
    ious = [((pred == c) & (target == c)).sum().item() / ((pred == c) | (target == c)).sum().item()
            for c in range(1, num_classes) if ((pred == c) | (target == c)).any()]
    return sum(ious) / len(ious)


def test_mean_iou(capsys):
    fb, out = run(ch3.check_mean_iou, ch3.mean_iou, capsys)
    assert fb.passed and "3 test inputs" in out
    fb, out = run(ch3.check_mean_iou, segmentation.mean_iou, capsys)
    assert fb.passed
    rejects_each(ch3.check_mean_iou,
                 [(_miou_divide_by_c, "absent as zero"),
                  (_miou_from_one, "no background"),
                  (lambda p, t, c: (p == t).float().mean().item(), "pixel accuracy")], capsys)
    fb, out = run(ch3.check_mean_iou, lambda p, t, c: 1 / 0, capsys)
    assert not fb.passed and "ZeroDivisionError" in out
    fb, out = run(ch3.check_mean_iou, stub, capsys)
    assert fb.status == "not tried"


def test_skip_order_choice(capsys):
    fb, out = run(ch3.check_skip_order, "(b)", capsys)
    assert fb.passed and "RuntimeError" in out
    fb, out = run(ch3.check_skip_order, "c", capsys)
    assert not fb.passed and "resolution" in out


def test_checks_fail_under_the_grader(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseFailed):
        ch3.check_mean_iou(stub)
    with pytest.raises(ExerciseFailed):
        ch3.check_transposed_prediction(lambda: (16, [4, 6, 9]))
    ch3.check_bilinear_kernel(ch3.bilinear_kernel)
