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
# # 2 Convolutional neural networks
#
# An MLP treats an image as a long vector: every pixel talks to every hidden unit, and
# nothing in the model knows that neighbouring pixels belong together. A convolutional
# network builds that knowledge in. Each unit looks only at a small patch, and the same
# small set of weights (the kernel) is used at every position. This notebook follows chapter 2 of *Machine Perception*, C. Perez Jensen, 2024
# (the notes):
#
# * **2.1 Convolution**: correlation and convolution from their formulas, their algebra
#   (flip, commutativity, linearity, shift-equivariance) and convolution as a matrix;
# * **2.2 Convolutional neural network**: the forward and backward pass of a convolutional
#   layer and of max pooling, checked against autograd; parameter counts; receptive fields
#   (with a widget); and a small CNN trained on handwritten digits.
#
# Six "your turn" exercises (implement, predict, break it) are spread over the two sections;
# each is followed by a check cell that gives feedback. This is the complete version, with the
# solutions filled in; the student version in `exercises/` has blanks instead.

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

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mplib import conv, data, exercises, plot, runtime, train
from mplib import exercises_ch2 as ch2
from mplib.pooling import FIGURE7_INPUT

runtime.setup(seed=0)

# %% [markdown]
# ## 2.1 Convolution
#
# Slide a small kernel $\mathbf{K}$ over the image $\mathbf{I}$ and, at each position, multiply
# the overlapping numbers and add them up: that is **correlation**. **Convolution** does the
# same with the kernel mirrored in both axes.
#
# > **Convention (used everywhere in this notebook and in `mplib.conv`).**
# > $\mathbf{A} \star \mathbf{B}$ and $\mathbf{A} * \mathbf{B}$: the *first* argument $\mathbf{A}$ is
# > the one that slides over the second, $\mathbf{B}$:
# > $(\mathbf{A} \star \mathbf{B})[i,j] = \sum_{m,n} \mathbf{A}[m,n]\,\mathbf{B}[i+m,j+n]$ (correlation),
# > $(\mathbf{A} * \mathbf{B})[i,j] = \sum_{m,n} \mathbf{A}[m,n]\,\mathbf{B}[i-m,j-n]$ (convolution).
# > In code the image comes first and the sliding kernel second, as in PyTorch's
# > `F.conv2d(input, weight)`: `conv.correlate2d(B, A)` is $\mathbf{A} \star \mathbf{B}$ and
# > `conv.convolve2d(B, A)` is $\mathbf{A} * \mathbf{B}$. `F.conv2d` computes $\star$.
# > **Sizes:** $k$ is always a kernel's full width ($k \times k$ kernels, as in §2.2); in the
# > formulas of §2.1 a kernel of odd width $2h+1$ is indexed from $-h$ to $h$ ($h$ is its
# > half-width, which the notes' §2.1 call $k$).
#
# With $\mathbf{K}$ of size $(2h+1)\times(2h+1)$ and $\mathbf{K}[0,0]$ its centre, as in the notes:
#
# $$(\mathbf{K} \star \mathbf{I})[i,j] = \sum_{m=-h}^{h} \sum_{n=-h}^{h} \mathbf{K}[m,n]\,\mathbf{I}[i+m,j+n],
# \qquad
# (\mathbf{K} * \mathbf{I})[i,j] = \sum_{m=-h}^{h} \sum_{n=-h}^{h} \mathbf{K}[m,n]\,\mathbf{I}[i-m,j-n].$$
#
# *Erratum:* the notes index the image as $\mathbf{I}[i-m, i-n]$ in the convolution; the
# second index is $j-n$.
#
# Below, both formulas as plain loops, exactly as written. We compute only the positions
# $(i, j)$ where the whole kernel lies on the image ("valid" mode), and store $\mathbf{K}[m,n]$
# at array position `[m + h, n + h]` because Python arrays start at 0. These loops need an odd
# square kernel (they say so for any other); the first exercise lifts that restriction.

# %%
def half_width(K):
    """h for a (2h + 1) × (2h + 1) kernel; a clear error for any other shape."""
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] % 2 == 0:
        raise ValueError(f"K must be a square kernel of odd width 2h + 1 (indices −h..h), got "
                         f"shape {tuple(K.shape)}; correlate_any below takes any shape")
    return K.shape[0] // 2


def correlate(I, K):
    """(K ⋆ I)[i, j] = Σ_m Σ_n K[m, n] I[i + m, j + n] for every i, j where K fits."""
    h = half_width(K)
    H, W = I.shape
    out = torch.zeros(H - 2 * h, W - 2 * h)
    for i in range(h, H - h):
        for j in range(h, W - h):
            out[i - h, j - h] = sum(K[m + h, n + h] * I[i + m, j + n]
                                    for m in range(-h, h + 1) for n in range(-h, h + 1))
    return out


def convolve(I, K):
    """(K * I)[i, j] = Σ_m Σ_n K[m, n] I[i − m, j − n] for every i, j where K fits."""
    h = half_width(K)
    H, W = I.shape
    out = torch.zeros(H - 2 * h, W - 2 * h)
    for i in range(h, H - h):
        for j in range(h, W - h):
            out[i - h, j - h] = sum(K[m + h, n + h] * I[i - m, j - n]
                                    for m in range(-h, h + 1) for n in range(-h, h + 1))
    return out


# %% [markdown]
# **Your turn (implement): correlation for any kernel shape.** The loops above index the kernel
# from its centre, so they need an odd square kernel: a 2×2 kernel has no centre. Index it from
# its top-left corner instead, $m = 0, \dots, k_h - 1$ and $n = 0, \dots, k_w - 1$:
# $(\mathbf{K} \star \mathbf{I})[i,j] = \sum_{m,n} \mathbf{K}[m,n]\,\mathbf{I}[i+m,j+n]$ for every
# $(i, j)$ where the whole kernel lies on the image. `I` (H × W) and `K` (k_h × k_w) are
# tensors; return a tensor of shape (H − k_h + 1) × (W − k_w + 1). This is what `F.conv2d`
# computes, for odd and even kernels alike.

# %% nbgrader={"grade": false, "grade_id": "correlate_any", "locked": false, "schema_version": 3, "solution": true, "task": false}
def correlate_any(I, K):
    """Valid correlation K ⋆ I for a kernel K of any shape (k_h, k_w)."""
    ### BEGIN SOLUTION
    kh, kw = K.shape
    H, W = I.shape
    out = torch.zeros(H - kh + 1, W - kw + 1, dtype=I.dtype)
    for i in range(H - kh + 1):
        for j in range(W - kw + 1):
            out[i, j] = (K * I[i:i + kh, j:j + kw]).sum()
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_correlate_any", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch2.check_correlate_any(correlate_any)

# %% [markdown]
# From here on the notebook uses your `correlate_any` once it passes the check, and the
# reference until then. On an even 2×2 kernel, where the centred loops give up:

# %%
any_kernel = exercises.yours_or_reference(correlate_any, ch2.correlate_any, ch2.CORRELATE_CASES,
                                          name="correlate_any")
I_demo, K_even = torch.arange(20.0).reshape(4, 5), torch.tensor([[1.0, 2.0], [3.0, 4.0]])
try:
    correlate(I_demo, K_even)
except ValueError as err:
    print("correlate:", err)
torch.testing.assert_close(any_kernel(I_demo, K_even),
                           F.conv2d(I_demo[None, None], K_even[None, None])[0, 0])
print("correlate_any on a 4×5 image with a 2×2 kernel: a 3×4 output, equal to F.conv2d")


# %% [markdown]
# We try them on an 8×8 handwritten digit with the Sobel kernel, which responds to a change
# of brightness from left to right. It is antisymmetric, so mirroring it flips its sign, and
# correlation and convolution give opposite answers.
#
# **Check.** `torch.nn.functional.conv2d`, the operation inside every `nn.Conv2d`, computes a
# *correlation*, not a convolution: it agrees with `correlate` and disagrees with `convolve`,
# which it matches only after we rotate the kernel by 180°. The vectorised versions in
# `mplib.conv` (all windows at once, one `einsum`) give the same numbers.

# %%
# NBVAL_CHECK_OUTPUT
digits = data.load("digits")
I = digits.X_train[0, 0]                       # an 8×8 image
K = torch.tensor([[-1.0, 0.0, 1.0],
                  [-2.0, 0.0, 2.0],
                  [-1.0, 0.0, 1.0]])          # Sobel: brighter to the right -> positive

corr, convo = correlate(I, K), convolve(I, K)
torch_out = F.conv2d(I[None, None], K[None, None])[0, 0]

torch.testing.assert_close(corr, torch_out)                          # conv2d is a correlation
assert not torch.allclose(convo, torch_out)                          # ... not a convolution
torch.testing.assert_close(convo, F.conv2d(I[None, None], K.flip(0, 1)[None, None])[0, 0])
torch.testing.assert_close(corr, conv.correlate2d(I, K))
torch.testing.assert_close(convo, conv.convolve2d(I, K))
print("conv2d == correlation: True;  conv2d == convolution: False")

# %%
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
for ax, A, title in zip(axes, [I, K, corr, convo],
                        ["image I", "kernel K (Sobel)", "correlation K ⋆ I\n(= F.conv2d)",
                         "convolution K * I"]):
    lim = float(A.abs().max())
    ax.imshow(A, cmap="gray_r" if A is I else "RdBu_r", vmin=0 if A is I else -lim, vmax=lim)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
fig.tight_layout()

# %% [markdown]
# **Your turn (break it).** In the check cell above (the one that loads the digits), replace
# the Sobel kernel by the 3×3 Gaussian blur
# `K = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16` and run the cell.
# Which check fails, and why? (a) `assert_close(corr, torch_out)`;
# (b) `assert not torch.allclose(convo, torch_out)`; (c) none; (d) the check that `convo`
# equals `conv2d` with the flipped kernel. Predict first, then try it (and put Sobel back
# afterwards: the cells below use it).

# %% nbgrader={"grade": false, "grade_id": "symmetric_kernel", "locked": false, "schema_version": 3, "solution": true, "task": false}
def symmetric_kernel_answer():
    """"a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_symmetric_kernel", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch2.check_symmetric_kernel(symmetric_kernel_answer)

# %% [markdown]
# ### Convolution is correlation with the kernel rotated by 180°
#
# Substituting $m \to -m$, $n \to -n$ in the convolution sum gives
# $(\mathbf{K} * \mathbf{I})[i,j] = \sum_{m,n} \mathbf{K}[-m,-n]\,\mathbf{I}[i+m,j+n]$, a correlation
# with $\operatorname{Rot}_{180}(\mathbf{K})$. For the antisymmetric Sobel kernel
# $\operatorname{Rot}_{180}(\mathbf{K}) = -\mathbf{K}$, hence the opposite signs above. The loops are
# slow; the vectorised version is what we use from here on.

# %%
torch.testing.assert_close(convolve(I, K), correlate(I, torch.rot90(K, 2)))
torch.testing.assert_close(convolve(I, K), -correlate(I, K))          # Sobel: Rot180(K) = −K

big = data.load("mnist_subset").X_train[0, 0]                           # a 28×28 image
with runtime.Timer() as loops:
    slow = correlate(big, K)
with runtime.Timer() as vectorised:
    fast = conv.correlate2d(big, K)
torch.testing.assert_close(slow, fast)
print(f"28×28 image: loops {loops.seconds * 1e3:.0f} ms, vectorised {vectorised.seconds * 1e3:.2f} ms")

# %% [markdown]
# ### Convolution commutes, correlation does not
#
# If we keep *every* position where kernel and image overlap ("full" mode), convolution is
# symmetric in its two arguments: substituting $p = i - m$ turns
# $\sum_m \mathbf{K}[m]\,\mathbf{I}[i-m]$ into $\sum_p \mathbf{I}[p]\,\mathbf{K}[i-p]$. So
# $\mathbf{K} * \mathbf{I} = \mathbf{I} * \mathbf{K}$. Correlation only commutes up to a
# 180° rotation: $\mathbf{I} \star \mathbf{K} = \operatorname{Rot}_{180}(\mathbf{K} \star \mathbf{I})$.
#
# *Erratum (footnote 3):* the footnote's two sides are garbled (it reads as if convolution
# both did and did not commute); the correct statement is the one above.
#
# In `mplib.conv` the first argument is the image and the second the kernel that slides over
# it, so `convolve2d(I, K)` is $\mathbf{K} * \mathbf{I}$.

# %%
# NBVAL_CHECK_OUTPUT
A = torch.randn(5, 6)
B = torch.randn(3, 2)
torch.testing.assert_close(conv.convolve2d(A, B, padding="full"), conv.convolve2d(B, A, padding="full"))
corr_AB = conv.correlate2d(A, B, padding="full")   # B slides over A
corr_BA = conv.correlate2d(B, A, padding="full")   # A slides over B
assert not torch.allclose(corr_AB, corr_BA)
torch.testing.assert_close(corr_AB, torch.rot90(corr_BA, 2))
print("full convolution commutes: True;  correlation commutes: False (only up to a 180° rotation)")

# %% [markdown]
# ### Linearity and shift-equivariance
#
# A convolution operator $C$ (here $C(\mathbf{x}) = \mathbf{K} * \mathbf{x}$, and the same holds
# for correlation) is
#
# * **linear**: $C(\alpha \mathbf{x} + \beta \mathbf{y}) = \alpha C(\mathbf{x}) + \beta C(\mathbf{y})$;
# * **shift-equivariant**: $T_t(C(\mathbf{x})) = C(T_t(\mathbf{x}))$, where $T_t$ shifts an image
#   by $t$ pixels: shifting the input shifts the output by the same amount.
#
# *Erratum:* the notes write linearity as $C(\alpha x + \beta) = \alpha C(x) + \beta$; adding a
# constant $\beta$ to the input adds $\beta \sum_{m,n}\mathbf{K}[m,n]$ to the output, not $\beta$
# (the cell below shows the difference for Sobel, whose entries sum to 0). The notes' identity
# does hold for a kernel whose entries sum to 1, such as a box blur: a student who tries one
# finds it true, and that is no contradiction (the cell checks that too).
#
# At the border a shift moves pixels out of the image, so with zero padding equivariance
# holds only away from the border. With **circular** padding (the image wraps around, like
# `torch.roll`) it is exact everywhere.

# %%
def C(x, padding_mode="circular"):
    return conv.convolve2d(x, K, padding="same", padding_mode=padding_mode)


x, y = torch.randn(2, 12, 12)
alpha, beta = 2.5, -0.7
torch.testing.assert_close(C(alpha * x + beta * y), alpha * C(x) + beta * C(y))     # linear
# the notes' version: adding a constant β to the input adds β·ΣK to the output, not β
torch.testing.assert_close(C(x + beta) - C(x), torch.full_like(x, beta * float(K.sum())))
print(f"C(x + β) − C(x) = β·ΣK = {beta * float(K.sum()) + 0.0:.2f} everywhere (Sobel: ΣK = 0), "
      f"not β = {beta}; so C(αx + β) ≠ αC(x) + β")
box = torch.full((3, 3), 1 / 9)                      # box blur: ΣK = 1
C_box = conv.convolve2d(alpha * x + beta, box, padding="same", padding_mode="circular")
torch.testing.assert_close(C_box, alpha * conv.convolve2d(x, box, padding="same",
                                                          padding_mode="circular") + beta)
print(f"box blur (ΣK = {float(box.sum()):.0f}): C(αx + β) = αC(x) + β holds, because β·ΣK = β")


def T(x, t=(2, 3)):
    return torch.roll(x, shifts=t, dims=(0, 1))


torch.testing.assert_close(T(C(x)), C(T(x)))                                        # exact
zero_padding_error = (T(C(x, "zeros")) - C(T(x), "zeros")).abs()
interior = zero_padding_error[3:-1, 4:-1]   # away from the border and from the wrapped strip
print(f"circular padding: exact; zero padding: max error {zero_padding_error.max():.2f} near the "
      f"border, {interior.max():.1e} in the interior (rows 3-10, columns 4-10)")
torch.testing.assert_close(interior, torch.zeros(8, 7))

# %%
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
panels = [(x, "x"), (C(T(x)), "C(T(x))"), (T(C(x)), "T(C(x))"),
          (zero_padding_error, "|T(C(x)) − C(T(x))|\nwith zero padding")]
for ax, (A, title) in zip(axes, panels):
    ax.imshow(A, cmap="magma" if "|" in title else "RdBu_r")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
fig.suptitle("shift by t = (2, 3): circular padding makes the two middle pictures identical;"
             " zero padding breaks it at the border", fontsize=10)
fig.tight_layout()

# %% [markdown]
# ### Convolution as a matrix product
#
# Because it is linear, a convolution is a matrix times the image written as a vector. The
# notes show the 1-D case: for a kernel $(k_1, \dots, k_m)$, each row of the matrix holds the
# flipped kernel, shifted one place to the right of the row above (a **Toeplitz** matrix):
#
# $$\mathbf{K} * \mathbf{I} = \begin{bmatrix} k_1 & 0 & \cdots & 0 \\ k_2 & k_1 & \cdots & 0 \\
# \vdots & \vdots & \ddots & \vdots \\ 0 & 0 & \cdots & k_m \end{bmatrix}
# \begin{bmatrix} I_1 \\ \vdots \\ I_n \end{bmatrix}.$$
#
# **Your turn (implement): the Toeplitz matrix.** Write `toeplitz_1d(k, n)`: for a kernel `k`
# of length m (a 1-D tensor) and a signal length n, return the (n + m − 1) × n matrix above,
# so that `toeplitz_1d(k, n) @ x` is the *full* 1-D convolution of x with k (what
# `np.convolve(x, k)` computes). Look at the matrix column by column: what does column c hold?

# %% nbgrader={"grade": false, "grade_id": "toeplitz_1d", "locked": false, "schema_version": 3, "solution": true, "task": false}
def toeplitz_1d(k, n):
    """The notes' (n + m − 1) × n matrix of the full 1-D convolution with kernel k (length m)."""
    ### BEGIN SOLUTION
    m = len(k)
    T = torch.zeros(n + m - 1, n, dtype=k.dtype)
    for col in range(n):
        T[col:col + m, col] = k
    return T
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_toeplitz_1d", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch2.check_toeplitz_1d(toeplitz_1d)

# %% [markdown]
# In 2-D, with the image flattened row by row, the matrix is **doubly block Toeplitz**: a
# Toeplitz arrangement of blocks, each block itself Toeplitz. We build it for a correlation
# (what `conv2d` computes): row $i \cdot W_{out} + j$ holds $\mathbf{K}[m,n]$ at column
# $(i+m) \cdot W + (j+n)$. The 1-D matrix is yours once it passes its check.

# %%
# NBVAL_CHECK_OUTPUT
toeplitz = exercises.yours_or_reference(toeplitz_1d, ch2.toeplitz_1d, ch2.TOEPLITZ_CASES,
                                        name="toeplitz_1d")


def conv_matrix_2d(K, H, W):
    """Doubly block Toeplitz matrix of the valid 2-D correlation with K on an H × W image."""
    kh, kw = K.shape
    H_out, W_out = H - kh + 1, W - kw + 1
    M = torch.zeros(H_out * W_out, H * W)
    for i in range(H_out):
        for j in range(W_out):
            for m in range(kh):
                for n in range(kw):
                    M[i * W_out + j, (i + m) * W + (j + n)] = K[m, n]
    return M


k1d, s1d = torch.tensor([1.0, 2.0, 3.0]), torch.randn(6)
torch.testing.assert_close(toeplitz(k1d, 6) @ s1d,
                           torch.from_numpy(np.convolve(s1d.numpy(), k1d.numpy())).float())

H, W = 5, 6
image = torch.randn(H, W)
M = conv_matrix_2d(K, H, W)
torch.testing.assert_close((M @ image.reshape(-1)).reshape(H - 2, W - 2),
                           F.conv2d(image[None, None], K[None, None])[0, 0])
torch.testing.assert_close(M, conv.conv_matrix(K, (H, W)))       # mplib's vectorised version
print(f"matrix of a 3×3 kernel on a {H}×{W} image: {tuple(M.shape)}, "
      f"{int((M != 0).sum())} of {M.numel()} entries nonzero")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 2.6), gridspec_kw={"width_ratios": [1, 4]})
axes[0].imshow(toeplitz(k1d, 6), cmap="RdBu_r", vmin=-3, vmax=3)
axes[0].set(title="1-D, k = (1, 2, 3), n = 6", xlabel="input index", ylabel="output index")
axes[1].imshow(M, cmap="RdBu_r", vmin=-2, vmax=2)
for b in range(1, H):                       # the blocks: one per image row
    axes[1].axvline(b * W - 0.5, color="gray", lw=0.5)
for b in range(1, H - 2):                   # one block row per output row
    axes[1].axhline(b * (W - 2) - 0.5, color="gray", lw=0.5)
axes[1].set(title=f"2-D: Sobel on a {H}×{W} image (blocks = image rows)",
            xlabel="input pixel (flattened)", ylabel="output pixel")
for ax in axes:
    ax.grid(False)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
fig.tight_layout()

# %% [markdown]
# ## 2.2 Convolutional neural network
#
# A CNN stacks **convolutional layers** (learned kernels), **pooling layers** (which shrink
# the feature maps) and, at the end, a **dense layer** that turns the features into the
# prediction. Sharing one small kernel across all positions is what keeps the number of
# parameters small; we count them at the end of this section.
#
# ### Convolutional layer: forward and backward
#
# For a single filter the notes write the forward pass as a convolution,
#
# $$z^{(\ell)}[i,j] = \sum_{m} \sum_{n} w^{(\ell)}[m,n]\, z^{(\ell-1)}[i-m,j-n] + b,$$
#
# and with $\delta^{(\ell)}[i,j] = \partial \mathcal{L} / \partial z^{(\ell)}[i,j]$ derive
#
# $$\delta^{(\ell-1)}[i,j] = \sum_{i'} \sum_{j'} \delta^{(\ell)}[i',j']\, w^{(\ell)}[i'-i,j'-j],
# \qquad
# \frac{\partial \mathcal{L}}{\partial w^{(\ell)}[m,n]} = \sum_{i} \sum_{j} \delta^{(\ell)}[i,j]\, z^{(\ell-1)}[i-m,j-n].$$
#
# To make every sum literal we let $m, n$ run over $0, \dots, k-1$ and treat $z^{(\ell-1)}$ as
# zero outside the image, so $z^{(\ell)}$ is the *full* convolution. Substituting $m = i' - i$
# in the first sum and $p = i - m$ in the second shows what they are:
#
# * $\delta^{(\ell-1)}[i,j] = \sum_{m,n} w^{(\ell)}[m,n]\,\delta^{(\ell)}[i+m,j+n]$: the kernel
#   $\mathbf{W}^{(\ell)}$ **correlated** over $\delta^{(\ell)}$, $\delta^{(\ell-1)} = \mathbf{W}^{(\ell)} \star \delta^{(\ell)}$
#   (the convention box: $\mathbf{W}^{(\ell)}$ slides). That equals the notes' first form,
#   $\operatorname{Rot}_{180}(\mathbf{W}^{(\ell)}) * \delta^{(\ell)}$, since convolving with a rotated kernel is
#   correlating with the kernel itself. *Erratum:* the notes' second form, $\delta^{(\ell)} \star \mathbf{W}^{(\ell)}$,
#   would slide $\delta^{(\ell)}$ over the kernel; it is right only if $\mathbf{W}^{(\ell)}$ is read as the
#   sliding argument, the opposite of the notes' own §2.1 definition;
# * $\partial\mathcal{L}/\partial w^{(\ell)}[m,n] = \sum_{p,q} z^{(\ell-1)}[p,q]\,\delta^{(\ell)}[p+m,q+n]$:
#   $\mathbf{Z}^{(\ell-1)}$ **correlated** over $\delta^{(\ell)}$.
#
# *Erratum:* the notes close with $\partial\mathcal{L}/\partial\mathbf{W}^{(\ell)} = \delta^{(\ell)} * \mathbf{Z}^{(\ell-1)}$,
# a convolution. A convolution rotates one argument by 180° before sliding it, so that
# formula pairs each $\delta^{(\ell)}[i,j]$ with the wrong input pixels: it is the gradient
# for the input rotated by 180°. We compute both and let autograd decide, and then run the
# forward and backward pass again on the rotated input to show what the notes' formula is.
#
# With channels, $\mathbf{W}$ has shape $(C_{out}, C_{in}, k, k)$ and each output channel sums
# over the input channels: $z^{(\ell)}_{o} = \sum_{c} \mathbf{W}_{o,c} * z^{(\ell-1)}_{c} + b_o$.
# The backward formulas then sum over the channel that disappears:
# $\delta^{(\ell-1)}_{c} = \sum_{o} \mathbf{W}_{o,c} \star \delta^{(\ell)}_{o}$ and
# $\partial\mathcal{L}/\partial \mathbf{W}_{o,c} = \mathbf{Z}^{(\ell-1)}_{c} \star \delta^{(\ell)}_{o}$.
# In code (image first, sliding kernel second): `conv.correlate2d(delta[o], W[o, c])` and
# `conv.correlate2d(delta[o], Z[c])`.

# %%
def conv_forward(Z, W, b):
    """z_o = Σ_c W[o, c] * Z[c] + b[o]: full convolution, Z (C_in, H, W), W (C_out, C_in, k, k)."""
    return torch.stack([sum(conv.convolve2d(Z[c], W[o, c], padding="full")
                            for c in range(W.shape[1])) + b[o] for o in range(W.shape[0])])


def conv_backward(delta, Z, W):
    """δ^(ℓ−1), ∂L/∂W and ∂L/∂b from δ^(ℓ) (C_out, H + k − 1, W + k − 1)."""
    C_out, C_in = W.shape[:2]
    delta_prev = torch.stack([sum(conv.correlate2d(delta[o], W[o, c]) for o in range(C_out))
                              for c in range(C_in)])
    dW = torch.stack([torch.stack([conv.correlate2d(delta[o], Z[c]) for c in range(C_in)])
                      for o in range(C_out)])
    db = delta.sum(dim=(1, 2))
    return delta_prev, dW, db


def dW_as_the_notes_close(delta, Z):
    """The notes' closing formula ∂L/∂W = δ^(ℓ) * Z^(ℓ−1), a convolution (it commutes; computed
    here with Z sliding over δ, the only way round that fits in valid mode)."""
    return torch.stack([torch.stack([conv.convolve2d(delta[o], Z[c]) for c in range(Z.shape[0])])
                        for o in range(delta.shape[0])])


# %% [markdown]
# **Check against autograd.** Take a random input with 3 channels, a 3×3 layer with 4 output
# channels and the loss $\mathcal{L} = \sum z^{(\ell)} \odot R$ for a fixed random $R$, so that
# $\delta^{(\ell)} = R$. PyTorch's forward is `conv2d` (a correlation) with the kernel rotated and
# padding $k-1$: the full convolution above.

# %%
runtime.seed(0)
Z = torch.randn(3, 7, 8, requires_grad=True)       # z^(ℓ−1): C_in = 3 channels
Wl = torch.randn(4, 3, 3, 3, requires_grad=True)   # W^(ℓ): C_out = 4, k = 3
bl = torch.randn(4, requires_grad=True)
z = F.conv2d(Z[None], Wl.flip(-2, -1), bl, padding=2)[0]
torch.testing.assert_close(z, conv_forward(Z, Wl, bl))

R = torch.randn_like(z)
(z * R).sum().backward()
delta = R                                            # δ^(ℓ) = ∂L/∂z^(ℓ)
delta_prev, dW, db = conv_backward(delta, Z.detach(), Wl.detach())
torch.testing.assert_close(delta_prev, Z.grad)
torch.testing.assert_close(dW, Wl.grad)
torch.testing.assert_close(db, bl.grad)

notes_dW = dW_as_the_notes_close(delta, Z.detach())
print("∂L/∂W as a correlation  Z ⋆ δ,     max error vs autograd:",
      f"{(dW - Wl.grad).abs().max():.1e}")
print("∂L/∂W as the notes close, δ * Z,  max error vs autograd:",
      f"{(notes_dW - Wl.grad).abs().max():.1e}")
assert not torch.allclose(notes_dW, Wl.grad, atol=1e-3)        # autograd: not a convolution
# What the notes' formula is: a second forward and backward pass (autograd, not our formula)
# with the input rotated by 180° and the same δ gives exactly notes_dW.
W_rot = Wl.detach().clone().requires_grad_(True)
z_rot = F.conv2d(Z.detach().flip(-2, -1)[None], W_rot.flip(-2, -1), bl.detach(), padding=2)[0]
(z_rot * R).sum().backward()
torch.testing.assert_close(notes_dW, W_rot.grad)
print("δ * Z equals autograd's ∂L/∂W for the input rotated by 180°, max error",
      f"{(notes_dW - W_rot.grad).abs().max():.1e}")


# %% [markdown]
# ### How many parameters?
#
# A convolutional layer has one $K \times K$ kernel for each pair of input and output channels:
# $K \times K \times C_{in} \times C_{out}$ weights (plus $C_{out}$ biases), however large the image.
# A dense layer producing the same output from the same image needs one weight per pair of
# input and output numbers. Footnote 2 of the notes makes the point for a 256×256 colour image:
# even a *single* output unit needs $256 \cdot 256 \cdot 3 + 1 = 196\,609$ parameters; ten
# outputs need about two million.
#
# *Erratum (footnote 2):* the notes say one output needs "nearly 2 million" parameters; it is
# 196,609 (the cell below prints it); nearly 2 million is what ten outputs need.
#
# **Your turn (predict): count the parameters.** A 32×32 RGB image (3 channels) goes into
# (1) a convolutional layer with 8 output channels and 3×3 kernels, no padding, which makes
# 8 maps of 30×30, and (2) a dense layer that makes the same 8·30·30 outputs from the same
# image. Both have biases. How many parameters does each have? Let `parameter_counts` return
# the pair (conv, dense); the cell after the check counts them with PyTorch.

# %% nbgrader={"grade": false, "grade_id": "parameter_counts", "locked": false, "schema_version": 3, "solution": true, "task": false}
def parameter_counts():
    """(parameters of the conv layer, parameters of the dense layer), two integers."""
    ### BEGIN SOLUTION
    conv_count = 3 * 3 * 3 * 8 + 8                                # k·k·C_in·C_out + C_out
    dense_count = (32 * 32 * 3) * (30 * 30 * 8) + 30 * 30 * 8      # inputs·outputs + outputs
    return conv_count, dense_count
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_parameter_counts", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch2.check_parameter_counts(parameter_counts)

# %%
# NBVAL_CHECK_OUTPUT
def count(module):
    return sum(p.numel() for p in module.parameters())


K_, C_in, C_out, H_, W_ = 5, 1, 16, 28, 28
conv_layer = nn.Conv2d(C_in, C_out, K_)
H_out, W_out = H_ - K_ + 1, W_ - K_ + 1
assert count(conv_layer) == K_ * K_ * C_in * C_out + C_out
dense_params = (H_ * W_ * C_in) * (H_out * W_out * C_out) + H_out * W_out * C_out
print(f"28×28 image -> {C_out} maps of {H_out}×{W_out}: conv {count(conv_layer):,} parameters, "
      f"dense {dense_params:,} ({dense_params / count(conv_layer):,.0f}× more)")
for outputs in (1, 10):
    print(f"footnote 2: dense layer 256×256×3 -> {outputs:>2}: "
          f"{256 * 256 * 3 * outputs + outputs:,} parameters")
rgb_conv = nn.Conv2d(3, 8, 3)
assert count(rgb_conv) == ch2.CONV_PARAMS and rgb_conv(torch.zeros(1, 3, 32, 32)).shape[-1] == 30
# nn.Linear(3072, 7200) would allocate its 22 M weights: its shapes give the same count
print(f"exercise: conv {count(rgb_conv):,} parameters, dense {3072 * 7200 + 7200:,} (weights "
      f"{tuple(nn.Linear(3072, 7200, device='meta').weight.shape)}, bias 7200)")

# %% [markdown]
# ### Pooling layers
#
# Max pooling keeps the largest value of each $k \times k$ window, moving the window by the
# stride $s$:
#
# $$z^{(\ell)}[i,j] = \max \big\{ z^{(\ell-1)}[i',j'] \;\big|\; i' \in [si, si+k),\ j' \in [sj, sj+k) \big\}.$$
#
# (The notes write $z^{(\ell)}$ inside the max as well; the input is layer $\ell - 1$.)
# *Erratum:* the notes write the window as $[si:si+k]$; read with the notes' own symbols that
# range is inclusive and has $k+1$ entries. A $k \times k$ window is the half-open
# $[si, si+k)$, as above and as Python's slice `s*i:s*i+k`. The pooling layer has
# no parameters. Its backward pass hands each output's gradient to the one input that won the
# max, $[i^\star, j^\star]$, and nothing to the others:
# $\partial z^{(\ell)}[i,j] / \partial z^{(\ell-1)}[i',j'] = \mathbb{1}\{[i',j'] = [i^\star,j^\star]\}$.
#
# The example is Figure 7 of the notes, 2×2 pooling with stride 2. The text of the notes
# keeps only its output, $\begin{smallmatrix}6 & 8\\ 4 & 8\end{smallmatrix}$, and (through the
# max-unpooling Figure 10) where each maximum sat; the other input numbers below are ours,
# chosen smaller than the maximum of their window.

# %%
# NBVAL_CHECK_OUTPUT
def maxpool_forward(Z, k=2, s=2):
    """Max over each k×k window (stride s); also return where each maximum sat."""
    H_out, W_out = (Z.shape[0] - k) // s + 1, (Z.shape[1] - k) // s + 1
    out = torch.zeros(H_out, W_out)
    argmax = {}
    for i in range(H_out):
        for j in range(W_out):
            window = Z[s * i:s * i + k, s * j:s * j + k]
            out[i, j] = window.max()
            a, b = divmod(int(window.argmax()), k)
            argmax[i, j] = (s * i + a, s * j + b)            # [i*, j*]
    return out, argmax


def maxpool_backward(delta, argmax, shape):
    """δ^(ℓ−1): each δ^(ℓ)[i, j] goes to its [i*, j*]; every other input gets 0."""
    delta_prev = torch.zeros(shape)
    for (i, j), (i_star, j_star) in argmax.items():
        delta_prev[i_star, j_star] += delta[i, j]
    return delta_prev


figure7 = FIGURE7_INPUT.clone()   # our stand-in for Figure 7's input (mplib/pooling.py)
pooled, argmax = maxpool_forward(figure7)
delta_pool = torch.tensor([[0.1, 0.2], [0.3, 0.4]])      # some upstream gradient δ^(ℓ)
routed = maxpool_backward(delta_pool, argmax, figure7.shape)

Zp = figure7.clone().requires_grad_(True)
out = F.max_pool2d(Zp[None, None], kernel_size=2, stride=2)[0, 0]
(out * delta_pool).sum().backward()
torch.testing.assert_close(pooled, out.detach())
torch.testing.assert_close(routed, Zp.grad)
print("Figure 7's output:", pooled.tolist())   # the notes print [[6, 8], [4, 8]]
print("max pooling forward and backward agree with F.max_pool2d and autograd")


# %%
fig, axes = plt.subplots(1, 4, figsize=(10, 2.7), gridspec_kw={"width_ratios": [2, 1, 1, 2]})
winners = routed != 0
plot.show_array(axes[0], figure7, title=r"input $z^{(\ell-1)}$ (Figure 7)", highlight=winners)
plot.show_array(axes[1], pooled, title="max pool 2×2, s = 2")
plot.show_array(axes[2], delta_pool, title=r"$\delta^{(\ell)}$", cmap="Oranges")
plot.show_array(axes[3], routed, title=r"$\delta^{(\ell-1)}$: routed to the max",
                cmap="Oranges", highlight=winners)
fig.tight_layout()


# %% [markdown]
# **Your turn (implement): max pooling with overlapping windows.** Above, the window size and
# the stride are equal, so every input sits in exactly one window. Write `maxpool(Z, delta, k, s)`
# for any window size `k` and stride `s`: return `(out, delta_prev)`, the pooled map of `Z`
# (H × W) and the gradient routed back from `delta` (the shape of `out`). With `s < k` windows
# overlap, and one input can win several of them. The check runs k = 3, s = 2 among others.

# %% nbgrader={"grade": false, "grade_id": "maxpool", "locked": false, "schema_version": 3, "solution": true, "task": false}
def maxpool(Z, delta, k, s):
    """Max pooling (k×k windows, stride s) of Z and its backward pass: (out, delta_prev)."""
    ### BEGIN SOLUTION
    H_out, W_out = (Z.shape[0] - k) // s + 1, (Z.shape[1] - k) // s + 1
    out = torch.zeros(H_out, W_out, dtype=Z.dtype)
    delta_prev = torch.zeros_like(Z)
    for i in range(H_out):
        for j in range(W_out):
            window = Z[s * i:s * i + k, s * j:s * j + k]
            out[i, j] = window.max()
            a, b = divmod(int(window.argmax()), k)
            delta_prev[s * i + a, s * j + b] += delta[i, j]    # += : windows may overlap
    return out, delta_prev
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_maxpool", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch2.check_maxpool(maxpool)

# %% [markdown]
# Figure 7's input with 3×3 windows and stride 1 (ties between its two 8s broken by adding
# 0.01 × the pixel's index): all four windows overlap at the centre, and the input that wins
# several of them collects the sum of their gradients. (Your `maxpool` once it passes its
# check, the reference until then.)

# %%
# NBVAL_CHECK_OUTPUT
pool_any = exercises.yours_or_reference(maxpool, ch2.maxpool, ch2.POOL_CASES, name="maxpool")
untied = figure7 + 0.01 * torch.arange(16.0).reshape(4, 4)
overlap_out, overlap_routed = pool_any(untied, delta_pool, 3, 1)
Zp = untied.clone().requires_grad_(True)
(F.max_pool2d(Zp[None, None], 3, 1)[0, 0] * delta_pool).sum().backward()
torch.testing.assert_close(overlap_routed, Zp.grad)
collectors = [tuple(ij) for ij in torch.nonzero(overlap_routed).tolist()]
print(f"pooled: {[[round(v, 2) for v in row] for row in overlap_out.tolist()]} | δ^(ℓ−1) "
      f"nonzero only at {collectors}, value "
      f"{[round(v, 2) for v in overlap_routed[overlap_routed != 0].tolist()]} "
      f"= Σδ = {float(delta_pool.sum()):.1f}; agrees with autograd")

# %% [markdown]
# ### Dense layer, and training a CNN
#
# After the convolution and pooling layers, `nn.Flatten` turns the feature maps into one
# vector and a dense (linear) layer makes the prediction. Below, a small CNN on the 8×8
# digits, next to the MLP of chapter 1 trained with chapter 1's recipe (30 epochs in quick
# mode, batches of 64, learning rate 3·10⁻³). The CNN has two convolutional
# layers (3×3, padding 1) with max pooling after each: 8×8 → 4×4 → 2×2. Each convolution is
# followed by batch normalisation (it rescales every channel to zero mean and unit variance
# over the batch); without it this small network is less reliable on only 1 437 images.
# Only the CNN has batch normalisation; the MLP is chapter 1's, without it, so the comparison
# is not of convolution alone. The MLP's accuracy can differ from chapter 1's in the last
# digit: its random initial weights come from a different point of the random stream.

# %%
runtime.summary()
from mplib.models import DIGITS_MLP_HIDDEN, mlp  # noqa: E402  (chapter 1's MLP)


def small_cnn(width=16, size=8):
    """conv3 -> BN -> ReLU -> pool2 -> conv3 -> BN -> ReLU -> pool2 -> dense; size: image side."""
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, 10))


epochs = runtime.budget(quick=20, full=40)
runtime.seed(0)
cnn = small_cnn()
cnn_history = train.fit(cnn, digits, epochs=epochs, lr=3e-3)
runtime.seed(0)
mlp_model = mlp(64, DIGITS_MLP_HIDDEN, 10)
mlp_history = train.fit(mlp_model, digits, epochs=30, lr=3e-3, batch_size=64)  # chapter 1's recipe
cnn.cpu().eval()
mlp_model.cpu().eval()
for name, model, history in (("CNN", cnn, cnn_history), ("MLP (chapter 1)", mlp_model, mlp_history)):
    print(f"{name:>16}: {count(model):>6,} parameters, test accuracy "
          f"{history.test_accuracy[-1]:.1%} ({history.seconds:.1f} s)")
runtime.target(f"CNN test accuracy on the digits {cnn_history.test_accuracy[-1]:.1%} >= 97 %",
               cnn_history.test_accuracy[-1] >= 0.97)

# %% [markdown]
# ### MNIST: filters and feature maps
#
# On 28×28 images a 5×5 kernel covers a piece of a pen stroke. In quick
# mode this trains on the 4 000-image MNIST subset for a few epochs; in full mode (on a GPU)
# on all 60 000 MNIST images, aiming at 99.2 % test accuracy. This network uses 5×5 kernels
# without padding: 28 → 24 → 12 → 8 → 4 (and, like the one above, batch normalisation).

# %%
runtime.summary()
mnist = data.load(runtime.budget(quick="mnist_subset", full="mnist"))
width = runtime.budget(quick=8, full=32)
runtime.seed(0)
mnist_cnn = nn.Sequential(
    nn.Conv2d(1, width, 5), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(width, 2 * width, 5), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(2 * width * 4 * 4, 10))
features_before = copy.deepcopy(mnist_cnn[:8])       # the untrained feature extractor
mnist_history = train.fit(mnist_cnn, mnist, epochs=runtime.budget(quick=6, full=15), lr=3e-3)
mnist_cnn.cpu().eval()
accuracy = mnist_history.test_accuracy[-1]
print(f"{mnist.name}: {count(mnist_cnn):,} parameters, test accuracy {accuracy:.1%} "
      f"({mnist_history.seconds:.1f} s)")
if mnist.is_full_mnist:
    runtime.target(f"CNN test accuracy on full MNIST {accuracy:.2%} >= 99.2 %", accuracy >= 0.992)
else:
    print("(the 99.2 % target is for full MNIST in full mode; this is the 4 000-image subset)")
    runtime.target(f"CNN test accuracy on the MNIST subset {accuracy:.1%} >= 90 %", accuracy >= 0.9)

# %% [markdown]
# The first layer's kernels (blue negative, red positive) and what they make of one test
# image: each feature map lights up where its kernel's pattern occurs. The kernels are shown
# as they are: the cell prints how far training moved them from their random start. After a
# few epochs in quick mode they have moved only part of the way and still look noisy; the
# feature maps already pick out edges and strokes of particular orientations.

# %%
filters = mnist_cnn[0].weight.detach()[:8, 0]
start = features_before[0].weight.detach()[:8, 0]
moved = float((filters - start).norm() / start.norm())
print(f"first-layer kernels: ‖W − W_start‖ / ‖W_start‖ = {moved:.2f} after "
      f"{len(mnist_history.test_accuracy)} epochs")
sample = mnist.X_test[:1].cpu()
with torch.no_grad():
    maps = mnist_cnn[:3](sample)[0, :8]              # conv -> batch norm -> ReLU
fig, axes = plt.subplots(2, 9, figsize=(10, 2.6))
axes[0, 0].imshow(sample[0, 0], cmap="gray_r")
axes[0, 0].set_title("input", fontsize=9)
for c in range(8):
    lim = float(filters[c].abs().max())
    axes[0, c + 1].imshow(filters[c], cmap="RdBu_r", vmin=-lim, vmax=lim)
    axes[0, c + 1].set_title(f"kernel {c}", fontsize=9)
    axes[1, c + 1].imshow(maps[c], cmap="magma")
    axes[1, c + 1].set_title(f"map {c}", fontsize=9)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("first convolutional layer: 5×5 kernels (top) and feature maps (bottom)", fontsize=10)
fig.tight_layout()

# %% [markdown]
# ### Correlation or convolution: learning does not care
#
# The notes remark that it does not matter whether a layer correlates or convolves: a learned
# kernel simply comes out mirrored. Below, the same small network twice on the digits: once
# with `nn.Conv2d` (a correlation) and once with a layer that convolves (`conv2d` with its
# kernel rotated by 180°), the second started from the mirrored initial kernels of the first.
# Both then compute the same function at every step, so their learned kernels are exact
# mirror images and their accuracies are equal.

# %%
class Convolution2d(nn.Conv2d):
    """nn.Conv2d that convolves: conv2d with its kernel rotated by 180° (K * x)."""

    def forward(self, x):
        return F.conv2d(x, self.weight.flip(-2, -1), self.bias, self.stride, self.padding)


def tiny_net(layer):
    return nn.Sequential(layer(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(6 * 3 * 3, 10))


runtime.seed(1)
net_corr, net_conv = tiny_net(nn.Conv2d), tiny_net(Convolution2d)
net_conv.load_state_dict(net_corr.state_dict())
with torch.no_grad():
    net_conv[0].weight.copy_(net_corr[0].weight.flip(-2, -1))   # mirrored start
kernels_start = net_corr[0].weight.detach().clone()
hist_corr = train.fit(net_corr, digits, epochs=8, lr=1e-2, progress=False)
hist_conv = train.fit(net_conv, digits, epochs=8, lr=1e-2, progress=False)
learned_corr = net_corr[0].weight.detach().cpu()
learned_conv = net_conv[0].weight.detach().cpu()
mirror_gap = float((learned_conv - learned_corr.flip(-2, -1)).abs().max())
print(f"test accuracy: correlating net {hist_corr.test_accuracy[-1]:.1%}, convolving net "
      f"{hist_conv.test_accuracy[-1]:.1%}")
moved_most = float((learned_corr - kernels_start).abs().max())
print(f"kernels moved by up to {moved_most:.2f} in training; "
      f"max |K_conv − Rot180(K_corr)| = {mirror_gap:.1e}")
torch.testing.assert_close(learned_conv, learned_corr.flip(-2, -1), atol=1e-4, rtol=1e-4)

# %%
fig, axes = plt.subplots(2, 6, figsize=(9, 3.2))
for c in range(6):
    for row, (A, name) in enumerate(((learned_corr, "correlating"), (learned_conv, "convolving"))):
        lim = float(learned_corr[c, 0].abs().max())
        axes[row, c].imshow(A[c, 0], cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[row, c].set_title(f"{name} {c}", fontsize=8)
        axes[row, c].axis("off")
fig.suptitle("learned 3×3 kernels: the convolving net's are the correlating net's rotated by 180°",
             fontsize=10)
fig.tight_layout()

# %% [markdown]
# ### Receptive fields
#
# Each unit of a deep layer depends on a square patch of the input, its **receptive field**.
# A layer with kernel $k_\ell$ widens it by $k_\ell - 1$ units of the layer below, and a unit
# of the layer below is $J_{\ell-1} = \prod_{i<\ell} s_i$ input pixels from its neighbour. With
# dilation $d_\ell$ the kernel spans $\hat{k}_\ell = d_\ell(k_\ell - 1) + 1$ pixels. Starting from
# $r_0 = 1$:
#
# $$r_\ell = r_{\ell-1} + (\hat{k}_\ell - 1) \prod_{i<\ell} s_i .$$
#
# A pooling layer counts as a layer with $k = s$ = its size: strides are what make the
# receptive field grow quickly. Below, the recurrence for our MNIST network, checked against
# autograd: the input pixels with a nonzero gradient for one output unit span exactly $r$ pixels.

# %%
def receptive_field_sizes(layers):
    """r_ℓ for each layer from (kernel, stride, dilation) triples, by the recurrence."""
    r, jump, sizes = 1, 1, [1]
    for k, s, d in layers:
        k_hat = d * (k - 1) + 1              # span of the dilated kernel
        r = r + (k_hat - 1) * jump           # jump = Π_{i<ℓ} s_i
        jump = jump * s
        sizes.append(r)
    return sizes


mnist_layers = [(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1)]   # conv5, pool2, conv5, pool2
r = receptive_field_sizes(mnist_layers)
from mplib import receptive_field as rf  # noqa: E402  (the same recurrence, used by the widget)

assert r == [f.size for f in rf.receptive_field(rf.layers_from_module(mnist_cnn))]
ones = torch.ones(1, 1, 28, 28, requires_grad=True)
probe = nn.Sequential(nn.Conv2d(1, 1, 5, bias=False), nn.AvgPool2d(2),
                      nn.Conv2d(1, 1, 5, bias=False), nn.AvgPool2d(2))
for layer in (probe[0], probe[2]):
    nn.init.ones_(layer.weight)                  # all paths positive: no accidental zeros
probe(ones)[0, 0, 1, 2].backward()
rows, cols = torch.nonzero(ones.grad[0, 0], as_tuple=True)
print("r after each layer:", r)
print("input rows", int(rows.min()), "to", int(rows.max()), "| columns", int(cols.min()), "to",
      int(cols.max()))
assert int(rows.max() - rows.min()) + 1 == r[-1] == int(cols.max() - cols.min()) + 1

# %% [markdown]
# **Your turn (predict): a receptive field.** What is $r$ for this stack of four layers:
# a 3×3 convolution; a 3×3 convolution with stride 2; 2×2 max pooling (stride 2); a 3×3
# convolution with dilation 2? Work it out with the recurrence on paper (keep track of the jump
# $\prod_{i<\ell} s_i$), then let `predicted_r` return it. The cell after the check measures it
# with the all-ones probe.

# %% nbgrader={"grade": false, "grade_id": "predicted_r", "locked": false, "schema_version": 3, "solution": true, "task": false}
def predicted_r():
    """Your prediction of r for conv3 → conv3 (s = 2) → max pool 2 → conv3 (d = 2), a number."""
    ### BEGIN SOLUTION
    return 1 + 2 * 1 + 2 * 1 + 1 * 2 + 4 * 4   # (k̂ − 1)·jump per layer: 3, 5, 7, 23
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_predicted_r", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch2.check_receptive_field(predicted_r)

# %%
# NBVAL_CHECK_OUTPUT
exercise_probe = rf.build_stack(ch2.RF_STACK, channels=1, probe=True)   # all-ones kernels
paths = rf.input_gradient(exercise_probe, torch.ones(1, 1, 40, 40), (1, 1))
rows = torch.nonzero(paths.sum(1)).flatten()
measured = int(rows.max() - rows.min()) + 1
by_recurrence = receptive_field_sizes([(3, 1, 1), (3, 2, 1), (2, 2, 1), (3, 1, 2)])
print(f"all-ones probe: unit (1, 1) sees input rows {int(rows.min())} to {int(rows.max())}, "
      f"r = {measured}; the recurrence: {by_recurrence}")
assert measured == by_recurrence[-1]

# %% [markdown]
# **Pooling makes r grow exponentially.** Without strides each 3×3 layer adds 2 pixels, so r
# grows linearly with depth, $r = 2L + 1$. With a 2×2 pooling after every convolution the
# jump doubles at every layer, and so does what each further layer adds:
# $r_L = 3 \cdot 2^{L} - 2$ here, exponential in the depth $L$.

# %%
# NBVAL_CHECK_OUTPUT
depths = range(1, 9)
r_plain = [receptive_field_sizes([(3, 1, 1)] * L)[-1] for L in depths]
r_pooled = [receptive_field_sizes([(3, 1, 1), (2, 2, 1)] * L)[-1] for L in depths]
assert r_plain == [2 * L + 1 for L in depths]
assert r_pooled == [3 * 2 ** L - 2 for L in depths]
print("depth L      ", list(depths))
print("conv3        ", r_plain)
print("conv3 + pool2", r_pooled)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(depths, r_plain, "o-", label="conv 3×3 only")
ax.plot(depths, r_pooled, "s-", label="conv 3×3 + max pool 2 after each")
ax.set(yscale="log", xlabel="depth L (conv layers)", ylabel="receptive field r (pixels)",
       title="r against depth")
ax.legend()
fig.tight_layout()

# %% [markdown]
# **Widget: receptive field.** Choose a stack of up to four layers (kernel `k`, stride `s`,
# dilation `d`, optional max pooling after each) and the output unit with the sliders
# "unit row" and "unit col" (they span the stack's output map, so their maximum
# changes with the stack). The first panel counts the paths from each input
# pixel to the unit (the input gradient when every kernel is all ones); the green box of size
# $r$ comes from the recurrence (dilation and large strides leave holes inside it). The others show the **effective** receptive field, the magnitude of
# the input gradient $|\partial y / \partial \mathbf{x}|$ averaged over test images: for this stack
# with random weights, and for the MNIST network above before and after training (at the same
# relative place of its own 4×4 output map). The
# effective field is concentrated in the middle of the theoretical one.

# %%
from mplib.widgets.receptive_field import ReceptiveFieldWidget  # noqa: E402

ReceptiveFieldWidget(trained=mnist_cnn[:8], untrained=features_before,
                     images=mnist.X_test[:32].cpu())
