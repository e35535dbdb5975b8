"""The likelihood table of chapter 6 (§6): nats, bits/dim, published numbers."""

import math

import pytest
import torch

from mplib.autoregressive import FVSBN
from mplib.likelihood import (PUBLISHED_MNIST, LikelihoodTable, baseline_config, bits_per_dim,
                              fit_baseline, nll, train_baselines)


def test_bits_per_dim_is_nats_over_n_ln2():
    assert math.isclose(bits_per_dim(64 * math.log(2), 64), 1.0)
    with pytest.raises(ValueError, match="n must"):
        bits_per_dim(1.0, 0)


def test_nll_of_uniform_model_is_one_bit_per_dim():
    model = FVSBN(6)  # all logits 0: every pixel Bernoulli(1/2), p(x) = 2^-n
    X = (torch.rand(10, 1, 2, 3) > 0.5).float()
    scores = nll(model, X)
    assert math.isclose(scores["nats"], 6 * math.log(2), rel_tol=1e-6)
    assert math.isclose(scores["bits_per_dim"], 1.0, rel_tol=1e-6)
    assert math.isclose(scores["bits_per_dim"], scores["nats"] / (6 * math.log(2)))


def test_nll_validation():
    with pytest.raises(ValueError, match="binary"):
        nll(FVSBN(3), torch.full((2, 3), 0.5))
    with pytest.raises(TypeError, match="log_prob"):
        nll(torch.nn.Linear(3, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="shape"):
        nll(FVSBN(3), torch.zeros(3))


def test_table_rendering():
    table = LikelihoodTable()
    table.add("FVSBN", 20.0, bits_per_dim(20.0, 64))
    text = str(table)
    assert "FVSBN" in text and "20.00" in text and "published" not in text
    table.add("NADE", 18.0, bits_per_dim(18.0, 64), published=PUBLISHED_MNIST["NADE"])
    text = str(table)
    assert "published" in text and "88.86" in text
    assert len(table) == 2 and "NADE" in table and table["NADE"]["nats"] == 18.0
    table.add("NADE", 17.0, 0.38)  # re-adding replaces the row
    assert len(table) == 2 and table["NADE"]["nats"] == 17.0
    with pytest.raises(ValueError, match="nats"):
        table.add("X", float("nan"), 1.0)
    assert len(table) == 2   # a refused row is not added

_X = (torch.rand(20, 4, generator=torch.Generator().manual_seed(2)) > 0.5).float()
_BAD_ARGUMENTS = [   # (call, error, match): a wrong type is a TypeError, a wrong value a ValueError
    (lambda: bits_per_dim(1.0, True), TypeError, "n must be an integer"),
    (lambda: bits_per_dim(1.0, 64.0), TypeError, "n must be an integer"),
    (lambda: bits_per_dim(1.0, 0), ValueError, "n must be an integer >= 1"),
    (lambda: nll(FVSBN(4), _X, batch_size=2.5), TypeError, "batch_size"),
    (lambda: nll(FVSBN(4), _X, batch_size=0), ValueError, "batch_size"),
    (lambda: LikelihoodTable().add(3, 1.0, 1.0), TypeError, "name must be a string"),
    (lambda: LikelihoodTable().add("", 1.0, 1.0), ValueError, "name must be a non-empty"),
    (lambda: LikelihoodTable().add("A", "1.0", 1.0), TypeError, "nats must be a number"),
    (lambda: LikelihoodTable().add("A", 1.0, float("inf")), ValueError, "bits_per_dim"),
    (lambda: LikelihoodTable().add("A", 1.0, 1.0, published="81"), TypeError, "published"),
    (lambda: baseline_config("GAN"), ValueError, "name must be one of"),
    (lambda: baseline_config("NADE", "fast"), ValueError, "mode must be one of"),
    (lambda: train_baselines(_X[:12], _X[12:], epochs=1.0), TypeError, "epochs"),
    (lambda: train_baselines(_X[:12], _X[12:], epochs=0), ValueError, "epochs"),
    (lambda: train_baselines(_X[:12], _X[12:], epochs=1, num_masks=True), TypeError,
     "num_masks"),
    (lambda: fit_baseline("FVSBN", FVSBN(4), _X[:12], _X[12:], epochs=-1), ValueError,
     "epochs"),
]


@pytest.mark.parametrize("call, error, match", _BAD_ARGUMENTS)
def test_bad_arguments_raise_the_right_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_published_numbers_are_nats_in_the_chapters_order():
    # In nats per binarised 28x28 image: below the uniform model's 784 ln 2 = 543.4 nats (a
    # number in bits, or per pixel, would fail), and each model of §6.1-6.4 better than the last.
    names = ["FVSBN", "NADE", "MADE", "PixelCNN"]
    assert sorted(PUBLISHED_MNIST) == sorted(names)
    nats = [PUBLISHED_MNIST[name] for name in names]
    assert all(50 < v < 784 * math.log(2) for v in nats)
    assert nats == sorted(nats, reverse=True)


def test_train_baselines_tiny():
    g = torch.Generator().manual_seed(0)
    X = (torch.rand(60, 1, 3, 3, generator=g) > 0.5).float()
    table = train_baselines(X[:40], X[40:], epochs=1, published=PUBLISHED_MNIST)
    assert [r["name"] for r in table.rows] == ["FVSBN", "NADE", "MADE"]
    for r in table.rows:
        assert math.isclose(r["bits_per_dim"], r["nats"] / (9 * math.log(2)))
        assert r["published"] == PUBLISHED_MNIST[r["name"]]
    assert set(table.models) == {"FVSBN", "NADE", "MADE"}
    with pytest.raises(ValueError, match="same number of pixels"):
        train_baselines(X[:40], X[40:, :, :2], epochs=1)


def test_train_baselines_constructs_in_full_mode(monkeypatch):
    from mplib.likelihood import baseline_config, make_baselines

    monkeypatch.setenv("MPLIB_MODE", "full")       # the run's mode is not read: the argument is
    quick = make_baselines(9)
    assert quick["NADE"].d == 32 and baseline_config("MADE")["epochs"] == 60
    models = make_baselines(9, mode="full")
    assert models["NADE"].d == 500 and [len(m) for m in models["MADE"].degrees[1:]] == [500, 500]
    assert baseline_config("MADE", "full")["epochs"] == 15
    X = (torch.rand(20, 9, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    table = train_baselines(X[:12], X[12:], epochs=1, mode="full")
    assert len(table) == 3
    with pytest.raises(ValueError, match="mode must be one of"):
        train_baselines(X[:12], X[12:], epochs=1, mode="fast")


def test_train_baselines_cache_trains_once(tmp_path, monkeypatch, capsys):
    from torch.optim.optimizer import register_optimizer_step_post_hook

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("MPLIB_FAST_DEV_RUN", raising=False)
    X = (torch.rand(60, 9, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    steps = []
    handle = register_optimizer_step_post_hook(lambda *a: steps.append(1))
    try:
        first = train_baselines(X[:40], X[40:], epochs=2, cache=True)
        trained = len(steps)
        second = train_baselines(X[:40], X[40:], epochs=2, cache=True,
                                 published=PUBLISHED_MNIST)
        loaded = len(steps)
        third = train_baselines(X[:40], X[40:], epochs=3, cache=True)  # other settings: trains
    finally:
        handle.remove()
    assert trained > 0 and loaded == trained          # the second call trained nothing
    assert capsys.readouterr().out.count("loaded from") == 1
    assert [r["nats"] for r in first.rows] == [r["nats"] for r in second.rows]
    assert second["NADE"]["published"] == PUBLISHED_MNIST["NADE"]
    for name in ("FVSBN", "NADE", "MADE"):
        torch.testing.assert_close(second.models[name].log_prob(X[40:]),
                                   first.models[name].cpu().log_prob(X[40:]))
        assert second.histories[name].test_loss == first.histories[name].test_loss
    assert len(steps) > loaded
    assert len(third.histories["NADE"].epoch) == 3


def test_train_baselines_cache_is_off_in_a_fast_dev_run(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("MPLIB_FAST_DEV_RUN", "1")
    X = (torch.rand(60, 9, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    train_baselines(X[:40], X[40:], epochs=2, cache=True)
    assert not list(tmp_path.rglob("baselines-*.pt"))


def test_nll_per_image_matches_nll_and_log_prob():
    from mplib.likelihood import nll_per_image

    torch.manual_seed(0)
    model = FVSBN(5)
    torch.nn.init.normal_(model.linear.weight)
    X = (torch.rand(230, 5) > 0.5).float()
    per = nll_per_image(model, X, batch_size=100)
    assert per.shape == (230,) and per.dtype == torch.float64
    torch.testing.assert_close(per, -model.log_prob(X).detach().double())
    assert math.isclose(float(per.mean()), nll(model, X)["nats"], rel_tol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        nll_per_image(model, X, batch_size=0)


def test_paired_difference_standard_error():
    from mplib.likelihood import paired_difference

    g = torch.Generator().manual_seed(0)
    shared = 20 + 5 * torch.randn(400, generator=g, dtype=torch.float64)   # image difficulty
    a = shared + 0.3 + 0.2 * torch.randn(400, generator=g, dtype=torch.float64)
    b = shared + 0.2 * torch.randn(400, generator=g, dtype=torch.float64)
    d = paired_difference(a, b)
    assert d["n"] == 400 and abs(d["mean"] - 0.3) < 3 * d["se"]
    assert math.isclose(d["se"], float((a - b).std()) / 20)
    # unpaired, the image-to-image spread would swamp the 0.3-nat gap
    unpaired = math.sqrt(float(a.var() + b.var()) / 400)
    assert d["se"] < unpaired / 10
    with pytest.raises(ValueError, match="same length"):
        paired_difference(a, b[:-1])
    with pytest.raises(ValueError, match="at least 2"):
        paired_difference(a[:1], b[:1])


def test_train_baselines_with_a_mask_ensemble():
    X = (torch.rand(60, 9, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    table = train_baselines(X[:40], X[40:], epochs=1, num_masks=3)
    assert table.models["MADE"].num_masks == 3 and len(table) == 3
    with pytest.raises(ValueError, match="num_masks"):
        train_baselines(X[:40], X[40:], epochs=1, num_masks=0)
