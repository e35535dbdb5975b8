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

from . import checks

MODES = ("quick", "full")
_ENV = "MPLIB_MODE"
_SEED_ENV = "MPLIB_SEED_OFFSET"   # shifts every seed: the seeds benchmark runs 0..4
_FAST_DEV_ENV = "MPLIB_FAST_DEV_RUN"  # caps every training loop at this many batches


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
        return checks.choice(value, _ENV, MODES)
    return "quick" if device().type == "cpu" else "full"


def budget(*, quick, full):
    """Pick the value for the current mode: ``epochs = budget(quick=5, full=30)``."""
    return full if mode() == "full" else quick


def _env_count(name: str) -> int:
    """A non-negative integer from the environment variable ``name`` (0 when unset)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        # the environment holds text: a value that is no integer is a wrong value, not type
        raise ValueError(f"{name} must be an integer >= 0, got {os.environ[name]!r}") from None
    return checks.integer(value, name, minimum=0)


def seed_offset() -> int:
    """``MPLIB_SEED_OFFSET`` (default 0): added to every seed, so that one switch re-runs a
    notebook with other random numbers. A target that holds for offsets 0..4 does not rest
    on one lucky seed."""
    return _env_count(_SEED_ENV)


def shift(n: int) -> int:
    """The seed n moved by :func:`seed_offset`; use it for explicit ``seed=`` arguments."""
    return checks.integer(n, "seed n", minimum=0) + seed_offset()


def seed(n: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and GPU) with ``shift(n)``; return a torch
    Generator seeded the same way. Without ``MPLIB_SEED_OFFSET``, ``shift(n) == n``."""
    n = shift(n)
    random.seed(n)
    np.random.seed(n % 2**32)
    torch.manual_seed(n)  # also seeds every CUDA device
    return torch.Generator().manual_seed(n)


_seed_all = seed  # setup's argument is called seed, as in runtime.setup(seed=0), and hides it


def fast_dev_run() -> int:
    """``MPLIB_FAST_DEV_RUN`` (default 0, off): when it is a positive number k, every training
    loop stops after k batches, like PyTorch Lightning's ``fast_dev_run``. It lets CI run full
    mode's code paths (sizes, data, devices) on a CPU in minutes; targets are then printed but
    not asserted, because nothing has trained."""
    return _env_count(_FAST_DEV_ENV)


def target(description: str, met: bool) -> bool:
    """Print ``target: <description> -> met`` (or ``-> MISSED``) and assert that it is met.

    ``description`` carries the numbers, e.g. ``f"accuracy {acc:.1%} >= 95%"``. Under
    :func:`fast_dev_run` the line is printed with "(not asserted: fast dev run)" instead of
    failing. The seeds benchmark reads these lines.
    """
    if not isinstance(description, str):
        raise TypeError(f"description must be a string, got {type(description).__name__}")
    if not description:
        raise ValueError("description must be a non-empty string, got ''")
    met = bool(met)
    capped = fast_dev_run() > 0
    verdict = "met" if met else "MISSED"
    print(f"target: {description} -> {verdict}" + (" (not asserted: fast dev run)" if capped else ""))
    if not met and not capped:
        raise AssertionError(f"target missed: {description}")
    return met


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
    line = (f"device: {name} | mode: {m} ({source}) | to change: "
            f"os.environ['{_ENV}'] = '{other}' and re-run, or start with {_ENV}={other} make lab")
    if seed_offset():
        line += f" | seeds shifted by {seed_offset()} ({_SEED_ENV})"
    if fast_dev_run():
        line += (f" | fast dev run: every loop stops after {fast_dev_run()} batches, "
                 "targets printed, not asserted")
    return line


def summary() -> None:
    """Print one line that every training cell starts with (see :func:`describe`)."""
    print(describe())


def setup(seed: int = 0) -> None:
    """Every notebook's first cell: the collection's plot style, one CPU thread
    (:func:`prefer_one_thread`), Python, NumPy and PyTorch seeded with ``shift(seed)``
    (:func:`seed`), and the :func:`summary` line.

    It returns nothing, so that it can end a cell without printing; a notebook that draws from
    a generator of its own asks :func:`seed` for one.
    """
    from . import plot  # here, not at the top: the rest of runtime does not need matplotlib

    checks.integer(seed, "seed", minimum=0)
    plot.style()
    prefer_one_thread()
    _seed_all(seed)
    summary()


class Timer:
    """Wall-clock timer for a block: ``with Timer() as t: ...; t.seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        return False


_announced = False


def _announce_fast_dev_run() -> None:
    """Print, once per process, the one line that says this is a fast dev run."""
    global _announced
    if not _announced:
        _announced = True
        k = fast_dev_run()
        print(f"fast dev run ({_FAST_DEV_ENV}={k}): every training loop stops after {k} "
              "batches; targets are printed, not asserted")


def capped(n: int) -> int:
    """How many of ``n`` batches (or steps) a loop may run: ``n``, or at most
    :func:`fast_dev_run` of them when that is on (the first capped loop says so, once).

    The cap covers every loop that trains a model (``train.fit``, the VRNN's too, the
    notebooks' own optimizer loops), held-out scoring (``train.evaluate``, ``likelihood.nll``,
    the VAE's ELBO and importance sampling) and the number of images sampled. Exact
    algorithms whose result a chapter proves, the same in both modes and done in
    milliseconds (the perceptron, least squares), are not capped.
    """
    n = checks.integer(n, "n", minimum=0)
    k = fast_dev_run()
    if not k:
        return n
    _announce_fast_dev_run()
    return min(n, k)


def capped_range(n: int) -> range:
    """``range(capped(n))``: a training loop of ``n`` steps that honours the fast-dev-run cap."""
    return range(capped(n))


_capped_loops: list[dict] = []


def record_capped_loop(planned: int, batch_seconds: list, *, batch_size: int, where: str,
                       kind: str = "train") -> None:
    """Note what a loop cut short by the fast dev run would have done in a real run.

    planned        batches (or passes) the uncapped loop would run, e.g. epochs × batches;
    batch_seconds  the measured time of each batch it did run;
    kind           "train", "score" (held-out evaluation) or "sample" (one pass per pixel).
    The gpu-check estimate (benchmarks/gpu_check.py --estimate) reads :func:`capped_loops`.
    """
    _capped_loops.append({"where": where, "kind": kind, "planned": int(planned),
                          "batch_size": int(batch_size),
                          "batch_seconds": [float(s) for s in batch_seconds]})


class LoopClock:
    """Times the batches of a loop under a fast dev run, for :func:`record_capped_loop`::

        clock = LoopClock()
        for b in range(runtime.capped(batches)):
            with clock: ...
        clock.record(batches, batch_size=..., where=..., kind="score")

    Outside a fast dev run it records nothing and costs nothing.
    """

    def __init__(self):
        self.on = fast_dev_run() > 0
        self.seconds: list[float] = []

    def __enter__(self):
        if self.on:
            self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if self.on:
            self.seconds.append(time.perf_counter() - self._start)
        return False

    def record(self, planned: int, *, batch_size: int, where: str, kind: str) -> None:
        if self.on:
            record_capped_loop(planned, self.seconds, batch_size=batch_size, where=where,
                               kind=kind)


def annotate_capped_loops(since: int, **info) -> None:
    """Add facts to the capped loops recorded since ``len(capped_loops()) == since``, e.g.
    ``cached="NADE"`` for work that a real run shares between notebooks through the cache
    (the estimate counts it once)."""
    for loop in _capped_loops[since:]:
        loop.update(info)


def capped_loops() -> list[dict]:
    """The loops this process ran under the fast dev run (see :func:`record_capped_loop`)."""
    return list(_capped_loops)
