"""Every "§N" or "§N.M" that an mplib docstring cites is a real section of the notes.

The sections are read from the notes' table of contents (lines "N.M<TAB>Title page") when the
notes are at hand (``MPLIB_NOTES``, or ``notes/`` next to the repository or in ../shared), and
otherwise from the notebooks' "## N.M Title" headings, which test_notebooks.py ties to the
notes one for one.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTES_NAME = "machine-perception-notes.txt"
CITATION = re.compile(r"§(\d+(?:\.\d+)*)")
TOC_LINE = re.compile(r"^(\d+\.\d+)\t\S")
HEADING = re.compile(r"^# ## (\d+(?:\.\d+)?) \S")


def notes_path() -> Path | None:
    candidates = [os.environ.get("MPLIB_NOTES"), ROOT / "notes" / NOTES_NAME,
                  ROOT.parent / "shared" / "notes" / NOTES_NAME,
                  ROOT.parents[1] / "shared" / "notes" / NOTES_NAME]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def sections_of_notes(text: str) -> set[str]:
    """The numbered sections of the notes' table of contents, and their chapters."""
    numbers = {m.group(1) for line in text.splitlines() if (m := TOC_LINE.match(line))}
    return numbers | {n.split(".")[0] for n in numbers}


def sections_of_notebooks() -> set[str]:
    numbers = {m.group(1) for path in sorted((ROOT / "notebooks").glob("[0-9]*.py"))
               for line in path.read_text(encoding="utf-8").splitlines()
               if (m := HEADING.match(line))}
    return numbers | {n.split(".")[0] for n in numbers}


def known_sections() -> set[str]:
    path = notes_path()
    return sections_of_notes(path.read_text(encoding="utf-8")) if path else sections_of_notebooks()


def docstring_citations(source: str) -> list[tuple[str, str]]:
    """(where, section) for every § citation in the docstrings of one module's source."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                where = getattr(node, "name", "module")
                found += [(where, m.group(1)) for m in CITATION.finditer(doc)]
    return found


def all_citations() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "mplib").rglob("*.py")):
        rel = path.relative_to(ROOT)
        found += [(f"{rel}:{where}", number)
                  for where, number in docstring_citations(path.read_text(encoding="utf-8"))]
    return found


def test_the_section_list_is_the_notes_23_sections():
    sections = known_sections()
    assert len([s for s in sections if "." in s]) == 23
    assert {s for s in sections if "." not in s} == {"1", "2", "3", "4", "5", "6"}


def test_every_cited_section_exists():
    sections = known_sections()
    citations = all_citations()
    assert len(citations) > 50  # mplib cites its sections throughout
    wrong = sorted({f"{where}: §{number}" for where, number in citations
                    if number not in sections})
    assert not wrong, "docstrings cite sections the notes do not have:\n" + "\n".join(wrong)


def test_a_wrong_citation_is_found():
    source = '"""Module (§2.1)."""\n\ndef f():\n    """As in §7.3 and §6."""\n'
    assert docstring_citations(source) == [("module", "2.1"), ("f", "7.3"), ("f", "6")]
    assert "7.3" not in known_sections() and "2.1" in known_sections()


@pytest.mark.skipif(notes_path() is None, reason="the notes are not at hand")
def test_notebook_headings_are_the_notes_sections():
    assert sections_of_notebooks() == known_sections()
