"""MADE masks (§6.3, Figure 15): degrees, masks as matrices, and the connectivity graph.

The compute is in :mod:`mplib.masked`: :func:`~mplib.masked.made_layout` takes the degrees of
Figure 15 or samples them, with the masks; :func:`~mplib.masked.check_autoregressive` reads the
mask product M^V M^W(L) ⋯ M^W(1) (the number of paths from input j to output i) and says
whether any output sees its own or a later input; :func:`~mplib.masked.connection_report` says
which outputs get no input at all. :class:`MadeWidget` draws them.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection

from ..masked import check_autoregressive, connection_report, made_layout
from .view import FigureWidget

ORDERINGS = {"Figure 15: (3, 1, 2)": "figure", "natural (1, ..., n)": None, "random": "random"}
DEGREES = {"Figure 15's own": "figure", "sampled (seed)": "sampled"}
OUTPUT_RULES = {"M^V with < (notes)": "<", "M^V with ≤ (wrong)": "<="}
MAX_N, MAX_HIDDEN, MAX_LAYERS = 6, 8, 2


class MadeWidget(FigureWidget):
    """Figure 15 live: sample degrees, see the masks and the allowed connections."""

    def __init__(self):
        self._leaving_preset = False
        seed = widgets.IntSlider(value=0, min=0, max=99, description="seed")
        # Moving the seed asks for sampled degrees: leave the preset first (observed before
        # the redraw that FigureWidget attaches, so one move draws once).
        seed.observe(self._leave_preset, names="value")
        self.resample = widgets.Button(description="resample", icon="refresh",
                                       tooltip="sample new hidden degrees (steps the seed)")
        self.resample.on_click(self._next_seed)
        super().__init__({
            "seed": seed,  # the main slider
            # Figure 15's own degrees (the default), or degrees sampled with the seed
            "degrees": widgets.Dropdown(options=list(DEGREES), description="degrees"),
            "hidden": widgets.IntSlider(value=4, min=1, max=MAX_HIDDEN, description="units"),
            "layers": widgets.IntSlider(value=2, min=1, max=MAX_LAYERS, description="layers"),
            "n": widgets.IntSlider(value=3, min=2, max=MAX_N, description="inputs n"),
            "ordering": widgets.Dropdown(options=list(ORDERINGS), description="ordering"),
            "output_rule": widgets.Dropdown(options=list(OUTPUT_RULES), description="output"),
        }, figsize=(10, 4.6), extra=[self.resample])

    def _leave_preset(self, change) -> None:
        degrees = self.controls["degrees"]
        if degrees.value != "sampled (seed)":
            self._leaving_preset = True  # the seed's own observer redraws
            try:
                degrees.value = "sampled (seed)"
            finally:
                self._leaving_preset = False

    def _on_change(self, change) -> None:
        if not self._leaving_preset:
            super()._on_change(change)

    def _next_seed(self, _=None):
        if self.controls["degrees"].value != "sampled (seed)":
            self.controls["degrees"].value = "sampled (seed)"  # leave the preset, same seed
            return
        s = self.controls["seed"]
        s.value = s.min + (s.value - s.min + 1) % (s.max - s.min + 1)

    def build(self, fig):
        gs = fig.add_gridspec(2, 4, width_ratios=[1.2, 1.2, 1, 1], hspace=0.55, wspace=0.35)
        self.ax_graph = fig.add_subplot(gs[:, :2])
        self.ax_graph.set_axis_off()
        self.edges = LineCollection([], colors="#555555", linewidths=1.0, alpha=0.7)
        self.ax_graph.add_collection(self.edges)
        self.bad_edges = LineCollection([], colors="#d62728", linewidths=2.0)
        self.ax_graph.add_collection(self.bad_edges)
        self.nodes = self.ax_graph.scatter([], [], s=420, c=[], cmap="viridis", vmin=1,
                                           vmax=MAX_N, edgecolors="k", zorder=3)
        pool = MAX_N * 2 + MAX_HIDDEN * MAX_LAYERS
        self.labels = [self.ax_graph.text(0, 0, "", ha="center", va="center", fontsize=9,
                                          color="white", zorder=4, fontweight="bold")
                       for _ in range(pool)]
        self.names = [self.ax_graph.text(0, 0, "", ha="center", va="center", fontsize=9)
                      for _ in range(2 * MAX_N)]
        self.layer_names = [self.ax_graph.text(0, k, "", ha="right", va="center", fontsize=9)
                            for k in range(MAX_LAYERS + 2)]
        self.status = fig.text(0.02, 0.045, "", fontsize=10, ha="left", va="bottom")
        self.lost = fig.text(0.02, 0.005, "", fontsize=9, ha="left", va="bottom")
        self.mask_axes = [fig.add_subplot(gs[r, c]) for r, c in ((0, 2), (0, 3), (1, 2), (1, 3))]
        self.mask_images = [ax.imshow(np.zeros((2, 2)), cmap="Greys", vmin=0, vmax=1,
                                      interpolation="nearest") for ax in self.mask_axes[:3]]
        self.mask_images.append(self.mask_axes[3].imshow(np.zeros((2, 2)), cmap="Blues", vmin=0,
                                                         interpolation="nearest"))
        for ax in self.mask_axes:
            ax.set_xlabel("from (degree)", fontsize=7, labelpad=1)
            ax.set_ylabel("to (degree)", fontsize=7, labelpad=1)
        fig.subplots_adjust(left=0.06, right=0.98, top=0.9, bottom=0.12)

    def draw(self, seed, degrees, hidden, layers, n, ordering, output_rule):
        layout = made_layout(n, hidden, layers, seed, ORDERINGS[ordering],
                             OUTPUT_RULES[output_rule], hidden_degrees=DEGREES[degrees])
        preset = DEGREES[degrees] == "figure"
        degrees, masks, C = layout["degrees"], layout["masks"], layout["C"]
        ok, text = check_autoregressive(degrees, masks)
        connected, lost_text = connection_report(degrees, masks)
        # graph: layer k at height k (inputs 0, outputs L + 1), units spread over [0, 1]
        rows = [d.numpy() for d in degrees] + [degrees[0].numpy()]
        pos = [np.column_stack([(np.arange(len(r)) + 0.5) / len(r), np.full(len(r), k)])
               for k, r in enumerate(rows)]
        segs, bad = [], []
        m0 = degrees[0]
        for k, M in enumerate(masks):
            for i, j in zip(*np.nonzero(M.numpy())):
                segs.append([pos[k][j], pos[k + 1][i]])
        if not ok:  # draw the offending direct connections of the output layer in red
            MV = masks[-1].numpy()
            for i, j in zip(*np.nonzero(MV)):
                if degrees[-1][j] >= m0[i]:
                    bad.append([pos[-2][j], pos[-1][i]])
        self.edges.set_segments(segs)
        self.bad_edges.set_segments(bad)
        allpos = np.concatenate(pos)
        self.nodes.set_offsets(allpos)
        self.nodes.set_array(np.concatenate(rows).astype(float))
        values = np.concatenate(rows)
        for t, k in zip(self.labels, range(len(self.labels))):
            if k < len(allpos):
                t.set_position(allpos[k])
                t.set_text(str(values[k]))
                t.set_visible(True)
            else:
                t.set_visible(False)
        for k, t in enumerate(self.names):
            if k < n:
                t.set_position((pos[0][k][0], -0.42))
                t.set_text(f"x{k + 1}")
            elif k - MAX_N < n and k >= MAX_N:
                t.set_position((pos[-1][k - MAX_N][0], len(rows) - 1 + 0.42))
                t.set_text(f"x̂{k - MAX_N + 1}")
            else:
                t.set_text("")
        layer_names = ["input"] + [f"hidden {ell}" for ell in range(1, layers + 1)] + ["output"]
        for k, t in enumerate(self.layer_names):
            t.set_text(layer_names[k] if k < len(layer_names) else "")
            t.set_position((-0.03, k))
        self.ax_graph.set(xlim=(-0.28, 1.02), ylim=(-0.7, len(rows) - 0.3))
        self.ax_graph.set_title("Figure 15's degrees (the seed is not used)" if preset else
                                f"MADE connectivity, degrees sampled with seed {seed}")
        # masks as matrices; the last panel is the product, paths from input j to output i
        names = [f"$M^{{W^{{({ell})}}}}$" for ell in range(1, layers + 1)] + ["$M^V$"]
        panels = list(zip(masks, names))
        panel_axes = self.mask_axes[:3]
        for k, ax in enumerate(panel_axes):
            if k < len(panels):
                M, name = panels[k]
                ax.set_visible(True)
                self._show_matrix(ax, self.mask_images[k], M.numpy(), name, degrees, k, layers)
            else:
                ax.set_visible(False)
        axC = self.mask_axes[3]
        self.mask_images[3].set_clim(0, max(1.0, float(C.max())))
        self._show_matrix(axC, self.mask_images[3], C.numpy(),
                          "product: paths $x_j$ → $\\hat{x}_i$",
                          degrees, None, layers)
        self.status.set_text(text)
        self.status.set_color("#2ca02c" if ok else "#d62728")
        self.lost.set_text(("✓ " if connected else "⚠ ") + lost_text)
        self.lost.set_color("#2ca02c" if connected else "#b35900")

    def animated(self):
        return [self.edges, self.bad_edges, self.nodes, *self.labels, *self.names,
                *self.layer_names, *self.mask_images, self.status, self.lost,
                self.ax_graph.title,
                *(ax.title for ax in self.mask_axes)]

    @staticmethod
    def _show_matrix(ax, image, A, title, degrees, k, layers):
        rows, cols = A.shape
        image.set_data(A)
        image.set_extent((-0.5, cols - 0.5, rows - 0.5, -0.5))
        ax.set_xlim(-0.5, cols - 0.5)
        ax.set_ylim(rows - 0.5, -0.5)
        if k is None:  # the product: rows outputs, columns inputs, labelled by m^(0)
            rdeg, cdeg = degrees[0], degrees[0]
        else:
            rdeg = degrees[k + 1] if k < layers else degrees[0]
            cdeg = degrees[k]
        ax.set_xticks(range(cols), [str(int(v)) for v in cdeg], fontsize=7)
        ax.set_yticks(range(rows), [str(int(v)) for v in rdeg], fontsize=7)
        ax.grid(False)
        ax.set_title(title, fontsize=9)
