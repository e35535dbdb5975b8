"""`make bench`: measured tables (benchmarks, not timed tests).

1. every notebook in quick mode: wall time, kernel CPU time and kernel peak memory of a
   fresh-kernel execution (the committed files are not touched);
2. every widget: median and 95th-percentile update time (callback + redraw) over 30 changes
   of its first slider, next to a bare redraw of the same figure; the ratio should be <= 1.5;
3. ``mplib.train.fit`` against a minimal hand-written PyTorch loop, same model, data and run:
   the time ratio should be <= 1.10.

    python benchmarks/run.py [notebooks|widgets|fit ...]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def table(title, header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).rjust(w) if i else str(x).ljust(w)  # noqa: E731
                               for i, (x, w) in enumerate(zip(r, widths)))
    print(f"\n{title}\n" + line(header) + "\n" + line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


def bench_notebooks():
    import nbformat
    from execute_notebooks import run

    rows = []
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        try:
            m = run(nb, path.parent)
            rows.append([path.stem, f"{m['wall_s']:.1f}", f"{m['kernel_cpu_s']:.1f}",
                         f"{m['peak_mb']:.0f}", "yes" if m["wall_s"] <= 90 and
                         m["peak_mb"] < 2048 else "NO"])
        except Exception as err:  # a broken notebook is a row, not the end of the table
            rows.append([path.stem, "error", type(err).__name__, "", "NO"])
    table("Notebooks, quick mode, fresh kernel (target: <= 90 s wall, < 2048 MB)",
          ["notebook", "wall s", "kernel CPU s", "peak MB", "within"], rows)


def _percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def bench_widgets(changes: int = 30):
    from mplib.plot import png_bytes
    from widget_factories import FACTORIES

    rows = []
    for name, factory in FACTORIES.items():
        w = factory()
        slider = next(iter(w.controls.values()))
        options = _slider_values(slider)
        updates, bare = [], []
        for k in range(changes):
            t0 = time.perf_counter()
            slider.value = options[k % len(options)]
            updates.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            png_bytes(w.fig, w.dpi)  # the same figure, redrawn with nothing changed
            bare.append(time.perf_counter() - t0)
        if w.error is not None:
            rows.append([name, "error", str(w.error)[:40], "", "", "NO"])
            continue
        med, p95, base = (statistics.median(updates), _percentile(updates, 0.95),
                          statistics.median(bare))
        rows.append([name, f"{med * 1e3:.0f}", f"{p95 * 1e3:.0f}", f"{base * 1e3:.0f}",
                     f"{med / base:.2f}", "yes" if med / base <= 1.5 else "NO"])
    table(f"Widgets: update = set the first slider, callback + redraw ({changes} changes);"
          " bare = redraw only (target ratio <= 1.5)",
          ["widget", "median ms", "p95 ms", "bare ms", "ratio", "within"], rows)


def _slider_values(slider):
    """Distinct values along the slider, so that every change is a real change."""
    if hasattr(slider, "options"):
        return list(slider.options)[1:] + list(slider.options)[:1]
    lo, hi, step = slider.min, slider.max, slider.step
    n = max(2, min(30, int(round((hi - lo) / step)) + 1))
    values = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    if isinstance(slider.value, int):
        values = sorted({int(round(v)) for v in values})
    return [v for v in values if v != slider.value] + [slider.value]


def bench_fit(repeats: int = 5):
    import torch
    from torch import nn

    from mplib import data, runtime, train

    digits = data.load("digits")
    X, y = digits.X_train, digits.y_train
    epochs, batch, lr = 20, 128, 1e-3

    def model():
        runtime.seed(0)
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    def by_hand():
        m = model()
        opt = torch.optim.Adam(m.parameters(), lr=lr)
        g = torch.Generator().manual_seed(0)
        t0 = time.perf_counter()
        for _ in range(epochs):
            order = torch.randperm(len(X), generator=g)
            for i in range(0, len(X), batch):
                idx = order[i:i + batch]
                loss = nn.functional.cross_entropy(m(X[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        return time.perf_counter() - t0

    def with_fit():
        m = model()
        t0 = time.perf_counter()
        train.fit(m, (X, y), "cross_entropy", epochs=epochs, lr=lr, batch_size=batch,
                  progress=False, device="cpu")
        return time.perf_counter() - t0

    by_hand(), with_fit()  # warm-up
    hand, fit = [], []
    for _ in range(repeats):  # interleaved, so drifts in machine load hit both
        hand.append(by_hand())
        fit.append(with_fit())
    h, f = statistics.median(hand), statistics.median(fit)
    table(f"train.fit against a hand-written loop: MLP 64-128-10 on digits, {epochs} epochs,"
          f" batch {batch}, median of {repeats} (target ratio <= 1.10)",
          ["loop", "seconds", "ratio"],
          [["hand-written", f"{h:.3f}", "1.00"], ["mplib.train.fit", f"{f:.3f}", f"{f / h:.2f}"]])


PARTS = {"notebooks": bench_notebooks, "widgets": bench_widgets, "fit": bench_fit}

if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    for part in sys.argv[1:] or list(PARTS):
        if part not in PARTS:
            sys.exit(f"unknown part {part!r}; choose from {list(PARTS)}")
        PARTS[part]()
