"""Fail unless every ``name==version`` line of a requirements file is what is installed.

Used by the colab-compat job: a venv meant to hold Colab's versions must not hold others
(a later install could have upgraded one of them). A local build tag such as torch's
``+cpu`` counts as the same version.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)")


def mismatches(path: Path) -> list[str]:
    wrong = []
    for line in path.read_text().splitlines():
        m = PIN.match(line.strip())
        if not m:
            continue
        name, wanted = m.groups()
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name}: not installed (wanted {wanted})")
            continue
        if have.split("+")[0] != wanted.split("+")[0]:
            wrong.append(f"{name}: {have} installed, {wanted} wanted")
    return wrong


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: check_versions.py REQUIREMENTS_FILE", file=sys.stderr)
        return 2
    path = Path(argv[0])
    if not path.is_file():
        print(f"check_versions.py: no such requirements file: {path}", file=sys.stderr)
        return 2
    wrong = mismatches(path)
    for line in wrong:
        print("version mismatch:", line)
    if not wrong:
        print(f"every pinned version of {path} is installed")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
