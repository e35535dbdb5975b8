"""Every widget of ``benchmarks/widget_factories.FACTORIES`` keeps the FigureWidget contract
(mplib/widgets/view.py): its first control is the main slider, and moving it across its range
redraws the picture once per move and changes it each time."""

import sys
from pathlib import Path

import pytest
from widget_support import assert_main_slider_moves_the_picture, slider_values

from mplib.plot import DPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from widget_factories import FACTORIES  # noqa: E402


@pytest.mark.parametrize("name", list(FACTORIES))
def test_main_slider_changes_the_picture(name):
    w = FACTORIES[name]()
    assert w.fig.dpi == DPI, f"{name}: renders at {w.fig.dpi} dpi, not mplib.plot.DPI"
    assert_main_slider_moves_the_picture(w, name)


def test_slider_values_spread_over_the_range():
    import ipywidgets as widgets

    assert slider_values(widgets.IntSlider(value=0, min=0, max=8)) == [2, 4, 6, 8]
    assert slider_values(widgets.IntSlider(value=1, min=0, max=1)) == [0]
    values = slider_values(widgets.FloatSlider(value=0.0, min=0.0, max=1.0))
    assert values == pytest.approx([0.25, 0.5, 0.75, 1.0])
    choices = slider_values(widgets.SelectionSlider(options=["a", "b", "c"], value="b"))
    assert choices == ["a", "c"]


def test_a_widget_whose_slider_changes_nothing_fails():
    import ipywidgets as widgets

    from mplib.widgets import FigureWidget

    class Still(FigureWidget):
        def __init__(self):
            super().__init__({"k": widgets.IntSlider(value=0, min=0, max=3)})

        def build(self, fig):
            fig.add_subplot()

        def draw(self, k):
            pass

    with pytest.raises(AssertionError, match="left the picture"):
        assert_main_slider_moves_the_picture(Still(), "still")
