"""§4 adding problem generator and the many-to-one regressor."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mplib import recurrent, sequences


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 50), T=st.integers(2, 60), seed=st.integers(0, 1000))
def test_adding_problem_structure(n, T, seed):
    X, y = sequences.adding_problem(n, T, seed=seed)
    assert X.shape == (n, T, 2) and y.shape == (n,)
    assert X.dtype == y.dtype == torch.float32
    values, markers = X[..., 0], X[..., 1]
    assert torch.all((values >= 0) & (values < 1))
    assert torch.all((markers == 0) | (markers == 1))
    assert torch.all(markers.sum(1) == 2), "exactly two markers per sequence"
    assert torch.all(markers[:, : T // 2].sum(1) == 1), "one marker in the first half"
    torch.testing.assert_close(y, (values * markers).sum(1))  # the masked sum


def test_adding_problem_is_seeded():
    a, b, c = (sequences.adding_problem(8, 10, seed=s) for s in (3, 3, 4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and not torch.equal(a[0], c[0])
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    assert torch.equal(sequences.adding_problem(5, 6, generator=g1)[0],
                       sequences.adding_problem(5, 6, generator=g2)[0])


def test_constant_baseline_is_one_sixth():
    _, y_train = sequences.adding_problem(20000, 20, seed=0)
    _, y_test = sequences.adding_problem(20000, 20, seed=1)
    assert float(y_train.mean()) == pytest.approx(1.0, abs=0.01)
    mse = sequences.constant_baseline_mse(y_train, y_test)
    assert mse == pytest.approx(sequences.BASELINE_MSE, rel=0.03)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        sequences.adding_problem(0, 10)
    with pytest.raises(ValueError, match="T must be an integer >= 2, got 1"):
        sequences.adding_problem(5, 1)
    with pytest.raises(TypeError, match="T must be an integer, got float"):
        sequences.adding_problem(5, 10.0)
    with pytest.raises(TypeError, match="n must be an integer, got bool"):
        sequences.adding_problem(True, 10)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        sequences.adding_problem(5, 10, seed=-1)
    with pytest.raises(TypeError, match="generator"):
        sequences.adding_problem(5, 10, generator=3)
    with pytest.raises(TypeError, match="y_train"):
        sequences.constant_baseline_mse([1.0], torch.ones(2))


@pytest.mark.parametrize("cell", ["elman", "lstm"])
def test_sequence_regressor(cell):
    model = recurrent.SequenceRegressor(cell, input_size=2, hidden_size=8, num_layers=2)
    X, _ = sequences.adding_problem(4, 12)
    assert model(X).shape == (4,)
    with pytest.raises(ValueError, match="x"):
        model(X[0])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(cell="gru"), ValueError, r"cell must be one of \('elman', 'lstm'\)"),
    (dict(hidden_size=0), ValueError, "hidden_size must be an integer >= 1"),
    (dict(num_layers=-1), ValueError, "num_layers must be an integer >= 1"),
    (dict(hidden_size=8.0), TypeError, "hidden_size must be an integer"),
    (dict(input_size="2"), TypeError, "input_size must be an integer"),
])
def test_sequence_regressor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        recurrent.SequenceRegressor(**kwargs)


def test_full_mode_setting_constructs():
    # the full-mode run uses T = 200; a tiny step of it must run on the CPU
    X, y = sequences.adding_problem(3, 200, seed=0)
    model = recurrent.SequenceRegressor("lstm", hidden_size=4)
    out = model(X)
    assert X.shape == (3, 200, 2) and out.shape == y.shape == (3,)
    loss = torch.nn.functional.mse_loss(out, y)
    assert torch.isfinite(loss)
    loss.backward()
    # the gradient reaches every parameter through all 200 steps, and stays finite
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
