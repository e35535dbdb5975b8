"""Argument checks shared by the mplib modules: one clear error that names the argument."""

from __future__ import annotations

import numpy as np


def integer(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int; ValueError naming ``name`` unless it is an integer >= minimum."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
