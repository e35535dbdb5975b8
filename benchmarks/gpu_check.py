"""`make gpu-check`: notebooks executed in full mode, each against its own time budget.

Writes one results file (Markdown): the device, then per notebook its budget, wall time,
the kernel's peak memory, whether it ran through within the budget, the lines it printed
about its targets, and the likelihood table(s) of chapter 6. Prove the script on a CPU with
``MPLIB_MODE=quick``.

    python benchmarks/gpu_check.py [--timeout 180] [--out PATH] [notebooks/NN_name.ipynb ...]
    python benchmarks/gpu_check.py --estimate [notebooks/NN_name.ipynb ...]

Without notebooks it runs all of them; with some (``make gpu-check NB="notebooks/02_*.ipynb"``)
only those, and the file name says which. The results file goes to $OUT when that is set
(the GPU machine), else to benchmarks/results/.

``--estimate`` runs no GPU: it executes each notebook on this machine in full mode under the
fast dev run (MPLIB_FAST_DEV_RUN=2) and turns what the capped loops measured into an
ESTIMATE of full mode's time on one H100 (see :func:`estimate` for the method).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

TARGET = re.compile(r"target|mIoU|accuracy|MSE|nats", re.IGNORECASE)

# Full-mode budget of each notebook, in seconds on one H100: all together within one GPU call
# of 10 minutes. They are ESTIMATES: the `--estimate` of each notebook (method in `estimate`)
# plus 20 %, rounded up to 5 s; chapter 4 gets more, since its RNNs take 200 sequential
# steps per batch. A GPU run of `make gpu-check` replaces them with measurements.
BUDGET_S = {
    "00_start_here": 25,
    "01_neural_networks": 40,
    "02_convolutional_networks": 55,
    "03_fully_convolutional_networks": 80,
    "04_recurrent_networks": 75,
    "05_autoencoders": 80,
    "06a_autoregressive_density": 90,
    "06b_pixelcnn_wavenet": 70,
    "06c_vrnn_transformers": 85,
}
TOTAL_BUDGET_S = 600

# The estimate's model of one H100 against one CPU thread (see `estimate`).
# One CPU thread does about 40 GFLOP/s on these layers (the full-mode transformer step:
# about 5e11 FLOP in 13 s); an H100 sustains over 20 TFLOP/s on them in float32.
GPU_SPEEDUP = 500         # a training batch runs this many times faster on the GPU ...
GPU_STEP_FLOOR_S = 0.002  # ... but never under 2 ms (kernel launches of an eager step)


def printed_text(nb) -> list[str]:
    """Every stream output of the notebook, one string per output."""
    return ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "stream"
            and o.get("name") == "stdout"]


def results_name(kind: str, paths: list[Path], all_paths: list[Path]) -> str:
    """gpu_check_<kind>.md for all notebooks, gpu_check_<kind>_<02-05...>.md for a subset."""
    if sorted(p.stem for p in paths) == sorted(p.stem for p in all_paths):
        return f"gpu_check_{kind}.md"
    return f"gpu_check_{kind}_" + "-".join(p.stem.split("_")[0] for p in paths) + ".md"


def _step_seconds(loop: dict) -> float:
    """A capped loop's time per batch: the batches after the first (which warms up), or it."""
    times = loop["batch_seconds"]
    return statistics.median(times[1:] if len(times) > 1 else times) if times else 0.0


def _gpu_seconds(loop: dict) -> float:
    return loop["planned"] * max(_step_seconds(loop) / GPU_SPEEDUP, GPU_STEP_FLOOR_S)


def estimate(report: dict, cached: set | None = None) -> dict:
    """ESTIMATED full-mode seconds on one H100 from a fast dev run's report.

    Method: each capped loop (training, held-out scoring, pixel-by-pixel sampling) reports
    how many batches or passes the uncapped loop would run (e.g. epochs × batches per epoch)
    and how long the ones it ran took here, on one CPU thread at full-mode sizes. On the GPU
    a batch is taken to run ``GPU_SPEEDUP`` times faster, but no faster than
    ``GPU_STEP_FLOOR_S``. Everything else the notebook did (imports, data, checks, figures)
    is counted at the CPU time it took here. Work that the cache shares between notebooks
    (chapter 6's baselines, marked ``cached``) counts once: ``cached`` collects what an
    earlier notebook of the same run already did.
    """
    cached = set() if cached is None else cached
    training = 0.0
    for loop in report["loops"]:
        key = loop.get("cached")
        if key is not None:
            key = (key, loop["planned"], loop["batch_size"])
            if key in cached:
                continue
            cached.add(key)
        training += _gpu_seconds(loop)
    capped = sum(sum(loop["batch_seconds"]) for loop in report["loops"])
    other = max(report["wall_s"] - capped, 0.0)
    cpu_training = sum(loop["planned"] * _step_seconds(loop) for loop in report["loops"])
    return {"training_s": training, "other_s": other, "total_s": training + other,
            "cpu_training_s": cpu_training,
            "batches": sum(loop["planned"] for loop in report["loops"])}


def full_size_mnist_cache(root: Path) -> Path:
    """A cache folder whose full-MNIST file holds 70 000 synthetic images of MNIST's size.

    Offline the loader would fall back to the 5 000-image subset, and every loop on "mnist"
    would plan 12 times fewer batches than full mode runs. These images only time the loops:
    their pixels are random.
    """
    import numpy as np

    from mplib import data

    folder = root / "mplib"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (data.MNIST_SIZE, 784), dtype=np.uint8)
    np.savez(folder / "mnist_full.npz", X=X, y=np.arange(data.MNIST_SIZE) % 10)
    return root


def run_estimate(paths, out_dir: Path, all_paths) -> Path:
    import tempfile

    import fast_dev_run
    import torch

    lines = ["# Full-mode budget: an ESTIMATE from CPU timings of the fast dev run", "",
             f"Measured on: {os.cpu_count()} CPU cores, one thread per kernel; torch "
             f"{torch.__version__}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
             f"Model: H100 time of a batch (training, scoring) or pass (sampling) = max(CPU "
             f"time / {GPU_SPEEDUP}, {GPU_STEP_FLOOR_S * 1000:g} ms), + the rest of the "
             "notebook at its CPU time. Full MNIST is stood in for by 70 000 synthetic "
             "images of its size, so that every loop plans its full-mode batches.", "",
             "| notebook | full-mode batches and passes | CPU s for them | estimated H100 s "
             "(loops + rest) | budget s | fast dev run s | kernel peak MB |",
             "|---|---|---|---|---|---|---|"]
    total, details, trained = 0.0, [], set()
    cache = full_size_mnist_cache(Path(tempfile.mkdtemp(prefix="mplib-estimate-")))
    for path in paths:
        report = fast_dev_run.run(path, k=2, cache_home=cache)
        e = estimate(report, trained)
        total += e["total_s"]
        details += [f"\n## {path.stem}\n", "| loop | kind | full-mode batches | batch size | "
                    "CPU s per batch | estimated H100 s |", "|---|---|---|---|---|---|"]
        for loop in report["loops"]:
            step = _step_seconds(loop)
            shared = " (cached: counted once)" if loop.get("cached") else ""
            details.append(f"| {loop['where']}{shared} | {loop.get('kind', 'train')} | "
                           f"{loop['planned']:,} | "
                           f"{loop['batch_size']} | {step:.3f} | {_gpu_seconds(loop):.1f} |")
        details += ["", "slowest cells of the fast dev run (CPU s):", ""]
        details += [f"- {sec:.1f} s: `{first}`" for sec, first in
                    sorted(report["cell_seconds"], reverse=True)[:3]]
        lines.append(f"| {path.stem} | {e['batches']:,} | {e['cpu_training_s']:,.0f} | "
                     f"{e['total_s']:.0f} ({e['training_s']:.0f} + {e['other_s']:.0f}) | "
                     f"{BUDGET_S.get(path.stem, '?')} | {report['wall_s']:.0f} | "
                     f"{report['peak_mb']:.0f} |")
        print(lines[-1], flush=True)
    lines.append(f"| all | | | {total:.0f} | "
                 f"{sum(BUDGET_S.get(p.stem, 0) for p in paths)} of {TOTAL_BUDGET_S} | | |")
    out = out_dir / results_name("estimate", paths, all_paths)
    out.write_text("\n".join(lines + details) + "\n")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("notebooks", nargs="*", type=Path)
    p.add_argument("--timeout", type=int, default=180, help="seconds per cell (default 180)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--estimate", action="store_true",
                   help="no GPU: estimate full mode's H100 time from a fast dev run here")
    args = p.parse_args(argv)
    all_paths = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    paths = [Path(n).with_suffix(".ipynb") for n in args.notebooks] or all_paths
    for path in paths:
        if not path.exists():
            raise SystemExit(f"notebooks: no such notebook {path}")
    out_dir = Path(os.environ["OUT"]) if os.environ.get("OUT") else ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.estimate:
        print(f"estimate written to {run_estimate(paths, out_dir, all_paths)}")
        return

    import nbformat
    import torch
    from execute_notebooks import run

    from mplib import runtime

    os.environ.setdefault("MPLIB_MODE", "full")
    mode = runtime.mode()
    dev = runtime.device()
    gpu = torch.cuda.get_device_name(0) if dev.type == "cuda" else dev.type
    out = args.out or out_dir / results_name(f"{mode}_{dev.type}", paths, all_paths)

    lines = [f"# gpu-check: notebooks in {mode} mode, each against its budget",
             "", f"device: {gpu}; torch {torch.__version__}; "
             f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "| notebook | budget s | ran | wall s | within budget | kernel peak MB |",
             "|---|---|---|---|---|---|"]
    details, total = [], 0.0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        budget = BUDGET_S.get(path.stem) if mode == "full" else None   # full-mode budgets only
        try:
            m = run(nb, path.parent, timeout=args.timeout)
            ok, wall, peak = "yes", f"{m['wall_s']:.0f}", f"{m['peak_mb']:.0f}"
            total += m["wall_s"]
            within = "–" if budget is None else ("yes" if m["wall_s"] <= budget else "NO")
        except Exception as err:
            ok, wall, peak, within = f"NO ({type(err).__name__})", "", "", ""
        lines.append(f"| {path.stem} | {budget if budget else '–'} | {ok} | {wall} | {within} "
                     f"| {peak} |")
        printed = printed_text(nb)
        targets = [ln for text in printed for ln in text.splitlines() if TARGET.search(ln)]
        tables = [text for text in printed if "bits/dim" in text]
        details += [f"\n## {path.stem}\n", "```"] + targets + ["```"]
        for t in tables:
            details += ["", "```", t.rstrip(), "```"]
        print(f"{path.stem}: ran {ok}, {wall} s" + (f" of {budget} s" if budget else ""),
              flush=True)
    if mode == "full":
        budgets = sum(BUDGET_S.get(p.stem, 0) for p in paths)
        lines.append(f"| all | {budgets} | | {total:.0f} | "
                     f"{'yes' if total <= budgets else 'NO'} | |")
    out.write_text("\n".join(lines + details) + "\n")
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
