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
# own kernel, correct two slips in the notes' formulas, train a tiny transformer as a
# density model of the binarised digits, and end with one likelihood table for every density
# model of chapters 5 and 6. Six exercises ("Your turn") ask you to write a VRNN step and
# causal attention, to predict and to break things.

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

from mplib import data, exercises, gaussian, likelihood, likelihood_summary, plot, runtime, train
from mplib import exercises_ch6c as ch6c
from mplib import transformer, vrnn

runtime.setup(seed=0)

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
# (*Erratum: the notes write the prior's covariance as diag(σ₀⁽ᵗ⁾); σ₀ is a standard
# deviation, so the covariance is diag(σ₀⁽ᵗ⁾)², as above.*)
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
torch.testing.assert_close(gaussian.kl_normal(mu, logvar, mu_0, logvar_0), reference)
print("KL formula = torch.distributions = mplib.gaussian.kl_normal; shape", tuple(reference.shape),
      f"; smallest value {reference.min():.3f} (a KL is never negative)")

# %% [markdown]
# **The data**: noisy sinusoids of three classes (periods 8, 16 and 32 steps), each with a
# random phase and amplitude, 32 steps long, plus Gaussian noise of σ = 0.1
# (`vrnn.sinusoid_sequences`, seeded). A second, held-out set of sequences scores the model.

# %%
X_seq, y_seq = vrnn.sinusoid_sequences(runtime.budget(quick=300, full=3000), T=32,
                                       seed=runtime.shift(0))
X_val, y_val = vrnn.sinusoid_sequences(200, T=32, seed=runtime.shift(100))
fig, axes = plt.subplots(1, 3, figsize=(9, 2.4), sharey=True)
for k, ax in enumerate(axes):
    ax.plot(X_seq[y_seq == k][:3, :, 0].T)
    ax.set(title=f"class {k}: period {vrnn.PERIODS[k]:g}", xlabel="t")
axes[0].set_ylabel("x")
fig.tight_layout()

# %% [markdown]
# ### One step of the VRNN
#
# `vrnn.VRNN` holds the networks of the equations: feature maps `phi_x` (of x) and `phi_z`
# (of z), the MLPs `phi_prior`, `phi_enc` and `phi_dec`, each of which outputs a mean and a
# log-variance side by side (split them with `.chunk(2, 1)`), and the GRU cell `rnn`.
#
# **Your turn (implement): one VRNN step.** Given a batch x⁽ᵗ⁾ (N, x_dim), the state h⁽ᵗ⁾
# (N, h_dim) and standard normal noise ε (N, z_dim), return the step's two loss terms and the
# next state:
# 1. prior: (μ₀, log σ₀²) = `phi_prior(h)`;
# 2. posterior: (μ, log σ²) = `phi_enc([phi_x(x), h])` (concatenate along dimension 1);
# 3. reparameterised sample z = μ + σ ε;
# 4. decoder: (μ_x, log σ_x²) = `phi_dec([phi_z(z), h])`, with log σ_x² clamped to [−8, 4]
#    (as mplib does, so that σ_x stays in a sane range);
# 5. KL_t = KL(q ‖ prior) (your `kl` above) and NLL_t = −log N(x⁽ᵗ⁾; μ_x, σ_x²) summed over
#    x's dimensions (`gaussian.log_normal(x, mu_x, logvar_x)` is +log N, summed over the last
#    dimension);
# 6. recurrence: h⁽ᵗ⁺¹⁾ = `rnn([phi_x(x), phi_z(z)], h)`.

# %% nbgrader={"grade": false, "grade_id": "vrnn_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def vrnn_step(model, x_t, h, eps):
    """(KL_t (N,), NLL_t (N,), next state (N, h_dim)) of one VRNN step."""
    ### BEGIN SOLUTION
    fx = model.phi_x(x_t)
    mu_0, logvar_0 = model.phi_prior(h).chunk(2, 1)                 # prior from the past
    mu, logvar = model.phi_enc(torch.cat([fx, h], 1)).chunk(2, 1)    # posterior, sees x_t
    z = mu + (0.5 * logvar).exp() * eps                              # reparameterised
    fz = model.phi_z(z)
    mu_x, logvar_x = model.phi_dec(torch.cat([fz, h], 1)).chunk(2, 1)
    logvar_x = logvar_x.clamp(-8, 4)
    kl_t = kl(mu, logvar, mu_0, logvar_0)
    nll_t = -gaussian.log_normal(x_t, mu_x, logvar_x)
    return kl_t, nll_t, model.rnn(torch.cat([fx, fz], 1), h)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_vrnn_step", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6c.check_vrnn_step(vrnn_step)

# %% [markdown]
# The negative ELBO of a sequence is the sum of the steps' KL_t + NLL_t, from h⁽¹⁾ = 0; we
# report it per step. With the same noise, stepping by hand must give exactly what the
# model's own forward pass (`vrnn.VRNN.forward`) gives, so the check below fails for a wrong
# step.

# %%
step = exercises.yours_or_reference(vrnn_step, ch6c.vrnn_step, ch6c.VRNN_STEP_CASES,
                                    rtol=1e-4, atol=1e-6, name="vrnn_step")


def negative_elbo(step, model, X, seed):
    """Per sequence, Σ_t (KL_t + NLL_t) / T, with noise from a seeded generator: (N,)."""
    g = torch.Generator().manual_seed(seed)
    N, T, _ = X.shape
    h = torch.zeros(N, model.h_dim)
    total = torch.zeros(N)
    with torch.no_grad():
        for t in range(T):
            kl_t, nll_t, h = step(model, X[:, t], h, torch.randn(N, model.z_dim, generator=g))
            total += kl_t + nll_t
    return total / T


def forward_negative_elbo(model, X, seed):
    with torch.no_grad():
        terms = model(X, generator=torch.Generator().manual_seed(seed))
    return (terms["kl"] + terms["nll"]).mean(1)

# %% [markdown]
# Training: Adam on the negative ELBO, with `train.fit(model, (X_seq,), None)`: with no loss
# given, fit calls the model's own `loss`, the forward pass's negative ELBO per step. It
# trains on `runtime.device()`; the model then comes back to the CPU, where the data are.
# Then the held-out negative ELBO by your step and by the forward pass, which must
# agree sequence by sequence, and by steps with each known mistake, which must not.

# %%
runtime.summary()
runtime.seed(0)
epochs = runtime.budget(quick=20, full=40)
model = vrnn.VRNN(x_dim=1, h_dim=32, z_dim=4)
losses = train.fit(model, (X_seq,), None, epochs=epochs, lr=3e-3, batch_size=64, clip=5.0,
                   seed=runtime.shift(0), progress=False).train_loss
model.cpu().eval()
print(f"training negative ELBO per step: {losses[0]:.3f} after epoch 1, {losses[-1]:.3f} "
      f"after epoch {epochs}")

by_step = negative_elbo(step, model, X_val, seed=7)
by_forward = forward_negative_elbo(model, X_val, seed=7)
torch.testing.assert_close(by_step, by_forward, rtol=1e-4, atol=1e-4)
held_out = float(by_forward.mean())
with torch.no_grad():
    terms = model(X_val, generator=torch.Generator().manual_seed(7))
print(f"held-out negative ELBO per step: {float(by_step.mean()):.4f} by the step, "
      f"{held_out:.4f} by the forward pass (of which KL {terms['kl'].mean():.4f}, "
      f"reconstruction {terms['nll'].mean():.4f})")
# The same check with a wrong step must fail. On the trained model some mistakes hardly
# show (see below), so the check also runs on a freshly initialised VRNN, where each does.
fresh = vrnn.VRNN(x_dim=1, h_dim=32, z_dim=4).eval()
torch.testing.assert_close(negative_elbo(step, fresh, X_val, seed=7),
                           forward_negative_elbo(fresh, X_val, seed=7), rtol=1e-4, atol=1e-4)
for mistake in ch6c.VRNN_STEP_MISTAKES:
    gaps = [(negative_elbo(mistake.fn, m, X_val, seed=7)
             - forward_negative_elbo(m, X_val, seed=7)).abs().max().item() for m in (model, fresh)]
    print(f"  a step with '{mistake.name}': largest gap over the sequences {gaps[0]:.1e} "
          f"(trained), {gaps[1]:.1e} (fresh)")
    assert gaps[1] > 1e-3, mistake.name

# Baseline: each x^(t) an independent Gaussian, mean and variance fitted per step on the
# training set (it knows nothing of the past).
m_t, v_t = X_seq.mean(0), X_seq.var(0)
baseline = float(-gaussian.log_normal(X_val, m_t, v_t.log()).mean())
runtime.target(f"held-out negative ELBO {held_out:.3f} < independent Gaussian per step "
               f"{baseline:.3f} − 0.5 nats", held_out < baseline - 0.5)

# %% [markdown]
# The KL term is close to 0: the posterior hardly leaves the prior, so z⁽ᵗ⁾ carries little
# information about x⁽ᵗ⁾ (chapter 5's posterior collapse; the GRU state already predicts a
# sinusoid well). That is why a step with the KL reversed, or with z drawn from the prior,
# changes the trained model's numbers by little: when q ≈ p, KL(q ‖ p) ≈ KL(p ‖ q) ≈ 0 and
# a sample of either is alike. The fresh model has no such coincidence, and there every
# mistake shows.

# %% [markdown]
# **Your turn (predict): why is it below 0?** The held-out negative ELBO printed above is
# negative. Let `negative_elbo_answer` return one letter.
# (a) It is a bug: a negative log-likelihood is never negative. (b) x⁽ᵗ⁾ is continuous, so
# p(x⁽ᵗ⁾ | z, h) is a density, which exceeds 1 where the decoder is sure (small σ_x). (c) The
# KL term is negative. (d) The ELBO is larger than log p(x).

# %% nbgrader={"grade": false, "grade_id": "negative_elbo", "locked": false, "schema_version": 3, "solution": true, "task": false}
def negative_elbo_answer():
    """"a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_negative_elbo", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6c.check_negative_elbo(negative_elbo_answer)

# %% [markdown]
# **A negative "negative log-likelihood".** For a real-valued x⁽ᵗ⁾, p is a density: a
# Gaussian with σ = 0.1 reaches 1/(0.1 √(2π)) ≈ 4 at its mean, and −log 4 < 0. The data's own
# noise sets the scale: given the clean sinusoid, x⁽ᵗ⁾ is N(signal, 0.1²), and the entropy of
# that Gaussian, ½ log(2πe · 0.1²), is the lowest average −log p any model can reach on it.
# Only differences between such numbers mean something, as between the two models here:

# %%
noise_floor = 0.5 * math.log(2 * math.pi * math.e * 0.1 ** 2)
print(f"noise entropy per step {noise_floor:.3f} nats  <  VRNN held-out {held_out:.3f}  <  "
      f"independent Gaussian {baseline:.3f}")

# %% [markdown]
# **Generation** uses the prior only: from h⁽ᵗ⁾ draw z⁽ᵗ⁾ from the prior, x⁽ᵗ⁾ from the
# decoder, then update the state. Do the generated sequences look like one of the three
# classes? We measure it with the dominant period (the largest peak of the spectrum, one of
# 16 values for T = 32, `vrnn.dominant_period`) and compare with the training data, with white
# noise and with a random walk (for the last two a class's period is a coincidence), and we
# compare the ranges of the values.

# %%
generated = model.sample(200, 32, generator=runtime.seed(1))
noise = torch.randn(200, 32, generator=runtime.seed(4))
walk = noise.cumsum(1)


def share_with_a_class_period(X):
    return torch.isin(vrnn.dominant_period(X), torch.tensor(vrnn.PERIODS)).float().mean().item()


for name, S in [("training data", X_seq), ("VRNN samples", generated),
                ("white noise", noise), ("random walk", walk)]:
    print(f"{name:>14}: dominant period is 8, 16 or 32 for {share_with_a_class_period(S):4.0%};"
          f" values in [{S.min():.2f}, {S.max():.2f}]")

fig, ax = plt.subplots(figsize=(8, 2.6))
ax.plot(generated[:6, :, 0].T)
ax.set(title="VRNN: six generated sequences", xlabel="t", ylabel="x")
fig.tight_layout()

# %% [markdown]
# The measure cannot show that the unconditional model picks a class: a random walk, whose
# power sits at the lowest frequencies, lands on period 16 or 32 at least as often as the
# samples do. And the samples stray beyond the data's range (compare the two value ranges).
# So we claim no more than the pictures show: wavy sequences of roughly the right periods,
# not clean members of one class. Choosing the class is what the conditional model is for.

# %% [markdown]
# ### Conditional VRNN (a simplification)
#
# In the notes' C-VRNN the condition is itself a latent variable: an encoder infers its
# posterior from x⁽ᵗ⁾, the hidden state predicts its prior, and the loss adds a KL between
# the two. **We implement a simpler model**: the condition c is the class label, given
# (one-hot), and concatenated to the inputs of the prior, the encoder, the decoder and the
# recurrence, $(\mu_0^{(t)}, \sigma_0^{(t)}) = \varphi_{\text{prior}}(h^{(t)}, c)$ and so on.
# It has no posterior or prior for c and no KL for it. What it keeps is the use: choose c at
# generation time and get a sequence of that class. We check that by the dominant period of
# the generated sequences, against the same detector on white noise and on random walks
# labelled the same way.

# %%
runtime.seed(0)
cmodel = vrnn.VRNN(x_dim=1, h_dim=32, z_dim=4, num_classes=3)
closses = train.fit(cmodel, (X_seq, y_seq), None, epochs=epochs, lr=3e-3, batch_size=64,
                    clip=5.0, seed=runtime.shift(0), progress=False).train_loss
cmodel.cpu()
print(f"C-VRNN training negative ELBO per step: {closses[0]:.3f} -> {closses[-1]:.3f}")

per_class = 20
labels = torch.arange(3).repeat_interleave(per_class)
cgen = cmodel.sample(len(labels), 32, y=labels, generator=runtime.seed(2))
class_period = torch.tensor(vrnn.PERIODS)[labels]


def share_right(X):
    return (vrnn.dominant_period(X) == class_period).float().mean().item()


right = share_right(cgen)
chance = max(share_right(noise[:len(labels)]), share_right(walk[:len(labels)]))
print(f"dominant period = the class's: C-VRNN {right:.0%}; white noise "
      f"{share_right(noise[:len(labels)]):.0%}, random walk {share_right(walk[:len(labels)]):.0%}")
runtime.target(f"C-VRNN sequences with their class's period {right:.0%} > best baseline "
               f"{chance:.0%} + 25 points", right > chance + 0.25)

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
# is exactly zero. (*Erratum: the notes print the query matrix as W_O; it is W_Q. Do not
# confuse it with the `W_O` of mplib's code and of the transformer papers: that is the
# output projection, a d × d matrix applied after attention to mix the heads' outputs.*)
#
# **Your turn (implement): single-head causal attention.** Write
# `causal_attention(X, W_Q, W_K, W_V)` for X of shape (n, d): the formula above with
# $M_{ij} = 0$ for $j \le i$ and $-\infty$ for $j > i$ (build M inside, e.g. from
# `torch.ones(n, n).triu(1)`). The cell after the check compares it with PyTorch's fused
# kernel.

# %% nbgrader={"grade": false, "grade_id": "causal_attention", "locked": false, "schema_version": 3, "solution": true, "task": false}
def causal_attention(X, W_Q, W_K, W_V):
    """softmax(Q Kᵀ / √d + M) V with Q = X W_Q, K = X W_K, V = X W_V and a causal M."""
    ### BEGIN SOLUTION
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    n, d = Q.shape
    M = torch.zeros(n, n, dtype=X.dtype).masked_fill(torch.ones(n, n).triu(1).bool(),
                                                     float("-inf"))
    return torch.softmax(Q @ K.T / math.sqrt(d) + M, dim=-1) @ V
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_causal_attention", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6c.check_causal_attention(causal_attention)

# %% [markdown]
# **Check** against PyTorch's fused kernel `F.scaled_dot_product_attention(..., is_causal=True)`,
# which applies the same causal mask internally, and M against `mplib.transformer.causal_mask`.

# %%
attend = exercises.yours_or_reference(causal_attention, ch6c.causal_attention,
                                      ch6c.ATTENTION_CASES, rtol=1e-6, atol=1e-9,
                                      name="causal_attention")
n, d = 6, 8
runtime.seed(0)
X = torch.randn(n, d)
W_Q, W_K, W_V = torch.randn(3, d, d).unbind(0)
Y = attend(X, W_Q, W_K, W_V)
Y_torch = F.scaled_dot_product_attention(X @ W_Q, X @ W_K, X @ W_V, is_causal=True)
torch.testing.assert_close(Y, Y_torch)
M = torch.zeros(n, n).masked_fill(torch.ones(n, n).triu(1).bool(), float("-inf"))
torch.testing.assert_close(M, transformer.causal_mask(n))
print("softmax(QKᵀ/√d + M)V = scaled_dot_product_attention(is_causal=True); M =\n", M)

# %% [markdown]
# ### Positions, and several heads
#
# Without a mask, attention does not know where anything is: permute the rows of X and the
# rows of Y are permuted the same way (it is *permutation-equivariant*), because every score
# depends only on the two vectors it compares. For an image or a sentence the order matters,
# so the input gets a **position embedding**, a learned vector $p_i$ added to the input at
# position i (mplib's `CausalTransformer.position`), which makes the same pixel value at two
# places two different inputs.
#
# **Multi-head attention** runs h attentions side by side on slices of d_h = d/h dimensions
# (each with its own queries, keys and values, each scaled by √d_h), concatenates the h
# outputs back to d dimensions and mixes them with the output projection W_O. Each head can
# look somewhere else, at the same cost as one head of d dimensions. The cell checks both
# statements, the second against mplib's `CausalSelfAttention`.

# %%
perm = torch.randperm(n, generator=runtime.seed(5))
unmasked = lambda X: torch.softmax((X @ W_Q) @ (X @ W_K).T / math.sqrt(d), -1) @ (X @ W_V)
torch.testing.assert_close(unmasked(X[perm]), unmasked(X)[perm])

heads = 2
mha = transformer.CausalSelfAttention(d, heads).eval()
d_h = d // heads
with torch.no_grad():
    Q, K, V = mha.W_Q(X), mha.W_K(X), mha.W_V(X)
    # head k: columns k·d_h .. (k+1)·d_h of W_Q, W_K, W_V (nn.Linear stores Wᵀ)
    W_heads = [[W.weight.T[:, k * d_h:(k + 1) * d_h] for W in (mha.W_Q, mha.W_K, mha.W_V)]
               for k in range(heads)]
    per_head = [attend(X, *W_k) for W_k in W_heads]
    by_hand = mha.W_O(torch.cat(per_head, dim=1))
    torch.testing.assert_close(by_hand, mha(X[None])[0])
print(f"attention without a mask is permutation-equivariant; {heads} heads of d_h = {d_h} "
      f"(each scaled by √d_h), concatenated and mixed by W_O = mplib's CausalSelfAttention")

# %% [markdown]
# **Your turn (predict): the size of a block.** mplib's transformer block is
# X + Attn(LN(X)), then + MLP(LN(·)): two LayerNorms (a scale and a shift each), W_Q, W_K,
# W_V without bias, W_O with a bias, and an MLP d → 4d → d with biases. How many parameters
# does one block have for d = 32 and 2 heads? Let `block_parameters` return the number.

# %% nbgrader={"grade": false, "grade_id": "block_parameters", "locked": false, "schema_version": 3, "solution": true, "task": false}
def block_parameters():
    """The number of parameters of one block, d = 32, 2 heads."""
    ### BEGIN SOLUTION
    d = 32
    return 2 * 2 * d + 3 * d * d + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_block_parameters", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6c.check_block_parameters(block_parameters)

# %%
# NBVAL_CHECK_OUTPUT
for h in (1, 2, 4, 8):
    block = transformer.Block(32, h)
    print(f"d = 32, {h} heads: {sum(p.numel() for p in block.parameters()):,} parameters")

# %% [markdown]
# ### The mask as printed (erratum)
#
# The notes' M has −∞ **on** the diagonal as well. Then the first query may see nothing at
# all: its row of scores is all −∞, and softmax of that row is 0/0, NaN, which spreads to
# every later layer.

# %%
# NBVAL_CHECK_OUTPUT
M_notes = transformer.causal_mask(4, include_diagonal=False)
print("M as printed:\n", M_notes)
weights = torch.softmax(torch.zeros(4, 4) + M_notes, dim=-1)
print("softmax, row by row:\n", weights)
assert torch.isnan(weights[0]).all() and not torch.isnan(weights[1:]).any()

# %% [markdown]
# The strict mask was meant to stop position i from seeing x_i, the value it predicts. Does
# it, once the NaN row is patched (position 1's weights set to 0)?
#
# **Your turn (break it): the notes' strict mask on an unshifted input.** The input at
# position i is x_i, the mask is j < i, and L attention layers are stacked, with or without
# residual connections X + Attn(X). Which is true? (a) Output i depends on x_{<i} only: the
# strict mask does its job. (b) x_i reaches output i even without residuals; without them
# the first L positions see nothing at all. (c) Without residuals each layer drops one more
# recent input: output i sees x_{≤i−L}. (d) Only the residuals leak x_i.

# %% nbgrader={"grade": false, "grade_id": "strict_mask", "locked": false, "schema_version": 3, "solution": true, "task": false}
def strict_mask_answer():
    """"a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_strict_mask", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6c.check_strict_mask(strict_mask_answer)

# %% [markdown]
# The dependences, measured by the Jacobian of a random stack
# (`transformer.strict_mask_dependence`): row i lists the inputs x_j that reach output i. The 1s on the diagonal are the leak: x_i
# enters through position i's own *query*, which decides the weights, even though the mask
# keeps it out of the keys and values; the residual X + Attn(X) adds it directly.

# %%
# NBVAL_CHECK_OUTPUT
for layers in (1, 2):
    for residual in (False, True):
        D = transformer.strict_mask_dependence(6, 4, layers, residual=residual)
        print(f"{layers} layer(s), {'with' if residual else 'without'} residuals: "
              f"x_i reaches output i for i = {[i + 1 for i in range(6) if D[i, i]]}")
        print(D.numpy())

# %% [markdown]
# **The usual fix**: keep the diagonal (M as in our code above) and shift the input by one.
# To model p(x_i | x_<i), position i receives the *previous* pixel: the input sequence is
# [start, x₁, …, x_{n−1}] and output i predicts x_i. Position i then sees the start token and
# x₁, …, x_{i−1}: exactly the conditioning set, its query included, and no NaN anywhere.
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
# against the pixels, with the true pixels as input (teacher forcing through the shift). What
# it must beat is the model with no dependences at all, independent pixels, each with its
# training frequency (`likelihood_summary.IndependentPixels`, part 1's footnote-11 model):
# a model that learns anything from the earlier pixels is well below it. The other models of
# chapters 5 and 6 are compared in one table at the end of this notebook.

# %%
runtime.summary()
images = data.load(runtime.budget(quick="digits", full="mnist"))
X_train = data.binarize(images.X_train).flatten(1)
X_test = data.binarize(images.X_test).flatten(1)
npix = X_train.shape[1]
independent = likelihood.nll(likelihood_summary.IndependentPixels(X_train), X_test)

runtime.seed(0)
# Full mode: each epoch over 60 000 images of 784 tokens costs about 5·10¹⁴ FLOP, so a few
# epochs only; batches of 32 keep the activations near 1 GB.
recipe = dict(d=runtime.budget(quick=32, full=128), heads=runtime.budget(quick=2, full=4),
              layers=runtime.budget(quick=2, full=4), epochs=runtime.budget(quick=15, full=2),
              lr=runtime.budget(quick=5e-3, full=1e-3),
              batch_size=runtime.budget(quick=64, full=32))
# Full mode: 784 positions, so attention runs in PyTorch's fused kernel (the same values, as
# checked above), which never stores the 784 × 784 weights of every head and image.
tf = transformer.CausalTransformer(n=npix, d=recipe["d"], heads=recipe["heads"],
                                   layers=recipe["layers"], fused=runtime.mode() == "full")
history = train.fit(tf, (X_train, X_train), "bce", epochs=recipe["epochs"], lr=recipe["lr"],
                    batch_size=recipe["batch_size"])
scores = likelihood.nll(tf, X_test)
print(f"held-out {images.name}: transformer {scores['nats']:.2f} nats "
      f"({scores['bits_per_dim']:.4f} bits/dim); independent pixels {independent['nats']:.2f} "
      f"nats ({independent['bits_per_dim']:.4f} bits/dim)")
runtime.target(f"transformer {scores['nats']:.2f} nats < independent pixels "
               f"{independent['nats']:.2f} − 3 nats", scores["nats"] < independent["nats"] - 3)

# %% [markdown]
# **Widget: attention map.** The attention weights of the trained model for one held-out
# digit. Position j of the input holds the start token (j = 0) or pixel j − 1 (raster
# order), and query i predicts pixel i. Pick a query and see where it looks, in each layer
# and head: the bars give its weights on every key position, the image shows the same weights
# on the 8 × 8 grid (scaled to their largest, printed above it), with the pixel it predicts
# outlined.

# %%
from mplib.widgets.attention import AttentionWidget

tf.cpu().eval().set_fused(False)     # the written-out attention keeps its weights
with torch.no_grad():
    tf(X_test[:1])
maps = tf.attention_maps()[:, 0].numpy()  # (layers, heads, n, n) for this digit
H, W = images.shape[1:]
AttentionWidget(maps, labels=[f"predicts pixel ({i // W}, {i % W})" for i in range(npix)],
                image_shape=(H, W) if H * W == npix else None)

# %% [markdown]
# Samples, one pixel at a time (one forward pass per pixel), on the device the model
# trained on:

# %%
tf.to(runtime.device()).set_fused(runtime.mode() == "full")
samples = tf.sample(runtime.capped(20), generator=runtime.seed(3)).cpu()
tf.cpu()
fig = plot.image_grid(samples.view(-1, 1, H, W), ncols=10, suptitle="transformer samples")

# %% [markdown]
# ### Cost
#
# A self-attention layer over n positions of d channels costs O(n²d) for the n × n scores
# and their weighted sum, plus O(n d²) for the projections. A convolution with a kernel of k
# positions costs O(n k d²), not the O(n k d) one sometimes sees: each output mixes k inputs
# of d channels into each of d channels. In exchange for its cost, attention puts every
# earlier position one step away, where an RNN needs up to n steps and a dilated stack
# log n layers.
#
# **Your turn (predict): when does attention cost more?** Compare attention's n²d with the
# convolution's n k d² for d = 32 channels and a kernel of k = 3. Beyond which sequence
# length n is attention the costlier layer? Let `cost_crossover` return n.

# %% nbgrader={"grade": false, "grade_id": "cost_crossover", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cost_crossover():
    """The length n at which n²d = n k d², for d = 32, k = 3."""
    ### BEGIN SOLUTION
    return 3 * 32
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_cost_crossover", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6c.check_cost_crossover(cost_crossover)

# %%
# NBVAL_CHECK_OUTPUT
d_, k_ = 32, 3
for n_ in (64, 96, 784):
    print(f"n = {n_:3d}: attention n²d = {n_ * n_ * d_:>10,}, convolution n k d² = "
          f"{n_ * k_ * d_ * d_:>10,}")

# %% [markdown]
# ## One likelihood table for chapters 5 and 6
#
# Every density model of chapters 5 and 6 on the same split (binarised 8 × 8 digits, 1 437
# training and 360 held-out images), each trained with its notebook's quick recipe on three
# seeds: the mean ± the standard error over the seeds, in nats per image and bits per
# dimension. Training them all takes longer than this notebook may, so the table is stored:
# `benchmarks/results/likelihoods.json`, written by `python benchmarks/likelihoods.py` (about
# a minute of CPU). The published numbers appear only for full binarised MNIST, which these
# data are not. The transformer trained above follows the table's recipe (checked): if its
# number strays from the stored row, or a recipe has changed since (a fingerprint of the
# recipes is stored), the table is stale and must be regenerated.
#
# **Why the order below is not the papers'.** On binarised MNIST the published order is FVSBN
# (97.45 nats) > NADE (88.86) > MADE (86.64) > PixelCNN (81.30). Here NADE and the one-mask
# MADE share the best place (their gap is within one standard error), the PixelCNN comes next,
# and the transformer, the 8-mask MADE and the VAE trail FVSBN. With 64 pixels, 1 437 images
# and seconds of training, the bigger models cannot use their capacity; the mask ensemble
# trains its 8 masks in turn within the single mask's epochs, so each mask gets an eighth of
# the updates; and the VAE's row estimates log p(x) by importance sampling, whose expectation
# is a lower bound that tightens only as K grows (so its NLL is, if anything, too high). What
# holds at any scale is the first row's gap: every model that uses the earlier pixels is 5 to
# 7 nats better than independent pixels.

# %%
if likelihood_summary.RESULTS_JSON.exists():
    record = likelihood_summary.load()
    print(f"stored table ({record['data']}, seeds {record['seeds']}, quick mode; from "
          f"benchmarks/results/likelihoods.json):\n")
    print(likelihood_summary.render(record))
    print(f"this run's transformer (live, one seed): {scores['nats']:.2f} nats, "
          f"{scores['bits_per_dim']:.4f} bits/dim")
    if runtime.mode() == "quick":
        fresh, why = likelihood_summary.check_fresh(record, scores["nats"])
        # the transformer above must be trained with the table's recipe, or the check is moot
        same = recipe == likelihood_summary.RECIPES["Transformer"]
        runtime.target(f"stored table up to date: {why}; this notebook's transformer recipe "
                       f"{'is' if same else 'is NOT'} the table's", fresh and same)
    else:
        print(f"\n(full mode: this notebook's transformer scored {scores['nats']:.2f} nats on "
              f"{images.name}, not comparable with the stored quick-mode table)")
else:  # an installed mplib has no benchmarks/ folder (Colab)
    print("the stored table ships with the repository, in benchmarks/results/likelihoods.json")
