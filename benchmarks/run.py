"""`make bench`: measured tables (benchmarks, not timed tests).

1. every notebook in quick mode: wall time, kernel CPU time and kernel peak memory of a
   fresh-kernel execution (the committed files are not touched);
2. every widget: median and 95th-percentile update time (callback + render) over 30 changes
   of its first slider, split into compute, drawing and PNG encoding, next to a redraw from
   scratch and the number of full redraws; goal: median <= 100 ms and p95 <= 150 ms;
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
    """Each widget's update time, split into compute (its ``draw``), drawing and PNG encoding,
    next to a full redraw of the same figure (what every update cost before blitting)."""
    import mplib.widgets.view as view
    from widget_factories import FACTORIES

    rows = []
    for name, factory in FACTORIES.items():
        w = factory()
        slider = next(iter(w.controls.values()))
        options = _slider_values(slider)
        spent = {"compute": 0.0, "encode": 0.0}

        def timed(fn, part):
            def wrapper(*args, **kwargs):
                t0 = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    spent[part] += time.perf_counter() - t0
            return wrapper

        w.draw = timed(w.draw, "compute")
        encode = view.encode_png
        view.encode_png = timed(encode, "encode")
        updates, compute, encoding, full = [], [], [], []
        redraws = w.full_redraws
        try:
            for k in range(changes):
                spent.update(compute=0.0, encode=0.0)
                t0 = time.perf_counter()
                slider.value = options[k % len(options)]
                updates.append(time.perf_counter() - t0)
                compute.append(spent["compute"])
                encoding.append(spent["encode"])
                t0 = time.perf_counter()
                w.full_png()  # the same figure drawn from scratch and encoded, as before
                full.append(time.perf_counter() - t0)
        finally:
            view.encode_png = encode
        if w.error is not None:
            rows.append([name, "error", str(w.error)[:40], "", "", "", "", "", "NO"])
            continue
        med, p95 = statistics.median(updates), _percentile(updates, 0.95)
        c, e = statistics.median(compute), statistics.median(encoding)
        d = statistics.median(u - ci - ei for u, ci, ei in zip(updates, compute, encoding))
        rows.append([name, f"{med * 1e3:.0f}", f"{p95 * 1e3:.0f}", f"{c * 1e3:.0f}",
                     f"{d * 1e3:.0f}", f"{e * 1e3:.0f}", f"{statistics.median(full) * 1e3:.0f}",
                     f"{w.full_redraws - redraws}/{changes}",
                     "yes" if med <= 0.100 and p95 <= 0.150 else "NO"])
    table(f"Widgets: update = set the first slider, callback + render ({changes} changes); "
          "compute = the widget's draw(), draw = Agg drawing, encode = PNG; full = a redraw "
          "from scratch (goal: median <= 100 ms, p95 <= 150 ms)",
          ["widget", "median ms", "p95 ms", "compute", "draw", "encode", "full ms",
           "full redraws", "within"], rows)


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
