"""Diagonal Gaussians: the log-density and the KL divergence that the VAE (§5.3) and the VRNN
(§6.6) share.

One convention for both functions:

* a Gaussian is given by its mean μ and its log-variance log σ² (what the networks output),
  and ``None`` for both stands for the standard normal N(0, I);
* the result is summed over the last dimension, the coordinates of one vector, so it has the
  leading (batch) shape of its inputs;
* :func:`log_normal` returns +log N; a loss is minus it.

The parameters broadcast against each other as torch's arithmetic does, e.g. K samples z of
shape (K, B, d) against the posterior (μ, log σ²) of shape (B, d).
"""

from __future__ import annotations

import math

import torch

__all__ = ["log_normal", "kl_normal"]

LOG_2PI = math.log(2 * math.pi)


def log_normal(x: torch.Tensor, mu: torch.Tensor | None = None,
               logvar: torch.Tensor | None = None) -> torch.Tensor:
    """log N(x; μ, diag σ²) = −½ Σ_j [(x_j − μ_j)² / σ_j² + log σ_j² + log 2π] (§5.3).

    Summed over the last dimension; the standard normal N(0, I) when ``mu`` and ``logvar``
    are both None. −log_normal is the Gaussian reconstruction term of the VRNN (§6.6).
    """
    _check({"x": x}, {"mu": mu, "logvar": logvar})
    if mu is None:
        return -0.5 * (x.pow(2) + LOG_2PI).sum(-1)
    return -0.5 * ((x - mu).pow(2) / logvar.exp() + logvar + LOG_2PI).sum(-1)


def kl_normal(mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor | None = None,
              logvar_p: torch.Tensor | None = None) -> torch.Tensor:
    """KL(N(μ_q, diag σ_q²) ‖ N(μ_p, diag σ_p²)), in closed form, summed over the last dimension.

        ½ Σ_j [log σ_p,j² − log σ_q,j² + (σ_q,j² + (μ_q,j − μ_p,j)²) / σ_p,j² − 1]   (§6.6)

    With ``mu_p`` and ``logvar_p`` both None, p = N(0, I) and this is the VAE's
    ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1) (§5.3).
    """
    _check({"mu_q": mu_q, "logvar_q": logvar_q}, {"mu_p": mu_p, "logvar_p": logvar_p})
    if mu_p is None:
        return 0.5 * (mu_q.pow(2) + logvar_q.exp() - logvar_q - 1).sum(-1)
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp()
                  - 1).sum(-1)


def _check(required: dict, pair: dict) -> None:
    """TypeError unless every argument is a tensor and the (μ, log σ²) ``pair`` is given whole
    or not at all; ValueError unless the shapes broadcast."""
    first, second = pair
    if (pair[first] is None) != (pair[second] is None):
        raise TypeError(f"{first} and {second} must be given together (or neither, for N(0, I))")
    given = {**required, **{name: t for name, t in pair.items() if t is not None}}
    for name, t in given.items():
        if not torch.is_tensor(t):
            raise TypeError(f"{name} must be a tensor, got {type(t).__name__}")
    try:
        torch.broadcast_shapes(*(t.shape for t in given.values()))
    except RuntimeError:
        shapes = ", ".join(f"{tuple(t.shape)}" for t in given.values())
        raise ValueError(f"{', '.join(given)} must have shapes that broadcast, got {shapes}") \
            from None
