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
# # 4 Recurrent neural networks
#
# A recurrent network reads a sequence one element at a time and carries a state from one
# step to the next, so one set of weights serves sequences of any length. This notebook
# follows chapter 4 of *Machine Perception*, C. Perez Jensen, 2024
# (the notes): the Elman RNN and backpropagation through time (4.1), why
# its gradients vanish or explode, the LSTM cell that keeps them alive (4.2), and gradient
# clipping for the explosions that remain (4.3). It ends with the adding problem, a task
# that only a network with a long memory can solve.

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
from torch import nn

from mplib import exercises, plot, recurrent, rnn_gradients, runtime, sequences, train
from mplib import exercises_ch4 as ch4

runtime.setup(seed=0)

# %% [markdown]
# ## Shapes of sequence problems
#
# The notes sort sequence tasks by how many inputs and outputs they have:
#
# | kind | input | output | example |
# |---|---|---|---|
# | one to one | one input | one output | classifying one image (no sequence: chapters 1 to 3) |
# | one to many | one input (an image) | a sequence (the words of a caption) | image captioning |
# | many to one | a sequence (a review) | one output (how positive it is) | sentiment classification |
# | many to many, aligned | one element per step | one output per step | part-of-speech tagging |
# | many to many | a sequence in one language | a sequence of a different length | machine translation |
#
# > **Erratum (4.1).** The notes give part-of-speech tagging as the example of "one to one";
# > it is the aligned many-to-many case, one tag for each word of a sequence.
#
# The adding problem at the end of this notebook is *many to one*: a whole sequence in, one
# number out.

# %% [markdown]
# ## 4.1 Elman RNN
#
# The Elman network keeps a hidden vector $\boldsymbol h^{(t)}$ that summarises the inputs seen
# so far. Each step mixes the previous state with the new input and squashes the result
# with $\tanh$; a linear read-out turns the state into a prediction:
#
# $$\boldsymbol h^{(t)} = \tanh\left(\boldsymbol W_h \boldsymbol h^{(t-1)} + \boldsymbol W_x \boldsymbol x^{(t)}\right),
# \qquad \hat{\boldsymbol y}^{(t)} = \boldsymbol W_y \boldsymbol h^{(t)},
# \qquad \mathcal L = \sum_{t=1}^{T} \ell^{(t)}.$$
#
# The same $\boldsymbol W_h, \boldsymbol W_x, \boldsymbol W_y$ are used at every step. Below, `x` has one
# row per time step and `h[0]` is the initial state $\boldsymbol h^{(0)} = \boldsymbol 0$.

# %%
def elman_forward(x, W_h, W_x, W_y, h0=None):
    """h^(t) = tanh(W_h h^(t-1) + W_x x^(t)), ŷ^(t) = W_y h^(t); x has shape (T, D)."""
    h = [torch.zeros(W_h.shape[0], dtype=x.dtype) if h0 is None else h0]
    y_hat = []
    for t in range(1, len(x) + 1):
        h.append(torch.tanh(W_h @ h[t - 1] + W_x @ x[t - 1]))  # x[t - 1] is x^(t)
        y_hat.append(W_y @ h[t])
    return torch.stack(h), torch.stack(y_hat)


D, H, K, T = 3, 5, 2, 6  # input size, hidden size, output size, sequence length
x = torch.randn(T, D, dtype=torch.float64)
W_h = 0.5 * torch.randn(H, H, dtype=torch.float64)
W_x = torch.randn(H, D, dtype=torch.float64)
W_y = torch.randn(K, H, dtype=torch.float64)
h, y_hat = elman_forward(x, W_h, W_x, W_y)
print("h:", tuple(h.shape), "(h^(0) .. h^(T))   ŷ:", tuple(y_hat.shape))

# %% [markdown]
# **Check against `torch.nn.RNN`.** PyTorch computes
# $\tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})$: it names $\boldsymbol W_x$ `weight_ih_l0` and
# $\boldsymbol W_h$ `weight_hh_l0`, and it adds *two* biases. The notes have no bias, so we build the
# layer with `bias=False` and copy our weights in. (With `bias=True` the two biases only ever
# appear as their sum $b_{ih} + b_{hh}$: the second check shows that.)

# %%
rnn = nn.RNN(D, H, nonlinearity="tanh", bias=False, batch_first=True).double()
with torch.no_grad():
    rnn.weight_ih_l0.copy_(W_x)
    rnn.weight_hh_l0.copy_(W_h)
out, h_T = rnn(x[None])  # a batch of one sequence
torch.testing.assert_close(out[0], h[1:])
torch.testing.assert_close(h_T[0, 0], h[-1])

rnn_b = nn.RNN(D, H, bias=True, batch_first=True).double()
with torch.no_grad():
    b = rnn_b.bias_ih_l0 + rnn_b.bias_hh_l0
    h_b = [torch.zeros(H, dtype=torch.float64)]
    for t in range(T):
        h_b.append(torch.tanh(rnn_b.weight_hh_l0 @ h_b[-1] + rnn_b.weight_ih_l0 @ x[t] + b))
    torch.testing.assert_close(rnn_b(x[None])[0][0], torch.stack(h_b[1:]))
print("our Elman RNN equals nn.RNN (without biases, and with both biases summed)")

# %% [markdown]
# ### Backpropagation through time
#
# Unrolled over $T$ steps, the RNN is a deep feed-forward network whose layers share their
# weights, and backpropagation on that graph is called *backpropagation through time*.
# With the loss $\ell^{(t)} = \tfrac12\|\hat{\boldsymbol y}^{(t)} - \boldsymbol y^{(t)}\|^2$ the error
# $\boldsymbol\delta^{(t)} = \partial\mathcal L/\partial \boldsymbol h^{(t)}$ gets two contributions, one from
# the read-out at step $t$ and one from the next step:
#
# $$\boldsymbol\delta^{(t)} = \boldsymbol W_y^\top(\hat{\boldsymbol y}^{(t)} - \boldsymbol y^{(t)})
#   + \boldsymbol W_h^\top\big(\sigma'(\boldsymbol a^{(t+1)}) \odot \boldsymbol\delta^{(t+1)}\big),
# \qquad \boldsymbol a^{(t)} = \boldsymbol W_h \boldsymbol h^{(t-1)} + \boldsymbol W_x \boldsymbol x^{(t)},$$
#
# and each weight collects its gradient from every step, e.g.
# $\partial\mathcal L/\partial \boldsymbol W_h = \sum_t \big(\sigma'(\boldsymbol a^{(t)})\odot\boldsymbol\delta^{(t)}\big)\,\boldsymbol h^{(t-1)\top}$.

# %% [markdown]
# **Your turn (implement): one step of BPTT.** Going back through step $t$ takes
# $\boldsymbol\delta^{(t)}$ (both contributions already added) and returns this step's terms of the
# weight gradients and the part of $\boldsymbol\delta^{(t-1)}$ that comes through step $t$:
#
# $$\frac{\partial\mathcal L}{\partial \boldsymbol W_h} \mathrel{+}= \big(\sigma'(\boldsymbol a^{(t)})\odot\boldsymbol\delta^{(t)}\big)\boldsymbol h^{(t-1)\top},
# \quad \frac{\partial\mathcal L}{\partial \boldsymbol W_x} \mathrel{+}= \big(\sigma'(\boldsymbol a^{(t)})\odot\boldsymbol\delta^{(t)}\big)\boldsymbol x^{(t)\top},
# \quad \text{carry} = \boldsymbol W_h^\top\big(\sigma'(\boldsymbol a^{(t)})\odot\boldsymbol\delta^{(t)}\big).$$
#
# The forward pass kept $\boldsymbol h^{(t)} = \tanh(\boldsymbol a^{(t)})$, not $\boldsymbol a^{(t)}$: write
# $\tanh'(\boldsymbol a^{(t)})$ with $\boldsymbol h^{(t)}$. Return `(dW_h, dW_x, carry)`. The cell after the
# check runs your step over a whole sequence and compares with autograd.

# %% nbgrader={"grade": false, "grade_id": "bptt_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bptt_step(delta, h_t, h_prev, x_t, W_h):
    """δ^(t) = ∂L/∂h^(t) -> (this step's ∂L/∂W_h, ∂L/∂W_x, W_hᵀ(σ'(a^(t)) ⊙ δ^(t)))."""
    ### BEGIN SOLUTION
    da = (1 - h_t ** 2) * delta                 # tanh'(a^(t)) = 1 − h^(t)²
    return torch.outer(da, h_prev), torch.outer(da, x_t), W_h.T @ da
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_bptt_step", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch4.check_bptt_step(bptt_step)

# %%
step = exercises.yours_or_reference(bptt_step, ch4.bptt_step, ch4.BPTT_CASES, name="bptt_step")


def elman_bptt(x, y, W_h, W_x, W_y):
    """Gradients of L = Σ_t ½‖ŷ^(t) − y^(t)‖² by backpropagation through time."""
    h, y_hat = elman_forward(x, W_h, W_x, W_y)
    dW_h, dW_x, dW_y = torch.zeros_like(W_h), torch.zeros_like(W_x), torch.zeros_like(W_y)
    carry = torch.zeros(W_h.shape[0], dtype=x.dtype)  # W_hᵀ(σ'(a^(t+1)) ⊙ δ^(t+1))
    for t in range(len(x), 0, -1):
        e = y_hat[t - 1] - y[t - 1]                 # ∂ℓ^(t)/∂ŷ^(t)
        delta = W_y.T @ e + carry                   # δ^(t) = ∂L/∂h^(t)
        dW_y += torch.outer(e, h[t])
        dW_h_t, dW_x_t, carry = step(delta, h[t], h[t - 1], x[t - 1], W_h)
        dW_h += dW_h_t
        dW_x += dW_x_t
    return dW_h, dW_x, dW_y


y = torch.randn(T, K, dtype=torch.float64)
grads = elman_bptt(x, y, W_h, W_x, W_y)

params = [W.clone().requires_grad_() for W in (W_h, W_x, W_y)]
L = 0.5 * ((elman_forward(x, *params)[1] - y) ** 2).sum()
L.backward()
for name, mine, p in zip(["W_h", "W_x", "W_y"], grads, params):
    torch.testing.assert_close(mine, p.grad)
print("BPTT by hand equals autograd for W_h, W_x and W_y")

# %% [markdown]
# ### The product of Jacobians
#
# The notes write the gradient of one loss term as a sum over the earlier steps $k$, and
# isolate the factor that carries the error from step $t$ back to step $k$:
#
# $$\frac{\partial \boldsymbol h^{(t)}}{\partial \boldsymbol h^{(k)}} = \prod_{i=k+1}^{t}\frac{\partial \boldsymbol h^{(i)}}{\partial \boldsymbol h^{(i-1)}}
#   = \prod_{i=k+1}^{t} \boldsymbol W_h^\top \operatorname{diag}\big(\sigma'(\boldsymbol a^{(i)})\big).$$
#
# Written with $\boldsymbol W_h^\top$ on the left, the product (taken from $i = k+1$ on the
# left to $i = t$ on the right) is the *transpose* of the usual Jacobian, whose entry $(j, l)$
# is $\partial h^{(t)}_j/\partial h^{(k)}_l$: in the notes' product the rows belong to
# $\boldsymbol h^{(k)}$ and the columns to $\boldsymbol h^{(t)}$. A matrix and its transpose have the same
# norm, so nothing below depends on which of the two we use. We build the product factor by
# factor and compare
# with `torch.autograd.functional.jacobian` of the map $\boldsymbol h^{(k)} \mapsto \boldsymbol h^{(t)}$.

# %%
def jacobian_product(x, W_h, W_x, t, k):
    """∏_{i=k+1}^{t} W_hᵀ diag(σ'(a^(i))), the notes' form of ∂h^(t)/∂h^(k) (transposed)."""
    h, _ = elman_forward(x, W_h, W_x, torch.zeros(1, W_h.shape[0], dtype=x.dtype))
    P = torch.eye(W_h.shape[0], dtype=x.dtype)
    for i in range(k + 1, t + 1):
        a_i = W_h @ h[i - 1] + W_x @ x[i - 1]
        P = P @ W_h.T @ torch.diag(1 - torch.tanh(a_i) ** 2)
    return P


def run_from(h_k, x, W_h, W_x, t, k):
    """h^(t) as a function of h^(k): the steps k+1, ..., t of the recursion."""
    for i in range(k + 1, t + 1):
        h_k = torch.tanh(W_h @ h_k + W_x @ x[i - 1])
    return h_k


t, k = 6, 2
J = torch.autograd.functional.jacobian(lambda hk: run_from(hk, x, W_h, W_x, t, k), h[k])
torch.testing.assert_close(jacobian_product(x, W_h, W_x, t, k), J.T)
print(f"∏ W_hᵀ diag(σ') for t = {t}, k = {k} equals the autograd Jacobian (transposed); "
      f"its norm is {torch.linalg.matrix_norm(J, ord=2):.4f}")

# %% [markdown]
# With that factor the notes' sum over $k$ for $\partial\ell^{(t)}/\partial \boldsymbol W_h$ can be
# evaluated literally, term by term: $\partial^+\boldsymbol h^{(k)}/\partial \boldsymbol W_h$ (the
# *immediate* derivative, $\boldsymbol h^{(k-1)}$ held fixed) contributes
# $\sigma'(\boldsymbol a^{(k)}) \odot \boldsymbol\delta \,\boldsymbol h^{(k-1)\top}$. Summed over $t$ it must give the same
# gradient as the recursion above.

# %%
h, y_hat = elman_forward(x, W_h, W_x, W_y)
dW_h_sum = torch.zeros_like(W_h)
for t in range(1, T + 1):
    dl_dh_t = W_y.T @ (y_hat[t - 1] - y[t - 1])  # (∂ℓ^(t)/∂ŷ^(t)) (∂ŷ^(t)/∂h^(t))
    for k in range(1, t + 1):
        dl_dh_k = jacobian_product(x, W_h, W_x, t, k) @ dl_dh_t  # through ∂h^(t)/∂h^(k)
        a_k = W_h @ h[k - 1] + W_x @ x[k - 1]
        dW_h_sum += torch.outer((1 - torch.tanh(a_k) ** 2) * dl_dh_k, h[k - 1])
torch.testing.assert_close(dW_h_sum, grads[0])
print("the notes' double sum over t and k equals BPTT for ∂L/∂W_h")

# %% [markdown]
# ### Vanishing and exploding gradients, stated correctly
#
# Each factor of the product has norm at most
# $\|\boldsymbol W_h\|\,\|\operatorname{diag}(\sigma')\| \le \sigma_{\max}(\boldsymbol W_h)\,\gamma$,
# where $\gamma = \sup|\sigma'|$ ($1$ for tanh, $\tfrac14$ for the logistic sigmoid) and
# $\|\boldsymbol W_h\| = \sigma_{\max}(\boldsymbol W_h)$ is the spectral norm, the **largest singular
# value**. Hence
#
# $$\left\|\frac{\partial \boldsymbol h^{(t)}}{\partial \boldsymbol h^{(k)}}\right\| \le \big(\gamma\,\sigma_{\max}(\boldsymbol W_h)\big)^{t-k},$$
#
# which vanishes geometrically when $\sigma_{\max}(\boldsymbol W_h) < 1/\gamma$. When
# $\sigma_{\max}(\boldsymbol W_h) > 1/\gamma$ the bound exceeds one, which *allows* the gradient to
# explode but does not force it (saturated units have $\sigma' \approx 0$).
#
# > **Erratum (4.1).** The notes' case 1 reads $\lambda_1 < \tfrac12$; it should read
# > $< 1/\gamma$. And both cases must use the norm $\|\boldsymbol W_h\| = \sigma_{\max}$, not the
# > largest eigenvalue $\lambda_1$. The footnote's $\|\boldsymbol W_h\| = \lambda_1$ is false in
# > general: for a normal (e.g. symmetric) matrix $\|\boldsymbol W_h\| = \max_j|\lambda_j|$, the largest
# > eigenvalue in absolute value, and for other matrices $\|\boldsymbol W_h\|$ can be far larger.
#
# First the bound, for every pair $k < t$ of the small RNN above:

# %%
gamma = 1.0  # sup |tanh'|
sigma_max = torch.linalg.matrix_norm(W_h, ord=2)
worst = 0.0
for t in range(1, T + 1):
    for k in range(t):
        norm = torch.linalg.matrix_norm(jacobian_product(x, W_h, W_x, t, k), ord=2)
        assert norm <= (gamma * sigma_max) ** (t - k) + 1e-12
        worst = max(worst, float(norm / (gamma * sigma_max) ** (t - k)))
print(f"σ_max(W_h) = {sigma_max:.3f}; ‖∂h(t)/∂h(k)‖ ≤ (γ σ_max)^(t−k) for all k < t "
      f"(largest ratio {worst:.3f})")

# %% [markdown]
# **Your turn (break it): a $\boldsymbol W_h$ that breaks the notes' case 1.** Case 1 as printed
# promises $\|\partial\boldsymbol h^{(t)}/\partial\boldsymbol h^{(k)}\| < 1$ at every distance when
# $\lambda_1 < \tfrac12$. Find a square $\boldsymbol W_h$ whose eigenvalues all have $|\lambda| < \tfrac12$,
# yet whose gradient norm exceeds 1 at some distance $T - k$. The check runs the RNN from
# $\boldsymbol h^{(0)} = \boldsymbol 0$ with zero inputs: every $\tanh'$ is then 1 and
# $\partial\boldsymbol h^{(T)}/\partial\boldsymbol h^{(k)} = (\boldsymbol W_h^\top)^{T-k}$ exactly. (The eigenvalues of a
# triangular matrix are its diagonal entries.)

# %% nbgrader={"grade": false, "grade_id": "counterexample", "locked": false, "schema_version": 3, "solution": true, "task": false}
def counterexample_W_h():
    """A square matrix (tensor or array) with every |eigenvalue| < 1/2 whose ‖W_h^n‖ exceeds 1."""
    ### BEGIN SOLUTION
    # triangular: eigenvalues 0.4; the large entries above the diagonal make it non-normal
    return 0.4 * torch.eye(4) + torch.diag(torch.full((3,), 2.0), 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_counterexample", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch4.check_counterexample(counterexample_W_h)

# %% [markdown]
# One such matrix in a run with (small) inputs: $0.45$ on the diagonal and $1$ just above it,
# $8 \times 8$. Its eigenvalues are all $0.45$: below the printed $\tfrac12$, and below
# $1/\gamma = 1$ of the corrected condition stated with eigenvalues. Its largest singular value
# is above 1 (printed below), and with small inputs ($\tanh' \approx 1$) the gradient norm grows for a
# few steps before the eigenvalues win.

# %%
H_nn, T_nn = 8, 50
W_h_nn = (0.45 * torch.eye(H_nn) + torch.diag(torch.ones(H_nn - 1), 1)).double()
g_nn = torch.Generator().manual_seed(0)  # one fixed counterexample: MPLIB_SEED_OFFSET leaves it alone
W_x_nn = torch.randn(H_nn, 1, dtype=torch.float64, generator=g_nn)
x_nn = 0.01 * torch.randn(T_nn, 1, dtype=torch.float64, generator=g_nn)

rho = torch.linalg.eigvals(W_h_nn).abs().max()  # spectral radius |λ₁|
sigma_max_nn = torch.linalg.matrix_norm(W_h_nn, ord=2)
J_steps = rnn_gradients.elman_step_jacobians(W_h_nn.numpy(), W_x_nn.numpy(), x_nn.numpy())
log_norm = rnn_gradients.log_norms_back(J_steps)  # ln ‖∂h(T)/∂h(k)‖ for T − k = 0, 1, ...
n = np.arange(T_nn + 1)
# the same numbers by the notes' product, at one distance, as a check of the helper
torch.testing.assert_close(
    torch.linalg.matrix_norm(jacobian_product(x_nn, W_h_nn, W_x_nn, T_nn, T_nn - 10), ord=2),
    torch.tensor(math.exp(log_norm[10]), dtype=torch.float64))
print(f"largest |eigenvalue| |λ₁| = {rho:.2f} < ½,  largest singular value σ_max = {sigma_max_nn:.2f}")
print(f"largest gradient norm: {np.exp(log_norm).max():.3g} at T − k = {log_norm.argmax()} "
      f"(the notes' case 1, λ₁ < ½, claims < 1 at every distance)")
assert rho < 0.5 and np.exp(log_norm).max() > 5
assert np.all(log_norm <= n * math.log(gamma * sigma_max_nn) + 1e-9)

fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.plot(n, log_norm, lw=2, label="ln ‖∂h(T)/∂h(k)‖ (computed)")
ax.plot(n, n * math.log(gamma * sigma_max_nn), "--", label="ln (γ σ_max)^(T−k): the bound")
ax.plot(n, n * math.log(gamma * rho), ":", lw=2, label="ln (γ |λ₁|)^(T−k): not a bound")
ax.axhline(0.0, color="gray", lw=0.8)
ax.set(xlabel="T − k", ylabel="natural log", ylim=(-20, 8),
       title="Non-normal W_h: eigenvalues 0.45 < ½, gradient grows anyway")
ax.legend(loc="lower left");

# %% [markdown]
# The notes' case 2 fails the other way: $\sigma_{\max}(\boldsymbol W_h) > 1/\gamma$ only says that the
# *upper bound* grows, and an upper bound above 1 proves nothing about the gradient itself.
# With a random $\boldsymbol W_h$ of largest singular value 2, tanh units saturate
# ($\tanh' \ll 1$) and the gradient still vanishes:

# %%
weights = rnn_gradients.RandomWeights(hidden=32, T_max=100, seed=0)
curves = rnn_gradients.gradient_curves(weights, scale=2.0, activation="tanh", T=100)
print(f"σ_max(W_h) = 2 > 1/γ: the bound allows ln‖∂h(T)/∂h(k)‖ up to {curves['bound'][-1]:+.1f} "
      f"at T − k = 100, the gradient has {curves['elman'][-1]:+.1f}")
assert curves["elman"][-1] < -5 < curves["bound"][-1]

# %% [markdown]
# ## 4.2 Long-short term memory
#
# The LSTM adds a second state, the cell $\boldsymbol c^{(t)}$, that is changed only by an
# element-wise scaling and an addition. Four small layers read
# $(\boldsymbol h^{(t-1)}, \boldsymbol x^{(t)})$: the forget gate $\boldsymbol f$ scales the old cell, the input
# gate $\boldsymbol i$ chooses how much of the candidate $\boldsymbol g$ to write, and the output gate
# $\boldsymbol o$ chooses what of the squashed cell becomes the new hidden state:
#
# $$\begin{aligned}
# \boldsymbol f^{(t)} &= \sigma(\boldsymbol W_{hf}\boldsymbol h^{(t-1)} + \boldsymbol W_{xf}\boldsymbol x^{(t)}), &
# \boldsymbol i^{(t)} &= \sigma(\boldsymbol W_{hi}\boldsymbol h^{(t-1)} + \boldsymbol W_{xi}\boldsymbol x^{(t)}),\\
# \boldsymbol o^{(t)} &= \sigma(\boldsymbol W_{ho}\boldsymbol h^{(t-1)} + \boldsymbol W_{xo}\boldsymbol x^{(t)}), &
# \boldsymbol g^{(t)} &= \tanh(\boldsymbol W_{hg}\boldsymbol h^{(t-1)} + \boldsymbol W_{xg}\boldsymbol x^{(t)}),\\
# \boldsymbol c^{(t)} &= \boldsymbol f^{(t)}\odot \boldsymbol c^{(t-1)} + \boldsymbol i^{(t)}\odot \boldsymbol g^{(t)}, &
# \boldsymbol h^{(t)} &= \boldsymbol o^{(t)}\odot\tanh(\boldsymbol c^{(t)}).
# \end{aligned}$$
#
# Along the cell, one step back multiplies the gradient by $\operatorname{diag}(\boldsymbol f^{(t)})$
# only: no $\boldsymbol W_h$ and no squashing derivative, so with $\boldsymbol f \approx 1$ the error
# travels far (the widget below). The notes leave out biases; the code takes an optional
# bias per gate (`b`), which a trained LSTM uses.
#
# > **Erratum (4.2).** The notes' bullets say that $\boldsymbol f$ scales the old state
# > "$\boldsymbol h^{(t-1)}$" and that $\boldsymbol g$ writes to "$\boldsymbol h^{(t)}$"; both are the cell:
# > $\boldsymbol f$ scales $\boldsymbol c^{(t-1)}$ and $\boldsymbol g$ is written into $\boldsymbol c^{(t)}$, as the
# > equations above say.

# %%
GATES = ("f", "i", "o", "g")


def lstm_cell(x_t, h_prev, c_prev, W, b=None):
    """One LSTM step from the gate equations; W maps 'hf', 'xf', ... to matrices."""
    b = b or {gate: 0.0 for gate in GATES}
    f = torch.sigmoid(W["hf"] @ h_prev + W["xf"] @ x_t + b["f"])
    i = torch.sigmoid(W["hi"] @ h_prev + W["xi"] @ x_t + b["i"])
    o = torch.sigmoid(W["ho"] @ h_prev + W["xo"] @ x_t + b["o"])
    g = torch.tanh(W["hg"] @ h_prev + W["xg"] @ x_t + b["g"])
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c, {"f": f, "i": i, "o": o, "g": g}


def lstm_forward(x, W, b=None):
    """Run the cell over x of shape (T, D) from h = c = 0; return every h, every c, the gates."""
    H = W["hf"].shape[0]
    h, c = torch.zeros(H, dtype=x.dtype), torch.zeros(H, dtype=x.dtype)
    hs, cs, gates = [], [], {gate: [] for gate in GATES}
    for x_t in x:
        h, c, gate_values = lstm_cell(x_t, h, c, W, b)
        hs.append(h)
        cs.append(c)
        for gate in GATES:
            gates[gate].append(gate_values[gate])
    return torch.stack(hs), torch.stack(cs), {gate: torch.stack(v) for gate, v in gates.items()}


# %% [markdown]
# **Check against `torch.nn.LSTM`.** PyTorch stacks the four input matrices into one
# `weight_ih_l0` of shape $(4H, D)$ and the four recurrent ones into `weight_hh_l0`: four row
# blocks of $H$ rows each, one per gate. Its order is not the notes' f, i, o, g.
#
# **Your turn (break it): PyTorch's gate order.** Cut the blocks in the notes' order and the
# check below breaks: our cell computes a different $\boldsymbol h$ from `nn.LSTM`'s. Which order
# makes it pass? Try orders in `weights_from_torch` (below), or read the documentation of
# `nn.LSTM`, and let `torch_gate_order` return the four letters in PyTorch's order. For a wrong
# order the check says how far our cell's $\boldsymbol h$ lands from PyTorch's.

# %% nbgrader={"grade": false, "grade_id": "torch_gate_order", "locked": false, "schema_version": 3, "solution": true, "task": false}
def torch_gate_order():
    """The gates of the row blocks of weight_ih_l0, top to bottom, e.g. ("f", "i", "o", "g")."""
    ### BEGIN SOLUTION
    return ("i", "f", "g", "o")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_torch_gate_order", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch4.check_torch_gate_order(torch_gate_order)

# %%
# The row blocks of weight_ih_l0 / weight_hh_l0, as the check above confirms: the cells below
# cut the matrices by these names, so a wrong order fails their assert_close.
TORCH_ORDER = ch4.TORCH_GATE_ORDER


def weights_from_torch(lstm, layer=0):
    """The notes' W_hf, W_xf, ... (and the summed biases) from layer `layer` of an nn.LSTM."""
    W_ih = getattr(lstm, f"weight_ih_l{layer}").detach()
    W_hh = getattr(lstm, f"weight_hh_l{layer}").detach()
    blocks_x, blocks_h = W_ih.chunk(4), W_hh.chunk(4)
    W = {}
    for gate, Wx_block, Wh_block in zip(TORCH_ORDER, blocks_x, blocks_h):
        W["x" + gate], W["h" + gate] = Wx_block, Wh_block
    b = None
    if lstm.bias:
        b_sum = (getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")).detach()
        b = dict(zip(TORCH_ORDER, b_sum.chunk(4)))
    return W, b


D, H, T = 3, 4, 7
x = torch.randn(T, D, dtype=torch.float64)
lstm = nn.LSTM(D, H, bias=False, batch_first=True).double()
W, _ = weights_from_torch(lstm)
h_mine, c_mine, _ = lstm_forward(x, W)
out, (h_n, c_n) = lstm(x[None])
torch.testing.assert_close(h_mine, out[0])
torch.testing.assert_close(c_mine[-1], c_n[0, 0])

lstm_b = nn.LSTM(D, H, bias=True, batch_first=True).double()  # now with both biases
W, b = weights_from_torch(lstm_b)
torch.testing.assert_close(lstm_forward(x, W, b)[0], lstm_b(x[None])[0][0])
print("our LSTM cell equals nn.LSTM (gate order i, f, g, o mapped to f, i, o, g)")

# %% [markdown]
# **Stacked layers.** Chaining LSTMs means feeding the hidden states of one layer to the
# next as its inputs: $\boldsymbol x^{(t)}$ of layer 2 is $\boldsymbol h^{(t)}$ of layer 1. That is what
# `nn.LSTM(num_layers=2)` does.

# %%
lstm2 = nn.LSTM(D, H, num_layers=2, bias=False, batch_first=True).double()
h_layer1, _, _ = lstm_forward(x, weights_from_torch(lstm2, layer=0)[0])
h_layer2, c_layer2, _ = lstm_forward(h_layer1, weights_from_torch(lstm2, layer=1)[0])
out2, (h_n2, c_n2) = lstm2(x[None])
torch.testing.assert_close(h_layer2, out2[0])
torch.testing.assert_close(torch.stack([h_layer1[-1], h_layer2[-1]]), h_n2[:, 0])
torch.testing.assert_close(c_layer2[-1], c_n2[1, 0])
print("two chained cells equal nn.LSTM(num_layers=2)")

# %% [markdown]
# ### Vanishing gradients in the LSTM
#
# **Your turn (predict): the forget gate with no bias.** Suppose for a moment that the forget
# gate's pre-activation is its bias $b_f$ alone (all its weights zero). Then
# $\boldsymbol f^{(t)} = \sigma(b_f)$ at every step and along the cell alone
# $\partial\boldsymbol c^{(T)}/\partial\boldsymbol c^{(k)} = \operatorname{diag}(\boldsymbol f)^{T-k}$. The notes'
# LSTM has no bias: $b_f = 0$. Predict $\ln\|\partial\boldsymbol c^{(T)}/\partial\boldsymbol c^{(k)}\|$ at
# $T - k = 60$ (natural log, to within 0.5). The cell after the check compares it with the
# whole LSTM of the widget below, whose weights are not zero.

# %% nbgrader={"grade": false, "grade_id": "forget_prediction", "locked": false, "schema_version": 3, "solution": true, "task": false}
def forget_prediction():
    """ln ‖∂c(T)/∂c(k)‖ at T − k = 60 when f = σ(0) at every step."""
    ### BEGIN SOLUTION
    return 60 * math.log(1 / (1 + math.exp(-0.0)))   # 60 factors of σ(0) = ½
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_forget_prediction", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch4.check_forget_prediction(forget_prediction)

# %%
# NBVAL_CHECK_OUTPUT
weights = rnn_gradients.RandomWeights(hidden=32, T_max=100, seed=0)  # the widget's weights
lag, lstm_at_lag = 60, {}
for b_f in (0.0, 3.0):
    curves = rnn_gradients.gradient_curves(weights, scale=1.0, activation="tanh", T=lag, b_f=b_f)
    lstm_at_lag[b_f], elman_at_lag = curves["lstm"][-1], curves["elman"][-1]
    print(f"σ_max(W_h) = 1, b_f = {b_f:g}: ln‖∂h(T)/∂(h, c)(k)‖ at T − k = {lag}: LSTM "
          f"{curves['lstm'][-1]:+.1f}, Elman {curves['elman'][-1]:+.1f}; "
          f"{lag} ln σ(b_f) = {lag * math.log(1 / (1 + math.exp(-b_f))):+.1f}")

# %% [markdown]
# With the notes' $b_f = 0$ the LSTM's gradient vanishes too: slower than the Elman cell's,
# but by many orders of magnitude over 60 steps (the numbers above), since its forget gates
# sit near $\sigma(0) = \tfrac12$. A forget-gate bias of a few units opens the gates
# ($\sigma(3) \approx 0.95$) and the gradient barely decays. Practical LSTMs therefore
# initialise $b_f$ at 1 or more, a choice the notes leave out.
#
# ### Widget: vanishing gradients
#
# Fixed random weights (seeded) whose recurrent matrices are rescaled to a chosen largest
# singular value. The blue curve is $\ln\|\partial \boldsymbol h^{(T)}/\partial \boldsymbol h^{(k)}\|$ of an Elman
# cell, the dashed line the bound with slope $\ln(\gamma\,\sigma_{\max})$: the curve never rises
# above it. Try σ_max below and above $1/\gamma = 1$ for tanh; with the sigmoid
# ($1/\gamma = 4$, beyond the slider) every setting vanishes, and fast. The green curve is the
# LSTM with recurrent blocks of the same scale. Its state is the pair $(\boldsymbol h, \boldsymbol c)$, so
# its curve is $\ln\|\partial \boldsymbol h^{(T)}/\partial (\boldsymbol h, \boldsymbol c)^{(k)}\|$. It starts at the notes'
# $b_f = 0$; raise $b_f$ and watch it flatten. The Jacobians come from the explicit recursion
# in `mplib.rnn_gradients`, whose step Jacobians are tested against autograd.

# %%
from mplib.widgets.vanishing import VanishingGradientWidget

VanishingGradientWidget()

# %% [markdown]
# What the gates do on real data is easier to see in a trained network: the plot of the gate
# activations over a sequence comes after the adding problem below.
#
# ## 4.3 Gradient clipping
#
# LSTMs with forget gates near 1 keep gradients from vanishing, but nothing stops them (or
# an Elman RNN) from exploding: one huge gradient step can throw the weights far away, after
# which the loss
# becomes huge or NaN. Clipping caps the length of the step, keeping its direction:
#
# $$\theta \leftarrow \begin{cases}\theta - \gamma\, \boldsymbol g & \|\boldsymbol g\| \le T,\\
#   \theta - \gamma\, T\, \dfrac{\boldsymbol g}{\|\boldsymbol g\|} & \text{otherwise,}\end{cases}$$
#
# with $\boldsymbol g$ the gradient (all parameters together, one vector), $\gamma$ the learning
# rate and $T$ the threshold.
#
# > **Notation (4.3).** The notes reuse two letters here: $T$ is the threshold, not the
# > sequence length, and $\gamma$ is the learning rate, not 4.1's bound $\sup|\sigma'|$.

# %% [markdown]
# **Your turn (implement): clipping by norm.** Write the notes' rule for one flat gradient
# vector `g` (a tensor): return `g` itself when $\|\boldsymbol g\| \le T$, and
# $T\,\boldsymbol g/\|\boldsymbol g\|$ otherwise (`torch.linalg.vector_norm` gives
# $\|\boldsymbol g\|$). `sgd_step_clipped` below uses your function once it passes.

# %% nbgrader={"grade": false, "grade_id": "clip_gradient", "locked": false, "schema_version": 3, "solution": true, "task": false}
def clip_gradient(g, T):
    """The notes' rule: g if ‖g‖ ≤ T, else T g / ‖g‖ (g is one flat vector)."""
    ### BEGIN SOLUTION
    norm = torch.linalg.vector_norm(g)
    return g if norm <= T else T * g / norm
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_clip_gradient", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch4.check_clip_gradient(clip_gradient)

# %%
clip = exercises.yours_or_reference(clip_gradient, ch4.clip_gradient, ch4.CLIP_CASES,
                                    name="clip_gradient")


def sgd_step_clipped(params, lr, T):
    """θ ← θ − γ clip(g): the gradients of all parameters are clipped as one vector."""
    g = torch.cat([p.grad.reshape(-1) for p in params])
    g = clip(g, T)
    with torch.no_grad():
        for p, g_p in zip(params, g.split([p.numel() for p in params])):
            p -= lr * g_p.view_as(p)


# %% [markdown]
# **Check against `torch.nn.utils.clip_grad_norm_`**, which rescales the gradients in place by
# $\min(1, T/(\|\boldsymbol g\| + 10^{-6}))$, hence the small tolerance, for a threshold below and
# one above the gradient's norm, and one clipped SGD step against `torch.optim.SGD`.

# %%
model = nn.RNN(2, 8, batch_first=True).double()
X_demo = torch.randn(4, 5, 2, dtype=torch.float64)
params = list(model.parameters())
for T_clip in (0.1, 1e3):
    model.zero_grad()
    (model(X_demo)[0] ** 2).sum().backward()
    g = torch.cat([p.grad.reshape(-1) for p in params])
    mine = clip(g, T_clip)
    total = nn.utils.clip_grad_norm_(params, max_norm=T_clip)
    torch.testing.assert_close(total, torch.linalg.vector_norm(g))  # it returns ‖g‖ before clipping
    torch.testing.assert_close(mine, torch.cat([p.grad.reshape(-1) for p in params]),
                               rtol=1e-5, atol=1e-8)
    print(f"T = {T_clip:g}: ‖g‖ = {float(total):.3f} -> clipped norm {float(mine.norm()):.3f}")

reference = nn.RNN(2, 8, batch_first=True).double()
reference.load_state_dict(model.state_dict())
for m in (model, reference):
    m.zero_grad()
    (m(X_demo)[0] ** 2).sum().backward()
sgd_step_clipped(params, lr=0.1, T=0.5)
nn.utils.clip_grad_norm_(reference.parameters(), max_norm=0.5)
torch.optim.SGD(reference.parameters(), lr=0.1).step()
for p, q in zip(model.parameters(), reference.parameters()):
    torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-7)
print("the notes' clipped step equals clip_grad_norm_ followed by an SGD step")

# %% [markdown]
# **Your turn (predict): one clipped step.** Two parameters $a = b = 0$ have the gradients
# $\partial\mathcal L/\partial a = 3$ and $\partial\mathcal L/\partial b = 4$. What are $a$ and $b$
# after one `sgd_step_clipped` with learning rate $\gamma = 0.1$ and threshold $T = 1$? Let
# `clipped_step_prediction` return `[a, b]`; the cell after the check takes the step.

# %% nbgrader={"grade": false, "grade_id": "clipped_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def clipped_step_prediction():
    """[a, b] after one clipped SGD step from a = b = 0 (gradients 3 and 4, γ = 0.1, T = 1)."""
    ### BEGIN SOLUTION
    norm = math.hypot(3.0, 4.0)               # all parameters form one vector: ‖(3, 4)‖ = 5 > T
    return [-0.1 * 1.0 * 3.0 / norm, -0.1 * 1.0 * 4.0 / norm]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_clipped_step", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch4.check_clipped_step(clipped_step_prediction)

# %%
# NBVAL_CHECK_OUTPUT
a, b = (nn.Parameter(torch.zeros(1, dtype=torch.float64)) for _ in range(2))
a.grad, b.grad = torch.tensor([3.0], dtype=torch.float64), torch.tensor([4.0], dtype=torch.float64)
sgd_step_clipped([a, b], lr=0.1, T=1.0)
print(f"after one clipped step: a = {a.item():.4f}, b = {b.item():.4f}")

# %% [markdown]
# **Explosion without clipping, learning with it.** A ReLU Elman network whose recurrent
# matrix starts at $1.2\,\boldsymbol I$ (all singular values 1.2, above $1/\gamma = 1$): along a
# sequence its states and gradients grow like $1.2^{T}$. We train it on the adding problem
# (described below) with $T = 10$, using the notebook's own `sgd_step_clipped`: plain SGD,
# no momentum, learning rate $0.1$, batches of 64, 2,000 steps, once with the threshold
# $T = 1$ and once with no threshold at all ($T = \infty$: the step is never clipped).

# %%
def relu_rnn(hidden=32, init=1.2):
    """An Elman network with ReLU units and W_h = init · I (inputs: value and marker)."""
    runtime.seed(0)
    model = recurrent.SequenceRegressor("elman", input_size=2, hidden_size=hidden)
    model.rnn = nn.RNN(2, hidden, nonlinearity="relu", batch_first=True)
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(init * torch.eye(hidden))
    return model


def train_clipped(model, X, y, threshold, lr=0.1, steps=2000, batch=64):
    """Minibatch SGD with the notes' clipped step; returns the loss of every step."""
    params = list(model.parameters())
    order = torch.Generator().manual_seed(runtime.shift(3))
    per_epoch = len(X) // batch
    losses = []
    for step in runtime.capped_range(steps):
        if step % per_epoch == 0:
            perm = torch.randperm(len(X), generator=order)
        idx = perm[(step % per_epoch) * batch:(step % per_epoch + 1) * batch]
        model.zero_grad()
        loss = ((model(X[idx]) - y[idx]) ** 2).mean()
        loss.backward()
        sgd_step_clipped(params, lr, threshold)
        losses.append(loss.item())
    return np.array(losses)


X_clip, y_clip = sequences.adding_problem(2000, 10, seed=11)
X_clip_test, y_clip_test = sequences.adding_problem(500, 10, seed=12)
baseline_clip = sequences.constant_baseline_mse(y_clip, y_clip_test)
runs, test_mse, spread = {}, {}, {}
for threshold in (math.inf, 1.0):
    model = relu_rnn()
    runs[threshold] = train_clipped(model, X_clip, y_clip, threshold)
    with torch.no_grad():
        pred = model(X_clip_test)
    test_mse[threshold] = float(((pred - y_clip_test) ** 2).mean())
    spread[threshold] = float(pred.std())
    print(f"threshold {threshold:g}: largest training loss {np.nanmax(runs[threshold]):.3g}, "
          f"test MSE {test_mse[threshold]:.4f}, spread (std) of its test predictions "
          f"{spread[threshold]:.3f}")
print(f"constant-prediction baseline: test MSE {baseline_clip:.4f}; the targets' std is "
      f"{float(y_clip_test.std()):.3f}")
runtime.target(f"without clipping one step blows the loss up: largest training loss "
               f"{np.nanmax(runs[math.inf]):.3g} > 1e6, and the model ends no better than the "
               f"constant: test MSE {test_mse[math.inf]:.4f} > 0.9 × baseline {baseline_clip:.4f}",
               np.nanmax(runs[math.inf]) > 1e6 and test_mse[math.inf] > 0.9 * baseline_clip)
runtime.target(f"with clipping at T = 1 it learns: test MSE {test_mse[1.0]:.4f} < 0.5 × "
               f"baseline {baseline_clip:.4f}", test_mse[1.0] < 0.5 * baseline_clip)

fig, ax = plt.subplots(figsize=(6.5, 3.0))
for threshold, losses in runs.items():
    label = "no clipping" if threshold == math.inf else f"clipped at ‖g‖ ≤ {threshold:g}"
    ax.semilogy(np.arange(1, len(losses) + 1), losses, lw=0.8, label=label)
ax.axhline(baseline_clip, color="gray", ls="--", label="constant prediction")
ax.set(xlabel="SGD step", ylabel="training MSE (one batch)",
       title="ReLU Elman RNN, W_h = 1.2 I, adding problem T = 10, SGD lr 0.1")
ax.legend(fontsize=8);

# %% [markdown]
# Without clipping, a few early steps are enormous (the training loss reaches the size printed
# above), and the network never recovers: its test predictions barely vary from one sequence
# to the next (their spread is printed above), so its error is the constant prediction's. The
# clipped run takes the same gradients' directions with steps of length at most
# $\gamma T = 0.1$, and learns the task.

# %% [markdown]
# ## Training: the adding problem
#
# Each input is a sequence of $T$ pairs (value, marker). The values are uniform on $[0, 1)$;
# exactly two markers are 1, one in the first half and one in the second; the target is the
# sum of the two marked values. To answer, the network has to remember a value seen up to $T$
# steps before the end, which is exactly where vanishing gradients hurt. A network that
# remembers nothing can only predict the mean, 1, with mean squared error
# $\operatorname{Var}(u_1 + u_2) = 2/12 = 1/6$: that is the baseline to beat.
# The generator is `mplib.sequences.adding_problem`; the model, `mplib.recurrent.SequenceRegressor`,
# wraps `nn.RNN` or `nn.LSTM` (hidden size 64) with a linear read-out of the last state
# (many to one).

# %%
runtime.summary()
T_seq = runtime.budget(quick=50, full=200)
n_train = runtime.budget(quick=8000, full=50000)
X_train, y_train = sequences.adding_problem(n_train, T_seq, seed=1)
X_test, y_test = sequences.adding_problem(2000, T_seq, seed=2)
baseline = sequences.constant_baseline_mse(y_train, y_test)
print(f"T = {T_seq}, {n_train} training and {len(X_test)} test sequences")
print(f"constant-prediction baseline MSE on the test set: {baseline:.4f} (theory 1/6 = {1 / 6:.4f})")

fig, ax = plt.subplots(figsize=(7, 2.4))
ax.bar(np.arange(T_seq), X_train[0, :, 0], color="lightgray", label="values")
marked = X_train[0, :, 1].nonzero().flatten()
ax.bar(marked, X_train[0, marked, 0], color=plot.COLORS[1], label="marked values")
ax.set(xlabel="t", ylabel="value",
       title=f"one input sequence; target = {X_train[0, marked, 0].tolist()[0]:.2f} + "
             f"{X_train[0, marked, 0].tolist()[1]:.2f} = {float(y_train[0]):.2f}")
ax.set_ylim(0, 1.3)
ax.legend(loc="upper left", ncol=2, fontsize=8);

# %%
epochs = runtime.budget(quick=14, full=30)
histories, models = {}, {}
for cell in ("lstm", "elman"):
    runtime.seed(0)
    models[cell] = recurrent.SequenceRegressor(cell, input_size=2, hidden_size=64)
    histories[cell] = train.fit(models[cell], (X_train, y_train), "mse", epochs=epochs,
                                lr=runtime.budget(quick=1e-2, full=3e-3), batch_size=128,
                                clip=1.0, test=(X_test, y_test), progress=False)
    print(f"{cell:5s}: {histories[cell]}")

mse = {cell: h.test_loss[-1] for cell, h in histories.items()}
print(f"test MSE  LSTM {mse['lstm']:.4f}   Elman {mse['elman']:.4f}   "
      f"constant baseline {baseline:.4f}")
target_lstm = runtime.budget(quick=0.05, full=0.01)
# how early the LSTM leaves the plateau: the margin of the target in epochs
below = [e for e, v in zip(histories["lstm"].epoch, histories["lstm"].test_loss) if v < target_lstm]
elman_floor = 0.8 * baseline  # "near the baseline": within 20 % of it
runtime.target(f"LSTM test MSE {mse['lstm']:.4f} < {target_lstm} ({runtime.mode()} mode; first "
               f"below it after epoch {below[0] if below else '(never)'} of "
               f"{len(histories['lstm'].epoch)})", mse["lstm"] < target_lstm)
runtime.target(f"Elman test MSE {mse['elman']:.4f} stays near the baseline: > {elman_floor:.4f}",
               mse["elman"] > elman_floor)

fig, ax = plt.subplots(figsize=(6.5, 3.2))
for cell, history in histories.items():
    ax.semilogy(history.epoch, history.test_loss, "o-", ms=3, label=f"{cell} (test)")
    ax.semilogy(history.epoch, history.train_loss, ":", color=ax.lines[-1].get_color(),
                label=f"{cell} (train)")
ax.axhline(baseline, color="gray", ls="--", label="constant prediction (1/6)")
ax.set(xlabel="epoch", ylabel="MSE", title=f"adding problem, T = {T_seq}")
ax.legend(fontsize=8);

# %% [markdown]
# ### 4.2 again: the memory of the trained LSTM
#
# We copy the trained `nn.LSTM` into our own `lstm_cell` (with the summed biases), check that
# it computes the same states, and look at one test sequence; the red marks are its two
# marked positions. A value written into the cell survives $n$ steps scaled by the product of
# the forget gates: with $f = 0.9$ only $0.9^{27} \approx 6\,\%$ of it is left after 27 steps,
# so only units whose forget gate stays very near 1 can carry a value from the first marker to
# the end. The left panel shows $\boldsymbol f$ for every unit; the middle one follows
# $c^{(t)}$ of the three units with the highest mean forget gate; the right one plots, over 500
# test sequences, the last cell state of the first of them against the target.

# %%
lstm_trained = models["lstm"].rnn.cpu()
W, b = weights_from_torch(lstm_trained)
x_seq = X_test[0]
h_seq, c_seq, gates = lstm_forward(x_seq, W, b)
with torch.no_grad():
    torch.testing.assert_close(h_seq, lstm_trained(x_seq[None])[0][0], rtol=1e-4, atol=1e-5)
    c_end = lstm_trained(X_test[:500])[1][1][0]  # c^(T) of 500 test sequences
c_seq, f_seq = c_seq.detach(), gates["f"].detach()

marks = x_seq[:, 1].nonzero().flatten().tolist()
f_mean = f_seq.mean(0)
keep = f_mean.argsort(descending=True)[:3].tolist()  # the units whose forget gate stays nearest 1
top = keep[0]
corr = float(np.corrcoef(c_end[:, top].numpy(), y_test[:500].numpy())[0, 1])

fig, axes = plt.subplots(1, 3, figsize=(12, 3.0), gridspec_kw={"width_ratios": [1.1, 1.3, 1]})
im = axes[0].imshow(f_seq.T, aspect="auto", cmap="viridis", vmin=0, vmax=1,
                    interpolation="nearest")
axes[0].plot(marks, [-1.5] * len(marks), "v", color="red", ms=7, clip_on=False)
axes[0].set(title="forget gate f", xlabel="t", ylabel="hidden unit")
axes[0].grid(False)
fig.colorbar(im, ax=axes[0], fraction=0.05)
for u in keep:
    axes[1].plot(np.arange(len(x_seq)), c_seq[:, u], lw=2,
                 label=f"unit {u}, mean f = {float(f_mean[u]):.3f}")
for m in marks:
    axes[1].axvline(m, color="red", ls=":", lw=1)
axes[1].set(title="cell state c(t) of the units with f nearest 1", xlabel="t", ylabel="c(t)")
axes[1].legend(fontsize=8)
axes[2].plot(y_test[:500], c_end[:, top], ".", ms=3)
axes[2].set(title=f"unit {top}: c(T) against the target", xlabel="target u₁ + u₂",
            ylabel="c(T)")
fig.tight_layout()

before, after = c_seq[marks[0] - 1, top], c_seq[marks[0], top]
between = c_seq[marks[0]:marks[1], top]
print(f"forget gate at every step above 0.9 in {int((f_seq.min(0).values > 0.9).sum())} of "
      f"{f_seq.shape[1]} units; the three highest means: "
      + ", ".join(f"{float(f_mean[u]):.3f}" for u in keep))
print(f"unit {top}: c = {float(before):.2f} before the first marker, {float(after):.2f} after it; "
      f"between the markers it moves by at most {float((between - after).abs().max()):.2f}; "
      f"c = {float(c_seq[marks[1], top]):.2f} after the second marker "
      f"(marked values {x_seq[marks[0], 0]:.2f} and {x_seq[marks[1], 0]:.2f})")
print(f"over 500 test sequences, correlation of unit {top}'s c(T) with the target: {corr:.3f}")
print(f"input gate, mean over all units: {float(gates['i'][marks].mean()):.2f} at the markers, "
      f"{float(gates['i'].mean()):.2f} over the whole sequence")

# %% [markdown]
# The printed numbers say what the network remembers, and where. Hardly any unit keeps $f$
# above 0.9 at *every* step (the count above), but the unit with the highest mean forget gate
# behaves like a memory register: its cell state steps at the first marker, stays nearly
# constant until the second, steps again there, and its last value follows the target across
# test sequences (a correlation near +1 or −1 above: the sign of a unit is arbitrary). The input gate, averaged over all units, is only slightly more
# open at the markers than elsewhere: the writing is done by a few units, and it shows in
# $\boldsymbol c$, not in the average of $\boldsymbol i$.

# %% [markdown]
# ## Summary
#
# * The Elman RNN $\boldsymbol h^{(t)} = \tanh(\boldsymbol W_h \boldsymbol h^{(t-1)} + \boldsymbol W_x \boldsymbol x^{(t)})$ matches
#   `nn.RNN`, and backpropagation through time is ordinary backpropagation on the unrolled graph.
# * The gradient from step $t$ back to step $k$ is a product of $t-k$ factors
#   $\boldsymbol W_h^\top\operatorname{diag}(\sigma')$, bounded by $(\gamma\,\sigma_{\max}(\boldsymbol W_h))^{t-k}$:
#   the largest singular value decides, not the largest eigenvalue (the notes' 4.1 writes
#   $\lambda_1 < \tfrac12$ and uses the eigenvalue).
# * The LSTM's additive cell update gives the error a path scaled only by the forget gate.
#   With the notes' bias-free gates ($f \approx \tfrac12$) that gradient vanishes too, only
#   slower; forget gates near 1 keep it. On the adding problem the LSTM reaches a small error
#   where the Elman RNN stays at the baseline, and its memory shows in the cell state of the
#   units whose forget gate stays near 1.
# * Clipping the gradient's norm keeps a single exploding step from wrecking training: the
#   ReLU RNN with $\boldsymbol W_h = 1.2\,\boldsymbol I$ learns the adding problem with clipped
#   SGD and ends at the constant baseline without it.

# %%
# The numbers of this run behind the summary
print(f"non-normal W_h, |λ₁| = {float(rho):.2f} < ½: gradient norm up to "
      f"{np.exp(log_norm).max():.3g} at T − k = {log_norm.argmax()}")
print(f"ln‖∂h(T)/∂(h, c)(k)‖ at T − k = {lag}, σ_max = 1: LSTM {lstm_at_lag[0.0]:+.1f} at b_f = 0 "
      f"(the notes' LSTM), {lstm_at_lag[3.0]:+.1f} at b_f = 3; Elman {elman_at_lag:+.1f}")
print(f"clipping, adding problem T = 10: test MSE {test_mse[1.0]:.4f} clipped, "
      f"{test_mse[math.inf]:.4f} without (constant baseline {baseline_clip:.4f})")
print(f"adding problem T = {T_seq}: test MSE LSTM {mse['lstm']:.4f}, Elman {mse['elman']:.4f} "
      f"(constant baseline {baseline:.4f})")
