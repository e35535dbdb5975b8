"""§6.4 PixelCNN: masks, causality (hypothesis), blind spot, colour ordering, widget."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mplib import likelihood
from mplib.pixelcnn import (MaskedConv2d, PixelCNN, TwoStackPixelCNN, causality_violations,
                            footprint, footprint_net, ideal_region, pixelcnn_mask)
from mplib.pixelcnn import footprint_map
from mplib.widgets.blind_spot import BlindSpotWidget


def test_mask_types_a_and_b():
    A = pixelcnn_mask(3, "A")[0, 0]
    B = pixelcnn_mask(3, "B")[0, 0]
    torch.testing.assert_close(A, torch.tensor([[1., 1, 1], [1, 0, 0], [0, 0, 0]]))
    torch.testing.assert_close(B, torch.tensor([[1., 1, 1], [1, 1, 0], [0, 0, 0]]))


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="mask_type"):
        pixelcnn_mask(3, "C")
    with pytest.raises(ValueError, match="kernel_size"):
        pixelcnn_mask(4, "A")
    with pytest.raises(ValueError, match="color_channels"):
        pixelcnn_mask(3, "A", 4, 6, color_channels=3)
    with pytest.raises(ValueError, match="image_size"):
        PixelCNN(image_size=(8,))
    with pytest.raises(ValueError, match="x must have shape"):
        PixelCNN(channels=4, layers=2).log_prob(torch.zeros(2, 1, 5, 5))
    with pytest.raises(ValueError, match="kind"):
        footprint_map("gated", 2, (5, 5))


@pytest.mark.parametrize("call, error, match", [
    # a wrong type is a TypeError, a right-typed value out of range a ValueError
    (lambda: pixelcnn_mask(3.0, "A"), TypeError, "kernel_size must be an integer"),
    (lambda: pixelcnn_mask(0, "A"), ValueError, "kernel_size must be an integer >= 1"),
    (lambda: PixelCNN(channels=True), TypeError, "channels must be an integer"),
    (lambda: TwoStackPixelCNN(layers=0), ValueError, "layers must be an integer >= 1"),
    (lambda: PixelCNN(image_size=8), TypeError, "image_size must be a pair"),
    (lambda: PixelCNN(image_size=(8, 8.0)), TypeError, r"image_size \(each side\)"),
    (lambda: TwoStackPixelCNN(image_size=(8, 0)), ValueError, r"image_size \(each side\)"),
    (lambda: PixelCNN(4, 2).sample(2.0), TypeError, "num must be an integer"),
    (lambda: footprint_net("gated", 2), ValueError, "kind must be one of"),
    (lambda: footprint(footprint_net("plain", 1), (5, 5), (5, 0)), ValueError,
     r"pixel \(row\)"),
    (lambda: ideal_region((5, 5), (0, 1.5), 2), TypeError, r"pixel \(column\)"),
    (lambda: footprint_map("plain", 9, (5, 5)), ValueError, "layers must be an integer in 1..8"),
    (lambda: footprint_map("plain", 2.0, (5, 5)), TypeError, "layers must be an integer"),
    (lambda: causality_violations(PixelCNN(4, 2), torch.zeros(5, 5), atol=-1.0), ValueError,
     "atol"),
])
def test_bad_arguments_raise_the_right_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _raster_before(size, pixel):
    H, W = size
    rows, cols = np.ogrid[:H, :W]
    i, j = pixel
    return (rows < i) | ((rows == i) & (cols < j))


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(["plain", "two-stack"]), layers=st.integers(1, 4),
       i=st.integers(0, 8), j=st.integers(0, 8))
def test_every_footprint_lies_before_the_pixel(kind, layers, i, j):
    seen = footprint(footprint_net(kind, layers), (9, 9), (i, j))
    assert not (seen & ~_raster_before((9, 9), (i, j))).any()


@settings(max_examples=15, deadline=None)
@given(layers=st.integers(1, 4), i=st.integers(0, 8), j=st.integers(0, 8))
def test_two_stack_has_no_blind_spot(layers, i, j):
    seen = footprint(footprint_net("two-stack", layers), (9, 9), (i, j))
    assert (seen == ideal_region((9, 9), (i, j), layers)).all()


def test_plain_stack_has_a_blind_spot_that_grows():
    blind = [int((footprint_map("plain", L, (8, 5)) == 2).sum()) for L in (1, 2, 3, 4)]
    assert blind == [0, 1, 3, 6]
    assert (footprint_map("two-stack", 4, (8, 5)) == 2).sum() == 0


def test_random_weights_trained_models_are_causal():
    torch.manual_seed(0)
    for net in (PixelCNN(8, 3, image_size=(6, 6)), TwoStackPixelCNN(8, 3, image_size=(6, 6))):
        x = torch.bernoulli(torch.full((1, 1, 6, 6), 0.5))
        for pixel in [(0, 0), (3, 2), (5, 5)]:
            assert not (footprint(net, (6, 6), pixel, x) & ~_raster_before((6, 6), pixel)).any()


def test_rgb_masks_by_autograd():
    torch.manual_seed(0)
    net = torch.nn.Sequential(MaskedConv2d(3, 6, 3, "A", 3), torch.nn.Tanh(),
                              MaskedConv2d(6, 6, 3, "B", 3), torch.nn.Tanh(),
                              MaskedConv2d(6, 3, 3, "B", 3))
    x = torch.randn(1, 3, 5, 5, requires_grad=True)
    sees = []
    for c in range(3):
        (g,) = torch.autograd.grad(net(x)[0, c, 2, 2], x)
        sees.append((g[0, :, 2, 2] != 0).tolist())
    assert sees == [[False, False, False], [True, False, False], [True, True, False]]


def test_log_prob_sample_and_likelihood_nll():
    torch.manual_seed(0)
    for cls in (PixelCNN, TwoStackPixelCNN):
        net = cls(channels=8, layers=2, image_size=(4, 4))
        x = torch.bernoulli(torch.full((5, 1, 4, 4), 0.5))
        lp = net.log_prob(x)
        assert lp.shape == (5,) and (lp < 0).all()
        torch.testing.assert_close(net.log_prob(x.flatten(1)), lp)
        s = net.sample(3, generator=torch.Generator().manual_seed(0))
        assert s.shape == (3, 1, 4, 4) and set(s.unique().tolist()) <= {0.0, 1.0}
        assert likelihood.nll(net, x)["nats"] == pytest.approx(-float(lp.detach().mean()), rel=1e-5)


def test_full_size_models_construct():
    for cls in (PixelCNN, TwoStackPixelCNN):  # the notebook's full-mode size
        net = cls(channels=64, layers=7, kernel_size=5, image_size=(28, 28))
        assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 1, 28, 28)


def test_blind_spot_widget_shows_the_blind_spot():
    w = BlindSpotWidget()
    w.controls["layers"].value = 4
    assert w.error is None
    assert (w.im.get_array() == 2).sum() == 6
    w.controls["kind"].value = "two-stack"
    assert (w.im.get_array() == 2).sum() == 0


def test_full_causality_check_catches_a_row_leak():
    from mplib.pixelcnn import causality_violations, flip_changes, inject_row_leak
    torch.manual_seed(0)
    for model in (PixelCNN(8, 3, kernel_size=5, image_size=(6, 7)),
                  TwoStackPixelCNN(8, 3, kernel_size=5, image_size=(6, 7))):
        x = torch.bernoulli(torch.full((1, 1, 6, 7), 0.5))
        assert not causality_violations(model, x)
        changes = flip_changes(model, x)
        assert changes.shape == (42, 42) and (changes.tril(-1) > 1e-6).any()  # it sees the past
    inject_row_leak(model)
    bad = causality_violations(model, x)
    # The leak: pixel (i, j) reads (i, j + 1) and (i, j + 2) in the first layer, and the later
    # vertical layers spread it along the row (to x_ij itself too); no other row is touched.
    assert {1, 2} <= {p - o for o, p in bad} and all(o // 7 == p // 7 for o, p in bad)
    with pytest.raises(TypeError, match="TwoStackPixelCNN"):
        inject_row_leak(PixelCNN(4, 2, image_size=(6, 7)))
    with pytest.raises(ValueError, match="x must hold one image"):
        flip_changes(model, torch.zeros(2, 1, 5, 5))
    # A crop: the same convolutional weights on a smaller image, n = 4·5.
    assert flip_changes(model, x[..., :4, :5]).shape == (20, 20)
