"""`python -m mplib.figures [name ...]`: regenerate the pictures in figures/ from code.

Each figure is a small function registered with :func:`figure`; it returns a matplotlib
figure that is saved as ``figures/<name>.png``. The README's gallery shows these files, and
a test checks that every picture the README names is registered here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

from . import checks

FIGURES: dict = {}
NOTES_FIGURES: dict = {}  # name -> the number of the notes' figure that it redraws
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "figures"
NOTES = "Machine Perception, C. Perez Jensen, 2024"


def figure(name: str, redraws: int | None = None):
    """Register a function that builds the figure saved as ``figures/<name>.png``.

    ``redraws=N`` marks a picture that redraws the notes' Figure N; :func:`render` then
    writes that credit on it (CC BY 4.0 asks us to say what we adapted and from where).
    """
    def register(fn):
        if name in FIGURES:
            raise ValueError(f"figure name {name!r} is registered twice")
        if redraws is not None:
            NOTES_FIGURES[name] = redraws
        FIGURES[name] = fn
        return fn
    return register


def credit(name: str) -> str | None:
    """The caption line of a figure that redraws one of the notes', else None."""
    if name not in NOTES_FIGURES:
        return None
    return f"Redraws Figure {NOTES_FIGURES[name]} of {NOTES}"


@figure("fig02_xor", redraws=2)
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


def _grids(panels, title=None, size=2.4):
    """Arrays side by side, each drawn with its numbers: [(array, title, highlight or None)]."""
    import matplotlib.pyplot as plt

    from . import plot

    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size + 0.4),
                             gridspec_kw={"width_ratios": [len(a[0]) for a, _, _ in panels]})
    for ax, (A, name, mark) in zip(axes, panels):
        plot.show_array(ax, A, title=name, highlight=mark)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


@figure("fig07_max_pooling", redraws=7)
def max_pooling():
    """Figure 7 (§2.2): 2x2 max pooling with stride 2; the maxima outlined."""
    import torch

    from .pooling import FIGURE7_INPUT, figure7_pooling

    z, idx = figure7_pooling()
    mark = torch.zeros(FIGURE7_INPUT.numel(), dtype=torch.bool)
    mark[idx.flatten()] = True
    return _grids([(FIGURE7_INPUT, "input", mark.reshape(FIGURE7_INPUT.shape)),
                   (z, "max pooled", None)],
                  "Figure 7: max pooling, 2x2 windows, stride 2")


def _upsampled(method_name, title):
    from . import upsampling
    from .pooling import figure7_pooling

    z, idx = figure7_pooling()
    out = {"nearest": lambda: upsampling.nearest(z, 2),
           "bed_of_nails": lambda: upsampling.bed_of_nails(z, 2),
           "max_unpool": lambda: upsampling.max_unpool(z, idx, 2)}[method_name]()
    return _grids([(z, "Figure 7's output", None), (out, "upsampled, s = 2", None)], title)


@figure("fig08_nearest_neighbour", redraws=8)
def nearest_neighbour():
    """Figure 8 (§3.1): nearest-neighbour upsampling copies each value into its block."""
    return _upsampled("nearest", "Figure 8: nearest neighbour")


@figure("fig09_bed_of_nails", redraws=9)
def bed_of_nails():
    """Figure 9 (§3.1): bed of nails puts each value in the top-left corner of its block."""
    return _upsampled("bed_of_nails", "Figure 9: bed of nails")


@figure("fig10_max_unpooling", redraws=10)
def max_unpooling():
    """Figure 10 (§3.1): max unpooling puts each value back where Figure 7 found its max."""
    return _upsampled("max_unpool", "Figure 10: max unpooling of Figure 7")


@figure("fig15_made_masks", redraws=15)
def made_masks():
    """Figure 15 (§6.3): MADE with n = 3, its masks and connectivity."""
    from .widgets.made import MadeWidget

    return MadeWidget().fig


@figure("fig17_pixelcnn_blind_spot", redraws=17)
def pixelcnn_blind_spot():
    """Figure 17 (§6.4): the blind spot of stacked masked convolutions."""
    from .widgets.blind_spot import BlindSpotWidget

    w = BlindSpotWidget()
    w.controls["layers"].value = 4  # a deeper stack: the blind spot grows with every layer
    if w.error is not None:
        raise w.error
    return w.fig


@figure("fig18_wavenet_dilations", redraws=18)
def wavenet_dilations():
    """Figure 18 (§6.5): stacked dilated causal convolutions, receptive field 2^L."""
    from .widgets.dilation import DilationWidget

    return DilationWidget().fig


@figure("ch1_perceptron_convergence")
def perceptron_convergence():
    """Chapter 1: the perceptron stops making mistakes, well inside Novikoff's bound."""
    from .widgets.perceptron import PerceptronWidget

    w = PerceptronWidget()
    w.controls[next(iter(w.controls))].value = w.controls[next(iter(w.controls))].max
    return w.fig


@figure("ch2_convolution_matrix")
def convolution_matrix():
    """Chapter 2: a 3x3 convolution on a 4x4 image as a doubly block Toeplitz matrix."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from .conv import conv_matrix

    K = torch.arange(1.0, 10.0).reshape(3, 3)
    M = conv_matrix(K, (4, 4))
    fig, ax = plt.subplots(figsize=(6.4, 2.6))
    ax.imshow(M, cmap="Blues")
    for (i, j), v in np.ndenumerate(M.numpy()):
        if v:
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=7)
    ax.set(title="conv2d(x, K) = M x: K = [[1,2,3],[4,5,6],[7,8,9]] on a 4x4 image "
                 f"(M is {M.shape[0]}x{M.shape[1]})", xlabel="input pixel", ylabel="output pixel")
    ax.grid(False)
    fig.tight_layout()
    return fig


@figure("ch3_checkerboard")
def checkerboard():
    """Chapter 3: transposed convolution of a constant image; a checkerboard when s does not
    divide k."""
    import torch
    import torch.nn.functional as F

    x = torch.ones(1, 1, 4, 4)
    a = F.conv_transpose2d(x, torch.ones(1, 1, 3, 3), stride=2)[0, 0]
    b = F.conv_transpose2d(x, torch.ones(1, 1, 4, 4), stride=2)[0, 0]
    return _grids([(a, "k = 3, s = 2: checkerboard", None),
                   (b, "k = 4, s = 2: even inside", None)],
                  "Transposed convolution of a constant 4x4 image with a kernel of ones",
                  size=3.2)


@figure("ch4_vanishing_gradients")
def vanishing_gradients():
    """Chapter 4: ln ||dh_T/dh_k|| against T - k, Elman vs LSTM, with the bound's slope."""
    from .widgets.vanishing import VanishingGradientWidget

    return VanishingGradientWidget().fig


@figure("ch5_kl_monte_carlo")
def kl_monte_carlo():
    """Chapter 5: the closed-form Gaussian KL of the VAE against Monte-Carlo estimates."""
    import matplotlib.pyplot as plt
    import torch

    from .gaussian import kl_normal

    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.tensor([0.8, -0.5, 1.2]), torch.tensor([-0.6, 0.4, -1.0])
    exact = float(kl_normal(mu, logvar))
    sizes = [10, 30, 100, 300, 1000, 3000, 10000, 30000]
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    means, errs = [], []
    for n in sizes:
        z = mu + (0.5 * logvar).exp() * torch.randn(n, 3, generator=g)
        terms = (q.log_prob(z) - p.log_prob(z)).sum(-1)
        means.append(float(terms.mean()))
        errs.append(float(terms.std() / n ** 0.5))
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.errorbar(sizes, means, yerr=errs, fmt="o-", label="Monte Carlo, ± 1 s.e.")
    ax.axhline(exact, color="k", ls="--", label=f"closed form {exact:.4f} nats")
    ax.set(xscale="log", xlabel="samples", ylabel="KL(q || p) in nats",
           title="KL of the VAE's Gaussian posterior to N(0, I)")
    ax.legend()
    fig.tight_layout()
    return fig


@figure("ch6_likelihood_table")
def likelihood_table():
    """Chapter 6: held-out NLL of FVSBN, NADE and MADE on binarised digits (quick budgets)."""
    import matplotlib.pyplot as plt

    from . import data, likelihood, runtime

    runtime.prefer_one_thread()
    d = data.load("digits")
    table = likelihood.train_baselines(data.binarize(d.X_train), data.binarize(d.X_test))
    names = [r["name"] for r in table.rows]
    nats = [r["nats"] for r in table.rows]
    fig, ax = plt.subplots(figsize=(5.5, 2.8))
    bars = ax.barh(names, nats, color="#1f77b4")
    ax.bar_label(bars, fmt="%.2f nats", padding=3)
    ax.set(xlabel="held-out NLL per 8x8 image (nats, lower is better)",
           xlim=(0, max(nats) * 1.3), title="Likelihood table, binarised digits (quick mode)")
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def render(names=None, out_dir: Path = DEFAULT_DIR) -> list[Path]:
    """Build and save the named figures (all by default); return the written paths."""
    import matplotlib.pyplot as plt

    from .plot import DPI, style

    for name in names or ():
        checks.choice(name, "figure name", sorted(FIGURES))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    style()
    written = []
    for name in names or FIGURES:
        fig = FIGURES[name]()
        line = credit(name)
        if line:
            fig.subplots_adjust(bottom=fig.subplotpars.bottom + 0.05)  # room for the line
            fig.text(0.99, 0.01, line, ha="right", va="bottom", fontsize=7, color="0.35")
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
        written.append(path)
        print(f"wrote {path}")
    return written


if __name__ == "__main__":
    matplotlib.use("Agg")
    render(sys.argv[1:])
