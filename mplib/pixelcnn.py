"""PixelCNN: masked convolutions, the blind spot and the two-stack fix (§6.4).

* :func:`pixelcnn_mask` / :class:`MaskedConv2d`: a k×k convolution whose weight is multiplied
  by a 0/1 mask that keeps only the pixels above and to the left of the centre. Type "A"
  (first layer) also hides the centre pixel; type "B" (later layers) keeps it. With
  ``color_channels=3`` the channels are split into R, G, B groups and, at the centre, group g
  only sees groups before it (type A) or up to itself (type B): R sees no current-pixel
  channel, G sees R, B sees R and G.
* :class:`PixelCNN`: the plain stack (one type-A layer, then type-B layers). Stacked 3×3
  masks leave a *blind spot* above and to the right of the pixel (Figure 17).
* :class:`TwoStackPixelCNN`: a vertical stack (all rows above) and a horizontal stack (the
  row so far), with gated activations tanh(·)⊙σ(·), as in the gated PixelCNN; no blind spot.
* :func:`footprint`: which input pixels one output pixel depends on, found by autograd.
* :func:`flip_changes` / :func:`causality_violations`: the causality check of a trained model,
  every pixel flipped in turn (all H·W of them, one batched pass); :func:`inject_row_leak`
  breaks a two-stack model on purpose, so that the check can be seen to fire.

Both models are density models of binary images with the interface of
:mod:`mplib.autoregressive`: ``forward`` -> logits, ``log_prob`` (nats), ``sample``.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import checks, runtime

MASK_TYPES = ("A", "B")


def _check_kernel(kernel_size):
    # the one rule every masked layer shares: a centred mask needs an odd size
    k = checks.integer(kernel_size, "kernel_size")
    if k % 2 == 0:
        raise ValueError(f"kernel_size must be odd (the mask is centred), got {k}")
    return k


def color_groups(channels: int, color_channels: int = 1) -> torch.Tensor:
    """The colour group (0 = R, 1 = G, 2 = B when ``color_channels=3``) of each channel.

    The channels are cut into ``color_channels`` consecutive blocks of equal size.
    """
    channels = checks.integer(channels, "channels")
    color_channels = checks.integer(color_channels, "color_channels")
    if channels % color_channels:
        raise ValueError(f"channels ({channels}) must be a multiple of color_channels "
                         f"({color_channels})")
    return torch.arange(channels) // (channels // color_channels)


def pixelcnn_mask(kernel_size: int, mask_type: str, in_channels: int = 1, out_channels: int = 1,
                  color_channels: int = 1) -> torch.Tensor:
    """The (out_channels, in_channels, k, k) 0/1 mask of a PixelCNN convolution.

    Rows above the centre: kept. Centre row: kept left of the centre. Centre pixel: kept
    from input group g_in to output group g_out when g_in < g_out (type "A") or
    g_in ≤ g_out (type "B"). Everything after the centre in raster order: zero.
    """
    k = _check_kernel(kernel_size)
    checks.choice(mask_type, "mask_type", MASK_TYPES)
    g_in = color_groups(in_channels, color_channels)
    g_out = color_groups(out_channels, color_channels)
    r = k // 2
    mask = torch.zeros(out_channels, in_channels, k, k)
    mask[:, :, :r, :] = 1
    mask[:, :, r, :r] = 1
    allowed = g_in[None, :] < g_out[:, None] if mask_type == "A" else g_in[None, :] <= g_out[:, None]
    mask[:, :, r, r] = allowed.float()
    return mask


class _MaskedConv(nn.Conv2d):
    """An ``nn.Conv2d`` whose weight is multiplied by a fixed mask (a buffer)."""

    def __init__(self, in_channels, out_channels, kernel_size, mask, padding):
        super().__init__(in_channels, out_channels, kernel_size, padding=padding)
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class MaskedConv2d(_MaskedConv):
    """PixelCNN masked convolution of type "A" or "B" ("same" padding), §6.4."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 mask_type: str = "B", color_channels: int = 1):
        mask = pixelcnn_mask(kernel_size, mask_type, in_channels, out_channels, color_channels)
        super().__init__(in_channels, out_channels, kernel_size, mask, kernel_size // 2)
        self.mask_type = mask_type

    def extra_repr(self):
        return super().extra_repr() + f", mask_type={self.mask_type!r}"


class VerticalConv(_MaskedConv):
    """The vertical stack: a k×k kernel that keeps the rows above the centre, and the centre
    row too unless ``first`` (the first layer must not see the current row at all)."""

    def __init__(self, in_channels, out_channels, kernel_size=3, first=False):
        k = _check_kernel(kernel_size)
        mask = torch.ones(out_channels, in_channels, k, k)
        mask[:, :, k // 2 + (0 if first else 1):, :] = 0
        super().__init__(in_channels, out_channels, k, mask, k // 2)


class HorizontalConv(_MaskedConv):
    """The horizontal stack: a 1×k kernel over the current row, left of the centre, and the
    centre itself unless ``first``."""

    def __init__(self, in_channels, out_channels, kernel_size=3, first=False):
        k = _check_kernel(kernel_size)
        mask = torch.ones(out_channels, in_channels, 1, k)
        mask[:, :, :, k // 2 + (0 if first else 1):] = 0
        super().__init__(in_channels, out_channels, (1, k), mask, (0, k // 2))


class _BinaryImageModel(nn.Module):
    """``log_prob`` and ``sample`` for a network mapping (N, 1, H, W) images to logits."""

    image_size: tuple

    def _set_sizes(self, channels, layers, image_size) -> tuple[int, int]:
        """Check the constructor's sizes (both nets take the same ones); store image_size."""
        self.image_size = _check_size(image_size)
        return checks.integer(channels, "channels"), checks.integer(layers, "layers")

    def _as_image(self, x):
        if not torch.is_tensor(x):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        H, W = self.image_size
        if x.dim() == 2 and x.shape[1] == H * W:
            x = x.reshape(-1, 1, H, W)
        if x.dim() != 4 or x.shape[1:] != (1, H, W):
            raise ValueError(f"x must have shape (N, 1, {H}, {W}) or (N, {H * W}), "
                             f"got {tuple(x.shape)}")
        return x.to(next(self.parameters()).dtype)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = Σ_i log p(x_i | x_<i) in nats (raster order), one number per image."""
        x = self._as_image(x)
        logits = self(x)
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)

    @torch.no_grad()
    def sample(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``num`` images (num, 1, H, W), one pixel after the other in raster order."""
        num = checks.integer(num, "num")
        H, W = self.image_size
        device = next(self.parameters()).device
        x = torch.zeros(num, 1, H, W, device=device)
        clock = runtime.LoopClock()   # times the passes under a fast dev run
        for i in range(H):
            for j in range(W):
                with clock:
                    p = torch.sigmoid(self(x)[:, 0, i, j])
                    u = torch.rand(num, generator=generator).to(device)
                    x[:, 0, i, j] = (u < p).float()
        clock.record(H * W, batch_size=num, where=type(self).__name__, kind="sample")
        return x


class PixelCNN(_BinaryImageModel):
    """The plain PixelCNN: a type-A k×k layer, then ``layers − 1`` type-B layers (ReLU), then
    two 1×1 convolutions to one logit per pixel."""

    def __init__(self, channels: int = 32, layers: int = 5, kernel_size: int = 3,
                 image_size=(8, 8)):
        super().__init__()
        channels, layers = self._set_sizes(channels, layers, image_size)
        convs = [MaskedConv2d(1, channels, kernel_size, "A")]
        convs += [MaskedConv2d(channels, channels, kernel_size, "B") for _ in range(layers - 1)]
        self.convs = nn.ModuleList(convs)
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, 1, 1))

    def forward(self, x):
        h = x
        for i, conv in enumerate(self.convs):
            h = conv(h if i == 0 else F.relu(h))
        return self.head(h)


class GatedLayer(nn.Module):
    """One layer of the two stacks, with gated activations and a vertical-to-horizontal link:

        v' = tanh(W_{v,f} ⋆ v) ⊙ σ(W_{v,g} ⋆ v)
        h' = h + W_1×1 [tanh(W_{h,f} ⋆ h + U_f v_feat) ⊙ σ(W_{h,g} ⋆ h + U_g v_feat)]

    (⋆: the correlation that ``conv2d`` computes, the kernel sliding over its input.)
    """

    def __init__(self, channels, kernel_size=3):
        super().__init__()
        self.v = VerticalConv(channels, 2 * channels, kernel_size)
        self.h = HorizontalConv(channels, 2 * channels, kernel_size)
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_out = nn.Conv2d(channels, channels, 1)

    def forward(self, v, h):
        v_feat = self.v(v)
        f, g = v_feat.chunk(2, dim=1)
        v_new = torch.tanh(f) * torch.sigmoid(g)
        f, g = (self.h(h) + self.v_to_h(v_feat)).chunk(2, dim=1)
        h_new = h + self.h_out(torch.tanh(f) * torch.sigmoid(g))
        return v_new, h_new


class TwoStackPixelCNN(_BinaryImageModel):
    """Vertical + horizontal stacks (gated PixelCNN style): ``layers`` k-wide layers in all,
    the first ones masking the current row (vertical) and the current pixel (horizontal).
    In every layer the vertical features (rows strictly above) feed the horizontal stack,
    whose last output gives one logit per pixel."""

    def __init__(self, channels: int = 32, layers: int = 5, kernel_size: int = 3,
                 image_size=(8, 8)):
        super().__init__()
        channels, layers = self._set_sizes(channels, layers, image_size)
        self.v_in = VerticalConv(1, channels, kernel_size, first=True)
        self.h_in = HorizontalConv(1, channels, kernel_size, first=True)
        self.v_to_h_in = nn.Conv2d(channels, channels, 1)
        self.layers = nn.ModuleList(GatedLayer(channels, kernel_size) for _ in range(layers - 1))
        self.head = nn.Sequential(nn.ELU(), nn.Conv2d(channels, channels, 1), nn.ELU(),
                                  nn.Conv2d(channels, 1, 1))

    def forward(self, x):
        v = self.v_in(x)
        h = self.h_in(x) + self.v_to_h_in(v)
        for layer in self.layers:
            v, h = layer(v, h)
        return self.head(h)


def _check_size(image_size, name="image_size"):
    if not isinstance(image_size, (tuple, list)):
        raise TypeError(f"{name} must be a pair (H, W) of positive ints, got "
                        f"{type(image_size).__name__} {image_size!r}")
    if len(image_size) != 2:
        raise ValueError(f"{name} must be a pair (H, W) of positive ints, got {image_size!r}")
    return tuple(checks.integer(s, f"{name} (each side)") for s in image_size)


def footprint(net: nn.Module, size, pixel, x: torch.Tensor | None = None) -> np.ndarray:
    """Boolean (H, W) map of the input pixels that output pixel ``pixel`` = (i, j) depends
    on: the nonzero entries of ∂ out[0, 0, i, j] / ∂ x, by autograd.

    ``x`` defaults to an image of ones. (For a net with random signed weights an exact
    cancellation is possible in principle; :func:`footprint_net` builds nets where it is not.)
    """
    H, W = _check_size(tuple(size), "size")
    i, j = _check_pixel(pixel, H, W)
    if x is None:
        x = torch.ones(1, 1, H, W)
    x = x.clone().requires_grad_(True)
    net(x)[0, 0, i, j].backward()
    return (x.grad[0].abs().sum(0) > 0).numpy()


def _check_pixel(pixel, H, W):
    """``pixel`` as a pair of ints (i, j) inside the H × W grid."""
    if len(pixel) != 2:
        raise ValueError(f"pixel must be a pair (i, j), got {pixel!r}")
    return (checks.integer(pixel[0], "pixel (row)", minimum=0, maximum=H - 1),
            checks.integer(pixel[1], "pixel (column)", minimum=0, maximum=W - 1))


def footprint_net(kind: str, layers: int, kernel_size: int = 3, channels: int = 4) -> nn.Module:
    """A small untrained net ("plain" or "two-stack") whose footprints are exact: all weights
    positive and biases 0.1, so on a positive input every connection carries a positive
    gradient and nothing cancels."""
    nets = {"plain": PixelCNN, "two-stack": TwoStackPixelCNN}
    checks.choice(kind, "kind", nets)
    net = nets[kind](channels=channels, layers=layers, kernel_size=kernel_size, image_size=(1, 1))
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("bias"):
                p.fill_(0.1)
            else:
                p.abs_()
    return net


def ideal_region(size, pixel, layers: int, kernel_size: int = 3) -> np.ndarray:
    """The pixels a causal stack of ``layers`` k×k layers should see from ``pixel``: the
    rows above within reach (± layers·⌊k/2⌋ columns) and the same row to the left."""
    H, W = _check_size(tuple(size), "size")
    i, j = _check_pixel(pixel, H, W)
    reach = checks.integer(layers, "layers") * (_check_kernel(kernel_size) // 2)
    rows, cols = np.ogrid[:H, :W]
    near = (np.abs(cols - j) <= reach) & (rows >= i - reach)
    before = (rows < i) | ((rows == i) & (cols < j))
    return near & before


@torch.no_grad()
def flip_changes(model: nn.Module, x: torch.Tensor, chunk: int = 128) -> torch.Tensor:
    """|Δ logit| matrix (n, n), n = H·W in raster order: entry [o, p] is how much the logit of
    pixel o moves when binary pixel p of ``x`` is flipped (1 − x_p), all else kept.

    ``x`` is one image, (H, W), (1, H, W) or (1, 1, H, W). The networks here are convolutional,
    so H × W need not be the model's ``image_size``: a crop checks the same weights faster.
    The copies with one pixel flipped go through the model in batches together with the
    unflipped image, so every number comes from the same computation."""
    if not torch.is_tensor(x):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 2 or x.numel() != x.shape[-2] * x.shape[-1]:
        raise ValueError(f"x must hold one image, (H, W) or (1, 1, H, W), got shape "
                         f"{tuple(x.shape)}")
    H, W = x.shape[-2:]
    n = H * W
    chunk = checks.integer(chunk, "chunk")
    base = x.reshape(1, n).float()
    flipped = base.repeat(n, 1)
    flipped[torch.arange(n), torch.arange(n)] = 1 - flipped[torch.arange(n), torch.arange(n)]
    changes = torch.empty(n, n)
    for start in range(0, n, chunk):
        batch = torch.cat([base, flipped[start:start + chunk]]).reshape(-1, 1, H, W)
        logits = model(batch.to(next(model.parameters()).device)).reshape(-1, n).cpu()
        changes[:, start:start + chunk] = (logits[1:] - logits[:1]).abs().T
    return changes


def causality_violations(model: nn.Module, x: torch.Tensor, atol: float = 1e-6) -> list:
    """The pairs (o, p), o ≤ p in raster order, where flipping pixel p moves the logit of
    pixel o by more than ``atol``: an autoregressive model has none."""
    atol = checks.number(atol, "atol", at_least=0)
    changes = flip_changes(model, x)
    forbidden = torch.ones_like(changes, dtype=torch.bool).tril(-1).logical_not()  # o ≤ p
    return [tuple(int(v) for v in pair) for pair in ((changes > atol) & forbidden).nonzero()]


def inject_row_leak(model: "TwoStackPixelCNN") -> "TwoStackPixelCNN":
    """Break ``model`` in place: its first vertical layer also sees the current row to the
    right of the centre, pixels that come later in raster order."""
    if not isinstance(model, TwoStackPixelCNN):
        raise TypeError(f"model must be a TwoStackPixelCNN, got {type(model).__name__}")
    r = model.v_in.mask.shape[-1] // 2
    model.v_in.mask[:, :, r, r + 1:] = 1
    return model


# -- what the blind-spot widget (widgets/blind_spot.py) shows -------------------------------

FOOTPRINT_KINDS = ("plain", "two-stack")


@functools.lru_cache(maxsize=None)
def _footprint_net(kind, layers):
    # one small untrained net per (kind, layers): building it is part of the cost
    return footprint_net(kind, layers)


def footprint_map(kind: str, layers: int, pixel, size=(11, 11)) -> np.ndarray:
    """An (H, W) int map: 1 seen by ``pixel``, 2 blind spot, 3 the pixel itself, 0 the rest."""
    checks.choice(kind, "kind", FOOTPRINT_KINDS)
    layers = checks.integer(layers, "layers", maximum=8)
    return _footprint_map(kind, layers, tuple(pixel), tuple(size)).copy()


@functools.lru_cache(maxsize=4096)
def _footprint_map(kind, layers, pixel, size):
    # autograd through the stack costs most of an update: each setting is computed once
    seen = footprint(_footprint_net(kind, layers), size, pixel)
    ideal = ideal_region(size, pixel, layers)
    out = np.zeros(seen.shape, dtype=int)
    out[seen] = 1
    out[ideal & ~seen] = 2
    out[pixel] = 3
    return out
