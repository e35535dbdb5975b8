"""The seeds benchmark's parsing and table, and the version check of colab-compat, on
made-up inputs (running them for real takes minutes: `make seeds`, `make colab-compat`)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import seeds  # noqa: E402


def test_target_lines_are_parsed():
    text = ("device: cpu\ntarget: U-net mIoU 0.950 >= 0.9 -> met\n"
            "target: accuracy 91.0% >= 95% -> MISSED\n"
            "target: x 1 >= 0 -> met (not asserted: fast dev run)\n")
    assert seeds.TARGET.findall(text) == [("U-net mIoU 0.950 >= 0.9", "met"),
                                          ("accuracy 91.0% >= 95%", "MISSED"),
                                          ("x 1 >= 0", "met")]


def test_table_shows_failures_and_targets():
    ok = {"seconds": 1, "failures": [], "targets": [["a 1 >= 0", "met"]]}
    bad = {"seconds": 1, "failures": ["cell 3: AssertionError: target missed: a"],
           "targets": [["a -1 >= 0", "MISSED"]]}
    text = seeds.table({"03_x": {"0": ok, "1": bad}}, ["0", "1"])
    lines = text.splitlines()
    assert lines[0] == "| notebook | MPLIB_SEED_OFFSET=0 | MPLIB_SEED_OFFSET=1 |"
    assert lines[2] == ("| 03_x | pass<br>a 1 >= 0 | **FAIL** cell 3: AssertionError: target "
                        "missed: a<br>a -1 >= 0 (MISSED) |")


def test_sanitised_text_ignores_times_and_addresses():
    rules = seeds._sanitizers()
    a = [{"output_type": "stream", "text": "took 3.2 s at 0x7f00aa"}]
    b = [{"output_type": "stream", "text": "took 11 s at 0x55bb"}]
    assert seeds._text(a, rules) == seeds._text(b, rules)
    assert seeds._text(a, rules) != seeds._text([{"output_type": "stream", "text": "x"}], rules)


def test_bad_arguments_are_named(capsys):
    for args, word in ((["--seeds", "0"], "--seeds must be >= 1"),
                       (["--jobs", "0"], "--jobs must be >= 1"),
                       (["no_such.ipynb"], "notebooks not found")):
        with pytest.raises(SystemExit):
            seeds.main(args)
        assert word in capsys.readouterr().err


def test_check_versions_reports_a_mismatch(tmp_path):
    req = tmp_path / "r.txt"
    req.write_text("# comment\npytest==0.0.1\nno-such-package-here==1.0\n")
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "check_versions.py"), str(req)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "pytest: " in result.stdout and "0.0.1 wanted" in result.stdout
    assert "no-such-package-here: not installed" in result.stdout
    import pytest as installed
    req.write_text(f"pytest=={installed.__version__}\n")
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "check_versions.py"), str(req)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_compact_table_and_readme_markers(tmp_path):
    ok = {"seconds": 1, "failures": [], "targets": [["a", "met"], ["b", "met"]]}
    bad = {"seconds": 1, "failures": ["cell 1: x"], "targets": [["a", "MISSED"]]}
    text = seeds.compact({"03_x": {"0": ok, "1": bad}}, ["0", "1"])
    assert text.splitlines()[2] == "| 03_x | pass, 2/2 targets met | FAIL, 0/1 targets met |"
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- seeds table -->\nold\n<!-- /seeds table -->\nend\n")
    assert seeds.update_readme("new", readme)
    assert readme.read_text() == "intro\n<!-- seeds table -->\nnew\n<!-- /seeds table -->\nend\n"
    readme.write_text("no markers\n")
    assert not seeds.update_readme("new", readme)
