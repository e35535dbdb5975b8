"""The one likelihood table: error bars, the published column rule, the staleness check, and
the stored table (benchmarks/results/likelihoods.json) against today's recipes and the prose."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from mplib import likelihood, likelihood_summary as ls


@pytest.fixture(scope="module")
def stored():
    return ls.load()


def test_mean_se():
    mean, se = ls.mean_se([1.0, 2.0, 3.0])
    assert mean == 2.0 and se == pytest.approx(1 / math.sqrt(3))
    for bad in ([1.0], [1.0, float("nan")]):
        with pytest.raises(ValueError, match="values"):
            ls.mean_se(bad)


def test_independent_pixels_is_the_product_of_smoothed_frequencies():
    X = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    p = torch.tensor([3 / 5, 2 / 5])                     # (count + 1) / (N + 2)
    x = torch.tensor([[1.0, 0.0]])
    want = math.log(p[0]) + math.log(1 - p[1])
    assert float(ls.IndependentPixels(X).log_prob(x)) == pytest.approx(want, rel=1e-6)


def test_stored_table_has_every_row_three_seeds_and_todays_recipes(stored):
    assert [r["name"] for r in stored["rows"]] == list(ls.ROWS)
    assert len(stored["seeds"]) == 3 and stored["fingerprint"] == ls.fingerprint()
    assert stored["data"] == "digits" and stored["is_full_mnist"] is False
    for r in stored["rows"]:
        assert len(r["per_seed"]) == 3
        mean, se = ls.mean_se(r["per_seed"])
        assert r["nats"] == pytest.approx(mean) and r["se"] == pytest.approx(se)
        assert r["bits_per_dim"] == pytest.approx(likelihood.bits_per_dim(mean, 64))


def test_notebook_prose_about_the_order_holds_for_the_stored_table(stored):
    row = {r["name"]: r for r in stored["rows"]}
    nats = {k: v["nats"] for k, v in row.items()}
    # "NADE and the one-mask MADE share the best place (their gap is within one standard error)"
    best_two = sorted(nats, key=nats.get)[:2]
    assert set(best_two) == {"NADE", "MADE, one mask"}
    assert abs(nats["NADE"] - nats["MADE, one mask"]) < max(row["NADE"]["se"],
                                                            row["MADE, one mask"]["se"])
    # "the PixelCNN comes next, and the transformer, the 8-mask MADE and the VAE trail FVSBN"
    assert sorted(nats, key=nats.get)[2] == "PixelCNN"
    for name in ("Transformer", "MADE, 8 masks", "VAE (IS, K = 200)"):
        assert nats[name] > nats["FVSBN"]
    # "every model that uses the earlier pixels is 5 to 7 nats better than independent pixels"
    gaps = [nats["Independent"] - v for k, v in nats.items() if k != "Independent"]
    assert 5 <= min(gaps) and max(gaps) <= 7


def test_render_shows_the_published_column_only_for_full_mnist(stored):
    assert "published" not in ls.render(stored)
    full = copy.deepcopy(stored)
    full["is_full_mnist"] = True
    text = ls.render(full, markdown=True)
    assert "published nats" in text and "| PixelCNN |" in text and "81.30" in text
    assert "±" in ls.render(stored)


def test_check_fresh_catches_a_stale_table(stored):
    t = next(r for r in stored["rows"] if r["name"] == "Transformer")
    ok, why = ls.check_fresh(stored, t["nats"] + 0.1)
    assert ok and "matches" in why
    ok, why = ls.check_fresh(stored, t["nats"] + 3 * t["se"] + 0.6)
    assert not ok and "outside" in why
    old = copy.deepcopy(stored)
    old["fingerprint"] = "000000000000"
    ok, why = ls.check_fresh(old, t["nats"])
    assert not ok and "recipes changed" in why


def test_fingerprint_follows_the_recipes(monkeypatch):
    before = ls.fingerprint()
    recipes = copy.deepcopy(ls.RECIPES)
    recipes["Transformer"]["epochs"] += 1
    monkeypatch.setattr(ls, "RECIPES", recipes)
    assert ls.fingerprint() != before


def test_load_names_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="benchmarks/likelihoods.py"):
        ls.load(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="regenerate"):
        ls.load(bad)


def test_measure_takes_the_mode_as_an_argument(monkeypatch):
    # the run's mode is the caller's argument, not read from the environment, and only a
    # quick-mode run may make the stored quick-mode table
    monkeypatch.setenv("MPLIB_MODE", "quick")
    with pytest.raises(ValueError, match="mode must be 'quick'"):
        ls.measure([0, 1], mode="full")
    with pytest.raises(TypeError, match="mode"):
        ls.measure([0, 1])


@pytest.mark.parametrize("call, error, match", [
    # a wrong type is a TypeError, a right-typed value out of range a ValueError
    (lambda: ls.measure([0], mode="quick"), ValueError, "seeds must hold at least 2"),
    (lambda: ls.measure([0, 1.5], mode="quick"), TypeError, r"seeds \(each seed\)"),
    (lambda: ls.measure([0, -1], mode="quick"), ValueError, r"seeds \(each seed\)"),
    (lambda: ls.measure([0, 1], rows=["GAN"], mode="quick"), ValueError, r"rows \(each row\)"),
    (lambda: ls.measure([0, 1], mode="fast"), ValueError, "mode must be one of"),
    (lambda: ls.mean_se([1.0, "2"]), TypeError, "values"),
    (lambda: ls._train_one("GAN", None, None, 0), ValueError, "name must be one of"),
    (lambda: ls.check_fresh(ls.load(), "80"), TypeError, "live_nats"),
    (lambda: ls.check_fresh(ls.load(), 80.0, margin=-1), ValueError, "margin"),
])
def test_bad_arguments_raise_the_right_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
