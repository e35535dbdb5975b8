"""The mutual information gap (§5.4) on constructed cases whose answer is known."""

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from mplib.disentanglement import discretize, entropy, mig, mutual_info, mutual_info_matrix


def _factors(repeats=50):
    """A full factorial design (every pair of values equally often): independent factors
    have a plug-in mutual information of exactly 0, so the expected scores are exact."""
    grid = np.array([(a, b) for a in range(3) for b in range(6)])
    return np.tile(grid, (repeats, 1))


def test_mutual_info_matches_sklearn_and_basic_identities():
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 4, 500), rng.integers(0, 3, 500)
    c = (a + rng.integers(0, 2, 500)) % 4
    assert mutual_info(a, c) == pytest.approx(mutual_info_score(a, c))
    assert mutual_info(a, b) == pytest.approx(mutual_info_score(a, b))
    assert mutual_info(a, a) == pytest.approx(entropy(a))
    assert entropy([0, 1, 2, 3]) == pytest.approx(np.log(4))
    assert mutual_info(a, np.zeros(500)) == 0.0


def test_discretize_bins_each_column():
    z = np.array([[0.0, 5.0], [0.5, 5.0], [1.0, 5.0]])
    np.testing.assert_array_equal(discretize(z, 2), [[0, 0], [1, 0], [1, 0]])
    with pytest.raises(ValueError, match="bins must be an integer >= 1, got 0"):
        discretize(z, 0)
    with pytest.raises(TypeError, match="bins must be an integer, got float"):
        discretize(z, 2.0)
    with pytest.raises(TypeError, match="bins must be an integer"):
        mig(np.zeros((10, 2)), np.zeros((10, 1)), bins="20")


def test_mig_is_one_when_each_factor_has_its_own_latent():
    v = _factors()
    # latent 0 a monotone copy of factor 0, latent 1 of factor 1, latent 2 constant
    z = np.stack([np.exp(v[:, 0]), -3.0 * v[:, 1], np.zeros(len(v))], axis=1)
    score, gaps = mig(z, v, bins=10)
    assert score == pytest.approx(1.0)
    np.testing.assert_allclose(gaps, [1.0, 1.0])
    mi = mutual_info_matrix(z, v, bins=10)
    np.testing.assert_allclose(mi[2], 0.0, atol=1e-12)


def test_mig_is_zero_when_two_latents_share_a_factor_and_half_in_between():
    v = _factors()
    z = np.stack([v[:, 0], v[:, 0] + 10, v[:, 1], v[:, 1] * 2.0], axis=1).astype(float)
    score, gaps = mig(z, v, bins=10)
    assert score == pytest.approx(0.0, abs=1e-12)
    # factor 0 copied by latent 0 alone, factor 1 shared by latents 2 and 3: MIG = (1 + 0) / 2
    z = np.stack([v[:, 0], v[:, 1], v[:, 1] * 2.0], axis=1).astype(float)
    score, gaps = mig(z, v, bins=10)
    assert score == pytest.approx(0.5)


def test_mig_bad_input():
    v = _factors(6)[:100]
    with pytest.raises(ValueError, match="two latent"):
        mig(np.zeros((100, 1)), v)
    with pytest.raises(ValueError, match="same length"):
        mig(np.zeros((99, 2)), v)
    with pytest.raises(ValueError, match="constant"):
        mig(np.random.default_rng(0).normal(size=(100, 2)), np.zeros((100, 2)))
