"""Held-out likelihoods of chapter 6's density models, and the table that compares them (§6).

An autoregressive model computes log p(x) exactly, so models are compared by the negative
log-likelihood of held-out data: in nats per image (−ln p(x), the number published for
binarised MNIST) and in bits per dimension, −log₂ p(x) / n = nats / (n ln 2).
"""

from __future__ import annotations

import math

import torch

from . import checks, runtime, train

PUBLISHED_MNIST = {"FVSBN": 97.45, "NADE": 88.86, "MADE": 86.64, "PixelCNN": 81.30}
"""Published test NLL in nats on binarised MNIST (as quoted in the course)."""


def _flatten_binary(X, name="X") -> torch.Tensor:
    if not torch.is_tensor(X):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(X).__name__}")
    if X.dim() == 4:
        if X.shape[1] != 1:
            raise ValueError(f"{name} of shape (N, C, H, W) must have C = 1, got {tuple(X.shape)}")
        X = X.flatten(1)
    if X.dim() != 2 or len(X) == 0:
        raise ValueError(f"{name} must have shape (N, n) or (N, 1, H, W), got {tuple(X.shape)}")
    if not bool(((X == 0) | (X == 1)).all()):
        raise ValueError(f"{name} must be binary (0/1): binarise it first (data.binarize)")
    return X.float()


def bits_per_dim(nats: float, n: int) -> float:
    """nats per image -> bits per dimension: nats / (n ln 2)."""
    n = checks.integer(n, "n")
    return float(nats) / (n * math.log(2))


def _scoring_arguments(model, X, batch_size):
    """The checks that :func:`nll` and :func:`nll_per_image` share: (flat X, batch_size, device)."""
    if not hasattr(model, "log_prob"):
        raise TypeError(f"model must have a log_prob method, got {type(model).__name__}")
    batch_size = checks.integer(batch_size, "batch_size")
    return _flatten_binary(X), batch_size, next(model.parameters()).device


@torch.no_grad()
def nll(model, X, *, batch_size: int = 100) -> dict:
    """Mean negative log-likelihood of binary X: {"nats": per image, "bits_per_dim": ...}.

    X is (N, n) or (N, 1, H, W) (flattened here); ``model.log_prob`` returns (N,) in nats.
    Batches of 100 keep NADE's (batch, n, d) activations under 200 MB on 784-pixel MNIST.
    """
    X, batch_size, device = _scoring_arguments(model, X, batch_size)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    total, seen = 0.0, 0
    batches, clock = math.ceil(len(X) / batch_size), runtime.LoopClock()
    # Under a fast dev run only the first k batches are scored, as in train.evaluate.
    for b in range(runtime.capped(batches)):
        with clock:
            xb = X[b * batch_size:(b + 1) * batch_size]
            total += float(model.log_prob(xb.to(device)).sum())
            seen += len(xb)
    if hasattr(model, "train"):
        model.train(was_training)
    clock.record(batches, batch_size=batch_size, where=type(model).__name__, kind="score")
    nats = -total / seen
    return {"nats": nats, "bits_per_dim": bits_per_dim(nats, X.shape[1])}


@torch.no_grad()
def nll_per_image(model, X, *, batch_size: int = 100) -> torch.Tensor:
    """−log p(x) in nats for every image of binary X, a (N,) CPU tensor.

    Under a fast dev run only the first batches are scored (as in :func:`nll`), so N can be
    smaller than len(X). Two models scored on the same X give paired numbers: see
    :func:`paired_difference`.
    """
    X, batch_size, device = _scoring_arguments(model, X, batch_size)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    out = []
    for b in range(runtime.capped(math.ceil(len(X) / batch_size))):
        xb = X[b * batch_size:(b + 1) * batch_size]
        out.append(-model.log_prob(xb.to(device)).double().cpu())
    if hasattr(model, "train"):
        model.train(was_training)
    return torch.cat(out)


def paired_difference(a, b) -> dict:
    """Mean and standard error of a − b over the same images (two models' per-image NLLs).

    The images are shared, so the image-to-image spread, which both models feel alike,
    cancels in a − b: se = std(a − b) / √N (ddof 1) is much smaller than the two separate
    standard errors would suggest. Returns {"mean", "se", "n"}.
    """
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if a.dim() != 1 or a.shape != b.shape:
        raise ValueError(f"a and b must be 1-D with the same length, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    if len(a) < 2:
        raise ValueError(f"a and b need at least 2 images for a standard error, got {len(a)}")
    diff = a - b
    return {"mean": float(diff.mean()), "se": float(diff.std() / math.sqrt(len(diff))),
            "n": len(diff)}


class LikelihoodTable:
    """Rows of (model, nats, bits/dim, published nats); ``str(table)`` renders them."""

    def __init__(self, title: str = "held-out negative log-likelihood (lower is better)"):
        self.title = title
        self.rows: list[dict] = []
        self.models: dict = {}     # filled by train_baselines: name -> trained model
        self.histories: dict = {}  # and name -> train.History

    def add(self, name: str, nats: float, bits_per_dim: float, published: float | None = None):
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__} {name!r}")
        if not name:
            raise ValueError("name must be a non-empty string, got ''")
        nats = checks.number(nats, "nats")
        bits_per_dim = checks.number(bits_per_dim, "bits_per_dim")
        if published is not None:
            published = checks.number(published, "published")
        self.rows = [r for r in self.rows if r["name"] != name]  # re-adding replaces
        self.rows.append({"name": name, "nats": nats, "bits_per_dim": bits_per_dim,
                          "published": published})
        return self

    def __getitem__(self, name: str) -> dict:
        for r in self.rows:
            if r["name"] == name:
                return r
        raise KeyError(name)

    def __contains__(self, name) -> bool:
        return any(r["name"] == name for r in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        published = any(r["published"] is not None for r in self.rows)
        w = max([len("model")] + [len(r["name"]) for r in self.rows]) + 2
        head = f"{'model':<{w}}{'nats':>10}{'bits/dim':>11}"
        if published:
            head += f"{'published nats':>17}"
        lines = [self.title, head, "-" * len(head)]
        for r in self.rows:
            line = f"{r['name']:<{w}}{r['nats']:>10.2f}{r['bits_per_dim']:>11.4f}"
            if published:
                line += f"{'' if r['published'] is None else format(r['published'], '.2f'):>17}"
            lines.append(line)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def show(self) -> None:
        print(self)


# Quick budgets for the 64-pixel digits (a few seconds each on 2 CPU cores); full ones for MNIST,
# sized for one GPU call: FVSBN and MADE are cheap per batch, so they take batches of 512 (the
# learning rate scaled by √4 = 2) and few steps; NADE's (batch, 784, 500) activations make it
# the costly one, so it gets the fewest epochs.
BASELINES = {  # (quick, full)
    "FVSBN": dict(epochs=(60, 15), lr=(0.05, 0.006), batch_size=(256, 512)),
    "NADE": dict(epochs=(40, 10), lr=(0.02, 0.001), batch_size=(128, 128)),
    "MADE": dict(epochs=(60, 15), lr=(0.003, 0.002), batch_size=(128, 512)),
}


MODES = ("quick", "full")


def baseline_config(name: str, mode: str = "quick") -> dict:
    """The training settings (epochs, lr, batch_size) of a baseline for ``mode``.

    ``mode`` is "quick" or "full"; a notebook passes its own, ``runtime.mode()``.
    """
    checks.choice(name, "name", BASELINES)
    # The budget is an argument: library code does not read the run's mode itself.
    full = checks.choice(mode, "mode", MODES) == "full"
    return {k: v[1] if full else v[0] for k, v in BASELINES[name].items()}


def make_baselines(n: int, seed: int = 0, *, num_masks: int = 1, ordering=None,
                   ordering_seed: int | None = None, mode: str = "quick") -> dict:
    """Untrained FVSBN, NADE and MADE for n pixels, sized for ``mode`` ("quick" or "full").

    num_masks  the number of MADE connectivity masks (see autoregressive.MADE): 1 is the
               plain MADE; K > 1 trains K masks in turn and averages the K densities.
    ordering   MADE's ordering (None: raster; "random", drawn with ``ordering_seed``, or a
               permutation). The same seed gives the same initial weights and the same
               hidden degrees whatever the ordering and num_masks, so two MADEs made here
               differ only in what the arguments change.
    """
    from .autoregressive import FVSBN, MADE, NADE

    runtime.seed(seed)
    full = checks.choice(mode, "mode", MODES) == "full"
    d = 500 if full else 32
    hidden = [500, 500] if full else [256]
    return {"FVSBN": FVSBN(n), "NADE": NADE(n, d),
            "MADE": MADE(n, hidden, seed=seed, num_masks=num_masks, ordering=ordering,
                         ordering_seed=ordering_seed)}


def fit_baseline(name: str, model, X_train, X_test, *, seed: int = 0, epochs=None,
                 progress: bool = False, mode: str = "quick"):
    """Train ``model`` with the budget of baseline ``name`` for ``mode``; its train.History.

    This is how :func:`train_baselines` trains each model, for variants made with
    :func:`make_baselines` (another ordering, several masks) to get exactly the same budget.
    """
    cfg = baseline_config(name, mode)
    X_train = _flatten_binary(X_train, "X_train")
    X_test = _flatten_binary(X_test, "X_test")
    if epochs is not None:
        epochs = checks.integer(epochs, "epochs")
    return train.fit(model, (X_train, X_train), "bce", epochs=epochs or cfg["epochs"],
                     lr=cfg["lr"], batch_size=cfg["batch_size"], test=(X_test, X_test),
                     progress=progress, seed=seed,
                     # NADE's activations are (batch, n, d): 1.6 GB per 1 000 MNIST images
                     eval_batch_size=cfg["batch_size"])


def _cache_path(X_train, X_test, epochs, seed, num_masks=1, mode="quick"):
    """Where trained baselines for exactly these data and settings are kept."""
    import hashlib

    from .data import cache_dir

    h = hashlib.sha256()
    for X in (X_train, X_test):
        h.update(repr(tuple(X.shape)).encode())
        h.update(X.to(torch.uint8).cpu().numpy().tobytes())
    configs = {name: baseline_config(name, mode) for name in BASELINES}
    key = (configs, epochs, seed, runtime.seed_offset(), mode, torch.__version__)
    if num_masks != 1:  # the plain MADE keeps the key it always had
        key += (("num_masks", num_masks),)
    h.update(repr(key).encode())
    return cache_dir() / f"baselines-{h.hexdigest()[:16]}.pt"


def train_baselines(X_train, X_test, epochs=None, seed: int = 0, *, published=None,
                    progress: bool = False, cache: bool = False,
                    num_masks: int = 1, mode: str = "quick") -> LikelihoodTable:
    """Train FVSBN, NADE and MADE with teacher forcing; return their held-out table.

    X_train, X_test  binary (N, n) or (N, 1, H, W).
    epochs           one number for all three models; None: each model's budget for ``mode``.
    mode             "quick" or "full": the models' sizes and budgets (``BASELINES``); a
                     notebook passes ``runtime.mode()``.
    published        optional {name: nats} shown alongside (PUBLISHED_MNIST for MNIST).
    cache            keep the trained models in mplib's cache folder, keyed by the data, the
                     settings, the seed and the mode, and load them instead of training when
                     the key is there (one line says so). Chapter 6's three notebooks then
                     train the baselines once in full mode. Never under a fast dev run.
    num_masks        MADE's number of connectivity masks (1: the plain MADE; K > 1: the
                     masks are trained in turn and the held-out score averages K densities).
    The trained models are kept in ``table.models``, their training histories (mean BCE per
    pixel, train and held-out, per epoch) in ``table.histories``.
    """
    X_train = _flatten_binary(X_train, "X_train")
    X_test = _flatten_binary(X_test, "X_test")
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"X_train and X_test must have the same number of pixels, "
                         f"got {X_train.shape[1]} and {X_test.shape[1]}")
    if epochs is not None:
        epochs = checks.integer(epochs, "epochs")
    num_masks = checks.integer(num_masks, "num_masks")
    checks.choice(mode, "mode", MODES)
    table = LikelihoodTable()
    models = make_baselines(X_train.shape[1], seed, num_masks=num_masks, mode=mode)
    use_cache = cache and not runtime.fast_dev_run()
    path = _cache_path(X_train, X_test, epochs, seed, num_masks, mode) if use_cache else None
    if path is not None and path.exists():
        try:
            saved = torch.load(path, weights_only=True)
            for name, model in models.items():
                model.load_state_dict(saved["state"][name])
                table.models[name] = model
                table.histories[name] = train.History(**saved["histories"][name])
            table.rows = saved["rows"]
            table.rows = [dict(r, published=(published or {}).get(r["name"])) for r in table.rows]
            print(f"FVSBN, NADE and MADE: trained before on these data, loaded from {path}")
            return table
        except Exception as err:  # an unreadable or stale file: train again, and say so
            print(f"could not load {path} ({type(err).__name__}); training again")
            table = LikelihoodTable()
            models = make_baselines(X_train.shape[1], seed, num_masks=num_masks, mode=mode)
    for name, model in models.items():
        recorded = len(runtime.capped_loops())
        history = fit_baseline(name, model, X_train, X_test, seed=seed, epochs=epochs,
                               progress=progress, mode=mode)
        if cache:
            runtime.annotate_capped_loops(recorded, cached=name)
        scores = nll(model, X_test)
        table.add(name, scores["nats"], scores["bits_per_dim"],
                  published=(published or {}).get(name))
        table.models[name] = model
        table.histories[name] = history
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"state": {k: m.state_dict() for k, m in table.models.items()},
                        "histories": {k: vars(h) for k, h in table.histories.items()},
                        "rows": table.rows}, path)
        except OSError:
            pass  # a read-only cache only means training again next time
    return table
