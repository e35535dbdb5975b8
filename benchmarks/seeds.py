"""`make seeds`: every notebook in quick mode with MPLIB_SEED_OFFSET = 0..4.

    python benchmarks/seeds.py [notebooks/03_fully_convolutional_networks.ipynb ...]
                               [--seeds 5] [--jobs 2] [--out benchmarks/results/seeds.md]

Each (notebook, seed) runs in a fresh kernel with one CPU thread, two at a time. A run
fails when a cell raises (a missed ``runtime.target`` raises AssertionError) or when a cell
marked ``NBVAL_CHECK_OUTPUT`` prints other text than the committed notebook (after the
sanitising of tests/sanitize.cfg), as nbval would report. The ``target: ... -> met|MISSED``
lines that ``runtime.target`` prints are collected, and the markdown table (notebook x
seed) goes to benchmarks/results/seeds.md. The raw results go to seeds.json beside it; a
run of some notebooks replaces their rows and keeps the others'. A compact table (pass or
FAIL, and how many targets were met) replaces the one between the README's
``<!-- seeds table -->`` markers. The committed notebooks are not modified.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = re.compile(r"^target: (.*) -> (met|MISSED)", re.M)
CHECK = "NBVAL_CHECK_OUTPUT"


def _sanitizers():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "tests" / "sanitize.cfg")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def _text(outputs, rules) -> str:
    """What nbval compares, simplified: streams and text/plain, sanitised."""
    parts = []
    for o in outputs:
        if o.get("output_type") == "stream":
            parts.append(o.get("text", ""))
        elif "data" in o and "text/plain" in o["data"]:
            parts.append(o["data"]["text/plain"])
    text = "".join(parts)
    for regex, replace in rules:
        text = regex.sub(replace, text)
    return text


def run_one(path: Path, timeout: int = 900) -> dict:
    """Execute one notebook in this process's environment; report failures and targets."""
    import nbformat
    from nbclient import NotebookClient

    stored = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    rules = _sanitizers()
    failures, targets = [], []
    for k, (cell, old) in enumerate(zip(nb.cells, stored.cells)):
        if cell.cell_type != "code":
            continue
        for o in cell.outputs:
            if o.get("output_type") == "error":
                failures.append(f"cell {k}: {o['ename']}: {o['evalue'][:200]}")
            if o.get("output_type") == "stream":
                targets += [(d, v) for d, v in TARGET.findall(o.get("text", ""))]
        if CHECK in cell.source and _text(cell.outputs, rules) != _text(old.outputs, rules):
            failures.append(f"cell {k}: output differs from the committed notebook")
    return {"seconds": round(seconds, 1), "failures": failures, "targets": targets}


def _spawn(path: Path, seed: int) -> dict:
    env = {**os.environ, "MPLIB_MODE": "quick", "MPLIB_SEED_OFFSET": str(seed),
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.pop("MPLIB_FAST_DEV_RUN", None)
    proc = subprocess.run([sys.executable, __file__, "--one", str(path)], env=env,
                          capture_output=True, text=True)
    if proc.returncode:
        return {"seconds": 0, "targets": [],
                "failures": [f"runner failed: {proc.stderr.strip().splitlines()[-1:]}"]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"{path.stem} seed {seed}: {'ok' if not result['failures'] else 'FAILED'} "
          f"in {result['seconds']} s", flush=True)
    return result


def cell_text(result: dict) -> str:
    if result["failures"]:
        verdict = "**FAIL** " + "; ".join(result["failures"])
    else:
        verdict = "pass"
    lines = [f"{d} ({v})" if v == "MISSED" else d for d, v in result["targets"]]
    return "<br>".join([verdict] + lines).replace("|", "\\|")


def table(results: dict, seeds: list[int]) -> str:
    head = "| notebook | " + " | ".join(f"MPLIB_SEED_OFFSET={s}" for s in seeds) + " |"
    rows = [head, "|---" * (len(seeds) + 1) + "|"]
    for name, per_seed in results.items():
        rows.append(f"| {name} | " + " | ".join(cell_text(per_seed[s]) for s in seeds) + " |")
    return "\n".join(rows)


def compact(results: dict, seeds: list[str]) -> str:
    """One row per notebook: pass/FAIL per seed and how many target lines were met."""
    head = "| notebook | " + " | ".join(f"seed +{s}" for s in seeds) + " |"
    rows = [head, "|---" * (len(seeds) + 1) + "|"]
    for name, per_seed in results.items():
        cells = []
        for s in seeds:
            r = per_seed[s]
            met = sum(v == "met" for _, v in r["targets"])
            cells.append(("FAIL" if r["failures"] else "pass")
                         + (f", {met}/{len(r['targets'])} targets met" if r["targets"] else ""))
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def update_readme(text: str, readme: Path = ROOT / "README.md") -> bool:
    """Replace the table between the README's seeds-table markers; False if none."""
    start, end = "<!-- seeds table -->", "<!-- /seeds table -->"
    old = readme.read_text()
    if start not in old or end not in old:
        return False
    head, rest = old.split(start, 1)
    readme.write_text(head + start + "\n" + text + "\n" + end + rest.split(end, 1)[1])
    return True


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="*", type=Path)
    p.add_argument("--seeds", type=int, default=5, help="offsets 0..SEEDS-1 (default 5)")
    p.add_argument("--jobs", type=int, default=2, help="notebooks run at once (default 2)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "seeds.md")
    p.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one.resolve())))
        return 0
    if args.seeds < 1:
        p.error(f"--seeds must be >= 1, got {args.seeds}")
    if args.jobs < 1:
        p.error(f"--jobs must be >= 1, got {args.jobs}")
    paths = [n.with_suffix(".ipynb").resolve() for n in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    missing = [str(n) for n in paths if not n.is_file()]
    if missing:
        p.error(f"notebooks not found: {', '.join(missing)}")
    seeds = list(range(args.seeds))
    jobs = [(path, s) for path in paths for s in seeds]
    start = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(lambda job: _spawn(*job), jobs))
    raw = args.out.with_suffix(".json")
    kept = json.loads(raw.read_text()) if raw.is_file() else {}
    kept = {name: rs for name, rs in kept.items() if len(rs) == len(seeds)}
    fresh: dict = {}
    for (path, s), r in zip(jobs, done):
        fresh.setdefault(path.stem, {})[str(s)] = r
    results = dict(sorted({**kept, **fresh}.items()))
    failed = sorted({(name, s) for name, rs in fresh.items() for s, r in rs.items()
                     if r["failures"]})
    text = (f"# Quick mode on {len(seeds)} seeds\n\n`make seeds` "
            f"({args.jobs} notebooks at a time, one thread each; the last run took "
            f"{time.perf_counter() - start:.0f} s). A cell shows pass or the failures, "
            "then each `runtime.target` line of that run.\n\n"
            + table(results, [str(s) for s in seeds]) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    raw.write_text(json.dumps(results, indent=1) + "\n")
    if args.out == p.get_default("out") and update_readme(compact(results, [str(s) for s in seeds])):
        print("updated the seeds table in README.md")
    print(f"wrote {args.out}; {len(jobs) - len(failed)} of {len(jobs)} runs passed")
    for name, s in failed:
        print(f"FAILED: {name} with MPLIB_SEED_OFFSET={s}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
