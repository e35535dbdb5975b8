"""Autoregressive density models of binary vectors: FVSBN, NADE, MADE (§6.1-§6.3).

Each model factorises p(x) = ∏_i p(x_i | x_<i) over x ∈ {0, 1}^n (flattened images) and
shares one interface, which chapter 6's later notebooks (PixelCNN, transformer) reuse:

* ``forward(x)``  x binary (N, n) -> logits (N, n) of p(x_i = 1 | x_<i), all i at once, with
  the true pixels as the context (teacher forcing);
* ``log_prob(x)`` -> (N,) log p(x) in nats;
* ``sample(num, generator=None)`` -> (num, n), one pixel after the other.

Training is plain maximum likelihood: ``train.fit(model, (X, X), "bce")`` minimises the mean
binary cross-entropy of the logits against the pixels, i.e. −log p(x) / n.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from . import runtime
from .masked import MaskedLinear, made_degrees, made_masks, triangular_mask


def _check_n(n, name="n"):
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise ValueError(f"{name} must be an integer >= 2, got {n!r}")


class AutoregressiveModel(nn.Module):
    """Base class: ``log_prob`` from ``forward``, generic sequential ``sample``."""

    n: int

    def _check_x(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_tensor(x):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() != 2 or x.shape[1] != self.n:
            raise ValueError(f"x must have shape (N, {self.n}) (flattened), got {tuple(x.shape)}")
        return x.to(next(self.parameters()).dtype)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = Σ_i log p(x_i | x_<i) in nats, one number per row of x (N, n)."""
        x = self._check_x(x)
        logits = self(x)
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)

    def _order(self) -> torch.Tensor:
        """Indices of the pixels in the order they are generated."""
        return torch.arange(self.n)

    @torch.no_grad()
    def sample(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``num`` vectors pixel by pixel: x_i ~ Bernoulli(σ(logit_i(x_<i)))."""
        if not isinstance(num, int) or isinstance(num, bool) or num < 1:
            raise ValueError(f"num must be a positive integer, got {num!r}")
        device = next(self.parameters()).device
        x = torch.zeros(num, self.n, device=device)
        clock = runtime.LoopClock()   # times the passes under a fast dev run
        for i in self._order().tolist():
            with clock:
                p = torch.sigmoid(self(x)[:, i])
                u = torch.rand(num, generator=generator, device="cpu").to(device)
                x[:, i] = (u < p).float()
        clock.record(self.n, batch_size=num, where=type(self).__name__, kind="sample")
        return x


class FVSBN(AutoregressiveModel):
    """Fully visible sigmoid belief network (§6.1): one logistic regression per pixel,

        f_i(x_<i) = σ(α_0^(i) + α_1^(i) x_1 + ... + α_{i−1}^(i) x_{i−1}),

    all n of them as one strictly lower-triangular masked linear layer: (n² + n)/2
    effective parameters (the bias holds the α_0^(i)).
    """

    def __init__(self, n: int):
        super().__init__()
        _check_n(n)
        self.n = n
        self.linear = MaskedLinear(n, n, triangular_mask(n))
        nn.init.zeros_(self.linear.weight)  # untrained: every pixel Bernoulli(1/2)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self._check_x(x))


class NADE(AutoregressiveModel):
    """Neural autoregressive density estimator (§6.2) with d hidden units, W shared over i:

        a_1 = 0,  a_{i+1} = a_i + W_{:,i} x_i,  h_i = σ(a_i + b),  x̂_i = σ(V_{i,:} h_i + c_i).

    Parameters: W (d, n), b (d), V (n, d), c (n): 2nd + n + d in all, O(nd).
    ``forward`` runs the recursion for all i at once as an exclusive cumulative sum.
    """

    def __init__(self, n: int, d: int):
        super().__init__()
        _check_n(n)
        if not isinstance(d, int) or isinstance(d, bool) or d < 1:
            raise ValueError(f"d must be a positive integer, got {d!r}")
        self.n, self.d = n, d
        self.W = nn.Parameter(torch.randn(d, n) / n ** 0.5)
        self.b = nn.Parameter(torch.zeros(d))
        self.V = nn.Parameter(torch.randn(n, d) / d ** 0.5)
        self.c = nn.Parameter(torch.zeros(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._check_x(x)
        contrib = x[:, :, None] * self.W.T[None]              # (N, n, d): W_{:,i} x_i
        # a_i = Σ_{j<i} W_{:,j} x_j, then + b, in place: at n = 784, d = 500 every (N, n, d)
        # tensor fewer saves N × 1.6 MB (autograd keeps none of these two for the backward).
        a = torch.cumsum(contrib, dim=1).sub_(contrib).add_(self.b)
        h = torch.sigmoid(a)                                   # (N, n, d)
        return torch.einsum("nid,id->ni", h, self.V) + self.c  # logits of x̂_i

    @torch.no_grad()
    def sample(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample with the O(nd) recursion: one update of a per generated pixel."""
        if not isinstance(num, int) or isinstance(num, bool) or num < 1:
            raise ValueError(f"num must be a positive integer, got {num!r}")
        device = self.W.device
        x = torch.zeros(num, self.n, device=device)
        a = torch.zeros(num, self.d, device=device)
        for i in range(self.n):
            h = torch.sigmoid(a + self.b)
            p = torch.sigmoid(h @ self.V[i] + self.c[i])
            u = torch.rand(num, generator=generator, device="cpu").to(device)
            x[:, i] = (u < p).float()
            a = a + x[:, i, None] * self.W[:, i]
        return x


class MADE(AutoregressiveModel):
    """Masked autoencoder for distribution estimation (§6.3).

    An MLP n → hidden[0] → ... → hidden[-1] → n (ReLU between) whose weights are masked by
    :func:`~mplib.masked.made_masks` of degrees from :func:`~mplib.masked.made_degrees`, so
    output i depends only on the inputs that come before i in the ``ordering``.
    ``seed`` picks the hidden degrees (and the ordering when ``ordering="random"``).
    """

    def __init__(self, n: int, hidden, seed: int = 0, *, ordering=None):
        super().__init__()
        _check_n(n)
        self.n = n
        self.degrees = made_degrees(n, hidden, ordering=ordering, seed=seed)
        masks = made_masks(self.degrees)
        sizes = [n] + [len(m) for m in self.degrees[1:]] + [n]
        layers = []
        for k, M in enumerate(masks):
            layers.append(MaskedLinear(sizes[k], sizes[k + 1], M))
            if k < len(masks) - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.register_buffer("ordering", self.degrees[0].clone())

    @property
    def masks(self) -> list[torch.Tensor]:
        return [m.mask for m in self.net if isinstance(m, MaskedLinear)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self._check_x(x))

    def _order(self) -> torch.Tensor:
        return torch.argsort(self.ordering.cpu())  # the input with degree 1 first, ...
