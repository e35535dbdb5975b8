"""A tiny causal transformer as a density model of binary images (§6.7).

* :func:`causal_mask`: the additive mask M, 0 where key j may be seen by query i (j ≤ i)
  and −∞ elsewhere; ``include_diagonal=False`` gives the mask as printed in the notes
  (−∞ on the diagonal too), whose first row is all −∞.
* :class:`CausalSelfAttention`: Q = X W_Q, K = X W_K, V = X W_V per head,
  Y = softmax(Q Kᵀ / √d + M) V, heads concatenated and mixed by W_O; it keeps its last
  attention weights for the attention-map widget. With ``fused=True`` it calls PyTorch's
  ``scaled_dot_product_attention(is_causal=True)`` instead (the same values up to round-off):
  it never stores the n × n weights, which at n = 784 (MNIST) take gigabytes per batch.
* :class:`CausalTransformer`: pixels x₁..x_n (binary) are predicted from a start token
  followed by x₁..x_{n−1} (the input shifted by one), so output i sees x_{<i} only. It
  shares the interface of :mod:`mplib.autoregressive` (``forward`` -> logits, ``log_prob``
  in nats, ``sample``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import checks
from .autoregressive import AutoregressiveModel


def causal_mask(n: int, include_diagonal: bool = True, device=None) -> torch.Tensor:
    """The (n, n) additive mask: M_ij = 0 if j ≤ i (j < i without the diagonal), else −∞."""
    n = checks.integer(n, "n")
    allowed = torch.ones(n, n, dtype=torch.bool, device=device).tril(0 if include_diagonal else -1)
    return torch.zeros(n, n, device=device).masked_fill(~allowed, float("-inf"))


class CausalSelfAttention(nn.Module):
    """Multi-head masked self-attention, written out: softmax(Q Kᵀ/√d_h + M) V."""

    def __init__(self, d: int, heads: int = 1, fused: bool = False):
        super().__init__()
        d = checks.integer(d, "d")
        heads = checks.integer(heads, "heads")
        if d % heads:
            raise ValueError(f"d ({d}) must be a multiple of heads ({heads})")
        self.d, self.heads = d, heads
        self.W_Q = nn.Linear(d, d, bias=False)
        self.W_K = nn.Linear(d, d, bias=False)
        self.W_V = nn.Linear(d, d, bias=False)
        self.W_O = nn.Linear(d, d)
        self.attention = None  # (N, heads, n, n) of the last forward pass (not fused)
        self.fused = bool(fused)

    def _split(self, T):
        N, n, _ = T.shape
        return T.view(N, n, self.heads, self.d // self.heads).transpose(1, 2)

    def forward(self, X):
        N, n, _ = X.shape
        Q, K, V = self._split(self.W_Q(X)), self._split(self.W_K(X)), self._split(self.W_V(X))
        if self.fused:
            self.attention = None
            Y = F.scaled_dot_product_attention(Q, K, V, is_causal=True)
            return self.W_O(Y.transpose(1, 2).reshape(N, n, self.d))
        S = Q @ K.transpose(-2, -1) / math.sqrt(self.d // self.heads)
        A = torch.softmax(S + causal_mask(n, device=X.device), dim=-1)
        self.attention = A.detach()
        Y = (A @ V).transpose(1, 2).reshape(N, n, self.d)
        return self.W_O(Y)


class Block(nn.Module):
    """Pre-norm transformer block: X + Attn(LN(X)), then + MLP(LN(·))."""

    def __init__(self, d, heads, fused=False):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = CausalSelfAttention(d, heads, fused)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, X):
        X = X + self.attn(self.ln1(X))
        return X + self.mlp(self.ln2(X))


START = 2  # token id of the start token (pixels are 0 and 1)


class CausalTransformer(AutoregressiveModel):
    """Transformer density model of n binary pixels: logits (N, n) of p(x_i = 1 | x_<i).

    ``fused=True``: attention by PyTorch's fused kernel (see :class:`CausalSelfAttention`);
    :meth:`set_fused` switches it off before a forward pass whose maps you want to see.
    """

    def __init__(self, n: int = 64, d: int = 32, heads: int = 2, layers: int = 2,
                 fused: bool = False):
        super().__init__()
        self.n = n = checks.integer(n, "n", minimum=2)
        d = checks.integer(d, "d")
        layers = checks.integer(layers, "layers")
        self.token = nn.Embedding(3, d)
        self.position = nn.Parameter(torch.randn(n, d))  # same scale as the tokens
        self.blocks = nn.ModuleList(Block(d, heads, fused) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, 1)

    def shift(self, x: torch.Tensor) -> torch.Tensor:
        """Input tokens: [start, x_1, ..., x_{n−1}] (the pixels shifted right by one)."""
        start = torch.full((len(x), 1), START, dtype=torch.long, device=x.device)
        return torch.cat([start, x[:, :-1].long()], dim=1)

    def forward(self, x):
        x = self._check_x(x)
        h = self.token(self.shift(x)) + self.position
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln(h)).squeeze(-1)

    def set_fused(self, fused: bool) -> "CausalTransformer":
        """Use the fused kernel (True) or the written-out formula that keeps the maps (False)."""
        for b in self.blocks:
            b.attn.fused = bool(fused)
        return self

    def attention_maps(self) -> torch.Tensor:
        """Attention weights of the last forward pass: (layers, N, heads, n, n)."""
        if any(b.attn.fused for b in self.blocks):
            raise RuntimeError("a fused model keeps no attention maps: call set_fused(False), "
                               "then run a forward pass")
        if any(b.attn.attention is None for b in self.blocks):
            raise RuntimeError("run a forward pass first")
        return torch.stack([b.attn.attention for b in self.blocks])


def strict_mask_dependence(n: int = 6, d: int = 4, layers: int = 2, residual: bool = False,
                           seed: int = 0) -> torch.Tensor:
    """Which inputs reach which outputs through a stack of attention layers with the notes'
    strict mask (j < i), the input not shifted: D[i, j] = 1 when output i depends on x_j.

    Single-head layers Y = softmax(Q Kᵀ/√d + M) V with random weights (float64), and
    ``residual=True`` for X + Y. Position 0 may see nothing (its row of M is all −∞, a
    NaN in softmax): its weights are set to 0 instead, so that the rest can be measured.
    The dependence comes from the Jacobian of the outputs with respect to the inputs.
    """
    n = checks.integer(n, "n", minimum=2)
    d = checks.integer(d, "d")
    layers = checks.integer(layers, "layers")
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(layers, 3, d, d, generator=g, dtype=torch.float64)
    M = causal_mask(n, include_diagonal=False).double()
    sees = (M > float("-inf")).any(1, keepdim=True).double()   # 0 for position 0
    M = M.masked_fill(sees == 0, 0.0)                           # avoid the all −∞ row

    def stack(X):
        for Wq, Wk, Wv in W:
            A = torch.softmax((X @ Wq) @ (X @ Wk).T / math.sqrt(d) + M, -1) * sees
            X = X + A @ (X @ Wv) if residual else A @ (X @ Wv)
        return X

    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(stack, X)   # (n, d, n, d)
    return (J.abs().sum((1, 3)) > 0).to(torch.int64)


# -- what the attention-map widget (widgets/attention.py) shows ------------------------------------

def attention_row(maps, query: int, layer: int = 0, head: int = 0) -> np.ndarray:
    """The weights A[layer, head, query, :] of one query over all key positions."""
    maps = np.asarray(maps)
    if maps.ndim != 4 or maps.shape[2] != maps.shape[3]:
        raise ValueError(f"maps must have shape (layers, heads, n, n), got {maps.shape}")
    L, Hh, n, _ = maps.shape
    query = checks.integer(query, "query", minimum=0, maximum=n - 1)
    layer = checks.integer(layer, "layer", minimum=0, maximum=L - 1)
    head = checks.integer(head, "head", minimum=0, maximum=Hh - 1)
    return maps[layer, head, query]
