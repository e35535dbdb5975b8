"""`python -m mplib.figures [name ...]`: regenerate the pictures in figures/ from code.

Each figure is a small function registered with :func:`figure`; it returns a matplotlib
figure that is saved as ``figures/<name>.png``. The README's gallery shows these files, and
a test checks that every picture the README names is registered here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

FIGURES: dict = {}
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "figures"


def figure(name: str):
    """Register a function that builds the figure saved as ``figures/<name>.png``."""
    def register(fn):
        if name in FIGURES:
            raise ValueError(f"figure name {name!r} is registered twice")
        FIGURES[name] = fn
        return fn
    return register


@figure("fig02_xor")
def xor_problem():
    """Figure 2 (§1.1): XOR is not linearly separable; one hidden layer separates it."""
    import matplotlib.pyplot as plt
    import torch
    from torch import nn

    from . import data, plot, runtime, train

    X, y = data.xor(200, noise=0.15, seed=0)
    runtime.seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    train.fit(net, (X, y), epochs=200, lr=0.05, batch_size=200, progress=False, device="cpu")
    fig, (a, b) = plt.subplots(1, 2, figsize=(7, 3.4))
    for c in (0, 1):
        a.scatter(*X[y == c].T, s=14, color=plot.COLORS[c], label=f"y = {c}")
    a.set(title="XOR: no line separates the classes", xlabel="$x_1$", ylabel="$x_2$")
    a.set_aspect("equal")
    a.legend(loc="center")
    plot.decision_boundary(b, lambda G: torch.softmax(net(G), 1)[:, 1], X, y)
    b.set(title="an MLP with one hidden layer does", xlabel="$x_1$")
    fig.tight_layout()
    return fig


def render(names=None, out_dir: Path = DEFAULT_DIR) -> list[Path]:
    """Build and save the named figures (all by default); return the written paths."""
    import matplotlib.pyplot as plt

    from .plot import style

    unknown = sorted(set(names or ()) - set(FIGURES))
    if unknown:
        raise ValueError(f"unknown figure name(s) {unknown}; known: {sorted(FIGURES)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    style()
    written = []
    for name in names or FIGURES:
        fig = FIGURES[name]()
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
        print(f"wrote {path}")
    return written


if __name__ == "__main__":
    matplotlib.use("Agg")
    render(sys.argv[1:])
