"""mplib.segmentation: the synthetic shapes set (§3.2), mean IoU and the boundary band."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mplib import segmentation as S


def test_shapes_dtypes_and_range():
    X, y = S.make_shapes(20, 32, seed=0)
    assert X.shape == (20, 1, 32, 32) and X.dtype == torch.float32
    assert y.shape == (20, 32, 32) and y.dtype == torch.int64
    assert 0.0 <= float(X.min()) and float(X.max()) <= 1.0
    assert set(y.unique().tolist()) <= {0, 1, 2, 3}
    assert (y > 0).flatten(1).any(1).all(), "every image holds at least one shape"
    counts = torch.bincount(y.flatten(), minlength=4)
    assert (counts[1:] > 0).all(), "all three shape classes occur"


def test_seeding_is_reproducible():
    a, b, c = S.make_shapes(5, seed=3), S.make_shapes(5, seed=3), S.make_shapes(5, seed=4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_labels_match_the_drawn_shapes():
    # Without noise and texture the background is one grey level per image; every shape
    # differs from it by at least 0.25, so "pixel differs from the background" == "label > 0".
    X, y = S.make_shapes(30, 32, noise=0.0, texture=0.0, seed=1)
    for img, lab in zip(X[:, 0], y):
        background = img[lab == 0]
        assert torch.allclose(background, background[0].expand_as(background))
        assert torch.equal((img - background[0]).abs() > 0.2, lab > 0)


def test_draw_shape_geometry():
    disc = S.draw_shape("circle", 41, 20, 20, 10)
    assert abs(int(disc.sum()) - np.pi * 100) < 20
    assert np.array_equal(disc, disc.T) and np.array_equal(disc, disc[::-1])
    square = S.draw_shape("square", 41, 20, 20, 10)
    side = 2 * int(0.85 * 10) + 1
    assert int(square.sum()) == side * side
    tri = S.draw_shape("triangle", 41, 20, 20, 10)
    widths = tri.sum(1)
    rows = np.nonzero(widths)[0]
    assert widths[rows[0]] < widths[rows[-1]], "apex at the top, base at the bottom"
    assert np.array_equal(tri, tri[:, ::-1]), "left-right symmetric"


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n=0), ValueError, "n must be an integer >= 1"),
    (dict(n=2.5), TypeError, "n must be an integer"),
    (dict(n=3, size=8), ValueError, "size must be an integer >= 16"),
    (dict(n=3, max_shapes=0), ValueError, "max_shapes must be an integer >= 1"),
    (dict(n=3, noise=-1), ValueError, "noise must be a finite number >= 0"),
    (dict(n=3, noise="0.1"), TypeError, "noise must be a number"),
    (dict(n=3, texture=float("nan")), ValueError, "texture must be a finite number"),
    (dict(n=3, seed=-1), ValueError, "seed must be an integer >= 0"),
    (dict(n=3, seed=None), TypeError, "seed must be an integer"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        S.make_shapes(**kwargs)


def test_draw_shape_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        S.draw_shape("hexagon", 10, 5, 5, 2)
    with pytest.raises(ValueError, match="r must be a finite number > 0"):
        S.draw_shape("circle", 10, 5, 5, 0)
    with pytest.raises(TypeError, match="size must be an integer"):
        S.draw_shape("circle", 10.0, 5, 5, 2)
    with pytest.raises(TypeError, match="cx must be a number"):
        S.draw_shape("circle", 10, None, 5, 2)


def test_mean_iou_by_hand():
    target = torch.tensor([[0, 0, 1], [0, 2, 2]])
    pred = torch.tensor([[0, 1, 1], [0, 2, 0]])
    iou = S.iou_per_class(pred, target, 4)
    torch.testing.assert_close(iou[:3], torch.tensor([2 / 4, 1 / 2, 1 / 2], dtype=torch.float64))
    assert torch.isnan(iou[3]), "a class in neither map has no IoU"
    assert S.mean_iou(pred, target, 4) == pytest.approx((0.5 + 0.5 + 0.5) / 3)
    assert S.mean_iou(target, target, 3) == 1.0


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_mean_iou_properties(seed):
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randint(0, 3, (2, 6, 6), generator=g)
    assert S.mean_iou(a, b, 3) == pytest.approx(S.mean_iou(b, a, 3))  # symmetric
    assert 0.0 <= S.mean_iou(a, b, 3) <= 1.0


def test_mean_iou_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        S.mean_iou(torch.zeros(2, 2, dtype=torch.long), torch.zeros(3, dtype=torch.long), 2)
    with pytest.raises(TypeError, match="integer"):
        S.mean_iou(torch.zeros(2), torch.zeros(2), 2)
    with pytest.raises(ValueError, match="target"):
        S.mean_iou(torch.zeros(2, dtype=torch.long), torch.tensor([0, 5]), 2)
    with pytest.raises(ValueError, match="num_classes"):
        S.mean_iou(torch.zeros(2, dtype=torch.long), torch.zeros(2, dtype=torch.long), 0)


def test_boundary_band():
    y = torch.zeros(8, 8, dtype=torch.long)
    y[2:6, 2:6] = 1
    band = S.boundary_band(y)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[1:7, 1:7] = True
    expected[3:5, 3:5] = False
    assert torch.equal(band, expected)
    assert S.boundary_band(y[None]).shape == (1, 8, 8)
    with pytest.raises(ValueError, match="width"):
        S.boundary_band(y, width=0)
    with pytest.raises(TypeError, match="target must be an integer tensor"):
        S.boundary_band(y.float())
    with pytest.raises(ValueError, match="target must be an integer tensor .* got shape"):
        S.boundary_band(y.reshape(-1))


def test_foreground_iou_by_hand():
    target = torch.tensor([[0, 1, 1], [0, 2, 0]])
    pred = torch.tensor([[0, 2, 1], [3, 0, 0]])  # class errors do not count, place errors do
    # shape pixels: target {(0,1), (0,2), (1,1)}, pred {(0,1), (0,2), (1,0)}: 2 of 4
    assert S.foreground_iou(pred, target) == pytest.approx(2 / 4)
    mask = torch.tensor([[False, True, True], [False, False, False]])
    assert S.foreground_iou(pred, target, mask) == pytest.approx(1.0)
    assert S.foreground_iou(target, target) == 1.0


def test_foreground_iou_bad_input():
    t = torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="no shape pixel"):
        S.foreground_iou(t, t)
    with pytest.raises(ValueError, match="mask"):
        S.foreground_iou(t, t, torch.ones(3, 2, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask"):
        S.foreground_iou(t, t, torch.ones(2, 3))
