"""Variational RNN (VRNN) and its conditional variant C-VRNN (§6.6).

One VAE per time step whose prior is not N(0, I) but is predicted from the RNN state:

    prior      (μ₀⁽ᵗ⁾, σ₀⁽ᵗ⁾)  = φ_prior(h⁽ᵗ⁾)
    posterior  (μ⁽ᵗ⁾, σ⁽ᵗ⁾)    = φ_enc(φ_x(x⁽ᵗ⁾), h⁽ᵗ⁾)          z⁽ᵗ⁾ ~ N(μ⁽ᵗ⁾, diag σ⁽ᵗ⁾²)
    decoder    (μ_x⁽ᵗ⁾, σ_x⁽ᵗ⁾) = φ_dec(φ_z(z⁽ᵗ⁾), h⁽ᵗ⁾)
    recurrence h⁽ᵗ⁺¹⁾ = GRU([φ_x(x⁽ᵗ⁾), φ_z(z⁽ᵗ⁾)], h⁽ᵗ⁾),

h⁽ᵗ⁾ summarising x⁽¹⁾..x⁽ᵗ⁻¹⁾. The loss is the negative ELBO summed over steps,
Σ_t KL(q(z⁽ᵗ⁾ | ·) ‖ p(z⁽ᵗ⁾ | h⁽ᵗ⁾)) − log N(x⁽ᵗ⁾; μ_x⁽ᵗ⁾, σ_x⁽ᵗ⁾²), both terms from
:mod:`mplib.gaussian`. The conditional variant feeds a given one-hot label y into prior,
encoder, decoder and recurrence: a simplification of the notes' C-VRNN, whose condition is
inferred (a posterior from x, a prior from h, and a KL between them). Generation uses the
prior only. :func:`sinusoid_sequences` makes the seeded toy data of the notebook.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from . import checks
from .gaussian import kl_normal, log_normal
from .models import mlp


class VRNN(nn.Module):
    """VRNN over sequences x (N, T, x_dim); ``num_classes > 0`` makes it a C-VRNN."""

    def __init__(self, x_dim: int = 1, h_dim: int = 32, z_dim: int = 4, num_classes: int = 0):
        super().__init__()
        self.x_dim = checks.integer(x_dim, "x_dim")
        self.h_dim = checks.integer(h_dim, "h_dim")
        self.z_dim = checks.integer(z_dim, "z_dim")
        self.num_classes = checks.integer(num_classes, "num_classes", minimum=0)
        c = self.num_classes
        self.phi_x = nn.Sequential(nn.Linear(x_dim, h_dim), nn.ReLU())
        self.phi_z = nn.Sequential(nn.Linear(z_dim, h_dim), nn.ReLU())
        self.phi_prior = mlp(h_dim + c, (h_dim,), 2 * z_dim, flatten=False)
        self.phi_enc = mlp(2 * h_dim + c, (h_dim,), 2 * z_dim, flatten=False)
        self.phi_dec = mlp(2 * h_dim + c, (h_dim,), 2 * x_dim, flatten=False)
        self.rnn = nn.GRUCell(2 * h_dim + c, h_dim)

    def _label(self, y, N, device):
        if self.num_classes == 0:
            if y is not None:
                raise ValueError("y must be None for an unconditional VRNN (num_classes=0)")
            return torch.zeros(N, 0, device=device)
        if y is None:
            raise ValueError(f"y (labels 0..{self.num_classes - 1}) is required by a C-VRNN")
        y = torch.as_tensor(y, device=device)
        if y.shape != (N,) or y.min() < 0 or y.max() >= self.num_classes:
            raise ValueError(f"y must hold {N} labels in 0..{self.num_classes - 1}")
        return F.one_hot(y.long(), self.num_classes).float()

    def forward(self, x, y=None, generator=None) -> dict:
        """Per-step terms of the negative ELBO: {"kl": (N, T), "nll": (N, T), "x_mu": x-shaped}."""
        if not torch.is_tensor(x):
            raise TypeError(f"x must be a tensor (N, T, {self.x_dim}), got {type(x).__name__}")
        if x.dim() != 3 or x.shape[2] != self.x_dim:
            raise ValueError(f"x must be a tensor (N, T, {self.x_dim}), got {tuple(x.shape)}")
        N, T, _ = x.shape
        c = self._label(y, N, x.device)
        h = torch.zeros(N, self.h_dim, device=x.device)
        kl, nll, x_mu = [], [], []
        for t in range(T):
            fx = self.phi_x(x[:, t])
            mu0, logvar0 = self.phi_prior(torch.cat([h, c], 1)).chunk(2, 1)
            mu, logvar = self.phi_enc(torch.cat([fx, h, c], 1)).chunk(2, 1)
            # Without a (CPU) generator the noise is drawn on the device: no copy per step.
            eps = (torch.randn_like(mu) if generator is None
                   else torch.randn(mu.shape, generator=generator).to(x.device))
            z = mu + (0.5 * logvar).exp() * eps
            fz = self.phi_z(z)
            mu_x, logvar_x = self.phi_dec(torch.cat([fz, h, c], 1)).chunk(2, 1)
            logvar_x = logvar_x.clamp(-8, 4)
            kl.append(kl_normal(mu, logvar, mu0, logvar0))
            nll.append(-log_normal(x[:, t], mu_x, logvar_x))
            x_mu.append(mu_x)
            h = self.rnn(torch.cat([fx, fz, c], 1), h)
        return {"kl": torch.stack(kl, 1), "nll": torch.stack(nll, 1),
                "x_mu": torch.stack(x_mu, 1)}

    def loss(self, x, y=None) -> torch.Tensor:
        """Negative ELBO per time step, averaged over the batch."""
        out = self(x, y)
        return (out["kl"] + out["nll"]).mean()

    @torch.no_grad()
    def sample(self, num: int, T: int, y=None, generator=None) -> torch.Tensor:
        """Generate (num, T, x_dim): z⁽ᵗ⁾ from the prior, x⁽ᵗ⁾ from the decoder, then h⁽ᵗ⁺¹⁾."""
        num = checks.integer(num, "num")
        T = checks.integer(T, "T")
        device = next(self.parameters()).device
        c = self._label(y, num, device)
        h = torch.zeros(num, self.h_dim, device=device)
        xs = []
        for _ in range(T):
            mu0, logvar0 = self.phi_prior(torch.cat([h, c], 1)).chunk(2, 1)
            z = mu0 + (0.5 * logvar0).exp() * torch.randn(mu0.shape, generator=generator).to(device)
            fz = self.phi_z(z)
            mu_x, logvar_x = self.phi_dec(torch.cat([fz, h, c], 1)).chunk(2, 1)
            x = mu_x + (0.5 * logvar_x.clamp(-8, 4)).exp() * torch.randn(
                mu_x.shape, generator=generator).to(device)
            xs.append(x)
            h = self.rnn(torch.cat([self.phi_x(x), fz, c], 1), h)
        return torch.stack(xs, 1)


PERIODS = (8.0, 16.0, 32.0)


def sinusoid_sequences(n: int, T: int = 32, *, periods=PERIODS, noise: float = 0.1,
                       seed: int = 0):
    """``n`` noisy sinusoids (n, T, 1), class k having period ``periods[k]``; returns (X, y).

    Each sequence gets a random phase and an amplitude in [0.6, 1.0], plus Gaussian noise.
    """
    n = checks.integer(n, "n")
    T = checks.integer(T, "T", minimum=2)
    periods = [checks.number(p, f"periods[{i}]", above=0) for i, p in enumerate(periods)]
    if not periods:
        raise ValueError("periods must hold at least one period, got none")
    noise = checks.number(noise, "noise", at_least=0)
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(len(periods), (n,), generator=g)
    P = torch.tensor(periods, dtype=torch.float32)[y][:, None]
    phase = 2 * math.pi * torch.rand(n, 1, generator=g)
    amp = 0.6 + 0.4 * torch.rand(n, 1, generator=g)
    t = torch.arange(T, dtype=torch.float32)[None, :]
    X = amp * torch.sin(2 * math.pi * t / P + phase) + noise * torch.randn(n, T, generator=g)
    return X[:, :, None], y


def dominant_period(X) -> torch.Tensor:
    """Period T / k of the largest non-constant peak k = 1..T/2 of each sequence's spectrum.

    X is (N, T) or (N, T, 1); the mean of each sequence is removed first. With T = 32 the
    detector has 16 possible answers (32, 16, 10.7, 8, ...), so a sequence of white noise
    hits one given period about 1 time in 16, and a random walk, whose power sits at low
    frequencies, hits period 32 much more often.
    """
    if not torch.is_tensor(X):
        raise TypeError(f"X must be a tensor (N, T) or (N, T, 1), got {type(X).__name__}")
    if X.dim() not in (2, 3) or (X.dim() == 3 and X.shape[2] != 1):
        raise ValueError(f"X must be a tensor (N, T) or (N, T, 1), got {tuple(X.shape)}")
    X = X.reshape(len(X), -1).float()
    T = X.shape[1]
    if T < 4:
        raise ValueError(f"X needs at least 4 steps, got T = {T}")
    spectrum = torch.fft.rfft(X - X.mean(1, keepdim=True), dim=1).abs()
    return T / spectrum[:, 1:].argmax(1).add(1).float()
