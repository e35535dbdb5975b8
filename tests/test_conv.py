"""mplib.conv (§2.1): correlation, convolution and the convolution matrix against PyTorch."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from mplib.conv import conv_matrix, convolve2d, correlate2d, output_shape

SETTINGS = settings(max_examples=40, deadline=None)


def _tensor(seed, shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@st.composite
def image_kernel(draw, max_size=9):
    H = draw(st.integers(1, max_size))
    W = draw(st.integers(1, max_size))
    kh = draw(st.integers(1, H))
    kw = draw(st.integers(1, W))
    seed = draw(st.integers(0, 2**31 - 1))
    return _tensor(seed, (H, W)), _tensor(seed + 1, (kh, kw))


@SETTINGS
@given(image_kernel(), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2))
def test_correlate2d_is_conv2d(ik, stride, padding, dilation):
    I, K = ik
    try:
        expected = F.conv2d(I[None, None], K[None, None], stride=stride, padding=padding,
                            dilation=dilation)[0, 0]
    except RuntimeError:
        with pytest.raises(ValueError, match="kernel K"):
            correlate2d(I, K, stride=stride, padding=padding, dilation=dilation)
        return
    got = correlate2d(I, K, stride=stride, padding=padding, dilation=dilation)
    torch.testing.assert_close(got, expected)


@SETTINGS
@given(image_kernel(), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2))
def test_conv_matrix_is_conv2d(ik, stride, padding, dilation):
    I, K = ik
    try:
        expected = F.conv2d(I[None, None], K[None, None], stride=stride, padding=padding,
                            dilation=dilation)[0, 0]
    except RuntimeError:
        return
    C = conv_matrix(K, I.shape, stride=stride, padding=padding, dilation=dilation)
    assert C.shape == (expected.numel(), I.numel())
    torch.testing.assert_close((C @ I.reshape(-1)).reshape(expected.shape), expected)


def test_conv_matrix_float32_and_doubly_block_toeplitz():
    K = torch.arange(1.0, 10.0).reshape(3, 3)
    x = torch.rand(5, 6)
    C = conv_matrix(K, (5, 6))
    assert C.dtype == torch.float32 and C.shape == (3 * 4, 30)
    torch.testing.assert_close((C @ x.reshape(-1)).reshape(3, 4),
                               F.conv2d(x[None, None], K[None, None])[0, 0])
    # Toeplitz: each row is the row above shifted one to the right (within a block row)
    torch.testing.assert_close(C[1, 1:], C[0, :-1])


def test_conv_matrix_is_differentiable_in_K():
    K = torch.rand(2, 2, requires_grad=True)
    conv_matrix(K, (4, 4)).sum().backward()
    assert K.grad is not None and K.grad.shape == (2, 2)


@SETTINGS
@given(image_kernel(max_size=7), st.sampled_from(["same", "full"]),
       st.sampled_from(["zeros", "circular", "reflect", "replicate"]))
def test_named_padding_and_modes_match_torch(ik, padding, padding_mode):
    I, K = ik
    top, bottom = (K.shape[0] - 1) // 2, K.shape[0] - 1 - (K.shape[0] - 1) // 2
    left, right = (K.shape[1] - 1) // 2, K.shape[1] - 1 - (K.shape[1] - 1) // 2
    if padding == "full":
        top = bottom = K.shape[0] - 1
        left = right = K.shape[1] - 1
    r = padding_mode == "reflect"
    too_large = max(top, bottom) > I.shape[0] - r or max(left, right) > I.shape[1] - r
    if padding_mode != "zeros" and too_large:
        with pytest.raises(ValueError, match="padding"):
            correlate2d(I, K, padding=padding, padding_mode=padding_mode)
        return
    mode = "constant" if padding_mode == "zeros" else padding_mode
    padded = F.pad(I[None, None], (left, right, top, bottom), mode=mode)
    expected = F.conv2d(padded, K[None, None])[0, 0]
    torch.testing.assert_close(correlate2d(I, K, padding=padding, padding_mode=padding_mode),
                               expected)
    if padding == "same":
        assert expected.shape == I.shape


@SETTINGS
@given(image_kernel(), st.floats(-3, 3), st.floats(-3, 3), st.integers(1, 2), st.integers(0, 2))
def test_linearity(ik, alpha, beta, stride, padding):
    x, K = ik
    y = _tensor(7, x.shape)
    for op in (correlate2d, convolve2d):
        lhs = op(alpha * x + beta * y, K, stride=stride, padding=padding)
        rhs = alpha * op(x, K, stride=stride, padding=padding) + beta * op(y, K, stride=stride,
                                                                             padding=padding)
        torch.testing.assert_close(lhs, rhs)


@SETTINGS
@given(image_kernel(max_size=8), st.integers(-8, 8), st.integers(-8, 8))
def test_shift_equivariance_is_exact_with_circular_padding(ik, di, dj):
    x, K = ik
    for op in (correlate2d, convolve2d):
        def C(z):
            return op(z, K, padding="same", padding_mode="circular")

        shifted = torch.roll(x, shifts=(di, dj), dims=(0, 1))
        torch.testing.assert_close(C(shifted), torch.roll(C(x), shifts=(di, dj), dims=(0, 1)))


@SETTINGS
@given(image_kernel(max_size=6))
def test_full_convolution_commutes_and_correlation_is_flipped_convolution(ik):
    I, K = ik
    torch.testing.assert_close(convolve2d(I, K, padding="full"), convolve2d(K, I, padding="full"))
    torch.testing.assert_close(correlate2d(I, K), convolve2d(I, torch.rot90(K, 2)))


def test_correlation_does_not_commute():
    I = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    assert not torch.allclose(correlate2d(I, K, padding="full"), correlate2d(K, I, padding="full"))


def test_convolve2d_formula_by_loops():
    I, K = _tensor(0, (5, 6)), _tensor(1, (2, 3))
    out = convolve2d(I, K)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            # valid convolution: output (i, j) sits at (i + k_h − 1, j + k_w − 1) of I[i − m, j − n]
            a, b = i + K.shape[0] - 1, j + K.shape[1] - 1
            s = sum(I[a - m, b - n] * K[m, n] for m in range(2) for n in range(3))
            torch.testing.assert_close(out[i, j], s)


@pytest.mark.parametrize("kwargs, match", [
    (dict(stride=0), "stride"),
    (dict(stride=-1), "stride"),
    (dict(dilation=0), "dilation"),
    (dict(padding=-1), "padding"),
    (dict(padding="wide"), "padding"),
    (dict(padding_mode="mirror"), "padding_mode"),
    (dict(padding="same", stride=2), "stride"),
    (dict(stride=(1, 0)), r"stride\[1\] must be an integer >= 1"),
    (dict(stride=(1, 1, 1)), "stride must be an int or a pair of ints"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        correlate2d(torch.rand(5, 5), torch.rand(3, 3), **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(stride=1.5), "stride must be an integer, got float"),
    (dict(dilation=True), "dilation must be an integer, got bool"),
    (dict(padding=(1, 1.0)), r"padding\[1\] must be an integer"),
    (dict(stride=(2.0, 1)), r"stride\[0\] must be an integer"),
])
def test_wrong_types(kwargs, match):
    with pytest.raises(TypeError, match=match):
        correlate2d(torch.rand(5, 5), torch.rand(3, 3), **kwargs)


def test_bad_shapes():
    with pytest.raises(ValueError, match="kernel K"):
        correlate2d(torch.rand(3, 3), torch.rand(4, 2))
    with pytest.raises(ValueError, match="kernel K"):
        convolve2d(torch.rand(3, 3), torch.rand(2, 4))
    with pytest.raises(ValueError, match="kernel K"):
        conv_matrix(torch.rand(4, 4), (3, 3))
    assert correlate2d(torch.rand(3, 3), torch.rand(4, 4), padding=1).shape == (2, 2)
    with pytest.raises(ValueError, match="I must be a 2-D"):
        correlate2d(torch.rand(1, 3, 3), torch.rand(2, 2))
    with pytest.raises(ValueError, match="K must be a 2-D"):
        convolve2d(torch.rand(3, 3), torch.rand(2))
    with pytest.raises(TypeError, match="I must be a torch.Tensor"):
        correlate2d([[1.0]], torch.rand(1, 1))
    with pytest.raises(TypeError, match="stride"):
        correlate2d(torch.rand(3, 3), torch.rand(2, 2), stride=1.5)
    with pytest.raises(TypeError, match="input_shape"):
        conv_matrix(torch.rand(2, 2), 5)
    with pytest.raises(ValueError, match="input_shape"):
        conv_matrix(torch.rand(2, 2), (0, 5))


def test_output_shape():
    assert output_shape((28, 28), (5, 5)) == (24, 24)
    assert output_shape((28, 28), (3, 3), stride=2, padding=1) == (14, 14)
    assert output_shape((8, 8), (3, 3), dilation=2) == (4, 4)
    assert output_shape((7, 9), (4, 3), padding="same") == (7, 9)
