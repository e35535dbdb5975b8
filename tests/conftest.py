"""Shared fixtures, and a closing summary that says which kinds of test ran."""

from __future__ import annotations

import os
from collections import Counter

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("MPLIB_MODE", "quick")


def _kind(report) -> str:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        return "notebook cells"
    if "test_browser" in path:
        return "browser"
    return "unit"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts: dict[str, Counter] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup") and outcome != "error":
                continue
            if outcome == "passed" and report.when != "call":
                continue
            counts.setdefault(_kind(report), Counter())[outcome] += 1
    if counts:
        terminalreporter.section("tests by kind")
        for kind in ("unit", "notebook cells", "browser"):
            if kind in counts:
                c = counts[kind]
                terminalreporter.write_line(
                    f"{kind}: " + ", ".join(f"{c[k]} {k}" for k in ("passed", "failed", "error",
                                                                     "skipped") if c[k]))
