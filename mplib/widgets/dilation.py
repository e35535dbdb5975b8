"""WaveNet dilation widget (§6.5, Figure 18).

Units of a stack of causal convolutions (kernel 2) drawn as a layered grid: inputs at the
bottom, the output layer on top. The path from one output back to the inputs it depends on
is highlighted; with doubling dilations it reaches 2^L inputs, with all-ones only L + 1.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection

from ..wavenet import SCHEDULES, dilation_path, dilations
from .view import FigureWidget

MAX_LAYERS = 5
ON, OFF = "#d62728", "#d0d0d0"


class DilationWidget(FigureWidget):
    """Sliders: number of layers (first), the output to trace; a menu for the schedule."""

    def __init__(self, T: int = 32):
        self.T = T
        super().__init__({
            "layers": widgets.IntSlider(value=3, min=1, max=MAX_LAYERS, description="layers"),
            "schedule": widgets.ToggleButtons(options=SCHEDULES, value="doubling",
                                              description="dilation"),
            "output": widgets.IntSlider(value=T - 1, min=0, max=T - 1, description="output t"),
        }, figsize=(8, 3.4), columns=3)

    def build(self, fig):
        T, L = self.T, MAX_LAYERS
        ax = fig.add_subplot()
        tt, ll = np.meshgrid(np.arange(T), np.arange(L + 1))
        self.points = np.c_[tt.ravel(), ll.ravel()]
        self.lines = LineCollection([], colors=ON, linewidths=1.5, zorder=1)
        ax.add_collection(self.lines)
        self.dots = ax.scatter(*self.points.T, s=22, c=[OFF] * len(self.points), zorder=2,
                               edgecolors="none")
        ax.set(xlim=(-1, T), ylim=(-0.5, L + 0.5), xlabel="time step t")
        ax.grid(False)
        self.ax = ax
        fig.subplots_adjust(left=0.16, right=0.98, top=0.88, bottom=0.15)

    def animated(self):
        return [self.lines, self.dots, self.ax.title]

    def draw(self, layers, schedule, output):
        T = self.T
        active, edges = dilation_path(layers, schedule, output, T)
        colors = np.full(len(self.points), OFF, dtype=object)
        sizes = np.full(len(self.points), 22.0)
        for level in range(MAX_LAYERS + 1):
            idx = level * T + np.arange(T)
            if level > layers:
                sizes[idx] = 0.0
            else:
                colors[idx[active[level]]] = ON
        self.dots.set_facecolors(list(colors))
        self.dots.set_sizes(sizes)
        self.lines.set_segments([[(s, a), (t, b)] for (a, s), (b, t) in edges])
        d = dilations(layers, schedule)
        names = ["input"] + [f"layer {l + 1}, d={d[l]}" for l in range(layers)]
        self.ax.set_yticks(range(layers + 1), names)
        self.ax.set_ylim(-0.5, layers + 0.5)
        seen = int(active[0].sum())
        self.ax.set_title(f"{schedule} dilations {d}: output {output} sees "
                          f"{seen} input{'' if seen == 1 else 's'} (receptive field "
                          f"{1 + sum(d)})")
