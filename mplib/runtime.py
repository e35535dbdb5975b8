"""Where and how long to run: device, run mode, budgets, seeding (used by every chapter).

Two run modes (DESIGN.md): "full" when a GPU (CUDA or Apple MPS) is present, "quick" on a
CPU. The environment variable ``MPLIB_MODE`` overrides the choice; CI sets it to "quick".
"""

from __future__ import annotations

import os
import random
import time

import numpy as np
import torch

MODES = ("quick", "full")
_ENV = "MPLIB_MODE"


def device() -> torch.device:
    """The best device available: CUDA, then Apple MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def mode() -> str:
    """"quick" or "full": ``MPLIB_MODE`` if set, else "full" on a GPU and "quick" on a CPU."""
    value = os.environ.get(_ENV, "").strip().lower()
    if value:
        if value not in MODES:
            raise ValueError(f"{_ENV} must be one of {MODES}, got {os.environ[_ENV]!r}")
        return value
    return "quick" if device().type == "cpu" else "full"


def budget(*, quick, full):
    """Pick the value for the current mode: ``epochs = budget(quick=5, full=30)``."""
    return full if mode() == "full" else quick


def seed(n: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and GPU); return a torch Generator seeded with n."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"seed n must be a non-negative integer, got {n!r}")
    n = int(n)
    random.seed(n)
    np.random.seed(n % 2**32)
    torch.manual_seed(n)  # also seeds every CUDA device
    return torch.Generator().manual_seed(n)


def prefer_one_thread() -> None:
    """On a CPU, let PyTorch use one thread (``torch.get_num_threads()`` tells the old number).

    The models of these notebooks are tiny: one thread trains them as fast as several, and
    many times faster on a shared machine (Binder, CI, a busy laptop), where threads that wait
    for each other waste more time than they save. On a GPU nothing changes.
    """
    if device().type == "cpu":
        torch.set_num_threads(1)


def describe() -> str:
    """The line that :func:`summary` prints: device, mode, and how to change the mode."""
    dev = device()
    name = dev.type
    if dev.type == "cuda":
        name = f"cuda ({torch.cuda.get_device_name(0)})"
    m = mode()
    other = "full" if m == "quick" else "quick"
    source = f"set by {_ENV}" if os.environ.get(_ENV) else "chosen from the device"
    return (f"device: {name} | mode: {m} ({source}) | to change: "
            f"os.environ['{_ENV}'] = '{other}' and re-run, or start with {_ENV}={other} make lab")


def summary() -> None:
    """Print one line that every training cell starts with (see :func:`describe`)."""
    print(describe())


class Timer:
    """Wall-clock timer for a block: ``with Timer() as t: ...; t.seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        return False
