"""No notebook holds a control character: an escape such as "\a" in LaTeX written into a
non-raw Python string becomes BEL (0x07), and the rendered text silently loses a letter."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([*ROOT.glob("notebooks/*.py"), *ROOT.glob("notebooks/*.ipynb"),
                *ROOT.glob("exercises/*.ipynb")])
# C0 controls but tab, newline and carriage return; DEL; the C1 controls
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")


def _offenders(text: str) -> list[str]:
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in CONTROL.finditer(line):
            found.append(f"line {lineno}, column {m.start() + 1}: {ascii(m.group())} in "
                         f"{line.strip()[:60]!r}")
    return found


def test_there_are_files_to_scan():
    names = {p.name for p in FILES}
    assert "06a_autoregressive_density.py" in names and "06a_autoregressive_density.ipynb" in names
    assert any(p.parent.name == "exercises" for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_no_control_characters(path):
    text = path.read_text(encoding="utf-8")
    assert not _offenders(text), f"{path.name}: " + "; ".join(_offenders(text)[:5])
    if path.suffix == ".ipynb":
        # the JSON may also carry them escaped, as \u0007: check every cell's decoded text
        nb = json.loads(text)
        for k, cell in enumerate(nb["cells"]):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            assert not _offenders(source), f"{path.name}, cell {k}: {_offenders(source)[:3]}"


def test_the_check_finds_a_bel():
    assert _offenders("$\x07lpha$")
    assert not _offenders("$\\alpha$\ttab\r\n")
