"""How disentangled is a representation? The mutual information gap (MIG), for §5.4.

For each true factor v_k, rank the latents z_j by their mutual information with it; the gap
between the best and the second best, divided by the factor's entropy H(v_k), says how much
one latent alone captures that factor. MIG is the mean of these gaps over the factors
(Chen et al., 2018):

    MIG = 1/K Σ_k ( I(z_{j*}; v_k) − max_{j ≠ j*} I(z_j; v_k) ) / H(v_k)

Continuous latents are discretised into equal-width bins per dimension, and every mutual
information is the plug-in estimate from the joint histogram, in nats. MIG lies in [0, 1]:
1 when each factor is copied by exactly one latent, 0 when two latents share it equally.
"""

from __future__ import annotations

import numpy as np

from . import checks


def _as_2d(a, name):
    a = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or len(a) == 0:
        raise ValueError(f"{name} must be a non-empty (N, d) array, got shape {a.shape}")
    return a


def discretize(z, bins: int = 20) -> np.ndarray:
    """Each column of z (N, d) cut into ``bins`` equal-width bins over its own range -> ints."""
    bins = checks.integer(bins, "bins")
    z = _as_2d(z, "z").astype(float)
    if not np.all(np.isfinite(z)):
        raise ValueError("z must be finite")
    lo, hi = z.min(0), z.max(0)
    width = np.where(hi > lo, hi - lo, 1.0)
    return np.clip(((z - lo) / width * bins).astype(int), 0, bins - 1)


def entropy(a) -> float:
    """Plug-in entropy H(a) of a discrete sequence, in nats."""
    a = np.asarray(a).ravel()
    if a.size == 0:
        raise ValueError("a must be non-empty")
    _, counts = np.unique(a, return_counts=True)
    p = counts / a.size
    return float(-(p * np.log(p)).sum())


def mutual_info(a, b) -> float:
    """Plug-in mutual information I(a; b) of two discrete sequences, in nats."""
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if a.size != b.size or a.size == 0:
        raise ValueError(f"a and b must be non-empty and of equal length, got {a.size} and {b.size}")
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    joint = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(joint, (ia, ib), 1.0)
    joint /= a.size
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def mutual_info_matrix(z, factors, bins: int = 20) -> np.ndarray:
    """I(z_j; v_k) for every latent j (rows) and factor k (columns), z discretised first."""
    z = _as_2d(z, "z")
    v = _as_2d(factors, "factors")
    if len(z) != len(v):
        raise ValueError(f"z and factors must have the same length, got {len(z)} and {len(v)}")
    zd = discretize(z, bins)
    return np.array([[mutual_info(zd[:, j], v[:, k]) for k in range(v.shape[1])]
                     for j in range(zd.shape[1])])


def mig(z, factors, bins: int = 20):
    """Mutual information gap of latents z (N, d) against discrete factors (N, K).

    Returns (score, gaps): the mean normalised gap and the gap of each factor. A factor that
    never varies (zero entropy) carries no information and is left out.
    """
    z = _as_2d(z, "z")
    if z.shape[1] < 2:
        raise ValueError("z needs at least two latent dimensions for a gap")
    mi = mutual_info_matrix(z, factors, bins)
    v = _as_2d(factors, "factors")
    gaps = []
    for k in range(v.shape[1]):
        h = entropy(v[:, k])
        if h == 0:
            gaps.append(np.nan)
            continue
        top = np.sort(mi[:, k])[::-1]
        gaps.append((top[0] - top[1]) / h)
    gaps = np.array(gaps)
    if np.all(np.isnan(gaps)):
        raise ValueError("every factor is constant: nothing to disentangle")
    return float(np.nanmean(gaps)), gaps
