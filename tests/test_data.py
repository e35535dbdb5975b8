import socket
import time

import numpy as np
import pytest
import torch

from mplib import data


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _check_split(split, n_train, n_test, side):
    assert split.X_train.shape == (n_train, 1, side, side)
    assert split.X_test.shape == (n_test, 1, side, side)
    assert split.X_train.dtype == torch.float32 and split.y_train.dtype == torch.int64
    for X in (split.X_train, split.X_test):
        assert 0.0 <= float(X.min()) and float(X.max()) <= 1.0
    assert split.num_classes == 10
    # stratified: every class in both parts
    assert set(split.y_test.tolist()) == set(range(10))


def test_digits():
    d = data.load("digits")
    _check_split(d, 1437, 360, 8)
    assert float(d.X_train.max()) == 1.0


def test_digits_split_is_fixed():
    a, b = data.load("digits"), data.load("digits")
    assert torch.equal(a.X_test, b.X_test) and torch.equal(a.y_train, b.y_train)


def test_mnist_subset_and_its_cache(tmp_path):
    first = data.load("mnist_subset")
    _check_split(first, 4000, 1000, 28)
    assert (tmp_path / "cache" / "mplib" / "mnist_subset.npz").exists()
    second = data.load("mnist_subset")  # now from the .npz cache
    assert torch.equal(first.X_train, second.X_train)


def test_unknown_name_is_named():
    with pytest.raises(ValueError, match="name must be one of"):
        data.load("cifar10")


def test_full_mnist_offline_falls_back(monkeypatch, tmp_path, capsys):
    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (made to fail by the test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    start = time.perf_counter()
    split = data.load("mnist", data_home=tmp_path / "sk")
    assert time.perf_counter() - start < 10, "the offline fallback must not wait on the network"
    assert split.name == "mnist_subset" and not split.is_full_mnist
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "Full MNIST could not be had" in out[0]


def _fake_mnist():
    """70 000 'images' whose pixels encode their index, and labels 0..9 in turn."""
    i = np.arange(data.MNIST_SIZE)
    X = ((i[:, None] + np.arange(784)[None, :]) % 256).astype(np.uint8)
    return X, (i % 10).astype(np.int64)


def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was used although a cache exists")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def _check_full(split, X, y):
    assert split.name == "mnist" and split.is_full_mnist
    assert split.X_train.shape == (60000, 1, 28, 28) and split.X_test.shape == (10000, 1, 28, 28)
    # the standard split: the first 60 000 train, the last 10 000 test, scaled to [0, 1]
    assert torch.equal(split.X_train[5].flatten(), torch.from_numpy(X[5] / 255.0).float())
    assert torch.equal(split.X_test[0].flatten(), torch.from_numpy(X[60000] / 255.0).float())
    assert torch.equal(split.y_test, torch.from_numpy(y[60000:]))


def test_full_mnist_from_a_cached_file(monkeypatch, tmp_path, capsys):
    X, y = _fake_mnist()
    cache = tmp_path / "cache" / "mplib"
    cache.mkdir(parents=True)
    np.savez_compressed(cache / "mnist_full.npz", X=X, y=y)
    _no_network(monkeypatch)
    _check_full(data.load("mnist"), X, y)
    assert capsys.readouterr().out == ""          # nothing to say when the cache is there


def test_full_mnist_download_fills_the_cache(monkeypatch, tmp_path):
    import sklearn.datasets

    X, y = _fake_mnist()
    calls = []

    def fake_fetch(name, **kwargs):
        calls.append(name)
        assert kwargs.get("n_retries", 3) <= 1, "retries would slow down a failing download"
        return X.astype(np.float64), y.astype(str)   # what fetch_openml really returns

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: _Closable())
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake_fetch)
    _check_full(data.load("mnist"), X, y)
    assert calls == ["mnist_784"]
    assert (tmp_path / "cache" / "mplib" / "mnist_full.npz").exists()
    _no_network(monkeypatch)                     # the second load reads the cache
    _check_full(data.load("mnist"), X, y)
    assert calls == ["mnist_784"]


class _Closable:
    def close(self):
        pass


def test_a_cache_of_the_wrong_size_falls_back(monkeypatch, tmp_path, capsys):
    cache = tmp_path / "cache" / "mplib"
    cache.mkdir(parents=True)
    np.savez_compressed(cache / "mnist_full.npz", X=np.zeros((10, 784), np.uint8),
                        y=np.zeros(10, np.int64))
    _no_network(monkeypatch)
    split = data.load("mnist")
    assert not split.is_full_mnist and split.name == "mnist_subset"
    assert "70000 images" in capsys.readouterr().out


def test_split_to_device_keeps_values():
    d = data.load("digits").to("cpu")
    assert d.X_train.device.type == "cpu"
    assert "digits" in repr(d)


def test_binarize():
    x = torch.tensor([0.0, 0.4, 0.5, 0.6, 1.0])
    assert data.binarize(x).tolist() == [0, 0, 0, 1, 1]
    assert data.binarize(x, 0.3).tolist() == [0, 1, 1, 1, 1]
    g = torch.Generator().manual_seed(0)
    s = data.binarize(torch.full((10000,), 0.3), stochastic=True, generator=g)
    assert set(s.unique().tolist()) <= {0.0, 1.0} and abs(float(s.mean()) - 0.3) < 0.02


@pytest.mark.parametrize("kwargs, error, word", [
    ({"threshold": 1.5}, ValueError, "threshold must be a finite number >= 0 and <= 1"),
    ({"threshold": "0.5"}, TypeError, "threshold must be a number"),
])
def test_binarize_rejects_bad_threshold(kwargs, error, word):
    with pytest.raises(error, match=word):
        data.binarize(torch.zeros(3), **kwargs)


def test_binarize_rejects_unscaled_and_non_tensor():
    with pytest.raises(ValueError, match="x must hold values"):
        data.binarize(torch.tensor([0.0, 255.0]))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        data.binarize([0.1, 0.2])


@pytest.mark.parametrize("margin", [0.0, 0.3, 1.0])
def test_blobs_are_separable_with_the_margin(margin):
    X, y = data.blobs(200, margin=margin, seed=3)
    assert X.shape == (200, 2) and y.shape == (200,)
    assert int(y.sum()) == 100
    # the generating line through the origin separates them with margin >= margin/2:
    # find it again by least squares on the signs is overkill; check via a perceptron-free test:
    # the two classes' projections on some unit direction are separated by >= margin.
    best = 0.0
    for angle in torch.linspace(0, torch.pi, 3601):
        w = torch.stack([torch.cos(angle), torch.sin(angle)])
        p = X @ w
        gap = max(float(p[y == 1].min() - p[y == 0].max()), float(p[y == 0].min() - p[y == 1].max()))
        best = max(best, gap)
    assert best >= margin - 1e-2


@pytest.mark.parametrize("make", [data.blobs, data.xor])
@pytest.mark.parametrize("kwargs, error, word", [
    ({"n": 1}, ValueError, "n must be an integer >= 2"),
    ({"n": 10.0}, TypeError, "n must be an integer"),
    ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
    ({"seed": "0"}, TypeError, "seed must be an integer"),
])
def test_blobs_and_xor_validate(make, kwargs, error, word):
    with pytest.raises(error, match=word):
        make(**kwargs)


def test_blobs_margin_and_xor_noise_validate():
    with pytest.raises(ValueError, match="margin must be a finite number >= 0"):
        data.blobs(10, margin=-1)
    with pytest.raises(TypeError, match="margin must be a number"):
        data.blobs(10, margin=None)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        data.xor(10, noise=-0.1)
    with pytest.raises(TypeError, match="noise must be a number"):
        data.xor(10, noise="0.1")


def test_xor_labels():
    X, y = data.xor(400, noise=0.0, seed=1)
    assert torch.equal(y, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).long())
