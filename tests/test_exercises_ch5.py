"""Chapter 5's exercise checkers: each accepts its reference, rejects realistic wrong answers with
their own hints, says "not tried yet" for a stub; the references agree with PyTorch."""

from __future__ import annotations

import math

import jupytext
import numpy as np
import pytest
import torch

from mplib import exercises_ch5 as ch5
from mplib import gaussian
from mplib.exercises import ExerciseFailed

from exercise_support import (  # noqa: E402,F401  (not_graded: autouse)
    not_graded, rejects_each, run, stub)


# ---------------------------------------------------------------- references against PyTorch


def test_linear_ae_error_is_the_discarded_variance_of_a_real_projection():
    # Data with exactly these covariance eigenvalues (axes-aligned): the best rank-k
    # reconstruction (the top-k principal directions) leaves the sum of the others.
    lam = torch.tensor(ch5.PCA_EIGENVALUES, dtype=torch.float64)
    signs = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
    X = torch.cat([signs * lam.sqrt() * torch.eye(5, dtype=torch.float64)[i] for i in range(5)])
    X = X * math.sqrt(5)                                  # covariance 1/N Xᵀ X = diag(λ)
    torch.testing.assert_close(X.T @ X / len(X), torch.diag(lam))
    U = torch.linalg.eigh(X.T @ X / len(X)).eigenvectors[:, -ch5.PCA_K:]
    err = (X - X @ U @ U.T).pow(2).sum(1).mean().item()
    assert err == pytest.approx(ch5.PCA_ERROR) and ch5.PCA_ERROR == pytest.approx(1.75)


def test_noise_error_matches_simulation():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(2000, ch5.NOISE_PIXELS)
    mask = torch.rand(x.shape, generator=g) < ch5.NOISE_P
    noisy = torch.where(mask, torch.rand(x.shape, generator=g), x)
    assert noisy.pow(2).sum(1).mean().item() == pytest.approx(ch5.NOISE_ERROR, rel=0.01)


def test_kl_reference_matches_torch_distributions():
    for case in ch5.KL_CASES:
        mu, logvar = case.args
        q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
        p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        torch.testing.assert_close(ch5.kl_closed_form(mu, logvar),
                                   torch.distributions.kl_divergence(q, p).sum(-1))
        torch.testing.assert_close(ch5.kl_closed_form(mu, logvar), gaussian.kl_normal(mu, logvar))


def test_reparameterize_gradients_are_the_textbook_ones():
    mu, logvar, eps = ch5.REPARAM_CASES[0].args
    z, dmu, dlogvar = ch5.with_gradients(ch5.reparameterize)(mu, logvar, eps)
    w = torch.linspace(0.5, 1.5, z.numel(), dtype=z.dtype).reshape(z.shape)
    torch.testing.assert_close(dmu, w)
    torch.testing.assert_close(dlogvar, w * 0.5 * torch.exp(0.5 * logvar) * eps)


def test_log_px_estimate_matches_a_direct_mean_and_mplib():
    lw = ch5.IS_CASES[0].args[0]
    torch.testing.assert_close(ch5.log_px_estimate(lw), lw.exp().mean(0).log())
    # The underflow case is finite and shifted by exactly the offset.
    lw2 = ch5.IS_CASES[1].args[0]
    est = ch5.log_px_estimate(lw2)
    assert torch.isfinite(est).all() and not torch.isfinite(lw2.exp().mean(0).log()).any()
    torch.testing.assert_close(est + 800, (lw2 + 800).exp().mean(0).log())


def test_log2pi_break_it_really_goes_unseen_by_the_mc_kl():
    # The flipped constant cancels in log q − log p, and only an absolute density sees it.
    def log_gaussian(z, mu, logvar, sign):
        return -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + sign * math.log(2 * math.pi)).sum(-1)
    mu, logvar = ch5.KL_CASES[0].args
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, dtype=torch.float64)
    zero = torch.zeros_like(mu)
    right = log_gaussian(z, mu, logvar, 1) - log_gaussian(z, zero, zero, 1)
    flipped = log_gaussian(z, mu, logvar, -1) - log_gaussian(z, zero, zero, -1)
    torch.testing.assert_close(right, flipped)
    ref = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    torch.testing.assert_close(log_gaussian(z, mu, logvar, 1), ref)
    assert not torch.allclose(log_gaussian(z, mu, logvar, -1), ref)


# ---------------------------------------------------------------- the checkers


def test_linear_ae_error(capsys):
    fb, out = run(ch5.check_linear_ae_error, lambda: 1.75, capsys)
    assert fb.passed and out.startswith("✓")
    for value, mistake in [(6.0, "kept"), (1.0, "next only"), (0.75, "k off by one"),
                           (7.75, "total")]:
        fb, out = run(ch5.check_linear_ae_error, lambda v=value: v, capsys)
        assert not fb.passed and fb.mistake == mistake and "Hint:" in out, (value, out)
    fb, out = run(ch5.check_linear_ae_error, stub, capsys)
    assert fb.status == "not tried"


def test_noise_error(capsys):
    fb, out = run(ch5.check_noise_error, lambda: 784 * 0.3 / 3, capsys)
    assert fb.passed
    for value, mistake in [(58.8, "E[u] squared"), (19.6, "variance"), (235.2, "count only"),
                           (0.1, "one pixel")]:
        fb, out = run(ch5.check_noise_error, lambda v=value: v, capsys)
        assert not fb.passed and fb.mistake == mistake and "Hint:" in out, (value, out)
    fb, out = run(ch5.check_noise_error, lambda: None, capsys)
    assert fb.status == "not tried"


def test_kl_closed_form(capsys):
    fb, out = run(ch5.check_kl_closed_form, ch5.kl_closed_form, capsys)
    assert fb.passed and "3 test inputs" in out
    fb, out = run(ch5.check_kl_closed_form, gaussian.kl_normal, capsys)
    assert fb.passed
    wrong = {
        "per dimension": lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv - 1),
        "no half": lambda mu, lv: (mu.pow(2) + lv.exp() - lv - 1).sum(-1),
        "mean over j": lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv - 1).mean(-1),
        "sign of log σ²": lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() + lv - 1).sum(-1),
        "no −1": lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv).sum(-1),
        "σ instead of σ²": lambda mu, lv: 0.5 * (mu.pow(2) + (0.5 * lv).exp() - lv - 1).sum(-1),
    }
    rejects_each(ch5.check_kl_closed_form, [(fn, mistake) for mistake, fn in wrong.items()], capsys)
    fb, out = run(ch5.check_kl_closed_form, stub, capsys)
    assert fb.status == "not tried"


def test_reparameterize(capsys):
    fb, out = run(ch5.check_reparameterize, ch5.reparameterize, capsys)
    assert fb.passed and "2 test inputs" in out
    wrong = {
        "σ² for σ": lambda mu, lv, e: mu + lv.exp() * e,
        "sign": lambda mu, lv, e: mu + (-0.5 * lv).exp() * e,
        "no gradient to σ": lambda mu, lv, e: mu + torch.tensor(np.exp(0.5 * lv.detach().numpy())) * e,
        "no gradient to μ": lambda mu, lv, e: mu.detach() + (0.5 * lv).exp() * e,
    }
    rejects_each(ch5.check_reparameterize, [(fn, mistake) for mistake, fn in wrong.items()], capsys)
    # A sample drawn inside instead of the given ε: wrong values, no specific hint needed.
    fb, out = run(ch5.check_reparameterize,
                  lambda mu, lv, e: mu + (0.5 * lv).exp() * torch.randn_like(mu), capsys)
    assert not fb.passed and "value 1 of 3" in out
    fb, out = run(ch5.check_reparameterize, stub, capsys)
    assert fb.status == "not tried"


def test_log2pi_break_it(capsys):
    fb, out = run(ch5.check_log2pi_break_it, "b", capsys)
    assert fb.passed and "independent density" in out
    for wrong in "acd":
        fb, out = run(ch5.check_log2pi_break_it, wrong, capsys)
        assert not fb.passed and "Hint:" in out
    fb, out = run(ch5.check_log2pi_break_it, "e", capsys)
    assert "not one of the options" in out


def test_log_px_estimate(capsys):
    fb, out = run(ch5.check_log_px_estimate, ch5.log_px_estimate, capsys)
    assert fb.passed and "3 test inputs" in out
    wrong = {
        "no −log K": lambda lw: torch.logsumexp(lw, 0),
        "mean of logs": lambda lw: lw.mean(0),
        "underflow": lambda lw: torch.log(torch.exp(lw).mean(0)),
        "wrong axis": lambda lw: torch.logsumexp(lw, 1) - math.log(lw.shape[1]),
    }
    rejects_each(ch5.check_log_px_estimate, [(fn, mistake) for mistake, fn in wrong.items()], capsys)
    fb, out = run(ch5.check_log_px_estimate, stub, capsys)
    assert fb.status == "not tried"


def test_beta_effect(capsys):
    fb, out = run(ch5.check_beta_effect, "a", capsys)
    assert fb.passed
    for wrong in "bcd":
        fb, out = run(ch5.check_beta_effect, wrong, capsys)
        assert not fb.passed and "Hint:" in out


def test_checks_fail_under_the_grader(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseFailed):
        ch5.check_kl_closed_form(stub)
    with pytest.raises(ExerciseFailed):
        ch5.check_log_px_estimate(lambda lw: lw.mean(0))
    ch5.check_reparameterize(ch5.reparameterize)


def test_every_section_has_an_exercise():
    from pathlib import Path
    nb = jupytext.read(Path(__file__).resolve().parents[1] / "notebooks" / "05_autoencoders.py")
    section, found = None, {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## 5."):
                    section = line.split()[1]
        if cell.metadata.get("nbgrader", {}).get("solution"):
            found[section] = found.get(section, 0) + 1
    assert set(found) == {"5.1", "5.2", "5.3", "5.4"} and sum(found.values()) >= 5, found
