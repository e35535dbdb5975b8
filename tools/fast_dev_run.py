"""Run one notebook in full mode with every training loop capped (MPLIB_FAST_DEV_RUN=k).

    python tools/fast_dev_run.py [--k 2] notebooks/05_autoencoders.py ...

The notebook is built from its py:percent twin and executed in a fresh kernel, without
network (the full-MNIST loader then takes its offline fallback at once, or reads its cache).
A first hidden cell counts the steps of every torch optimizer; a last one reports the most
steps any optimizer took, the kernel's peak memory and the capped loops (what each would
have run uncapped, and the measured time of the batches it did run). Used by
tests/test_fast_dev_run.py and by ``benchmarks/gpu_check.py --estimate``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

FIRST = """\
import socket as _socket, weakref as _weakref
from torch.optim.optimizer import register_optimizer_step_post_hook as _hook
_steps, _most = _weakref.WeakKeyDictionary(), [0, 0]   # per optimizer; most steps, optimizers
def _count(opt, args, kwargs):
    _steps[opt] = _steps.get(opt, 0) + 1
    _most[0] = max(_most[0], _steps[opt])
    _most[1] += _steps[opt] == 1
_hook(_count)
def _offline(*args, **kwargs):
    raise OSError("no network in the fast dev run")
_socket.create_connection = _offline
"""
LAST = """\
import json as _json, resource as _resource
from mplib import runtime as _runtime
print("@@fast-dev@@", _json.dumps({
    "steps": _most[0], "optimizers": _most[1],
    "peak_mb": _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024,
    "loops": _runtime.capped_loops()}))
"""


@contextmanager
def _environment(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def printed(nb) -> str:
    """Everything the notebook's cells wrote to stdout and stderr."""
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "stream")


def run(path: Path, k: int = 2, timeout: int = 600, cache_home: Path | None = None) -> dict:
    """Execute the notebook of ``path`` (.py or .ipynb) under the cap; raise on any error.

    ``cache_home`` becomes the kernel's XDG_CACHE_HOME (where ``data`` looks for its cache).

    Returns text (all printed output), steps (the most steps of one optimizer), optimizers,
    peak_mb (the kernel's), loops (see ``runtime.capped_loops``) and wall_s.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    path = Path(path)
    nb = jupytext.read(path.with_suffix(".py"))   # the source; the .ipynb is its synced twin
    nb.cells.insert(0, nbformat.v4.new_code_cell(FIRST))
    nb.cells.append(nbformat.v4.new_code_cell(LAST))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    env = dict(MPLIB_MODE="full", MPLIB_FAST_DEV_RUN=str(k), MPLBACKEND="Agg")
    if cache_home is not None:
        env["XDG_CACHE_HOME"] = str(cache_home)
    with _environment(**env):
        client.execute()   # an error in any cell raises CellExecutionError
    wall = time.perf_counter() - start
    last = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    report = json.loads(last.split("@@fast-dev@@", 1)[1])
    nb.cells = nb.cells[1:-1]
    return {"text": printed(nb), "wall_s": wall, "cell_seconds": _cell_seconds(nb), **report}


def _cell_seconds(nb) -> list[tuple[float, str]]:
    """(seconds, first line) of every code cell, from the timing nbclient records."""
    from datetime import datetime

    out = []
    for c in nb.cells:
        t = c.get("metadata", {}).get("execution", {})
        if c.cell_type == "code" and "iopub.execute_input" in t and "shell.execute_reply" in t:
            start, end = (datetime.fromisoformat(t[k].replace("Z", "+00:00"))
                          for k in ("iopub.execute_input", "shell.execute_reply"))
            out.append(((end - start).total_seconds(), c.source.strip().splitlines()[0][:60]))
    return out


def main(argv):
    k = 2
    if argv[:1] == ["--k"]:
        k, argv = int(argv[1]), argv[2:]
    for arg in argv:
        r = run(Path(arg), k)
        train = sum(sum(loop["batch_seconds"]) for loop in r["loops"])
        print(f"{Path(arg).stem}: ran in {r['wall_s']:.1f} s ({train:.1f} s in capped training "
              f"batches), at most {r['steps']} steps per optimizer over {r['optimizers']} "
              f"optimizers, kernel peak {r['peak_mb']:.0f} MB")
        for seconds, first in sorted(r["cell_seconds"], reverse=True)[:3]:
            print(f"    {seconds:6.1f} s  {first}")


if __name__ == "__main__":
    main(sys.argv[1:])
