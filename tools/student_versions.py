"""Build the student versions of the chapter notebooks with `nbgrader generate_assignment`.

    python tools/student_versions.py            # (re)write exercises/NN_name.ipynb
    python tools/student_versions.py --check    # exit 1 if exercises/ is stale

A chapter notebook has exercises when some cell carries nbgrader metadata. Each such notebook
is read from its py:percent twin (the source we edit), put into a temporary nbgrader course
directory as the assignment "chNN", and released with `nbgrader generate_assignment`, which
replaces every `### BEGIN SOLUTION` ... `### END SOLUTION` region by a stub that raises
NotImplementedError and clears the outputs. The released notebook is copied to exercises/,
with its relative links pointed back at notebooks/ and without the jupytext pairing (the
student version has no .py twin).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXERCISES = ROOT / "exercises"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
# A relative link to another notebook, e.g. (00_start_here.ipynb#Exercises).
_LINK = re.compile(r"\]\((?!https?:|/|#)([^)]+?\.ipynb[^)]*)\)")


def has_exercises(nb) -> bool:
    return any("nbgrader" in c.metadata for c in nb.cells)


def chapters_with_exercises() -> list[Path]:
    """The py:percent twins of the notebooks that contain nbgrader cells."""
    return [py for py in sorted(NOTEBOOKS.glob("[0-9]*.py")) if has_exercises(jupytext.read(py))]


def assignment_id(py: Path) -> str:
    return "ch" + py.stem.split("_")[0]


def nbgrader_env() -> dict:
    """nbgrader calls `alembic` (for its gradebook): the venv's bin/ must be on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(args: list[str], course: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}",
           f"--config={ROOT / 'nbgrader_config.py'}"]
    done = subprocess.run(cmd, cwd=course, env=nbgrader_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[2:4])} failed:\n{done.stdout}\n{done.stderr}")
    return done


def source_notebook(py: Path):
    """The complete notebook (solutions in), as nbgrader's source, without outputs."""
    nb = jupytext.read(py)
    nb.metadata["kernelspec"] = KERNELSPEC
    return nb


def setup_course(course: Path, pys: list[Path]) -> None:
    """Put each chapter into ``course``/source/chNN/ and generate its student version."""
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for py in pys:
        folder = course / "source" / assignment_id(py)
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(source_notebook(py), folder / f"{py.stem}.ipynb")
        run_nbgrader(["generate_assignment", assignment_id(py), "--force"], course)


def student_version(course: Path, py: Path):
    """The released notebook, made to stand on its own in exercises/."""
    nb = nbformat.read(course / "release" / assignment_id(py) / f"{py.stem}.ipynb", as_version=4)
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = KERNELSPEC
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            cell.source = _LINK.sub(lambda m: f"](../notebooks/{m.group(1)})", cell.source)
        cell.metadata.pop("lines_to_next_cell", None)
        # jupytext gives new random ids on every read: fixed ones keep a rebuild of an
        # unchanged chapter byte-identical, so `make student` only touches what changed.
        cell.id = hashlib.sha1(f"{py.stem}:{k}".encode()).hexdigest()[:12]
    return nb


def build(out_dir: Path = EXERCISES, pys: list[Path] | None = None) -> list[Path]:
    pys = chapters_with_exercises() if pys is None else pys
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="mp-course-") as tmp:
        course = Path(tmp)
        setup_course(course, pys)
        for py in pys:
            target = out_dir / f"{py.stem}.ipynb"
            nbformat.write(student_version(course, py), target)
            written.append(target)
    return written


def _comparable(nb):
    return [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in nb.cells]


def stale(out_dir: Path = EXERCISES, course: Path | None = None) -> list[str]:
    """What differs between exercises/ and freshly generated student versions.

    ``course``: a course directory where :func:`setup_course` has run already (saves a run of
    nbgrader); by default a temporary one is made.
    """
    pys = chapters_with_exercises()
    if course is None:
        with tempfile.TemporaryDirectory(prefix="mp-course-") as tmp:
            setup_course(Path(tmp), pys)
            return stale(out_dir, Path(tmp))
    problems = []
    for py in pys:
        old = out_dir / f"{py.stem}.ipynb"
        if not old.exists():
            problems.append(f"{old.relative_to(ROOT)} is missing")
        elif _comparable(nbformat.read(old, 4)) != _comparable(student_version(course, py)):
            problems.append(f"{old.relative_to(ROOT)} is stale")
    expected = {f"{py.stem}.ipynb" for py in pys}
    for extra in sorted(out_dir.glob("*.ipynb")):
        if extra.name not in expected:
            problems.append(f"{extra.relative_to(ROOT)} has no chapter notebook with exercises")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale student versions")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale()
        for p in problems:
            print(p)
        if problems:
            print("run `make student` to rebuild exercises/")
        return 1 if problems else 0
    for path in build():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
