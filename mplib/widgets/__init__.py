"""The interactive demos, one module each, all built on :class:`FigureWidget` (view.py).

Pattern: a pure compute function (tested without any UI) and a view that builds its figure
once and only updates artists when a control changes.
"""

from .view import FigureWidget

__all__ = ["FigureWidget"]
