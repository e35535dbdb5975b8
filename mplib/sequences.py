"""Synthetic sequence tasks for the recurrent networks of §4 (the adding problem).

The adding problem (Hochreiter & Schmidhuber, 1997) tests long-range memory: each input is a
sequence of T pairs (value, marker); the values are uniform on [0, 1), exactly two markers are
1 (one in the first half of the sequence, one in the second half) and the target is the sum of
the two marked values. A constant prediction of 1 (the mean target) has mean squared error
Var(u₁ + u₂) = 2/12 = 1/6, the baseline a model must beat to show that it remembers.
"""

from __future__ import annotations

import torch

from . import checks

BASELINE_MSE = 1.0 / 6.0  # variance of the sum of two independent U(0, 1) values


def adding_problem(n: int, T: int, *, seed: int | None = 0,
                   generator: torch.Generator | None = None):
    """``n`` sequences of the adding problem of length ``T``.

    Returns ``(X, y)``: ``X`` float32 of shape (n, T, 2), channel 0 the values in [0, 1),
    channel 1 the markers (exactly two ones per sequence, the first at a position < T // 2,
    the second at a position >= T // 2); ``y`` float32 of shape (n,), the sum of the two
    marked values. Seeded by ``seed`` unless a ``generator`` is given.
    """
    n = checks.integer(n, "n")
    T = checks.integer(T, "T", minimum=2)
    if generator is None:
        if seed is None:
            raise ValueError("give a seed or a generator")
        seed = checks.integer(seed, "seed", minimum=0)
        generator = torch.Generator().manual_seed(seed)
    elif not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    half = T // 2
    values = torch.rand(n, T, generator=generator)
    first = torch.randint(0, half, (n,), generator=generator)
    second = torch.randint(half, T, (n,), generator=generator)
    markers = torch.zeros(n, T)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = torch.stack([values, markers], dim=-1)
    y = values[rows, first] + values[rows, second]
    return X, y


def constant_baseline_mse(y_train: torch.Tensor, y_test: torch.Tensor) -> float:
    """MSE on ``y_test`` of the best constant fitted on ``y_train`` (its mean)."""
    if not (torch.is_tensor(y_train) and torch.is_tensor(y_test)):
        raise TypeError("y_train and y_test must be tensors")
    if y_train.numel() == 0 or y_test.numel() == 0:
        raise ValueError("y_train and y_test must not be empty")
    return float(((y_test - y_train.float().mean()) ** 2).mean())
