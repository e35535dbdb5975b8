# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6 Autoregressive models (part 3: variational RNN and transformers, §6.6–6.7)
#
# This notebook follows chapter 6 of *Machine Perception*, C. Perez Jensen, 2024 (the notes).
#
# Parts 1 and 2 predicted each element from the ones before it with masked networks. This
# part looks at two other ways of reading a sequence. The **variational RNN** (§6.6) puts a
# small VAE inside every step of a recurrent network, with a prior that the recurrent state
# predicts, so that generation is random where a plain RNN is deterministic. The
# **transformer** (§6.7) replaces recurrence and convolution by masked self-attention: every
# position looks at all earlier positions in one step. We check attention against PyTorch's
# own kernel, correct two slips in the notes' formulas, and train a tiny transformer as a
# density model of the binarised digits, into the likelihood table of parts 1 and 2.

# %%
# On Colab only: install the helper package mplib at a fixed release (a no-op elsewhere).
# --no-deps: Colab has every dependency already, and upgrading one it has imported
# (ipywidgets) would break the widgets until a restart.
import sys
if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "mplib @ git+https://github.com/machine-perception/mp-notebooks@v0.1.0"],
                   check=True)

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.nn import functional as F

from mplib import data, likelihood, plot, runtime, train
from mplib import transformer, vrnn

plot.style()
runtime.summary()
runtime.prefer_one_thread()  # small models: one CPU thread is fastest, see its docstring

# %% [markdown]
# ## 6.6 Variational RNN
#
# An RNN that generates a sequence feeds its own output back in, but given the past, its
# next step is fixed: all randomness has to live in the output distribution. The VRNN adds
# a latent variable z⁽ᵗ⁾ at every step and treats each step as a VAE. What changes with
# respect to chapter 5 is the prior: it is not N(0, I) but a Gaussian whose mean and
# standard deviation a network reads off the hidden state h⁽ᵗ⁾, which summarises the past:
#
# $$\text{prior: } z^{(t)} \sim \mathcal{N}\big(\mu_0^{(t)}, \operatorname{diag}(\sigma_0^{(t)})^2\big),
#   \quad (\mu_0^{(t)}, \sigma_0^{(t)}) = \varphi_{\text{prior}}(h^{(t)}),$$
# $$\text{posterior: } q(z^{(t)} \mid x^{(t)}, h^{(t)}) = \mathcal{N}\big(\mu^{(t)}, \operatorname{diag}(\sigma^{(t)})^2\big),
#   \qquad \text{decoder: } p(x^{(t)} \mid z^{(t)}, h^{(t)}),$$
# $$h^{(t+1)} = f\big(x^{(t)}, z^{(t)}, h^{(t)}\big) \ \text{(a GRU)}.$$
#
# Training maximises the sum over steps of the per-step ELBO,
# $\sum_t \mathbb{E}_q[\log p(x^{(t)} \mid z^{(t)}, h^{(t)})] - \mathrm{KL}\big(q(z^{(t)} \mid \cdot)\,\|\,p(z^{(t)} \mid h^{(t)})\big)$,
# whose KL term is now between two diagonal Gaussians:
#
# $$\mathrm{KL} = \tfrac12 \sum_k \Big[\log \sigma_{0,k}^2 - \log \sigma_k^2
#   + \frac{\sigma_k^2 + (\mu_k - \mu_{0,k})^2}{\sigma_{0,k}^2} - 1\Big].$$

# %%
def kl(mu, logvar, mu_0, logvar_0):
    """KL(N(μ, σ²) ‖ N(μ₀, σ₀²)) summed over the last dimension, from the formula above."""
    return 0.5 * (logvar_0 - logvar + (logvar.exp() + (mu - mu_0) ** 2) / logvar_0.exp()
                  - 1).sum(-1)


runtime.seed(0)
mu, logvar, mu_0, logvar_0 = torch.randn(4, 8, 5, 3).unbind(0)
reference = torch.distributions.kl_divergence(
    torch.distributions.Normal(mu, (0.5 * logvar).exp()),
    torch.distributions.Normal(mu_0, (0.5 * logvar_0).exp())).sum(-1)
torch.testing.assert_close(kl(mu, logvar, mu_0, logvar_0), reference)
torch.testing.assert_close(vrnn.kl_gaussians(mu, logvar, mu_0, logvar_0).sum(-1), reference)
print("KL formula = torch.distributions = mplib.vrnn.kl_gaussians; shape", tuple(reference.shape))

# %% [markdown]
# **The data**: noisy sinusoids of three classes (periods 8, 16 and 32 steps), each with a
# random phase and amplitude, 32 steps long (`vrnn.sinusoid_sequences`, seeded).

# %%
X_seq, y_seq = vrnn.sinusoid_sequences(runtime.budget(quick=300, full=3000), T=32, seed=0)
fig, axes = plt.subplots(1, 3, figsize=(9, 2.4), sharey=True)
for k, ax in enumerate(axes):
    ax.plot(X_seq[y_seq == k][:3, :, 0].T)
    ax.set(title=f"class {k}: period {vrnn.PERIODS[k]:g}", xlabel="t")
axes[0].set_ylabel("x")
fig.tight_layout()

# %% [markdown]
# `mplib.vrnn.VRNN` implements the equations above (φ_x, φ_z feature maps, MLPs for prior,
# encoder and decoder, a GRU cell); its forward pass returns the two terms of the negative
# ELBO for every sequence and step. We train it with Adam (`vrnn.train_vrnn`).

# %%
runtime.summary()
runtime.seed(0)
epochs = runtime.budget(quick=20, full=40)
model = vrnn.VRNN(x_dim=1, h_dim=32, z_dim=4)
losses = vrnn.train_vrnn(model, X_seq, epochs=epochs)
print(f"negative ELBO per step: {losses[0]:.3f} after epoch 1, {losses[-1]:.3f} after "
      f"epoch {epochs}")
terms = model(X_seq[:5])
assert terms["kl"].shape == terms["nll"].shape == (5, 32) and (terms["kl"] >= 0).all()
torch.testing.assert_close(terms["kl"].mean() + terms["nll"].mean(),
                           (terms["kl"] + terms["nll"]).mean())
runtime.target(f"training lowers the negative ELBO: {losses[-1]:.3f} < {losses[0]:.3f}",
               losses[-1] < losses[0])

# %% [markdown]
# **Generation** uses the prior only: from h⁽ᵗ⁾ draw z⁽ᵗ⁾ from the prior, x⁽ᵗ⁾ from the
# decoder, then update the state. The unconditional model picks a class on its own.

# %%
generated = model.sample(6, 32, generator=runtime.seed(1))
fig, ax = plt.subplots(figsize=(8, 2.6))
ax.plot(generated[:, :, 0].T)
ax.set(title="VRNN: six generated sequences", xlabel="t", ylabel="x")
fig.tight_layout()

# %% [markdown]
# ### Conditional VRNN
#
# The C-VRNN adds a condition c (here the class, one-hot) to the prior, the encoder, the
# decoder and the recurrence: $(\mu_0^{(t)}, \sigma_0^{(t)}) = \varphi_{\text{prior}}(h^{(t)}, c)$,
# and so on. Training is unchanged; at generation time we choose c and get a sequence of
# that class. We check it by the dominant period of the generated sequences (the largest
# peak of their spectrum).

# %%
runtime.seed(0)
cmodel = vrnn.VRNN(x_dim=1, h_dim=32, z_dim=4, n_classes=3)
closses = vrnn.train_vrnn(cmodel, X_seq, y_seq, epochs=epochs)
print(f"C-VRNN negative ELBO per step: {closses[0]:.3f} -> {closses[-1]:.3f}")

per_class = 10
labels = torch.arange(3).repeat_interleave(per_class)
cgen = cmodel.sample(len(labels), 32, y=labels, generator=runtime.seed(2))
spectrum = torch.fft.rfft(cgen[:, :, 0] - cgen[:, :, 0].mean(1, keepdim=True), dim=1).abs()
period = 32 / spectrum[:, 1:].argmax(1).add(1).float()
right = (period == torch.tensor(vrnn.PERIODS)[labels]).float().mean().item()
print(f"generated sequences whose dominant period is their class's: {right:.0%} "
      f"(chance 33 %)")
runtime.target(f"C-VRNN sequences with their class's period {right:.0%} > 50 %", right > 0.5)

fig, axes = plt.subplots(1, 3, figsize=(9, 2.4), sharey=True)
for k, ax in enumerate(axes):
    ax.plot(cgen[labels == k][:3, :, 0].T)
    ax.set(title=f"generated, c = {k} (period {vrnn.PERIODS[k]:g})", xlabel="t")
axes[0].set_ylabel("x")
fig.tight_layout()

# %% [markdown]
# ## 6.7 Transformers
#
# Self-attention is a soft dictionary look-up. Every position i of the input
# X ∈ ℝ^{n×d} emits a query, a key and a value,
#
# $$Q = X W_Q, \qquad K = X W_K, \qquad V = X W_V, \qquad W_Q, W_K, W_V \in \mathbb{R}^{d \times d},$$
#
# and the output of position i is an average of the values, weighted by how well its query
# matches each key:
#
# $$Y = \operatorname{softmax}\Big(\frac{Q K^\top}{\sqrt d} + M\Big) V .$$
#
# Without M every position sees the whole sequence. For an autoregressive model the mask M
# adds −∞ to the scores of the positions a query must not see, so that their softmax weight
# is exactly zero. (*The notes print the query matrix as W_O; it is W_Q.*)

# %%
def self_attention(X, W_Q, W_K, W_V, M):
    """Y = softmax(Q Kᵀ / √d + M) V with Q = X W_Q, K = X W_K, V = X W_V."""
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    d = Q.shape[-1]
    return torch.softmax(Q @ K.transpose(-2, -1) / math.sqrt(d) + M, dim=-1) @ V


n, d = 6, 8
runtime.seed(0)
X = torch.randn(n, d)
W_Q, W_K, W_V = torch.randn(3, d, d).unbind(0)
M = torch.zeros(n, n).masked_fill(torch.ones(n, n).triu(1).bool(), float("-inf"))
print("M (0 on and below the diagonal, −inf above):\n", M)

# %% [markdown]
# **Check** against PyTorch's fused kernel `F.scaled_dot_product_attention(..., is_causal=True)`,
# which applies the same causal mask internally, and against `mplib.transformer.causal_mask`.

# %%
Y = self_attention(X, W_Q, W_K, W_V, M)
Y_torch = F.scaled_dot_product_attention(X @ W_Q, X @ W_K, X @ W_V, is_causal=True)
torch.testing.assert_close(Y, Y_torch)
torch.testing.assert_close(M, transformer.causal_mask(n))
print("softmax(QKᵀ/√d + M)V = scaled_dot_product_attention(is_causal=True)")

# %% [markdown]
# ### The mask as printed (erratum)
#
# The notes' M has −∞ **on** the diagonal as well. Then the first query may see nothing at
# all: its row of scores is all −∞, and softmax of that row is 0/0, NaN, which spreads to
# every later layer. (Even if it did not, allowing only j < i in every layer would lose the
# direct path from x_i to its own position.)

# %%
# NBVAL_CHECK_OUTPUT
M_notes = transformer.causal_mask(4, include_diagonal=False)
print("M as printed:\n", M_notes)
weights = torch.softmax(torch.zeros(4, 4) + M_notes, dim=-1)
print("softmax, row by row:\n", weights)
assert torch.isnan(weights[0]).all() and not torch.isnan(weights[1:]).any()

# %% [markdown]
# **The usual fix**: keep the diagonal (M as in our code above) and shift the input by one.
# To model p(x_i | x_<i), position i receives the *previous* pixel: the input sequence is
# [start, x₁, …, x_{n−1}] and output i predicts x_i. Position i then sees the start token and
# x₁, …, x_{i−1}: exactly the conditioning set, and no NaN anywhere.
#
# `mplib.transformer.CausalTransformer` does this (start token, learned position embeddings,
# pre-norm blocks of multi-head masked attention and an MLP, one logit per pixel). **Check
# of the autoregressive property**, by perturbation and by gradient: flipping pixel i must
# leave the outputs 1..i unchanged, and the gradient of output i must vanish for inputs
# j ≥ i.

# %%
runtime.seed(0)
tiny = transformer.CausalTransformer(n=16, d=16, heads=2, layers=2).eval()
x = torch.bernoulli(torch.full((1, 16), 0.5))
with torch.no_grad():
    base = tiny(x)
    for i in range(16):
        x_flip = x.clone()
        x_flip[0, i] = 1 - x_flip[0, i]
        torch.testing.assert_close(tiny(x_flip)[0, :i + 1], base[0, :i + 1])

emb = tiny.token(tiny.shift(x)) + tiny.position  # embedded, shifted input
emb.retain_grad()
h = emb
for block in tiny.blocks:
    h = block(h)
out = tiny.head(tiny.ln(h)).squeeze(-1)
torch.testing.assert_close(out, base)
dependence = torch.zeros(16, 16)
for i in range(16):
    (g,) = torch.autograd.grad(out[0, i], emb, retain_graph=True)
    dependence[i] = (g[0].abs().sum(-1) > 0).float()
# output i depends on input positions 0..i, i.e. on the start token and x_1..x_{i-1}
torch.testing.assert_close(dependence, torch.ones(16, 16).tril())
print("flips and gradients agree: output i depends on the start token and x_1..x_{i-1} only")

# %% [markdown]
# ### A tiny transformer as a density model
#
# Trained exactly like the models of parts 1 and 2: binary cross-entropy of the 64 logits
# against the pixels, with the true pixels as input (teacher forcing through the shift).
# The held-out negative log-likelihood joins the table (FVSBN, NADE and MADE retrained here
# by `likelihood.train_baselines` on the same split).

# %%
runtime.summary()
images = data.load(runtime.budget(quick="digits", full="mnist"))
X_train = data.binarize(images.X_train).flatten(1)
X_test = data.binarize(images.X_test).flatten(1)
npix = X_train.shape[1]
# The published numbers only beside full MNIST, never beside the subset it may fall back to.
published = likelihood.PUBLISHED_MNIST if images.is_full_mnist else None

# Full mode loads the baselines that 06a trained on the same data, if it ran on this machine.
table = likelihood.train_baselines(X_train, X_test, published=published,
                                   cache=runtime.mode() == "full")

runtime.seed(0)
# Full mode: 784 positions, so attention runs in PyTorch's fused kernel (the same values, as
# checked above), which never stores the 784 × 784 weights of every head and image.
tf = transformer.CausalTransformer(n=npix, d=runtime.budget(quick=32, full=128),
                                   heads=runtime.budget(quick=2, full=4),
                                   layers=runtime.budget(quick=2, full=4),
                                   fused=runtime.budget(quick=False, full=True))
# Full mode: each epoch over 60 000 images of 784 tokens costs about 5·10¹⁴ FLOP, so a few
# epochs only; batches of 32 keep the activations near 1 GB.
history = train.fit(tf, (X_train, X_train), "bce", epochs=runtime.budget(quick=15, full=2),
                    lr=runtime.budget(quick=5e-3, full=1e-3),
                    batch_size=runtime.budget(quick=64, full=32))
scores = likelihood.nll(tf, X_test)
table.add("Transformer", scores["nats"], scores["bits_per_dim"])
print(table)
best = min(r["nats"] for r in table.rows if r["name"] != "Transformer")
print(f"the transformer {'beats' if scores['nats'] < best else 'does NOT beat'} the best of "
      f"FVSBN/NADE/MADE ({scores['nats']:.2f} vs {best:.2f} nats) on this budget")
runtime.target(f"transformer {scores['nats']:.2f} nats < a coin per pixel "
               f"{npix * math.log(2):.2f}", scores["nats"] < npix * math.log(2))

# %% [markdown]
# **Widget: attention map.** The attention weights of the trained model for one held-out
# digit. Position j of the input holds the start token (j = 0) or pixel j − 1 (raster
# order); pick a query position i and see where it looks, in each layer and head.

# %%
from mplib.widgets.attention import AttentionWidget

tf.cpu().eval().set_fused(False)     # the written-out attention keeps its weights
with torch.no_grad():
    tf(X_test[:1])
maps = tf.attention_maps()[:, 0].numpy()  # (layers, heads, n, n) for this digit
AttentionWidget(maps)

# %% [markdown]
# Samples, one pixel at a time (one forward pass per pixel), on the device the model
# trained on:

# %%
tf.to(runtime.device()).set_fused(runtime.mode() == "full")
samples = tf.sample(runtime.capped(20), generator=runtime.seed(3)).cpu()
tf.cpu()
H, W = images.shape[1:]
fig = plot.image_grid(samples.view(-1, 1, H, W), ncols=10, suptitle="transformer samples")

# %% [markdown]
# **Cost.** Self-attention over n positions costs O(n²d) (the n × n score matrix), more
# than a convolution's O(n k d); in exchange every earlier position is one step away, where
# an RNN needs up to n steps and a dilated stack log n layers.
