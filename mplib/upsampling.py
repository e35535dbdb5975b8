"""The four upsampling methods of §3.1, as plain functions on 2-D tensors.

* ``nearest(x, s)``: every input value copied into an s x s block (Figure 8);
* ``bed_of_nails(x, s)``: every value into the top-left cell of its block, zeros elsewhere
  (Figure 9);
* ``max_unpool(x, indices, s)``: every value back at the position its max pooling took it
  from (``indices`` are flat positions in the output, as ``F.max_pool2d`` returns them),
  zeros elsewhere (Figure 10);
* ``transposed_conv(x, K, s)``: the sum over input pixels of a copy of the kernel K scaled
  by that pixel, placed at (s*i, s*j); output size (H - 1) s + k.

They are what the upsampling explorer (``mplib.widgets.upsampling``) draws; the notebook
writes its own versions and may hand them to the widget instead.
"""

from __future__ import annotations

import torch

from . import checks
from .pooling import figure7_pooling

METHODS = ("nearest neighbour", "bed of nails", "max unpooling", "transposed convolution")


def _check_2d(name, t):
    if not torch.is_tensor(t):
        raise TypeError(f"{name} must be a 2-D tensor, got {type(t).__name__}")
    if t.dim() != 2:
        raise ValueError(f"{name} must be a 2-D tensor, got shape {tuple(t.shape)}")


def nearest(x: torch.Tensor, s: int = 2) -> torch.Tensor:
    """y[i, j] = x[i // s, j // s]."""
    _check_2d("x", x)
    s = checks.integer(s, "s")  # the stride / upsampling factor
    return x.repeat_interleave(s, 0).repeat_interleave(s, 1)


def bed_of_nails(x: torch.Tensor, s: int = 2) -> torch.Tensor:
    """y[s i, s j] = x[i, j]; every other entry 0."""
    _check_2d("x", x)
    s = checks.integer(s, "s")  # the stride / upsampling factor
    y = x.new_zeros(x.shape[0] * s, x.shape[1] * s)
    y[::s, ::s] = x
    return y


def max_unpool(x: torch.Tensor, indices: torch.Tensor, s: int = 2) -> torch.Tensor:
    """y.flatten()[indices[i, j]] = x[i, j]; every other entry 0 (output (sH, sW))."""
    _check_2d("x", x)
    s = checks.integer(s, "s")  # the stride / upsampling factor
    if not torch.is_tensor(indices):
        raise TypeError(f"indices must be a tensor of the shape of x {tuple(x.shape)}, "
                        f"got {type(indices).__name__}")
    if indices.shape != x.shape:
        raise ValueError(f"indices must be a tensor of the shape of x {tuple(x.shape)}, "
                         f"got {tuple(indices.shape)}")
    y = x.new_zeros(x.shape[0] * s * x.shape[1] * s)
    if indices.numel() and (indices.min() < 0 or indices.max() >= y.numel()):
        raise ValueError(f"indices must lie in 0..{y.numel() - 1}")
    y[indices.reshape(-1).long()] = x.reshape(-1)
    return y.reshape(x.shape[0] * s, x.shape[1] * s)


def transposed_conv(x: torch.Tensor, K: torch.Tensor, s: int = 2) -> torch.Tensor:
    """Y = sum_{i,j} x[i, j] * (K placed with its top-left corner at (s i, s j))."""
    _check_2d("x", x)
    s = checks.integer(s, "s")  # the stride / upsampling factor
    _check_2d("K", K)  # the kernel
    (H, W), (kh, kw) = x.shape, K.shape
    Y = x.new_zeros((H - 1) * s + kh, (W - 1) * s + kw)
    for i in range(H):
        for j in range(W):
            Y[s * i:s * i + kh, s * j:s * j + kw] += x[i, j] * K
    return Y


def pooling_indices(shape, s: int = 2, seed: int = 0) -> torch.Tensor:
    """Flat argmax positions a max pooling with an s x s window and stride s could have kept
    for an input of ``shape`` (one random cell in each window, fixed by ``seed``)."""
    H, W = shape
    s = checks.integer(s, "s")
    g = torch.Generator().manual_seed(checks.integer(seed, "seed", minimum=0))
    di = torch.randint(0, s, (H, W), generator=g)
    dj = torch.randint(0, s, (H, W), generator=g)
    rows = torch.arange(H)[:, None] * s + di
    cols = torch.arange(W)[None, :] * s + dj
    return rows * (W * s) + cols


def upsample(method: str, x: torch.Tensor, *, s: int = 2, k: int = 3, indices=None,
             functions: dict | None = None) -> torch.Tensor:
    """Apply one of ``METHODS`` to ``x`` with factor/stride ``s``; the transposed
    convolution uses a k x k kernel of ones (so each output counts the overlapping copies).
    ``functions`` may replace the implementations (keys as in ``METHODS``)."""
    checks.choice(method, "method", METHODS)
    f = {**dict(zip(METHODS, (nearest, bed_of_nails, max_unpool, transposed_conv))),
         **(functions or {})}[method]
    if method == "max unpooling":
        if indices is None:
            indices = pooling_indices(tuple(x.shape), s)
        return f(x, indices, s)
    if method == "transposed convolution":
        k = checks.integer(k, "k")  # the kernel size
        return f(x, torch.ones(k, k, dtype=x.dtype), s)
    return f(x, s)


# -- what the upsampling explorer (widgets/upsampling.py) shows ----------------------------

# The input of Figures 8-10 is Figure 7's pooled output; Figure 10 puts its values back at
# the positions that pooling took them from.
FIGURE_INPUT, FIGURE_INDICES = figure7_pooling()

INPUTS = {
    "Figures 8-10 (2x2)": FIGURE_INPUT,
    "ramp (3x3)": torch.arange(1.0, 10.0).reshape(3, 3),
    "constant (3x3)": torch.ones(3, 3),
    "random (3x3)": torch.randint(0, 10, (3, 3), generator=torch.Generator().manual_seed(3)
                                  ).float(),
}


def figure_indices_apply(input_name: str, s: int) -> bool:
    """True when max unpooling can use Figure 10's positions; otherwise they are random."""
    return INPUTS.get(input_name) is FIGURE_INPUT and s == 2


def explore(method: str, input_name: str, s: int, k: int, functions=None):
    """The input tensor and its upsampled output for the widget's settings."""
    x = INPUTS[checks.choice(input_name, "input_name", INPUTS)]
    indices = FIGURE_INDICES if figure_indices_apply(input_name, s) else None
    return x, upsample(method, x, s=s, k=k, indices=indices, functions=functions)


def write_footprint(method: str, s: int, k: int) -> tuple[int, str]:
    """Side of the red box drawn at the output's top-left corner, and what it marks."""
    if method == "transposed convolution":
        return k, "where pixel (0, 0) writes: its k x k kernel copy"
    if method == "bed of nails":
        return 1, "where pixel (0, 0) writes: one cell"
    if method == "max unpooling":
        return s, "pixel (0, 0)'s s x s window: its value lands on one cell"
    return s, "where pixel (0, 0) writes: its s x s block"
