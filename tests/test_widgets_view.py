"""The widget pattern, tested headlessly: set a control's value, see the picture change."""

import ipywidgets as widgets
import numpy as np
import pytest

from mplib.widgets import FigureWidget
from mplib.activations import neuron
from mplib.widgets.neuron import NeuronWidget


def test_neuron_widget_draws_the_neuron():
    w = NeuronWidget()
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    w.controls["w"].value = 3.0
    np.testing.assert_allclose(w.line.get_ydata(), neuron(w.x, 3.0, 0.0))
    w.controls["activation"].value = "relu"
    np.testing.assert_allclose(w.line.get_ydata(), neuron(w.x, 3.0, 0.0, "relu"))


def test_mimebundle_has_widget_and_static_picture():
    bundle = NeuronWidget()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"]


class Broken(FigureWidget):
    def __init__(self):
        import ipywidgets as widgets
        super().__init__({"k": widgets.IntSlider(value=1, min=-3, max=3)})

    def build(self, fig):
        self.ax = fig.add_subplot()

    def draw(self, k):
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        if k == 3:
            raise RuntimeError("boom")


def test_errors_are_shown_in_the_widget_not_raised():
    w = Broken()
    before = w.image.value
    w.controls["k"].value = -2
    assert isinstance(w.error, ValueError)
    assert "k must be &gt;= 0, got -2" in w.message.value
    assert w.image.value == before  # the last good picture stays
    w.controls["k"].value = 3
    assert "RuntimeError" in w.message.value and "Traceback" in w.message.value
    w.controls["k"].value = 2
    assert w.error is None and w.message.value == ""


def test_controls_required():
    class Empty(FigureWidget):
        pass

    with pytest.raises(ValueError, match="controls must be a dict naming at least one"):
        Empty({})
    with pytest.raises(TypeError, match="controls must be a dict naming ipywidgets controls"):
        Empty([_slider()])


class Minimal(FigureWidget):
    """The smallest widget that follows the contract: state first, then super().__init__."""

    def __init__(self, controls, **kwargs):
        self.drawn = []  # read by draw, which runs inside super().__init__
        super().__init__(controls, **kwargs)

    def build(self, fig):
        self.ax = fig.add_subplot()

    def draw(self, **values):
        self.drawn.append(values)


def _slider():
    import ipywidgets as widgets

    return widgets.IntSlider(value=1, min=0, max=3, description="a long label here")


def test_the_first_control_must_be_a_slider():
    import ipywidgets as widgets

    with pytest.raises(TypeError, match=r"first control is the main slider: controls\['menu'\]"):
        Minimal({"menu": widgets.Dropdown(options=[1, 2]), "k": _slider()})
    with pytest.raises(TypeError, match=r"controls\['text'\] must be an ipywidgets control"):
        Minimal({"k": _slider(), "text": "not a widget"})
    w = Minimal({"k": _slider(), "menu": widgets.Dropdown(options=[1, 2])})
    assert w.drawn == [{"k": 1, "menu": 1}]  # draw ran inside __init__, on the state set before


def test_extra_row_sits_between_the_controls_and_the_message():
    import ipywidgets as widgets

    button = widgets.Button(description="again")
    w = Minimal({"k": _slider()}, extra=[button])
    grid, row, message, image = w.box.children
    assert row.children == (button,) and message is w.message and image is w.image
    assert len(Minimal({"k": _slider()}).box.children) == 3  # no empty row without extras
    with pytest.raises(TypeError, match="extra must hold ipywidgets widgets"):
        Minimal({"k": _slider()}, extra=["again"])


def test_label_width_is_an_option():
    assert Minimal({"k": _slider()}).controls["k"].style.description_width == "initial"
    w = Minimal({"k": _slider()}, label_width="48px")
    assert w.controls["k"].style.description_width == "48px"
    own = widgets.IntSlider(description="output row", style={"description_width": "initial"})
    assert Minimal({"k": _slider(), "row": own}, label_width="48px").controls[
        "row"].style.description_width == "initial"  # a control's own width is kept
    with pytest.raises(TypeError, match="label_width"):
        Minimal({"k": _slider()}, label_width=48)
    with pytest.raises(ValueError, match="label_width"):
        Minimal({"k": _slider()}, label_width="")


def test_columns_is_a_positive_integer():
    w = Minimal({"k": _slider(), "j": _slider()}, columns=2)
    assert w.box.children[0].layout.grid_template_columns == "repeat(2, minmax(0, 1fr))"
    with pytest.raises(ValueError, match="columns must be an integer >= 1"):
        Minimal({"k": _slider()}, columns=0)
    with pytest.raises(TypeError, match="columns must be an integer"):
        Minimal({"k": _slider()}, columns=2.0)


def test_no_control_is_wider_than_its_grid_cell():
    """A Dropdown keeps ipywidgets' fixed width otherwise and covers the next control's label
    in a narrow column; every control is capped at its cell and may shrink inside it."""
    import ipywidgets as widgets

    from mplib.widgets.vanishing import VanishingGradientWidget

    menu = widgets.Dropdown(options=["a", "b"], description="units")
    set_by_demo = widgets.Dropdown(options=["a"], layout=widgets.Layout(max_width="120px"))
    w = Minimal({"k": _slider(), "menu": menu, "fixed": set_by_demo})
    assert [(c.layout.max_width, c.layout.min_width) for c in w.controls.values()] == [
        ("100%", "0"), ("100%", "0"), ("120px", "0")]     # a demo's own cap is kept
    for name, control in VanishingGradientWidget(hidden=4, T_max=10).controls.items():
        assert control.layout.max_width == "100%" and control.layout.min_width == "0", name


def test_one_resolution_for_every_widget():
    from mplib.plot import DPI

    w = Minimal({"k": _slider()}, figsize=(3, 2))
    assert w.fig.dpi == DPI and w.image.layout.width == f"{3 * DPI}px"

    class Sharper(Minimal):
        dpi = 2 * DPI

    with pytest.raises(ValueError, match="mplib.plot.DPI"):
        Sharper({"k": _slider()})
