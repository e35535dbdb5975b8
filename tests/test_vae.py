"""The VAE pieces of §5.3-5.4: KL, reparameterisation, ELBO, importance-sampled log-likelihood."""

import math

import pytest
import torch

from mplib import train, vae
from mplib.gaussian import log_normal
from mplib.vae import (VAE, elbo, evaluate_elbo, importance_log_likelihood,
                       importance_log_weights, reparameterize, vae_loss)


def test_elbo_is_the_likelihood_term_minus_beta_times_the_kl_to_the_prior():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(4, 1, 2, 3, generator=g) > 0.5).float()
    logits = torch.randn(4, 1, 2, 3, generator=g)
    mu, logvar = torch.randn(2, 4, 5, generator=g).unbind(0)
    log_px_z = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(-1)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1)
    for beta in (0.0, 1.0, 4.0):
        torch.testing.assert_close(elbo(x, logits, mu, logvar, beta), log_px_z - beta * kl)


def test_reparameterisation_gradient_flows():
    mu = torch.tensor([0.5, -1.0], requires_grad=True)
    logvar = torch.tensor([0.2, -0.4], requires_grad=True)
    g = torch.Generator().manual_seed(1)
    z = reparameterize(mu, logvar, generator=g)
    eps = torch.randn(2, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(z, mu + (0.5 * logvar).exp() * eps)
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones(2))                       # dz/dμ = 1
    torch.testing.assert_close(logvar.grad, 0.5 * (0.5 * logvar).exp().detach() * eps)  # ½σε


def _tiny_vae():
    torch.manual_seed(0)
    model = VAE(shape=(1, 2, 2), latent=1, hidden=(8,))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3)  # a decoder that depends strongly on z, an imperfect encoder
    return model.eval()


def _exact_log_px(model, x):
    """log ∫ p(x|z) p(z) dz for a 1-D latent by quadrature on a fine grid."""
    z = torch.linspace(-10, 10, 20001).unsqueeze(1)
    logits = model.decode(z)                                                 # (M, 1, 2, 2)
    ll = -torch.nn.functional.binary_cross_entropy_with_logits(
        logits.unsqueeze(1).expand(-1, len(x), -1, -1, -1), x.expand(len(z), -1, -1, -1, -1),
        reduction="none").flatten(2).sum(-1)                                 # (M, B)
    dz = float(z[1] - z[0])
    return torch.logsumexp(ll + log_normal(z).unsqueeze(1), 0) + math.log(dz)


def test_importance_sampling_bounds_and_converges_on_a_tiny_model():
    model = _tiny_vae()
    x = torch.tensor([[[[1.0, 0.0], [1.0, 1.0]]], [[[0.0, 0.0], [1.0, 0.0]]],
                      [[[1.0, 1.0], [1.0, 1.0]]]])
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        exact = _exact_log_px(model, x)
        log_w = importance_log_weights(model, x, K=20, generator=g)
        log_px, mc_elbo = torch.logsumexp(log_w, 0) - math.log(20), log_w.mean(0)
        assert log_w.shape == (20, 3)
        assert torch.all(log_px >= mc_elbo)                 # Jensen, on the very same samples
        assert torch.all(exact > mc_elbo)                   # the ELBO is a lower bound
        big = importance_log_likelihood(model, x, K=50_000, generator=g)
        torch.testing.assert_close(big, exact, atol=0.02, rtol=0)
        # the closed-form-KL ELBO, averaged over many z, is below log p(x) too
        mu, logvar = model.encode(x)
        z = reparameterize(mu.expand(4000, -1, -1), logvar.expand(4000, -1, -1), generator=g)
        e = elbo(x, model.decode(z), mu, logvar).mean(0)
        assert torch.all(e < exact)


def test_vae_forward_loss_and_fit_run():
    model = VAE(shape=(1, 4, 4), latent=2, hidden=(16, 8))
    x = (torch.rand(64, 1, 4, 4) > 0.5).float()
    logits, mu, logvar = model(x)
    assert logits.shape == x.shape and mu.shape == logvar.shape == (64, 2)
    means = model.sample_means(5)
    assert means.shape == (5, 1, 4, 4) and 0 < means.min() and means.max() < 1
    before = evaluate_elbo(model, x, generator=torch.Generator().manual_seed(0))
    hist = train.fit(model, (x, x), vae_loss(beta=1.0), epochs=30, lr=1e-2, progress=False,
                     device="cpu")
    after = evaluate_elbo(model, x, generator=torch.Generator().manual_seed(0))
    assert hist.train_loss[-1] < hist.train_loss[0] and after > before
    assert vae_loss(beta=4.0)(model(x), x) > vae_loss(beta=1.0)(model(x), x)


@pytest.mark.parametrize("call, error, match", [
    (lambda: VAE(latent=0), ValueError, "latent must be an integer >= 1, got 0"),
    (lambda: VAE(latent=2.0), TypeError, "latent must be an integer, got float"),
    (lambda: VAE(shape=(1, 0, 4)), ValueError, r"shape\[1\] must be an integer >= 1"),
    (lambda: VAE(shape=(1, 4.5, 4)), TypeError, r"shape\[1\] must be an integer"),
    (lambda: VAE(shape=()), ValueError, "shape must hold at least one size"),
    (lambda: VAE(hidden=(8, -1)), ValueError, r"hidden\[1\] must be an integer >= 1"),
    (lambda: VAE(hidden=(True,)), TypeError, r"hidden\[0\] must be an integer, got bool"),
    (lambda: vae_loss(beta=-1), ValueError, "beta must be a finite number >= 0"),
    (lambda: vae_loss(beta=float("nan")), ValueError, "beta must be a finite number"),
    (lambda: vae_loss(beta="1"), TypeError, "beta must be a number, got str"),
    (lambda: importance_log_likelihood(VAE(shape=(1, 2, 2), latent=1), torch.zeros(1, 1, 2, 2),
                                       K=0), ValueError, "K must be an integer >= 1, got 0"),
    (lambda: importance_log_likelihood(VAE(shape=(1, 2, 2), latent=1), torch.zeros(1, 1, 2, 2),
                                       K=1.0), TypeError, "K must be an integer, got float"),
    (lambda: importance_log_weights(VAE(shape=(1, 2, 2), latent=1), torch.zeros(1, 1, 2, 2),
                                    batch_size=0), ValueError, "batch_size must be an integer >= 1"),
    (lambda: evaluate_elbo(VAE(shape=(1, 2, 2), latent=1), torch.zeros(1, 1, 2, 2),
                           batch_size=10.0), TypeError, "batch_size must be an integer, got float"),
    (lambda: vae.draw_autoencoder(n_code=0), ValueError, "n_code must be an integer >= 1"),
    (lambda: reparameterize(torch.zeros(2, 3), torch.zeros(2, 2)), ValueError, "same shape"),
    (lambda: reparameterize([0.0], torch.zeros(1)), TypeError, "mu and logvar must be tensors"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_training_noise_is_drawn_on_the_device_of_its_input():
    # The meta device stands in for a GPU: a tensor made on the CPU inside the training
    # step would fail to combine with it.
    import torch as _torch

    from mplib import vae as _vae

    mu = _torch.zeros(4, 3, device="meta")
    z = _vae.reparameterize(mu, _torch.zeros(4, 3, device="meta"))
    assert z.device.type == "meta" and z.shape == (4, 3)


def test_vae_nll_row_scores_the_quick_recipe():
    from mplib import data
    d = data.load("digits")
    X_train, X_test = data.binarize(d.X_train), data.binarize(d.X_test)
    row = vae.vae_nll_row(X_train, X_test, seed=0, K=50, epochs=5)
    assert set(row) == {"nats", "bits_per_dim", "elbo_nats", "K"} and row["K"] == 50
    assert row["bits_per_dim"] == pytest.approx(row["nats"] / (64 * math.log(2)))
    # Importance sampling tightens the bound, and both beat a coin per pixel (64 ln 2 nats).
    assert row["nats"] < row["elbo_nats"] < 64 * math.log(2)
    with pytest.raises(ValueError, match="X_train must be binary"):
        vae.vae_nll_row(d.X_train, X_test)
    with pytest.raises(ValueError, match="X_test must be a non-empty"):
        vae.vae_nll_row(X_train, X_test.flatten(1))
    with pytest.raises(TypeError, match="X_train must be a tensor, got ndarray"):
        vae.vae_nll_row(X_train.numpy(), X_test)


def test_draw_autoencoder_has_both_networks_and_the_three_spaces():
    import matplotlib
    matplotlib.use("Agg")
    fig = vae.draw_autoencoder()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for word in ("encoder", "decoder", "$x$", "$z$", "$\\hat x$", "latent"):
        assert word in texts, word
    assert len(fig.axes[0].patches) == 2
