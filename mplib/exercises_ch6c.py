"""Chapter 6c's exercises (§6.6 variational RNN, §6.7 transformers): references, cases, mistakes.

Each ``check_*`` function is what a check cell of notebook 06c calls with the student's answer;
the references here are independent of the notebook, so a solution edited there cannot make
its own check pass. Every case uses fixed, untrained models and fixed noise, so that no check
depends on a training run.
"""

from __future__ import annotations

import math

import torch

from mplib.exercises import Case, Mistake, check_choice, check_function, check_value
from mplib.gaussian import kl_normal, log_normal
from mplib.vrnn import VRNN

# --------------------------------------------------------------------------- §6.6 VRNN step


def vrnn_step(model, x_t, h, eps):
    """One step of a VRNN (no condition): returns (KL_t, NLL_t, h⁽ᵗ⁺¹⁾), shapes (N,), (N,), (N, h).

    prior (μ₀, log σ₀²) = φ_prior(h); posterior (μ, log σ²) = φ_enc([φ_x(x), h]);
    z = μ + σ ε; decoder (μ_x, log σ_x²) = φ_dec([φ_z(z), h]) with log σ_x² clamped to
    [−8, 4]; KL_t = KL(q ‖ prior) and NLL_t = −log N(x; μ_x, σ_x²), each summed over its
    dimensions; h⁽ᵗ⁺¹⁾ = GRU([φ_x(x), φ_z(z)], h).
    """
    fx = model.phi_x(x_t)
    mu_0, logvar_0 = model.phi_prior(h).chunk(2, 1)
    mu, logvar = model.phi_enc(torch.cat([fx, h], 1)).chunk(2, 1)
    z = mu + (0.5 * logvar).exp() * eps
    fz = model.phi_z(z)
    mu_x, logvar_x = model.phi_dec(torch.cat([fz, h], 1)).chunk(2, 1)
    logvar_x = logvar_x.clamp(-8, 4)
    kl = kl_normal(mu, logvar, mu_0, logvar_0)
    nll = -log_normal(x_t, mu_x, logvar_x)
    return kl, nll, model.rnn(torch.cat([fx, fz], 1), h)


def _wrong_step(model, x_t, h, eps, *, kl_reversed=False, z_from_prior=False,
                std_is_logvar=False, h_without_z=False):
    """:func:`vrnn_step` with one realistic mistake switched on (for hints and tests)."""
    fx = model.phi_x(x_t)
    mu_0, logvar_0 = model.phi_prior(h).chunk(2, 1)
    mu, logvar = model.phi_enc(torch.cat([fx, h], 1)).chunk(2, 1)
    if z_from_prior:
        z = mu_0 + (0.5 * logvar_0).exp() * eps
    elif std_is_logvar:
        z = mu + logvar * eps
    else:
        z = mu + (0.5 * logvar).exp() * eps
    fz = model.phi_z(z)
    mu_x, logvar_x = model.phi_dec(torch.cat([fz, h], 1)).chunk(2, 1)
    logvar_x = logvar_x.clamp(-8, 4)
    kl = (kl_normal(mu_0, logvar_0, mu, logvar) if kl_reversed
          else kl_normal(mu, logvar, mu_0, logvar_0))
    nll = -log_normal(x_t, mu_x, logvar_x)
    fz_in = torch.zeros_like(fz) if h_without_z else fz
    return kl, nll, model.rnn(torch.cat([fx, fz_in], 1), h)


def _step_case(x_dim, h_dim, z_dim, N, seed, label):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the model's initial weights
    model = VRNN(x_dim=x_dim, h_dim=h_dim, z_dim=z_dim).eval()
    for p in model.parameters():  # wider weights, so that every mistake moves the numbers
        p.data = torch.randn(p.shape, generator=g) * 0.5
    x_t = torch.randn(N, x_dim, generator=g)
    h = torch.randn(N, h_dim, generator=g).tanh()
    eps = torch.randn(N, z_dim, generator=g)
    return Case((model, x_t, h, eps), label=label)


with torch.random.fork_rng():
    VRNN_STEP_CASES = [
        _step_case(1, 8, 3, 4, 1, "a VRNN with x_dim 1, h_dim 8, z_dim 3; 4 sequences"),
        _step_case(2, 6, 2, 3, 2, "a VRNN with x_dim 2, h_dim 6, z_dim 2; 3 sequences"),
        _step_case(1, 4, 1, 1, 3, "a VRNN with x_dim 1, h_dim 4, z_dim 1; one sequence"),
    ]

VRNN_STEP_MISTAKES = [
    Mistake("KL reversed", "Your KL is KL(prior ‖ posterior). The ELBO's KL is "
            "KL(q(z | x, h) ‖ p(z | h)): the posterior (μ, σ) comes first, the prior "
            "(μ₀, σ₀) second. KL is not symmetric.",
            fn=lambda m, x, h, e: _wrong_step(m, x, h, e, kl_reversed=True)),
    Mistake("z from the prior", "During training z⁽ᵗ⁾ is drawn from the posterior "
            "q(z | x⁽ᵗ⁾, h⁽ᵗ⁾), μ + σ ε with (μ, σ) from φ_enc; the prior is used only to "
            "generate.", fn=lambda m, x, h, e: _wrong_step(m, x, h, e, z_from_prior=True)),
    Mistake("log-variance as σ", "The networks output log σ², not σ: the standard deviation is "
            "exp(½ log σ²).", fn=lambda m, x, h, e: _wrong_step(m, x, h, e, std_is_logvar=True)),
    Mistake("recurrence without z", "The GRU reads both features, [φ_x(x⁽ᵗ⁾), φ_z(z⁽ᵗ⁾)]: "
            "h⁽ᵗ⁺¹⁾ = f(x⁽ᵗ⁾, z⁽ᵗ⁾, h⁽ᵗ⁾).",
            fn=lambda m, x, h, e: _wrong_step(m, x, h, e, h_without_z=True)),
]


def check_vrnn_step(student_fn):
    return check_function(student_fn, vrnn_step, VRNN_STEP_CASES, mistakes=VRNN_STEP_MISTAKES,
                          rtol=1e-4, atol=1e-6, exercise="vrnn_step")


NEGATIVE_ELBO_OPTIONS = {
    "a": "A negative ELBO below 0 is not a bug here. It would be for discrete x, where every "
         "probability is at most 1 and −log p ≥ 0; our x⁽ᵗ⁾ is a real number.",
    "b": "x⁽ᵗ⁾ is continuous, so p(x⁽ᵗ⁾ | z, h) is a density, not a probability. A Gaussian "
         "with σ_x < 1/√(2π) ≈ 0.4 has a density above 1 near its mean, and −log of it is "
         "negative. Only differences of such numbers mean something.",
    "c": "The KL between two Gaussians is never negative (the cell that checks the KL formula "
         "shows the values); the negative part is the reconstruction term.",
    "d": "The ELBO is a lower bound: ELBO ≤ log p(x) always, so −ELBO ≥ −log p(x). A bound "
         "cannot explain a negative value; the densities do.",
}


def check_negative_elbo(answer):
    return check_choice(answer, "b", NEGATIVE_ELBO_OPTIONS,
                        exercise="why the negative ELBO can be below 0")


# --------------------------------------------------------------------------- §6.7 attention


def causal_attention(X, W_Q, W_K, W_V):
    """Y = softmax(Q Kᵀ / √d + M) V, Q = X W_Q, K = X W_K, V = X W_V, M_ij = −∞ for j > i."""
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    n, d = Q.shape
    M = torch.zeros(n, n, dtype=X.dtype).masked_fill(
        torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(Q @ K.T / math.sqrt(d) + M, dim=-1) @ V


def _attention(X, W_Q, W_K, W_V, *, scale="sqrt", diagonal=0, masked=True, dim=-1):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    n, d = Q.shape
    S = Q @ K.T / {"sqrt": math.sqrt(d), "d": d, "none": 1.0}[scale]
    if masked:
        S = S.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(diagonal), float("-inf"))
    return torch.softmax(S, dim=dim) @ V


def _attention_case(n, d, seed, label):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    W = torch.randn(3, d, d, generator=g, dtype=torch.float64)
    return Case((X, W[0], W[1], W[2]), label=label)


ATTENTION_CASES = [
    _attention_case(5, 4, 1, "X of 5 positions, d = 4, random W_Q, W_K, W_V"),
    _attention_case(3, 8, 2, "X of 3 positions, d = 8"),
    _attention_case(6, 2, 3, "X of 6 positions, d = 2"),
]

ATTENTION_MISTAKES = [
    Mistake("strict mask", "The first row is NaN: with −∞ on the diagonal too (the mask as "
            "printed in the notes), position 1 may see nothing, and softmax of a row of −∞ is "
            "0/0. Keep j = i: mask only j > i.", predicate=lambda got, exp: bool(
                torch.isnan(torch.as_tensor(got)[0]).all())),
    Mistake("no mask", "Position i sees the whole sequence, later positions included: add M, "
            "−∞ above the diagonal, before the softmax.",
            fn=lambda X, Q, K, V: _attention(X, Q, K, V, masked=False)),
    Mistake("no scaling", "Divide the scores by √d before the softmax: without it, large "
            "scores make the softmax nearly one-hot.",
            fn=lambda X, Q, K, V: _attention(X, Q, K, V, scale="none")),
    Mistake("scaled by d", "The scores are divided by √d, not by d.",
            fn=lambda X, Q, K, V: _attention(X, Q, K, V, scale="d")),
    Mistake("softmax over queries", "The softmax runs along each row (over the keys j of one "
            "query i, dim=-1), so that each output is a weighted average of values.",
            fn=lambda X, Q, K, V: _attention(X, Q, K, V, dim=0)),
]


def check_causal_attention(student_fn):
    return check_function(student_fn, causal_attention, ATTENTION_CASES,
                          mistakes=ATTENTION_MISTAKES, rtol=1e-6, atol=1e-9,
                          exercise="causal_attention")


STRICT_MASK_OPTIONS = {
    "a": "The mask keeps x_i out of the keys and values of position i, but position i's query "
         "is computed from x_i, and the query decides the weights: x_i steers what output i "
         "reads. The dependence check finds x_i in output i.",
    "b": "Position i's query comes from x_i, so x_i reaches output i through the weights even "
         "without residuals (and directly with X + Attn(X)); without residuals the first L "
         "positions see nothing at all after L layers. The fix is the shift: position i holds "
         "x_{i−1}, and the full mask j ≤ i.",
    "c": "A stack that dropped x_{i−1}, then x_{i−2}, would read only values, but every layer "
         "also computes a query at position i from what position i holds, and that brings x_i "
         "(and everything before it) back in.",
    "d": "Residuals add a direct path, but they are not the only leak: position i's own query "
         "reads x_i in every layer.",
}


def check_strict_mask(answer):
    return check_choice(answer, "b", STRICT_MASK_OPTIONS,
                        exercise="break it: the notes' strict mask on an unshifted input")


# --------------------------------------------------------------------------- §6.7 block size

BLOCK_D, BLOCK_HEADS = 32, 2


def block_parameters(d: int) -> int:
    """Parameters of mplib's transformer block: 12 d² + 10 d, whatever the number of heads.

    Two LayerNorms (2d each), W_Q, W_K, W_V without bias (3d²), W_O with bias (d² + d), the
    MLP d -> 4d -> d with biases (8d² + 5d).
    """
    return 12 * d * d + 10 * d


BLOCK_SIZE = block_parameters(BLOCK_D)


def _attention_params(d):
    return 4 * d * d + d


BLOCK_MISTAKES = [
    Mistake("times heads", "The heads split d into h slices of d/h: W_Q, W_K, W_V and W_O stay "
            "d × d in all, whatever the number of heads.",
            value=BLOCK_SIZE + (BLOCK_HEADS - 1) * _attention_params(BLOCK_D)),
    Mistake("no biases or norms", "Count the biases (W_O: d; the MLP: 4d + d) and the two "
            "LayerNorms (a scale and a shift of d each).", value=12 * BLOCK_D ** 2),
    Mistake("attention only", "The block also has the MLP d -> 4d -> d: 8d² weights and "
            "5d biases, two thirds of the block.", value=_attention_params(BLOCK_D)),
    Mistake("MLP d wide", "The MLP's hidden layer is 4d wide, not d.",
            value=4 * BLOCK_D ** 2 + BLOCK_D + 4 * BLOCK_D + 2 * BLOCK_D ** 2 + 2 * BLOCK_D),
    Mistake("heads of size d", "Each head works in d/h dimensions (d_h = d/h), so its "
            "W_Q, W_K, W_V are d × d_h; h heads together make d × d.",
            predicate=lambda got, exp: float(got) > exp),
]


def check_block_parameters(answer):
    return check_value(answer, BLOCK_SIZE, mistakes=BLOCK_MISTAKES,
                       exercise=f"parameters of a block, d = {BLOCK_D}, {BLOCK_HEADS} heads",
                       explanation="12 d² + 10 d: the number of heads does not change it.")


# --------------------------------------------------------------------------- §6.7 cost

COST_D, COST_K = 32, 3
COST_CROSSOVER = COST_K * COST_D          # n²d > n k d²  <=>  n > k d

COST_MISTAKES = [
    Mistake("k d²", "k·d² is what one position of the convolution costs, not a length. Set "
            "the two costs equal, n²d = n k d², and solve for n.", value=COST_K * COST_D ** 2),
    Mistake("n k d", "With a convolution's cost taken as n k d (as the notes do), the crossing "
            "would be n = k. A convolution mixes d input channels into each of d output "
            "channels at every tap: n k d².", value=COST_K),
    Mistake("d only", "The kernel size counts too: the convolution's cost grows with k, so the "
            "crossing is at n = k·d.", value=COST_D),
    Mistake("square root", "n²d = n k d² gives n = k d after dividing both sides by n d; "
            "no square root.", predicate=lambda got, exp: abs(float(got) - math.sqrt(exp)) < 1),
]


def check_cost_crossover(answer):
    return check_value(answer, COST_CROSSOVER, mistakes=COST_MISTAKES, tol=0.5,
                       exercise=f"length where attention costs more, d = {COST_D}, k = {COST_K}",
                       explanation="n²d > n k d² exactly when n > k d: longer sequences make "
                                   "attention the costlier layer.")
