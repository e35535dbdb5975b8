"""§6.6 VRNN: KL formula and shapes, conditional labels, sampling, data."""

import pytest
import torch

from mplib import vrnn
from mplib import train
from mplib.gaussian import kl_normal, log_normal
from mplib.vrnn import VRNN, sinusoid_sequences


def test_forward_terms_are_the_gaussian_kl_and_nll_of_each_step():
    # Step 1 by hand (h = 0, no label) with the forward pass's own noise.
    torch.manual_seed(0)
    model = VRNN(x_dim=2, h_dim=6, z_dim=3).eval()
    x = torch.randn(5, 4, 2)
    out = model(x, generator=torch.Generator().manual_seed(3))
    eps = torch.randn(5, 3, generator=torch.Generator().manual_seed(3))
    h = torch.zeros(5, 6)
    mu_0, logvar_0 = model.phi_prior(h).chunk(2, 1)
    mu, logvar = model.phi_enc(torch.cat([model.phi_x(x[:, 0]), h], 1)).chunk(2, 1)
    z = mu + (0.5 * logvar).exp() * eps
    mu_x, logvar_x = model.phi_dec(torch.cat([model.phi_z(z), h], 1)).chunk(2, 1)
    torch.testing.assert_close(out["kl"][:, 0], kl_normal(mu, logvar, mu_0, logvar_0))
    torch.testing.assert_close(out["nll"][:, 0], -log_normal(x[:, 0], mu_x, logvar_x.clamp(-8, 4)))
    torch.testing.assert_close(out["x_mu"][:, 0], mu_x)


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
    with pytest.raises(ValueError, match=r"x must be a tensor \(N, T, 1\), got \(4, 5\)"):
        VRNN()(torch.zeros(4, 5))
    with pytest.raises(TypeError, match="x must be a tensor .* got list"):
        VRNN()([[0.0]])


@pytest.mark.parametrize("call, error, match", [
    (lambda: VRNN(h_dim=0), ValueError, "h_dim must be an integer >= 1, got 0"),
    (lambda: VRNN(z_dim=2.0), TypeError, "z_dim must be an integer, got float"),
    (lambda: VRNN(num_classes=-1), ValueError, "num_classes must be an integer >= 0"),
    (lambda: VRNN().sample(0, 5), ValueError, "num must be an integer >= 1"),
    (lambda: VRNN().sample(2, 5.0), TypeError, "T must be an integer, got float"),
    (lambda: sinusoid_sequences(3, T=1), ValueError, "T must be an integer >= 2, got 1"),
    (lambda: sinusoid_sequences(3.0), TypeError, "n must be an integer, got float"),
    (lambda: sinusoid_sequences(3, noise=-1), ValueError, "noise must be a finite number >= 0"),
    (lambda: sinusoid_sequences(3, noise="low"), TypeError, "noise must be a number, got str"),
    (lambda: sinusoid_sequences(3, periods=(8, 0)), ValueError,
     r"periods\[1\] must be a finite number > 0"),
    (lambda: sinusoid_sequences(3, periods=("8",)), TypeError, r"periods\[0\] must be a number"),
    (lambda: sinusoid_sequences(3, periods=()), ValueError, "periods must hold at least one"),
    (lambda: vrnn.dominant_period([[0.0] * 8]), TypeError, "X must be a tensor .* got list"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


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
