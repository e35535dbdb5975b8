"""Chapter 5's exercises: reference solutions, test inputs and known mistakes.

Each ``check_*`` function is what a check cell of notebook 05 calls with the student's answer.
The references here are independent of the notebook, so a solution edited there cannot make
its own check pass. No checker depends on a trained model: every expected value is computed
exactly from fixed inputs.
"""

from __future__ import annotations

import math

import torch

from mplib.exercises import Case, Mistake, check_choice, check_function, check_value

# --------------------------------------------------------------------------- §5.1 linear AE

# Eigenvalues of the data covariance (1/N Σ x xᵀ of centred data), in decreasing order, and the
# code size k. The best linear autoencoder projects onto the top-k eigenvectors, so its mean
# squared reconstruction error is the sum of the eigenvalues it leaves out.
PCA_EIGENVALUES = (4.0, 2.0, 1.0, 0.5, 0.25)
PCA_K = 2
PCA_ERROR = sum(PCA_EIGENVALUES[PCA_K:])                                       # 1.75

PCA_MISTAKES = [
    Mistake("kept", "That is the variance the code *keeps* (the top k eigenvalues). The error "
            "is what the projection throws away.", value=sum(PCA_EIGENVALUES[:PCA_K])),
    Mistake("next only", "That is only the largest discarded eigenvalue; every direction "
            "outside the k-dimensional subspace adds its variance to the error.",
            value=PCA_EIGENVALUES[PCA_K]),
    Mistake("k off by one", "Count again: with k = 2 the code keeps two directions, and the "
            "error is the sum of the other three eigenvalues.",
            value=sum(PCA_EIGENVALUES[PCA_K + 1:])),
    Mistake("total", "That is the total variance, the error of a code that keeps nothing (k = 0).",
            value=sum(PCA_EIGENVALUES)),
]


def check_linear_ae_error(answer):
    return check_value(answer, PCA_ERROR, mistakes=PCA_MISTAKES, tol=1e-6,
                       exercise="linear AE error from PCA",
                       explanation="The optimum W_d W_e is the projection onto the top-k principal "
                       "directions, so the error is λ₃ + λ₄ + λ₅; the cell below checks the same "
                       "identity on the digits.")


# --------------------------------------------------------------------------- §5.2 denoising

# C(x̃ | x) replaces a pixel by u ~ U(0, 1) with probability p. For a black pixel (x = 0) the
# expected squared error is p · E[u²] = p / 3; an all-black image has NOISE_PIXELS of them.
NOISE_P, NOISE_PIXELS = 0.3, 784
NOISE_ERROR = NOISE_PIXELS * NOISE_P / 3                                      # 78.4

NOISE_MISTAKES = [
    Mistake("E[u] squared", "(E[u])² = 1/4 is not E[u²]: the mean of the square of a uniform "
            "number on [0, 1] is ∫ u² du = 1/3.", value=NOISE_PIXELS * NOISE_P / 4),
    Mistake("variance", "Var(u) = 1/12 is the spread around 1/2; the error is measured from "
            "x = 0, so you need E[(u − 0)²] = 1/3.", value=NOISE_PIXELS * NOISE_P / 12),
    Mistake("count only", "That counts the replaced pixels, as if each cost 1. A replaced pixel "
            "costs (u − 0)², which is 1/3 on average.", value=NOISE_PIXELS * NOISE_P),
    Mistake("one pixel", "That is the error of one pixel; the squared error of an image sums "
            "over all 784 pixels.", value=NOISE_P / 3),
]


def check_noise_error(answer):
    return check_value(answer, NOISE_ERROR, mistakes=NOISE_MISTAKES, rtol=1e-3,
                       exercise="squared error of a corrupted black image",
                       explanation="784 pixels × p × E[u²] = 784 × 0.3 × 1/3. The cell below "
                       "checks the general formula Σ_i p (1/3 − x_i + x_i²) on the test digits.")


# --------------------------------------------------------------------------- §5.3 the KL term

def kl_closed_form(mu, logvar):
    """D_KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), over the last dim."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(-1)


def _pair(seed, shape):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64),
            0.8 * torch.randn(shape, generator=g, dtype=torch.float64))


KL_CASES = [
    Case(_pair(0, (3, 4)), label="μ, log σ² of 3 examples with d = 4 (random)"),
    Case((torch.zeros(2, 5, dtype=torch.float64), torch.zeros(2, 5, dtype=torch.float64)),
         label="μ = 0, log σ² = 0 (q is the prior: KL = 0)"),
    Case(_pair(1, (6,)), label="one example with d = 6 (a 1-D tensor)"),
]

KL_MISTAKES = [
    Mistake("per dimension", "Sum over the latent dimensions (the last axis): the KL of a "
            "factorised Gaussian is the sum of the KLs of its coordinates, one number per example.",
            predicate=lambda got, exp: tuple(got.shape) == tuple(exp.shape) + (got.shape[-1],)),
    Mistake("no half", "The closed form has a factor ½ in front of the sum.",
            fn=lambda mu, lv: (mu.pow(2) + lv.exp() - lv - 1).sum(-1)),
    Mistake("mean over j", "Sum over the latent dimensions, do not average them.",
            fn=lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv - 1).mean(-1)),
    Mistake("sign of log σ²", "−log σ² enters with a minus sign: the term σ² − log σ² − 1 is "
            "zero at σ = 1 and positive everywhere else.",
            fn=lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() + lv - 1).sum(-1)),
    Mistake("no −1", "Without the −1 the KL of q = p would be d/2, not 0: check μ = 0, σ = 1.",
            fn=lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv).sum(-1)),
    Mistake("σ instead of σ²", "logvar is log σ², so σ² = exp(logvar), not exp(½ logvar).",
            fn=lambda mu, lv: 0.5 * (mu.pow(2) + (0.5 * lv).exp() - lv - 1).sum(-1)),
]


def check_kl_closed_form(student_fn):
    return check_function(student_fn, kl_closed_form, KL_CASES, mistakes=KL_MISTAKES,
                          exercise="kl_closed_form")


# --------------------------------------------------------------------------- §5.3 reparameterise

def reparameterize(mu, logvar, epsilon):
    """z = μ + σ ⊙ ε with σ = exp(½ log σ²)."""
    return mu + torch.exp(0.5 * logvar) * epsilon


def with_gradients(fn):
    """``fn(mu, logvar, epsilon)`` -> (z, ∂L/∂μ, ∂L/∂log σ²) for L = Σ_i w_i z_i, fixed w.

    Both value and gradients are compared, so an answer whose z is right but whose gradient
    does not reach μ or log σ² (a detach, a sample drawn inside) is caught.
    """
    def run(mu, logvar, epsilon):
        mu = mu.clone().requires_grad_()
        logvar = logvar.clone().requires_grad_()
        z = fn(mu, logvar, epsilon)
        if not torch.is_tensor(z):
            return z
        w = torch.linspace(0.5, 1.5, z.numel(), dtype=z.dtype).reshape(z.shape)
        if not z.requires_grad:
            return z.detach(), torch.zeros_like(mu), torch.zeros_like(logvar)
        grads = torch.autograd.grad((w * z).sum(), [mu, logvar], allow_unused=True)
        grads = [torch.zeros_like(p) if gr is None else gr for gr, p in zip(grads, (mu, logvar))]
        return z.detach(), grads[0], grads[1]

    run.__name__ = getattr(fn, "__name__", "reparameterize")
    return run


def _reparam_case(seed, shape):
    g = torch.Generator().manual_seed(seed)
    mu, logvar = _pair(seed, shape)
    return (mu, logvar, torch.randn(shape, generator=g, dtype=torch.float64))


REPARAM_CASES = [
    Case(_reparam_case(2, (3, 4)), label="μ, log σ², ε of shape (3, 4); values and gradients"),
    Case(_reparam_case(3, (5,)), label="μ, log σ², ε of shape (5,); values and gradients"),
]

REPARAM_MISTAKES = [
    Mistake("σ² for σ", "σ = exp(½ log σ²); exp(log σ²) is the variance σ².",
            fn=with_gradients(lambda mu, lv, e: mu + lv.exp() * e)),
    Mistake("sign", "σ = exp(+½ log σ²): a larger log-variance must give a wider sample.",
            fn=with_gradients(lambda mu, lv, e: mu + (-0.5 * lv).exp() * e)),
    Mistake("log σ² as σ", "logvar is log σ², not σ: take exp(½ logvar) before multiplying.",
            fn=with_gradients(lambda mu, lv, e: mu + lv * e)),
    Mistake("no gradient to σ", "z has the right values but no gradient reaches log σ²: do not "
            "detach σ (or compute it from .data / numpy); the point of the trick is that "
            "∂z/∂ log σ² = ½ σ ε flows back.",
            fn=with_gradients(lambda mu, lv, e: mu + (0.5 * lv).exp().detach() * e)),
    Mistake("no gradient to μ", "z has the right values but no gradient reaches μ: keep μ in "
            "the graph (no .detach(), no torch.tensor(...) copy); ∂z/∂μ = 1.",
            fn=with_gradients(lambda mu, lv, e: mu.detach() + (0.5 * lv).exp() * e)),
]


def check_reparameterize(student_fn):
    student = with_gradients(student_fn) if callable(student_fn) else student_fn
    return check_function(student, with_gradients(reparameterize), REPARAM_CASES,
                          mistakes=REPARAM_MISTAKES, exercise="reparameterize (value, ∂/∂μ, "
                          "∂/∂log σ²)")


# --------------------------------------------------------------------------- §5.3 log 2π break-it

LOG2PI_OPTIONS = {
    "a": "The Monte-Carlo KL check. — No: the KL estimate is log q(z) − log p(z), and both use "
         "log_gaussian, so the same wrong constant (d log 2π in all) cancels in the difference.",
    "b": "The check against torch.distributions.Normal(μ, σ).log_prob. — Yes: only a check "
         "against an independent density sees the constant; every difference of two "
         "log_gaussian values hides it.",
    "c": "No check fails, so the constant does not matter. — It does matter for log p(x): the "
         "importance weights use log p(z) − log q(z|x), where it cancels, but any absolute "
         "density (a likelihood of continuous data, a table in nats) would be off by d log 2π.",
    "d": "The reparameterisation gradient check. — No: that check never calls log_gaussian.",
}


def check_log2pi_break_it(answer):
    return check_choice(answer, "b", LOG2PI_OPTIONS, exercise="flip the sign of log 2π")


# --------------------------------------------------------------------------- §5.3 importance sampling

def log_px_estimate(log_w):
    """log p̂_K(x) = log (1/K) Σ_k exp(log w_k) from log-weights (K, B), stably -> (B,)."""
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


def _log_w(seed, K, B, offset=0.0):
    g = torch.Generator().manual_seed(seed)
    return offset + 2.0 * torch.randn(K, B, generator=g, dtype=torch.float64)


IS_CASES = [
    Case((_log_w(4, 5, 3),), label="log-weights of K = 5 samples for B = 3 images"),
    Case((_log_w(5, 4, 2, offset=-800.0),),
         label="K = 4, B = 2, log-weights near −800 (exp underflows to 0)"),
    Case((_log_w(6, 1, 4),), label="K = 1, B = 4 (the estimate is the single log-weight)"),
]

IS_MISTAKES = [
    Mistake("no −log K", "That is log Σ_k w_k: the average (1/K) Σ_k w_k needs − log K. Without "
            "it the estimate is too high by log K nats, a bound that rises with K for no reason.",
            fn=lambda lw: torch.logsumexp(lw, 0)),
    Mistake("mean of logs", "That is the mean of the log-weights, the ELBO. Importance sampling "
            "takes the log of the mean of the weights, which is larger (Jensen).",
            fn=lambda lw: lw.mean(0)),
    Mistake("underflow", "Right formula, but exp(−800) is 0 in floating point, so the log gives "
            "−inf. Subtract the largest log-weight first, or use torch.logsumexp.",
            fn=lambda lw: torch.log(torch.exp(lw).mean(0))),
    Mistake("wrong axis", "The K samples are along dim 0; the result has one number per image.",
            predicate=lambda got, exp: tuple(torch.as_tensor(got).shape) != tuple(exp.shape)),
]


def check_log_px_estimate(student_fn):
    return check_function(student_fn, log_px_estimate, IS_CASES, mistakes=IS_MISTAKES,
                          exercise="log_px_estimate")


# --------------------------------------------------------------------------- §5.4 β

BETA_OPTIONS = {
    "a": "Reconstruction error up, KL down. — Yes: β = 4 makes each nat of KL four times as "
         "expensive, so the optimum buys fewer nats of information about x, and the decoder "
         "reconstructs worse with less.",
    "b": "Both down. — Both cannot improve: β = 1 was already trading one against the other, "
         "and a larger β only changes the exchange rate in favour of a small KL.",
    "c": "Reconstruction error down, KL up. — That is what a smaller β (< 1) does: the KL gets "
         "cheaper, the code carries more information.",
    "d": "Neither moves much: β only rescales the loss. — Rescaling both terms would not move "
         "the optimum, but β weights only the KL, so the balance between them moves.",
}


def check_beta_effect(answer):
    return check_choice(answer, "a", BETA_OPTIONS, exercise="β from 1 to 4")
