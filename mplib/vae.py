"""Variational autoencoders (§5.3) and the β-VAE objective (§5.4).

The pieces a VAE needs, each small enough to read and test on its own:

* :func:`reparameterize`  z = μ + σ ⊙ ε with ε ~ N(0, I), so gradients reach μ and log σ²;
* :class:`VAE`            an MLP encoder (outputs μ and log σ²) and an MLP decoder (Bernoulli
  logits), whose ``forward`` returns the tuple (logits, μ, log σ²);
* :func:`elbo`            E_q[log p(x | z)] − β · KL, per example, in nats;
* :func:`vae_loss`        the negative mean ELBO as a ``loss(model_output, x)`` for ``train.fit``;
* :func:`importance_log_likelihood`  the K-sample importance-sampling estimate of log p(x),
  from :func:`importance_log_weights` (whose mean over the K samples is a Monte-Carlo ELBO).

The Gaussian formulas, log N and the closed-form KL to N(0, I) (one number per example), come
from :mod:`mplib.gaussian`. Everything works on binary (or [0, 1]) images of any shape; the
decoder is Bernoulli.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from . import checks, runtime
from .gaussian import kl_normal, log_normal
from .models import mlp


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, *, generator=None) -> torch.Tensor:
    """One sample z = μ + σ ⊙ ε, ε ~ N(0, I): differentiable in μ and log σ²."""
    if not (torch.is_tensor(mu) and torch.is_tensor(logvar)):
        raise TypeError("mu and logvar must be tensors")
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and "
                         f"{tuple(logvar.shape)}")
    # Without a (CPU) generator the noise is drawn on the device: no copy per batch.
    eps = (torch.randn_like(mu) if generator is None
           else torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device))
    return mu + torch.exp(0.5 * logvar) * eps


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x | z) for a Bernoulli decoder with these logits, summed over all but the first dim."""
    if logits.shape[-x.dim():] != x.shape and logits.shape != x.shape:
        raise ValueError(f"logits {tuple(logits.shape)} do not match x {tuple(x.shape)}")
    ll = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none")
    return ll.flatten(start_dim=logits.dim() - x.dim() + 1).sum(-1)


class VAE(nn.Module):
    """MLP VAE: encoder x ↦ (μ, log σ²), decoder z ↦ Bernoulli logits of the image.

    shape    the image shape, e.g. (1, 28, 28)
    latent   the dimension of z
    hidden   the hidden layer sizes of the encoder (the decoder mirrors them)
    """

    def __init__(self, shape=(1, 28, 28), latent: int = 16, hidden=(256,)):
        super().__init__()
        latent = checks.integer(latent, "latent")
        shape = tuple(checks.integer(s, f"shape[{i}]") for i, s in enumerate(shape))
        if not shape:
            raise ValueError("shape must hold at least one size, got ()")
        hidden = tuple(checks.integer(h, f"hidden[{i}]") for i, h in enumerate(hidden))
        self.shape, self.latent = shape, latent
        n = math.prod(shape)
        self.encoder = mlp(n, hidden, 2 * latent, flatten=False)        # f_φ: x ↦ (μ, log σ²)
        self.decoder = mlp(latent, hidden[::-1], n, flatten=False)     # g_ψ: z ↦ logits of p(x|z)

    def encode(self, x: torch.Tensor):
        """(μ, log σ²) of q_φ(z | x)."""
        mu, logvar = self.encoder(x.flatten(1)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits of p_ψ(x | z), shaped like the images (with z's leading dims)."""
        return self.decoder(z).unflatten(-1, self.shape)

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar) if self.training else mu
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample_means(self, n: int, *, generator=None) -> torch.Tensor:
        """Pixel means E[x | z] of p(x | z) for n codes z drawn from the prior N(0, I).

        These are the probabilities of the Bernoulli pixels, not binary samples of x: the
        usual way to show what a VAE generates, since a draw of x adds independent pixel noise.
        """
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent, generator=generator).to(device)
        return torch.sigmoid(self.decode(z))


def elbo(x: torch.Tensor, logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
         beta: float = 1.0) -> torch.Tensor:
    """Per-example E_q[log p(x | z)] − β · KL(q(z | x) ‖ p(z)), one z sample, in nats.

    With β = 1 this is the evidence lower bound of §5.3; with β ≠ 1 the β-VAE objective of §5.4.
    """
    return bernoulli_log_likelihood(logits, x) - beta * kl_normal(mu, logvar)


def vae_loss(beta: float = 1.0):
    """``loss(model_output, x)``: minus the mean (β-)ELBO, for ``train.fit(model, (X, X), ...)``."""
    beta = checks.number(beta, "beta", at_least=0)

    def loss(out, x):
        logits, mu, logvar = out
        return -elbo(x, logits, mu, logvar, beta).mean()

    return loss


@torch.no_grad()
def evaluate_elbo(model: VAE, X: torch.Tensor, *, batch_size: int = 1000, generator=None) -> float:
    """Mean ELBO (β = 1, one z sample per image, closed-form KL) over X, in nats."""
    batch_size = checks.integer(batch_size, "batch_size")
    total, seen = 0.0, 0
    device = next(model.parameters()).device
    batches, clock = math.ceil(len(X) / batch_size), runtime.LoopClock()
    # Under a fast dev run only the first k batches are scored (runtime.capped).
    for b in range(runtime.capped(batches)):
        with clock:
            x = X[b * batch_size:(b + 1) * batch_size].to(device)
            mu, logvar = model.encode(x)
            z = reparameterize(mu, logvar, generator=generator)
            total += float(elbo(x, model.decode(z), mu, logvar).sum())
            seen += len(x)
    clock.record(batches, batch_size=batch_size, where="ELBO", kind="score")
    return total / seen


@torch.no_grad()
def importance_log_likelihood(model: VAE, X: torch.Tensor, K: int = 100, *, batch_size: int = 100,
                              generator=None) -> torch.Tensor:
    """Per-example estimate of log p(x) = log E_{z~q(z|x)}[p(x|z) p(z) / q(z|x)] with K samples.

    log p̂_K(x) = logsumexp_k w_k − log K with w_k = log p(x|z_k) + log p(z_k) − log q(z_k|x)
    (the w_k are :func:`importance_log_weights`). Its expectation increases with K towards
    log p(x) and, for K = 1, equals the ELBO.
    """
    log_w = importance_log_weights(model, X, K, batch_size=batch_size, generator=generator)
    return torch.logsumexp(log_w, 0) - math.log(K)


@torch.no_grad()
def importance_log_weights(model: VAE, X: torch.Tensor, K: int = 100, *, batch_size: int = 100,
                           generator=None) -> torch.Tensor:
    """The log importance weights w_k (K, N) of :func:`importance_log_likelihood`.

    Their mean over k is a Monte-Carlo ELBO, never above log p̂_K from the same w_k (Jensen:
    the log of a mean is at least the mean of the logs).
    """
    K = checks.integer(K, "K")
    batch_size = checks.integer(batch_size, "batch_size")
    device = next(model.parameters()).device
    weights = []
    batches, clock = math.ceil(len(X) / batch_size), runtime.LoopClock()
    # Under a fast dev run only the first k batches are estimated (runtime.capped).
    for b in range(runtime.capped(batches)):
        with clock:
            x = X[b * batch_size:(b + 1) * batch_size].to(device)
            mu, logvar = model.encode(x)                                    # (B, d)
            eps = torch.randn((K, *mu.shape), generator=generator, dtype=mu.dtype).to(device)
            z = mu + torch.exp(0.5 * logvar) * eps                          # (K, B, d)
            log_w = (bernoulli_log_likelihood(model.decode(z), x) + log_normal(z)
                     - log_normal(z, mu, logvar))                           # (K, B)
            weights.append(log_w)
    clock.record(batches, batch_size=batch_size, where="importance sampling", kind="score")
    return torch.cat(weights, 1)


def vae_nll_row(X_train: torch.Tensor, X_test: torch.Tensor, seed: int = 0, *, K: int = 200,
                epochs: int = 20) -> dict:
    """The VAE's row of a held-out likelihood table: notebook 05's quick-mode recipe, scored.

    Trains ``VAE(latent=8, hidden=(128,))`` on binary images ``X_train`` (N, 1, H, W) with Adam
    (lr 3e-3, batches of 128, ``epochs`` epochs, the negative ELBO with one z per image) after
    ``runtime.seed(seed)``, then estimates −log p(x) on ``X_test`` by importance sampling with
    K samples. Returns ``dict(nats=..., bits_per_dim=..., elbo_nats=..., K=...)``: the mean NLL
    per image, the same in bits per pixel, and the mean held-out −ELBO (an upper bound on it).
    On the 360 binarised test digits this is the number notebook 05 reports.
    """
    from . import train
    for name, X in (("X_train", X_train), ("X_test", X_test)):
        if not torch.is_tensor(X):
            raise TypeError(f"{name} must be a tensor, got {type(X).__name__}")
        if X.dim() != 4 or len(X) == 0:
            raise ValueError(f"{name} must be a non-empty (N, C, H, W) tensor, got shape "
                             f"{tuple(X.shape)}")
        if not bool(((X == 0) | (X == 1)).all()):
            raise ValueError(f"{name} must be binary (0/1): binarise it first (data.binarize)")
    if X_train.shape[1:] != X_test.shape[1:]:
        raise ValueError(f"X_train and X_test images differ in shape: {tuple(X_train.shape[1:])} "
                         f"and {tuple(X_test.shape[1:])}")
    runtime.seed(seed)
    model = VAE(shape=X_train.shape[1:], latent=8, hidden=(128,))
    train.fit(model, (X_train, X_train), vae_loss(1.0), epochs=epochs, lr=3e-3, batch_size=128,
              progress=False)
    model.eval()
    g = torch.Generator().manual_seed(seed)
    nats = -float(importance_log_likelihood(model, X_test, K=K, generator=g).mean())
    elbo_nats = -evaluate_elbo(model, X_test, generator=g)
    n = math.prod(X_test.shape[1:])
    return {"nats": nats, "bits_per_dim": nats / (n * math.log(2)), "elbo_nats": elbo_nats, "K": K}


def draw_autoencoder(ax=None, n_in: int = 6, n_code: int = 2):
    """The notes' Figure 14: input x, encoder f, code z, decoder g, reconstruction x̂."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    n_in, n_code = checks.integer(n_in, "n_in"), checks.integer(n_code, "n_code")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 2.6))
    else:
        fig = ax.figure
    h_in, h_code = 1.0, 0.35
    xs = {"x": 0.0, "z": 2.0, "x̂": 4.0}
    label = {"x": "$x$", "z": "$z$", "x̂": "$\\hat x$"}
    ax.add_patch(Polygon([(0.25, -h_in), (1.75, -h_code), (1.75, h_code), (0.25, h_in)],
                         closed=True, facecolor="#9ecae1", edgecolor="k"))
    ax.add_patch(Polygon([(2.25, -h_code), (3.75, -h_in), (3.75, h_in), (2.25, h_code)],
                         closed=True, facecolor="#fdae6b", edgecolor="k"))
    ax.text(1.0, 0, "encoder\n$f_\\phi$", ha="center", va="center")
    ax.text(3.0, 0, "decoder\n$g_\\psi$", ha="center", va="center")
    for name, n, h in (("x", n_in, h_in), ("z", n_code, h_code), ("x̂", n_in, h_in)):
        ys = [0.0] if n == 1 else [h * (2 * i / (n - 1) - 1) * 0.85 for i in range(n)]
        ax.scatter([xs[name]] * n, ys, s=60, color="white", edgecolor="k", zorder=3)
        ax.text(xs[name], -h_in - 0.3, label[name], ha="center",
                va="top", fontsize=12)
    ax.text(0.0, h_in + 0.15, "input $\\mathcal{X}$", ha="center", va="bottom")
    ax.text(2.0, h_in + 0.15, "latent $\\mathcal{Z}$", ha="center", va="bottom")
    ax.text(4.0, h_in + 0.15, "output $\\mathcal{X}$", ha="center", va="bottom")
    ax.set_xlim(-0.5, 4.5)
    ax.set_ylim(-h_in - 0.7, h_in + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Figure 14: autoencoder architecture, $\\hat x = g_\\psi(f_\\phi(x))$")
    return fig
