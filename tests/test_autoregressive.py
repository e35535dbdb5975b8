"""FVSBN, NADE and MADE (§6.1-§6.3): the autoregressive property, log p(x), parameter counts."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mplib.autoregressive import FVSBN, MADE, NADE
from mplib.masked import effective_parameters


def _jacobian(model, n, seed=0):
    """∂logits/∂x at a random binary point (the logits are smooth in x)."""
    x = (torch.rand(n, generator=torch.Generator().manual_seed(seed)) > 0.5).float()
    return torch.autograd.functional.jacobian(lambda v: model(v[None])[0], x)


def _check_autoregressive(J, m0):
    """J[i, j] must vanish whenever input j does not come strictly before output i."""
    later_or_same = m0[None, :] >= m0[:, None]
    assert bool((J[later_or_same] == 0).all()), "an output depends on its own or a later input"


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 10), hidden=st.lists(st.integers(1, 16), min_size=1, max_size=3),
       seed=st.integers(0, 1000))
def test_made_autoregressive_property_by_jacobian(n, hidden, seed):
    torch.manual_seed(seed)
    model = MADE(n, hidden, seed=seed, ordering="random")
    for layer in model.net:  # nonzero biases and weights so nothing vanishes by accident
        if hasattr(layer, "bias"):
            torch.nn.init.normal_(layer.bias)
    J = _jacobian(model, n, seed)
    _check_autoregressive(J, model.ordering)


def test_fvsbn_and_nade_are_autoregressive_and_dense_below():
    n = 7
    for model in (FVSBN(n), NADE(n, 5)):
        torch.manual_seed(0)
        for p in model.parameters():
            torch.nn.init.normal_(p)
        J = _jacobian(model, n)
        _check_autoregressive(J, torch.arange(1, n + 1))
        assert bool((J[torch.tril(torch.ones(n, n), -1) == 1] != 0).all())


def test_nade_recursion_equals_naive():
    torch.manual_seed(0)
    n, d = 9, 4
    model = NADE(n, d)
    x = (torch.rand(5, n) > 0.5).float()
    naive = torch.empty(5, n)
    for i in range(n):  # h_i = σ(W_{:,<i} x_<i + b), x̂_i = V_i h_i + c_i, O(n² d)
        h = torch.sigmoid(x[:, :i] @ model.W[:, :i].T + model.b)
        naive[:, i] = h @ model.V[i] + model.c[i]
    torch.testing.assert_close(model(x), naive)


def test_fvsbn_log_prob_equals_per_pixel_computation():
    torch.manual_seed(1)
    n = 6
    model = FVSBN(n)
    torch.nn.init.normal_(model.linear.weight)
    torch.nn.init.normal_(model.linear.bias)
    x = (torch.rand(4, n) > 0.5).float()
    W, alpha0 = model.linear.weight, model.linear.bias
    expected = torch.zeros(4)
    for t in range(4):
        for i in range(n):
            f_i = torch.sigmoid(alpha0[i] + sum(W[i, j] * x[t, j] for j in range(i)))
            expected[t] += torch.log(f_i if x[t, i] == 1 else 1 - f_i)
    torch.testing.assert_close(model.log_prob(x), expected)


def test_log_prob_normalises_over_all_binary_vectors():
    n = 4
    xs = torch.tensor([[(k >> i) & 1 for i in range(n)] for k in range(2 ** n)]).float()
    torch.manual_seed(0)
    for model in (FVSBN(n), NADE(n, 3), MADE(n, [6], seed=1, ordering="random")):
        for p in model.parameters():
            torch.nn.init.normal_(p)
        total = torch.logsumexp(model.log_prob(xs), 0)
        torch.testing.assert_close(total, torch.tensor(0.0), atol=1e-5, rtol=0)


@pytest.mark.parametrize("n", [2, 5, 64])
def test_parameter_counts(n):
    assert effective_parameters(FVSBN(n)) == (n * n + n) // 2
    d = 3
    assert sum(p.numel() for p in NADE(n, d).parameters()) == 2 * n * d + n + d


def test_sampling_shapes_and_determinism():
    for model in (FVSBN(5), NADE(5, 3), MADE(5, [8], ordering="random")):
        s1 = model.sample(4, generator=torch.Generator().manual_seed(0))
        s2 = model.sample(4, generator=torch.Generator().manual_seed(0))
        assert s1.shape == (4, 5) and torch.equal(s1, s2)
        assert bool(((s1 == 0) | (s1 == 1)).all())


def test_sampling_follows_the_model():
    """A FVSBN that copies x_1 into every later pixel samples only all-0 or all-1 vectors."""
    model = FVSBN(4)
    with torch.no_grad():
        model.linear.weight.zero_()
        model.linear.weight[1:, 0] = 40.0
        model.linear.bias[:] = torch.tensor([0.0, -20, -20, -20])
    s = model.sample(200, generator=torch.Generator().manual_seed(0))
    assert set(s.sum(1).tolist()) <= {0.0, 4.0}
    assert 40 < s[:, 0].sum() < 160
    logp = float(model.log_prob(torch.ones(1, 4)).detach())
    assert math.isclose(logp, math.log(0.5), abs_tol=1e-6)


@pytest.mark.parametrize("make, error, match", [
    (lambda: FVSBN(1), ValueError, "n must be an integer >= 2, got 1"),
    (lambda: FVSBN(4.0), TypeError, "n must be an integer, got float"),
    (lambda: NADE(4, 0), ValueError, "d must be an integer >= 1, got 0"),
    (lambda: NADE(True, 2), TypeError, "n must be an integer, got bool"),
    (lambda: NADE(4, 2).sample(0), ValueError, "num must be an integer >= 1"),
    (lambda: NADE(4, 2).sample(2.0), TypeError, "num must be an integer"),
    (lambda: FVSBN(4).sample("3"), TypeError, "num must be an integer"),
    (lambda: MADE(4, [8], num_masks=2).sample(0), ValueError, "num must be an integer >= 1"),
])
def test_bad_sizes(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_validation():
    with pytest.raises(ValueError, match=r"x must have shape \(N, 4\)"):
        FVSBN(4)(torch.zeros(2, 5))
    with pytest.raises(TypeError, match="x must be"):
        FVSBN(4).log_prob([[0, 1, 0, 1]])
    with pytest.raises(ValueError, match="num"):
        NADE(4, 2).sample(0)
