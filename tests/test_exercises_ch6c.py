"""Chapter 6c's exercise checkers: each accepts its reference, rejects realistic wrong answers with
their own hints, says "not tried yet" for a stub; the references agree with mplib and PyTorch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mplib import exercises_ch6c as ch6c
from mplib.exercises import ExerciseFailed
from mplib.transformer import Block, strict_mask_dependence

from exercise_support import (  # noqa: E402,F401  (not_graded: autouse)
    not_graded, rejects_each, run, stub)


# ---------------------------------------------------------------- references against mplib/PyTorch


def test_vrnn_step_reference_reproduces_the_model_forward():
    """Stepping the reference over a sequence with the model's noise gives model(x)'s terms."""
    torch.manual_seed(0)
    model = ch6c.VRNN(x_dim=1, h_dim=8, z_dim=3)
    x = torch.randn(4, 6, 1)
    want = model(x, generator=torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    h = torch.zeros(4, 8)
    kls, nlls = [], []
    for t in range(6):
        kl, nll, h = ch6c.vrnn_step(model, x[:, t], h, torch.randn(4, 3, generator=g))
        kls.append(kl)
        nlls.append(nll)
    torch.testing.assert_close(torch.stack(kls, 1), want["kl"])
    torch.testing.assert_close(torch.stack(nlls, 1), want["nll"])


def test_every_step_mistake_changes_the_output_on_some_case():
    for m in ch6c.VRNN_STEP_MISTAKES:
        moved = False
        for case in ch6c.VRNN_STEP_CASES:
            right, wrong = ch6c.vrnn_step(*case.args), m.fn(*case.args)
            moved |= any(not torch.allclose(a, b, rtol=1e-3) for a, b in zip(right, wrong))
        assert moved, m.name


def test_causal_attention_reference_is_pytorchs():
    for case in ch6c.ATTENTION_CASES:
        X, W_Q, W_K, W_V = case.args
        want = F.scaled_dot_product_attention(X @ W_Q, X @ W_K, X @ W_V, is_causal=True)
        torch.testing.assert_close(ch6c.causal_attention(*case.args), want)


def test_block_parameters_counts_mplibs_block_for_any_heads():
    for d, heads in [(32, 1), (32, 2), (32, 4), (16, 2), (64, 8)]:
        count = sum(p.numel() for p in Block(d, heads).parameters())
        assert count == ch6c.block_parameters(d) == 12 * d * d + 10 * d
    assert ch6c.BLOCK_SIZE == 12_608


def test_strict_mask_answer_is_what_the_dependences_show():
    """The notes' strict mask, input not shifted: x_i reaches output i through its own query,
    with residuals or without; without residuals the first L positions see nothing."""
    full = torch.ones(6, 6, dtype=torch.int64).tril(0)
    for layers in (1, 2, 3):
        for seed in (0, 1):
            without = strict_mask_dependence(6, 4, layers, residual=False, seed=seed)
            with_res = strict_mask_dependence(6, 4, layers, residual=True, seed=seed)
            assert torch.equal(with_res, full), (layers, with_res)
            assert not without.triu(1).any() and not without[:layers].any(), without
            assert without[layers:].tril(-1).sum() == full[layers:].tril(-1).sum(), without
            # x_i -> output i (the leak) wherever position i has two keys or more to weigh
            assert without.diagonal()[max(layers, 2):].all(), without


# ---------------------------------------------------------------- the checkers


def test_vrnn_step(capsys):
    fb, out = run(ch6c.check_vrnn_step, ch6c.vrnn_step, capsys)
    assert fb.passed and "3 test inputs" in out
    wrongs = [("KL reversed", dict(kl_reversed=True)),
              ("z from the prior", dict(z_from_prior=True)),
              ("log-variance as σ", dict(std_is_logvar=True)),
              ("recurrence without z", dict(h_without_z=True))]
    rejects_each(ch6c.check_vrnn_step,
                 [(lambda m, x, h, e, kw=kw: ch6c._wrong_step(m, x, h, e, **kw), mistake)
                  for mistake, kw in wrongs], capsys)
    fb, out = run(ch6c.check_vrnn_step, lambda m, x, h, e: None, capsys)
    assert not fb.passed and "got:      None" in out
    fb, out = run(ch6c.check_vrnn_step, stub, capsys)
    assert fb.status == "not tried"


def test_negative_elbo_choice(capsys):
    fb, out = run(ch6c.check_negative_elbo, "b", capsys)
    assert fb.passed and "density" in out
    for wrong in "acd":
        fb, out = run(ch6c.check_negative_elbo, wrong, capsys)
        assert not fb.passed and "Hint:" in out
    fb, out = run(ch6c.check_negative_elbo, lambda: None, capsys)
    assert fb.status == "not tried"


def test_causal_attention(capsys):
    fb, out = run(ch6c.check_causal_attention, ch6c.causal_attention, capsys)
    assert fb.passed and "3 test inputs" in out
    wrongs = [("strict mask", dict(diagonal=-1)), ("no mask", dict(masked=False)),
              ("no scaling", dict(scale="none")), ("scaled by d", dict(scale="d")),
              ("softmax over queries", dict(dim=0))]
    rejects_each(ch6c.check_causal_attention,
                 [(lambda X, Q, K, V, kw=kw: ch6c._attention(X, Q, K, V, **kw), mistake)
                  for mistake, kw in wrongs], capsys)
    # transposed weights (K Qᵀ) fail without a specific hint
    fb, out = run(ch6c.check_causal_attention,
                  lambda X, Q, K, V: ch6c.causal_attention(X, Q.T, K.T, V.T), capsys)
    assert not fb.passed
    fb, out = run(ch6c.check_causal_attention, stub, capsys)
    assert fb.status == "not tried"


def test_strict_mask_choice(capsys):
    fb, out = run(ch6c.check_strict_mask, "b", capsys)
    assert fb.passed and "query" in out
    for wrong in "acd":
        fb, out = run(ch6c.check_strict_mask, wrong, capsys)
        assert not fb.passed and "Hint:" in out


def test_block_parameters(capsys):
    fb, out = run(ch6c.check_block_parameters, lambda: 12_608, capsys)
    assert fb.passed and "heads does not change" in out
    d = 32
    rejects_each(ch6c.check_block_parameters,
                 [(12_608 + 4 * d * d + d, "times heads"),
                  (12 * d * d, "no biases or norms"),
                  (4 * d * d + d, "attention only"),
                  (6 * d * d + 7 * d, "MLP d wide")], capsys)
    fb, out = run(ch6c.check_block_parameters, stub, capsys)
    assert fb.status == "not tried"


def test_checks_fail_under_the_grader(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseFailed):
        ch6c.check_vrnn_step(stub)
    with pytest.raises(ExerciseFailed):
        ch6c.check_block_parameters(lambda: 12 * 32 * 32)
    ch6c.check_causal_attention(ch6c.causal_attention)


def test_cost_crossover(capsys):
    d, k = ch6c.COST_D, ch6c.COST_K
    n = ch6c.COST_CROSSOVER
    assert n * n * d == n * k * d * d                     # the two costs meet there
    assert (n + 1) ** 2 * d > (n + 1) * k * d * d and (n - 1) ** 2 * d < (n - 1) * k * d * d
    fb, out = run(ch6c.check_cost_crossover, lambda: 96, capsys)
    assert fb.passed and "n > k d" in out
    rejects_each(ch6c.check_cost_crossover,
                 [(k * d * d, "k d²"), (k, "n k d"), (d, "d only"), (10, "square root")], capsys)
    fb, out = run(ch6c.check_cost_crossover, stub, capsys)
    assert fb.status == "not tried"
