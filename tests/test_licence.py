"""A lecturer can adopt the collection: licences, attribution to the notes, a citation entry."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "notebooks").glob("[0-9]*.ipynb")
                  if not p.stem.startswith("00"))
NOTES = "*Machine Perception*, C. Perez Jensen, 2024"
# The keys that the Citation File Format 1.2.0 schema requires.
CFF_REQUIRED = {"cff-version", "message", "title", "authors"}


def test_licence_files():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "CC BY 4.0" in (ROOT / "LICENSE-CONTENT.md").read_text()


def test_readme_names_both_licences_and_the_notes():
    readme = (ROOT / "README.md").read_text()
    for needle in ("MIT", "CC BY 4.0", "LICENSE", "LICENSE-CONTENT.md", "CITATION.cff",
                   "CONTRIBUTING.md", "Cristian Perez Jensen"):
        assert needle in readme, f"README.md does not mention {needle!r}"


def test_citation_cff_parses():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert CFF_REQUIRED <= cff.keys(), f"CITATION.cff lacks {CFF_REQUIRED - cff.keys()}"
    assert cff["cff-version"] == "1.2.0"
    assert all("name" in a or "family-names" in a for a in cff["authors"])
    assert {"MIT", "CC-BY-4.0"} <= set(cff["license"])
    notes = cff["references"][0]
    assert notes["title"] == "Machine Perception" and notes["year"] == 2024


def test_error_report_template():
    text = (ROOT / ".github/ISSUE_TEMPLATE/error-in-a-notebook.md").read_text()
    for field in ("Notebook and section", "What it says", "What is right"):
        assert field in text


def _first_markdown(path):
    nb = nbformat.read(path, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_notebook_credits_the_notes(path):
    chapter = int(re.match(r"\d+", path.stem).group())
    line = f"follows chapter {chapter} of {NOTES}"
    assert line in _first_markdown(path), f"{path.name}'s first cell lacks: {line!r}"


def test_start_here_credits_the_notes():
    assert NOTES in _first_markdown(ROOT / "notebooks" / "00_start_here.ipynb")
