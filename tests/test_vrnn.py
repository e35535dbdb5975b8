"""§6.6 VRNN: KL formula and shapes, conditional labels, sampling, data."""

import pytest
import torch

from mplib import vrnn
from mplib import train
from mplib.vrnn import VRNN, kl_gaussians, sinusoid_sequences


def test_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu_q, lv_q, mu_p, lv_p = torch.randn(4, 5, 3).unbind(0)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu_q, (0.5 * lv_q).exp()),
        torch.distributions.Normal(mu_p, (0.5 * lv_p).exp()))
    torch.testing.assert_close(kl_gaussians(mu_q, lv_q, mu_p, lv_p), expected)
    assert (kl_gaussians(mu_q, lv_q, mu_q, lv_q).abs() < 1e-6).all()
    with pytest.raises(ValueError, match="one shape"):
        kl_gaussians(mu_q, lv_q, mu_p[:, :2], lv_p)


@pytest.mark.parametrize("num_classes", [0, 3])
def test_vrnn_shapes_and_sampling(num_classes):
    torch.manual_seed(0)
    X, y = sinusoid_sequences(6, T=10, seed=0)
    model = VRNN(x_dim=1, h_dim=8, z_dim=2, num_classes=num_classes)
    lab = y if num_classes else None
    out = model(X, lab)
    assert out["kl"].shape == (6, 10) and out["nll"].shape == (6, 10)
    assert out["x_mu"].shape == X.shape
    assert (out["kl"] >= 0).all()
    assert model.loss(X, lab).ndim == 0
    s = model.sample(4, 7, y=torch.tensor([0, 1, 2, 0]) if num_classes else None,
                     generator=torch.Generator().manual_seed(0))
    assert s.shape == (4, 7, 1) and torch.isfinite(s).all()


def test_labels_are_checked():
    X, y = sinusoid_sequences(4, T=5)
    with pytest.raises(ValueError, match="y must be None"):
        VRNN(num_classes=0)(X, y)
    with pytest.raises(ValueError, match="required"):
        VRNN(num_classes=3)(X)
    with pytest.raises(ValueError, match="labels in 0..1"):
        VRNN(num_classes=2)(X, torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="x must be a tensor"):
        VRNN()(torch.zeros(4, 5))


def test_training_lowers_the_loss():
    X, _ = sinusoid_sequences(64, T=12, seed=1)
    torch.manual_seed(0)
    history = train.fit(VRNN(h_dim=16, z_dim=2), (X,), None, epochs=6, lr=3e-3, batch_size=32,
                        clip=5.0, progress=False, device="cpu")
    assert history.train_loss[-1] < history.train_loss[0]


def test_sinusoid_sequences():
    X, y = sinusoid_sequences(30, T=16, seed=3)
    assert X.shape == (30, 16, 1) and set(y.tolist()) <= {0, 1, 2}
    X2, y2 = sinusoid_sequences(30, T=16, seed=3)
    torch.testing.assert_close(X, X2)
    with pytest.raises(ValueError, match="noise"):
        sinusoid_sequences(3, noise=-1)


def test_vrnn_training_pass_draws_its_noise_on_the_device():
    # The meta device stands in for a GPU (no CPU tensor may enter the per-step noise).
    import torch as _torch

    from mplib import vrnn as _vrnn

    model = _vrnn.VRNN(x_dim=1, h_dim=4, z_dim=2).to("meta")
    out = model(_torch.zeros(3, 5, 1, device="meta"))
    assert out["kl"].device.type == "meta" and out["kl"].shape == (3, 5)


def test_dominant_period_finds_each_class_and_rejects_bad_input():
    X, y = vrnn.sinusoid_sequences(60, T=32, noise=0.0, seed=3)
    torch.testing.assert_close(vrnn.dominant_period(X), torch.tensor(vrnn.PERIODS)[y])
    for bad in (torch.zeros(4), torch.zeros(2, 8, 2), torch.zeros(2, 3)):
        with pytest.raises(ValueError, match="X"):
            vrnn.dominant_period(bad)
