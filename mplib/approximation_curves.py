"""The sup error against N curves that the universal-approximation widget draws (§1.5).

One curve costs a least-squares solve for every N in 1..n_max, so each (target, activation)
pair is computed once per session (``functools.lru_cache``); the arrays are read-only.
"""

from __future__ import annotations

import functools

import numpy as np

from . import approximation as ua
from . import checks


@functools.lru_cache(maxsize=64)
def sup_error_curve(target: str, activation: str, n_max: int) -> tuple[np.ndarray, np.ndarray]:
    """(Ns, errors) of :func:`mplib.approximation.error_curve` for N = 1..n_max, cached."""
    if not isinstance(target, str):
        raise TypeError(f"target must be the name of a target function, got {target!r}")
    n_max = checks.integer(n_max, "n_max", maximum=ua.POOL)
    Ns, errors = ua.error_curve(target, activation, np.arange(1, n_max + 1))
    Ns.flags.writeable = False  # shared by every caller: nobody may change it in place
    errors.flags.writeable = False
    return Ns, errors
