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

from . import checks


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
        in_ch = checks.integer(in_ch, "in_ch")
        num_classes = checks.integer(num_classes, "num_classes")
        channels = tuple(checks.integer(c, f"channels[{k}]") for k, c in enumerate(channels))
        if len(channels) < 2:
            raise ValueError(f"channels must hold at least two sizes, got {channels}")
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


def _stage(name: str) -> tuple[str, int]:
    kind, _, level = name.partition(" ")
    return kind, int(level) if level.isdigit() else 0


def draw_unet(shapes, ax=None, skips: bool = True):
    """Figure 11: the U of a :class:`UNet`, each box labelled with its output shape.

    ``shapes``: (name, shape) pairs as the notebook records them with forward hooks, named
    "encoder i", "bottleneck", "up i", "decoder i" (i = 1..depth) and "1x1 head"; shape is
    (N, C, H, W). Encoders go down the left arm (max pooling), the bottleneck sits at the
    bottom, the decoders climb the right arm (the up arrows, a transposed convolution), and
    the right arrows are the copies (grey and dashed, labelled "no copy", when ``skips`` is
    False). Returns the axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    shapes = dict(shapes)
    depth = sum(_stage(n)[0] == "encoder" for n in shapes)
    needed = ([f"encoder {i}" for i in range(1, depth + 1)] + ["bottleneck", "1x1 head"]
              + [f"{k} {i}" for k in ("up", "decoder") for i in range(1, depth + 1)])
    missing = [n for n in needed if n not in shapes]
    if depth < 1 or missing:
        raise ValueError(f"shapes must name every stage of the U; missing {missing or needed}")
    for name, shape in shapes.items():
        if len(tuple(shape)) != 4:
            raise ValueError(f"shapes[{name!r}] must be (N, C, H, W), got {shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 1.6 + 1.3 * depth))

    def label(name):
        _, c, h, w = shapes[name]
        return f"{name}\n{c} × {h} × {w}"

    pos = {f"encoder {i}": (i - 1, -(i - 1)) for i in range(1, depth + 1)}
    pos["bottleneck"] = (depth, -depth)
    # Decoder i works at the level of encoder depth + 1 - i.
    pos.update({f"decoder {i}": (depth + i, -(depth - i)) for i in range(1, depth + 1)})
    pos["1x1 head"] = (2 * depth + 1, 0)
    box = dict(boxstyle="round,pad=0.02", linewidth=1.2)
    for name, (x, y) in pos.items():
        kind = _stage(name)[0]
        color = {"encoder": "#c6dbef", "decoder": "#c7e9c0", "bottleneck": "#fdd0a2"}.get(
            kind, "#e0e0e0")
        ax.add_patch(FancyBboxPatch((x - 0.4, y - 0.25), 0.8, 0.5, facecolor=color,
                                    edgecolor="#333333", **box))
        ax.text(x, y, label(name), ha="center", va="center", fontsize=8)

    def arrow(a, b, text="", color="#333333", style="-|>", ls="-", where=0.5, dy=0.0, dx=0.0,
              ha="center"):
        (x0, y0), (x1, y1) = a, b
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle=style, color=color, linestyle=ls, lw=1.3,
                                    shrinkA=0, shrinkB=0))
        if text:
            ax.text(x0 + (x1 - x0) * where + dx, y0 + (y1 - y0) * where + dy, text, ha=ha,
                    va="bottom", fontsize=7, color=color)

    for i in range(1, depth + 1):
        x, y = pos[f"encoder {i}"]
        below = pos[f"encoder {i + 1}"] if i < depth else pos["bottleneck"]
        arrow((x + 0.2, y - 0.25), (below[0] - 0.2, below[1] + 0.25), "max pool", where=0.5,
              dx=-0.1, ha="right")
        src = pos["bottleneck"] if i == 1 else pos[f"decoder {i - 1}"]
        dst = pos[f"decoder {i}"]
        _, c, h, w = shapes[f"up {i}"]
        arrow((src[0] + 0.2, src[1] + 0.25), (dst[0] - 0.2, dst[1] - 0.25),
              f"up {i}: {c} × {h} × {w}", color="#2ca02c", where=0.5, dx=0.1, ha="left")
        level = pos[f"encoder {depth + 1 - i}"]
        _, c, h, w = shapes[f"encoder {depth + 1 - i}"]
        if skips:
            arrow((level[0] + 0.4, level[1]), (dst[0] - 0.4, dst[1]),
                  f"copy {c} × {h} × {w}", color="#1f77b4", dy=0.03)
        else:
            arrow((level[0] + 0.4, level[1]), (dst[0] - 0.4, dst[1]), "no copy",
                  color="#aaaaaa", style="-", ls="--", dy=0.03)
    last = pos[f"decoder {depth}"]
    arrow((last[0] + 0.4, last[1]), (pos["1x1 head"][0] - 0.4, 0))
    ax.set_xlim(-0.6, 2 * depth + 1.6)
    ax.set_ylim(-depth - 0.5, 0.5)
    ax.set_aspect("auto")
    ax.axis("off")
    return ax
