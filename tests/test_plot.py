"""mplib.plot: the image grid and the array drawing check their arguments."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from mplib import plot


def test_image_grid_lays_out_rows_and_columns():
    fig = plot.image_grid(np.zeros((7, 1, 4, 4)), ncols=3, titles=list("abcdefg"))
    assert len(fig.axes) == 9                          # 3 rows of 3, the last two empty
    assert [ax.get_title() for ax in fig.axes[:7]] == list("abcdefg")
    plt.close(fig)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(ncols=0), ValueError, "ncols must be an integer >= 1"),
    (dict(ncols=2.0), TypeError, "ncols must be an integer"),
    (dict(ax_size=0), ValueError, "ax_size must be a finite number > 0"),
    (dict(ax_size="1"), TypeError, "ax_size must be a number"),
    (dict(titles=["one"]), ValueError, "titles must have one entry per image"),
])
def test_image_grid_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.image_grid(np.zeros((3, 4, 4)), **kwargs)


def test_show_array_needs_a_matrix():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="A must be a 2-D array"):
        plot.show_array(ax, np.zeros(3))
    plt.close(fig)
