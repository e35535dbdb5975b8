"""mplib.upsampling (§3.1) against PyTorch, and the upsampling explorer widget."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from mplib import upsampling as U
from mplib.upsampling import FIGURE_INPUT, explore
from mplib.widgets.upsampling import N_OUT, UpsamplingWidget


def test_figures_8_to_10():
    x = FIGURE_INPUT
    assert U.nearest(x).tolist() == [[6, 6, 8, 8], [6, 6, 8, 8], [4, 4, 8, 8], [4, 4, 8, 8]]
    assert U.bed_of_nails(x).tolist() == [[6, 0, 8, 0], [0, 0, 0, 0], [4, 0, 8, 0], [0, 0, 0, 0]]
    _, y = explore("max unpooling", "Figures 8-10 (2x2)", 2, 3)
    assert y.tolist() == [[0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 8, 0], [4, 0, 0, 0]]


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 5), w=st.integers(1, 5), k=st.integers(1, 5), s=st.integers(1, 4),
       seed=st.integers(0, 1000))
def test_against_pytorch(h, w, k, s, seed):
    g = torch.Generator().manual_seed(seed)
    x, K = torch.randn(h, w, generator=g), torch.randn(k, k, generator=g)
    torch.testing.assert_close(U.nearest(x, s),
                               F.interpolate(x[None, None], scale_factor=s, mode="nearest")[0, 0])
    torch.testing.assert_close(U.transposed_conv(x, K, s),
                               F.conv_transpose2d(x[None, None], K[None, None], stride=s)[0, 0])
    big = torch.randn(1, 1, h * s, w * s, generator=g)
    pooled, idx = F.max_pool2d(big, s, stride=s, return_indices=True)
    torch.testing.assert_close(U.max_unpool(pooled[0, 0], idx[0, 0], s),
                               F.max_unpool2d(pooled, idx, s)[0, 0])
    nail = torch.zeros(s, s)
    nail[0, 0] = 1
    torch.testing.assert_close(U.bed_of_nails(x, s), U.transposed_conv(x, nail, s))
    indices = U.pooling_indices((h, w), s, seed)
    torch.testing.assert_close(U.max_unpool(x, indices, s), F.max_unpool2d(
        x[None, None], indices[None, None], s)[0, 0])


def test_bad_arguments():
    x = torch.ones(2, 2)
    with pytest.raises(ValueError, match="method must be one of"):
        U.upsample("bilinear", x)
    with pytest.raises(ValueError, match="s must be an integer >= 1, got 0"):
        U.nearest(x, 0)
    with pytest.raises(TypeError, match="s must be an integer, got float"):
        U.bed_of_nails(x, 2.0)
    with pytest.raises(ValueError, match="x must be a 2-D tensor, got shape"):
        U.bed_of_nails(torch.ones(1, 2, 2))
    with pytest.raises(TypeError, match="x must be a 2-D tensor, got list"):
        U.nearest([[1.0]], 2)
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        U.upsample("transposed convolution", x, k=0)
    with pytest.raises(TypeError, match="k must be an integer"):
        U.upsample("transposed convolution", x, k="3")
    with pytest.raises(TypeError, match="K must be a 2-D tensor"):
        U.transposed_conv(x, 1.0)
    with pytest.raises(ValueError, match="input_name must be one of"):
        U.explore("nearest neighbour", "noise (3x3)", 2, 3)
    with pytest.raises(ValueError, match="indices"):
        U.max_unpool(x, torch.tensor([[0, 1], [2, 99]]))


def test_widget_uses_given_functions():
    calls = []

    def my_nearest(x, s):
        calls.append(s)
        return U.nearest(x, s)

    w = UpsamplingWidget(functions={"nearest neighbour": my_nearest})
    w.controls["s"].value = 3
    assert w.error is None
    assert w.im_out.get_array().shape == (9, 9)   # (3 - 1) * 3 + 3
    w.controls["method"].value = "nearest neighbour"
    assert calls == [3] and w.im_out.get_array().shape == (9, 9)
    visible = sum(t.get_visible() for row in w.t_out for t in row)
    assert visible == 81 and len(w.t_out) == N_OUT
    # every setting of the controls draws without error, the largest output included
    w.controls["input_name"].value = "ramp (3x3)"
    w.controls["s"].value = 4
    w.controls["k"].value = 5
    for method in U.METHODS:
        w.controls["method"].value = method
        assert w.error is None, (method, w.error)
    assert w.im_out.get_array().shape == (N_OUT, N_OUT)


@pytest.mark.parametrize("name", ["Figures 8-10 (2x2)", "ramp (3x3)", "constant (3x3)",
                                  "random (3x3)"])
@pytest.mark.parametrize("method", U.METHODS)
def test_explore_every_setting(method, name):
    for s in (1, 4):
        x, y = explore(method, name, s, 5)
        assert y.shape[0] >= x.shape[0] and y.shape[0] <= N_OUT


def test_red_box_matches_what_pixel_zero_writes():
    from mplib.upsampling import write_footprint
    x = torch.ones(3, 3)
    for method, s, k in [("bed of nails", 3, 3), ("nearest neighbour", 3, 3),
                         ("transposed convolution", 2, 4), ("transposed convolution", 1, 3)]:
        only = torch.zeros_like(x)
        only[0, 0] = 1.0
        y = U.upsample(method, only, s=s, k=k)
        rows, cols = torch.nonzero(y, as_tuple=True)
        side, _ = write_footprint(method, s, k)
        assert int(rows.max()) + 1 == side and int(cols.max()) + 1 == side, method


def test_random_unpooling_positions_are_said_on_screen():
    w = UpsamplingWidget()
    w.draw(2, "max unpooling", "Figures 8-10 (2x2)", 3)
    assert "RANDOM" not in w.ax_out.get_title()
    for name, s in [("ramp (3x3)", 2), ("Figures 8-10 (2x2)", 3)]:
        w.draw(s, "max unpooling", name, 3)
        assert "RANDOM" in w.ax_out.get_title()
