"""MADE with K connectivity masks (§6.3, as in the MADE paper): training cycles the masks,
evaluation averages the K densities, sampling draws from that mixture."""

import math

import pytest
import torch

from mplib import train
from mplib.autoregressive import MADE
from mplib.masked import made_degrees, made_masks, random_ordering

ALL3 = torch.tensor([[(k >> i) & 1 for i in range(3)] for k in range(8)]).float()


def _randomise(model, seed=0):
    torch.manual_seed(seed)
    for p in model.parameters():
        torch.nn.init.normal_(p)
    return model


def test_one_mask_is_the_plain_made():
    model = MADE(6, [9, 7], seed=4)
    expected = made_degrees(6, [9, 7], seed=4)
    assert all(torch.equal(a, b) for a, b in zip(model.degrees, expected))
    assert all(torch.equal(a, b) for a, b in zip(model.masks, made_masks(expected)))
    assert not any(k.startswith("mask_bank") for k in model.state_dict())
    x = (torch.rand(5, 6, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    _randomise(model).eval()
    torch.testing.assert_close(model.log_prob(x), model.train().log_prob(x))


def test_masks_share_the_ordering_differ_in_degrees_and_are_autoregressive():
    model = _randomise(MADE(5, [12, 12], seed=2, ordering="random", num_masks=4))
    assert len(model.degree_sets) == 4
    assert model.degree_sets[0][0].tolist() == model.ordering.tolist()
    for degrees in model.degree_sets:
        assert torch.equal(degrees[0], model.ordering)
    assert not all(torch.equal(model.degree_sets[0][1], d[1]) for d in model.degree_sets[1:])
    m0 = model.ordering
    x = (torch.rand(5, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    model.eval()
    for k in range(4):
        model.use_mask(k)
        J = torch.autograd.functional.jacobian(lambda v: model(v[None])[0], x)
        assert bool((J[m0[None, :] >= m0[:, None]] == 0).all())


def test_training_forward_passes_cycle_through_the_masks():
    model = MADE(4, [8], seed=0, num_masks=3).train()
    used = []
    for _ in range(7):
        model(torch.zeros(2, 4))
        used.append(model.mask_index)
    assert used == [0, 1, 2, 0, 1, 2, 0]
    model.eval()
    model(torch.zeros(2, 4))
    assert model.mask_index == 0  # eval passes do not advance


def test_eval_log_prob_is_the_average_of_the_mask_densities():
    model = _randomise(MADE(3, [6], seed=1, num_masks=5)).eval()
    per_mask = []
    for k in range(5):
        model.use_mask(k)
        logits = model(ALL3)
        p = torch.sigmoid(logits)
        per_mask.append(torch.where(ALL3 == 1, p, 1 - p).prod(1))
    model.use_mask(0)
    expected = torch.log(torch.stack(per_mask).mean(0))
    torch.testing.assert_close(model.log_prob(ALL3), expected, atol=1e-5, rtol=0)
    # the mixture is a density: it sums to one over {0, 1}^3 (a mean of log-densities would not)
    torch.testing.assert_close(torch.logsumexp(model.log_prob(ALL3), 0), torch.tensor(0.0),
                               atol=1e-5, rtol=0)
    assert not torch.allclose(per_mask[0], per_mask[1])  # the masks really differ


def test_samples_follow_the_mixture():
    model = _randomise(MADE(3, [4], seed=3, num_masks=3), seed=5).eval()
    probs = model.log_prob(ALL3).exp().detach()
    s = model.sample(6000, generator=torch.Generator().manual_seed(0))
    codes = (s * torch.tensor([1.0, 2.0, 4.0])).sum(1).long()
    freq = torch.bincount(codes, minlength=8).float() / len(s)
    assert float((freq - probs).abs().max()) < 0.025, (freq, probs)
    again = model.sample(6000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(s, again)


def test_state_dict_round_trip_and_training_with_fit():
    torch.manual_seed(0)
    X = (torch.rand(256, 6) < torch.linspace(0.1, 0.9, 6)).float()
    model = MADE(6, [16], seed=0, num_masks=4)
    history = train.fit(model, (X, X), "bce", epochs=8, lr=0.02, batch_size=32,
                        progress=False)
    assert history.train_loss[-1] < history.train_loss[0]
    model.eval()
    fresh = MADE(6, [16], seed=0, num_masks=4)
    fresh.load_state_dict(model.state_dict())
    fresh.eval()
    torch.testing.assert_close(fresh.log_prob(X), model.log_prob(X))


def test_ordering_seed_leaves_the_hidden_degrees_alone():
    a = MADE(8, [10, 10], seed=7)
    b = MADE(8, [10, 10], seed=7, ordering="random")
    c = MADE(8, [10, 10], seed=7, ordering="random", ordering_seed=1)
    for m in (b, c):
        assert all(torch.equal(x, y) for x, y in zip(a.degrees[1:], m.degrees[1:]))
    assert b.ordering.tolist() != c.ordering.tolist()
    assert sorted(random_ordering(8, 3).tolist()) == list(range(1, 9))


def test_validation():
    with pytest.raises(ValueError, match="num_masks must be an integer >= 1, got 0"):
        MADE(4, [8], num_masks=0)
    for bad in (1.5, True):
        with pytest.raises(TypeError, match="num_masks must be an integer"):
            MADE(4, [8], num_masks=bad)
    with pytest.raises(ValueError, match=r"k must be an integer in 0\.\.1, got 2"):
        MADE(4, [8], num_masks=2).use_mask(2)
    with pytest.raises(TypeError, match="k must be an integer"):
        MADE(4, [8], num_masks=2).use_mask(1.0)
    with pytest.raises(TypeError, match="seed must be an integer"):
        MADE(4, [8], seed="0")
    with pytest.raises(ValueError, match="ordering_seed"):
        MADE(4, [8], ordering="random", ordering_seed=-1)
    logp = MADE(4, [8], num_masks=2).eval().log_prob(torch.ones(1, 4))
    assert math.isfinite(float(logp.detach()))


def test_log_prob_of_one_mask():
    model = _randomise(MADE(3, [6], seed=1, num_masks=3)).eval()
    singles = torch.stack([model.log_prob(ALL3, mask=k) for k in range(3)])
    torch.testing.assert_close(model.log_prob(ALL3),
                               torch.logsumexp(singles, 0) - math.log(3))
    for k in range(3):  # each mask alone is a normalised density too
        torch.testing.assert_close(torch.logsumexp(singles[k], 0), torch.tensor(0.0),
                                   atol=1e-5, rtol=0)
    assert model.mask_index == 0
    with pytest.raises(ValueError, match="k must"):
        model.log_prob(ALL3, mask=3)


def test_make_baselines_variants_differ_only_in_what_they_change():
    from mplib.likelihood import make_baselines

    plain = make_baselines(9, 2)["MADE"]
    shuffled = make_baselines(9, 2, ordering="random", ordering_seed=2)["MADE"]
    ensemble = make_baselines(9, 2, num_masks=3)["MADE"]
    assert shuffled.ordering.tolist() != plain.ordering.tolist()
    for other in (shuffled, ensemble):
        assert all(torch.equal(a, b) for a, b in zip(plain.degrees[1:], other.degrees[1:]))
        for p, q in zip(plain.parameters(), other.parameters()):
            assert torch.equal(p, q)


def test_all_masks_at_once_equal_one_mask_at_a_time():
    model = _randomise(MADE(5, [7, 6], seed=0, num_masks=4)).eval()
    x = (torch.rand(3, 5, generator=torch.Generator().manual_seed(2)) > 0.5).float()
    together = model.logits_all_masks(x)
    assert together.shape == (4, 3, 5)
    for k in range(4):
        model.use_mask(k)
        torch.testing.assert_close(together[k], model(x))
    model.use_mask(0)
    single = MADE(5, [7, 6], seed=0)
    assert model.logits_all_masks(x).shape == (4, 3, 5) and single.logits_all_masks(x).shape[0] == 1
