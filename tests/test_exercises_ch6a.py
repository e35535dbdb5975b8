"""Chapter 6a's exercise checkers: each accepts its reference, rejects realistic wrong answers with
their own hints, says "not tried yet" for a stub; the references agree with mplib's models."""

from __future__ import annotations

import pytest
import torch

from mplib import exercises_ch6a as ch6a
from mplib.autoregressive import FVSBN, MADE, NADE
from mplib.exercises import ExerciseFailed
from mplib.masked import connectivity, effective_parameters, made_masks

from exercise_support import (  # noqa: E402,F401  (not_graded: autouse)
    exercises_by_section, not_graded, rejects_each, run, stub)


# ---------------------------------------------------------------- references against mplib


def test_parameter_counts_are_what_the_models_hold():
    n, d = ch6a.COUNT_N, ch6a.COUNT_D
    assert effective_parameters(FVSBN(n)) == ch6a.FVSBN_PARAMS
    assert sum(p.numel() for p in NADE(n, d).parameters()) == ch6a.NADE_PARAMS


def test_fvsbn_reference_is_mplibs_fvsbn():
    for case in ch6a.FVSBN_CASES[:2]:
        x, alpha, alpha0 = case.args
        model = FVSBN(x.shape[1]).double()
        with torch.no_grad():
            model.linear.weight.copy_(alpha)      # the mask removes j >= i, as it must
            model.linear.bias.copy_(alpha0)
        torch.testing.assert_close(ch6a.fvsbn_log_prob(x, alpha, alpha0), model.log_prob(x))


def test_nade_reference_is_mplibs_nade_and_the_naive_sum():
    for case in ch6a.NADE_CASES:
        x, W, b, V, c = case.args
        model = NADE(x.shape[1], W.shape[0]).double()
        with torch.no_grad():
            for p, v in zip((model.W, model.b, model.V, model.c), (W, b, V, c)):
                p.copy_(v)
        torch.testing.assert_close(ch6a.nade_recursive(*case.args), torch.sigmoid(model(x)))
        naive = torch.stack([torch.sigmoid(torch.sigmoid(x[:, :i] @ W[:, :i].T + b) @ V[i] + c[i])
                             for i in range(x.shape[1])], 1)
        torch.testing.assert_close(ch6a.nade_recursive(*case.args), naive)


def test_output_mask_reference_is_mplibs_mask():
    for case in ch6a.OUTPUT_MASK_CASES:
        m_L, m_0 = case.args
        torch.testing.assert_close(ch6a.output_mask(m_L, m_0), made_masks([m_0, m_L])[-1])


def test_every_output_mask_mistake_differs_on_the_first_case():
    m_L, m_0 = ch6a.OUTPUT_MASK_CASES[0].args
    right = ch6a.output_mask(m_L, m_0)
    for m in ch6a.OUTPUT_MASK_MISTAKES:
        if m.fn is not None:
            assert not torch.equal(m.fn(m_L, m_0), right), m.name


def test_break_it_answer_is_what_happens():
    """With M^V = 1{m ≤ m} every output but the last in the ordering sees its own input."""
    model = MADE(5, [64, 64], seed=0, ordering=[2, 5, 1, 4, 3])
    last = model.net[-1]
    degrees = model.degrees
    with torch.no_grad():
        last.set_mask((degrees[-1][None, :] <= degrees[0][:, None]).float())
        for layer in model.net:
            if hasattr(layer, "bias"):
                torch.nn.init.normal_(layer.bias)
    J = torch.autograd.functional.jacobian(lambda v: model(v[None])[0],
                                           torch.tensor([1.0, 0, 1, 1, 0]))
    own = J.diagonal()
    assert bool((own[degrees[0] < 5] != 0).all()) and float(own[degrees[0] == 5]) == 0


def test_disconnected_layout():
    assert ch6a.DISCONNECTED == [2, 3]
    C = connectivity(made_masks(ch6a.DISCONNECTED_DEGREES))
    assert float(C[2].sum()) == 0 and float(C[0].sum()) > 0


# ---------------------------------------------------------------- the checkers


def test_parameter_counts(capsys):
    fb, out = run(ch6a.check_parameter_counts, lambda: (307720, 785284), capsys)
    assert fb.passed and out.startswith("✓")
    outs = rejects_each(ch6a.check_parameter_counts,
                        [((784 ** 2, 785284), "FVSBN: full matrix"),
                         ((784 * 783 // 2, 785284), "FVSBN: no alpha_0"),
                         ((307720, 2 * 784 * 500), "NADE: no biases"),
                         ((307720, 784 * 784 * 500), "NADE: no sharing"),
                         ((307720, 784 * 500 + 784 + 500), "NADE: one matrix")], capsys)
    assert all("1 of 2 right" in o for o in outs)
    fb, out = run(ch6a.check_parameter_counts, lambda: 307720, capsys)
    assert not fb.passed and "return 2 numbers" in out
    fb, out = run(ch6a.check_parameter_counts, stub, capsys)
    assert fb.status == "not tried"


def test_fvsbn_log_prob(capsys):
    fb, out = run(ch6a.check_fvsbn_log_prob, ch6a.fvsbn_log_prob, capsys)
    assert fb.passed and "3 test inputs" in out
    rejects_each(ch6a.check_fvsbn_log_prob,
                 [(ch6a._fvsbn_with_diagonal, "own pixel"),
                  (ch6a._fvsbn_unmasked, "no mask"),
                  (ch6a._fvsbn_log_f_only, "log f only"),
                  (ch6a._fvsbn_mean, "mean"),
                  (lambda x, a, a0: -ch6a.fvsbn_log_prob(x, a, a0), "sign")], capsys)
    fb, out = run(ch6a.check_fvsbn_log_prob, lambda x, a, a0: x[:, :1] @ a, capsys)
    assert not fb.passed and fb.mistake is None and "shape" in out
    fb, out = run(ch6a.check_fvsbn_log_prob, stub, capsys)
    assert fb.status == "not tried"


def _nade_loop(x, W, b, V, c):
    """A student's loop, as the notes write the recursion: right."""
    N, n = x.shape
    out = torch.empty(N, n, dtype=x.dtype)
    a = torch.zeros(N, W.shape[0], dtype=x.dtype)
    for i in range(n):
        out[:, i] = torch.sigmoid(torch.sigmoid(a + b) @ V[i] + c[i])
        a = a + x[:, i:i + 1] * W[:, i]
    return out


def _nade_loop_update_first(x, W, b, V, c):
    N, n = x.shape
    out = torch.empty(N, n, dtype=x.dtype)
    a = torch.zeros(N, W.shape[0], dtype=x.dtype)
    for i in range(n):
        a = a + x[:, i:i + 1] * W[:, i]
        out[:, i] = torch.sigmoid(torch.sigmoid(a + b) @ V[i] + c[i])
    return out


def test_nade_recursive(capsys):
    for right in (ch6a.nade_recursive, _nade_loop):
        fb, out = run(ch6a.check_nade_recursive, right, capsys)
        assert fb.passed, out
    rejects_each(ch6a.check_nade_recursive,
                 [(_nade_loop_update_first, "sees x_i"),
                  (ch6a._nade_logits, "logits"), (ch6a._nade_no_b, "no b"),
                  (ch6a._nade_no_hidden_sigmoid, "linear hidden")], capsys)
    fb, out = run(ch6a.check_nade_recursive, lambda x, W, b, V, c: x @ W, capsys)
    assert not fb.passed and "RuntimeError" in out
    fb, out = run(ch6a.check_nade_recursive, stub, capsys)
    assert fb.status == "not tried"


def test_output_mask(capsys):
    fb, out = run(ch6a.check_output_mask, ch6a.output_mask, capsys)
    assert fb.passed
    fb, out = run(ch6a.check_output_mask, lambda m_L, m_0: m_L[None, :] < m_0[:, None], capsys)
    assert fb.passed, "a boolean mask is right too"
    rejects_each(ch6a.check_output_mask,
                 [(lambda m_L, m_0: (m_L[None, :] <= m_0[:, None]).float(), "≤"),
                  (lambda m_L, m_0: (m_L[:, None] < m_0[None, :]).float(), "transposed"),
                  (lambda m_L, m_0: (m_L[None, :] > m_0[:, None]).float(), "reversed"),
                  (lambda m_L, m_0: (m_L[None, :] < torch.arange(1, len(m_0) + 1)[:, None])
                   .float(), "positions")], capsys)
    fb, out = run(ch6a.check_output_mask, stub, capsys)
    assert fb.status == "not tried"


def test_break_output_rule_choice(capsys):
    fb, out = run(ch6a.check_break_output_rule, "a", capsys)
    assert fb.passed and "diagonal" in out
    for wrong in "bcd":
        fb, out = run(ch6a.check_break_output_rule, wrong, capsys)
        assert not fb.passed and "Hint:" in out
    fb, out = run(ch6a.check_break_output_rule, "e", capsys)
    assert not fb.passed and "not one of the options" in out
    fb, out = run(ch6a.check_break_output_rule, stub, capsys)
    assert fb.status == "not tried"


def test_disconnected(capsys):
    fb, out = run(ch6a.check_disconnected, lambda: [3, 2], capsys)
    assert fb.passed and "p(x_3 | x_2)" in out
    fb, out = run(ch6a.check_disconnected, lambda: {2, 3}, capsys)
    assert fb.passed
    outs = rejects_each(ch6a.check_disconnected,
                        [([2], "only the first"), ([3], "forgot the first"),
                         ([1, 2], "degrees"), ([], "none")], capsys)
    assert all("[2, 3]" not in o for o in outs)
    fb, out = run(ch6a.check_disconnected, lambda: [0, 4], capsys)
    assert not fb.passed and "from 1 to 3" in out
    fb, out = run(ch6a.check_disconnected, lambda: "2 and 3", capsys)
    assert not fb.passed and "list of output indices" in out
    fb, out = run(ch6a.check_disconnected, lambda: None, capsys)
    assert fb.status == "not tried"


def test_checks_fail_under_the_grader(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseFailed):
        ch6a.check_nade_recursive(stub)
    with pytest.raises(ExerciseFailed):
        ch6a.check_disconnected(lambda: [2])
    with pytest.raises(ExerciseFailed):
        ch6a.check_parameter_counts(lambda: (1, 2))
    ch6a.check_output_mask(ch6a.output_mask)


def test_notebook_has_every_kind_in_every_section():
    found = exercises_by_section("06a_autoregressive_density")
    assert len(found) >= 4
    assert {"6.1", "6.2", "6.3"} <= {s for s, _ in found}
    assert {k for _, k in found} == {"implement", "predict", "break it"}
