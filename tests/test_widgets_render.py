"""The widgets' fast render path, tested without timing anything.

A slider move that leaves the layout alone must not redraw the whole figure (the count
``full_redraws`` stays put), and what the fast path shows must be, pixel for pixel, what a
redraw from scratch shows. Every widget of ``benchmarks/widget_factories.FACTORIES`` is covered.
"""

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from widget_factories import FACTORIES  # noqa: E402

from mplib.widgets.view import nice_ceiling, round_limits  # noqa: E402

# per widget: (control, values) whose moves change artists but not the axes or their ticks
STEADY = {
    "neuron (00)": [("w", [0.5, 2.0, -1.5]), ("b", [1.0, -2.0])],
    "perceptron (01)": [("t", [1, 50, 300, 0])],
    "universal approximation (01)": [("N", [40, 41, 42])],
    "receptive field (02)": [("row", [0, 3, 2]), ("column", [0, 3, 1])],
    "upsampling explorer (03)": [("s", [1, 3, 4]), ("k", [1, 5])],
    "vanishing gradients (04)": [("scale", [2.0, 2.05, 2.1, 2.2, 2.3])],
    "latent interpolation (05)": [("t", [0.1, 0.5, 0.9])],
    "MADE masks (06a)": [("output_rule", None), ("output_rule", None)],
    "PixelCNN blind spot (06b)": [("layers", [1, 3, 5]), ("row", [4, 8]), ("kind", ["two-stack"])],
    "WaveNet dilation (06b)": [("output", [3, 17, 30])],
    "attention map (06c)": [("query", [60, 61, 62, 63])],
}


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(int)


def assert_same_picture(w):
    fast, full = pixels(w.image.value), pixels(w.full_png())
    assert fast.shape == full.shape
    # anti-aliased edges drawn over a restored background may differ by a shade: a few pixels
    diff = np.abs(fast - full).max(-1)
    assert (diff > 8).sum() <= 16, f"{(diff > 8).sum()} pixels differ, rows {np.nonzero(diff > 8)[0][[0, -1]]}"


def test_every_factory_has_steady_moves():
    assert set(STEADY) == set(FACTORIES)


@pytest.mark.parametrize("name", list(FACTORIES))
def test_steady_moves_redraw_only_animated_artists(name):
    w = FACTORIES[name]()
    assert w.animated(), "every widget declares the artists its updates change"
    for control, values in STEADY[name]:
        c = w.controls[control]
        values = values if values is not None else list(c.options)[1:] + list(c.options)[:1]
        c.value = values[0]  # may change the layout; the moves after it must not
        assert_same_picture(w)
        for v in values[1:]:
            before, redraws, picture = w.renders, w.full_redraws, w.image.value
            c.value = v
            assert w.error is None, w.error
            assert w.renders == before + 1
            assert w.full_redraws == redraws, f"{control} = {v!r} redrew the whole figure"
            assert w.image.value != picture, f"{control} = {v!r} did not change the picture"
            assert_same_picture(w)


def test_a_layout_change_redraws_everything_and_still_matches():
    w = FACTORIES["neuron (00)"]()
    w.controls["activation"].value = "relu"
    redraws = w.full_redraws
    w.controls["w"].value = 4.0  # ReLU output up to 20: the y range grows
    assert w.full_redraws == redraws + 1
    assert_same_picture(w)
    w.controls["w"].value = 3.9  # the new range: only the curve is redrawn
    assert w.full_redraws == redraws + 2 or w.full_redraws == redraws + 1
    assert_same_picture(w)


def test_a_changed_static_artist_forces_a_full_redraw():
    w = FACTORIES["neuron (00)"]()
    redraws = w.full_redraws
    w.ax.xaxis.label.set_text("input x")  # not animated: only a full redraw can show it
    w.refresh()
    assert w.full_redraws == redraws + 1
    assert_same_picture(w)


def test_round_limits_and_nice_ceiling():
    assert round_limits(-3.3, 12.7) == (-5.0, 15.0)
    assert [nice_ceiling(x) for x in (0.03, 0.1, 0.11, 3, 7)] == [0.05, 0.1, 0.2, 5.0, 10.0]
    with pytest.raises(ValueError, match="hi must be a finite number > 1.0, got 1.0"):
        round_limits(1.0, 1.0)
    with pytest.raises(TypeError, match="lo must be a number"):
        round_limits(None, 1.0)
    with pytest.raises(ValueError, match="x must be a finite number > 0"):
        nice_ceiling(0.0)
    with pytest.raises(TypeError, match="x must be a number"):
        nice_ceiling("3")
