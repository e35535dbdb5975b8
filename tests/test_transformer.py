"""§6.7 transformer: attention = SDPA, mask erratum, causality (hypothesis), widget."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from mplib import likelihood
from mplib import transformer
from mplib.transformer import CausalSelfAttention, CausalTransformer, causal_mask
from mplib.transformer import attention_row
from mplib.widgets.attention import AttentionWidget


def test_attention_equals_sdpa():
    torch.manual_seed(0)
    attn = CausalSelfAttention(d=16, heads=4)
    X = torch.randn(3, 7, 16)
    Y = attn(X)
    split = lambda T: T.view(3, 7, 4, 4).transpose(1, 2)
    ref = F.scaled_dot_product_attention(split(attn.W_Q(X)), split(attn.W_K(X)),
                                         split(attn.W_V(X)), is_causal=True)
    torch.testing.assert_close(Y, attn.W_O(ref.transpose(1, 2).reshape(3, 7, 16)))
    torch.testing.assert_close(attn.attention.sum(-1), torch.ones(3, 4, 7))


def test_mask_as_printed_gives_nan_first_row():
    M = causal_mask(4, include_diagonal=False)
    assert torch.isinf(M[0]).all()
    A = torch.softmax(torch.zeros(4, 4) + M, dim=-1)
    assert torch.isnan(A[0]).all() and not torch.isnan(A[1:]).any()
    assert not torch.isnan(torch.softmax(causal_mask(4), -1)).any()
    with pytest.raises(ValueError, match="n must"):
        causal_mask(0)


@settings(max_examples=20, deadline=None)
@given(i=st.integers(0, 15), seed=st.integers(0, 1000))
def test_transformer_is_autoregressive(i, seed):
    torch.manual_seed(seed % 7)
    model = CausalTransformer(n=16, d=8, heads=2, layers=2).eval()
    x = torch.bernoulli(torch.full((2, 16), 0.5), generator=torch.Generator().manual_seed(seed))
    x2 = x.clone()
    x2[:, i] = 1 - x2[:, i]
    with torch.no_grad():
        a, b = model(x), model(x2)
    torch.testing.assert_close(a[:, :i + 1], b[:, :i + 1])


def test_log_prob_sample_and_table_interface():
    torch.manual_seed(0)
    model = CausalTransformer(n=9, d=8, heads=1, layers=1)
    x = torch.bernoulli(torch.full((4, 9), 0.5))
    assert model.log_prob(x).shape == (4,)
    s = model.sample(3, generator=torch.Generator().manual_seed(0))
    assert s.shape == (3, 9)
    assert likelihood.nll(model, x.view(4, 1, 3, 3))["nats"] > 0
    maps = model.attention_maps()
    assert maps.shape[0] == 1 and maps.shape[-2:] == (9, 9)
    with pytest.raises(ValueError, match="multiple of heads"):
        CausalSelfAttention(10, 3)


def test_attention_widget():
    rng = np.random.default_rng(0)
    maps = rng.random((2, 2, 8, 8)) * np.tril(np.ones((8, 8)))
    maps /= maps.sum(-1, keepdims=True)
    w = AttentionWidget(maps)
    w.controls["query"].value = 7
    assert w.error is None
    np.testing.assert_allclose([b.get_height() for b in w.bars], maps[0, 0, 7])
    w.controls["head"].value = 1
    assert w.error is None
    with pytest.raises(ValueError, match="query"):
        attention_row(maps, 9)


def test_full_mode_size_constructs():
    model = CausalTransformer(n=784, d=128, heads=4, layers=4)  # the notebook's full mode
    x = torch.bernoulli(torch.full((2, 784), 0.3))
    assert model.log_prob(x).shape == (2,)


def test_fused_model_gives_the_same_logits_and_gradients():
    torch.manual_seed(0)
    written = CausalTransformer(n=12, d=8, heads=2, layers=2)
    fused = CausalTransformer(n=12, d=8, heads=2, layers=2, fused=True)
    fused.load_state_dict(written.state_dict())
    x = torch.bernoulli(torch.full((5, 12), 0.5), generator=torch.Generator().manual_seed(1))
    a, b = written(x), fused(x)
    torch.testing.assert_close(a, b)
    a.sum().backward()
    b.sum().backward()
    torch.testing.assert_close(fused.blocks[0].attn.W_Q.weight.grad,
                               written.blocks[0].attn.W_Q.weight.grad)
    with pytest.raises(RuntimeError, match="set_fused"):
        fused.attention_maps()
    fused.set_fused(False)(x)
    assert fused.attention_maps().shape == (2, 5, 2, 12, 12)


def test_strict_mask_dependence_with_the_full_mask_shapes():
    # The notes' strict mask leaks x_i through the query (see tests/test_exercises_ch6c.py);
    # here only the arguments.
    D = transformer.strict_mask_dependence(5, 3, 1, residual=True)
    assert D.shape == (5, 5) and D.dtype == torch.int64
    with pytest.raises(ValueError, match="n"):
        transformer.strict_mask_dependence(1)
    with pytest.raises(ValueError, match="layers"):
        transformer.strict_mask_dependence(5, 3, 0)


@pytest.mark.parametrize("call, error, match", [
    # a wrong type is a TypeError, a right-typed value out of range a ValueError
    (lambda: causal_mask(4.0), TypeError, "n must be an integer"),
    (lambda: CausalSelfAttention(8, heads=True), TypeError, "heads must be an integer"),
    (lambda: CausalSelfAttention(8, heads=0), ValueError, "heads must be an integer >= 1"),
    (lambda: CausalTransformer(n=1), ValueError, "n must be an integer >= 2"),
    (lambda: CausalTransformer(d=8.0), TypeError, "d must be an integer"),
    (lambda: CausalTransformer(layers=0), ValueError, "layers must be an integer >= 1"),
    (lambda: transformer.strict_mask_dependence(5, "4"), TypeError, "d must be an integer"),
    (lambda: attention_row(np.zeros((1, 2, 3, 3)), 1.0), TypeError, "query must be an integer"),
    (lambda: attention_row(np.zeros((1, 2, 3, 3)), 1, head=2), ValueError,
     r"head must be an integer in 0..1"),
])
def test_bad_arguments_raise_the_right_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
