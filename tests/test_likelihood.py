"""The likelihood table of chapter 6 (§6): nats, bits/dim, published numbers."""

import math

import pytest
import torch

from mplib.autoregressive import FVSBN
from mplib.likelihood import (PUBLISHED_MNIST, LikelihoodTable, bits_per_dim, nll,
                              train_baselines)


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
    assert PUBLISHED_MNIST == {"FVSBN": 97.45, "NADE": 88.86, "MADE": 86.64, "PixelCNN": 81.30}


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
    monkeypatch.setenv("MPLIB_MODE", "full")
    from mplib.likelihood import make_baselines

    models = make_baselines(9)
    assert models["NADE"].d == 500 and [len(m) for m in models["MADE"].degrees[1:]] == [500, 500]
    X = (torch.rand(20, 9, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    table = train_baselines(X[:12], X[12:], epochs=1)
    assert len(table) == 3
