"""Models more than one chapter uses.

* :func:`mlp`: the multi-layer perceptron of §1.1, ŷ = W_k σ(W_{k-1} ⋯ σ(W_1 x)), for images
  (it starts by flattening them). Chapter 1 trains it on the digits; chapter 2 compares its
  CNN against it ("the chapter 1 MLP").
* ``DIGITS_MLP_HIDDEN``: the hidden sizes chapter 1 uses on the 8×8 digits, (128,): one
  hidden layer of 128 units, 64·128 + 128 + 128·10 + 10 = 9 610 parameters.
* ``MNIST_MLP_HIDDEN``: the hidden sizes chapter 1 uses on 28×28 MNIST in full mode.
"""

from __future__ import annotations

from torch import nn

from . import activations, checks

DIGITS_MLP_HIDDEN = (128,)
MNIST_MLP_HIDDEN = (512, 256)


def mlp(in_features: int, hidden, out_features: int, activation: str = "relu",
        *, dropout: float = 0.0, flatten: bool = True) -> nn.Sequential:
    """Flatten, then Linear → σ (→ Dropout) for each size in ``hidden``, then a Linear output.

    The output layer has no activation: it returns logits (use cross-entropy on them).
    ``hidden`` is a sequence of sizes, e.g. ``DIGITS_MLP_HIDDEN``; ``()`` gives a linear model.
    ``flatten=False`` leaves out the Flatten, for inputs that are already vectors with any
    leading dimensions (the VAE's codes z of shape (K, N, d), the VRNN's per-step inputs).
    """
    in_features = checks.integer(in_features, "in_features")
    out_features = checks.integer(out_features, "out_features")
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = (hidden,)
    try:
        hidden = tuple(hidden)
    except TypeError:
        raise TypeError(f"hidden must be a sequence of layer sizes, got {hidden!r}") from None
    hidden = tuple(checks.integer(h, f"hidden[{k}]") for k, h in enumerate(hidden))
    # σ from the one table (mplib.activations), among those a network can be trained through
    sigma = activations.get(activation, among=activations.names(trainable=True)).module
    dropout = checks.number(dropout, "dropout", at_least=0, below=1)
    layers: list[nn.Module] = [nn.Flatten()] if flatten else []
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), sigma()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)
