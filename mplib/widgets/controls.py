"""Control layout shared by the chapter-1 widgets."""

from __future__ import annotations


def fill_cells(controls) -> None:
    """Let each control fill its grid cell, readout and menu arrow included.

    ipywidgets gives a slider or a dropdown a fixed width (about 300 px plus its label); in a
    column narrower than that (JupyterLab at 1280 px with the file browser open) the readout or
    the arrow is cut off at the right edge, or the label runs into the control.
    FigureWidget already caps every control at its cell and lets it shrink (``max_width``,
    ``min_width``); this also stretches it to the cell's full width.
    """
    for control in controls:
        control.layout.width = "100%"
