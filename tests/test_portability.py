"""Where students open the notebooks: pyproject's ranges, Binder's and Colab's versions.

The dry-run resolutions need the package registry; without it they are skipped with the
reason. What no test here can check: that the PyTorch CPU index serves torch's ``+cpu``
build (that index is not reachable from here; the same release is resolved instead), and
that mybinder.org and Colab themselves behave as their published files say.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s#;]+)", re.M)
OFFLINE = ("NewConnectionError", "Failed to establish a new connection",
           "Temporary failure in name resolution", "Network is unreachable",
           "No route to host", "ProxyError")


def pins(path: Path) -> dict[str, str]:
    return {name.lower().replace("_", "-"): v for name, v in PIN.findall(path.read_text())}


def colab_pins() -> dict[str, str]:
    text = (ROOT / ".ci" / "colab-versions.txt").read_text()
    found = {name.lower().replace("_", "-"): v for name, v in PIN.findall(text)}
    line = re.search(r"^# colab: (.*)$", text, re.M)
    assert line, "colab-versions.txt must name Colab's own python and torch"
    found.update(dict(p.split("==") for p in line.group(1).split()))  # Colab's, not the venv's
    return found


def tool(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True)


def test_colab_versions_meet_every_floor():
    """The Colab cell installs with --no-deps: every dependency must be there already."""
    colab = colab_pins()
    for spec in PYPROJECT["dependencies"]:
        req = Requirement(spec)
        have = colab[req.name.lower()]
        assert req.specifier.contains(Version(have).public), f"Colab has {req.name} {have}: {spec}"
    assert Version(colab["python"]) in Requirement("python" + PYPROJECT["requires-python"]).specifier
    assert colab["ipywidgets"].startswith("7."), "the job must test Colab's ipywidgets 7"


def test_local_pins_meet_every_floor():
    local = pins(ROOT / "requirements.txt")
    for spec in PYPROJECT["dependencies"]:
        req = Requirement(spec)
        assert req.specifier.contains(local[req.name.lower()]), f"requirements.txt breaks {spec}"


def test_binder_files_are_generated_from_requirements():
    result = tool("tools/binder_requirements.py", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    binder = pins(ROOT / "binder" / "requirements.txt")
    assert binder["torch"] == pins(ROOT / "requirements.txt")["torch"] + "+cpu"
    assert Version(binder["jupyterlab"]) < Version("4.5"), "repo2docker's notebook 7.4 needs < 4.5"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_every_colab_cell_is_current():
    result = tool("tools/colab_cell.py", "--check")
    assert result.returncode == 0, result.stdout + "run: python tools/colab_cell.py"


def dry_run(requirements: Path, python: str, tmp_path: Path) -> None:
    """pip resolves ``requirements`` for ``python`` from wheels only, installing nothing."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
         "--only-binary=:all:", "--python-version", python, "--target", str(tmp_path / "t"),
         "-r", str(requirements)], capture_output=True, text=True, timeout=900)
    if result.returncode and any(word in result.stderr for word in OFFLINE):
        pytest.skip(f"package registry not reachable: cannot resolve for Python {python}")
    errors = [l for l in result.stderr.splitlines() if l.startswith("ERROR")]
    assert result.returncode == 0 and not errors, result.stderr[-3000:]
    assert not (tmp_path / "t").exists(), "a dry run must install nothing"


@pytest.mark.network
def test_binder_requirements_resolve_on_binders_python(tmp_path):
    python = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    # The extra index (PyTorch's CPU builds) cannot be reached here: resolve the same
    # torch release from the registries that can, and everything else as written.
    text = (ROOT / "binder" / "requirements.txt").read_text()
    text = re.sub(r"^--extra-index-url .*$", "", text, flags=re.M)
    text = re.sub(r"^torch==([^+\s]+)\+cpu$", r"torch==\1", text, flags=re.M)
    copy = tmp_path / "binder-requirements.txt"
    copy.write_text(text)
    dry_run(copy, python, tmp_path)


@pytest.mark.network
@pytest.mark.parametrize("python", ["3.11", "3.13"])
def test_requirements_resolve_at_both_ends_of_the_range(python, tmp_path):
    """README's range: Python 3.11 to 3.13 (numpy 2.4 and friends need 3.11)."""
    assert Version(python) in Requirement("python" + PYPROJECT["requires-python"]).specifier
    dry_run(ROOT / "requirements.txt", python, tmp_path)


def test_every_notebook_has_a_browser_time_limit():
    """The browser test's limits follow the measured table; none may be missing."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("browser", ROOT / "tests" / "test_browser.py")
    browser = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(browser)
    measured = browser.measured_seconds()
    for path in browser.NOTEBOOKS:
        assert browser.run_limit(path.stem, measured) >= 3 * measured[path.stem] + 30
    with pytest.raises(KeyError, match="no row for 99_missing"):
        browser.run_limit("99_missing", measured)


def test_binder_generator_rejects_bad_requirements():
    sys.path.insert(0, str(ROOT / "tools"))
    import binder_requirements as br

    text = br.render("torch==2.0.0\nnumpy==2.1.0\njupyterlab==9.9\nipykernel==1\n# tests\npytest==8\n")
    assert "torch==2.0.0+cpu" in text and "numpy==2.1.0" in text
    assert "jupyterlab==4.4.9" in text and "ipykernel" not in text and "pytest" not in text
    with pytest.raises(ValueError, match="expected name==version"):
        br.render("torch>=2\n")
    with pytest.raises(ValueError, match="must pin torch"):
        br.render("numpy==2.1.0\n")
