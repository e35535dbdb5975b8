"""WaveNet: μ-law quantisation, causal dilated convolutions, a tiny model (§6.5).

* :func:`mu_law_encode` / :func:`mu_law_decode`: audio in [−1, 1] to μ + 1 = 256 classes,
  F(x) = sign(x) ln(1 + μ|x|) / ln(1 + μ), and back.
* :class:`CausalConv1d`: a 1-D convolution padded on the left only, so output t sees
  inputs t − (k − 1)d, ..., t and nothing later.
* :func:`dilated_receptive_field` (closed form 1 + Σ_ℓ (k − 1) d_ℓ, = 2^L for k = 2 and doubling
  dilations) and :func:`receptive_field_autograd` (the same, measured by autograd).
* :func:`dilation_path`: the units of Figure 18 that one output depends on, layer by layer.
* :class:`WaveNet`: embedding, gated residual dilated layers, skip connections, 256 logits
  per step; output t predicts x_{t+1} from x_{≤t}; :meth:`WaveNet.sample` generates.
* :func:`synthetic_waveform`: seeded tones with harmonics (the data of the notebook), and
  :func:`noise_floor`, the cross-entropy that the noise in those tones leaves to any model.
* :func:`output_changes` / :func:`causality_violations`: the causality check of a trained
  WaveNet, every input step changed in turn; :func:`inject_future_leak` breaks a model on
  purpose, so that the check can be seen to fire.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import checks

SCHEDULES = ("doubling", "ones")


def mu_law_encode(x, mu: int = 255) -> torch.Tensor:
    """Quantise x ∈ [−1, 1] to integers 0..μ: round((F(x) + 1) / 2 · μ)."""
    mu = checks.integer(mu, "mu")
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.numel() and (x.min() < -1 or x.max() > 1):
        raise ValueError("x must lie in [-1, 1]; scale the waveform first")
    F_x = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    return torch.round((F_x + 1) / 2 * mu).long()


def mu_law_decode(q, mu: int = 255) -> torch.Tensor:
    """Back from classes 0..μ to [−1, 1]: y = 2q/μ − 1, x = sign(y) ((1 + μ)^|y| − 1) / μ."""
    mu = checks.integer(mu, "mu")
    q = torch.as_tensor(q)
    if q.numel() and (q.min() < 0 or q.max() > mu):
        raise ValueError(f"q must hold integers in 0..{mu}")
    y = 2 * q.float() / mu - 1
    return torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu


class CausalConv1d(nn.Conv1d):
    """Conv1d with ``(kernel_size − 1) · dilation`` zeros padded on the left only:

        y_t = b + Σ_{m=0}^{k−1} W_m x_{t − m·d},  W_m = ``weight[..., k − 1 − m]``.

    ``conv1d`` correlates (its kernel slides over x, ⋆), so its last tap multiplies x_t: the
    stored ``weight`` is W read backwards, the kernel of the convolution * in the formula.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 2,
                 dilation: int = 1):
        kernel_size = checks.integer(kernel_size, "kernel_size")
        dilation = checks.integer(dilation, "dilation")
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.left = (kernel_size - 1) * dilation

    def forward(self, x):
        return super().forward(F.pad(x, (self.left, 0)))


def dilations(layers: int, schedule: str = "doubling") -> list[int]:
    """1, 2, 4, ..., 2^(L−1) ("doubling") or 1, 1, ..., 1 ("ones")."""
    layers = checks.integer(layers, "layers")
    checks.choice(schedule, "schedule", SCHEDULES)
    return [2 ** l if schedule == "doubling" else 1 for l in range(layers)]


def dilated_receptive_field(dilation_list, kernel_size: int = 2) -> int:
    """1 + Σ_ℓ (k − 1) d_ℓ: how many inputs one output of the stack sees."""
    k = checks.integer(kernel_size, "kernel_size")
    return 1 + sum((k - 1) * checks.integer(d, "dilation") for d in dilation_list)


class CausalStack(nn.Sequential):
    """Plain stacked causal dilated convolutions with tanh between (for the checks)."""

    def __init__(self, dilation_list, channels: int = 1, kernel_size: int = 2):
        mods = []
        for i, d in enumerate(dilation_list):
            if i:
                mods.append(nn.Tanh())
            mods.append(CausalConv1d(channels, channels, kernel_size, d))
        super().__init__(*mods)


def receptive_field_autograd(net: nn.Module, channels: int = 1, T: int = 256,
                             t: int | None = None) -> int:
    """Number of input steps with a nonzero gradient ∂ y[0, :, t] / ∂ x (random input)."""
    T = checks.integer(T, "T")
    t = T - 1 if t is None else t
    x = torch.randn(1, channels, T, generator=torch.Generator().manual_seed(0),
                    requires_grad=True)
    net(x)[0, :, t].sum().backward()
    return int((x.grad[0].abs().sum(0) > 0).sum())


def dilation_path(layers: int, schedule: str, output: int, T: int, kernel_size: int = 2):
    """The units of Figure 18 that output ``output`` (of T) depends on.

    Returns (active, edges): ``active[ℓ]`` a boolean array (T,) per level ℓ = 0 (input)
    .. L (output), and ``edges`` a list of ((ℓ−1, s), (ℓ, t)) connections on the path.
    """
    d = dilations(layers, schedule)
    T = checks.integer(T, "T")
    kernel_size = checks.integer(kernel_size, "kernel_size")
    output = checks.integer(output, "output", minimum=0, maximum=T - 1)
    active = np.zeros((layers + 1, T), dtype=bool)
    active[layers, output] = True
    edges = []
    for level in range(layers, 0, -1):
        for t in np.flatnonzero(active[level]):
            for m in range(kernel_size):
                s = t - m * d[level - 1]
                if s >= 0:
                    active[level - 1, s] = True
                    edges.append(((level - 1, int(s)), (level, int(t))))
    return active, edges


class ResidualLayer(nn.Module):
    """z = tanh(W_f * x) ⊙ σ(W_g * x) (dilated, causal); out: x + W_res z, skip: W_skip z."""

    def __init__(self, channels, dilation, kernel_size=2):
        super().__init__()
        self.conv = CausalConv1d(channels, 2 * channels, kernel_size, dilation)
        self.res = nn.Conv1d(channels, channels, 1)
        self.skip = nn.Conv1d(channels, channels, 1)

    def forward(self, x):
        f, g = self.conv(x).chunk(2, dim=1)
        z = torch.tanh(f) * torch.sigmoid(g)
        return x + self.res(z), self.skip(z)


class WaveNet(nn.Module):
    """A tiny WaveNet over ``classes`` μ-law classes.

    forward(x) with x integer classes (N, T) returns logits (N, num_classes, T); the logits at
    step t are p(x_{t+1} | x_{≤t}). Receptive field: :attr:`receptive_field` steps.
    """

    def __init__(self, num_classes: int = 256, channels: int = 32, layers: int = 6,
                 kernel_size: int = 2, schedule: str = "doubling"):
        super().__init__()
        self.num_classes = checks.integer(num_classes, "num_classes", minimum=2)
        channels = checks.integer(channels, "channels")
        d = dilations(layers, schedule)
        self.receptive_field = dilated_receptive_field(d, kernel_size)
        self.embed = nn.Embedding(self.num_classes, channels)
        self.layers = nn.ModuleList(ResidualLayer(channels, di, kernel_size) for di in d)
        self.head = nn.Sequential(nn.ReLU(), nn.Conv1d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv1d(channels, self.num_classes, 1))

    def features(self, h):
        """The network from embedded input h (N, channels, T) to logits."""
        skips = 0
        for layer in self.layers:
            h, s = layer(h)
            skips = skips + s
        return self.head(skips)

    def forward(self, x):
        if not torch.is_tensor(x) or x.dtype not in (torch.int64, torch.int32):
            raise TypeError("x must be an integer tensor of classes with shape (N, T)")
        if x.dim() != 2:
            raise ValueError(f"x must have shape (N, T), got {tuple(x.shape)}")
        return self.features(self.embed(x).transpose(1, 2))

    def loss(self, x):
        """Mean cross-entropy of predicting x_{t+1} from x_{≤t} (nats per step)."""
        return F.cross_entropy(self(x)[:, :, :-1], x[:, 1:])

    @torch.no_grad()
    def sample(self, length: int, prime: torch.Tensor, generator=None,
               temperature: float = 1.0) -> torch.Tensor:
        """Continue ``prime`` (N, T0) integer classes by ``length`` steps, one at a time."""
        length = checks.integer(length, "length")
        if not torch.is_tensor(prime):
            raise TypeError(f"prime must be an integer tensor (N, T0), got {type(prime).__name__}")
        if prime.dim() != 2 or prime.shape[1] < 1:
            raise ValueError(f"prime must be an integer tensor (N, T0) with T0 >= 1, got shape "
                             f"{tuple(prime.shape)}")
        temperature = checks.number(temperature, "temperature", above=0)
        device = next(self.parameters()).device
        x = prime.to(device)
        R = self.receptive_field
        for _ in range(length):
            logits = self(x[:, -R:])[:, :, -1] / temperature
            p = torch.softmax(logits, dim=1).cpu()
            nxt = torch.multinomial(p, 1, generator=generator).to(device)
            x = torch.cat([x, nxt], dim=1)
        return x[:, prime.shape[1]:]


def synthetic_waveform(n: int, length: int, *, periods=(16, 24, 32), noise: float = 0.01,
                       seed: int = 0) -> torch.Tensor:
    """``n`` waveforms (n, length) in [−1, 1]: a tone of a period drawn from ``periods`` with
    two harmonics, random phase and amplitude, plus a little Gaussian noise."""
    n = checks.integer(n, "n")
    length = checks.integer(length, "length", minimum=2)
    periods = [checks.number(p, "periods (each period)", above=1) for p in periods]
    if not periods:
        raise ValueError("periods must be a non-empty list of numbers > 1, got []")
    noise = checks.number(noise, "noise", at_least=0)
    g = torch.Generator().manual_seed(seed)
    P = torch.tensor(periods, dtype=torch.float32)[torch.randint(len(periods), (n, 1),
                                                                 generator=g)]
    phase = 2 * math.pi * torch.rand(n, 1, generator=g)
    amp = 0.5 + 0.4 * torch.rand(n, 1, generator=g)
    t = torch.arange(length, dtype=torch.float32)[None, :]
    w = 2 * math.pi * t / P + phase
    x = amp * (0.7 * torch.sin(w) + 0.3 * torch.sin(2 * w + 0.5))
    x = x + noise * torch.randn(n, length, generator=g)
    return x.clamp(-1, 1)


def _edges(mu: int) -> torch.Tensor:
    """The μ + 2 amplitudes where :func:`mu_law_encode` changes class (±inf at the ends)."""
    F_edge = 2 * (torch.arange(mu + 2, dtype=torch.float64) - 0.5) / mu - 1
    x = torch.sign(F_edge) * ((1 + mu) ** F_edge.abs() - 1) / mu
    x[0], x[-1] = -math.inf, math.inf
    return x


def noise_floor(clean, noise: float, mu: int = 255) -> float:
    """Mean entropy (nats) of the class of clean + N(0, noise²): the class that the noise
    makes random even for a model that knows the clean waveform exactly.

    Any model that predicts the class from the past has a cross-entropy at least this large,
    because the noise at step t is independent of everything before it."""
    mu = checks.integer(mu, "mu")
    noise = checks.number(noise, "noise", above=0)
    c = torch.as_tensor(clean, dtype=torch.float64).reshape(-1, 1)
    cdf = torch.special.ndtr((_edges(mu)[None, :] - c) / noise)
    p = (cdf[:, 1:] - cdf[:, :-1]).clamp_min(0)
    return float(-(p * p.clamp_min(1e-300).log()).sum(1).mean())


@torch.no_grad()
def output_changes(net: "WaveNet", x: torch.Tensor, shift: int = 128) -> torch.Tensor:
    """|Δ logits| matrix (T, T): entry [t, s] is the largest change of the logits at step t
    when input class x_s alone is moved by ``shift`` (mod the number of classes).

    The T changed copies and the unchanged sequence run as one batch."""
    if not torch.is_tensor(x) or x.dtype not in (torch.int64, torch.int32):
        raise TypeError("x must be a 1-D integer tensor of classes")
    if x.dim() != 1:
        raise ValueError(f"x must be 1-D (one sequence of classes), got shape {tuple(x.shape)}")
    shift = checks.integer(shift, "shift", minimum=None)
    T = x.numel()
    copies = x.repeat(T + 1, 1)
    steps = torch.arange(T)
    copies[1 + steps, steps] = (copies[1 + steps, steps] + shift) % net.num_classes
    logits = net(copies.to(next(net.parameters()).device)).cpu()        # (T + 1, classes, T)
    return (logits[1:] - logits[:1]).abs().amax(1).T                   # [t, s]


def causality_violations(net: "WaveNet", x: torch.Tensor, atol: float = 1e-6) -> list:
    """The pairs (t, s) with s > t where changing x_s moves the logits at step t (which
    predict x_{t+1} from x_{≤t}) by more than ``atol``: a causal net has none."""
    atol = checks.number(atol, "atol", at_least=0)
    changes = output_changes(net, x)
    future = torch.ones_like(changes, dtype=torch.bool).triu(1)
    return [tuple(int(v) for v in pair) for pair in ((changes > atol) & future).nonzero()]


def inject_future_leak(net: "WaveNet") -> "WaveNet":
    """Break ``net`` in place: its first layer pads one step on the right instead of the left,
    so that output t reads x_{t+1}, the very sample it is meant to predict."""
    if not isinstance(net, WaveNet):
        raise TypeError(f"net must be a WaveNet, got {type(net).__name__}")
    conv = net.layers[0].conv

    def leaky_forward(x):
        return nn.Conv1d.forward(conv, F.pad(x, (conv.left - 1, 1)))

    conv.forward = leaky_forward
    return net
