"""Receptive fields of a stack of convolution and pooling layers (§2.2).

Theoretical receptive field: with kernel k_ℓ, stride s_ℓ and dilation d_ℓ per layer (a pooling
layer is one with k = s = its size), the size grows by the recurrence

    r_ℓ = r_{ℓ−1} + (k̂_ℓ − 1) · J_{ℓ−1},   k̂_ℓ = d_ℓ (k_ℓ − 1) + 1,   J_ℓ = J_{ℓ−1} · s_ℓ,

with r_0 = 1 and J_0 = 1 (J_{ℓ−1} = Π_{i<ℓ} s_i, the distance in input pixels between two
neighbouring units of layer ℓ − 1). Unit u of the last layer L sees input pixels
start_L + u·J_L … start_L + u·J_L + r_L − 1, where start_ℓ = start_{ℓ−1} − p_ℓ·J_{ℓ−1}.

Effective receptive field: the magnitude of the input gradient ∂y_unit/∂x from autograd
(Luo et al. 2016); it is nonzero only inside the theoretical one.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import checks

__all__ = ["Layer", "RF", "stack", "receptive_field", "input_window", "output_size",
           "layers_from_module", "build_stack", "input_gradient"]

KINDS = ("conv", "maxpool", "avgpool")


@dataclass(frozen=True)
class Layer:
    """One square sliding-window layer: a convolution or a pooling ("conv" | "maxpool" | "avgpool")."""

    kernel: int
    stride: int = 1
    dilation: int = 1
    padding: int = 0
    kind: str = "conv"

    def __post_init__(self):
        for name, minimum in (("kernel", 1), ("stride", 1), ("dilation", 1), ("padding", 0)):
            # frozen: store the checked plain int (a NumPy int would otherwise stay as given)
            object.__setattr__(self, name, checks.integer(getattr(self, name), name, minimum))
        checks.choice(self.kind, "kind", KINDS)

    @property
    def effective_kernel(self) -> int:
        """k̂ = d (k − 1) + 1: the span of a dilated kernel."""
        return self.dilation * (self.kernel - 1) + 1


@dataclass(frozen=True)
class RF:
    """Receptive field after a layer: size r, jump J (input pixels between units), start."""

    size: int
    jump: int
    start: int


def stack(kernels, strides=None, dilations=None, pools=None) -> list[Layer]:
    """Layers from per-layer lists; ``pools[ℓ] > 1`` adds a max pooling (size = stride) after
    convolution ℓ. ``stack([3, 3], pools=[2, 1])`` is conv3 → pool2 → conv3."""
    n = len(kernels)
    strides = [1] * n if strides is None else list(strides)
    dilations = [1] * n if dilations is None else list(dilations)
    pools = [1] * n if pools is None else list(pools)
    for name, values in (("strides", strides), ("dilations", dilations), ("pools", pools)):
        if len(values) != n:
            raise ValueError(f"{name} must have one entry per kernel ({n}), got {len(values)}")
    layers = []
    for k, s, d, p in zip(kernels, strides, dilations, pools):
        layers.append(Layer(k, s, d))
        if checks.integer(p, "pool") > 1:
            layers.append(Layer(p, p, kind="maxpool"))
    return layers


def receptive_field(layers) -> list[RF]:
    """The receptive field after each layer by the recurrence (module docstring); [0] is the
    input itself (r = 1)."""
    out = [RF(1, 1, 0)]
    for layer in layers:
        if not isinstance(layer, Layer):
            raise TypeError(f"layers must be Layer objects, got {type(layer).__name__}")
        prev = out[-1]
        out.append(RF(prev.size + (layer.effective_kernel - 1) * prev.jump,
                      prev.jump * layer.stride,
                      prev.start - layer.padding * prev.jump))
    return out


def output_size(layers, n: int) -> list[int]:
    """Spatial size after each layer for an n-pixel-wide input; ValueError if it vanishes."""
    n = checks.integer(n, "input size n")
    sizes = [n]
    for index, layer in enumerate(layers, 1):
        m = (sizes[-1] + 2 * layer.padding - layer.effective_kernel) // layer.stride + 1
        if m < 1:
            raise ValueError(
                f"layer {index} ({layer.kind}, kernel {layer.kernel}, dilation {layer.dilation}) "
                f"needs an input of at least {layer.effective_kernel - 2 * layer.padding} pixels "
                f"but gets {sizes[-1]}: use fewer layers, smaller kernels or strides")
        sizes.append(m)
    return sizes


def input_window(layers, unit) -> tuple[slice, slice]:
    """The input rows and columns (slices, unclipped: may start below 0) that output unit
    (i, j) sees: its theoretical receptive field."""
    rf = receptive_field(layers)[-1]
    i, j = unit
    r0, c0 = rf.start + i * rf.jump, rf.start + j * rf.jump
    return slice(r0, r0 + rf.size), slice(c0, c0 + rf.size)


def layers_from_module(module: nn.Module) -> list[Layer]:
    """The sliding-window layers of an ``nn.Sequential`` of Conv2d / MaxPool2d / AvgPool2d
    (square kernels); element-wise layers are skipped; stops at the first Flatten."""
    layers = []
    for m in module.modules() if not isinstance(module, nn.Sequential) else module:
        if isinstance(m, nn.Flatten):
            break
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            def one(v, name):
                v = v if isinstance(v, (tuple, list)) else (v, v)
                if v[0] != v[1]:
                    raise ValueError(f"{type(m).__name__} must have a square {name}, got {v}")
                return int(v[0])
            stride = m.stride if m.stride is not None else m.kernel_size
            kind = {nn.Conv2d: "conv", nn.MaxPool2d: "maxpool", nn.AvgPool2d: "avgpool"}[type(m)]
            if isinstance(m.padding, str):
                raise ValueError(f"{type(m).__name__} with padding={m.padding!r} is not supported")
            layers.append(Layer(one(m.kernel_size, "kernel_size"), one(stride, "stride"),
                                one(getattr(m, "dilation", 1), "dilation"),
                                one(m.padding, "padding"), kind))
        elif isinstance(m, (nn.Linear, nn.ConvTranspose2d, nn.Upsample)):
            raise ValueError(f"layers_from_module cannot follow {type(m).__name__}")
    return layers


def build_stack(layers, *, channels: int = 4, probe: bool = False, seed: int = 0) -> nn.Sequential:
    """A network for ``layers`` (1 input channel). ``probe=True``: all-ones kernels, no
    nonlinearity and average pooling, so every path from an input to an output is positive and
    the input gradient is nonzero exactly on the (dilated) receptive field.
    Otherwise: random (seeded) kernels with ReLU, and max pooling."""
    channels = checks.integer(channels, "channels")
    seed = checks.integer(seed, "seed", minimum=0)
    generator = torch.Generator().manual_seed(seed)
    modules, c_in = [], 1
    for layer in layers:
        if layer.kind == "conv":
            conv = nn.Conv2d(c_in, channels, layer.kernel, stride=layer.stride,
                             dilation=layer.dilation, padding=layer.padding, bias=not probe)
            with torch.no_grad():
                if probe:
                    conv.weight.fill_(1.0)
                else:  # He initialisation, from our own generator
                    fan_in = c_in * layer.kernel ** 2
                    conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator)
                                      * (2.0 / fan_in) ** 0.5)
                    conv.bias.zero_()
            modules.append(conv)
            if not probe:
                modules.append(nn.ReLU())
            c_in = channels
        else:
            pool = nn.AvgPool2d if (probe or layer.kind == "avgpool") else nn.MaxPool2d
            modules.append(pool(layer.kernel, stride=layer.stride, padding=layer.padding))
    return nn.Sequential(*modules)


@contextlib.contextmanager
def one_thread():
    """Run tiny tensor work on one thread (restored afterwards): for such small convolutions
    a second thread only adds synchronisation, which costs a lot on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def input_gradient(model: nn.Module, images: torch.Tensor, unit) -> torch.Tensor:
    """|∂ y / ∂x| averaged over the images, where y = Σ_channels model(x)[:, :, i, j]:
    the effective receptive field of output unit (i, j), shape (H, W)."""
    with one_thread():
        return _input_gradient(model, images, unit)


def _input_gradient(model, images, unit):
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a tensor of shape (N, C, H, W), got "
                        f"{type(images).__name__}")
    if images.ndim != 4:
        raise ValueError(f"images must be a tensor of shape (N, C, H, W), got "
                         f"{tuple(images.shape)}")
    x = images.detach().clone().requires_grad_(True)
    y = model(x)
    i, j = unit
    if not (0 <= i < y.shape[2] and 0 <= j < y.shape[3]):
        raise ValueError(f"unit must lie in the {y.shape[2]}x{y.shape[3]} output map, got {unit}")
    (grad,) = torch.autograd.grad(y[:, :, i, j].sum(), x)
    return grad.abs().sum(1).mean(0)


# -- what the receptive-field widget (widgets/receptive_field.py) shows -------------------

def same_place(index: int, n_from: int, n_to: int) -> int:
    """Unit ``index`` of an n_from-unit map moved to the same relative place of an n_to map."""
    if n_from <= 1:
        return (n_to - 1) // 2
    return min(round(index * (n_to - 1) / (n_from - 1)), n_to - 1)


def erf_table(model, images) -> np.ndarray:
    """Effective receptive field of every output unit: array (h, w, H, W), each normalised."""
    with torch.no_grad():
        h, w = model(images[:1]).shape[-2:]
    table = np.zeros((h, w) + tuple(images.shape[-2:]), dtype=np.float32)
    for i in range(h):
        for j in range(w):
            g = input_gradient(model, images, (i, j)).numpy()
            table[i, j] = g / max(g.max(), 1e-12)
    return table
