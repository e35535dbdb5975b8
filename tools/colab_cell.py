"""Write the Colab install cell (the first code cell) of every notebook pair.

    python tools/colab_cell.py [--check] [notebooks/03_fully_convolutional_networks.py ...]

The cell installs mplib from a fixed tag (``v`` + pyproject's version), quietly and with
``--no-deps``: Colab already has every dependency (pyproject's floors are below Colab's
versions), and a pip upgrade of a module Colab has already imported, ipywidgets above all,
would break the widgets until a restart that nothing prompts for. Elsewhere the cell does
nothing. Both files of a pair are updated (the .ipynb keeps its outputs), so no notebook
needs re-executing. ``--check`` only reports cells that differ (exit status 1).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def cell_source() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    spec = f"mplib @ git+{project['urls']['Repository']}@v{project['version']}"
    return (
        "# On Colab only: install the helper package mplib at a fixed release (a no-op elsewhere).\n"
        "# --no-deps: Colab has every dependency already, and upgrading one it has imported\n"
        "# (ipywidgets) would break the widgets until a restart.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",\n'
        f'                    "{spec}"],\n'
        "                   check=True)"
    )


def _first_code(nb):
    cell = next((c for c in nb.cells if c.cell_type == "code"), None)
    if cell is None or '"google.colab" in sys.modules' not in cell.source:
        raise ValueError("the first code cell must be the Colab install cell")
    return cell


def update(py: Path, check: bool) -> bool:
    """Bring both files of the pair up to date; return True if one was (or would be) changed."""
    wanted = cell_source()
    ipynb = py.with_suffix(".ipynb")
    changed = False
    nb_py = jupytext.read(py)
    if _first_code(nb_py).source != wanted:
        changed = True
        if not check:
            _first_code(nb_py).source = wanted
            jupytext.write(nb_py, py, fmt="py:percent")
    nb = nbformat.read(ipynb, as_version=4)
    if _first_code(nb).source != wanted:
        changed = True
        if not check:
            _first_code(nb).source = wanted
            nbformat.write(nb, ipynb)
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(a).with_suffix(".py") for a in argv if a != "--check"] or sorted(
        (ROOT / "notebooks").glob("[0-9]*.py"))
    stale = [p for p in paths if update(p, check)]
    for p in stale:
        print(f"{p.name}: Colab cell {'out of date' if check else 'updated'}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
