"""Chapter 4's exercise checkers: each accepts its reference, rejects realistic wrong answers with
their own hints, says "not tried yet" for a stub; the references agree with autograd and
PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from mplib import exercises_ch4 as ch4
from mplib import rnn_gradients
from mplib.exercises import ExerciseFailed

from exercise_support import (  # noqa: E402,F401  (not_graded: autouse)
    exercises_by_section, not_graded, rejects_each, run, stub)


# ---------------------------------------------------------------- references against autograd


def test_bptt_step_gives_autograd_gradients_over_a_sequence():
    g = torch.Generator().manual_seed(0)
    T, D, H, K = 6, 3, 4, 2
    x = torch.randn(T, D, dtype=torch.float64, generator=g)
    y = torch.randn(T, K, dtype=torch.float64, generator=g)
    W_h, W_x, W_y = (torch.randn(*s, dtype=torch.float64, generator=g) * 0.6
                     for s in ((H, H), (H, D), (K, H)))
    params = [W.clone().requires_grad_() for W in (W_h, W_x, W_y)]
    h = [torch.zeros(H, dtype=torch.float64)]
    loss = 0
    for t in range(T):
        h.append(torch.tanh(params[0] @ h[-1] + params[1] @ x[t]))
        loss = loss + 0.5 * ((params[2] @ h[-1] - y[t]) ** 2).sum()
    loss.backward()
    h = [v.detach() for v in h]
    dW_h, dW_x, carry = torch.zeros_like(W_h), torch.zeros_like(W_x), torch.zeros(H).double()
    for t in range(T, 0, -1):
        delta = W_y.T @ (W_y @ h[t] - y[t - 1]) + carry
        a, b, carry = ch4.bptt_step(delta, h[t], h[t - 1], x[t - 1], W_h)
        dW_h += a
        dW_x += b
    torch.testing.assert_close(dW_h, params[0].grad)
    torch.testing.assert_close(dW_x, params[1].grad)


def test_lag_norms_are_the_notes_product_at_zero_input():
    W = torch.tensor(ch4.counterexample_W_h())
    H = W.shape[0]
    W_x = torch.ones(H, 1, dtype=torch.float64)
    J = rnn_gradients.elman_step_jacobians(W.numpy(), W_x.numpy(), np.zeros((30, 1)))
    from_helper = np.exp(rnn_gradients.log_norms_back(J))
    np.testing.assert_allclose(ch4.lag_norms(W, 30), from_helper, rtol=1e-9)


def test_counterexample_reference_peaks_at_lag_11():
    norms = ch4.lag_norms(ch4.counterexample_W_h())
    assert np.abs(np.linalg.eigvals(ch4.counterexample_W_h())).max() == pytest.approx(0.45)
    assert norms.max() == pytest.approx(19.4, abs=0.05) and norms.argmax() == 11


def test_forget_prediction_is_the_cell_path_with_zero_weights():
    # With every weight 0, f = σ(b_f) at every step and the c → c Jacobian is diag(f).
    H = 3
    zero = {k: np.zeros((H, H)) for k in "fiog"}
    zero_x = {k: np.zeros((H, 1)) for k in "fiog"}
    J = rnn_gradients.lstm_step_jacobians(zero, zero_x, np.zeros((60, 1)), b_f=0.0)
    P = np.eye(H)
    for Jt in J:
        P = P @ Jt[H:, H:]
    assert math.log(np.linalg.norm(P, 2)) == pytest.approx(ch4.FORGET_PATH)


def test_torch_gate_order_reproduces_nn_lstm_and_others_do_not():
    assert ch4.gate_order_error(ch4.TORCH_GATE_ORDER) < 1e-12
    for wrong in [("f", "i", "o", "g"), ("i", "f", "o", "g"), ("f", "i", "g", "o")]:
        assert ch4.gate_order_error(wrong) > 1e-2


def test_clip_gradient_reference_matches_clip_grad_norm():
    for case in ch4.CLIP_CASES:
        g, T = case.args
        p = nn.Parameter(torch.zeros_like(g))
        p.grad = g.clone()
        nn.utils.clip_grad_norm_([p], max_norm=T)
        torch.testing.assert_close(ch4.clip_gradient(g, T), p.grad, rtol=1e-5, atol=1e-7)


def test_clipped_step_prediction_is_what_sgd_computes():
    a, b = (nn.Parameter(torch.zeros(1, dtype=torch.float64)) for _ in range(2))
    a.grad, b.grad = (torch.tensor([v], dtype=torch.float64) for v in ch4.STEP_GRADS)
    nn.utils.clip_grad_norm_([a, b], max_norm=ch4.STEP_T)
    torch.optim.SGD([a, b], lr=ch4.STEP_LR).step()
    np.testing.assert_allclose([a.item(), b.item()], ch4.STEP_AFTER, atol=1e-6)


# ---------------------------------------------------------------- the checkers


def test_bptt_step(capsys):
    fb, out = run(ch4.check_bptt_step, ch4.bptt_step, capsys)
    assert fb.passed and "3 test inputs" in out
    rejects_each(ch4.check_bptt_step,
                 [(ch4._no_tanh_prime, "no tanh'"), (ch4._tanh_of_h, "tanh of h"),
                  (ch4._not_transposed, "W_h not transposed"),
                  (ch4._h_t_not_h_prev, "h_t for h_prev"),
                  (ch4._outer_swapped, "outer order")], capsys)
    fb, out = run(ch4.check_bptt_step, lambda *a: -1.0, capsys)
    assert not fb.passed and out.startswith("✗")
    fb, out = run(ch4.check_bptt_step, stub, capsys)
    assert fb.status == "not tried"


def test_counterexample(capsys):
    fb, out = run(ch4.check_counterexample, ch4.counterexample_W_h, capsys)
    assert fb.passed and "19.4" in out
    # Another valid answer: a 4 × 4 with 0.4 and 3 above the diagonal.
    fb, out = run(ch4.check_counterexample,
                  lambda: torch.diag(torch.full((3,), 3.0), 1) + 0.4 * torch.eye(4), capsys)
    assert fb.passed
    # The notebook's earlier example: eigenvalue 0.9, not below ½.
    fb, out = run(ch4.check_counterexample,
                  lambda: 0.9 * np.eye(8) + np.diag(np.ones(7), 1), capsys)
    assert fb.mistake == "eigenvalue too large" and "0.9" in out
    fb, out = run(ch4.check_counterexample, lambda: 0.45 * np.eye(5), capsys)
    assert fb.mistake == "normal" and "non-normal" in out
    fb, out = run(ch4.check_counterexample, lambda: [[0.3, 0.5], [0.0, 0.3]], capsys)
    assert fb.mistake == "too little growth" and "larger" in out
    fb, out = run(ch4.check_counterexample, lambda: np.ones(3), capsys)
    assert not fb.passed and "square" in out
    fb, out = run(ch4.check_counterexample, lambda: -1.0, capsys)
    assert not fb.passed and "square" in out
    fb, out = run(ch4.check_counterexample, stub, capsys)
    assert fb.status == "not tried"


def test_forget_prediction(capsys):
    fb, out = run(ch4.check_forget_prediction, lambda: 60 * math.log(0.5), capsys)
    assert fb.passed
    for value, mistake in [(math.log(0.5), "one step"), (60 * math.log10(0.5), "log10"),
                           (60 * math.log(0.25), "sigma prime"), (41.6, "sign"),
                           (-2.9, "b_f = 3")]:
        fb, out = run(ch4.check_forget_prediction, lambda v=value: v, capsys)
        assert not fb.passed and fb.mistake == mistake, (value, out)
    fb, out = run(ch4.check_forget_prediction, lambda: None, capsys)
    assert fb.status == "not tried"


def test_torch_gate_order(capsys):
    fb, out = run(ch4.check_torch_gate_order, lambda: ("i", "f", "g", "o"), capsys)
    assert fb.passed
    fb, out = run(ch4.check_torch_gate_order, lambda: "ifgo", capsys)
    assert fb.passed
    for order, mistake in [(("f", "i", "o", "g"), "fiog"), (("i", "f", "o", "g"), "ifog"),
                           (("f", "i", "g", "o"), "figo")]:
        fb, out = run(ch4.check_torch_gate_order, lambda o=order: o, capsys)
        assert not fb.passed and fb.mistake == mistake and "differs from nn.LSTM" in out, out
    fb, out = run(ch4.check_torch_gate_order, lambda: ("o", "g", "f", "i"), capsys)
    assert not fb.passed and fb.mistake is None and "differs" in out
    fb, out = run(ch4.check_torch_gate_order, lambda: ("i", "f", "g"), capsys)
    assert not fb.passed and "exactly once" in out
    fb, out = run(ch4.check_torch_gate_order, stub, capsys)
    assert fb.status == "not tried"


def test_clip_gradient(capsys):
    fb, out = run(ch4.check_clip_gradient, ch4.clip_gradient, capsys)
    assert fb.passed and "5 test inputs" in out
    for wrong, mistake in [(lambda g, T: g.clamp(-T, T), "by value"),
                           (lambda g, T: g, "never clips"),
                           (lambda g, T: T * g / g.norm(), "always rescales"),
                           (lambda g, T: g if g.norm() <= T else g / g.norm(), "no T"),
                           (lambda g, T: g if (g ** 2).sum() <= T else T * g / (g ** 2).sum(),
                            "squared norm")]:
        fb, out = run(ch4.check_clip_gradient, wrong, capsys)
        assert not fb.passed and fb.mistake == mistake, (mistake, out)
    fb, out = run(ch4.check_clip_gradient, stub, capsys)
    assert fb.status == "not tried"


def test_clipped_step(capsys):
    fb, out = run(ch4.check_clipped_step, lambda: [-0.06, -0.08], capsys)
    assert fb.passed
    for value, mistake in [([-0.3, -0.4], "no clipping"), ([-0.1, -0.1], "per parameter"),
                           ([-0.6, -0.8], "no learning rate"), ([0.06, 0.08], "sign")]:
        fb, out = run(ch4.check_clipped_step, lambda v=value: v, capsys)
        assert not fb.passed and fb.mistake == mistake, (value, out)
    fb, out = run(ch4.check_clipped_step, stub, capsys)
    assert fb.status == "not tried"


def test_checks_fail_under_the_grader(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseFailed):
        ch4.check_clip_gradient(lambda g, T: g)
    with pytest.raises(ExerciseFailed):
        ch4.check_counterexample(stub)
    with pytest.raises(ExerciseFailed):
        ch4.check_torch_gate_order(lambda: "fiog")
    ch4.check_clipped_step(lambda: [-0.06, -0.08])  # a right answer does not raise


# ---------------------------------------------------------------- the notebook


def test_notebook_has_exercises_of_every_kind_in_every_section():
    found = exercises_by_section("04_recurrent_networks")
    assert len(found) >= 6
    assert {s for s, _ in found} == {"4.1", "4.2", "4.3"}
    assert {k for _, k in found} == {"implement", "predict", "break it"}
