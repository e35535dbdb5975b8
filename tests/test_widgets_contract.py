"""Every widget of ``benchmarks/widget_factories.FACTORIES`` keeps the FigureWidget contract
(mplib/widgets/view.py): its first control is the main slider, and moving it across its range
redraws the picture once per move and changes it each time."""

import sys
from pathlib import Path

import pytest
from matplotlib.text import Text
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


def _texts_outside_the_figure(fig):
    """What the figure's edge cuts, with how many pixels stick out: each axis (its drawn tick
    labels and its label, as matplotlib lays them out) and every other visible text."""
    fig.canvas.draw()
    renderer, frame = fig.canvas.get_renderer(), fig.bbox
    parts, on_axes = [], set()
    for k, ax in enumerate(fig.axes):
        if ax.get_visible() and ax.axison:  # ax.axis("off") draws neither axis
            parts += [(f"axes {k} x axis", ax.xaxis), (f"axes {k} y axis", ax.yaxis)]
        for axis in (ax.xaxis, ax.yaxis):  # their texts are judged with the axis
            on_axes.update(id(t) for t in axis.findobj(Text))
    parts += [(repr(t.get_text()), t) for t in fig.findobj(Text) if id(t) not in on_axes]
    cut = []
    for name, artist in parts:
        if not artist.get_visible() or (isinstance(artist, Text) and not artist.get_text()):
            continue
        b = (artist.get_tightbbox(renderer) if not isinstance(artist, Text)
             else artist.get_window_extent(renderer))
        if b is None:
            continue
        out = max(frame.x0 - b.x0, b.x1 - frame.x1, frame.y0 - b.y0, b.y1 - frame.y1)
        if out > 1:  # one pixel of anti-aliasing
            cut.append(f"{name} by {out:.0f} px")
    return cut


@pytest.mark.parametrize("name", list(FACTORIES))
def test_no_text_is_cut_by_the_figure_edge(name):
    w = FACTORIES[name]()
    cut = _texts_outside_the_figure(w.fig)
    assert not cut, f"{name}: the figure's edge cuts " + ", ".join(cut)


def test_a_label_outside_the_figure_is_found():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_ylabel("attention weight")
    fig.subplots_adjust(left=0.01)
    try:
        assert [c for c in _texts_outside_the_figure(fig) if c.startswith("axes 0 y axis")]
    finally:
        plt.close(fig)


def _clipped_labels(w, px_per_char=8):
    """Labels of ``w``'s controls that a fixed description width is too narrow for (about
    8 px a character in JupyterLab's 13 px font), which the browser shows as "outp...".
    ``None``, ``""`` and ``"initial"`` widths show the label in full."""
    clipped = []
    for name, control in w.controls.items():
        width = getattr(getattr(control, "style", None), "description_width", "")
        if control.description and width.endswith("px"):
            if len(control.description) * px_per_char > float(width[:-2]):
                clipped.append(f"{name} ({control.description!r} in {width})")
    return clipped


@pytest.mark.parametrize("name", list(FACTORIES))
def test_no_control_label_is_cut_short(name):
    clipped = _clipped_labels(FACTORIES[name]())
    assert not clipped, f"{name}: labels cut short: " + ", ".join(clipped)


def test_a_label_too_long_for_its_width_is_found():
    import ipywidgets as widgets

    from mplib.widgets import FigureWidget

    class Dense(FigureWidget):
        def __init__(self):
            super().__init__({"row": widgets.IntSlider(description="output row"),
                              "k": widgets.IntSlider(description="k1")}, label_width="48px")

        def build(self, fig):
            self.ax = fig.add_subplot()

        def draw(self, row, k):
            self.ax.set_title(f"{row} {k}")

    assert _clipped_labels(Dense()) == ["row ('output row' in 48px)"]
