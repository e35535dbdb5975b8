"""The exercise checkers: each accepts its reference, rejects realistic wrong answers with their
own hints, says "not tried yet" for a stub, and never shows a traceback from inside mplib."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mplib import exercises as ex
from mplib import exercises_ch0 as ch0
from mplib import exercises_ch1 as ch1
from mplib import perceptron


from exercise_support import not_graded, run, stub  # noqa: E402,F401  (not_graded: autouse)


# ---------------------------------------------------------------- every chapter-1 checker

FUNCTION_EXERCISES = {
    # check: (reference, [(wrong answer, name of the mistake it should be told), ...])
    ch0.check_neuron: (ch0.neuron, [
        (lambda x, w, b: 1 / (1 + np.exp(w * x + b)), "exponent sign"),
        (lambda x, w, b: 1 / (1 + np.exp(-w * x)) + b, "bias outside"),
    ]),
    ch1.check_perceptron_step: (ch1.perceptron_step, [
        (lambda t, x, y, eta: t - eta * (y - float(t @ x > 0)) * x, "sign"),
        (lambda t, x, y, eta: t + eta * y * x, "no residual"),
        (lambda t, x, y, eta: t + eta * (y - float(t @ x >= 0)) * x, "threshold"),
        (lambda t, x, y, eta: t + (y - float(t @ x > 0)) * x, "no eta"),
    ]),
    ch1.check_mean_bce: (ch1.mean_bce, [
        (lambda yh, y: -np.sum(y * np.log(yh) + (1 - y) * np.log(1 - yh)), "missing 1/n"),
        (lambda yh, y: np.mean(y * np.log(yh) + (1 - y) * np.log(1 - yh)), "sign"),
        (lambda yh, y: -np.mean(y * np.log(yh)), "one term"),
        (lambda yh, y: -np.mean(yh * np.log(y) + (1 - yh) * np.log(1 - y)), "swapped"),
    ]),
    ch1.check_linear_backward: (ch1.linear_backward, [
        (lambda dY, X, W: (dY @ W, X.T @ dY, dY.sum(0)), "dW transposed"),
        (lambda dY, X, W: (dY @ W.T, dY.T @ X, dY.sum(0)), "dX with Wᵀ"),
        (lambda dY, X, W: (dY @ W, dY.T @ X, dY.mean(0)), "db mean"),
    ]),
    ch1.check_sigmoid_prime: (ch1.sigmoid_prime, [
        (lambda x: x * (1 - x), "x instead of sigmoid(x)"),
        (lambda x: torch.sigmoid(x) * (torch.sigmoid(x) - 1), "sign"),
        (lambda x: torch.exp(-x) / (1 + torch.exp(-x)), "square missing"),
    ]),
}

VALUE_EXERCISES = {
    ch1.check_predicted_bound: (1.25, [(1.0, "no bias coordinate"), (5 ** 0.5 / 2, "not squared"),
                                       (0.8, "inverted"), (5, "gamma is one")]),
    ch1.check_map_uniform: ("b", [("a", "a"), ("c", "c"), ("d", "d")]),
    ch1.check_break_relu: ("b", [("a", "a"), ("c", "c"), ("d", "d")]),
    ch1.check_jump_sup_error: (0.5, [(0.0, "theorem applies"), (1.0, "whole jump")]),
}

ALL = {**FUNCTION_EXERCISES, **VALUE_EXERCISES}
IDS = [c.__name__ for c in ALL]


def _hints(mistakes):
    return {m.name: m.hint for m in mistakes}


HINTS = {
    ch0.check_neuron: _hints(ch0.NEURON_MISTAKES),
    ch1.check_perceptron_step: _hints(ch1.PERCEPTRON_MISTAKES),
    ch1.check_mean_bce: _hints(ch1.BCE_MISTAKES),
    ch1.check_linear_backward: _hints(ch1.LAYER_MISTAKES),
    ch1.check_sigmoid_prime: _hints(ch1.SIGMOID_MISTAKES),
    ch1.check_predicted_bound: _hints(ch1.BOUND_MISTAKES),
    ch1.check_jump_sup_error: _hints(ch1.JUMP_MISTAKES),
    ch1.check_map_uniform: ch1.MAP_UNIFORM_OPTIONS,
    ch1.check_break_relu: ch1.BREAK_RELU_OPTIONS,
}


def test_every_known_mistake_is_tested():
    for check, hints in HINTS.items():
        tested = {name for _, name in ALL[check][1]}
        assert set(hints) - tested <= {ALL[check][0]}, f"{check.__name__}: untested hints"


@pytest.mark.parametrize("check", ALL, ids=IDS)
def test_reference_passes(check, capsys):
    fb, out = run(check, ALL[check][0], capsys)
    assert fb.passed and out.startswith("✓"), out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # log(0) in the "swapped" answer
@pytest.mark.parametrize("check", ALL, ids=IDS)
def test_realistic_mistakes_get_their_own_hint(check, capsys):
    wrongs = ALL[check][1]
    assert len(wrongs) >= 2
    for answer, mistake in wrongs:
        fb, out = run(check, answer, capsys)
        assert fb.status == "failed" and out.startswith("✗"), out
        assert fb.mistake == mistake, f"{mistake!r} was diagnosed as {fb.mistake!r}:\n{out}"
        assert f"Hint: {HINTS[check][mistake]}" in out


@pytest.mark.parametrize("check", FUNCTION_EXERCISES, ids=[c.__name__ for c in FUNCTION_EXERCISES])
def test_function_feedback_names_the_input_expected_and_got(check, capsys):
    wrong, _ = FUNCTION_EXERCISES[check][1][0]
    _, out = run(check, wrong, capsys)
    assert "wrong result for input" in out and "expected" in out and "got" in out


@pytest.mark.parametrize("check", ALL, ids=IDS)
@pytest.mark.parametrize("blank", [stub, None, ...], ids=["stub", "None", "ellipsis"])
def test_unattempted_says_not_tried_yet(check, blank, capsys):
    fb, out = run(check, blank, capsys)
    assert fb.status == "not tried" and "not tried yet" in out


def test_student_exception_is_one_line_about_their_code(capsys):
    def perceptron_step(theta, x, y, eta):
        y_hat = 1 if theta @ x > 0 else 0
        return theta + eta * (y - y_hat) * x[3]          # index out of range

    fb, out = run(ch1.check_perceptron_step, perceptron_step, capsys)
    assert fb.status == "failed"
    assert "your function raised IndexError" in out
    assert "x[3]" in out and "on input θ = (0.5, −1, 0.2)" in out


def test_no_return_is_named(capsys):
    def mean_bce(y_hat, y):
        -np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))

    _, out = run(ch1.check_mean_bce, mean_bce, capsys)
    assert "returned None" in out and "return" in out


def test_wrong_shape_is_named(capsys):
    _, out = run(ch1.check_linear_backward,
                 lambda dY, X, W: (dY @ W, dY.T @ X, dY.sum(0, keepdim=True)), capsys)
    assert "shape (1, 3) instead of (3,)" in out


def test_prediction_says_which_way_without_giving_it_away(capsys):
    _, out = run(ch1.check_predicted_bound, 3.0, capsys)
    assert "too high" in out and "1.25" not in out


def test_choice_outside_the_options(capsys):
    fb, out = run(ch1.check_break_relu, "e", capsys)
    assert fb.status == "failed" and "not one of the options" in out


def test_a_student_function_may_not_spoil_the_next_case(capsys):
    def perceptron_step(theta, x, y, eta):        # right answer, but changes θ in place
        theta += eta * (y - float(theta @ x > 0)) * x
        return theta

    fb, _ = run(ch1.check_perceptron_step, perceptron_step, capsys)
    assert fb.passed


# ---------------------------------------------------------------- under nbgrader


@pytest.mark.parametrize("value", ["validate", "autograde"])
def test_under_nbgrader_failures_raise_and_passes_do_not(monkeypatch, capsys, value):
    monkeypatch.setenv("NBGRADER_EXECUTION", value)
    ch1.check_mean_bce(ch1.mean_bce)
    with pytest.raises(ex.ExerciseFailed, match="not tried yet"):
        ch1.check_mean_bce(stub)
    with pytest.raises(ex.ExerciseFailed, match="Hint: Your loss is n times too large"):
        ch1.check_mean_bce(lambda yh, y: -np.sum(y * np.log(yh) + (1 - y) * np.log(1 - yh)))
    with pytest.raises(AssertionError):   # nbgrader counts any error; this one is an AssertionError
        ch1.check_break_relu("a")


# ---------------------------------------------------------------- later cells go on


def test_yours_or_reference(capsys):
    assert ex.yours_or_reference(ch1.perceptron_step, perceptron.perceptron_step,
                                 ch1.PERCEPTRON_CASES) is ch1.perceptron_step
    assert "using your" in capsys.readouterr().out
    reference = ch1.perceptron_step
    assert ex.yours_or_reference(stub, reference, ch1.PERCEPTRON_CASES) is reference
    assert "not tried yet" in capsys.readouterr().out
    wrong = FUNCTION_EXERCISES[ch1.check_perceptron_step][1][0][0]
    assert ex.yours_or_reference(wrong, ch1.perceptron_step, ch1.PERCEPTRON_CASES) \
        is ch1.perceptron_step
    assert "not right yet" in capsys.readouterr().out


def test_yours_or_reference_under_nbgrader_does_not_raise(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert ex.yours_or_reference(stub, ch1.mean_bce, ch1.BCE_CASES) is ch1.mean_bce


# ---------------------------------------------------------------- the references themselves


def test_references_agree_with_independent_computations():
    bound = perceptron.novikoff_bound(ch1.BOUND_X, ch1.BOUND_Y)
    assert bound.bound == pytest.approx(ch1.BOUND, rel=1e-4)
    y_hat, y = ch1.BCE_CASES[0].args
    assert ch1.mean_bce(y_hat, y) == pytest.approx(torch.nn.functional.binary_cross_entropy(
        torch.tensor(y_hat), torch.tensor(y)).item())
    for case in ch1.LAYER_CASES:
        dY, X, W = case.args
        Xl, Wl = X.clone().requires_grad_(True), W.clone().requires_grad_(True)
        bl = torch.zeros(W.shape[0], dtype=torch.float64, requires_grad=True)
        ((Xl @ Wl.T + bl) * dY).sum().backward()     # ∂/∂Y of this is dY
        for mine, auto in zip(ch1.linear_backward(dY, X, W), (Xl.grad, Wl.grad, bl.grad)):
            torch.testing.assert_close(mine, auto)
    x = ch1.SIGMOID_CASES[2].args[0].clone().requires_grad_(True)
    torch.sigmoid(x).sum().backward()
    torch.testing.assert_close(ch1.sigmoid_prime(x.detach()), x.grad)
    for case in ch1.PERCEPTRON_CASES:
        np.testing.assert_allclose(ch1.perceptron_step(*case.args),
                                   perceptron.perceptron_step(*case.args))


# ---------------------------------------------------------------- bad input to the framework


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="cases"):
        ex.function_feedback(stub, ch1.mean_bce, [])
    with pytest.raises(TypeError, match="reference_fn"):
        ex.function_feedback(stub, 3, ch1.BCE_CASES)
    with pytest.raises(ValueError, match="exactly one of fn, value, predicate"):
        ex.Mistake("x", "hint")
    with pytest.raises(ValueError, match="hint"):
        ex.Mistake("x", "", value=1)
    with pytest.raises(TypeError, match="args"):
        ex.Case([1, 2])
    with pytest.raises(ValueError, match="tol"):
        ex.value_feedback(1.0, 1.0, tol=-1)
    with pytest.raises(ValueError, match="correct"):
        ex.choice_feedback("a", "z", {"a": "..."})
    with pytest.raises(ValueError, match="value= or predicate="):
        ex.value_feedback(1.0, 1.0, mistakes=[ex.Mistake("m", "h", fn=abs)])


@pytest.mark.parametrize("call, error, match", [
    # the framework's own arguments: a wrong type is a TypeError, a wrong value a ValueError
    (lambda: ex.Mistake(3, "hint", value=1), TypeError, "name must be a string"),
    (lambda: ex.Mistake("", "hint", value=1), ValueError, "name must be a non-empty"),
    (lambda: ex.Mistake("x", None, value=1), TypeError, "hint must be a string"),
    (lambda: ex.function_feedback(stub, ch1.mean_bce, [(1, 2)]), TypeError, "cases must hold"),
    (lambda: ex.function_feedback(stub, ch1.mean_bce, ch1.BCE_CASES, rtol="0"), TypeError,
     "rtol must be a number"),
    (lambda: ex.function_feedback(stub, ch1.mean_bce, ch1.BCE_CASES, atol=-1e-8), ValueError,
     "atol"),
    (lambda: ex.function_feedback(stub, ch1.mean_bce, ch1.BCE_CASES, mistakes=["m"]),
     TypeError, "mistakes must hold"),
    (lambda: ex.function_feedback(stub, ch1.mean_bce, ch1.BCE_CASES,
                                  mistakes=[ex.Mistake("m", "h", value=1)]),
     ValueError, "fn= or predicate="),
    (lambda: ex.value_feedback(1.0, 1.0, tol=None), TypeError, "tol must be a number"),
    (lambda: ex.value_feedback(1.0, 1.0, rtol=float("nan")), ValueError, "rtol"),
    (lambda: ex.choice_feedback("a", "a", ["a"]), TypeError, "explanations must be a dict"),
    (lambda: ex.choice_feedback("a", "z", {"a": "..."}), ValueError, "correct must be one of"),
])
def test_bad_framework_arguments_raise_the_right_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
