"""A small U-net (§3.2, Figure 11), with or without its copy-and-concatenate skips.

Encoder: at each level two 3x3 convolutions (with batch norm and ReLU), then 2x2 max
pooling (the down arrows of Figure 11). Decoder: a 2x2 transposed convolution with stride 2
(the up arrows, §3.1), the encoder's feature map of the same resolution concatenated along
the channels (the right arrows), then two 3x3 convolutions. A final 1x1 convolution gives
one logit per class and pixel: the output has shape (N, num_classes, H, W).

``skips=False`` builds the same network without the copies: the decoder then sees only the
upsampled, coarse features.
"""

from __future__ import annotations

import torch
from torch import nn


def double_conv(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3x3 convolutions (padding 1, size kept), each followed by batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class UNet(nn.Module):
    """U-net with ``len(channels) - 1`` down/up steps; H and W must be divisible by
    2**(len(channels) - 1)."""

    def __init__(self, in_ch: int, num_classes: int, channels=(16, 32, 64), skips: bool = True):
        super().__init__()
        for name, value in (("in_ch", in_ch), ("num_classes", num_classes)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        channels = tuple(channels)
        if len(channels) < 2 or not all(isinstance(c, int) and c > 0 for c in channels):
            raise ValueError(f"channels must hold at least two positive integers, got {channels}")
        if not isinstance(skips, bool):
            raise TypeError(f"skips must be True or False, got {skips!r}")
        self.skips = skips
        self.depth = len(channels) - 1
        self.down = nn.ModuleList()
        c_prev = in_ch
        for c in channels[:-1]:
            self.down.append(double_conv(c_prev, c))
            c_prev = c
        self.pool = nn.MaxPool2d(2)
        self.bottom = double_conv(channels[-2], channels[-1])
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for c_low, c in zip(channels[:0:-1], channels[-2::-1]):
            self.up.append(nn.ConvTranspose2d(c_low, c, kernel_size=2, stride=2))
            self.merge.append(double_conv(2 * c if skips else c, c))
        self.head = nn.Conv2d(channels[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = 2**self.depth
        if x.dim() != 4 or x.shape[-1] % f or x.shape[-2] % f:
            raise ValueError(f"x must have shape (N, C, H, W) with H and W divisible by {f}, "
                             f"got {tuple(x.shape)}")
        copies = []
        for block in self.down:
            x = block(x)
            copies.append(x)          # kept for the right arrows of Figure 11
            x = self.pool(x)
        x = self.bottom(x)
        for up, merge, copy in zip(self.up, self.merge, reversed(copies)):
            x = up(x)
            if self.skips:
                x = torch.cat([copy, x], dim=1)  # copy and concatenate
            x = merge(x)
        return self.head(x)
