"""One held-out likelihood table for every density model of chapters 5 and 6.

Rows: independent pixels, FVSBN, NADE, MADE with one mask and with an ensemble of masks,
PixelCNN, the causal transformer, and the VAE (log p(x) by importance sampling). Every model is
trained on the same split (binarised digits in quick mode, binarised MNIST in full mode) with
the recipe its notebook uses, on several seeds; a row is the mean over seeds ± the standard
error of that mean, in nats per image and in bits per dimension. The published column appears
only when the data are full binarised MNIST (``Split.is_full_mnist``).

``benchmarks/likelihoods.py`` trains all of it and writes ``benchmarks/results/likelihoods.json``
and ``.md``; notebook 06c prints the stored table (:func:`load`, :func:`render`) and checks it
against its own live transformer (:func:`check_fresh`). The JSON carries a fingerprint of the
recipes (:func:`fingerprint`), so a table made with other recipes is recognised as stale.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import checks, likelihood, runtime, train

RESULTS_JSON = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "likelihoods.json"

ROWS = ("Independent", "FVSBN", "NADE", "MADE, one mask", "MADE, 8 masks", "PixelCNN",
        "Transformer", "VAE (IS, K = 200)")
"""The table's rows, in the order printed."""

PUBLISHED_NAME = {"FVSBN": "FVSBN", "NADE": "NADE", "MADE, one mask": "MADE",
                  "PixelCNN": "PixelCNN"}
"""Which published MNIST number (likelihood.PUBLISHED_MNIST) goes beside which row."""

# Quick-mode recipes, each the one its notebook uses (06a's baselines come from
# likelihood.BASELINES; 06b's PixelCNN, 06c's transformer, 05's VAE are repeated here).
def _quick(name):
    return {k: v[0] for k, v in likelihood.BASELINES[name].items()}


RECIPES = {
    "Independent": dict(smoothing="Laplace (+1, +2)"),
    "FVSBN": _quick("FVSBN"),
    "NADE": dict(_quick("NADE"), d=32),
    "MADE, one mask": dict(_quick("MADE"), hidden=[256]),
    "MADE, 8 masks": dict(_quick("MADE"), hidden=[256], num_masks=8),
    "PixelCNN": dict(kind="TwoStackPixelCNN", channels=16, layers=3, kernel_size=5, epochs=15,
                     lr=1e-2, batch_size=64),
    "Transformer": dict(d=32, heads=2, layers=2, epochs=15, lr=5e-3, batch_size=64),
    "VAE (IS, K = 200)": dict(latent=8, hidden=[128], epochs=20, lr=3e-3, batch_size=128, K=200),
}


def fingerprint() -> str:
    """A short hash of the recipes: it changes whenever a recipe does."""
    text = json.dumps(RECIPES, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class IndependentPixels(nn.Module):
    """p(x) = ∏_i p(x_i), p(x_i = 1) the pixel's Laplace-smoothed training frequency.

    The cheapest density model: n parameters, no training loop (the frequencies are its
    maximum-likelihood fit, smoothed so that no pixel gets probability 0 or 1).
    """

    def __init__(self, X_train):
        super().__init__()
        X = likelihood._flatten_binary(X_train, "X_train")
        freq = (X.sum(0) + 1) / (len(X) + 2)
        self.logit = nn.Parameter(torch.log(freq / (1 - freq)), requires_grad=False)

    def log_prob(self, x):
        return -F.binary_cross_entropy_with_logits(self.logit.expand_as(x), x,
                                                   reduction="none").sum(1)


def mean_se(values) -> tuple[float, float]:
    """Mean and standard error of the mean (sample std, ddof 1, over √k) of k ≥ 2 numbers."""
    values = [checks.number(v, "values (each value)") for v in values]
    if len(values) < 2:
        raise ValueError(f"values must be at least 2 numbers for an error bar, got {values!r}")
    return statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))


def _train_one(name: str, X_train, X_test, seed: int) -> float:
    """Train one row's model on one seed (quick recipe) and return its held-out nats."""
    from . import autoregressive, pixelcnn, transformer, vae

    r = RECIPES[checks.choice(name, "name", ROWS)]
    n = X_train.shape[1]
    runtime.seed(seed)
    if name == "Independent":
        return likelihood.nll(IndependentPixels(X_train), X_test)["nats"]
    if name == "VAE (IS, K = 200)":
        shape = (-1, 1, 8, 8)   # notebook 05's recipe and scoring, in one place (mplib.vae)
        return vae.vae_nll_row(X_train.view(shape), X_test.view(shape), seed, K=r["K"],
                               epochs=r["epochs"])["nats"]
    if name == "FVSBN":
        model = autoregressive.FVSBN(n)
    elif name == "NADE":
        model = autoregressive.NADE(n, r["d"])
    elif name.startswith("MADE"):
        kwargs = {"num_masks": r["num_masks"]} if "num_masks" in r else {}
        try:
            model = autoregressive.MADE(n, r["hidden"], seed=seed, **kwargs)
        except TypeError as err:
            raise RuntimeError("the MADE mask ensemble needs MADE(..., num_masks=K) in "
                               "mplib.autoregressive") from err
    elif name == "PixelCNN":
        model = pixelcnn.TwoStackPixelCNN(channels=r["channels"], layers=r["layers"],
                                          kernel_size=r["kernel_size"], image_size=(8, 8))
    elif name == "Transformer":
        model = transformer.CausalTransformer(n=n, d=r["d"], heads=r["heads"],
                                              layers=r["layers"])
    else:  # a row of ROWS that this function does not know how to train
        raise NotImplementedError(f"no training recipe for the row {name!r}")
    Xtr = X_train.view(-1, 1, 8, 8) if name == "PixelCNN" else X_train
    Xte = X_test.view(-1, 1, 8, 8) if name == "PixelCNN" else X_test
    train.fit(model, (Xtr, Xtr), "bce", epochs=r["epochs"], lr=r["lr"],
              batch_size=r["batch_size"], seed=seed, progress=False)
    return likelihood.nll(model, Xte)["nats"]


def measure(seeds=(0, 1, 2), rows=ROWS, *, mode: str, progress=print) -> dict:
    """Train every row on every seed (quick mode, binarised digits); return the JSON record.

    ``mode`` is the caller's run mode (``runtime.mode()``). It must be "quick": the table
    holds the quick recipes on binarised digits, and a full-mode run (other data, other
    budgets) is not comparable with it.
    """
    from . import data

    if checks.choice(mode, "mode", likelihood.MODES) != "quick":
        raise ValueError(f"mode must be 'quick' (the stored table is a quick-mode table: run "
                         f"with MPLIB_MODE=quick), got {mode!r}")
    seeds = [checks.integer(s, "seeds (each seed)", minimum=0) for s in seeds]
    if len(seeds) < 2:
        raise ValueError(f"seeds must hold at least 2 seeds for an error bar, got {seeds!r}")
    rows = [checks.choice(r, "rows (each row)", ROWS) for r in rows]
    split = data.load("digits")
    X_train = data.binarize(split.X_train).flatten(1)
    X_test = data.binarize(split.X_test).flatten(1)
    npix = X_train.shape[1]
    record = {"data": split.name, "is_full_mnist": bool(split.is_full_mnist), "pixels": npix,
              "train": len(X_train), "test": len(X_test), "seeds": seeds,
              "fingerprint": fingerprint(), "recipes": RECIPES, "rows": []}
    for name in rows:
        per_seed = []
        for s in seeds:
            nats = _train_one(name, X_train, X_test, s)
            per_seed.append(nats)
            if progress:
                progress(f"{name}, seed {s}: {nats:.3f} nats")
        mean, se = mean_se(per_seed)
        record["rows"].append({"name": name, "per_seed": per_seed, "nats": mean, "se": se,
                               "bits_per_dim": likelihood.bits_per_dim(mean, npix),
                               "se_bits_per_dim": likelihood.bits_per_dim(se, npix)})
    return record


def load(path=RESULTS_JSON) -> dict:
    """The stored record; a clear error when it is missing or malformed."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python benchmarks/likelihoods.py` "
                                "to make it")
    record = json.loads(path.read_text())
    for key in ("data", "is_full_mnist", "pixels", "seeds", "fingerprint", "rows"):
        if key not in record:
            raise ValueError(f"{path} has no {key!r}: regenerate it with benchmarks/likelihoods.py")
    return record


def render(record: dict, markdown: bool = False) -> str:
    """The table: model, nats mean ± se, bits/dim mean ± se, and the published nats only for
    full binarised MNIST."""
    published = likelihood.PUBLISHED_MNIST if record["is_full_mnist"] else None
    head = ["model", "nats (mean ± se)", "bits/dim (mean ± se)"]
    if published:
        head.append("published nats")
    body = []
    for r in record["rows"]:
        line = [r["name"], f"{r['nats']:.2f} ± {r['se']:.2f}",
                f"{r['bits_per_dim']:.4f} ± {r['se_bits_per_dim']:.4f}"]
        if published:
            p = published.get(PUBLISHED_NAME.get(r["name"], ""))
            line.append("" if p is None else f"{p:.2f}")
        body.append(line)
    if markdown:
        rows = [head, ["---"] * len(head)] + body
        return "\n".join("| " + " | ".join(c) + " |" for c in rows)
    widths = [max(len(row[k]) for row in [head] + body) for k in range(len(head))]
    fmt = lambda row: "  ".join(c.ljust(w) if k == 0 else c.rjust(w)
                                for k, (c, w) in enumerate(zip(row, widths)))
    return "\n".join([fmt(head), "-" * len(fmt(head))] + [fmt(row) for row in body])


def check_fresh(record: dict, live_nats: float, row: str = "Transformer", *,
                margin: float = 0.5) -> tuple[bool, str]:
    """Is the stored table made with today's recipes, and does a live run agree with it?

    Fresh when the fingerprint matches :func:`fingerprint` and ``live_nats`` (the same model
    trained now, on one seed) lies within the stored mean ± (3 se + ``margin``) nats.
    Returns (fresh, a sentence that says why).
    """
    live_nats = checks.number(live_nats, "live_nats")
    margin = checks.number(margin, "margin", at_least=0)
    if record["fingerprint"] != fingerprint():
        return False, (f"stale: recipes changed (stored fingerprint {record['fingerprint']}, "
                       f"now {fingerprint()}); regenerate with benchmarks/likelihoods.py")
    stored = next((r for r in record["rows"] if r["name"] == row), None)
    if stored is None:
        return False, f"stale: the stored table has no {row!r} row"
    half = 3 * stored["se"] + margin
    if abs(live_nats - stored["nats"]) > half:
        return False, (f"stale: live {row} {live_nats:.2f} nats is outside the stored "
                       f"{stored['nats']:.2f} ± {half:.2f}")
    return True, (f"live {row} {live_nats:.2f} nats within the stored {stored['nats']:.2f} ± "
                  f"{half:.2f} (3 se + {margin}); recipe fingerprint {fingerprint()} matches")
