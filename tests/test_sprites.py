"""The factor sprites of §5.4: seeded, the factors drawn as described, bad input refused."""

import numpy as np
import pytest
import torch

from mplib.sprites import FACTORS, SHAPES, make_sprites, render


def test_shapes_types_and_seed():
    s = make_sprites(300, size=16, seed=3)
    assert s.images.shape == (300, 1, 16, 16) and s.images.dtype == torch.float32
    assert s.factors.shape == (300, 4) and s.factors.dtype == torch.int64
    assert set(s.images.unique().tolist()) <= {0.0, 1.0}
    assert s.names == FACTORS
    t = make_sprites(300, size=16, seed=3)
    assert torch.equal(s.images, t.images) and torch.equal(s.factors, t.factors)
    assert not torch.equal(make_sprites(300, seed=4).factors, s.factors)


def test_factors_cover_their_ranges_and_images_follow_them():
    s = make_sprites(2000, size=20, n_scales=3, n_positions=5, seed=0)
    counts = [len(SHAPES), 3, 5, 5]
    for k, c in enumerate(counts):
        assert set(s.factors[:, k].tolist()) == set(range(c))
    area = s.images.sum((1, 2, 3))
    # A larger scale gives a larger shape (for the same shape).
    for shape in range(3):
        m = [area[(s.factors[:, 0] == shape) & (s.factors[:, 1] == r)].mean() for r in range(3)]
        assert m[0] < m[1] < m[2]
    # The centre of mass moves right with x and down with y.
    cols = (s.images[:, 0].sum(1) * torch.arange(20.0)).sum(1) / area
    rows = (s.images[:, 0].sum(2) * torch.arange(20.0)).sum(1) / area
    mx = [cols[s.factors[:, 2] == i].mean() for i in range(5)]
    my = [rows[s.factors[:, 3] == i].mean() for i in range(5)]
    assert all(np.diff(mx) > 0) and all(np.diff(my) > 0)
    # Every pixel of every sprite stays inside the canvas: nothing touches the border.
    assert s.images[:, 0, 0].sum() == 0 and s.images[:, 0, -1].sum() == 0


def test_render_each_shape_differs_and_is_symmetric():
    imgs = [render(name, 4.0, 8.0, 8.0, 16) for name in SHAPES]
    assert all(i.sum() > 0 for i in imgs)
    assert not np.array_equal(imgs[0], imgs[1]) and not np.array_equal(imgs[1], imgs[2])
    for img in imgs:
        np.testing.assert_array_equal(img, img[:, ::-1])      # left-right symmetric


@pytest.mark.parametrize("call, error, match", [
    (lambda: render("star", 2.0, 4, 4), ValueError, "shape must be one of"),
    (lambda: render("square", 0.0, 4, 4), ValueError, "radius must be a finite number > 0"),
    (lambda: render("square", "2", 4, 4), TypeError, "radius must be a number"),
    (lambda: render("square", 2.0, 4, 4, size=16.0), TypeError, "size must be an integer"),
    (lambda: make_sprites(0), ValueError, "n must be an integer >= 1"),
    (lambda: make_sprites(10.0), TypeError, "n must be an integer"),
    (lambda: make_sprites(10, size=4), ValueError, "size must be an integer >= 8"),
    (lambda: make_sprites(10, n_scales=True), TypeError, "n_scales must be an integer"),
    (lambda: make_sprites(10, seed=-2), ValueError, "seed must be an integer >= 0"),
    (lambda: make_sprites(10, size=8, n_positions=30), ValueError, "n_positions=30 is too many"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
