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
# # 1 Neural networks
#
# This notebook follows chapter 1 of *Machine Perception*, C. Perez Jensen, 2024
# (the notes). We start from a single neuron with a hard
# threshold (Rosenblatt's perceptron), see where it breaks (XOR), and stack neurons into a
# multi-layer perceptron. Then we ask what to optimise (losses as negative log-likelihoods),
# how to get the gradient (backpropagation, by hand), why the non-linearity matters, and how
# much a single hidden layer can represent. The last cell trains an MLP on handwritten digits.
#
# Each section has exercises (**Your turn**): write a function from the section's equation
# (*implement*), give a number before the code reveals it (*predict*), or change one thing and
# say what breaks (*break it*). Your answer goes into the cell marked as the exercise; the cell
# after it checks it and tells you what is wrong. Start here to see how they work:
# [00_start_here](00_start_here.ipynb#Exercises). The chapter notebook in `notebooks/` has the
# solutions filled in; the student version in `exercises/` has blanks instead.

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
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import distributions as D
from torch.testing import assert_close

from mplib import data, exercises, models, perceptron, plot, runtime, train
from mplib import exercises_ch1 as ch1

runtime.setup(seed=0)

# %% [markdown]
# ## 1.1 Multi-layer perceptron
#
# Rosenblatt's perceptron is one neuron with a hard threshold: it fires when a weighted sum of
# its inputs is positive. Learning is error-driven: whenever an example is misclassified, the
# weights are pushed towards it (if it should have fired) or away from it (if it should not).
# Examples it already gets right leave the weights alone.
#
# $$\sigma(x) \doteq \mathbb{1}\{x > 0\}, \qquad \hat y = \mathbb{1}\{\boldsymbol w^\top \boldsymbol x > 0\}, \qquad
# \theta \leftarrow \theta + \eta\,\underbrace{(y_i - \hat y_i)}_{\text{residual}}\,\boldsymbol x_i .$$
#
# We fold the bias into the weights by appending a constant 1 to every input,
# $\tilde{\boldsymbol x} = (x_1, x_2, 1)$, so $\theta = (w_1, w_2, b)$ and
# $\hat y = \mathbb 1\{\theta^\top \tilde{\boldsymbol x} > 0\}$. Labels are $y \in \{0, 1\}$, so the
# residual is $-1$, $0$ or $+1$.

# %%
def sigma_step(x):
    """σ(x) = 1{x > 0}"""
    return (x > 0).astype(float)


# %% [markdown]
# **Your turn (implement): the perceptron step.** Complete `perceptron_step` from the update
# rule above: compute the prediction ŷ with `sigma_step`, then return the new θ. `theta` and `x`
# are numpy arrays of the same length (`x` is x̃, with its trailing 1), `y` is 0 or 1 and `eta`
# a positive number. Then run the check cell below it.

# %% nbgrader={"grade": false, "grade_id": "perceptron_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def perceptron_step(theta, x, y, eta):
    """One visit of example (x, y), x = x̃ with its trailing 1: θ ← θ + η (y − ŷ) x."""
    ### BEGIN SOLUTION
    y_hat = sigma_step(theta @ x)
    return theta + eta * (y - y_hat) * x
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_perceptron_step", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch1.check_perceptron_step(perceptron_step)

# %% [markdown]
# The cells below run your `perceptron_step` once it passes the check, and `mplib`'s reference
# step until then, so that the rest of the notebook works either way.

# %%
step = exercises.yours_or_reference(perceptron_step, perceptron.perceptron_step,
                                    ch1.PERCEPTRON_CASES, name="perceptron_step")

# %% [markdown]
# `perceptron.train_perceptron` (from `mplib`) visits the examples in order, epoch after epoch,
# calling that `step`, and records θ after every step and the number of mistakes in
# each epoch. The data: two classes that a line separates with a gap (`margin`) between them.

# %%
# NBVAL_CHECK_OUTPUT
X, y = data.blobs(60, margin=0.3, seed=0)   # fixed data: this printed run is checked by nbval
X = X.numpy() + np.array([1.0, 0.5])   # off the origin, so the bias b has to be learned
y = y.numpy()
run = perceptron.train_perceptron(X, y, eta=1.0, epochs=12, step=step)
print("mistakes per epoch:", run.mistakes_per_epoch)
print("final θ =", np.round(run.theta, 3))

# %% [markdown]
# **Check.** The whole run must agree with `mplib`'s reference step, and on separable data the
# final θ must classify every point correctly.

# %%
reference = perceptron.train_perceptron(X, y, eta=1.0, epochs=12)       # mplib's step
assert_close(run.thetas, reference.thetas)
X_tilde = perceptron.augment(X)
assert ((X_tilde @ run.theta > 0) == y).all(), "the perceptron should separate these data"
assert run.mistakes_per_epoch[-1] == 0
last = int(np.nonzero(run.mistakes_per_epoch)[0].max()) + 1
print("the run agrees with the reference; no mistakes after epoch", last)

# %% [markdown]
# ### Novikoff's bound
#
# "Converges in finite time" has a number attached. Let $R = \max_i \|\tilde{\boldsymbol x}_i\|$
# and let $\gamma$ be the largest margin any unit-norm $\theta^\star$ achieves,
# $\gamma = \max_{\|\theta^\star\|=1}\min_i s_i\,\theta^{\star\top}\tilde{\boldsymbol x}_i$ with
# $s_i = 2y_i - 1 \in \{-1, +1\}$. Starting from $\theta = 0$, the perceptron makes at most
#
# $$k \le \left(\frac{R}{\gamma}\right)^2$$
#
# mistakes, whatever the order of the examples: each mistake raises
# $\theta^\top\theta^\star$ by at least $\eta\gamma$ but raises $\|\theta\|^2$ by at most $\eta^2R^2$,
# and the two growth rates are only compatible for $k \le (R/\gamma)^2$. (The bound does not
# depend on η: from θ = 0, η only rescales θ.) `perceptron.novikoff_bound` computes $\gamma$
# exactly by solving the hard-margin SVM problem $\min \tfrac12\|\theta\|^2$ subject to
# $s_i\theta^\top\tilde{\boldsymbol x}_i \ge 1$ (a small quadratic programme, scipy's SLSQP);
# then $\gamma = 1/\|\theta\|$.
#
# **Your turn (predict): a bound by hand.** Two points on a line: $x = -2$ with label 0 and
# $x = +2$ with label 1, so $\tilde{\boldsymbol x} = (\mp 2, 1)$. What is $(R/\gamma)^2$? Work it
# out on paper (which unit-norm θ* separates them best?), then let `predicted_bound` return it.

# %% nbgrader={"grade": false, "grade_id": "predicted_bound", "locked": false, "schema_version": 3, "solution": true, "task": false}
def predicted_bound():
    """Your prediction of (R/γ)² for the two points, as a number."""
    ### BEGIN SOLUTION
    return 5 / 4   # R² = ‖(2, 1)‖² = 5; θ* = (1, 0) has margin γ = 2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_predicted_bound", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch1.check_predicted_bound(predicted_bound)

# %% [markdown]
# The solver agrees, and on the data above the bound holds. An independent check that the
# solver's θ* is really the max-margin separator: the KKT conditions of the hard-margin SVM.
# $\boldsymbol w = \theta^\star/\gamma$ must meet every constraint $s_i\boldsymbol w^\top\tilde{\boldsymbol x}_i \ge 1$,
# and $\boldsymbol w = \sum_i \alpha_i s_i\tilde{\boldsymbol x}_i$ with $\alpha_i \ge 0$ only on the points where
# the constraint is tight (the support vectors). For a convex problem these conditions prove
# optimality; non-negative least squares (`scipy.optimize.nnls`) finds such α or leaves a residual.

# %%
from scipy.optimize import nnls

two_points = perceptron.novikoff_bound(ch1.BOUND_X, ch1.BOUND_Y)
print(f"two points: R² = {two_points.R**2:.3f}, γ = {two_points.gamma:.3f}, "
      f"(R/γ)² = {two_points.bound:.3f}")

bound = perceptron.novikoff_bound(X, y)
s = 2 * y - 1
print(f"the data above: R = {bound.R:.3f}, γ = {bound.gamma:.4f}, (R/γ)² = {bound.bound:.0f}; "
      f"mistakes made: {run.total_mistakes}")
assert run.total_mistakes <= bound.bound

w_svm = bound.theta / bound.gamma
constraint = s * (X_tilde @ w_svm)
support = constraint < 1 + 1e-4
alpha, kkt_residual = nnls((s[support, None] * X_tilde[support]).T, w_svm)
print(f"KKT: smallest sᵢwᵀx̃ᵢ = {constraint.min():.6f} (≥ 1), {support.sum()} support vectors, "
      f"‖w − Σ αᵢsᵢx̃ᵢ‖ = {kkt_residual:.1e} with every αᵢ ≥ 0")
assert constraint.min() > 1 - 1e-6 and kkt_residual < 1e-4 * np.linalg.norm(w_svm)

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
plot.decision_boundary(ax1, lambda G: perceptron.augment(G.numpy()) @ run.theta > 0,
                       X, y)
ax1.set(title="perceptron after convergence", xlabel="x₁", ylabel="x₂")
below = dict(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=8, frameon=False)
ax1.legend(**below)   # below the axes: over them it would hide data points
epochs = np.arange(1, len(run.mistakes_per_epoch) + 1)
ax2.plot(epochs, run.mistakes_per_epoch, "o-", label="mistakes in epoch")
ax2.plot(epochs, np.cumsum(run.mistakes_per_epoch), "-", label="total mistakes")
ax2.axhline(bound.bound, color=plot.COLORS[1], ls="--", label=f"(R/γ)² = {bound.bound:.0f}")
ax2.set_yscale("symlog", linthresh=1)
ax2.set(xlabel="epoch", ylabel="mistakes", title="mistakes reach 0, far below the bound")
ax2.legend(**below)
fig.tight_layout()

# %% [markdown]
# **Widget: perceptron convergence.** Drag the step slider (or press ▶) to replay the run one
# example at a time: the star is the example visited at that step, circled points are the
# ones the current θ gets wrong. The widget runs the same `step` (yours once it passes). It starts
# from a small random θ₀ so that η matters (from θ₀ = 0 it would not); the bound then becomes
# $(R/\gamma)^2 + 2\|\theta_0\|/(\eta\gamma)$, by the same argument. Shrink the margin and watch
# γ fall and the bound explode; switch to XOR and the mistakes never stop. With a tiny margin
# and a small η (0.05 and 0.01, say) some data seeds still make mistakes in the last of the
# default 12 epochs: raise `epochs`, and the run ends within the bound, as the theorem says.

# %%
from mplib.widgets.perceptron import PerceptronWidget

PerceptronWidget(step=step)

# %% [markdown]
# ### XOR (Figure 2) and the multi-layer perceptron
#
# The XOR labels are 1 exactly when the two inputs fall on different sides of zero. No line
# separates them, so $\gamma = 0$, there is no bound, and the perceptron keeps making mistakes in
# every epoch. Stacking layers fixes this:
#
# $$\hat y = \sigma(\mathbf W_k\,\sigma(\mathbf W_{k-1}\cdots\sigma(\mathbf W_1\boldsymbol x))).$$
#
# With step activations, two hidden units suffice: $h_1$ fires for "$x_1$ well above $x_2$",
# $h_2$ for "$x_2$ well above $x_1$", and the output fires if either does (an OR).

# %%
X_xor, y_xor = data.xor(200, noise=0.15, seed=runtime.shift(0))
X_xor_np, y_xor_np = X_xor.numpy(), y_xor.numpy()
xor_run = perceptron.train_perceptron(X_xor_np, y_xor_np, eta=1.0, epochs=30, step=step)
print("perceptron on XOR, mistakes per epoch:", xor_run.mistakes_per_epoch[:10], "...")
print("max margin γ:", perceptron.novikoff_bound(X_xor_np, y_xor_np).gamma)
assert (xor_run.mistakes_per_epoch > 0).all(), "XOR is not linearly separable"

W_1 = np.array([[1.0, -1.0], [-1.0, 1.0]]); b_1 = np.array([-1.0, -1.0])
W_2 = np.array([[1.0, 1.0]]);               b_2 = np.array([-0.5])


def step_mlp(x):
    """ŷ = σ(W₂ σ(W₁x + b₁) + b₂) with σ(x) = 1{x > 0}: XOR by hand."""
    h = sigma_step(x @ W_1.T + b_1)
    return sigma_step(h @ W_2.T + b_2)[:, 0]


accuracy_hand = (step_mlp(X_xor_np) == y_xor_np).mean()
print(f"hand-made two-layer step network on XOR: accuracy {accuracy_hand:.0%}")
assert accuracy_hand == 1.0

# %% [markdown]
# Step units have zero derivative almost everywhere, so gradient descent cannot learn them
# (§1.4). With a smooth activation (tanh here) gradient descent finds a solution by itself:
# `models.mlp(2, (8,), 1, "tanh")` is $\boldsymbol x \mapsto \mathbf W_2\tanh(\mathbf W_1\boldsymbol x + \boldsymbol b_1) + b_2$,
# a logit, trained with the binary cross-entropy of §1.2.

# %%
def bce_logit(out, t):
    """Binary cross-entropy (§1.2) on the logit out[:, 0], the MLP's single output."""
    return F.binary_cross_entropy_with_logits(out[:, 0], t)


runtime.seed(0)
xor_mlp = models.mlp(2, (8,), 1, "tanh")
xor_history = train.fit(xor_mlp, (X_xor, y_xor.float()), bce_logit, epochs=150, lr=0.03,
                        batch_size=200, progress=False)
xor_mlp.cpu()                                   # trained on runtime.device(), studied here
with torch.no_grad():
    accuracy_mlp = ((xor_mlp(X_xor)[:, 0] > 0).long() == y_xor).float().mean().item()
print(f"trained MLP on XOR: accuracy {accuracy_mlp:.1%} "
      f"(final loss {xor_history.train_loss[-1]:.3f})")
runtime.target(f"trained MLP on XOR: accuracy {accuracy_mlp:.1%} >= 98%", accuracy_mlp >= 0.98)

# %%
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
plot.decision_boundary(axes[0], lambda G: perceptron.augment(G.numpy()) @ xor_run.theta > 0,
                       X_xor, y_xor)
axes[0].set_title("perceptron (after 30 epochs)")
plot.decision_boundary(axes[1], lambda G: step_mlp(G.numpy()), X_xor, y_xor)
axes[1].set_title("2 hidden step units, by hand")
plot.decision_boundary(axes[2], lambda G: (xor_mlp(G)[:, 0] > 0).float(), X_xor, y_xor)
axes[2].set_title("MLP 2-8-1 (tanh), trained")
for ax in axes:
    ax.set(xlabel="x₁", ylabel="x₂")
fig.suptitle("XOR (Figure 2): no line separates it; one hidden layer does")
fig.tight_layout()

# %% [markdown]
# ## 1.2 Loss functions
#
# A network that outputs the parameters of a distribution over $y$ can be trained by maximum
# likelihood. Taking $-\log$ turns the product over i.i.d. examples into a sum, and maximising
# into minimising:
#
# $$\operatorname*{argmax}_\theta\ p(\mathcal D\mid\theta) \overset{\text{iid}}{=} \operatorname*{argmax}_\theta \prod_{i=1}^n p(y_i\mid\theta)
# = \operatorname*{argmin}_\theta\ -\sum_{i=1}^n \log p(y_i\mid\theta).$$
#
# Each choice of distribution gives a familiar loss. We check each identity against
# `torch.distributions`, which knows nothing about losses.
#
# **Bernoulli → binary cross-entropy.** $\ell = -\log \mathrm{Ber}(y_i\mid\hat y_i) = -y_i\log\hat y_i - (1-y_i)\log(1-\hat y_i)$.
#
# **Your turn (implement): the mean BCE.** Complete `mean_bce`: the average of $\ell$ over the
# $n$ examples, for numpy arrays `y_hat` (probabilities in (0, 1)) and `y` (labels 0 or 1).
# `np.log` and `np.mean` are all you need.

# %% nbgrader={"grade": false, "grade_id": "mean_bce", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mean_bce(y_hat, y):
    """−(1/n) Σᵢ [yᵢ log ŷᵢ + (1 − yᵢ) log(1 − ŷᵢ)]"""
    ### BEGIN SOLUTION
    return -np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_mean_bce", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch1.check_mean_bce(mean_bce)

# %% [markdown]
# The same identity with PyTorch, on 1000 examples, against `torch.distributions.Bernoulli`:

# %%
runtime.seed(0)
y_hat = torch.sigmoid(torch.randn(1000, dtype=torch.float64))   # predicted Bernoulli parameters
y_bin = torch.bernoulli(torch.full((1000,), 0.4, dtype=torch.float64))

bce = -y_bin * torch.log(y_hat) - (1 - y_bin) * torch.log(1 - y_hat)
assert_close(bce, -D.Bernoulli(probs=y_hat).log_prob(y_bin))
assert_close(bce.mean(), F.binary_cross_entropy(y_hat, y_bin))
print(f"BCE = −log Bernoulli: {bce.mean():.6f} (mean over {len(bce)} examples)")

# %% [markdown]
# **Gaussian → mean squared error.** With $y_i \sim \mathcal N(\hat y_i, s^2)$ and a fixed $s$,
#
# $$-\sum_i \log \mathcal N(y_i\mid\hat y_i, s^2) = \frac{n}{2s^2}\,\underbrace{\frac1n\sum_i (y_i-\hat y_i)^2}_{\text{MSE}} + \frac n2\log(2\pi s^2),$$
#
# a positive multiple of the MSE plus a constant, so both have the same minimiser.
#
# **Laplace → ℓ₁.** With $y_i \sim \mathrm{Laplace}(\hat y_i, \beta)$,
# $-\sum_i\log p(y_i) = \frac1\beta\sum_i|y_i-\hat y_i| + n\log(2\beta)$.

# %%
n, s_noise, beta = 1000, 0.7, 0.5
y_pred = torch.randn(n, dtype=torch.float64)
y_obs = y_pred + s_noise * torch.randn(n, dtype=torch.float64)

gauss_nll = -D.Normal(y_pred, s_noise).log_prob(y_obs).sum()
mse = F.mse_loss(y_pred, y_obs)
assert_close(gauss_nll, n / (2 * s_noise**2) * mse + n / 2 * np.log(2 * np.pi * s_noise**2))

laplace_nll = -D.Laplace(y_pred, beta).log_prob(y_obs).sum()
l1 = (y_obs - y_pred).abs().sum()
assert_close(laplace_nll, l1 / beta + n * np.log(2 * beta))
print(f"Gaussian NLL {gauss_nll:.2f} = {n / (2 * s_noise**2):.1f}·MSE + const; "
      f"Laplace NLL {laplace_nll:.2f} = ℓ₁/β + const")

# %% [markdown]
# The two likelihoods disagree about outliers. Fit a single constant $c$ to data with one wild
# value: the Gaussian NLL (MSE) is minimised by the mean, which the outlier drags along; the
# Laplace NLL (ℓ₁) by the median, which ignores it.

# %%
sample = torch.tensor([1.0, 1.2, 0.8, 1.1, 0.9, 1.05, 8.0], dtype=torch.float64)
c = torch.linspace(0, 4, 4001, dtype=torch.float64)
nll_gauss = -D.Normal(c[:, None], 1.0).log_prob(sample).sum(1)
nll_laplace = -D.Laplace(c[:, None], 1.0).log_prob(sample).sum(1)
c_gauss, c_laplace = c[nll_gauss.argmin()], c[nll_laplace.argmin()]
assert_close(c_gauss, sample.mean(), atol=1e-3, rtol=0)
assert_close(c_laplace, sample.median(), atol=1e-3, rtol=0)

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(c, nll_gauss - nll_gauss.min(), label=f"Gaussian NLL: min at mean {c_gauss:.2f}")
ax.plot(c, nll_laplace - nll_laplace.min(), label=f"Laplace NLL: min at median {c_laplace:.2f}")
ax.set(xlabel="constant prediction c", ylabel="NLL − its minimum", ylim=(0, 15),
       title="one outlier (y = 8) among values near 1")
ax.legend(fontsize=8);

# %% [markdown]
# ### MAP with a Gaussian prior is ridge regression
#
# With a prior $p(\theta)$ we maximise the posterior instead. Bayes' rule gives
# $p(\theta\mid\mathcal D) \propto p(\theta)\,p(\mathcal D\mid\theta)$, with the prior appearing **once**:
#
# $$\operatorname*{argmax}_\theta p(\theta\mid\mathcal D) = \operatorname*{argmax}_\theta p(\theta)\,p(\mathcal D\mid\theta)
# \overset{\text{iid}}{=} \operatorname*{argmax}_\theta p(\theta)\prod_{i=1}^n p(y_i\mid\theta)
# = \operatorname*{argmin}_\theta\ -\log p(\theta) - \sum_{i=1}^n\log p(y_i\mid\theta).$$
#
# *Erratum:* the notes' second line reads $p(\theta)\prod_i p(y_i\mid\theta)\,p(\theta)$, with the
# prior twice; their last line (prior once) is the correct one.
#
# For linear regression $y_i = \boldsymbol x_i^\top\theta + \varepsilon_i$ with
# $\varepsilon_i\sim\mathcal N(0,s^2)$ and the prior $\theta\sim\mathcal N(0,\tau^2 I)$, the objective
# is, up to a factor $1/(2s^2)$ and constants, the ridge objective
# $\|\boldsymbol y - X\theta\|^2 + \lambda\|\theta\|^2$ with $\lambda = s^2/\tau^2$, whose minimiser is
# $\theta^\star = (X^\top X + \lambda I)^{-1}X^\top\boldsymbol y$. Three ways to the same weights:
# the closed form, gradient descent on the L2-penalised squared error, and the MAP objective
# written with `torch.distributions` and minimised with autograd.

# %%
runtime.seed(0)
n, d, s_noise, tau = 30, 5, 1.0, 0.5
X_reg = torch.randn(n, d, dtype=torch.float64)
theta_true = tau * torch.randn(d, dtype=torch.float64)
y_reg = X_reg @ theta_true + s_noise * torch.randn(n, dtype=torch.float64)
lam = s_noise**2 / tau**2

I_d = torch.eye(d, dtype=torch.float64)
theta_ridge = torch.linalg.solve(X_reg.T @ X_reg + lam * I_d, X_reg.T @ y_reg)

theta_gd = torch.zeros(d, dtype=torch.float64)          # gradient descent, gradient by hand
for _ in range(3000):
    grad = 2 * X_reg.T @ (X_reg @ theta_gd - y_reg) + 2 * lam * theta_gd
    theta_gd = theta_gd - 0.005 * grad


def map_objective(theta, prior_times=1):
    """−log p(θ)·prior_times − Σ log p(yᵢ | θ); prior_times=2 is the notes' second line."""
    prior = D.Normal(0.0, tau).log_prob(theta).sum()
    likelihood = D.Normal(X_reg @ theta, s_noise).log_prob(y_reg).sum()
    return -prior_times * prior - likelihood


def minimise(objective, steps=300):
    theta = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([theta], max_iter=steps, tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = objective(theta)
        loss.backward()
        return loss
    opt.step(closure)
    return theta.detach()


theta_map = minimise(map_objective)
theta_twice = minimise(lambda t: map_objective(t, prior_times=2))

assert_close(theta_gd, theta_ridge)
assert_close(theta_map, theta_ridge)
ridge_2lam = torch.linalg.solve(X_reg.T @ X_reg + 2 * lam * I_d, X_reg.T @ y_reg)
assert_close(theta_twice, ridge_2lam)          # the prior twice = ridge with 2λ ...
assert not torch.allclose(theta_twice, theta_ridge, atol=1e-3)   # ... which is not the MAP
print("closed-form ridge:", theta_ridge.numpy().round(4))
print("gradient descent: ", theta_gd.numpy().round(4))
print("MAP via autograd: ", theta_map.numpy().round(4))
print("prior twice:      ", theta_twice.numpy().round(4), "(= ridge with 2λ, not the MAP)")

# %% [markdown]
# ### MAP with a uniform prior is the MLE
#
# **Your turn (predict).** Keep the same data and likelihood, but replace the Gaussian prior by a
# uniform prior on the box $[-10, 10]^d$, $p(\theta) = 20^{-d}$ inside it. Which is the MAP
# estimate? (a) the ridge solution with $\lambda = 1$; (b) the MLE, here least squares;
# (c) $\theta = 0$; (d) it is not defined. Let `map_uniform_answer` return a letter.

# %% nbgrader={"grade": false, "grade_id": "map_uniform", "locked": false, "schema_version": 3, "solution": true, "task": false}
def map_uniform_answer():
    """"a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_map_uniform", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch1.check_map_uniform(map_uniform_answer)

# %% [markdown]
# The code: the MAP objective with `torch.distributions.Uniform` as the prior, minimised as
# before, against least squares (the MLE of a Gaussian likelihood).

# %%
box = 10 * torch.ones(d, dtype=torch.float64)
uniform_prior = D.Uniform(-box, box, validate_args=False)   # −∞ log-density outside the box


def map_uniform_objective(theta):
    likelihood = D.Normal(X_reg @ theta, s_noise).log_prob(y_reg).sum()
    return -uniform_prior.log_prob(theta).sum() - likelihood


theta_uniform = minimise(map_uniform_objective)
theta_mle = torch.linalg.lstsq(X_reg, y_reg[:, None]).solution[:, 0]
assert (theta_mle.abs() < 10).all(), "the MLE lies inside the box"
assert_close(theta_uniform, theta_mle)
assert not torch.allclose(theta_uniform, theta_ridge, atol=1e-3)
print("MAP, uniform prior:", theta_uniform.numpy().round(4))
print("least squares MLE: ", theta_mle.numpy().round(4), "(the same; ridge differs)")

# %% [markdown]
# ## 1.3 Backpropagation
#
# Gradient descent needs $\nabla_\theta\mathcal L$. Backpropagation gets it from the derivatives
# of the primitive operations: a forward pass computes and *caches* every intermediate value,
# then a backward pass applies the chain rule from the loss back to each parameter, reusing
# the cached values and each upstream gradient once (that reuse is the dynamic programming).
#
# The notes' footnote 1 gives the smallest example: for $f(\boldsymbol x, \boldsymbol y) = \sigma(\boldsymbol x^\top\boldsymbol y)$
# the chain rule needs only $\sigma'$ and the two partial derivatives of $\boldsymbol x^\top\boldsymbol y$,
# which are $\boldsymbol y$ and $\boldsymbol x$: $\nabla_{\boldsymbol x}f = \sigma'(\boldsymbol x^\top\boldsymbol y)\,\boldsymbol y$ and
# $\nabla_{\boldsymbol y}f = \sigma'(\boldsymbol x^\top\boldsymbol y)\,\boldsymbol x$. With the sigmoid, against autograd:

# %%
x_vec = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
y_vec = torch.tensor([1.5, 0.3, -0.2], dtype=torch.float64, requires_grad=True)
torch.sigmoid(x_vec @ y_vec).backward()
with torch.no_grad():
    s_xy = torch.sigmoid(x_vec @ y_vec)
    d_sigma = s_xy * (1 - s_xy)                       # σ'(xᵀy), computed once, used twice
    assert_close(x_vec.grad, d_sigma * y_vec)
    assert_close(y_vec.grad, d_sigma * x_vec)
print(f"σ'(xᵀy) = {d_sigma:.4f}; ∇ₓf = σ'·y = {x_vec.grad.numpy().round(4)}, "
      f"∇_y f = σ'·x = {y_vec.grad.numpy().round(4)}: autograd agrees")

# %% [markdown]
# Our network is the XOR classifier of §1.1, written out for a batch of $n$ rows:
#
# $$\mathbf A_1 = X\mathbf W_1^\top + \boldsymbol b_1,\quad \mathbf H = \tanh(\mathbf A_1),\quad
# \boldsymbol a_2 = \mathbf H\mathbf W_2^\top + b_2,\quad \hat{\boldsymbol y} = \mathrm{sigmoid}(\boldsymbol a_2),\quad
# \mathcal L = \frac1n\sum_i \mathrm{BCE}(\hat y_i, y_i).$$
#
# Going backwards: $\partial\mathcal L/\partial\boldsymbol a_2 = (\hat{\boldsymbol y} - \boldsymbol y)/n$ (sigmoid and BCE
# simplify together), $\partial\mathcal L/\partial\mathbf W_2 = \boldsymbol\delta_2^\top\mathbf H$,
# $\partial\mathcal L/\partial\mathbf H = \boldsymbol\delta_2\mathbf W_2$,
# $\boldsymbol\delta_1 = \partial\mathcal L/\partial\mathbf H\odot(1-\mathbf H^2)$,
# $\partial\mathcal L/\partial\mathbf W_1 = \boldsymbol\delta_1^\top X$, and each bias gets the column sums of its $\boldsymbol\delta$.

# %%
def forward(params, X, y):
    """The loss, and the cache of every intermediate value the backward pass needs."""
    W_1, b_1, W_2, b_2 = params
    A_1 = X @ W_1.T + b_1
    H = torch.tanh(A_1)
    a_2 = H @ W_2.T + b_2
    y_hat = torch.sigmoid(a_2[:, 0])
    loss = -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()
    return loss, {"X": X, "H": H, "y_hat": y_hat, "y": y}


def backward(params, cache):
    """∂L/∂W₁, ∂L/∂b₁, ∂L/∂W₂, ∂L/∂b₂ by the chain rule, from the cached forward values."""
    W_1, b_1, W_2, b_2 = params
    X, H, y_hat, y = cache["X"], cache["H"], cache["y_hat"], cache["y"]
    delta_2 = ((y_hat - y) / len(y))[:, None]        # ∂L/∂a₂, shape (n, 1)
    dW_2 = delta_2.T @ H
    db_2 = delta_2.sum(0)
    dH = delta_2 @ W_2                               # ∂L/∂H
    delta_1 = dH * (1 - H**2)                        # through tanh: ∂L/∂A₁
    dW_1 = delta_1.T @ X
    db_1 = delta_1.sum(0)
    return [dW_1, db_1, dW_2, db_2]


def init_params(hidden=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(hidden, 2, generator=g, dtype=torch.float64),
            torch.zeros(hidden, dtype=torch.float64),
            torch.randn(1, hidden, generator=g, dtype=torch.float64) * 0.5,
            torch.zeros(1, dtype=torch.float64)]


# %% [markdown]
# **Check** against `torch.autograd` and against central finite differences
# $\big(\mathcal L(\theta + \epsilon e_j) - \mathcal L(\theta - \epsilon e_j)\big)/2\epsilon$ for every single
# parameter (in float64, so the finite differences are accurate to about $10^{-9}$).

# %%
Xb, yb = X_xor[:50].double(), y_xor[:50].double()
params = init_params()
params[1] += 0.1; params[3] += 0.2        # non-zero biases, so their gradients are tested too
loss, cache = forward(params, Xb, yb)
grads = backward(params, cache)

leaves = [p.clone().requires_grad_(True) for p in params]
forward(leaves, Xb, yb)[0].backward()
for name, mine, auto in zip(["W_1", "b_1", "W_2", "b_2"], grads, leaves):
    assert_close(mine, auto.grad, msg=f"backprop for {name} disagrees with autograd")

eps = 1e-6
for k, name in enumerate(["W_1", "b_1", "W_2", "b_2"]):
    numeric = torch.zeros_like(params[k])
    for j in range(params[k].numel()):
        plus = [p.clone() for p in params]; plus[k].view(-1)[j] += eps
        minus = [p.clone() for p in params]; minus[k].view(-1)[j] -= eps
        numeric.view(-1)[j] = (forward(plus, Xb, yb)[0] - forward(minus, Xb, yb)[0]) / (2 * eps)
    assert_close(grads[k], numeric, atol=1e-8, rtol=1e-6, msg=f"{name} vs finite differences")
print("hand-written backprop = autograd = finite differences, for all",
      sum(p.numel() for p in params), "parameters")

# %% [markdown]
# **Your turn (implement): one layer's backward pass.** Every linear layer of a network has the
# same backward pass. For $\mathbf Y = X\mathbf W^\top + \boldsymbol b$ (rows are examples), given the
# upstream gradient $\mathrm d\mathbf Y = \partial\mathcal L/\partial\mathbf Y$, return
# $(\partial\mathcal L/\partial X,\ \partial\mathcal L/\partial\mathbf W,\ \partial\mathcal L/\partial\boldsymbol b)$.
# Shapes: `dY` is n×outputs, `X` n×inputs, `W` outputs×inputs (tensors); each gradient has the
# shape of what it is the gradient of. `backward` above does the same twice.

# %% nbgrader={"grade": false, "grade_id": "linear_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def linear_backward(dY, X, W):
    """(∂L/∂X, ∂L/∂W, ∂L/∂b) for Y = X Wᵀ + b."""
    ### BEGIN SOLUTION
    return dY @ W, dY.T @ X, dY.sum(0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_linear_backward", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch1.check_linear_backward(linear_backward)

# %% [markdown]
# With the gradient in hand, gradient descent is one line, $\theta \leftarrow \theta - \eta\nabla_\theta\mathcal L(\hat y, y)$,
# repeated until the gradient is small. Here on all 200 XOR points, nothing from `torch.optim`.

# %%
params = init_params(hidden=4, seed=runtime.shift(1))
X64, y64 = X_xor.double(), y_xor.double()
eta, losses = 0.5, []
for it in runtime.capped_range(600):
    loss, cache = forward(params, X64, y64)
    grads = backward(params, cache)
    params = [p - eta * g for p, g in zip(params, grads)]
    losses.append(loss.item())
    if max(g.abs().max().item() for g in grads) < 1e-4:
        break
accuracy_gd = ((cache["y_hat"] > 0.5).double() == y64).double().mean().item()
print(f"{it + 1} steps: loss {losses[-1]:.4f}, accuracy {accuracy_gd:.1%}")
runtime.target(f"hand-made backprop: loss {losses[-1]:.4f} < 0.1 × {losses[0]:.4f} and accuracy "
               f"{accuracy_gd:.1%} >= 98%", losses[-1] < 0.1 * losses[0] and accuracy_gd >= 0.98)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.3))
ax1.plot(losses)
ax1.set(xlabel="gradient descent step", ylabel="BCE loss", yscale="log",
        title="gradient descent with hand-made backprop")
plot.decision_boundary(ax2, lambda G: forward(params, G.double(), torch.zeros(len(G)))[1]["y_hat"],
                       X_xor, y_xor)
ax2.set(title="the learned XOR boundary", xlabel="x₁", ylabel="x₂")
fig.tight_layout()

# %% [markdown]
# ## 1.4 Activation functions
#
# Backpropagation multiplies by $\sigma'$ at every layer, so the derivative of the activation
# matters as much as the activation itself. The step function has $\sigma' = 0$ everywhere
# except at 0, where it has none: no gradient flows, which is why the perceptron needs its own
# learning rule. The smooth choices:
#
# $$\mathrm{sigmoid}(x) = \frac{1}{1+e^{-x}},\ \ \mathrm{sigmoid}' = \mathrm{sigmoid}(1-\mathrm{sigmoid});\qquad
# \tanh' = 1-\tanh^2;\qquad \mathrm{ReLU}(x) = \max(0,x),\ \ \mathrm{ReLU}'(x) = \mathbb 1\{x>0\}.$$
#
# **Your turn (implement): the sigmoid's derivative.** Derive $\mathrm{sigmoid}'$ from
# $1/(1+e^{-x})$ yourself, or use the identity above; `sigmoid_prime` gets a float64 tensor and
# returns a tensor of the same shape (`torch.sigmoid` is allowed).

# %% nbgrader={"grade": false, "grade_id": "sigmoid_prime", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid_prime(x):
    """d/dx 1/(1 + e^(−x)), entry by entry."""
    ### BEGIN SOLUTION
    s = torch.sigmoid(x)
    return s * (1 - s)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_sigmoid_prime", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch1.check_sigmoid_prime(sigmoid_prime)

# %% [markdown]
# Below, every derivative is checked against autograd and against central finite differences.
# The step is the exception: $x > 0$ is a comparison, so autograd has no path through it at
# all (its output does not require a gradient), and only the finite differences can check
# $\sigma' = 0$ away from 0.

# %%
activations = {
    "step":    (lambda x: (x > 0).double(), lambda x: torch.zeros_like(x)),
    "sigmoid": (torch.sigmoid,               lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))),
    "tanh":    (torch.tanh,                  lambda x: 1 - torch.tanh(x) ** 2),
    "ReLU":    (lambda x: x.clamp(min=0),    lambda x: (x > 0).double()),
}

x_grid = torch.linspace(-4, 4, 801, dtype=torch.float64)
x_grid = x_grid[x_grid.abs() > 1e-9]                 # the kinks at 0 have no derivative
for name, (f, df) in activations.items():
    xs = x_grid.clone().requires_grad_(True)
    out = f(xs)
    if name == "step":
        assert not out.requires_grad, "autograd has no path through a comparison"
    else:
        (auto,) = torch.autograd.grad(out.sum(), xs)
        assert_close(df(x_grid), auto, msg=f"derivative of {name}")
    numeric = (f(x_grid + 1e-6) - f(x_grid - 1e-6)) / 2e-6
    assert_close(df(x_grid), numeric, atol=1e-6, rtol=1e-5, msg=f"{name}' vs finite differences")
print("hand-written derivatives agree with finite differences (away from 0) and, except the "
      "step's, with autograd")

fig, axes = plt.subplots(2, 4, figsize=(10, 4), sharex=True)
for k, (name, (f, df)) in enumerate(activations.items()):
    axes[0, k].plot(x_grid, f(x_grid), color=plot.COLORS[k])
    axes[0, k].set_title(name)
    axes[1, k].plot(x_grid, df(x_grid), color=plot.COLORS[k], ls="--")
    axes[1, k].set_xlabel("x")
axes[0, 0].set_ylabel("σ(x)")
axes[1, 0].set_ylabel("σ′(x)")
fig.suptitle("activations (top) and their derivatives (bottom)")
fig.tight_layout()

# %% [markdown]
# Without a non-linearity, depth buys nothing: $\mathbf W_3(\mathbf W_2(\mathbf W_1\boldsymbol x + \boldsymbol b_1) + \boldsymbol b_2) + \boldsymbol b_3
# = \mathbf W\boldsymbol x + \boldsymbol b$ with $\mathbf W = \mathbf W_3\mathbf W_2\mathbf W_1$ and
# $\boldsymbol b = \mathbf W_3(\mathbf W_2\boldsymbol b_1 + \boldsymbol b_2) + \boldsymbol b_3$: a composition of affine
# maps is one affine map. We build three `nn.Linear` layers, compute $\mathbf W$ and $\boldsymbol b$,
# and compare. With a ReLU between the layers the identity fails.

# %%
# NBVAL_CHECK_OUTPUT
runtime.seed(0)
layers = [torch.nn.Linear(5, 7), torch.nn.Linear(7, 6), torch.nn.Linear(6, 3)]
deep_linear = torch.nn.Sequential(*layers).double()
(W1, b1), (W2, b2), (W3, b3) = [(l.weight.detach(), l.bias.detach()) for l in deep_linear]
W = W3 @ W2 @ W1
b = W3 @ (W2 @ b1 + b2) + b3
x_in = torch.randn(100, 5, dtype=torch.float64)
with torch.no_grad():
    assert_close(deep_linear(x_in), x_in @ W.T + b)
    with_relu = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(),
                                    layers[2]).double()
    assert not torch.allclose(with_relu(x_in), x_in @ W.T + b)
print(f"3 linear layers ({sum(p.numel() for p in deep_linear.parameters())} parameters) "
      f"= one affine map W (3×5) and b (3): {W.numel() + b.numel()} numbers")

# %% [markdown]
# **Your turn (break it).** In the cell above, delete the two `torch.nn.ReLU()` from `with_relu`
# and run the cell. Which check fails, and why? (a) `assert_close(deep_linear(x_in), ...)`;
# (b) `assert not torch.allclose(with_relu(x_in), ...)`; (c) none; (d) a shape error in the
# `Sequential`. Predict first, then try it (and put the ReLUs back afterwards).

# %% nbgrader={"grade": false, "grade_id": "break_relu", "locked": false, "schema_version": 3, "solution": true, "task": false}
def break_relu_answer():
    """"a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_break_relu", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch1.check_break_relu(break_relu_answer)

# %% [markdown]
# ## 1.5 Universal approximation theorem
#
# **Theorem.** Let $\sigma$ be non-constant, bounded and continuous, and $f \in C(I_m)$ a
# continuous function on the unit cube $I_m = [0,1]^m$. For every $\epsilon > 0$ there are
# $N$, $v_i, b_i\in\mathbb R$ and $\boldsymbol w_i\in\mathbb R^m$ such that
#
# $$g(\boldsymbol x) = \sum_{i=1}^N v_i\,\sigma(\boldsymbol w_i^\top\boldsymbol x + b_i)\quad\text{satisfies}\quad |f(\boldsymbol x) - g(\boldsymbol x)| < \epsilon\ \text{ for all } \boldsymbol x\in I_m.$$
#
# *Erratum:* the notes' statement takes ε, N and the weights as all given ("let ε > 0, N ∈ ℕ,
# vᵢ, bᵢ, wᵢ ..., then f ≈ g"), which scrambles the quantifiers: *for every* ε *there exist* N and
# weights, as above; and it says the width "may need to be infinite", but for each ε a finite
# N suffices (N may grow without bound as ε → 0).
#
# $g$ is a network with one hidden layer of $N$ units and a linear output. The theorem
# promises existence, not a recipe, and $N$ may have to be huge. To see it at work on
# $m = 1$ we pick the hidden weights at random (unit $i$ switches at a random point
# $c_i\in[0,1]$ with a random slope $w_i$, so $b_i = -w_ic_i$) and then fit only $v$ by least
# squares, which is a closed form: $v = \operatorname{argmin}_v\sum_j (f(x_j) - g(x_j))^2 + 10^{-9}\|v\|^2$
# on a grid of 400 points (the tiny ridge term keeps two nearly identical units from blowing up
# $v$). `approximation.approximate` does this, and the widget below calls the same function,
# so both show the same numbers. The sup error is measured on a finer grid of 2001 points.

# %%
from mplib import approximation


def g(x, v, w, b, sigma):
    """g(x) = Σᵢ vᵢ σ(wᵢ x + bᵢ) for every x (one input, m = 1)."""
    return sigma(np.outer(x, w) + b) @ v


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def f_target(x):
    return np.sin(4 * np.pi * x)


fits = {N: approximation.approximate(f_target, N, "sigmoid", seed=runtime.shift(0)) for N in (3, 10, 30, 100)}
for N, fit in fits.items():
    assert_close(g(fit.x, fit.v, fit.w, fit.b, sigmoid), fit.g)   # our g, the fitted weights
    print(f"N = {N:3d}: sup |f − g| = {fit.sup_error:.1e}")

# %% [markdown]
# **Check.** $g$ is exactly a one-hidden-layer network: copy $w_i, b_i, v_i$ into
# `Linear(1, N) → Sigmoid → Linear(N, 1, bias=False)` and the outputs agree. And the sup error
# for the sine shrinks below 0.01 with 100 units.

# %%
x_eval, v, w, b = fits[30].x, fits[30].v, fits[30].w, fits[30].b
net = torch.nn.Sequential(torch.nn.Linear(1, 30), torch.nn.Sigmoid(),
                          torch.nn.Linear(30, 1, bias=False)).double()
with torch.no_grad():
    net[0].weight.copy_(torch.from_numpy(w)[:, None])
    net[0].bias.copy_(torch.from_numpy(b))
    net[2].weight.copy_(torch.from_numpy(v)[None])
    assert_close(net(torch.from_numpy(x_eval)[:, None])[:, 0],
                 torch.from_numpy(g(x_eval, v, w, b, sigmoid)))
runtime.target(f"sup error with 100 units {fits[100].sup_error:.1e} < 1.0e-02 < "
               f"with 3 units {fits[3].sup_error:.1e}", fits[100].sup_error < 0.01 < fits[3].sup_error)
print("g = Linear → σ → Linear, with the same outputs")

fig, axes = plt.subplots(1, 4, figsize=(11, 2.8), sharey=True)
for ax, (N, fit) in zip(axes, fits.items()):
    ax.plot(fit.x, fit.f, "k", lw=2, label="f")
    ax.plot(fit.x, fit.g, color=plot.COLORS[1], label="g")
    ax.set(title=f"N = {N}: sup error {fit.sup_error:.1e}", xlabel="x", ylim=(-1.6, 1.6))
axes[0].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# **Widget: universal approximation.** Choose the number of hidden units $N$, the activation and
# the target. Left: $f$ and $g$; middle: $|f-g|$ and its supremum; right: the sup error against
# $N$ (the dot is the current $N$). Things to try: ReLU is unbounded, outside the theorem's
# hypotheses, yet works (other versions of the theorem cover it); the step function is not
# continuous, yet works too; the *jump* target is not continuous, outside the theorem's
# $f\in C(I_m)$, and there the sup error stalls near half the jump however large $N$ (the
# exercise below asks how near).

# %%
from mplib.widgets.approximation import ApproximationWidget

ApproximationWidget()

# %% [markdown]
# **Your turn (predict): the jump.** Take $f(x) = \mathbb 1\{x > \tfrac12\}$ on $[0, 1]$. What is
# the smallest value of $\sup_{x\in[0,1]}|f(x) - g(x)|$ that a *continuous* $g$ can reach, with
# any number of units? Think of $g(\tfrac12)$ and of $g$ just right of $\tfrac12$.

# %% nbgrader={"grade": false, "grade_id": "jump_sup_error", "locked": false, "schema_version": 3, "solution": true, "task": false}
def jump_sup_error():
    """The smallest possible sup error, a number."""
    ### BEGIN SOLUTION
    return 0.5
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_jump_sup_error", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch1.check_jump_sup_error(jump_sup_error)

# %% [markdown]
# What the widget measures is the sup over its 2001 grid points, and a grid never samples
# the points just right of the jump: there the fitted $g$ dips slightly below ½ at large $N$.
# Evaluating $g$ at $\tfrac12 + 10^{-12}, \dots, \tfrac12 + 10^{-2}$ as well brings the sup back to
# at least ½, as continuity demands.

# %%
for N in (10, 30, 100, 200):
    jump = approximation.approximate("jump (not continuous)", N, "sigmoid", seed=runtime.shift(0))
    x_near = 0.5 + np.logspace(-12, -2, 60)
    g_near = approximation.g(x_near, jump.v, jump.w, jump.b, "sigmoid")
    sup_near = max(jump.sup_error, np.abs(1 - g_near).max())
    print(f"N = {N:3d}: sup on the grid {jump.sup_error:.3f}, with points near the jump {sup_near:.3f}")
    assert sup_near >= 0.5 - 1e-9

# %% [markdown]
# ### Deeper beats wider
#
# One hidden layer is enough in principle, but the number of units it needs can be enormous.
# The notes add that deeper networks do better in practice; here is a function where depth
# wins by a mile. The tent map $t(x) = 2\,\mathrm{ReLU}(x) - 4\,\mathrm{ReLU}(x - \tfrac12)$ folds $[0, 1]$
# onto itself; composing it $k$ times gives a sawtooth with $2^k$ linear pieces. A network of $k$
# layers with 2 ReLUs each computes it exactly. With one hidden layer, $g$ is linear between
# the switch points of its $N$ units, so it has at most $N + 1$ pieces: it needs $N \ge 2^k - 1$
# units. Below, the output weights of a one-hidden-layer net are fitted by least squares with
# the units' switch points spread evenly, $c_j = j/N$; it becomes exact at $N = 2^k$.

# %%
k_layers = 6
deep = [torch.nn.Linear(1, 2), torch.nn.ReLU()]
for _ in range(k_layers - 1):
    deep += [torch.nn.Linear(2, 2), torch.nn.ReLU()]
deep = torch.nn.Sequential(*deep, torch.nn.Linear(2, 1)).double()
tent_in = torch.tensor([2.0, -4.0], dtype=torch.float64)     # t = 2h₁ − 4h₂ from the last layer
with torch.no_grad():
    deep[0].weight.copy_(torch.ones(2, 1)); deep[0].bias.copy_(torch.tensor([0.0, -0.5]))
    for layer in deep[2:-1:2]:                                 # h = ReLU(t), ReLU(t − ½)
        layer.weight.copy_(torch.stack([tent_in, tent_in])); layer.bias.copy_(torch.tensor([0.0, -0.5]))
    deep[-1].weight.copy_(tent_in[None]); deep[-1].bias.zero_()


def sawtooth(x, k):
    for _ in range(k):
        x = np.where(x <= 0.5, 2 * x, 2 - 2 * x)
    return x


x_saw = np.linspace(0, 1, 4097)
with torch.no_grad():
    deep_out = deep(torch.from_numpy(x_saw)[:, None])[:, 0].numpy()
assert np.allclose(deep_out, sawtooth(x_saw, k_layers))
n_deep = sum(p.numel() for p in deep.parameters())


def shallow_fit(knots):
    """Sup error of the least-squares g(x) = v₀ + Σⱼ vⱼ ReLU(x − cⱼ) (one hidden layer)."""
    features = np.column_stack([np.ones_like(x_saw), np.maximum(x_saw[:, None] - knots, 0)])
    v = np.linalg.lstsq(features, sawtooth(x_saw, k_layers), rcond=None)[0]
    return np.abs(features @ v - sawtooth(x_saw, k_layers)).max()


print(f"deep: {k_layers} layers × 2 ReLUs, {n_deep} parameters: sup error "
      f"{np.abs(deep_out - sawtooth(x_saw, k_layers)).max():.1e}")
shallow = {}
for N in (12, 32, 63, 64):
    shallow[N] = shallow_fit(np.arange(N) / N)
    print(f"one hidden layer, N = {N:2d} ReLUs ({3 * N + 1:3d} parameters): sup error {shallow[N]:.1e}")
assert shallow[12] > 0.4 and shallow[63] > 0.1 and shallow[64] < 1e-9

# %% [markdown]
# With the same 37 parameters, the deep net is exact and the wide one is off by half the
# sawtooth's height; one hidden layer needs 64 units (193 parameters). Each extra layer doubles
# the number of teeth, so the gap grows exponentially with depth: $2k$ units deep against
# about $2^k$ wide.
#
# The MLP of §1.1 with one hidden layer of 128 ReLU units (`models.DIGITS_MLP_HIDDEN`),
# cross-entropy (§1.2, the Bernoulli loss generalised to ten classes), gradients by
# backpropagation (§1.3, now done by autograd) and Adam. Quick mode trains on scikit-learn's
# 8×8 digits (target ≥ 96 % on the held-out test set); full mode on MNIST (target ≥ 98 %), or on the
# embedded MNIST subset when full MNIST cannot be downloaded. Chapter 2 compares its CNN with
# this model.

# %%
runtime.summary()
runtime.seed(0)
split = data.load(runtime.budget(quick="digits", full="mnist"))
hidden = models.DIGITS_MLP_HIDDEN if split.name == "digits" else models.MNIST_MLP_HIDDEN
mlp = models.mlp(int(np.prod(split.shape)), hidden, 10,
                 dropout=runtime.budget(quick=0.0, full=0.2))
history = train.fit(mlp, split, "cross_entropy", epochs=runtime.budget(quick=30, full=20),
                    lr=runtime.budget(quick=3e-3, full=1e-3),
                    batch_size=runtime.budget(quick=64, full=256))
target = {"digits": 0.96, "mnist": 0.98}.get(split.name)
accuracy = history.test_accuracy[-1]
print(f"{split.name}: {sum(p.numel() for p in mlp.parameters()):,} parameters, "
      f"test accuracy {accuracy:.2%} after {len(history.epoch)} epochs ({history.seconds:.1f} s)")
if target is None:
    print("(full MNIST was not available: no target for the subset)")
else:
    runtime.target(f"{split.name} test accuracy {accuracy:.2%} >= {target:.0%}", accuracy >= target)

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
ax1.plot(history.epoch, history.train_loss, label="train")
ax1.plot(history.epoch, history.test_loss, label="test")
ax1.set(xlabel="epoch", ylabel="cross-entropy", title="loss", yscale="log")
ax1.legend()
ax2.plot(history.epoch, history.test_accuracy)
ax2.set(xlabel="epoch", ylabel="test accuracy", title="held-out accuracy", ylim=(0.8, 1))
fig.tight_layout()
