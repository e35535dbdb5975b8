"""Conventions every notebook keeps (the notebooks themselves run under nbval)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
REPO_URL = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
IDS = [p.stem for p in NOTEBOOKS]


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].stem == "00_start_here"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_py_twin_in_sync(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{path.name} has no py:percent twin"
    assert _cells(jupytext.read(twin)) == _cells(nbformat.read(path, as_version=4)), (
        f"{path.name} and {twin.name} differ: run `make execute NB=notebooks/{twin.name}`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_metadata(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.jupytext.formats == "ipynb,py:percent"
    widgets = nb.metadata.get("widgets")
    # GitHub refuses to render a notebook whose widget metadata lacks its state.
    if widgets is not None:
        assert all("state" in v for v in widgets.values())
    assert path.stat().st_size < 3_000_000, f"{path.name} is over 3 MB: smaller figures"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_are_one_clean_run(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts are not 1..n; run `make execute`")
    for c in code:
        for out in c.outputs:
            assert out.output_type != "error", f"{path.name} stores an error output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_installs_on_colab_only(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code").source
    assert '"google.colab" in sys.modules' in first
    assert f"git+{REPO_URL}" in first, f"{path.name}: Colab cell must use {REPO_URL}"


def test_readme_uses_the_one_repository_address():
    readme = (ROOT / "README.md").read_text()
    slug = REPO_URL.removeprefix("https://github.com/")
    assert f"mybinder.org/v2/gh/{slug}/" in readme
    assert f"colab.research.google.com/github/{slug}/" in readme
    for other in re.findall(r"github\.com/([\w.-]+/[\w.-]+)", readme):
        assert other == slug, f"README names another repository: {other}"


def test_chapter_links_point_at_real_notebooks():
    """Links in the README and notebook 00 open a notebook that exists, or none is given."""
    sources = [(ROOT / "README.md").read_text(), (ROOT / "notebooks/00_start_here.py").read_text()]
    for text in sources:
        for target in re.findall(r"\]\((?:notebooks/)?(\d\d\w*\.ipynb)\)", text):
            assert (ROOT / "notebooks" / target).exists(), f"link to missing {target}"


def test_binder_installs_cpu_torch_and_mplib():
    req = (ROOT / "binder" / "requirements.txt").read_text()
    pinned = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                  if "==" in line and not line.startswith("#"))
    assert f"torch=={pinned['torch']}" in req and "cpu" in req
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text()


SECTIONS = {  # every numbered section of the notes has a heading in its chapter's notebook
    "01_neural_networks": ["1.1", "1.2", "1.3", "1.4", "1.5"],
    "02_convolutional_networks": ["2.1", "2.2"],
    "03_fully_convolutional_networks": ["3.1", "3.2"],
    "04_recurrent_networks": ["4.1", "4.2", "4.3"],
    "05_autoencoders": ["5.1", "5.2", "5.3", "5.4"],
    "06a_autoregressive_density": ["6.1", "6.2", "6.3"],
    "06b_pixelcnn_wavenet": ["6.4", "6.5"],
    "06c_vrnn_transformers": ["6.6", "6.7"],
}


def test_all_23_sections_have_headings():
    assert sum(len(v) for v in SECTIONS.values()) == 23
    for stem, numbers in SECTIONS.items():
        nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
        headings = [line for c in nb.cells if c.cell_type == "markdown"
                    for line in c.source.splitlines() if line.startswith("## ")]
        for number in numbers:
            assert any(h.startswith(f"## {number} ") for h in headings), (
                f"{stem} has no heading '## {number} ...'")
