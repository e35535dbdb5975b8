"""Every widget displays and updates under the installed ipywidgets, 7 (Colab's) or 8.

The colab-compat job (tools/colab_compat.sh) runs this file in a venv with ipywidgets 7.7.1,
`make test` runs it with the pinned 8.x. The display goes through IPython's own formatter,
as a notebook cell's last expression does.
"""

import sys
from pathlib import Path

import ipywidgets
import pytest
from IPython.core.formatters import DisplayFormatter
from widget_support import assert_main_slider_moves_the_picture

from mplib.widgets.view import widget_bundle

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from widget_factories import FACTORIES  # noqa: E402

VIEW = "application/vnd.jupyter.widget-view+json"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_all_eleven_widgets_listed():
    assert len(FACTORIES) == 11


@pytest.mark.parametrize("name", list(FACTORIES))
def test_widget_displays_and_updates(name):
    w = FACTORIES[name]()
    data, _ = DisplayFormatter().format(w)
    view = data.get(VIEW)
    assert view is not None, f"{name}: no live widget in its display bundle ({sorted(data)})"
    assert view["model_id"] == w.box.model_id and view["version_major"] == 2
    assert data["text/plain"].endswith("(run the notebook to interact)")
    assert data["image/png"], f"{name}: no static picture for renderers without widgets"

    assert w.image.value[:8] == PNG_MAGIC
    assert_main_slider_moves_the_picture(w, name, count=1)  # and it updates under this version


def test_widget_bundle_rejects_bad_input():
    with pytest.raises(TypeError, match="widget"):
        widget_bundle("not a widget")
    box = ipywidgets.VBox([])
    box.close()
    with pytest.raises(ValueError, match="closed"):
        widget_bundle(box)


def test_runs_under_the_installed_major_version():
    # Printed in the report of the run, so that a log shows which ipywidgets was proven.
    major = int(ipywidgets.__version__.split(".")[0])
    print(f"ipywidgets {ipywidgets.__version__}")
    assert major in (7, 8)
