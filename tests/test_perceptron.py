"""§1.1: mplib.perceptron (compute) and the perceptron widget (headless)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mplib import data
from mplib.perceptron import augment, max_margin, novikoff_bound, perceptron_step, train_perceptron
from mplib.perceptron import misclassified, perceptron_demo
from mplib.widgets.perceptron import PerceptronWidget


def test_step_is_the_update_rule():
    theta, x = np.array([1.0, -1.0, 0.0]), np.array([0.5, 1.0, 1.0])  # θᵀx = -0.5: ŷ = 0
    np.testing.assert_allclose(perceptron_step(theta, x, 1, 0.1), theta + 0.1 * x)
    np.testing.assert_allclose(perceptron_step(theta, x, 0, 0.1), theta)      # correct: no change
    np.testing.assert_allclose(perceptron_step(-theta, x, 0, 2.0), -theta - 2 * x)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), margin=st.floats(0.2, 1.5))
def test_converges_within_novikoff_bound(seed, margin):
    X, y = data.blobs(40, margin=margin, seed=seed)
    X = X.numpy() + np.array([1.0, 0.5])
    tr = train_perceptron(X, y, eta=1.0, epochs=60)
    b = novikoff_bound(X, y)
    assert tr.mistakes_per_epoch[-1] == 0
    assert not misclassified(tr.theta, X, y.numpy()).any()
    assert 0 < tr.total_mistakes <= b.bound
    # the max-margin θ* separates with margin γ, and γ is at least blobs' guarantee (in x̃)
    s = 2 * y.numpy() - 1
    assert np.min(s * (augment(X) @ b.theta)) == pytest.approx(b.gamma, rel=1e-5)


def test_margin_matches_scikit_learn_svm():
    """A hard-margin SVM (large C) through the origin of x̃-space gives the same γ."""
    from sklearn.svm import SVC

    X, y = data.blobs(50, margin=0.4, seed=3)
    X = X.numpy() + np.array([1.0, 0.5])
    theta, gamma = max_margin(X, y)
    # SVC fits an unpenalised intercept: append a large constant feature so that the
    # penalised weights carry the bias; γ then approaches ours from below.
    svc = SVC(kernel="linear", C=1e6).fit(augment(X), y.numpy())
    w = svc.coef_[0]
    s = 2 * y.numpy() - 1
    m = np.min(s * (augment(X) @ w + svc.intercept_[0])) / np.linalg.norm(
        np.r_[w[:2], w[2] + svc.intercept_[0]])
    assert m <= gamma + 1e-6


def test_xor_never_converges_and_has_no_bound():
    X, y = data.xor(40, seed=0)
    tr = train_perceptron(X, y, 1.0, 20)
    assert (tr.mistakes_per_epoch > 0).all()
    b = novikoff_bound(X, y)
    assert b.gamma == 0 and b.bound == float("inf") and b.theta is None


def test_eta_only_rescales_from_zero_and_theta0_bound():
    X, y = data.blobs(30, margin=0.5, seed=1)
    a, b = train_perceptron(X, y, 1.0, 5), train_perceptron(X, y, 0.1, 5)
    np.testing.assert_allclose(b.thetas, 0.1 * a.thetas)
    t0 = np.array([1.0, -1.0, 0.5])
    assert novikoff_bound(X, y, theta0=t0, eta=0.5).bound > novikoff_bound(X, y).bound


def test_custom_step_is_used():
    X, y = data.blobs(20, seed=0)
    calls = []

    def step(theta, x, yi, eta):
        calls.append(1)
        return theta
    tr = train_perceptron(X, y, 1.0, 2, step=step)
    assert len(calls) == 40 and not tr.thetas.any()


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(eta=0.0), ValueError, "eta must be a finite number > 0"),
    (dict(eta="1"), TypeError, "eta must be a number"),
    (dict(epochs=0), ValueError, "epochs must be an integer >= 1"),
    (dict(epochs=2.0), TypeError, "epochs must be an integer"),
    (dict(step=3), TypeError, "step"),
    (dict(theta0=[1.0]), ValueError, "theta0"),
])
def test_bad_arguments(kwargs, err, match):
    X, y = data.blobs(10, seed=0)
    with pytest.raises(err, match=match):
        train_perceptron(X, y, **{"eta": 1.0, "epochs": 2, **kwargs})
    with pytest.raises(ValueError, match="y"):
        train_perceptron(X, y[:5])
    with pytest.raises(ValueError, match="y"):
        train_perceptron(X, y * 2 - 1)
    with pytest.raises(ValueError, match="X"):
        train_perceptron(np.zeros(5), y)


def test_demo_compute():
    d = perceptron_demo("blobs", 0.3, 0, 1.0, n=40, epochs=10)
    assert d.trajectory.thetas.shape == (401, 3)
    assert d.trajectory.total_mistakes <= d.bound.bound
    np.testing.assert_allclose(d.trajectory.thetas[0], d.theta0)
    assert perceptron_demo("xor", n=40, epochs=3).bound.bound == float("inf")
    with pytest.raises(ValueError, match="kind must be one of"):
        perceptron_demo("moons")
    with pytest.raises(TypeError, match="n must be an integer"):
        perceptron_demo(n=60.0)


def test_widget_headless():
    w = PerceptronWidget()
    assert w.error is None
    w.controls["t"].value = 300
    np.testing.assert_allclose(w.line.get_xydata().shape, (2, 2))
    theta = w.demo.trajectory.thetas[300]
    assert len(w.wrong.get_offsets()) == misclassified(theta, w.demo.X, w.demo.y).sum()
    old = w.demo
    w.controls["kind"].value = "xor"
    assert w.demo is not old and not w.bound_line.get_visible()
    w.controls["kind"].value = "blobs"
    w.controls["margin"].value = 1.0
    assert w.bound_line.get_visible()
    assert w.bound_line.get_ydata()[0] == pytest.approx(w.demo.bound.bound)


def test_widget_runs_the_notebooks_step():
    seen = []

    def my_step(theta, x, y, eta):
        seen.append(eta)
        return perceptron_step(theta, x, y, eta)
    w = PerceptronWidget(step=my_step)
    assert seen and w.error is None
    with pytest.raises(TypeError, match="step"):
        PerceptronWidget(step="no")


def test_widget_epochs_control_lets_slow_runs_finish():
    # margin 0.05 and η = 0.01: some seeds still make mistakes in epoch 12.
    w = PerceptronWidget()
    w.controls["margin"].value = 0.05
    w.controls["eta"].value = 0.01
    late = []
    for seed in range(10):
        w.controls["seed"].value = seed
        if w.demo.trajectory.mistakes_per_epoch[-1] > 0:
            late.append(seed)
    assert late, "expected a seed that is still making mistakes after 12 epochs"
    w.controls["seed"].value = late[0]
    w.controls["epochs"].value = w.MAX_EPOCHS
    per_epoch = w.demo.trajectory.mistakes_per_epoch
    assert len(per_epoch) == w.MAX_EPOCHS and per_epoch[-1] == 0
    assert w.controls["t"].max == w.play.max == w.N * w.MAX_EPOCHS
    assert list(w.per_epoch.get_xdata()) == list(range(1, w.MAX_EPOCHS + 1))
    w.controls["t"].value = w.controls["t"].max
    w.controls["epochs"].value = 2                   # a shorter run clamps the step
    assert w.error is None and w.controls["t"].value == w.controls["t"].max == 2 * w.N
    assert "in 2 epochs" in w.ax_m.get_title()


def test_widget_legend_is_outside_the_data():
    w = PerceptronWidget()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    legend = w.ax.get_legend()
    renderer = FigureCanvasAgg(w.fig).get_renderer()
    box, axes = legend.get_window_extent(renderer), w.ax.get_window_extent(renderer)
    assert box.y1 <= axes.y0, "the legend must sit below the axes, not over the points"
