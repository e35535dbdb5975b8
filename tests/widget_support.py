"""Shared by the widget tests: move a widget's main slider and check the picture follows."""

import numpy as np

from mplib.widgets.view import SLIDERS


def slider_values(slider, count: int = 4) -> list:
    """Up to ``count`` values of ``slider`` spread over its range, leaving out the current one."""
    if hasattr(slider, "options"):  # SelectionSlider
        values = [o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in slider.options]
    else:
        values = list(np.linspace(slider.min, slider.max, count + 1))
        if isinstance(slider.value, int):
            values = sorted({int(round(v)) for v in values})
    values = [v for v in values if v != slider.value]
    picks = np.linspace(0, len(values) - 1, min(count, len(values))).round().astype(int)
    return [values[k] for k in dict.fromkeys(picks)]


def assert_main_slider_moves_the_picture(w, name: str, count: int = 4) -> None:
    """The first control is a slider; each move redraws once, without an error, and gives a
    picture different from the one before it."""
    slider_name, slider = next(iter(w.controls.items()))
    assert isinstance(slider, SLIDERS), f"{name}: first control {slider_name!r} is not a slider"
    values = slider_values(slider, count)
    assert values, f"{name}: the main slider {slider_name!r} has a single value"
    for value in values:
        picture, renders = w.image.value, w.renders
        slider.value = value
        assert w.error is None, f"{name}: {slider_name} = {value!r} raised {w.error!r}"
        assert w.renders == renders + 1, f"{name}: {slider_name} = {value!r} did not redraw once"
        assert w.image.value != picture, f"{name}: {slider_name} = {value!r} left the picture"
