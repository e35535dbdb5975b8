"""Shared by the checker tests of every chapter: a blank solution, a feedback runner, and
the exercises a chapter notebook holds."""

import re
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KINDS = ("implement", "predict", "break it")
_SECTION = re.compile(r"^## (\d+\.\d+)\b")


def stub(*args, **kwargs):
    # What nbgrader leaves in a solution cell of the student version.
    raise NotImplementedError()


@pytest.fixture(autouse=True)
def not_graded(monkeypatch):
    """Checkers print feedback instead of raising, as outside nbgrader."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def run(check, answer, capsys):
    fb = check(answer)
    out = capsys.readouterr().out
    assert out.strip() == fb.text.strip(), "the checker must print exactly its feedback"
    assert "Traceback" not in out and "mplib/" not in out
    return fb, out


def rejects_each(check, wrong_answers, capsys) -> list[str]:
    """Each (answer, mistake) pair fails with that named mistake and a hint; the printed
    feedback of each, for checks of their own."""
    outs = []
    for answer, mistake in wrong_answers:
        fb, out = run(check, answer, capsys)
        assert not fb.passed and fb.mistake == mistake, (mistake, out)
        assert "Hint:" in out, (mistake, out)
        outs.append(out)
    return outs


def exercises_by_section(stem: str) -> list[tuple[str | None, str | None]]:
    """(section, kind) of every solution cell of notebooks/<stem>.py, in order: the last
    "## N.M" heading above it and the last "**Your turn (kind)" prompt."""
    section, kind, found = None, None, []
    for cell in jupytext.read(NOTEBOOKS / f"{stem}.py").cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if m := _SECTION.match(line):
                    section = m.group(1)
            for k in KINDS:
                if f"**Your turn ({k})" in cell.source:
                    kind = k
        if cell.metadata.get("nbgrader", {}).get("solution"):
            found.append((section, kind))
    return found
