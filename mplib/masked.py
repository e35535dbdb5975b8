"""Masked linear layers and the MADE degrees and masks (§6.1, §6.3).

A :class:`MaskedLinear` is an ``nn.Linear`` whose weight is multiplied, elementwise, by a
fixed 0/1 mask (a registered buffer, so it moves with the model and is saved with it):

    y = (W ⊙ M) x + b.

* FVSBN (§6.1) is one such layer with a strictly lower-triangular mask
  (:func:`triangular_mask`): output i only sees inputs j < i.
* MADE (§6.3) gives every unit a degree m(k) (:func:`made_degrees`) and keeps the
  connection j → i of a hidden layer when m^(ℓ−1)(j) ≤ m^(ℓ)(i), and of the output layer
  when m^(L)(j) < m^(0)(i) (:func:`made_masks`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import checks


class MaskedLinear(nn.Linear):
    """``nn.Linear(in_features, out_features)`` with its weight multiplied by ``mask`` (out, in).

    The masked-out weights still exist as numbers, but they never touch the output and
    their gradient is exactly zero.
    """

    def __init__(self, in_features: int, out_features: int, mask, bias: bool = True):
        super().__init__(in_features, out_features, bias=bias)
        mask = torch.as_tensor(mask)
        if mask.shape != (out_features, in_features):
            raise ValueError(f"mask must have shape (out_features, in_features) = "
                             f"({out_features}, {in_features}), got {tuple(mask.shape)}")
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError("mask must hold only 0s and 1s")
        self.register_buffer("mask", mask.to(self.weight.dtype).clone())

    def set_mask(self, mask) -> None:
        """Replace the mask (same shape), e.g. after sampling new MADE degrees."""
        mask = torch.as_tensor(mask, dtype=self.mask.dtype, device=self.mask.device)
        if mask.shape != self.mask.shape:
            raise ValueError(f"mask must have shape {tuple(self.mask.shape)}, "
                             f"got {tuple(mask.shape)}")
        self.mask.copy_(mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", kept={int(self.mask.sum())}/{self.mask.numel()}"


def triangular_mask(n: int, *, strict: bool = True) -> torch.Tensor:
    """The (n, n) mask with M_ij = 1 when j < i (``strict``) or j ≤ i: an autoregressive layer."""
    n = checks.integer(n, "n")
    return torch.tril(torch.ones(n, n), diagonal=-1 if strict else 0)


def effective_parameters(module: nn.Module) -> int:
    """Number of parameters that can influence the output: masked-out weights are not counted."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    total = 0
    for m in module.modules():
        for name, p in m.named_parameters(recurse=False):
            if isinstance(m, MaskedLinear) and name == "weight":
                total += int(m.mask.sum())
            else:
                total += p.numel()
    return total


def _hidden_list(hidden) -> list[int]:
    if not isinstance(hidden, (list, tuple)):
        return [checks.integer(hidden, "hidden")]   # one hidden layer
    if not hidden:
        raise ValueError("hidden must be a layer size or a non-empty list of them, got []")
    return [checks.integer(h, "hidden (each layer size)") for h in hidden]


def made_degrees(n: int, hidden, *, ordering=None, seed: int = 0,
                 generator: torch.Generator | None = None,
                 ordering_seed: int | None = None) -> list[torch.Tensor]:
    """The MADE degrees [m^(0), m^(1), ..., m^(L)], each a LongTensor (§6.3).

    n              number of inputs (≥ 2).
    hidden         sizes of the L hidden layers (an int for one layer).
    ordering       m^(0): the position 1..n of each input in the ordering. None: the natural
                   order (1, ..., n); "random": a random permutation; or a sequence, a
                   permutation of 1..n.
    seed           seeds the hidden degrees (ignored when a ``generator`` is given).
    ordering_seed  seeds the "random" ordering; None: ``seed``.

    Every hidden unit k of every layer gets m^(ℓ)(k) uniformly from {1, ..., n − 1}, as in
    the notes. (A unit of degree n − 1 or less can still reach the output of degree n.)
    The ordering is drawn from a generator of its own, so the hidden degrees of a seed are
    the same whatever the ordering: comparing orderings does not also change the degrees.
    """
    n = checks.integer(n, "n", minimum=2)
    sizes = _hidden_list(hidden)
    if ordering_seed is not None:
        ordering_seed = checks.integer(ordering_seed, "ordering_seed", minimum=0)
    g = generator if generator is not None else torch.Generator().manual_seed(int(seed))
    if ordering is None:
        m0 = torch.arange(1, n + 1)
    elif isinstance(ordering, str):
        if ordering != "random":
            raise ValueError(f"ordering must be None, 'random' or a permutation of 1..n, "
                             f"got {ordering!r}")
        m0 = random_ordering(n, seed if ordering_seed is None else ordering_seed)
    else:
        m0 = torch.as_tensor(list(ordering), dtype=torch.long)
        if sorted(m0.tolist()) != list(range(1, n + 1)):
            raise ValueError(f"ordering must be a permutation of 1..{n}, got {m0.tolist()}")
    degrees = [m0]
    for h in sizes:
        degrees.append(torch.randint(1, n, (h,), generator=g))
    return degrees


def random_ordering(n: int, seed: int = 0) -> torch.Tensor:
    """A random ordering m^(0) of n inputs: a permutation of 1..n drawn with its own seed."""
    n = checks.integer(n, "n", minimum=2)
    seed = checks.integer(seed, "seed", minimum=0)
    # an offset keeps this stream apart from the degrees' generator seeded with the same number
    g = torch.Generator().manual_seed(seed + 0x5EED)
    return torch.randperm(n, generator=g) + 1


def made_masks(degrees) -> list[torch.Tensor]:
    """The masks [M^W(1), ..., M^W(L), M^V] from the degrees [m^(0), ..., m^(L)] (§6.3).

        M^W(ℓ)_ij = 1{ m^(ℓ−1)(j) ≤ m^(ℓ)(i) }   shape (H_ℓ, H_{ℓ−1}), hidden layers
        M^V_ij    = 1{ m^(L)(j)   <  m^(0)(i) }   shape (n, H_L), the output layer,

    the output unit i having the degree of input i. Float tensors of 0s and 1s.
    """
    if not isinstance(degrees, (list, tuple)):
        raise TypeError(f"degrees must be a list [m^(0), m^(1), ..., m^(L)], got "
                        f"{type(degrees).__name__}")
    if len(degrees) < 2:
        raise ValueError("degrees must be a list [m^(0), m^(1), ..., m^(L)] with L >= 1")
    degrees = [torch.as_tensor(m) for m in degrees]
    masks = []
    for prev, cur in zip(degrees[:-1], degrees[1:]):
        masks.append((prev[None, :] <= cur[:, None]).float())
    masks.append((degrees[-1][None, :] < degrees[0][:, None]).float())
    return masks


def connectivity(masks) -> torch.Tensor:
    """The (n, n) matrix whose (i, j) entry counts the paths from input j to output i.

    It is the product M^V M^W(L) ⋯ M^W(1); an autoregressive network has C_ij = 0 whenever
    input j comes at or after output i in the ordering.
    """
    if not masks:
        raise ValueError("masks must be a non-empty list")
    C = torch.as_tensor(masks[0]).double()
    for M in masks[1:]:
        C = torch.as_tensor(M).double() @ C
    return C


# Figure 15 of the notes (Figure 1 of the MADE paper): n = 3, ordering m^(0) = (3, 1, 2),
# two hidden layers of 4 units with these degrees: x̂_1 sees x_2 and x_3, x̂_3 sees x_2,
# x̂_2 sees nothing.
FIGURE_15_DEGREES = ((3, 1, 2), (2, 1, 2, 2), (1, 2, 2, 1))


def figure_15_degrees() -> list[torch.Tensor]:
    """The degrees [m^(0), m^(1), m^(2)] drawn in Figure 15, as LongTensors."""
    return [torch.tensor(m, dtype=torch.long) for m in FIGURE_15_DEGREES]


def unconditioned_outputs(masks) -> list[int]:
    """Indices i (from 0) of the outputs with no path from any input.

    Such an output models the marginal p(x_i) instead of p(x_i | x_<i). The first output in
    the ordering is always one of them (it has nothing to condition on); any other is an
    accident of the sampled degrees, a dependency the model cannot learn.
    """
    C = connectivity(masks)
    return [i for i in range(C.shape[0]) if float(C[i].sum()) == 0]


# -- what the MADE widget (widgets/made.py) shows ------------------------------------------

def made_layout(n: int = 3, hidden: int = 4, layers: int = 2, seed: int = 0, ordering="figure",
                output_rule: str = "<", hidden_degrees: str = "sampled") -> dict:
    """Degrees and masks of a MADE with ``layers`` hidden layers of ``hidden`` units.

    ordering        "figure" (Figure 15: m^(0) = (3, 1, 2), n = 3 only), None (natural),
                    "random", or a permutation of 1..n.
    output_rule     "<" as in the notes, or "<=" to see what goes wrong with M^V = 1{m ≤ m}.
    hidden_degrees  "sampled" (uniform in 1..n−1 with ``seed``) or "figure": the degrees
                    drawn in Figure 15 (n = 3, two layers of 4 units, its ordering).
    """
    checks.choice(hidden_degrees, "hidden_degrees", ("sampled", "figure"))
    checks.choice(output_rule, "output_rule", ("<", "<="))
    n = checks.integer(n, "n", minimum=2)
    hidden = checks.integer(hidden, "hidden")
    layers = checks.integer(layers, "layers")
    if hidden_degrees == "figure":
        sizes = tuple(len(m) for m in FIGURE_15_DEGREES[1:])
        if (n, hidden, layers) != (3, sizes[0], len(sizes)) or ordering != "figure":
            raise ValueError(f"Figure 15's degrees need n = 3, {sizes[0]} units, "
                             f"{len(sizes)} layers and its ordering (3, 1, 2); got n = {n}, "
                             f"{hidden} units, {layers} layers, ordering {ordering!r}")
    if ordering == "figure":
        if n != 3:
            raise ValueError(f"the Figure 15 ordering (3, 1, 2) needs n = 3, got n = {n}")
        ordering = [3, 1, 2]
    if hidden_degrees == "figure":
        degrees = figure_15_degrees()
    else:
        degrees = made_degrees(n, [hidden] * layers, ordering=ordering, seed=seed)
    masks = made_masks(degrees)
    if output_rule == "<=":
        masks[-1] = (degrees[-1][None, :] <= degrees[0][:, None]).float()
    return {"degrees": degrees, "masks": masks, "C": connectivity(masks)}


def check_autoregressive(degrees, masks) -> tuple[bool, str]:
    """(ok, message): ok when no output i has a path from an input j with m(j) ≥ m(i)."""
    C = connectivity(masks)
    m0 = degrees[0]
    bad = (C > 0) & (m0[None, :] >= m0[:, None])
    if not bool(bad.any()):
        return True, ("✓ autoregressive: no output sees its own or a later input "
                      "(checked on the mask product)")
    pairs = ", ".join(f"x̂{i + 1}←x{j + 1}" for i, j in zip(*np.nonzero(bad.numpy())))
    return False, f"✗ NOT autoregressive: output sees its own or a later input: {pairs}"


def connection_report(degrees, masks) -> tuple[bool, str]:
    """(all_connected, message) about the outputs that get no input at all.

    The output first in the ordering never has an input (it models p(x_i), by design). Any
    other output without an input is an accident of the degrees: it models p(x_i) instead of
    p(x_i | x_<i), and no training can give it back the dependency.
    """
    m0 = degrees[0]
    first = int(np.argmin(m0.numpy()))
    lost = [i for i in unconditioned_outputs(masks) if i != first]
    if not lost:
        return True, f"every output but x̂{first + 1} (first in the ordering) gets an input"
    order = np.argsort(m0.numpy())
    parts = []
    for i in lost:
        before = [f"x{j + 1}" for j in order[:int(m0[i]) - 1]]
        parts.append(f"x̂{i + 1} gets no input: it models p(x{i + 1}), not "
                     f"p(x{i + 1} | {', '.join(before)})")
    return False, "; ".join(parts)
