"""The README's gallery shows only figures that `make figures` regenerates."""

import re
from pathlib import Path

import pytest

from mplib import figures

ROOT = Path(__file__).resolve().parents[1]
NAMED = re.findall(r"\(figures/([\w-]+)\.png\)", (ROOT / "README.md").read_text())


def test_readme_has_a_gallery():
    assert NAMED, "README names no figure"


@pytest.mark.parametrize("name", NAMED)
def test_named_figure_exists_and_is_registered(name):
    assert name in figures.FIGURES, f"figures/{name}.png is not made by `make figures`"
    assert (ROOT / "figures" / f"{name}.png").exists()


def test_every_registered_figure_is_in_the_readme():
    assert set(figures.FIGURES) <= set(NAMED)


def test_render_writes_png(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    (path,) = figures.render(["fig02_xor"], tmp_path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_figure_is_named():
    with pytest.raises(ValueError,
                       match=r"figure name must be one of \(.*'fig02_xor'.*got 'fig99'"):
        figures.render(["fig02_xor", "fig99"], "/nonexistent")


def test_redrawn_figures_credit_the_notes():
    assert set(figures.NOTES_FIGURES) == {n for n in figures.FIGURES if n.startswith("fig")}
    for name, number in figures.NOTES_FIGURES.items():
        assert name.startswith(f"fig{number:02d}_")
        assert figures.credit(name) == (f"Redraws Figure {number} of Machine Perception, "
                                        "C. Perez Jensen, 2024")
    assert figures.credit("ch2_convolution_matrix") is None
