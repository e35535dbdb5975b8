"""Build each notebook from its py:percent twin and store the outputs of one clean run.

    python tools/execute_notebooks.py [notebooks/01_neural_networks.py ...]

The .py file is the source we edit; this writes NN_name.ipynb with the outputs of a fresh
kernel run (quick mode unless MPLIB_MODE says otherwise), without widget state (GitHub would
refuse partial state, and the PNG fallback each widget carries shows instead), and prints the
wall time, the kernel's CPU time and the kernel's peak memory of each run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


PROBE = ("import resource as _r; _u = _r.getrusage(_r.RUSAGE_SELF); "
         "print(_u.ru_maxrss, _u.ru_utime + _u.ru_stime)")


def run(nb, workdir: Path, timeout: int = 600) -> dict:
    """Execute ``nb`` in place in a fresh kernel; return wall time, kernel CPU and peak memory."""
    # No per-cell timestamps: they would change every stored notebook on every run.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            store_widget_state=False, record_timing=False,
                            resources={"metadata": {"path": str(workdir)}})
    # A last cell, removed afterwards, reads the kernel's own peak memory and CPU time.
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        seconds = time.perf_counter() - start
        probe = nb.cells.pop()
    peak_kb, cpu = probe.outputs[0]["text"].split()
    return {"wall_s": seconds, "kernel_cpu_s": float(cpu), "peak_mb": int(peak_kb) / 1024}


def keep_ids(nb, old) -> None:
    """Give every cell of ``nb`` the id of a cell with the same type and source in ``old`` (the
    notebook it replaces), in order; new or edited cells keep their fresh ids.

    jupytext gives new random ids on every read, so without this each re-execution would
    rewrite every cell's id and bury the real change in the diff.
    """
    free = {}
    for cell in old.cells:
        if "id" in cell:
            free.setdefault((cell.cell_type, cell.source), []).append(cell.id)
    for cell in nb.cells:
        ids = free.get((cell.cell_type, cell.source))
        if ids:
            cell.id = ids.pop(0)


def build(py: Path, timeout: int = 600) -> dict:
    """Execute the twin of ``py`` into NN_name.ipynb; return wall time, kernel CPU and memory."""
    nb = jupytext.read(py)
    out = py.with_suffix(".ipynb")
    if out.exists():
        keep_ids(nb, nbformat.read(out, as_version=4))
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    metrics = run(nb, py.parent, timeout)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, out)
    # Re-write the twin from the notebook so both carry the same header (kernelspec, formats).
    jupytext.write(nbformat.read(out, as_version=4), py, fmt="py:percent")
    return metrics


def main(argv):
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9]*.py"))
    for py in paths:
        py = py.with_suffix(".py").resolve()
        m = build(py)
        print(f"{py.name}: executed in {m['wall_s']:.1f} s wall, kernel CPU {m['kernel_cpu_s']:.1f} s,"
              f" kernel peak memory {m['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
