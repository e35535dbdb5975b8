"""Build each notebook from its py:percent twin and store the outputs of one clean run.

    python tools/execute_notebooks.py [notebooks/01_neural_networks.py ...]

The .py file is the source we edit; this writes NN_name.ipynb with the outputs of a fresh
kernel run (quick mode unless MPLIB_MODE says otherwise), without widget state (GitHub would
refuse partial state, and the PNG fallback each widget carries shows instead), and prints the
wall time and peak memory of each run.
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


def build(py: Path, timeout: int = 600) -> float:
    nb = jupytext.read(py)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            store_widget_state=False,
                            resources={"metadata": {"path": str(py.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    out = py.with_suffix(".ipynb")
    nbformat.write(nb, out)
    # Re-write the twin from the notebook so both carry the same header (kernelspec, formats).
    jupytext.write(nbformat.read(out, as_version=4), py, fmt="py:percent")
    return seconds


def main(argv):
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9]*.py"))
    for py in paths:
        py = py.with_suffix(".py").resolve()
        seconds = build(py)
        print(f"{py.name}: executed in {seconds:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
