"""§1.1 activation functions: the one table agrees with torch, its σ', its γ and the notes."""

import warnings

import numpy as np
import pytest
import torch

from mplib import activations, approximation, models, rnn_gradients
from mplib.activations import ACTIVATIONS
from mplib.widgets import neuron

A = np.linspace(-6.0, 6.0, 1201)


def test_step_is_one_for_positive_inputs_only():
    assert ACTIVATIONS["step"]([-1.0, 0.0, 1e-12, 2.0]).tolist() == [0.0, 0.0, 1.0, 1.0]


def test_sigmoid_is_the_logistic_function_and_does_not_overflow():
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"](A), 1.0 / (1.0 + np.exp(-A)), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                # an overflow warning fails the test
        out = ACTIVATIONS["sigmoid"]([-1000.0, 1000.0])
        slope = ACTIVATIONS["sigmoid"].derivative(np.array([-1000.0, 1000.0]))
    assert out.tolist() == [0.0, 1.0] and slope.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name", activations.names(trainable=True))
def test_numpy_torch_and_derivative_agree(name):
    act = ACTIVATIONS[name]
    a = torch.tensor(A, requires_grad=True)
    y = act.module()(a)
    y.sum().backward()
    np.testing.assert_allclose(act(A), y.detach().numpy(), rtol=1e-12, atol=1e-15)
    keep = np.abs(A) > 1e-9                               # ReLU has no derivative at 0
    np.testing.assert_allclose(act.derivative(A)[keep], a.grad.numpy()[keep], rtol=1e-12,
                               atol=1e-15)
    assert act.derivative(A).max() == pytest.approx(act.gamma)    # γ = sup |σ'|, reached


def test_every_chapter_uses_the_one_table():
    assert approximation.ACTIVATIONS is ACTIVATIONS and neuron.ACTIVATIONS is ACTIVATIONS
    assert set(rnn_gradients.ACTIVATION_NAMES) == set(activations.names(differentiable=True))
    net = models.mlp(2, (3,), 1, "tanh")
    assert isinstance(net[2], torch.nn.Tanh)


def test_bad_names_are_named():
    with pytest.raises(ValueError, match="activation must be one of"):
        activations.get("softsign")
    trainable = r"activation must be one of \('sigmoid', 'tanh', 'relu'\)"
    with pytest.raises(ValueError, match=trainable):
        models.mlp(2, (3,), 1, "step")                # no gradient flows through a step


def test_neuron_compute():
    x = np.array([-1.0, 0.0, 1.0])
    np.testing.assert_allclose(activations.neuron(x, 2.0, 0.0), 1 / (1 + np.exp(-2 * x)))
    np.testing.assert_allclose(activations.neuron(x, 1.0, -0.5, "relu"), [0, 0, 0.5])
    np.testing.assert_array_equal(activations.neuron(x, 1.0, 0.0, "step"), [0, 0, 1])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(activation="swish"), ValueError, "activation must be one of"),
    (dict(activation=None), ValueError, "activation must be one of"),
    (dict(w="1"), TypeError, "w must be a number"),
    (dict(b=True), TypeError, "b must be a number"),
    (dict(w=float("nan")), ValueError, "w must be a finite number"),
])
def test_neuron_bad_arguments(kwargs, error, match):
    args = dict(x=np.zeros(3), w=1.0, b=0.0) | kwargs
    with pytest.raises(error, match=match):
        activations.neuron(**args)
