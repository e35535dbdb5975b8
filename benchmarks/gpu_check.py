"""`make gpu-check`: every notebook executed in full mode, with a timeout per notebook.

Writes one results file (Markdown): the device, then per notebook its wall time, the kernel's
peak memory, whether it ran through, the lines it printed about its targets, and the
likelihood table(s) of chapter 6. Prove the script on a CPU with ``MPLIB_MODE=quick``.

    python benchmarks/gpu_check.py [--timeout 180] [--out PATH] [notebooks/NN_name.ipynb ...]

The results file goes to $OUT when that is set (the GPU machine), else to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

TARGET = re.compile(r"target|mIoU|accuracy|MSE|nats", re.IGNORECASE)


def printed_text(nb) -> list[str]:
    """Every stream output of the notebook, one string per output."""
    return ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "stream"
            and o.get("name") == "stdout"]


def main(argv=None):
    import nbformat
    import torch
    from execute_notebooks import run

    from mplib import runtime

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("notebooks", nargs="*", type=Path)
    p.add_argument("--timeout", type=int, default=180, help="seconds per cell (default 180)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    os.environ.setdefault("MPLIB_MODE", "full")
    mode = runtime.mode()
    dev = runtime.device()
    gpu = torch.cuda.get_device_name(0) if dev.type == "cuda" else dev.type
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    out_dir = Path(os.environ["OUT"]) if os.environ.get("OUT") else ROOT / "benchmarks" / "results"
    out = args.out or out_dir / f"gpu_check_{mode}_{dev.type}.md"
    out.parent.mkdir(parents=True, exist_ok=True)

    lines = [f"# gpu-check: every notebook in {mode} mode",
             "", f"device: {gpu}; torch {torch.__version__}; "
             f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "| notebook | ran | wall s | kernel peak MB |", "|---|---|---|---|"]
    details = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        try:
            m = run(nb, path.parent, timeout=args.timeout)
            ok, wall, peak = "yes", f"{m['wall_s']:.0f}", f"{m['peak_mb']:.0f}"
        except Exception as err:
            ok, wall, peak = f"NO ({type(err).__name__})", "", ""
        lines.append(f"| {path.stem} | {ok} | {wall} | {peak} |")
        printed = printed_text(nb)
        targets = [ln for text in printed for ln in text.splitlines() if TARGET.search(ln)]
        tables = [text for text in printed if "bits/dim" in text]
        details += [f"\n## {path.stem}\n", "```"] + targets + ["```"]
        for t in tables:
            details += ["", "```", t.rstrip(), "```"]
        print(f"{path.stem}: ran {ok}, {wall} s", flush=True)
    out.write_text("\n".join(lines + details) + "\n")
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
