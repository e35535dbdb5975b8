"""Shared by the checker tests of every chapter: a blank solution and a feedback runner."""

import pytest


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
