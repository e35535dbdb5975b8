"""mplib.gaussian: log N and the Gaussian KL against torch.distributions, one convention."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mplib.gaussian import kl_normal, log_normal

SETTINGS = settings(max_examples=40, deadline=None)
D = torch.distributions


@st.composite
def gaussians(draw):
    """Seeded float64 (x, μ_q, log σ_q², μ_p, log σ_p²) of one random shape (..., d)."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    x, mu_q, mu_p = (2 * torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(3))
    logvar_q, logvar_p = (torch.randn(shape, generator=g, dtype=torch.float64)
                          for _ in range(2))
    return x, mu_q, logvar_q, mu_p, logvar_p


def independent(mu, logvar):
    """N(μ, diag σ²) as one distribution over the last dimension."""
    return D.Independent(D.Normal(mu, (0.5 * logvar).exp()), 1)


@SETTINGS
@given(gaussians())
def test_log_normal_is_torchs_log_prob_summed_over_the_last_dim(params):
    x, mu, logvar, _, _ = params
    torch.testing.assert_close(log_normal(x, mu, logvar), independent(mu, logvar).log_prob(x))
    zeros = torch.zeros_like(x)
    torch.testing.assert_close(log_normal(x), independent(zeros, zeros).log_prob(x))
    assert log_normal(x).shape == x.shape[:-1]


@SETTINGS
@given(gaussians())
def test_kl_normal_is_torchs_kl_divergence(params):
    _, mu_q, logvar_q, mu_p, logvar_p = params
    q, p = independent(mu_q, logvar_q), independent(mu_p, logvar_p)
    torch.testing.assert_close(kl_normal(mu_q, logvar_q, mu_p, logvar_p), D.kl_divergence(q, p))
    zeros = torch.zeros_like(mu_q)
    torch.testing.assert_close(kl_normal(mu_q, logvar_q),
                               D.kl_divergence(q, independent(zeros, zeros)))
    # The default p = N(0, I) is the general formula with μ_p = 0, log σ_p² = 0.
    torch.testing.assert_close(kl_normal(mu_q, logvar_q), kl_normal(mu_q, logvar_q, zeros, zeros))
    assert (kl_normal(mu_q, logvar_q, mu_q, logvar_q).abs() < 1e-12).all()
    assert (kl_normal(mu_q, logvar_q, mu_p, logvar_p) > 0).all()


def test_kl_is_the_expected_log_ratio_by_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu_q, logvar_q, mu_p = torch.randn(3, 4, 3, generator=g, dtype=torch.float64).unbind(0)
    logvar_p = 0.5 * torch.randn(4, 3, generator=g, dtype=torch.float64)
    z = mu_q + (0.5 * logvar_q).exp() * torch.randn(200_000, 4, 3, generator=g,
                                                    dtype=torch.float64)
    terms = log_normal(z, mu_q, logvar_q) - log_normal(z, mu_p, logvar_p)     # (S, 4)
    mc, se = terms.mean(0), terms.std(0) / math.sqrt(len(terms))
    assert torch.all((mc - kl_normal(mu_q, logvar_q, mu_p, logvar_p)).abs() < 5 * se)


def test_parameters_broadcast_against_samples():
    # K samples (K, B, d) of one posterior (B, d): one log-density per sample and example.
    g = torch.Generator().manual_seed(1)
    z, mu, logvar = torch.randn(5, 2, 3, generator=g), torch.randn(2, 3), torch.randn(2, 3)
    assert log_normal(z, mu, logvar).shape == (5, 2)
    torch.testing.assert_close(log_normal(z, mu, logvar)[4],
                               log_normal(z[4], mu, logvar))


@pytest.mark.parametrize("call, error, match", [
    (lambda: log_normal([0.0, 1.0]), TypeError, "x must be a tensor, got list"),
    (lambda: log_normal(torch.zeros(3), 0.0, torch.zeros(3)), TypeError, "mu must be a tensor"),
    (lambda: log_normal(torch.zeros(3), torch.zeros(3)), TypeError,
     "mu and logvar must be given together"),
    (lambda: kl_normal(torch.zeros(3), None), TypeError, "logvar_q must be a tensor"),
    (lambda: kl_normal(torch.zeros(3), torch.zeros(3), None, torch.zeros(3)), TypeError,
     "mu_p and logvar_p must be given together"),
    (lambda: log_normal(torch.zeros(2, 3), torch.zeros(2, 2), torch.zeros(2, 2)), ValueError,
     r"x, mu, logvar must have shapes that broadcast, got \(2, 3\), \(2, 2\), \(2, 2\)"),
    (lambda: kl_normal(torch.zeros(2, 3), torch.zeros(2, 2)), ValueError,
     "mu_q, logvar_q must have shapes that broadcast"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
