"""Argument checks shared by the mplib modules: one clear error that names the argument.

Every mplib module imports this module as ``from . import checks`` and calls

* :func:`integer` for counts, sizes and indices,
* :func:`number` for real-valued settings (rates, noise levels, temperatures),
* :func:`choice` for a setting that must be one of a few names.

The rule is the same everywhere: a value of the wrong *type* raises ``TypeError``, a value of
the right type outside the allowed range or set raises ``ValueError``, and both messages start
with the argument's name. ``bool`` is not accepted as a number, although Python counts it as an
int: ``layers=True`` is a mistake, not 1.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["integer", "number", "choice"]


def integer(value, name: str, minimum: int | None = 1, maximum: int | None = None) -> int:
    """``value`` as an int, checked to lie in ``minimum..maximum`` (``None``: no bound).

    TypeError unless ``value`` is an integer (a Python or NumPy int, not a bool);
    ValueError if it lies outside the bounds.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if maximum is None:
            bound = f">= {minimum}"
        elif minimum is None:
            bound = f"<= {maximum}"
        else:
            bound = f"in {minimum}..{maximum}"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    return value


def number(value, name: str, *, above: float | None = None, at_least: float | None = None,
           below: float | None = None, at_most: float | None = None) -> float:
    """``value`` as a finite float, checked against the bounds given.

    ``above``/``below`` are strict bounds, ``at_least``/``at_most`` inclusive ones; e.g. a
    learning rate is ``number(lr, "lr", above=0)`` and a dropout rate
    ``number(p, "dropout", at_least=0, below=1)``. TypeError unless ``value`` is a real number
    (int, float or their NumPy kinds, not a bool); ValueError if it is NaN, infinite or out of
    bounds.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    value = float(value)
    bounds = [(above, ">", lambda b: value > b), (at_least, ">=", lambda b: value >= b),
              (below, "<", lambda b: value < b), (at_most, "<=", lambda b: value <= b)]
    given = [(b, op, ok) for b, op, ok in bounds if b is not None]
    if not math.isfinite(value) or not all(ok(b) for b, _, ok in given):
        wanted = " and ".join(f"{op} {b}" for b, op, _ in given)
        raise ValueError(f"{name} must be a finite number{' ' + wanted if wanted else ''}, "
                         f"got {value!r}")
    return value


def choice(value, name: str, options):
    """``value`` itself, checked to be one of ``options`` (a sequence, or a dict's keys).

    ValueError listing the options otherwise (also for an unhashable ``value``).
    """
    options = tuple(options)
    try:
        ok = value in options
    except (TypeError, ValueError):  # unhashable, or an array whose == is elementwise
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def _describe(value) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
