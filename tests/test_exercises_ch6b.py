"""Chapter 6b's exercise checkers: each accepts its reference, rejects realistic wrong answers with
their own hints, says "not tried yet" for a stub; the references agree with mplib's models and
with autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mplib import exercises_ch6b as ch6b
from mplib import pixelcnn, wavenet
from mplib.exercises import ExerciseFailed

from exercise_support import (  # noqa: F401  (not_graded: autouse)
    exercises_by_section, not_graded, rejects_each, run, stub)


# ---------------------------------------------------------------- references against mplib


@pytest.mark.parametrize("k", [1, 3, 5, 7])
@pytest.mark.parametrize("t", ["A", "B"])
def test_mask_reference_is_mplibs(k, t):
    torch.testing.assert_close(ch6b.mask(k, t), pixelcnn.pixelcnn_mask(k, t)[0, 0])


@pytest.mark.parametrize("call, error, match", [
    # a wrong type is a TypeError, a right-typed value out of range a ValueError
    (lambda: ch6b.mask(4, "A"), ValueError, "k must be odd"),
    (lambda: ch6b.mask(-1, "A"), ValueError, "k must be an integer >= 1"),
    (lambda: ch6b.mask(3.0, "A"), TypeError, "k must be an integer"),
    (lambda: ch6b.mask(3, "C"), ValueError, "mask_type must be one of"),
    (lambda: ch6b.blind_spot(0), ValueError, "L must be an integer >= 1"),
    (lambda: ch6b.blind_spot(2.0), TypeError, "L must be an integer"),
])
def test_references_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("L", [1, 2, 3, 4, 5])
def test_blind_spot_reference_is_what_autograd_finds(L):
    size, (i, j) = (2 * L + 3, 2 * L + 3), (L + 1, L + 1)
    seen = pixelcnn.footprint(pixelcnn.footprint_net("plain", L), size, (i, j))
    missing = pixelcnn.ideal_region(size, (i, j), L) & ~seen
    found = {(i - r, c - j) for r, c in zip(*np.nonzero(missing))}
    assert found == ch6b.blind_spot(L)
    assert len(found) == L * (L - 1) // 2


def test_vertical_leak_is_caught_by_the_full_check_only():
    torch.manual_seed(0)
    model = pixelcnn.TwoStackPixelCNN(channels=8, layers=3, kernel_size=5, image_size=(8, 8))
    x = (torch.rand(1, 1, 8, 8) < 0.5).float()
    assert not pixelcnn.causality_violations(model, x)
    pixelcnn.inject_row_leak(model)
    bad = pixelcnn.causality_violations(model, x)
    # Every changed conditional is in the flipped pixel's own row, at or left of it.
    assert bad and all(o // 8 == p // 8 and p >= o for o, p in bad)
    # The single-pixel check of the first edition flipped pixel (4, 0) only, and passed:
    assert not [(o, p) for o, p in bad if p == 32]


def test_receptive_field_prediction_is_measured_by_autograd():
    torch.manual_seed(0)
    stack = wavenet.CausalStack(list(ch6b.RF_DILATIONS), kernel_size=ch6b.RF_KERNEL)
    assert ch6b.RF_EXPECTED == 31
    assert wavenet.receptive_field_autograd(stack, T=200) == ch6b.RF_EXPECTED
    assert wavenet.dilated_receptive_field(ch6b.RF_DILATIONS) == ch6b.RF_EXPECTED


def test_mu_law_references_are_mplibs():
    x = torch.linspace(-1, 1, 2001)
    assert torch.equal(ch6b.mu_law_encode(x), wavenet.mu_law_encode(x))
    q = torch.arange(256)
    torch.testing.assert_close(ch6b.mu_law_decode(q), wavenet.mu_law_decode(q))
    for case in ch6b.ENCODE_CASES:
        got = ch6b.mu_law_encode(*case.args, **case.kwargs)
        assert torch.equal(got, wavenet.mu_law_encode(*case.args, **case.kwargs))


# ---------------------------------------------------------------- the checkers


def test_mask_checker(capsys):
    fb, out = run(ch6b.check_mask, ch6b.mask, capsys)
    assert fb.passed and "6 test inputs" in out
    rejects_each(ch6b.check_mask,
                 [(ch6b._mask_swapped, "A and B swapped"),
                  (ch6b._mask_whole_centre_row, "whole centre row"),
                  (ch6b._mask_transposed, "transposed"),
                  (ch6b._mask_rows_above_only, "centre row dropped")], capsys)
    fb, out = run(ch6b.check_mask, lambda k, t: -1.0, capsys)
    assert out.startswith("✗")
    fb, out = run(ch6b.check_mask, stub, capsys)
    assert fb.status == "not tried"


def _blind_with_diagonal(L):
    return {(a, b) for a in range(1, L + 1) for b in range(a, L + 1)}


def _blind_short(L):
    return {(a, b) for b in range(1, L) for a in range(1, b)}


def _blind_left(L):
    return [(a, -b) for b in range(1, L + 1) for a in range(1, b)]


def test_blind_spot_checker(capsys):
    fb, out = run(ch6b.check_blind_spot, ch6b.blind_spot, capsys)
    assert fb.passed
    # Any collection of pairs in any order is accepted.
    fb, out = run(ch6b.check_blind_spot, lambda L: sorted(ch6b.blind_spot(L))[::-1], capsys)
    assert fb.passed
    rejects_each(ch6b.check_blind_spot,
                 [(_blind_with_diagonal, "diagonal included"),
                  (_blind_short, "one layer short"), (_blind_left, "left side")], capsys)
    fb, out = run(ch6b.check_blind_spot, lambda L: 3, capsys)
    assert not fb.passed and "(a, b) pairs" in out
    fb, out = run(ch6b.check_blind_spot, stub, capsys)
    assert fb.status == "not tried"


def test_vertical_leak_choice(capsys):
    fb, out = run(ch6b.check_vertical_leak, "b", capsys)
    assert fb.passed and "raster order" in out
    for wrong, word in [("a", "leak"), ("c", "(4, 0)"), ("d", "any logits")]:
        fb, out = run(ch6b.check_vertical_leak, lambda w=wrong: w, capsys)
        assert not fb.passed and word in out and "Hint:" in out
    fb, out = run(ch6b.check_vertical_leak, lambda: None, capsys)
    assert fb.status == "not tried"


def test_receptive_field_checker(capsys):
    fb, out = run(ch6b.check_receptive_field, lambda: 31, capsys)
    assert fb.passed and "autograd" in out
    rejects_each(ch6b.check_receptive_field,
                 [(256, "two to the L"), (30, "plus one missing"), (16, "one block"),
                  (32, "blocks added")], capsys)
    fb, out = run(ch6b.check_receptive_field, stub, capsys)
    assert fb.status == "not tried"


def test_mu_law_encode_checker(capsys):
    fb, out = run(ch6b.check_mu_law_encode, ch6b.mu_law_encode, capsys)
    assert fb.passed
    fb, out = run(ch6b.check_mu_law_encode, wavenet.mu_law_encode, capsys)
    assert fb.passed
    rejects_each(ch6b.check_mu_law_encode,
                 [(ch6b._encode_unnormalised, "not normalised"),
                  (ch6b._encode_no_sign, "sign lost"),
                  (ch6b._encode_truncated, "truncated"),
                  (ch6b._encode_mu_plus_one, "times 256")], capsys)
    fb, out = run(ch6b.check_mu_law_encode, stub, capsys)
    assert fb.status == "not tried"


def test_mu_law_decode_checker(capsys):
    fb, out = run(ch6b.check_mu_law_decode, ch6b.mu_law_decode, capsys)
    assert fb.passed
    fb, out = run(ch6b.check_mu_law_decode, wavenet.mu_law_decode, capsys)
    assert fb.passed
    rejects_each(ch6b.check_mu_law_decode,
                 [(ch6b._decode_no_rescale, "y not rescaled"), (ch6b._decode_exp, "exp"),
                  (ch6b._decode_no_minus_one, "minus one"),
                  (ch6b._decode_no_sign, "sign lost")], capsys)
    fb, out = run(ch6b.check_mu_law_decode, lambda q, mu=255: q / 0, capsys)
    assert not fb.passed
    fb, out = run(ch6b.check_mu_law_decode, stub, capsys)
    assert fb.status == "not tried"


def test_checks_fail_under_the_grader(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseFailed):
        ch6b.check_blind_spot(stub)
    with pytest.raises(ExerciseFailed):
        ch6b.check_receptive_field(lambda: 256)
    ch6b.check_mu_law_encode(ch6b.mu_law_encode)


def test_notebook_has_every_kind_in_both_sections():
    found = exercises_by_section("06b_pixelcnn_wavenet")
    assert len(found) >= 6
    assert {s for s, _ in found} == {"6.4", "6.5"}
    assert {k for _, k in found} == {"implement", "predict", "break it"}
