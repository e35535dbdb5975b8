"""One light-weight way to build each widget, for the benchmark (untrained stand-ins where a
widget takes a trained model or its outputs: the update cost does not depend on the weights)."""

import numpy as np
import torch
from torch import nn

from mplib.widgets.approximation import ApproximationWidget
from mplib.widgets.attention import AttentionWidget
from mplib.widgets.blind_spot import BlindSpotWidget
from mplib.widgets.dilation import DilationWidget
from mplib.widgets.interpolation import InterpolationWidget
from mplib.widgets.made import MadeWidget
from mplib.widgets.neuron import NeuronWidget
from mplib.widgets.perceptron import PerceptronWidget
from mplib.widgets.receptive_field import ReceptiveFieldWidget
from mplib.widgets.upsampling import UpsamplingWidget
from mplib.widgets.vanishing import VanishingGradientWidget


def _receptive_field():
    def cnn():
        return nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2))

    torch.manual_seed(0)
    return ReceptiveFieldWidget(trained=cnn(), untrained=cnn(), images=torch.rand(8, 1, 28, 28))


def _interpolation():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 30)
    Z = rng.normal(size=(300, 2)) + rng.normal(size=(10, 2))[labels] * 2
    W = rng.normal(size=(2, 784))

    def decode(z):  # a random linear decoder to 28x28, as cheap as the notebook's small MLP
        return (1 / (1 + np.exp(-np.asarray(z) @ W))).reshape(-1, 28, 28)

    return InterpolationWidget(decode, Z, labels)


def _attention():
    rng = np.random.default_rng(0)
    maps = rng.random((2, 2, 65, 65)) * np.tril(np.ones((65, 65)))  # layers, heads, queries, keys
    return AttentionWidget(maps / maps.sum(-1, keepdims=True))


FACTORIES = {
    "neuron (00)": NeuronWidget,
    "perceptron (01)": PerceptronWidget,
    "universal approximation (01)": ApproximationWidget,
    "receptive field (02)": _receptive_field,
    "upsampling explorer (03)": UpsamplingWidget,
    "vanishing gradients (04)": VanishingGradientWidget,
    "latent interpolation (05)": _interpolation,
    "MADE masks (06a)": MadeWidget,
    "PixelCNN blind spot (06b)": BlindSpotWidget,
    "WaveNet dilation (06b)": DilationWidget,
    "attention map (06c)": _attention,
}
