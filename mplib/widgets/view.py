"""The widget pattern shared by every demo.

A :class:`FigureWidget` holds a dict of ipywidgets controls and one matplotlib ``Figure``
built once in :meth:`build`. Each change of a control calls :meth:`draw` with the current
values; ``draw`` only updates artists (``set_data``, ``set_ydata``...), then the figure is
rendered to PNG into an ``ipywidgets.Image``. That works the same in JupyterLab, Colab
and headless tests (no ipympl needed), and a test can read ``image.value`` directly.

Errors raised by ``draw`` are shown in the widget itself (its ``message`` area), so a bad
setting gives a readable line under the controls instead of a traceback in a log.

When displayed, the widget also carries a PNG of its first picture in the same output, so a
notebook saved without widget state (on GitHub, say) still shows a static figure.

The contract every demo follows
-------------------------------
1. **State first, then ``super().__init__``.** ``FigureWidget.__init__`` calls ``build`` and
   then ``draw`` (the first picture) before it returns, so everything those two read
   (data, tables, sizes, flags) must be set on ``self`` before the subclass calls it.
2. **The first control is the main slider.** The first entry of ``controls`` is the one the
   demo is about (step t, stride s, number of layers...). The figures, the widget benchmark
   and the tests move it to see the picture change, so it must be a slider that changes the
   picture on every step of its range.
3. **Extra rows go through ``extra=``.** Buttons or players that are not controls of ``draw``
   (a Play button, a "resample" button) are passed as ``extra``: they sit in their own row
   below the grid of controls. Nobody edits ``box.children`` by hand.
4. **Labels.** Control labels are shown in full (``label_width="initial"``) unless the demo
   asks for a fixed width (``label_width="48px"``) to line up a dense grid; a control whose
   ``style.description_width`` is already set keeps it (a long label in such a grid). No
   control is wider than its grid cell (``max_width="100%"``, ``min_width="0"``, unless the
   demo set them): ipywidgets' fixed 300 px menus and sliders would otherwise run over the
   next control's label in a narrow notebook (1280 px with the file browser open).
5. **One resolution.** Every widget renders at :data:`mplib.plot.DPI`; a demo chooses its
   size with ``figsize`` only.
6. **Compute elsewhere.** A widget module holds only the view; the functions it calls live
   in the topic module (``mplib.masked``, ``mplib.upsampling``...), where they are tested
   without any UI. Caches there use ``functools.lru_cache``.
"""

from __future__ import annotations

import base64
import html
import traceback

import ipywidgets as widgets
import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis, Tick
from matplotlib.transforms import Bbox
from matplotlib.figure import Figure
from matplotlib.spines import Spine
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator

from .. import checks
from ..plot import DPI, STYLE, png_bytes


def widget_bundle(widget: widgets.Widget) -> dict:
    """The display bundle of a live widget, the same under ipywidgets 7 and 8.

    ipywidgets 8 has ``Widget._repr_mimebundle_``; ipywidgets 7 (Colab's) only has
    ``_ipython_display_``, which displays the same ``widget-view+json`` data itself (view
    format 2.0 in both), so the bundle is written here from the model id.
    """
    if not isinstance(widget, widgets.Widget):
        raise TypeError(f"widget must be an ipywidgets Widget, got {type(widget).__name__}")
    if getattr(widget, "comm", None) is None:  # closed: the front end has no model to show
        raise ValueError("widget has been closed and cannot be displayed")
    return {
        "text/plain": repr(widget),
        "application/vnd.jupyter.widget-view+json": {
            "version_major": 2, "version_minor": 0, "model_id": widget.model_id},
    }


SLIDERS = (widgets.IntSlider, widgets.FloatSlider, widgets.FloatLogSlider,
           widgets.SelectionSlider)


class FigureWidget:
    """Base class: subclasses set their state, then call ``super().__init__`` with their
    controls, and implement ``build`` and ``draw`` (the contract is in the module docstring).

    controls     {name: ipywidgets control}; the names are ``draw``'s keyword arguments and
                 the first control is the main slider.
    figsize      the figure's size in inches (rendered at :data:`mplib.plot.DPI`).
    columns      how many controls per row of the grid.
    extra        widgets shown in one row below the controls (a Play or a button).
    label_width  the controls' label width: "initial" (the whole label) or a CSS width.
    """

    dpi = DPI  # read-only: one resolution for every widget (set in mplib.plot)

    def __init__(self, controls: dict, *, figsize=(8, 3.4), columns: int = 3, extra=(),
                 label_width: str = "initial"):
        if not isinstance(controls, dict):
            raise TypeError(f"controls must be a dict naming ipywidgets controls, "
                            f"got {type(controls).__name__}")
        if not controls:
            raise ValueError("controls must be a dict naming at least one ipywidgets control")
        columns = checks.integer(columns, "columns")
        for name, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise TypeError(f"controls[{name!r}] must be an ipywidgets control with a value,"
                                f" got {type(control).__name__}")
        first_name, first = next(iter(controls.items()))
        if not isinstance(first, SLIDERS):
            raise TypeError(f"the first control is the main slider: controls[{first_name!r}] "
                            f"must be a slider, got {type(first).__name__}")
        extra = tuple(extra)
        for w in extra:
            if not isinstance(w, widgets.Widget):
                raise TypeError(f"extra must hold ipywidgets widgets, got {type(w).__name__}")
        if not isinstance(label_width, str):
            raise TypeError(f"label_width must be a CSS width string, got {label_width!r}")
        if not label_width:
            raise ValueError("label_width must be a CSS width string, got ''")
        if type(self).dpi != DPI:
            raise ValueError(f"{type(self).__name__} sets dpi = {type(self).dpi}; every widget "
                             f"renders at mplib.plot.DPI = {DPI} (choose the size with figsize)")
        self.controls = dict(controls)
        import matplotlib as mpl

        with mpl.rc_context(STYLE):
            self.fig = Figure(figsize=figsize, dpi=self.dpi)  # the canvas is the picture
            self.build(self.fig)
        # Shown at its natural size: stretched to the cell's width it would look blurry.
        width = int(self.fig.get_figwidth() * self.dpi)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px"))
        self.message = widgets.HTML()
        self.error: Exception | None = None
        self.renders = 0
        self.full_redraws = 0  # renders that drew everything, not just the animated artists
        self._background = None
        self._layout = None
        self._static: list = []
        self._artists: list = []
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
            style = getattr(control, "style", None)
            if hasattr(style, "description_width") and not style.description_width:
                # "initial": labels in full, not "degree se..."; a control that sets its own
                # width keeps it (a long label in a grid of short ones)
                style.description_width = label_width
            # never wider than the grid cell, so it cannot cover its neighbour's label; it may
            # shrink below ipywidgets' fixed width (the menu or the slider track gives way)
            if control.layout.max_width is None:
                control.layout.max_width = "100%"
            if control.layout.min_width is None:
                control.layout.min_width = "0"
        rows = list(self.controls.values())
        grid = widgets.GridBox(rows, layout=widgets.Layout(
            grid_template_columns=f"repeat({columns}, minmax(0, 1fr))", grid_gap="2px 12px"))
        self.extra = widgets.HBox(list(extra))
        parts = [grid, self.extra] if extra else [grid]
        self.box = widgets.VBox([*parts, self.message, self.image])
        self.box.add_class("mplib-widget")
        self.refresh()
        self._static_png = self.image.value

    # -- to be written by each demo -------------------------------------------------------
    def build(self, fig: Figure) -> None:
        """Create the axes and artists once."""
        raise NotImplementedError

    def draw(self, **values) -> None:
        """Update the artists for the current control values (raise ValueError if invalid)."""
        raise NotImplementedError

    # -- the machinery ---------------------------------------------------------------------
    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, change) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Call ``draw`` with the current values and re-render; show any error in the widget."""
        try:
            self.draw(**self.values())
        except Exception as err:  # shown to the student, never swallowed silently
            self.error = err
            if isinstance(err, (ValueError, TypeError)):
                text = f"<b>{type(err).__name__}</b>: {html.escape(str(err))}"
            else:
                text = "<pre>" + html.escape(traceback.format_exc()) + "</pre>"
            self.message.value = f'<div class="mplib-error" style="color:#b00020">{text}</div>'
            return
        self.error = None
        self.message.value = ""
        self.image.value = self._render()
        self.renders += 1

    # -- the fast render path ---------------------------------------------------------------
    def animated(self) -> list:
        """The artists that ``draw`` changes on an ordinary update (lines, images, titles...).

        They are left out of the cached background and drawn over it on each update (Agg
        blitting); everything else is drawn only when the layout changes. The default, no
        artists, means every update is a full redraw.
        """
        return []

    def layout_key(self) -> tuple:
        """What, when changed, needs a full redraw: each axes' place, limits and scales.

        A static artist changed by ``draw`` (a new legend, new tick labels) is caught separately
        through matplotlib's ``stale`` flags.
        """
        free = set(map(id, self.free_limits()))
        return tuple((ax.get_visible(), tuple(ax.get_position().bounds),
                      tuple(map(id, ax.get_children())),
                      None if id(ax) in free else (ax.get_xlim(), ax.get_ylim(), ax.get_xscale(),
                                                   ax.get_yscale(), _ticks_key(ax.xaxis),
                                                   _ticks_key(ax.yaxis)))
                     for ax in self.fig.axes) + (tuple(map(id, self.fig.get_children())),)

    def free_limits(self) -> list:
        """Axes whose limits may change without a full redraw: ones that draw no ticks, tick
        labels or grid, so nothing in the background depends on their limits."""
        return []

    def _ordered_animated(self) -> list:
        renderer = self.fig.canvas.get_renderer()
        artists = list(self.animated())
        # What an axes draws above its lowest animated artist (spines, legend, a grid, labels
        # on the data...) is drawn after it, in z-order, and left out of the background: the
        # picture is then exactly a full redraw's. Axes without a grid keep their ticks in
        # the background (they sit outside the data area).
        ids = set(map(id, artists))
        for ax in {a.axes for a in artists if getattr(a, "axes", None) is not None}:
            low = min(a.get_zorder() for a in artists if a.axes is ax)
            children = ax.get_children()
            # at equal z-order, Axes.draw keeps the order of its children
            first = min(k for k, c in enumerate(children)
                        if id(c) in ids and c.get_zorder() == low) if any(
                id(c) in ids and c.get_zorder() == low for c in children) else len(children)
            mine = [a for a in artists if getattr(a, "axes", None) is ax]
            reach = _reach(mine, ax, renderer)
            for k, child in enumerate(children):
                z = child.get_zorder()
                if id(child) in ids or child is ax.patch or z < low or (z == low and k < first):
                    continue
                if not isinstance(child, (Axis, Spine)) and not _overlaps(child, reach, renderer):
                    continue  # e.g. a legend outside the axes: the animated artists never reach it
                if isinstance(child, Axis) and not (ax.axison and _has_grid(child)):
                    continue
                if isinstance(child, Spine) and not (ax.axison and ax.get_frame_on()):
                    continue  # what Axes.draw leaves out when the axes is off
                artists.append(child)
                ids.add(id(child))
        axes = self.fig.axes
        rank = lambda a: (axes.index(a.axes) if getattr(a, "axes", None) in axes  # noqa: E731
                          else len(axes), a.get_zorder())
        return sorted(artists, key=rank)

    def _render(self) -> bytes:
        """Render the figure to PNG, reusing the static background when the layout allows."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = self.fig.canvas
        if not isinstance(canvas, FigureCanvasAgg):
            canvas = FigureCanvasAgg(self.fig)
        key = self.layout_key()
        stale = any(a.stale and _draws_something(a) for a in self._static)
        full = self._background is None or key != self._layout or stale or not self._artists
        if full:
            # what is animated is settled at a full redraw and kept until the next one
            artists = self._artists = self._ordered_animated()
            self.full_redraws += 1
            # animated artists are skipped by a canvas draw but still count for the layout
            # (a hidden title would be moved), and savefig draws them all
            # (an axis draws its label whatever the flag: that one is hidden instead)
            labels = {id(x.label) for ax in self.fig.axes for x in (ax.xaxis, ax.yaxis)}
            hidden = [a for a in artists if id(a) in labels and a.get_visible()]
            for a in artists:
                a.set_animated(True)
            for a in hidden:
                a.set_visible(False)
            try:
                canvas.draw()
            finally:
                for a in artists:
                    a.set_animated(False)
                for a in hidden:
                    a.set_visible(True)
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            keep = {id(b) for a in artists for b in a.findobj()}
            # axes, axis and ticks go stale on any set_xlim: layout_key covers them instead
            skip = keep | {id(b) for ax in self.fig.axes for axis in (ax.xaxis, ax.yaxis)
                           for t in axis.get_children() if isinstance(t, Tick)
                           for b in t.findobj()}
            self._static = [a for a in self.fig.findobj()
                            if id(a) not in skip and not isinstance(a, (Figure, Axes, Axis))]
            for a in self._static:
                a.stale = False
                if isinstance(a, Text):
                    a._mplib_shown = bool(a.get_text()) and a.get_visible()
            self._layout = self.layout_key()
        else:
            artists = self._artists
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for a in artists:
            if a.get_visible():
                a.draw(renderer)
        return encode_png(canvas.buffer_rgba(), self.dpi)

    def full_png(self) -> bytes:
        """The whole figure drawn from scratch (what the fast path must look like)."""
        stale = [a.stale for a in self._static]
        png = png_bytes(self.fig, self.dpi)
        for a, was in zip(self._static, stale):  # savefig sets and restores the facecolor:
            a.stale = was                         # that is no change of the picture
        return png

    def _repr_mimebundle_(self, **kwargs):
        bundle = widget_bundle(self.box)
        # JupyterLab and Colab show the live widget; a renderer that does not know widgets
        # (GitHub, nbviewer without state) falls back to this picture.
        bundle["image/png"] = base64.b64encode(self._static_png).decode("ascii")
        bundle["text/plain"] = f"{type(self).__name__} (run the notebook to interact)"
        return bundle


def round_limits(lo: float, hi: float) -> tuple[float, float]:
    """(lo, hi) widened to multiples of a round step of about a fifth of the range, so that
    small changes of the curves keep the axes (and only the curves are redrawn)."""
    lo = checks.number(lo, "lo")
    hi = checks.number(hi, "hi", above=lo)
    raw = (hi - lo) / 5
    step = nice_ceiling(raw)
    return float(np.floor(lo / step) * step), float(np.ceil(hi / step) * step)


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is >= x > 0."""
    x = checks.number(x, "x", above=0)
    power = 10.0 ** np.floor(np.log10(x))
    return float(min(m * power for m in (1, 2, 5, 10) if m * power >= x * (1 - 1e-12)))


def _draws_something(artist) -> bool:
    """False for an empty text, whose going stale (as titles do when re-set) changes nothing;
    a text emptied since the last full redraw still counts, through its ``_shown`` mark."""
    if isinstance(artist, Text):
        return bool(artist.get_text()) or getattr(artist, "_mplib_shown", False)
    return True


def _reach(artists, ax, renderer) -> list:
    """Boxes (display space) the animated artists of one axes can paint: the axes for clipped
    artists; for the others (titles, labels) their band across the whole figure, as a text
    may grow sideways."""
    boxes = []
    for a in artists:
        if a.get_clip_on() and (a.get_clip_path() is not None or a.get_clip_box() is not None):
            boxes.append(ax.bbox)
        else:
            b = a.get_window_extent(renderer)
            boxes.append(Bbox([[-np.inf, b.y0 - 2], [np.inf, b.y1 + 2]]))
    return boxes


def _overlaps(artist, boxes, renderer) -> bool:
    try:
        b = artist.get_window_extent(renderer)
    except Exception:  # an artist that cannot say where it is: assume the worst
        return True
    return any(b.x0 <= o.x1 and o.x0 <= b.x1 and b.y0 <= o.y1 and o.y0 <= b.y1 for o in boxes)


def _has_grid(axis) -> bool:
    return bool(axis._major_tick_kw.get("gridOn") or axis._minor_tick_kw.get("gridOn"))


def _ticks_key(axis) -> tuple:
    """The tick positions and labels an axis was given, or its locators and formatters."""
    key = []
    for ticker in (axis.major, axis.minor):
        locator, formatter = ticker.locator, ticker.formatter
        if isinstance(locator, FixedLocator):  # set_ticks: compare the labels themselves
            locs = tuple(float(v) for v in locator.locs)
            key.append((locs, tuple(str(formatter(v, k)) for k, v in enumerate(locs))))
        else:
            key.append((id(locator), id(getattr(formatter, "func", formatter))))
    return tuple(key)


def encode_png(rgba, dpi: int = DPI) -> bytes:
    """PNG bytes of an RGBA buffer, with fast compression (the figure's pixels, exactly)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(rgba)).save(buf, format="png", compress_level=1,
                                           dpi=(dpi, dpi))
    return buf.getvalue()
