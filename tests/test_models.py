"""mplib.models: the chapter 1 MLP that chapter 2 compares against."""

import pytest
import torch
from torch import nn

from mplib import data, models, train


def test_mlp_shapes_and_layers():
    m = models.mlp(64, models.DIGITS_MLP_HIDDEN, 10)
    assert isinstance(m, nn.Sequential) and isinstance(m[0], nn.Flatten)
    assert m(torch.zeros(5, 1, 8, 8)).shape == (5, 10)
    linears = [layer for layer in m if isinstance(layer, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(64, 128), (128, 10)]
    assert sum(p.numel() for p in m.parameters()) == 64 * 128 + 128 + 128 * 10 + 10
    assert isinstance(m[2], nn.ReLU)


def test_mlp_options():
    m = models.mlp(784, (32, 16), 3, "tanh", dropout=0.2)
    assert sum(isinstance(l, nn.Tanh) for l in m) == 2
    assert sum(isinstance(l, nn.Dropout) for l in m) == 2
    assert m(torch.zeros(2, 1, 28, 28)).shape == (2, 3)
    linear = models.mlp(4, (), 2)
    assert len(linear) == 2 and isinstance(linear[1], nn.Linear)
    assert models.mlp(4, 7, 2)[1].out_features == 7


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(in_features=0), ValueError, "in_features must be an integer >= 1"),
    (dict(hidden=(4, -1)), ValueError, r"hidden\[1\] must be an integer >= 1"),
    (dict(hidden=(4, 2.0)), TypeError, r"hidden\[1\] must be an integer"),
    (dict(hidden=None), TypeError, "hidden must be a sequence of layer sizes"),
    (dict(out_features=2.5), TypeError, "out_features must be an integer"),
    (dict(in_features=True), TypeError, "in_features must be an integer"),
    (dict(activation="swish"), ValueError, "activation must be one of"),
    (dict(dropout=1.0), ValueError, "dropout must be a finite number >= 0 and < 1"),
    (dict(dropout="0.1"), TypeError, "dropout must be a number"),
])
def test_mlp_bad_arguments(kwargs, error, match):
    args = dict(in_features=4, hidden=(4,), out_features=2) | kwargs
    with pytest.raises(error, match=match):
        models.mlp(**args)


def test_full_mode_configuration_trains_one_tiny_epoch():
    """The full-mode model (MNIST sizes) constructs and runs through train.fit."""
    torch.manual_seed(0)
    X = torch.rand(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))
    m = models.mlp(784, models.MNIST_MLP_HIDDEN, 10, dropout=0.2)
    h = train.fit(m, (X, y), epochs=1, lr=1e-3, test=(X, y), progress=False, device="cpu")
    assert len(h.test_accuracy) == 1


def test_digits_mlp_learns_quickly():
    d = data.load("digits")
    torch.manual_seed(0)
    m = models.mlp(64, models.DIGITS_MLP_HIDDEN, 10)
    h = train.fit(m, d, epochs=5, lr=3e-3, progress=False, device="cpu")
    assert h.test_accuracy[-1] > 0.85


def test_mlp_without_flatten_keeps_leading_dimensions():
    # the VAE's decoder takes codes z of shape (K, N, d); a Flatten would merge N and d
    net = models.mlp(3, (5,), 2, flatten=False)
    assert not any(isinstance(m, nn.Flatten) for m in net)
    assert net(torch.zeros(4, 6, 3)).shape == (4, 6, 2)
    assert models.mlp(3, (5,), 2)(torch.zeros(4, 3)).shape == (4, 2)
