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

import math

import torch
from torch import nn
from torch.nn import functional as F

from . import checks, runtime
from .masked import MaskedLinear, made_degrees, made_masks, triangular_mask


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
        num = checks.integer(num, "num")
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
        self.n = n = checks.integer(n, "n", minimum=2)
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
        n, d = checks.integer(n, "n", minimum=2), checks.integer(d, "d")
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
        num = checks.integer(num, "num")
        device = self.W.device
        x = torch.zeros(num, self.n, device=device)
        a = torch.zeros(num, self.d, device=device)
        clock = runtime.LoopClock()   # times the passes under a fast dev run
        for i in range(self.n):
            with clock:
                h = torch.sigmoid(a + self.b)
                p = torch.sigmoid(h @ self.V[i] + self.c[i])
                u = torch.rand(num, generator=generator, device="cpu").to(device)
                x[:, i] = (u < p).float()
                a = a + x[:, i, None] * self.W[:, i]
        clock.record(self.n, batch_size=num, where=type(self).__name__, kind="sample")
        return x


def _back_to_mask_0(module, incompatible_keys) -> None:
    module.use_mask(0)


class MADE(AutoregressiveModel):
    """Masked autoencoder for distribution estimation (§6.3).

    An MLP n → hidden[0] → ... → hidden[-1] → n (ReLU between) whose weights are masked by
    :func:`~mplib.masked.made_masks` of degrees from :func:`~mplib.masked.made_degrees`, so
    output i depends only on the inputs that come before i in the ``ordering``.

    seed           picks the hidden degrees (and the ordering when ``ordering="random"``,
                   unless ``ordering_seed`` is given; the degrees do not depend on it).
    ordering       None (natural), "random" or a permutation of 1..n (see made_degrees).
    num_masks = K  K connectivity masks sharing one set of weights, as in the MADE paper:
                   the ordering is the same for all K, the hidden degrees are drawn afresh
                   for each (mask 0 is the single mask of ``num_masks=1``). In training mode
                   each forward pass uses the next mask in turn, so ``train.fit`` trains the
                   K masks unchanged; in eval mode ``log_prob`` is the ensemble

                       log p(x) = log (1/K) Σ_k p(x | mask k)
                                = logsumexp_k log p(x | mask k) − log K,

                   while ``forward`` uses one mask: the last one used, or the one chosen
                   with :meth:`use_mask`. ``sample`` draws from the same mixture.
    """

    def __init__(self, n: int, hidden, seed: int = 0, *, ordering=None, num_masks: int = 1,
                 ordering_seed: int | None = None):
        super().__init__()
        n = checks.integer(n, "n", minimum=2)
        num_masks = checks.integer(num_masks, "num_masks")
        seed = checks.integer(seed, "seed", minimum=0)
        self.n = n
        self.num_masks = num_masks
        g = torch.Generator().manual_seed(seed)
        self.degrees = made_degrees(n, hidden, ordering=ordering, seed=seed, generator=g,
                                    ordering_seed=ordering_seed)
        # masks 1..K-1 continue the same generator: their ordering is mask 0's
        self.degree_sets = [self.degrees] + [
            made_degrees(n, hidden, ordering=self.degrees[0].tolist(), generator=g)
            for _ in range(num_masks - 1)]
        all_masks = [made_masks(d) for d in self.degree_sets]
        masks = all_masks[0]
        sizes = [n] + [len(m) for m in self.degrees[1:]] + [n]
        layers = []
        for k, M in enumerate(masks):
            layers.append(MaskedLinear(sizes[k], sizes[k + 1], M))
            if k < len(masks) - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.register_buffer("ordering", self.degrees[0].clone())
        if num_masks > 1:  # one (K, out, in) bank per layer; K = 1 keeps today's state_dict
            for layer, bank in enumerate(zip(*all_masks)):
                self.register_buffer(f"mask_bank{layer}", torch.stack(bank))
        self.mask_index = 0   # the mask now in the layers
        self._next_mask = 0   # the mask the next training forward pass uses
        if num_masks > 1:     # a loaded state may hold any mask in its layers: start at 0
            self.register_load_state_dict_post_hook(_back_to_mask_0)

    @property
    def masks(self) -> list[torch.Tensor]:
        """The masks now in use [M^W(1), ..., M^V]."""
        return [m.mask for m in self.net if isinstance(m, MaskedLinear)]

    def use_mask(self, k: int) -> "MADE":
        """Put mask k (0 ≤ k < num_masks) into the layers; returns the model."""
        k = checks.integer(k, "k", minimum=0, maximum=self.num_masks - 1)
        if self.num_masks > 1:
            linears = [m for m in self.net if isinstance(m, MaskedLinear)]
            for layer, lin in enumerate(linears):
                lin.set_mask(getattr(self, f"mask_bank{layer}")[k])
        self.mask_index = k
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.num_masks > 1:
            self.use_mask(self._next_mask)
            self._next_mask = (self._next_mask + 1) % self.num_masks
        return self.net(self._check_x(x))

    def logits_all_masks(self, x: torch.Tensor) -> torch.Tensor:
        """The logits of every mask at once, (K, N, n): one batched pass through the K masked
        copies of the weights (the ensemble's scoring and sampling use it)."""
        x = self._check_x(x)
        if self.num_masks == 1:
            return self.net(x)[None]
        h = x[None].expand(self.num_masks, *x.shape)
        linears = [m for m in self.net if isinstance(m, MaskedLinear)]
        for layer, lin in enumerate(linears):
            W = lin.weight[None] * getattr(self, f"mask_bank{layer}")   # (K, out, in)
            h = torch.baddbmm(lin.bias[None, None, :], h, W.transpose(1, 2))
            if layer < len(linears) - 1:
                h = F.relu(h)
        return h

    def log_prob(self, x: torch.Tensor, *, mask: int | None = None) -> torch.Tensor:
        """log p(x) in nats, (N,); in eval mode with K masks the average of the K densities.

        ``mask=k`` gives log p(x | mask k) alone, in either mode.
        """
        if mask is not None:
            x = self._check_x(x)
            before = self.mask_index
            self.use_mask(mask)
            logits = self.net(x)
            self.use_mask(before)
            return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        if self.training or self.num_masks == 1:
            return super().log_prob(x)
        x = self._check_x(x)
        logits = self.logits_all_masks(x)
        per_mask = -F.binary_cross_entropy_with_logits(
            logits, x[None].expand_as(logits), reduction="none").sum(2)    # (K, N)
        return torch.logsumexp(per_mask, 0) - math.log(self.num_masks)

    def _order(self) -> torch.Tensor:
        return torch.argsort(self.ordering.cpu())  # the input with degree 1 first, ...

    @torch.no_grad()
    def sample(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``num`` vectors; with K masks each one first picks its mask k uniformly."""
        if self.num_masks == 1:
            return super().sample(num, generator)
        num = checks.integer(num, "num")
        device = next(self.parameters()).device
        which = torch.randint(self.num_masks, (num,), generator=generator).to(device)
        x = torch.zeros(num, self.n, device=device)
        clock = runtime.LoopClock()   # times the passes under a fast dev run
        rows = torch.arange(num, device=device)
        for i in self._order().tolist():
            with clock:               # one batched pass for all masks, each row reads its own
                logits = self.logits_all_masks(x)[which, rows, i]
                u = torch.rand(num, generator=generator, device="cpu").to(device)
                x[:, i] = (u < torch.sigmoid(logits)).float()
        clock.record(self.n, batch_size=num, where=type(self).__name__, kind="sample")
        return x
