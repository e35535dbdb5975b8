"""The one likelihood table of chapters 5 and 6: every density model, 3 seeds, quick mode.

    python benchmarks/likelihoods.py [--seeds 0 1 2] [--out benchmarks/results/likelihoods]

Trains independent pixels, FVSBN, NADE, MADE (one mask and an ensemble of 8), the two-stack
PixelCNN, the causal transformer and the VAE (log p(x) by importance sampling) on the same
split of binarised digits, each with its notebook's quick recipe
(``mplib.likelihood_summary.RECIPES``), once per seed, on one CPU thread. Writes
``likelihoods.json`` (per-seed numbers, mean, standard error, the recipes and their
fingerprint) and ``likelihoods.md`` (the table and what it does and does not show). Notebook
06c prints the JSON's table and checks it against its live transformer. Not part of
``make test``: it trains 24 models.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOTE = """\
Held-out negative log-likelihood of the {test} binarised 8 × 8 digits of the test split
(trained on {train}), mean ± standard error over seeds {seeds} (each seed changes the initial
weights and the batch order), quick mode, written by `benchmarks/likelihoods.py`
(CPU time {cpu:.0f} s on one thread). Lower is better; bits/dim = nats / (64 ln 2).
{published}
Why the order differs from the papers'. On binarised MNIST (784 pixels, 60 000 images) the
published order is FVSBN > NADE > MADE > PixelCNN, each step winning by 2 to 9 nats. Here each
image has 64 pixels, there are 1 437 training images and each model trains for seconds: the
larger models (PixelCNN, the transformer) cannot use their capacity, and the MADE ensemble
trains its 8 masks in turn within the single mask's epochs, so each mask gets an eighth of the
updates. Gaps smaller than about twice the combined standard errors (NADE against one-mask
MADE, for instance) are seed-to-seed noise, not an order. The standard errors cover the seeds
only (initial weights and batch order), not the choice of the test images.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "likelihoods")
    args = parser.parse_args(argv)
    os.environ["MPLIB_MODE"] = "quick"
    from mplib import likelihood, likelihood_summary, runtime

    runtime.prefer_one_thread()
    start = time.process_time()
    record = likelihood_summary.measure(args.seeds, mode=runtime.mode())
    record["cpu_seconds"] = round(time.process_time() - start, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    published = ("The published column is shown because these are full binarised MNIST."
                 if record["is_full_mnist"] else
                 "No published column: these are not full binarised MNIST, and the published "
                 "numbers\n(" + ", ".join(f"{k} {v}" for k, v in likelihood.PUBLISHED_MNIST.items())
                 + " nats) are for 784 pixels.")
    text = ("# Likelihoods of chapters 5 and 6 (quick mode)\n\n"
            + likelihood_summary.render(record, markdown=True) + "\n\n"
            + NOTE.format(test=record["test"], train=record["train"], seeds=record["seeds"],
                          cpu=record["cpu_seconds"], published=published))
    args.out.with_suffix(".md").write_text(text)
    print(likelihood_summary.render(record))
    print(f"CPU time {record['cpu_seconds']:.0f} s; wrote {args.out.with_suffix('.json')} and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
