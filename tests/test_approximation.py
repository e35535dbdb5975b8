"""§1.5: mplib.approximation (compute) and the universal approximation widget (headless)."""

import numpy as np
import pytest
import torch

from mplib import approximation as ua
from mplib.widgets.approximation import ApproximationWidget


def test_g_is_a_one_hidden_layer_network():
    w, b = ua.random_features(7, seed=1)
    v = np.random.default_rng(0).standard_normal(7)
    x = np.linspace(0, 1, 11)
    net = torch.nn.Sequential(torch.nn.Linear(1, 7), torch.nn.Sigmoid(),
                              torch.nn.Linear(7, 1, bias=False)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(w)[:, None])
        net[0].bias.copy_(torch.tensor(b))
        net[2].weight.copy_(torch.tensor(v)[None])
        expected = net(torch.tensor(x)[:, None])[:, 0].numpy()
    np.testing.assert_allclose(ua.g(x, v, w, b, "sigmoid"), expected, rtol=1e-12)


def test_least_squares_is_optimal():
    """v satisfies the (ridge) normal equations on the fitting grid."""
    r = ua.approximate("bump", 12, "tanh")
    xs = np.linspace(0, 1, ua.FIT_POINTS)
    H = ua.hidden(xs, r.w, r.b, "tanh")
    grad = H.T @ (H @ r.v - ua.TARGETS["bump"](xs)) + ua.RIDGE * r.v
    np.testing.assert_allclose(grad, 0, atol=1e-6)


@pytest.mark.parametrize("activation", list(ua.ACTIVATIONS))
def test_error_shrinks_with_N_for_continuous_f(activation):
    Ns, e = ua.error_curve("|x − 0.4|", activation, [1, 100])
    assert e[1] < 0.2 * e[0]
    assert ua.approximate("sine", 100, "sigmoid").sup_error < 0.01


def test_error_curve_matches_fit_and_jump_stays():
    Ns, e = ua.error_curve("wiggle", "relu", [3, 17, 40])
    for N, err in zip(Ns, e):
        assert err == pytest.approx(ua.approximate("wiggle", int(N), "relu").sup_error, rel=1e-6)
    # f not continuous: the sup error cannot go below half the jump
    assert ua.error_curve("jump (not continuous)", "sigmoid", [100])[1][0] > 0.45


def test_nested_features_and_determinism():
    w5, b5 = ua.random_features(5)
    w9, b9 = ua.random_features(9)
    np.testing.assert_array_equal(w9[:5], w5)
    assert ua.approximate("sine", 9).sup_error == ua.approximate("sine", 9).sup_error


@pytest.mark.parametrize("call, error, match", [
    (lambda: ua.approximate("sine", 5, "swish"), ValueError, "activation must be one of"),
    (lambda: ua.approximate("cosine", 5), ValueError, "target must be one of"),
    (lambda: ua.approximate("sine", 0), ValueError, r"N must be an integer in 1\.\.200"),
    (lambda: ua.approximate("sine", 5.0), TypeError, "N must be an integer"),
    (lambda: ua.random_features(ua.POOL + 1), ValueError, "N must be an integer in 1..200"),
    (lambda: ua.random_features(3, seed=1.5), TypeError, "seed must be an integer"),
    (lambda: ua.error_curve("sine", "tanh", [1, 0]), ValueError, "N must be an integer in"),
    (lambda: ua.hidden([0.5], [1.0], [0.0], "softsign"), ValueError, "activation must be one of"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_any_callable_is_a_target():
    assert ua.approximate(lambda x: x ** 2, 10).sup_error < 0.05  # any callable f


def test_widget_headless():
    w = ApproximationWidget()
    assert w.error is None
    err5 = w.fit.sup_error
    w.controls["N"].value = 60
    assert w.fit.N == 60 and w.fit.sup_error < err5
    np.testing.assert_allclose(w.g_line.get_ydata(), w.fit.g)
    assert w.n_point.get_xdata()[0] == 60
    w.controls["activation"].value = "step"
    assert w.fit.activation == "step"
    w.controls["target"].value = "bump"
    np.testing.assert_allclose(w.f_line.get_ydata(), ua.TARGETS["bump"](w.fit.x))
    Ns, errors = ua.error_curve("bump", "step", np.arange(1, 101))
    np.testing.assert_allclose(w.n_line.get_ydata(), np.maximum(errors, max(errors.min(), 1e-6)))


def test_widget_and_notebook_report_the_same_error():
    # Notebook 01 calls ua.approximate("sine" as a function, N, "sigmoid"); so does the widget.
    w = ApproximationWidget()
    w.controls["N"].value = 100
    notebook = ua.approximate(lambda x: np.sin(4 * np.pi * x), 100, "sigmoid")
    assert w.fit.sup_error == pytest.approx(notebook.sup_error, rel=1e-9)
    assert w.ax_e.get_title() == f"sup |f − g| = {notebook.sup_error:.1e}"
    assert "e-0" in w.ax_e.get_title()
