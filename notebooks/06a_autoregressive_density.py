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
# # 6 Autoregressive models (part 1: density estimation, §6–6.3)
#
# This notebook follows chapter 6 of *Machine Perception*, C. Perez Jensen, 2024 (the notes).
#
# A VAE (chapter 5) can only bound log p(x) from below. An autoregressive model writes the
# density as a product of one-dimensional conditionals, each of which a network can output
# exactly, so the likelihood is computed, and maximised, without approximation. This notebook
# covers the chain rule and the cost of a full table, then three ways of parametrising the
# conditionals of binary images: FVSBN (§6.1), NADE (§6.2) and MADE (§6.3). It ends with the
# **likelihood table** that parts 2 and 3 (PixelCNN, transformer) extend.
#
# The models, the masked layer and the evaluation live in `mplib` (`mplib.masked`,
# `mplib.autoregressive`, `mplib.likelihood`); each section first writes its equation here,
# from scratch, and checks `mplib`'s version against it.

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
import itertools
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mplib import data, plot, runtime, train
from mplib.autoregressive import FVSBN, MADE, NADE
from mplib.likelihood import (PUBLISHED_MNIST, baseline_config, bits_per_dim, nll,
                              train_baselines)
from mplib.masked import MaskedLinear, effective_parameters, made_degrees, made_masks

plot.style()
runtime.summary()
g = runtime.seed(0)
runtime.prefer_one_thread()  # tiny models: one CPU thread is fastest, see its docstring

# %% [markdown]
# ## 6 Autoregressive models: the chain rule
#
# Any joint distribution over $\mathbf{x} = (x_1, \dots, x_n)$ factorises, with no
# assumption at all, into conditionals along an ordering of the variables:
#
# $$p(\mathbf{x}) = \prod_{i=1}^{n} p(x_i \mid \mathbf{x}_{1:i-1}).$$
#
# An autoregressive model learns these conditionals; generating means drawing $x_1$, then
# $x_2$ given $x_1$, and so on. The check below takes a random joint distribution over
# $\{0,1\}^3$, computes its conditionals by marginalising, and rebuilds $p(\mathbf{x})$ as
# their product, for two different orderings: the factorisation is exact whatever the order.

# %%
n = 3
xs = torch.tensor(list(itertools.product([0, 1], repeat=n)))   # all 2^n binary vectors
P = torch.rand(2 ** n, generator=g, dtype=torch.float64)
P = P / P.sum()                                                  # a random joint p(x)


def marginal(P, x, idx):
    """p(x_idx) = sum of p over every vector that agrees with x on the positions idx."""
    agree = (xs[:, idx] == x[idx]).all(1) if idx else torch.ones(len(xs), dtype=torch.bool)
    return P[agree].sum()


def chain_rule(P, x, order):
    """∏_i p(x_{o_i} | x_{o_1}, ..., x_{o_{i-1}}) along the ordering o."""
    prob = torch.tensor(1.0, dtype=torch.float64)
    for i in range(len(order)):
        prob = prob * marginal(P, x, order[:i + 1]) / marginal(P, x, order[:i])
    return prob


for order in ([0, 1, 2], [2, 0, 1]):
    rebuilt = torch.stack([chain_rule(P, x, order) for x in xs])
    torch.testing.assert_close(rebuilt, P)
print("chain rule rebuilds p(x) exactly for the orderings (1, 2, 3) and (3, 1, 2)")

# %% [markdown]
# ### How many parameters?
#
# For binary pixels the conditional $p(x_i = 1 \mid \mathbf{x}_{1:i-1})$ is one number for each
# of the $2^{i-1}$ possible contexts, so a full table needs
# $\sum_{i=1}^{n} 2^{i-1} = 2^n - 1 \in \mathcal{O}(2^n)$ parameters: for an 8×8 digit that is
# about $1.8 \cdot 10^{19}$. The models below replace the table by a function
# $f_i(\mathbf{x}_{1:i-1};\boldsymbol\theta_i)$ with $\sum_i |\boldsymbol\theta_i|$ parameters:
#
# | model | parameters | order |
# |---|---|---|
# | full table | $2^n - 1$ | $\mathcal{O}(2^n)$ |
# | FVSBN (§6.1) | $\sum_{i=1}^n i = (n^2+n)/2$ | $\mathcal{O}(n^2)$ |
# | NADE (§6.2), $d$ hidden units | $2nd + n + d$ ($W, V, \mathbf{b}, \mathbf{c}$) | $O(nd)$ |
#
# The full table is small enough to build for $n = 3$: one parameter per context. Below, the
# formulas are checked against the parameters the models actually hold (for FVSBN, the
# weights its mask lets through).

# %%
class FullTable(nn.Module):
    """p(x_i = 1 | x_{1:i-1}) = σ(θ_i[context]): one logit per context, 2^{i-1} for pixel i."""

    def __init__(self, n):
        super().__init__()
        self.n = n
        self.theta = nn.ParameterList([nn.Parameter(torch.randn(2 ** i)) for i in range(n)])

    def log_prob(self, x):
        logp = torch.zeros(len(x))
        for i in range(self.n):
            context = (x[:, :i].long() * 2 ** torch.arange(i)).sum(1)  # x_{1:i-1} as a number
            logit = self.theta[i][context]
            logp = logp - F.binary_cross_entropy_with_logits(logit, x[:, i].float(),
                                                             reduction="none")
        return logp


table3 = FullTable(3)
torch.testing.assert_close(table3.log_prob(xs).exp().sum(), torch.tensor(1.0))  # normalised


def full_table_count(n):
    return sum(2 ** (i - 1) for i in range(1, n + 1))


def fvsbn_count(n):
    return (n ** 2 + n) // 2


def nade_count(n, d):
    return 2 * n * d + n + d


for n_ in (3, 8):
    assert sum(p.numel() for p in FullTable(n_).parameters()) == full_table_count(n_) == 2 ** n_ - 1
for n_, d_ in ((3, 4), (64, 32), (784, 500)):
    assert effective_parameters(FVSBN(n_)) == fvsbn_count(n_)
    assert sum(p.numel() for p in NADE(n_, d_).parameters()) == nade_count(n_, d_)

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'n':>5} {'full table 2^n - 1':>22} {'FVSBN (n²+n)/2':>16} {'NADE 2nd+n+d (d=32)':>21}")
for n_ in (3, 16, 64, 784):
    print(f"{n_:>5} {full_table_count(n_):>22.3g} {fvsbn_count(n_):>16,} {nade_count(n_, 32):>21,}")

# %% [markdown]
# ### The ordering
#
# The chain rule holds for every ordering, but a model with limited capacity fits some
# orderings better than others. For images the raster order (rows top to bottom, each left to
# right) is the usual choice; a random permutation also works, as long as the same one is used
# for every image. MADE (§6.3) takes the ordering as an argument.
#
# ### The independent model (footnote 11, corrected)
#
# The cheapest assumption drops every dependency. If the pixels are independent, each
# conditional is just a marginal and
#
# $$p(\mathbf{x}) = p(x_1)\,p(x_2)\cdots p(x_n) = \prod_{i=1}^n p(x_i),$$
#
# with $n$ parameters. *Erratum: footnote 11 writes $p(x_1)\cdot p(x_n)$, leaving out the
# middle factors.* That expression ignores $x_2, \dots, x_{n-1}$, so summed over all
# $2^n$ images it gives $2^{n-2}$, not 1: it is not a distribution over $\mathbf{x}$.

# %%
q = torch.rand(n, generator=g, dtype=torch.float64)          # p(x_i = 1), one per pixel
p_i = torch.where(xs == 1, q, 1 - q)                          # p(x_i) for every vector, pixel
independent = p_i.prod(1)                                     # p(x_1) p(x_2) ... p(x_n)
notes_version = p_i[:, 0] * p_i[:, -1]                        # p(x_1) p(x_n), as printed
torch.testing.assert_close(independent.sum(), torch.tensor(1.0, dtype=torch.float64))
torch.testing.assert_close(notes_version.sum(), torch.tensor(2.0 ** (n - 2), dtype=torch.float64))
print(f"sum over all x of ∏ p(x_i) = {independent.sum():.3f};  of p(x_1)·p(x_n) = "
      f"{notes_version.sum():.3f} = 2^(n-2)")

# %% [markdown]
# Fitted to the binarised digits (each $p(x_i = 1)$ the pixel's frequency in the training
# images), the independent model samples pixels that do not agree with each other: the
# picture is a blur of all digits, never one digit. It enters the likelihood table as the
# baseline that every autoregressive model must beat.

# %%
digits = data.load("digits")
X_train = data.binarize(digits.X_train).flatten(1)    # (1437, 64) in {0, 1}
X_test = data.binarize(digits.X_test).flatten(1)      # (360, 64)
n = X_train.shape[1]


class Independent(nn.Module):
    """p(x) = ∏_i p(x_i), p(x_i = 1) = σ(logit_i): n parameters (the corrected footnote 11)."""

    def __init__(self, X):
        super().__init__()
        freq = (X.sum(0) + 1) / (len(X) + 2)          # Laplace-smoothed pixel frequencies
        self.logit = nn.Parameter(torch.log(freq / (1 - freq)))
        self.n = X.shape[1]

    def log_prob(self, x):
        return -F.binary_cross_entropy_with_logits(self.logit.expand_as(x), x,
                                                   reduction="none").sum(1)

    def sample(self, num, generator=None):
        return (torch.rand(num, self.n, generator=generator) < torch.sigmoid(self.logit)).float()


independent_model = Independent(X_train)
samples_indep = independent_model.sample(8, generator=g).view(8, 1, 8, 8)
tiles = torch.ones(2 * 9 - 1, 4 * 9 - 1)                # 2 x 4 samples, one blank pixel apart
for k, s in enumerate(samples_indep):
    r, col = divmod(k, 4)
    tiles[9 * r:9 * r + 8, 9 * col:9 * col + 8] = 1 - s[0]
fig, axes = plt.subplots(1, 2, figsize=(7, 2.8), gridspec_kw={"width_ratios": [1, 2.2]})
axes[0].imshow(torch.sigmoid(independent_model.logit).detach().view(8, 8), cmap="gray_r",
               vmin=0, vmax=1)
axes[0].set_title("p(x_i = 1) per pixel")
axes[1].imshow(tiles, cmap="gray", vmin=0, vmax=1)
axes[1].set_title("8 samples of the independent model")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %% [markdown]
# ## 6.1 Fully visible sigmoid belief network
#
# FVSBN gives pixel $i$ its own logistic regression on the pixels before it:
#
# $$f_i(\mathbf{x}_{1:i-1}) = \sigma\!\left(\alpha_0^{(i)} + \alpha_1^{(i)} x_1 + \dots +
# \alpha_{i-1}^{(i)} x_{i-1}\right) = p(x_i = 1 \mid \mathbf{x}_{1:i-1}),$$
#
# $i$ parameters for pixel $i$, $(n^2+n)/2$ in all. Stacking the $n$ regressions as the rows of
# one $n \times n$ matrix $A$ (row $i$ holds $\alpha_1^{(i)}, \dots, \alpha_{i-1}^{(i)}$) shows
# that FVSBN is a single linear layer $\sigma(\boldsymbol\alpha_0 + (A \odot M)\mathbf{x})$
# whose mask $M_{ij} = \mathbb{1}\{j < i\}$ is strictly lower triangular: every conditional
# is computed in one matrix product, all at once.

# %%
def fvsbn_loop(x, alpha, alpha0):
    """f_i(x_{1:i-1}) = σ(α_0^(i) + Σ_{j<i} α_j^(i) x_j): one logistic regression per pixel."""
    N, n = x.shape
    f = torch.empty(N, n)
    for i in range(n):
        f[:, i] = torch.sigmoid(alpha0[i] + x[:, :i] @ alpha[i, :i])
    return f


M = torch.tril(torch.ones(n, n), diagonal=-1)            # M_ij = 1{j < i}
layer = MaskedLinear(n, n, M)                             # σ(α_0 + (A ⊙ M) x) in one product
x = X_train[:16]
torch.testing.assert_close(torch.sigmoid(layer(x)), fvsbn_loop(x, layer.weight, layer.bias))

fvsbn = FVSBN(n)                                          # mplib's FVSBN: the same layer
with torch.no_grad():
    fvsbn.linear.weight.copy_(layer.weight)
    fvsbn.linear.bias.copy_(layer.bias)
torch.testing.assert_close(torch.sigmoid(fvsbn(x)), fvsbn_loop(x, layer.weight, layer.bias))
# the masked weights never matter: changing them leaves every output unchanged
with torch.no_grad():
    layer.weight.add_(torch.triu(torch.randn(n, n, generator=g)))
torch.testing.assert_close(torch.sigmoid(layer(x)), fvsbn_loop(x, layer.weight * M, layer.bias))
print("FVSBN: loop of logistic regressions == masked linear layer;",
      f"effective parameters {effective_parameters(fvsbn)} = (n² + n)/2 = {fvsbn_count(n)}")

# %% [markdown]
# ## 6.2 Neural autoregressive density estimator
#
# NADE puts a hidden layer of $d$ units between the context and each conditional, and shares
# its weights $W \in \mathbb{R}^{d \times n}$ across all $i$:
#
# $$\mathbf{h}_i = \sigma(W_{:,1:i-1}\,\mathbf{x}_{1:i-1} + \mathbf{b}), \qquad
# \hat{x}_i = \sigma(V_{i,:}\,\mathbf{h}_i + c_i) = p(x_i = 1 \mid \mathbf{x}_{1:i-1}).$$
#
# Computed naively, each $\mathbf{h}_i$ costs $\mathcal{O}(id)$, so all of them cost
# $\mathcal{O}(n^2 d)$. Because $W$ is shared, consecutive pre-activations differ by one column:
#
# $$\mathbf{a}_1 = \mathbf{0}, \qquad \mathbf{a}_{i+1} = \mathbf{a}_i + W_{:,i}\,x_i, \qquad
# \mathbf{h}_i = \sigma(\mathbf{a}_i + \mathbf{b}),$$
#
# which costs $\mathcal{O}(d)$ per pixel and $\mathcal{O}(nd)$ in all. (The notes start the
# index at $\mathbf{a}_0$; with pixels numbered from 1 the empty context is $\mathbf{a}_1$.)

# %%
def nade_naive(x, W, b, V, c):
    """h_i = σ(W_{:,1:i-1} x_{1:i-1} + b), x̂_i = σ(V_{i,:} h_i + c_i): O(n² d)."""
    N, n = x.shape
    x_hat = torch.empty(N, n)
    for i in range(n):
        h_i = torch.sigmoid(x[:, :i] @ W[:, :i].T + b)
        x_hat[:, i] = torch.sigmoid(h_i @ V[i] + c[i])
    return x_hat


def nade_recursive(x, W, b, V, c):
    """a_1 = 0, a_{i+1} = a_i + W_{:,i} x_i, h_i = σ(a_i + b): O(n d)."""
    N, n = x.shape
    x_hat = torch.empty(N, n)
    a = torch.zeros(N, W.shape[0])
    for i in range(n):
        h_i = torch.sigmoid(a + b)
        x_hat[:, i] = torch.sigmoid(h_i @ V[i] + c[i])
        a = a + x[:, i:i + 1] * W[:, i]
    return x_hat


d = 32
nade = NADE(n, d)
W, b, V, c = (p.detach() for p in (nade.W, nade.b, nade.V, nade.c))
x = X_train[:16]
torch.testing.assert_close(nade_recursive(x, W, b, V, c), nade_naive(x, W, b, V, c))
torch.testing.assert_close(torch.sigmoid(nade(x)).detach(), nade_naive(x, W, b, V, c))
print(f"NADE: recursion == naive == mplib.NADE (vectorised as a cumulative sum); "
      f"{sum(p.numel() for p in nade.parameters())} parameters = 2nd + n + d")

# %% [markdown]
# Timings against $n$ (batch of 16, $d = 128$). Written as Python loops over $i$, both
# functions pay a fixed overhead per pixel, which hides part of the difference at these sizes.
# Written as single tensor operations, the naive form becomes one masked product
# $\mathbf{a}_i = W(\mathbf{m}_i \odot \mathbf{x})$ with $\mathbf{m}_i = (\mathbb{1}\{j < i\})_j$,
# which still does $\mathcal{O}(n^2 d)$ work, while the recursion becomes a cumulative sum over
# $i$ ($\mathcal{O}(nd)$; this is how `mplib.NADE` computes it). On the log-log plot the
# vectorised timings follow slopes of about 2 and 1.

# %%
def a_naive_vectorised(x, W):
    """a_i = W_{:,1:i-1} x_{1:i-1} for all i at once: (N, n, n) masked inputs times W^T."""
    n = x.shape[1]
    M = torch.tril(torch.ones(n, n), diagonal=-1)             # row i keeps j < i
    return (x[:, None, :] * M) @ W.T                           # (N, n, d), O(N n² d)


def a_recursive_vectorised(x, W):
    """a_{i+1} = a_i + W_{:,i} x_i for all i at once: an exclusive cumulative sum, O(N n d)."""
    contrib = x[:, None, :] * W                                # W_{:,i} x_i, laid out (N, d, n)
    return (torch.cumsum(contrib, dim=2) - contrib).transpose(1, 2)


def best_time(fn, *args, repeat=2):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


sizes = [64, 128, 256, 512, 1024]
d_t = 128
timings = {"naive loop": [], "recursive loop": [], "naive, one product": [],
           "recursive, cumsum": []}
with torch.no_grad():
    for n_ in sizes:
        x_ = (torch.rand(16, n_, generator=g) < 0.3).float()
        W_, b_ = torch.randn(d_t, n_, generator=g) / 8, torch.zeros(d_t)
        V_, c_ = torch.randn(n_, d_t, generator=g) / 8, torch.zeros(n_)
        torch.testing.assert_close(a_naive_vectorised(x_, W_), a_recursive_vectorised(x_, W_),
                                   atol=1e-4, rtol=1e-4)
        timings["naive loop"].append(best_time(nade_naive, x_, W_, b_, V_, c_))
        timings["recursive loop"].append(best_time(nade_recursive, x_, W_, b_, V_, c_))
        timings["naive, one product"].append(best_time(a_naive_vectorised, x_, W_))
        timings["recursive, cumsum"].append(best_time(a_recursive_vectorised, x_, W_))
print("milliseconds:\n" + f"{'n':>5}" + "".join(f"{name:>21}" for name in timings))
for k, n_ in enumerate(sizes):
    print(f"{n_:>5}" + "".join(f"{t[k] * 1e3:>21.2f}" for t in timings.values()))
ratio = timings["naive, one product"][-1] / timings["recursive, cumsum"][-1]
print(f"at n = {sizes[-1]} the vectorised naive form is {ratio:.0f}x slower than the recursion")

fig, ax = plt.subplots(figsize=(6, 3.6))
styles = ["o--", "s--", "o-", "s-"]
for (name, t), style, color in zip(timings.items(), styles, plot.COLORS[:2] * 2):
    ax.loglog(sizes, t, style, color=color, label=name, alpha=0.5 if "loop" in name else 1.0)
ref = np.array(sizes, dtype=float)
for power, ls in ((2, "k:"), (1, "k-.")):
    t0 = timings["naive, one product" if power == 2 else "recursive, cumsum"][-1]
    ax.loglog(ref, t0 * (ref / ref[-1]) ** power, ls, lw=0.8, label=f"∝ n^{power}")
ax.set_xticks(sizes, [str(s) for s in sizes])
ax.minorticks_off()
ax.set(xlabel="number of pixels n", ylabel="seconds (batch 16, d = 128)",
       title="NADE hidden pre-activations a_i: naive vs recursive")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()

# %% [markdown]
# ### Teacher forcing and sampling
#
# NADE is trained by maximising the average log-likelihood of the $T$ training images,
#
# $$\frac{1}{T}\sum_{t=1}^{T}\log p(\mathbf{x}^{(t)}) =
# \frac{1}{T}\sum_{t=1}^{T}\sum_{i=1}^{n}\log p\big(x_i^{(t)} \mid \mathbf{x}^{(t)}_{1:i-1}\big).$$
#
# In training every conditional is fed the *true* pixels $\mathbf{x}^{(t)}_{1:i-1}$ (teacher
# forcing), so one forward pass gives all $n$ logits and the loss is a plain binary
# cross-entropy between the logits and the image itself: `train.fit(model, (X, X), "bce")`
# minimises $-\log p(\mathbf{x})/n$. At sampling time there are no true pixels: $x_i$ is drawn
# from $\hat{x}_i$ and fed back, one pixel after the other, $n$ steps.

# %%
logits = nade(X_train[:32])                                   # teacher forcing: true context
bce = F.binary_cross_entropy_with_logits(logits, X_train[:32])
torch.testing.assert_close(bce, -nade.log_prob(X_train[:32]).mean() / n)
print(f"mean BCE over pixels = -log p(x) / n = {bce.item():.4f} nats per pixel (untrained)")

sample = nade.sample(4, generator=g)                          # sampling: its own pixels fed back
print("sample shape:", tuple(sample.shape), "values:", sorted(sample.unique().tolist()))

# %% [markdown]
# ## 6.3 Masked autoencoder distribution estimation
#
# MADE starts from an ordinary autoencoder, $\hat{\mathbf{x}} = \sigma(V\,g(W\mathbf{x}))$,
# and removes connections until output $\hat{x}_i$ has no path from inputs that come at or
# after $x_i$ in the ordering. Every unit gets a *degree*: input $k$ its position
# $m^{(0)}(k) \in \{1, \dots, n\}$ in the ordering, every hidden unit an integer
# $m^{(\ell)}(k)$ drawn uniformly from $\{1, \dots, n-1\}$ (it may depend on inputs
# $1, \dots, m^{(\ell)}(k)$ only). A hidden connection $j \to i$ is kept when the degree does
# not decrease, an output connection only when it strictly increases:
#
# $$M^{W^{(\ell)}}_{ij} = \mathbb{1}\{m^{(\ell-1)}(j) \le m^{(\ell)}(i)\}, \qquad
# M^{V}_{ij} = \mathbb{1}\{m^{(L)}(j) < m^{(0)}(i)\},$$
#
# and the network uses $\bar W^{(\ell)} = W^{(\ell)} \odot M^{W^{(\ell)}}$ and
# $\bar V = V \odot M^V$. One forward pass then gives all $n$ conditionals, as for FVSBN, but
# through hidden layers.
# (The notes write both masks with the generic indices $m^{(\ell-1)}(j)$, $m^{(\ell)}(i)$; for
# $M^V$ the "layer below" is the last hidden layer $L$ and output $i$ carries the degree
# $m^{(0)}(i)$ of input $i$, as written here.)

# %%
def degrees(n, hidden_sizes, ordering, generator):
    """m^(0) = the ordering; m^(ℓ)(k) uniform in {1, ..., n-1} for each hidden unit."""
    m = [torch.as_tensor(ordering)]
    for H in hidden_sizes:
        m.append(torch.randint(1, n, (H,), generator=generator))
    return m


def masks(m):
    """M^W(ℓ)_ij = 1{m^(ℓ-1)(j) <= m^(ℓ)(i)} (hidden layers); M^V_ij = 1{m^(L)(j) < m^(0)(i)}."""
    L = len(m) - 1
    M_W = [(m[ell - 1][None, :] <= m[ell][:, None]).float() for ell in range(1, L + 1)]
    M_V = (m[L][None, :] < m[0][:, None]).float()
    return M_W + [M_V]


# Figure 15: n = 3, ordering m^(0) = (3, 1, 2), two hidden layers of 4 units
m = degrees(3, [4, 4], [3, 1, 2], torch.Generator().manual_seed(1))
ours = masks(m)
theirs = made_masks(m)                                    # mplib's version, same degrees
for A, B in zip(ours, theirs):
    torch.testing.assert_close(A, B)
# mplib.made_degrees draws the same way: same seed, same degrees
for A, B in zip(degrees(5, [7, 6], [2, 5, 1, 4, 3], torch.Generator().manual_seed(3)),
                made_degrees(5, [7, 6], ordering=[2, 5, 1, 4, 3], seed=3)):
    torch.testing.assert_close(A, B)
print("degrees:", [t.tolist() for t in m])
fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.6))
titles = ["$M^{W^{(1)}}$ (4×3)", "$M^{W^{(2)}}$ (4×4)", "$M^V$ (3×4)"]
for ax, Mk, name in zip(axes, ours, titles):
    plot.show_array(ax, Mk, fmt="{:.0f}", title=name)
fig.tight_layout()

# %% [markdown]
# **Check: the autoregressive property by the Jacobian.** The masks are only correct if
# output $i$ does not react to inputs $j$ with $m^{(0)}(j) \ge m^{(0)}(i)$: autograd gives the
# Jacobian $\partial\hat{\mathbf{x}}/\partial\mathbf{x}$, whose entries must vanish there. After
# permuting rows and columns into the ordering, the Jacobian is strictly lower triangular.
# The loop tries random orderings and layer sizes (the unit tests try many more).

# %%
for trial in range(6):
    n_ = int(torch.randint(2, 12, (1,), generator=g))
    hidden = torch.randint(1, 40, (int(torch.randint(1, 4, (1,), generator=g)),),
                           generator=g).tolist()
    made = MADE(n_, hidden, seed=trial, ordering="random")
    x0 = torch.rand(n_, generator=g)
    J = torch.autograd.functional.jacobian(lambda v: made(v[None])[0], x0)
    m0 = made.ordering
    forbidden = m0[None, :] >= m0[:, None]                 # input j at or after output i
    assert bool((J[forbidden] == 0).all()), "an output sees its own or a later input"
    print(f"n = {n_:2d}, hidden {str(hidden):14s}: max |∂x̂_i/∂x_j| where forbidden = "
          f"{J[forbidden].abs().max():.1f}")

made = MADE(16, [64, 64], seed=0, ordering="random")
J = torch.autograd.functional.jacobian(lambda v: made(v[None])[0], torch.rand(16, generator=g))
perm = torch.argsort(made.ordering)
fig, axes = plt.subplots(1, 2, figsize=(6.5, 3))
for ax in axes:
    ax.grid(False)
axes[0].imshow(J.abs() > 0, cmap="Greys")
axes[0].set(title="∂x̂/∂x ≠ 0 (variables order)", xlabel="input j", ylabel="output i")
axes[1].imshow((J.abs() > 0)[perm][:, perm], cmap="Greys")
axes[1].set(title="rows, columns in the ordering", xlabel="input (ordered)",
            ylabel="output (ordered)")
fig.tight_layout()

# %% [markdown]
# ### Widget: MADE masks (Figure 15)
#
# The degree seed resamples the hidden degrees (the *resample* button steps it); the numbers
# in the nodes are the degrees, the lines the connections the masks keep. Right: the masks as
# matrices (rows and columns labelled with degrees) and their product
# $M^V M^{W^{(L)}} \cdots M^{W^{(1)}}$, which counts the paths from input $j$ to output $i$.
# The line at the bottom checks that product. Switch the output mask to "≤" to see the
# property break: each output then sees its own input. Some hidden units end up with no path
# to any output at all; with few units, some outputs see fewer inputs than they could. This
# is why MADE needs wide hidden layers.

# %%
from mplib.widgets.made import MadeWidget

MadeWidget()

# %% [markdown]
# ## Training FVSBN, NADE and MADE
#
# All three are trained the same way, by teacher forcing: `train.fit(model, (X, X), "bce")`
# (inside `train_baselines`, which also holds the quick and full budgets). In quick mode the
# data are the 8×8 digits binarised at 0.5 (64 pixels); in full mode, MNIST binarised the
# same way (784 pixels). The likelihood is measured on the held-out images.

# %%
runtime.summary()
runtime.seed(0)
if runtime.mode() == "full":
    split = data.load("mnist")
else:
    split = data.load("digits")
X_train = data.binarize(split.X_train).flatten(1)
X_test = data.binarize(split.X_test).flatten(1)
n = X_train.shape[1]
side = math.isqrt(n)                                  # images are side × side
published = PUBLISHED_MNIST if split.is_full_mnist else None   # never beside the subset
print(f"{split.name}: {len(X_train)} training and {len(X_test)} held-out images of {n} pixels")
with runtime.Timer() as timer:
    # Full mode keeps the trained models in the cache: 06b and 06c load them.
    table = train_baselines(X_train, X_test, seed=0, published=published,
                            cache=runtime.mode() == "full")
print(f"trained FVSBN, NADE and MADE in {timer.seconds:.1f} s")

# %% [markdown]
# The training curves, in nats per image ($n$ × the mean binary cross-entropy per pixel).
# With 1 437 training images the larger models start to overfit: the held-out curve
# flattens while the training curve keeps falling.

# %%
fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True)
for ax, (name, history) in zip(axes, table.histories.items()):
    ax.plot(history.epoch, np.array(history.train_loss) * n, label="train")
    ax.plot(history.epoch, np.array(history.test_loss) * n, label="held-out")
    ax.set(title=name, xlabel="epoch")
final = max(h.test_loss[-1] for h in table.histories.values()) * n
axes[0].set_ylim(0.9 * final, 1.5 * final)
axes[0].set_ylabel("−log p(x) (nats per image)")
axes[0].legend()
fig.tight_layout()

# %% [markdown]
# What one FVSBN conditional looks at: the weights $lpha^{(i)}_1, \dots, lpha^{(i)}_{i-1}$
# of a few pixels $i$, drawn at the positions of the pixels $x_j$ they multiply (blank: $j \ge i$,
# masked out). Each pixel leans mostly on its neighbours just above and to the left.

# %%
A = (table.models["FVSBN"].linear.weight * table.models["FVSBN"].linear.mask).detach().cpu()
picks = [n // 2 - side // 2, n // 2 + side // 4, n - side - side // 2]
fig, axes = plt.subplots(1, len(picks), figsize=(7.5, 2.7))
for ax, i in zip(axes, picks):
    alpha = A[i].clone()
    alpha[i:] = float("nan")                                 # α_j^(i) exists only for j < i
    lim = float(A[i].abs().max())
    im = ax.imshow(alpha.view(side, side), cmap="RdBu_r", vmin=-lim, vmax=lim)
    r, col = divmod(i, side)
    ax.plot(col, r, "s", mfc="none", mec="k", ms=9)
    ax.set_title(f"$\\alpha^{{(i)}}$ for pixel $i$ = {i + 1}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(True)
fig.colorbar(im, ax=axes, shrink=0.8, label="weight")

# %% [markdown]
# **Does the ordering matter?** The notes claim a random ordering works about as well as the
# raster order. A MADE with the same budget, trained on a random permutation of the pixels,
# measures it on this data.

# %%
runtime.seed(0)
hidden = [len(m) for m in table.models["MADE"].degrees[1:]]   # same size as the raster MADE
cfg = baseline_config("MADE")                                  # and the same training budget
made_random = MADE(n, hidden, seed=0, ordering="random")
train.fit(made_random, (X_train, X_train), "bce", epochs=cfg["epochs"], lr=cfg["lr"],
          batch_size=cfg["batch_size"], progress=False)
scores = nll(made_random, X_test)
table.add("MADE (random order)", scores["nats"], scores["bits_per_dim"])
print(f"MADE, raster order: {table['MADE']['nats']:.2f} nats;  random order: "
      f"{scores['nats']:.2f} nats (held-out)")

# %% [markdown]
# Samples, drawn pixel by pixel in the model's ordering. FVSBN and the larger models already
# produce strokes that continue each other; the independent model does not.

# %%
rows = {"independent": Independent(X_train)} | table.models | {"MADE (random order)": made_random}
gen = torch.Generator().manual_seed(0)
images = []
for name, model in rows.items():
    model.cpu()
    images.append(model.sample(10, generator=gen).view(10, 1, side, side))
fig = plot.image_grid(torch.cat(images), ncols=10, ax_size=0.7,
                      titles=[name if k == 0 else "" for name in rows for k in range(10)])

# %% [markdown]
# ## The likelihood table
#
# The held-out negative log-likelihood in nats per image, $-\ln p(\mathbf{x})$ averaged over
# the test images, and in bits per dimension, $-\log_2 p(\mathbf{x})/n =
# \text{nats}/(n \ln 2)$, which compares data sets of different sizes (a model that knows
# nothing pays 1 bit per pixel). Parts 2 and 3 add PixelCNN and a transformer to this table.
# The published numbers (full mode) were measured on the stochastically binarised MNIST of
# Larochelle & Murray (2011), so they are comparable in scale, not digit for digit.

# %%
scores = nll(rows["independent"], X_test)
table.add("independent", scores["nats"], scores["bits_per_dim"])
table.rows.insert(0, table.rows.pop())                   # baseline first
for r in table.rows:
    assert math.isclose(r["bits_per_dim"], r["nats"] / (n * math.log(2)))
    assert math.isclose(r["bits_per_dim"], bits_per_dim(r["nats"], n))
table.show()

fvsbn_nats = table["FVSBN"]["nats"]
for name in ("NADE", "MADE"):
    below = table[name]["nats"] < fvsbn_nats
    print(f"{name} below FVSBN on held-out data: {below} "
          f"({table[name]['nats']:.2f} vs {fvsbn_nats:.2f} nats)")
runtime.target(f"NADE {table['NADE']['nats']:.2f} and MADE {table['MADE']['nats']:.2f} nats "
               f"< FVSBN {fvsbn_nats:.2f}",
               table["NADE"]["nats"] < fvsbn_nats and table["MADE"]["nats"] < fvsbn_nats)
runtime.target(f"FVSBN {fvsbn_nats:.2f} < independent {table['independent']['nats']:.2f} nats",
               fvsbn_nats < table["independent"]["nats"])

# %% [markdown]
# ## Summary
#
# * The chain rule makes $p(\mathbf{x})$ exact; the cost is in parametrising the
#   conditionals: $2^n - 1$ numbers for a table, $(n^2+n)/2$ for FVSBN, $\mathcal{O}(nd)$ for NADE.
# * FVSBN is one strictly lower-triangular masked linear layer.
# * NADE shares $W$ over the conditionals, which makes the hidden activations a running sum:
#   $\mathcal{O}(nd)$ instead of $\mathcal{O}(n^2 d)$.
# * MADE masks an autoencoder with degrees, $\le$ in the hidden layers and $<$ at the output;
#   the Jacobian proves the autoregressive property.
# * All are trained by teacher forcing in one pass and sampled in $n$ passes. Next (06b):
#   masked *convolutions* for images (PixelCNN) and audio (WaveNet).
