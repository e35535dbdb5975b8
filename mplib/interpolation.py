"""Paths between two latent codes (§5.3): linear and spherical interpolation.

``lerp`` walks the straight segment (1 − t)·a + t·b. ``slerp`` walks the great-circle arc,
    slerp(a, b; t) = sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b,   cos Ω = a·b / (‖a‖‖b‖),
which keeps the norm constant when ‖a‖ = ‖b‖. Under a Gaussian prior in many dimensions
almost all the mass sits near a sphere, so the arc stays where the decoder was trained while
the midpoint of the segment falls inside it. Both take vectors a, b (anything
``np.asarray`` accepts, CPU tensors included) and a number or array t; they return NumPy
arrays with one row per t.
"""

from __future__ import annotations

import numpy as np

from . import checks

METHODS = ("linear", "spherical")


def _check(a, b, t):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"a and b must be non-empty vectors, got shape {a.shape}")
    t = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(t)):
        raise ValueError("t must be finite")
    return a, b, t


def lerp(a, b, t):
    """(1 − t)·a + t·b; for an array of t, one row per t."""
    a, b, t = _check(a, b, t)
    t = t[..., None]
    return (1 - t) * a + t * b


def slerp(a, b, t, *, eps: float = 1e-7):
    """Spherical interpolation from a (t = 0) to b (t = 1) along the arc between them.

    Falls back to :func:`lerp` when a and b are (nearly) parallel, where the arc is the segment.
    Raises ValueError for a zero vector (no direction) or antipodal vectors (no unique arc).
    """
    a, b, t = _check(a, b, t)
    eps = checks.number(eps, "eps", above=0)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise ValueError("slerp needs non-zero vectors a and b")
    cos = np.clip(a @ b / (na * nb), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < eps:
        if cos < 0:
            raise ValueError("a and b point in opposite directions: the arc is not unique")
        return lerp(a, b, t)
    t = t[..., None]
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def interpolate(a, b, t, method: str = "linear"):
    """``lerp`` or ``slerp`` by name ("linear" or "spherical")."""
    checks.choice(method, "method", METHODS)
    return lerp(a, b, t) if method == "linear" else slerp(a, b, t)


# -- what the interpolation widget (widgets/interpolation.py) shows --------------------------------

def class_anchors(Z, labels) -> dict:
    """For each class, the latent code of its most typical example: the one nearest the class mean."""
    Z, labels = np.asarray(Z, dtype=float), np.asarray(labels)
    if Z.ndim != 2 or len(Z) != len(labels) or len(Z) == 0:
        raise ValueError(f"Z must be (N, d) with one label per row, got {Z.shape} and {labels.shape}")
    anchors = {}
    for c in np.unique(labels):
        members = Z[labels == c]
        centre = members.mean(0)
        anchors[c.item()] = members[np.argmin(((members - centre) ** 2).sum(1))]
    return anchors
