"""Student versions and grading: exercises/ is up to date, a student version runs to the end
with nothing solved, and `nbgrader autograde` gives full marks to the complete notebook and
none to the blank one. Also the conventions of exercise cells in every chapter notebook."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import student_versions as sv  # noqa: E402
from exercise_support import exercises_by_section  # noqa: E402

nbgrader_missing = importlib.util.find_spec("nbgrader") is None
needs_nbgrader = pytest.mark.skipif(nbgrader_missing, reason="nbgrader is not installed")
CHAPTERS = sv.chapters_with_exercises()
IDS = [p.stem for p in CHAPTERS]


def test_chapter_one_has_exercises():
    assert [p.stem for p in CHAPTERS][:1] == ["01_neural_networks"]


# ---------------------------------------------------------------- conventions


def _exercise_cells(nb):
    return [(k, c) for k, c in enumerate(nb.cells)
            if c.metadata.get("nbgrader", {}).get("solution")]


@pytest.mark.parametrize("py", sorted((ROOT / "notebooks").glob("[0-9]*.py")),
                         ids=lambda p: p.stem)
def test_solution_cells_carry_nbgrader_metadata(py):
    nb = jupytext.read(py)
    for k, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            assert meta and meta.get("solution") is True, f"{py.name} cell {k}: no nbgrader data"
            assert cell.source.count("### BEGIN SOLUTION") == cell.source.count("### END SOLUTION")
        if meta is None:
            continue
        assert meta.get("schema_version") == 3 and meta.get("grade_id"), f"{py.name} cell {k}"
        if meta.get("grade"):
            assert meta.get("locked") is True and meta.get("points", 0) > 0, f"{py.name} cell {k}"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), f"{py.name}: grade_id used twice"


@pytest.mark.parametrize("py", CHAPTERS, ids=IDS)
def test_every_exercise_is_followed_by_its_check(py):
    nb = jupytext.read(py)
    exercises = _exercise_cells(nb)
    assert len(exercises) >= 6
    for k, cell in exercises:
        assert "### BEGIN SOLUTION" in cell.source, f"{py.name} cell {k}: solution not delimited"
        check = nb.cells[k + 1]
        meta = check.metadata.get("nbgrader", {})
        gid = cell.metadata["nbgrader"]["grade_id"]
        assert meta.get("grade") is True and meta.get("grade_id") == f"check_{gid}", (
            f"{py.name}: exercise {gid} is not followed by its graded check cell")
        assert ".check_" in check.source, f"{py.name}: check_{gid} calls no checker"


def test_chapter_one_covers_every_section():
    nb = jupytext.read(ROOT / "notebooks" / "01_neural_networks.py")
    section, covered = None, set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## 1."):
                    section = line.split()[1]
        if cell.metadata.get("nbgrader", {}).get("solution"):
            covered.add(section)
    assert covered == {"1.1", "1.2", "1.3", "1.4", "1.5"}


# ---------------------------------------------------------------- student versions


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """One nbgrader course directory with every chapter released (generate_assignment once)."""
    root = tmp_path_factory.mktemp("course")
    sv.setup_course(root, CHAPTERS)
    return root


@needs_nbgrader
def test_student_versions_are_not_stale(course):
    problems = sv.stale(course=course)
    assert not problems, "; ".join(problems) + ": run `make student`"


@needs_nbgrader
@pytest.mark.parametrize("py", CHAPTERS, ids=IDS)
def test_student_version_has_no_solutions_and_no_outputs(py):
    nb = nbformat.read(ROOT / "exercises" / f"{py.stem}.ipynb", as_version=4)
    for cell in nb.cells:
        assert "BEGIN SOLUTION" not in cell.source
        if cell.cell_type == "code":
            assert not cell.outputs
    blanks = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert blanks and all("raise NotImplementedError()" in c.source for c in blanks)


# ---------------------------------------------------------------- running and grading


def _kernel_env(monkeypatch):
    monkeypatch.setenv("MPLIB_MODE", "quick")
    # Grades and feedback depend on the exercises only, not on how far the chapter's models
    # train (nbval runs the notebooks in full): cap every training loop at 2 batches.
    monkeypatch.setenv("MPLIB_FAST_DEV_RUN", "2")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


@needs_nbgrader
@pytest.mark.parametrize("py", CHAPTERS, ids=IDS)
def test_student_version_runs_to_the_end_unsolved(py, monkeypatch, tmp_path):
    from nbclient import NotebookClient

    _kernel_env(monkeypatch)
    nb = nbformat.read(ROOT / "exercises" / f"{py.stem}.ipynb", as_version=4)
    # The first exercise answered wrongly (-1.0 is no exercise's answer): its check shows
    # feedback, and the run goes on.
    first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    first.source = first.source.replace("raise NotImplementedError()", "return -1.0")
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # raises on error
    checks = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    texts = ["".join(o.get("text", "") for o in c.outputs) for c in checks]
    assert texts[0].startswith("✗"), texts[0]
    for cell, text in zip(checks[1:], texts[1:]):
        assert "not tried yet" in text, f"{cell.metadata['nbgrader']['grade_id']}: {text!r}"
    assert nb.cells[-1].cell_type == "code" and nb.cells[-1].execution_count


@needs_nbgrader
def test_autograde_full_marks_for_complete_zero_for_blank(monkeypatch, course):
    from nbgrader.api import Gradebook

    _kernel_env(monkeypatch)
    for py in CHAPTERS:
        aid = sv.assignment_id(py)
        for student, folder in (("complete", "source"), ("blank", "release")):
            target = course / "submitted" / student / aid
            target.mkdir(parents=True)
            shutil.copy(course / folder / aid / f"{py.stem}.ipynb", target)
        sv.run_nbgrader(["autograde", aid, "--force"], course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for py in CHAPTERS:
            aid = sv.assignment_id(py)
            complete = gb.find_submission(aid, "complete")
            blank = gb.find_submission(aid, "blank")
            assert complete.max_score >= 6
            assert complete.score == complete.max_score, (
                f"{aid}: {complete.score}/{complete.max_score}")
            assert blank.score == 0, f"{aid}: the blank version scored {blank.score}"
    for py in CHAPTERS:
        aid = sv.assignment_id(py)
        # No cell crashed the grader: in the blank version only the graded checks fail.
        graded = nbformat.read(course / "autograded" / "blank" / aid / f"{py.stem}.ipynb", 4)
        failed = [c for c in graded.cells if c.cell_type == "code"
                  and any(o.output_type == "error" for o in c.outputs)]
        assert failed and all(c.metadata.get("nbgrader", {}).get("grade") for c in failed), (
            [c.source[:80] for c in failed])
        assert all("ExerciseFailed" in o.ename for c in failed for o in c.outputs
                   if o.output_type == "error")
        complete = nbformat.read(course / "autograded" / "complete" / aid / f"{py.stem}.ipynb", 4)
        assert not [c for c in complete.cells if c.cell_type == "code"
                    and any(o.output_type == "error" for o in c.outputs)]


@pytest.mark.parametrize("py", CHAPTERS, ids=IDS)
def test_readme_links_the_student_version(py):
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| [{py.stem}]"))
    target = f"exercises/{py.stem}.ipynb"
    assert f"]({target})" in row and f"lab/tree/{target})" in row and f"/blob/main/{target})" in row
    assert (ROOT / target).exists()
    count = len(_exercise_cells(jupytext.read(py)))
    assert f"| {count} ([student version]" in row, f"README should say {count} exercises"


@pytest.mark.parametrize("py", CHAPTERS, ids=IDS)
def test_nbgrader_metadata_survives_the_py_twin(py):
    # jupytext keeps cell metadata in the py:percent headers; make execute writes both files.
    def grading(nb):
        return [c.metadata.get("nbgrader") for c in nb.cells]

    stored = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    assert grading(jupytext.read(py)) == grading(stored)
    assert sum(m is not None for m in grading(stored)) >= 12


def test_chapter_three_has_every_kind_in_both_sections():
    assert "03_fully_convolutional_networks" in IDS
    found = exercises_by_section("03_fully_convolutional_networks")
    assert {s for s, _ in found} == {"3.1", "3.2"}
    assert {k for _, k in found} == {"implement", "predict", "break it"}
