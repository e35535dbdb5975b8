"""§4.1/§4.2 gradient norms through time: the explicit Jacobian recursion against autograd."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mplib import rnn_gradients as rg
from mplib.widgets.vanishing import VanishingGradientWidget

TORCH_ACT = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


def _setup(H=5, D=3, T=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((H, H)), rng.standard_normal((H, D)), rng.standard_normal((T, D))


@pytest.mark.parametrize("activation", list(rg.ACTIVATION_NAMES))
def test_elman_step_jacobians_match_autograd(activation):
    W_h, W_x, x = _setup()
    h, _ = rg.elman_forward(W_h, W_x, x, activation)
    J = rg.elman_step_jacobians(W_h, W_x, x, activation)
    Wh, Wx = torch.tensor(W_h), torch.tensor(W_x)
    for t in range(len(x)):
        step = lambda hp: TORCH_ACT[activation](Wh @ hp + Wx @ torch.tensor(x[t]))  # noqa: E731
        ref = torch.autograd.functional.jacobian(step, torch.tensor(h[t]))
        np.testing.assert_allclose(J[t], ref.numpy(), atol=1e-12)


def test_lstm_step_jacobians_match_autograd():
    rng = np.random.default_rng(1)
    H, D, T, b_f = 4, 3, 6, 0.7
    W_h = {k: rng.standard_normal((H, H)) for k in "fiog"}
    W_x = {k: rng.standard_normal((H, D)) for k in "fiog"}
    x = rng.standard_normal((T, D))
    J = rg.lstm_step_jacobians(W_h, W_x, x, b_f)
    Wh = {k: torch.tensor(v) for k, v in W_h.items()}
    Wx = {k: torch.tensor(v) for k, v in W_x.items()}

    def step(s, xt):
        h, c = s[:H], s[H:]
        f = torch.sigmoid(Wh["f"] @ h + Wx["f"] @ xt + b_f)
        i = torch.sigmoid(Wh["i"] @ h + Wx["i"] @ xt)
        o = torch.sigmoid(Wh["o"] @ h + Wx["o"] @ xt)
        g = torch.tanh(Wh["g"] @ h + Wx["g"] @ xt)
        c = f * c + i * g
        return torch.cat([o * torch.tanh(c), c])

    s = torch.zeros(2 * H, dtype=torch.float64)
    for t in range(T):
        xt = torch.tensor(x[t])
        ref = torch.autograd.functional.jacobian(lambda v: step(v, xt), s)
        np.testing.assert_allclose(J[t], ref.numpy(), atol=1e-12)
        s = step(s, xt)


def test_log_norms_back_equals_direct_product():
    W_h, W_x, x = _setup(T=9)
    J = rg.elman_step_jacobians(W_h, W_x, x)
    out = rg.log_norms_back(J)
    P = np.eye(5)
    for n in range(len(J) + 1):
        assert out[n] == pytest.approx(np.log(np.linalg.norm(P, 2)), abs=1e-9)
        if n < len(J):
            P = P @ J[len(J) - 1 - n]
    rows = rg.log_norms_back(J, rows=2)
    assert rows[0] == pytest.approx(0.0)


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.1, 3.0), activation=st.sampled_from(list(rg.ACTIVATION_NAMES)),
       T=st.integers(1, 40))
def test_elman_obeys_the_singular_value_bound(scale, activation, T):
    c = rg.gradient_curves(rg.RandomWeights(hidden=8, T_max=40), scale, activation, T)
    assert np.all(c["elman"] <= c["bound"] + 1e-9)
    assert c["slope"] == pytest.approx(np.log(rg.gamma(activation) * scale))
    assert len(c["n"]) == len(c["lstm"]) == T + 1


def test_tiny_norms_stay_finite():
    c = rg.gradient_curves(rg.RandomWeights(), 0.1, "sigmoid", 100)
    assert np.all(np.isfinite(c["elman"])) and c["elman"][-1] < -300


def test_with_largest_singular_value():
    W = rg.with_largest_singular_value(np.arange(6.0).reshape(2, 3), 2.5)
    assert np.linalg.svd(W, compute_uv=False)[0] == pytest.approx(2.5)


def test_bad_arguments_name_themselves():
    w = rg.RandomWeights(hidden=4, T_max=10)
    with pytest.raises(ValueError, match="scale"):
        rg.gradient_curves(w, -1.0)
    with pytest.raises(ValueError, match="activation"):
        rg.gradient_curves(w, 1.0, "swish")
    with pytest.raises(ValueError, match=r"T must be an integer in 1\.\.10, got 11"):
        rg.gradient_curves(w, 1.0, "tanh", 11)
    with pytest.raises(TypeError, match="T must be an integer"):
        rg.gradient_curves(w, 1.0, "tanh", 5.0)
    with pytest.raises(TypeError, match="scale must be a number"):
        rg.gradient_curves(w, "1")
    with pytest.raises(TypeError, match="hidden must be an integer"):
        rg.RandomWeights(hidden=True)
    with pytest.raises(ValueError, match="activation must be one of"):
        rg.elman_forward(np.ones((2, 2)), np.ones((2, 1)), np.ones((4, 1)), "step")
    with pytest.raises(ValueError, match="hidden"):
        rg.RandomWeights(hidden=0)
    with pytest.raises(ValueError, match="W_h"):
        rg.elman_forward(np.ones((2, 3)), np.ones((2, 1)), np.ones((4, 1)))
    with pytest.raises(ValueError, match="J"):
        rg.log_norms_back(np.ones((3, 2)))


def test_widget_draws_the_gradient_norms():
    w = VanishingGradientWidget(hidden=8, T_max=40)
    w.controls["scale"].value = 2.0
    assert w.error is None
    np.testing.assert_allclose(w.elman_line.get_ydata(), w.last["elman"])
    w.controls["show"].value = "LSTM"
    assert not w.elman_line.get_visible() and w.lstm_line.get_visible()
    w.controls["activation"].value = "sigmoid"
    assert w.last["slope"] == pytest.approx(np.log(0.25 * 2.0))
    with pytest.raises(ValueError, match=r"show must be one of \('Elman', 'LSTM', 'both'\)"):
        w.draw(1.0, "tanh", 10, "GRU", 0.0)


def test_widget_limits_fit_the_curves_shown():
    w = VanishingGradientWidget(hidden=8, T_max=100)
    assert w.controls["b_f"].value == 0.0  # the notes' LSTM has no bias
    w.controls["scale"].value = 3.0
    w.controls["T"].value = 100
    bound_end = w.last["bound"][-1]
    assert w.ax.get_ylim()[1] >= bound_end  # both: the bound is shown and fits
    w.controls["show"].value = "LSTM"
    lo, hi = w.ax.get_ylim()
    lstm = w.last["lstm"][np.isfinite(w.last["lstm"])]
    assert hi < bound_end and lo <= lstm.min() and hi >= max(lstm.max(), 1.0)
    assert "(h, c)" in w.lstm_line.get_label() and "b_f = 0" in w.ax.get_title()


def test_widget_shows_errors_in_place():
    def broken(*args):
        raise ValueError("scale is out of range")
    w = VanishingGradientWidget(hidden=4, T_max=10, curves=broken)
    assert isinstance(w.error, ValueError) and "scale" in w.message.value
