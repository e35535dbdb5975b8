"""The attention widget on the image grid: labels, bad input, fast redraws equal full ones."""

from __future__ import annotations

import numpy as np
import pytest

from mplib.widgets.attention import AttentionWidget

from test_widgets_render import assert_same_picture  # noqa: E402


def _maps(n=64, seed=0):
    rng = np.random.default_rng(seed)
    maps = rng.random((2, 2, n, n)) * np.tril(np.ones((n, n)))
    return maps / maps.sum(-1, keepdims=True)


def test_image_mode_shows_the_query_row_on_the_grid():
    maps = _maps()
    labels = [f"predicts pixel ({i // 8}, {i % 8})" for i in range(64)]
    w = AttentionWidget(maps, labels=labels, image_shape=(8, 8))
    w.controls["query"].value = 20
    grid = np.asarray(w.im.get_array())
    row = maps[0, 0, 20]
    # key j holds pixel j - 1: pixel 19 (row 2, column 3) carries key 20's weight
    assert grid[2, 3] == pytest.approx(row[20] / row[1:].max())
    assert np.isnan(grid.reshape(-1)[20:]).all()             # pixels query 20 cannot read
    assert not np.isnan(grid.reshape(-1)[:20]).any()
    assert w.row.get_xy() == (20 % 8 - 0.5, 20 // 8 - 0.5)  # the predicted pixel, outlined
    assert "predicts pixel (2, 4)" in w.ax_bar.get_title()
    assert f"start token {row[0]:.2f}" in w.ax_map.get_title()


def test_image_mode_moves_redraw_only_animated_artists():
    w = AttentionWidget(_maps(), image_shape=(8, 8))
    w.controls["query"].value = 60   # late queries: the bars' y-range stays (no full redraw)
    assert_same_picture(w)
    for v in (61, 62, 63):
        before, redraws, picture = w.renders, w.full_redraws, w.image.value
        w.controls["query"].value = v
        assert w.error is None, w.error
        assert w.full_redraws == redraws and w.renders == before + 1
        assert w.image.value != picture
        assert_same_picture(w)


def test_bad_labels_and_image_shape_are_named():
    with pytest.raises(ValueError, match="labels"):
        AttentionWidget(_maps(), labels=["a"] * 10)
    with pytest.raises(ValueError, match="image_shape"):
        AttentionWidget(_maps(), image_shape=(8, 7))
    with pytest.raises(ValueError, match="image_shape"):
        AttentionWidget(_maps(65), image_shape=(8, 8))
    with pytest.raises(ValueError, match="image_shape must be"):
        AttentionWidget(_maps(), image_shape=(8, 8, 1))
    with pytest.raises(TypeError, match=r"image_shape\[1\] must be an integer"):
        AttentionWidget(_maps(), image_shape=(8, 8.0))
    with pytest.raises(ValueError, match=r"image_shape\[0\] must be an integer >= 1"):
        AttentionWidget(_maps(), image_shape=(0, 8))
