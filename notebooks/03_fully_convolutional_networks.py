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
# # 3 Fully convolutional neural networks
#
# A classifier gives one label per image; **semantic segmentation** gives one label per
# *pixel*. This notebook follows chapter 3 of *Machine Perception*, C. Perez Jensen, 2024
# (the notes): why a network for that task first
# shrinks its feature maps and then grows them back, the four ways of growing them back
# (§3.1), and the U-net (§3.2), trained on a synthetic set of shapes, with and without its
# skip connections.

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
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from mplib import exercises, plot, runtime, segmentation, train
from mplib import exercises_ch3 as ch3
from mplib.conv import conv_matrix
from mplib.pooling import FIGURE7_INPUT, figure7_pooling
from mplib.unet import UNet, draw_unet

runtime.setup(seed=0)

# %% [markdown]
# ## Semantic segmentation: downsample, then upsample
#
# The most direct segmenter cuts a patch around every pixel and classifies each patch on its
# own. For an $H \times W$ image that runs the classifier $HW$ times, and neighbouring patches
# overlap almost completely, so nearly all of that work is repeated. A linear classifier
# with weights $\mathbf{w}$ on the $p \times p$ patch around $(i, j)$ computes
# $\sum_{m,n} w[m,n]\, x[i+m, j+n]$ — which is exactly a correlation of the image with
# $\mathbf{w}$: a convolutional layer does all $HW$ classifications in one pass and shares
# the work. Below, the patch-by-patch classifier and one `conv2d` give the same scores.

# %%
H = W = 32
p = 9                                   # patch size
x = torch.rand(1, 1, H, W)
w = torch.randn(1, 1, p, p)             # a linear "pixel classifier" on p x p patches

patches = F.unfold(F.pad(x, (p // 2,) * 4), p)           # (1, p*p, H*W): one column per pixel
per_pixel = (w.reshape(1, -1) @ patches).reshape(1, 1, H, W)
one_pass = F.conv2d(x, w, padding=p // 2)
torch.testing.assert_close(per_pixel, one_pass)
print(f"{H * W} patch classifications == one convolution; the patches hold "
      f"{patches.numel():,} numbers for an image of {x.numel():,} pixels")

# %% [markdown]
# Convolutions alone are not the end of the story: to tell a circle from a square, a pixel's
# label must depend on a region the size of the shape, and stacking 3 × 3 layers at full
# resolution grows the receptive field by only 2 pixels per layer, at full cost each time.
# Halving the resolution with pooling quarters the cost of every later layer and doubles
# how fast the receptive field grows. So a fully convolutional network **downsamples**
# (convolutions and pooling), then **upsamples** back to the input size to output a label
# map. The table counts multiply–adds of 3 × 3 layers with 32 channels on a 128 × 128 image.

# %%
# NBVAL_CHECK_OUTPUT
def macs(resolutions, channels=32, k=3):
    """Multiply-adds of one k x k convolution (channels -> channels) per listed resolution."""
    return sum(r * r * channels * channels * k * k for r in resolutions)


def receptive_field(resolutions, k=3):
    """r_l = r_{l-1} + (k_l - 1) * (product of earlier strides), chapter 2's recurrence;
    a 2 x 2 pooling with stride 2 wherever the resolution halves."""
    r, jump = 1, 1
    for prev, res in zip([resolutions[0]] + resolutions[:-1], resolutions):
        if res < prev:                         # the pooling layer: k = 2, stride 2
            r += (2 - 1) * jump
            jump *= 2
        r += (k - 1) * jump
    return r


flat = [128] * 8
pyramid = [128, 128, 64, 64, 32, 32, 16, 16]
for name, res in (("8 layers at 128 x 128", flat), ("8 layers, pooled every 2nd", pyramid)):
    print(f"{name:28s} {macs(res) / 1e6:7.0f} M multiply-adds, receptive field "
          f"{receptive_field(res)} pixels")

# %% [markdown]
# ## 3.1 Upsampling methods
#
# Four ways to make a small map large again. We write each from its description in the
# notes, on a single-channel map $\mathbf{x}$ of size $H \times W$ and an upsampling factor
# (stride) $s$, check it against PyTorch, and redraw Figures 8–10 with their numbers.
#
# **Nearest neighbour** copies each value into an $s \times s$ block:
#
# $$y[i, j] = x\big[\lfloor i/s \rfloor, \lfloor j/s \rfloor\big].$$

# %%
def nearest_neighbour(x, s=2):
    """y[i, j] = x[i // s, j // s]."""
    H, W = x.shape
    i = torch.arange(H * s) // s
    j = torch.arange(W * s) // s
    return x[i[:, None], j[None, :]]


x, _ = figure7_pooling()   # Figure 7's output [[6, 8], [4, 8]]: the input of Figures 8-10

# %%
# NBVAL_CHECK_OUTPUT
y_nn = nearest_neighbour(x)
print(y_nn)
for s in (2, 3):
    X = torch.rand(3, 5)
    torch.testing.assert_close(nearest_neighbour(X, s),
                               F.interpolate(X[None, None], scale_factor=s, mode="nearest")[0, 0])
print("nearest_neighbour == F.interpolate(mode='nearest')")

# %% [markdown]
# **Bed of nails** puts each value in the top-left cell of its block and zeros everywhere
# else:
#
# $$y[s i, s j] = x[i, j], \qquad y[i', j'] = 0 \text{ otherwise}.$$
#
# PyTorch has no layer of that name, but it is a transposed convolution (below) with stride
# $s$ and the kernel that is 1 in its top-left corner and 0 elsewhere.

# %%
def bed_of_nails(x, s=2):
    """y[s*i, s*j] = x[i, j]; zeros elsewhere."""
    H, W = x.shape
    y = torch.zeros(H * s, W * s, dtype=x.dtype)
    y[::s, ::s] = x
    return y


# %%
# NBVAL_CHECK_OUTPUT
y_bon = bed_of_nails(x)
print(y_bon)
for s in (2, 3):
    X = torch.rand(3, 5)
    nail = torch.zeros(s, s)
    nail[0, 0] = 1.0
    torch.testing.assert_close(bed_of_nails(X, s),
                               F.conv_transpose2d(X[None, None], nail[None, None], stride=s)[0, 0])
print("bed_of_nails == F.conv_transpose2d with a one-hot kernel")

# %% [markdown]
# **Max unpooling** is bed of nails with memory: the max pooling of the downsampling path
# remembers *where* in each window its maximum was, $[i^\star, j^\star]$, and the unpooling
# puts the value back exactly there:
#
# $$y[i^\star, j^\star] = x[i, j], \qquad y[i', j'] = 0 \text{ otherwise}.$$
#
# The text of our copy of the notes does not carry the numbers of Figure 7, so we pool the
# stand-in input of notebook 02 (`mplib.pooling.FIGURE7_INPUT`), whose maxima and their
# places are those Figure 10 shows.
# `F.max_pool2d(..., return_indices=True)` returns the positions as flat indices into the
# input, $i^\star W + j^\star$.

# %%
Z = FIGURE7_INPUT.clone()   # our stand-in for Figure 7's input
pooled, indices = F.max_pool2d(Z[None, None], 2, stride=2, return_indices=True)
pooled, indices = pooled[0, 0], indices[0, 0]


def max_unpool(x, indices, s=2):
    """y.flatten()[indices[i, j]] = x[i, j]: each value back where the pooling found it."""
    H, W = x.shape
    y = torch.zeros(H * s * W * s, dtype=x.dtype)
    y[indices.reshape(-1)] = x.reshape(-1)
    return y.reshape(H * s, W * s)


# %%
# NBVAL_CHECK_OUTPUT
y_unpool = max_unpool(pooled, indices)
print("pooled:", pooled.tolist(), " argmax (flat):", indices.tolist())
print(y_unpool)
torch.testing.assert_close(pooled, x)
torch.testing.assert_close(y_unpool, F.max_unpool2d(pooled[None, None], indices[None, None], 2)[0, 0])
X = torch.rand(1, 1, 6, 9)
P, I = F.max_pool2d(X, 3, stride=3, return_indices=True)
torch.testing.assert_close(max_unpool(P[0, 0], I[0, 0], 3), F.max_unpool2d(P, I, 3)[0, 0])
print("max_unpool == F.max_unpool2d with the indices of F.max_pool2d")

# %% [markdown]
# Figures 8, 9 and 10 side by side, on our own numbers: the notes' figures do not print
# their inputs, so the input x and the map before pooling are stand-ins. The unpooled values (outlined) sit where the maxima of
# the pooled input were, so fine detail of *where* survives the trip down and up.

# %%
fig, axes = plt.subplots(1, 5, figsize=(11, 2.9),
                         gridspec_kw={"width_ratios": [2, 4, 4, 4, 4]})
plot.show_array(axes[0], x, title="input x\n(stand-in)")
plot.show_array(axes[1], y_nn, title="Fig. 8: nearest neighbour")
plot.show_array(axes[2], y_bon, title="Fig. 9: bed of nails")
plot.show_array(axes[3], Z, title="before pooling\n(stand-in for Fig. 7)", highlight=F.max_unpool2d(
    pooled[None, None], indices[None, None], 2)[0, 0] > 0)
plot.show_array(axes[4], y_unpool, title="Fig. 10: max unpooling", highlight=y_unpool > 0)
fig.tight_layout()

# %% [markdown]
# **Transposed convolution** is the learned upsampling. Each input pixel $x[i, j]$ scales a
# whole copy of the kernel $\mathbf{K}$ ($k \times k$), the copy is placed with its top-left
# corner at $(s i, s j)$ of the output, and the output is the sum of all those copies:
#
# $$\mathbf{Y} = \sum_{i=0}^{H-1} \sum_{j=0}^{W-1} x[i, j]\; \mathbf{K}^{\to(si,\,sj)},
# \qquad \mathbf{Y} \in \mathbb{R}^{((H-1)s + k) \times ((W-1)s + k)},$$
#
# where $\mathbf{K}^{\to(a, b)}$ is $\mathbf{K}$ written into a zero matrix of the output's
# size at rows $a..a+k-1$ and columns $b..b+k-1$. Where copies overlap they add up.

# %%
def transposed_conv(x, K, s=2):
    """Y = sum over input pixels of x[i, j] * K, placed at (s*i, s*j)."""
    H, W = x.shape
    k = K.shape[0]
    Y = torch.zeros((H - 1) * s + k, (W - 1) * s + k, dtype=x.dtype)
    for i in range(H):
        for j in range(W):
            term = torch.zeros_like(Y)
            term[s * i:s * i + k, s * j:s * j + k] = x[i, j] * K
            Y += term
    return Y


# %%
# NBVAL_CHECK_OUTPUT
K = torch.tensor([[1.0, 0.0, 1.0], [0.0, 2.0, 0.0], [1.0, 0.0, 1.0]])
Y = transposed_conv(x, K, s=2)
print(Y)
torch.testing.assert_close(Y, F.conv_transpose2d(x[None, None], K[None, None], stride=2)[0, 0])
g = torch.Generator().manual_seed(0)
for k in (1, 2, 3, 4, 5):
    for s in (1, 2, 3):
        X, Kr = torch.randn(4, 5, generator=g), torch.randn(k, k, generator=g)
        torch.testing.assert_close(transposed_conv(X, Kr, s),
                                   F.conv_transpose2d(X[None, None], Kr[None, None], stride=s)[0, 0])
print("transposed_conv == F.conv_transpose2d for k = 1..5, s = 1..3")


# %% [markdown]
# **Your turn (predict): a transposed convolution with k = 5, s = 2.** An 8 × 8 input of ones
# goes through `F.conv_transpose2d` with a 5 × 5 kernel of ones and stride 2. (1) What is the
# side length of the output? (2) Away from the border (at least k pixels in), every output
# number counts the kernel copies that cover it. Which distinct values appear there? Let
# `transposed_prediction` return `(size, [values])`; the cell after the check computes them.

# %% nbgrader={"grade": false, "grade_id": "transposed_prediction", "locked": false, "schema_version": 3, "solution": true, "task": false}
def transposed_prediction():
    """(output side length, sorted list of the distinct interior values)."""
    ### BEGIN SOLUTION
    size = (8 - 1) * 2 + 5                # the last copy starts at (H - 1) s and is k wide
    per_axis = [5 // 2, -(-5 // 2)]       # floor(k/s) or ceil(k/s) copies along one axis
    return size, sorted({a * b for a in per_axis for b in per_axis})
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_transposed_prediction", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch3.check_transposed_prediction(transposed_prediction)

# %%
# NBVAL_CHECK_OUTPUT
big = F.conv_transpose2d(torch.ones(1, 1, 8, 8), torch.ones(1, 1, 5, 5), stride=2)[0, 0]
print("output", tuple(big.shape), "; interior values",
      sorted(set(big[5:-5, 5:-5].flatten().tolist())))

# %% [markdown]
# The four terms of that sum, each a kernel copy scaled by one input pixel, and their sum.
# With $k = 3 > s = 2$ the copies overlap by one row or column, where they add.

# %%
fig, axes = plt.subplots(1, 5, figsize=(12, 2.7))
H_, W_ = x.shape
for ax, (i, j) in zip(axes, [(i, j) for i in range(H_) for j in range(W_)]):
    term = torch.zeros_like(Y)
    term[2 * i:2 * i + 3, 2 * j:2 * j + 3] = x[i, j] * K
    plot.show_array(ax, term, title=f"x[{i},{j}] = {x[i, j]:g} times K", fontsize=8)
plot.show_array(axes[4], Y, title="sum Y", fontsize=8)
fig.tight_layout()

# %% [markdown]
# ### Why "transposed"
#
# Chapter 2 wrote a (strided) convolution as a matrix product, $\mathbf{y} = \mathbf{M}
# \mathbf{x}$ with $\mathbf{M} \in \mathbb{R}^{H_{out}W_{out} \times HW}$ (`conv_matrix` of
# `mplib.conv`). Its transpose $\mathbf{M}^\top$ maps the *small* space back to the large
# one, and it is exactly the transposed convolution with the same kernel and stride:
# row $r$ of $\mathbf{M}$ holds the kernel at output position $r$, so column $r$ of
# $\mathbf{M}^\top$ writes one scaled kernel copy into the large map. This is also why
# the transposed convolution is the backward pass of a convolution with respect to its
# input: the gradient of $\mathbf{M}\mathbf{x}$ is $\mathbf{M}^\top \boldsymbol{\delta}$.

# %%
# NBVAL_CHECK_OUTPUT
K = torch.randn(3, 3, generator=g)
H = W = 7
s = 2
M = conv_matrix(K, (H, W), stride=s)                   # (H_out * W_out, H * W)
H_out = W_out = (H - 3) // s + 1
print("M:", tuple(M.shape), " H_out x W_out =", (H_out, W_out))

x_big = torch.randn(H, W, generator=g)
torch.testing.assert_close((M @ x_big.reshape(-1)).reshape(H_out, W_out),
                           F.conv2d(x_big[None, None], K[None, None], stride=s)[0, 0])
y_small = torch.randn(H_out, W_out, generator=g)
up = (M.T @ y_small.reshape(-1)).reshape(H, W)
torch.testing.assert_close(up, F.conv_transpose2d(y_small[None, None], K[None, None], stride=s)[0, 0])
torch.testing.assert_close(up, transposed_conv(y_small, K, s))

x_req = x_big.clone().requires_grad_()
F.conv2d(x_req[None, None], K[None, None], stride=s)[0, 0].backward(y_small)
torch.testing.assert_close(x_req.grad, up)
print("M.T @ y == conv_transpose2d(y, K, stride) == transposed_conv == gradient of conv2d")

# %% [markdown]
# ### Checkerboard artefacts
#
# Along each axis, an output pixel receives a contribution from every kernel copy that
# covers it. With stride $s$, copies start every $s$ pixels, so a pixel is covered
# $\lfloor k/s \rfloor$ or $\lceil k/s \rceil$ times, depending on its position modulo $s$.
# When $s$ divides $k$ every interior pixel is covered equally often; when it does not, the
# count alternates, and even a constant input upsampled with a constant kernel comes out
# striped in each direction: a checkerboard. A trained network has to learn to hide this
# pattern, which is one reason U-nets often upsample with $k = s = 2$, as ours does.

# %%
# NBVAL_CHECK_OUTPUT
ones = torch.ones(6, 6)
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
for ax, k in zip(axes, (3, 4)):
    out = F.conv_transpose2d(ones[None, None], torch.ones(1, 1, k, k), stride=2)[0, 0]
    inner = out[k:-k, k:-k]             # away from the border
    print(f"k = {k}, s = 2: interior values {sorted(set(inner.flatten().tolist()))}")
    plot.show_array(ax, out, fontsize=7,
                    title=f"constant input, k = {k}, s = 2: " +
                    ("uniform interior" if inner.unique().numel() == 1 else "checkerboard"))
fig.tight_layout()
assert F.conv_transpose2d(ones[None, None], torch.ones(1, 1, 3, 3), stride=2)[0, 0, 3:-3, 3:-3].unique().numel() > 1
assert F.conv_transpose2d(ones[None, None], torch.ones(1, 1, 4, 4), stride=2)[0, 0, 4:-4, 4:-4].unique().numel() == 1


# %% [markdown]
# **Your turn (break it): which (k, s) makes a checkerboard?** Change `k` and the stride in
# the cell above and predict before you run it. Which of these turns a constant input into a
# checkerboard: (a) k = 6, s = 3; (b) k = 6, s = 4; (c) k = 2, s = 2; (d) k = 9, s = 3?

# %% nbgrader={"grade": false, "grade_id": "checkerboard", "locked": false, "schema_version": 3, "solution": true, "task": false}
def checkerboard_answer():
    """"a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_checkerboard", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch3.check_checkerboard(checkerboard_answer)

# %% [markdown]
# ### Bilinear upsampling is a fixed transposed convolution
#
# Bilinear interpolation by a factor $s$ writes, around each input pixel, weights that fall
# linearly from 1 at the pixel to 0 at distance $s$, along the rows and along the columns.
# That is a transposed convolution with a fixed kernel, and a common way to initialise a
# learned one.
#
# **Your turn (implement): the bilinear kernel.** Return the $k \times k$ kernel with
# $k = 2s - (s \bmod 2)$, $\mathbf{K} = \mathbf{w}\mathbf{w}^\top$ with
# $w[m] = 1 - |m - c|/s$ for $m = 0, \dots, k-1$, centred at $c = s - \tfrac12$ for even $s$
# and $c = (k-1)/2$ for odd $s$, as a float64 tensor. The cell after the check upsamples
# with it and compares with `F.interpolate(mode="bilinear")`.

# %% nbgrader={"grade": false, "grade_id": "bilinear_kernel", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bilinear_kernel(s):
    """The k x k bilinear kernel for an integer factor s (float64)."""
    ### BEGIN SOLUTION
    k = 2 * s - s % 2
    c = s - 0.5 if s % 2 == 0 else (k - 1) / 2
    w = 1 - (torch.arange(k, dtype=torch.float64) - c).abs() / s
    return torch.outer(w, w)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_bilinear_kernel", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch3.check_bilinear_kernel(bilinear_kernel)

# %% [markdown]
# `ch3.bilinear_upsample` pads the input by one edge pixel, applies `F.conv_transpose2d` with
# the kernel and stride $s$, and crops the $sH \times sW$ middle: the result is
# `F.interpolate`'s bilinear upsampling to the last digit. Although $s = 3$ does not divide
# $k = 5$, there is no checkerboard: the tapering weights of the overlapping copies add up to
# the same total everywhere.

# %%
# NBVAL_CHECK_OUTPUT
kernel = exercises.yours_or_reference(bilinear_kernel, ch3.bilinear_kernel, ch3.BILINEAR_CASES,
                                      name="bilinear_kernel")
X = torch.rand(5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
for s in (2, 3, 4):
    ref = F.interpolate(X[None, None], scale_factor=s, mode="bilinear", align_corners=False)
    torch.testing.assert_close(ch3.bilinear_upsample(X, s, kernel), ref[0, 0])
    flat = ch3.bilinear_upsample(torch.ones(5, 6, dtype=torch.float64), s, kernel)
    print(f"s = {s}: kernel {tuple(kernel(s).shape)}, equal to F.interpolate; constant input -> "
          f"values {sorted(set(flat.round(decimals=9).flatten().tolist()))}")

# %% [markdown]
# ### Upsampling explorer
#
# Choose the method, the input and the stride $s$ (and the kernel size $k$ for the
# transposed convolution, whose kernel here is all ones, so each number counts overlapping
# copies weighted by the input). The red square shows where input pixel (0, 0) writes: an
# $s \times s$ block, one cell for bed of nails, the $k \times k$ kernel copy for the
# transposed convolution (for max unpooling, the window in which its value lands on one
# cell). Try the constant input with the transposed convolution: $k = 3, s = 2$ gives the
# checkerboard, $k = 4, s = 2$ does not. With $s = 1$ the three fixed methods copy the
# input unchanged, but the transposed convolution still grows it by $k - 1$: 3 × 3 becomes
# 5 × 5 with $k = 3$. Max unpooling knows where the maxima were only for the input of
# Figures 8–10 at $s = 2$; for every other setting the widget draws random positions and
# says so in its title. The widget runs *this notebook's* four functions.

# %%
from mplib.widgets.upsampling import UpsamplingWidget

UpsamplingWidget(functions={"nearest neighbour": nearest_neighbour, "bed of nails": bed_of_nails,
                            "max unpooling": max_unpool, "transposed convolution": transposed_conv})

# %% [markdown]
# ## 3.2 U-net
#
# A plain encoder–decoder squeezes the image through a low-resolution bottleneck: it knows
# *what* is in the image but has lost *where*, up to a few pixels. The U-net (Figure 11)
# copies each encoder feature map across to the decoder stage of the same resolution and
# concatenates it with the upsampled features there, so the decoder combines the coarse,
# wide-context features from below with the sharp, local ones from the left. With
# $\operatorname{up}$ a transposed convolution ($k = s = 2$), $[\cdot\,;\cdot]$ concatenation
# along the channels and $f_\ell$ two 3 × 3 convolutions,
#
# $$\mathbf{Z}^{\text{dec}}_\ell = f_\ell\Big(\big[\,\mathbf{Z}^{\text{enc}}_\ell\, ;\;
# \operatorname{up}\big(\mathbf{Z}^{\text{dec}}_{\ell+1}\big)\big]\Big).$$
#
# Without the skips the same network computes $f_\ell(\operatorname{up}(\mathbf{Z}^{
# \text{dec}}_{\ell+1}))$. `mplib.unet.UNet` builds both; below, the shapes of the tensors
# that travel along the arrows of Figure 11, and the figure drawn from them.
#
# *Erratum (§3.2):* the notes call the copied tensor "global" and the upsampled one "local";
# it is the other way round: the copy is the sharp, local one, the upsampled one carries the
# wide, global context.
#
# Our network has 16 and 32 channels at 32 × 32 and 16 × 16, and a narrow bottleneck: 8
# channels at 8 × 8, 512 numbers for an image of 1024 pixels. That narrowness is what makes
# an encoder–decoder lose *where*. With 64 channels there (4096 numbers) the network without
# skips could pass the whole image through its bottleneck, and in our runs the skips then
# helped much less, and not on every seed.

# %%
# NBVAL_CHECK_OUTPUT
CHANNELS = (16, 32, 8)  # encoder 1, encoder 2, bottleneck
net = UNet(1, 4, channels=CHANNELS)
shapes = []
hooks = [m.register_forward_hook(lambda mod, inp, out, name=name: shapes.append((name, tuple(out.shape))))
         for name, m in [("encoder 1", net.down[0]), ("encoder 2", net.down[1]),
                         ("bottleneck", net.bottom), ("up 1", net.up[0]), ("decoder 1", net.merge[0]),
                         ("up 2", net.up[1]), ("decoder 2", net.merge[1]), ("1x1 head", net.head)]]
with torch.no_grad():
    net(torch.zeros(1, 1, 32, 32))
for h in hooks:
    h.remove()
for name, shape in shapes:
    print(f"{name:11s} {shape}")
print("decoder 1 sees", net.merge[0][0].in_channels, "channels: 32 copied + 32 upsampled")

# %%
ax = draw_unet(shapes)
_ = ax.set_title("Figure 11: our U-net, each box labelled with its output (channels × height × "
             "width)", fontsize=10)

# %% [markdown]
# **Your turn (break it): copies in the wrong order.** In `UNet.forward` (`mplib/unet.py`)
# the decoder takes the copies in `reversed(copies)`. What happens if that is replaced by
# plain `copies`? (a) the network trains, just less well; (b) the first forward pass raises
# a `RuntimeError` in `torch.cat`; (c) nothing changes, the order of concatenation does not
# matter; (d) it runs, but the output is 16 × 16.

# %% nbgrader={"grade": false, "grade_id": "skip_order", "locked": false, "schema_version": 3, "solution": true, "task": false}
def skip_order_answer():
    """"a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_skip_order", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch3.check_skip_order(skip_order_answer)

# %% [markdown]
# ### A synthetic segmentation set
#
# `segmentation.make_shapes` draws one to three circles, squares and triangles on a grey
# background with random stripes and noise, and gives every pixel its label
# (0 background, 1 circle, 2 square, 3 triangle). All shapes share one brightness
# distribution, so only the outline tells the classes apart. The seeds go through
# `runtime.shift`, so `MPLIB_SEED_OFFSET` draws other images (and, below, other initial
# weights); the test set's seeds lie far from the training set's.

# %%
runtime.seed(0)
n_train = runtime.budget(quick=1200, full=8000)
X_train, y_train = segmentation.make_shapes(n_train, 32, seed=runtime.shift(0))
X_test, y_test = segmentation.make_shapes(500, 32, seed=runtime.shift(1000))
num_classes = len(segmentation.CLASSES)
print(f"train {tuple(X_train.shape)}, test {tuple(X_test.shape)}; classes: {segmentation.CLASSES}")

label_cmap = plt.matplotlib.colors.ListedColormap(["#f0f0f0"] + plot.COLORS[:3])
fig, axes = plt.subplots(2, 8, figsize=(10, 3.0))
for k in range(8):
    axes[0, k].imshow(X_test[k, 0], cmap="gray", vmin=0, vmax=1)
    axes[1, k].imshow(y_test[k], cmap=label_cmap, vmin=0, vmax=3, interpolation="nearest")
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
# Row labels, not long titles: a wide title makes tight_layout shrink every panel.
axes[0, 0].set_ylabel("image")
axes[1, 0].set_ylabel("labels")
fig.suptitle("test images and their labels: circle blue, square red, triangle green")
fig.tight_layout()

# %% [markdown]
# ### Mean intersection over union
#
# Per-pixel accuracy is a poor score here: background covers most pixels. The usual score
# is the intersection over union per class, averaged over the classes (background
# included; a class absent from both maps is skipped):
#
# $$\mathrm{IoU}_c = \frac{|\{\hat y = c\} \cap \{y = c\}|}{|\{\hat y = c\} \cup \{y = c\}|},
# \qquad \mathrm{mIoU} = \frac{1}{C}\sum_{c} \mathrm{IoU}_c.$$
#
# **Your turn (predict): mIoU by hand.** Four classes (0 background, 1, 2, 3), a 3 × 4
# target and a prediction; class 3 appears in neither. Compute the mIoU by hand (to 3
# decimals) and let `miou_by_hand` return it.
#
# ```
# target    prediction
# 0 0 0 1   0 0 1 1
# 0 0 1 1   0 0 0 1
# 2 2 2 0   2 0 0 0
# ```

# %%
# NBVAL_CHECK_OUTPUT
print("target\n", ch3.MIOU_TARGET, "\nprediction\n", ch3.MIOU_PRED)

# %% nbgrader={"grade": false, "grade_id": "miou_by_hand", "locked": false, "schema_version": 3, "solution": true, "task": false}
def miou_by_hand():
    """The mIoU of the prediction above, a number."""
    ### BEGIN SOLUTION
    # background 5 of 9, class 1: 2 of 4, class 2: 1 of 3; class 3 absent, skipped
    return (5 / 9 + 2 / 4 + 1 / 3) / 3
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_miou_by_hand", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch3.check_miou_by_hand(miou_by_hand)

# %% [markdown]
# The three IoUs differ and one class is absent, so this example tells the usual slips
# apart: leaving background out, counting the absent class as 0, weighting by pixel counts
# and pixel accuracy all give other numbers.

# %%
# NBVAL_CHECK_OUTPUT
ious = segmentation.iou_per_class(ch3.MIOU_PRED, ch3.MIOU_TARGET, 4)
print("IoU per class:", [round(v, 3) for v in ious.tolist()], " mIoU:",
      round(segmentation.mean_iou(ch3.MIOU_PRED, ch3.MIOU_TARGET, 4), 3))
torch.testing.assert_close(segmentation.mean_iou(ch3.MIOU_PRED, ch3.MIOU_TARGET, 4),
                           (5 / 9 + 2 / 4 + 1 / 3) / 3)
n = ch3.MIOU_TARGET.numel()
slips = {"background left out": (2 / 4 + 1 / 3) / 2,
         "absent class as 0": (5 / 9 + 2 / 4 + 1 / 3) / 4,
         "pixel-weighted": (6 * 5 / 9 + 3 * 2 / 4 + 3 * 1 / 3) / n,
         "pixel accuracy": (ch3.MIOU_PRED == ch3.MIOU_TARGET).double().mean().item()}
for name, value in slips.items():
    print(f"{name:20s} {value:.3f}")
    assert abs(value - segmentation.mean_iou(ch3.MIOU_PRED, ch3.MIOU_TARGET, 4)) > 0.02

# %% [markdown]
# **Your turn (implement): `mean_iou`.** `pred` and `target` are integer tensors of one shape;
# return the mean over the classes $0, \dots, C-1$ present in either map of
# $\mathrm{IoU}_c$, as a float. The check runs it on the example above and on two random maps.

# %% nbgrader={"grade": false, "grade_id": "mean_iou", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mean_iou(pred, target, num_classes):
    """Mean IoU over the classes present in pred or target (background included)."""
    ### BEGIN SOLUTION
    ious = []
    for c in range(num_classes):
        inter = ((pred == c) & (target == c)).sum().item()
        union = ((pred == c) | (target == c)).sum().item()
        if union > 0:
            ious.append(inter / union)
    return sum(ious) / len(ious)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_mean_iou", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch3.check_mean_iou(mean_iou)

# %% [markdown]
# ### Training (GPU cell)
#
# **The result to look for.** Whole-image mIoU is not where the skips show: most pixels lie
# inside a shape or in the background, where a network without skips is right too, so the
# whole-image score mixes a large shared part with a small difference. The skips carry
# *where*, so their benefit is at the outlines: in a band of pixels along the label
# boundaries the U-net must beat the network without skips by at least 0.05 mIoU, on each
# of five seeds. That target is asserted below the training. `make seeds` ran this notebook
# in quick mode with `MPLIB_SEED_OFFSET` = 0..4 (other images and initial weights; all five
# in `benchmarks/results/seeds.md`):
#
# | seed offset | 0 | 1 | 2 | 3 | 4 |
# |---|---|---|---|---|---|
# | boundary-band mIoU, U-net | 0.898 | 0.841 | 0.841 | 0.888 | 0.836 |
# | boundary-band mIoU, no skips | 0.661 | 0.647 | 0.710 | 0.555 | 0.575 |
# | skip benefit | +0.237 | +0.194 | +0.131 | +0.333 | +0.261 |
#
# The benefit is +0.23 on average and at least +0.13, well above the 0.05 asserted.
#
# The U-net (16-32-8 channels) and the same network without skips, trained for the same
# number of epochs with Adam on the per-pixel cross entropy: `F.cross_entropy` takes the
# (N, C, H, W) logits and the (N, H, W) labels as they are. With a budget of a few epochs,
# a one-cycle learning rate (up for the first 20 % of the steps, then down to almost zero)
# makes the final weights much less noisy than a constant rate; `train.fit(scheduler=...)`
# builds it over the number of steps it will take and advances it after each step. Batches
# of 16 give twice the steps of batches of 32 for the same work, and both networks end far
# less seed-dependent.

# %%
def one_cycle(opt, total_steps):
    """OneCycleLR peaking at the optimizer's rate after 20 % of fit's total_steps."""
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=opt.defaults["lr"],
                                               total_steps=total_steps, pct_start=0.2)


runtime.summary()
epochs = runtime.budget(quick=5, full=30)
batch_size = 16
nets, histories = {}, {}
for name, skips in (("U-net", True), ("no skips", False)):
    runtime.seed(0)
    nets[name] = UNet(1, num_classes, channels=CHANNELS, skips=skips)
    histories[name] = train.fit(nets[name], (X_train, y_train), "cross_entropy", epochs=epochs,
                                lr=5e-3, batch_size=batch_size, scheduler=one_cycle,
                                progress=False)
    n_params = sum(p.numel() for p in nets[name].parameters())
    print(f"{name:9s} {n_params:6,} parameters, {histories[name]}")


@torch.no_grad()
def predict(net, X, batch_size=250):
    net.eval()
    dev = next(net.parameters()).device
    return torch.cat([net(X[i:i + batch_size].to(dev)).argmax(1).cpu()
                      for i in range(0, len(X), batch_size)])


preds = {name: predict(net, X_test) for name, net in nets.items()}
miou = {name: segmentation.mean_iou(p, y_test, num_classes) for name, p in preds.items()}
for name in nets:
    per_class = segmentation.iou_per_class(preds[name], y_test, num_classes)
    print(f"{name:9s} test mIoU {miou[name]:.3f}   per class " +
          ", ".join(f"{c} {v:.2f}" for c, v in zip(segmentation.CLASSES, per_class.tolist())))
goal = runtime.budget(quick=0.85, full=0.95)
_ = runtime.target(f"U-net test mIoU {miou['U-net']:.3f} >= {goal}", miou["U-net"] >= goal)

# %% [markdown]
# ### Predictions and boundaries
#
# The boundary band first, as announced. Without the skips the decoder has to reinvent the
# exact outline from 8 × 8 features of 8 channels, and it shows at the edges: corners are
# rounded and thin tips are lost. Most pixels of an image lie inside a shape or in the
# empty background, where both networks are right, so the whole-image mIoU understates the
# difference. We score only a band of
# pixels within one pixel of a label boundary in the ground truth
# (`segmentation.boundary_band`): the boundary-band mIoU. The target is that the U-net beats
# the network without skips there by at least 0.05, on every seed (`make seeds` runs five).
# The foreground IoU in the band (shape against background, whatever the class,
# `segmentation.foreground_iou`) separates *where* from *which*: it ignores a blob named
# with the wrong class.

# %%
band = segmentation.boundary_band(y_test, width=1)
edge = {name: segmentation.foreground_iou(p, y_test, band) for name, p in preds.items()}
band_miou = {name: segmentation.mean_iou(p[band], y_test[band], num_classes)
             for name, p in preds.items()}
for name in preds:
    print(f"{name:9s} mIoU {miou[name]:.3f}   boundary band: mIoU {band_miou[name]:.3f}, "
          f"foreground IoU {edge[name]:.3f}")
runtime.target(f"U-net boundary-band mIoU {band_miou['U-net']:.3f} >= no skips "
               f"{band_miou['no skips']:.3f} + 0.05",
               band_miou["U-net"] >= band_miou["no skips"] + 0.05)

error_cmap = plt.matplotlib.colors.ListedColormap(["black"])
fig, axes = plt.subplots(4, 6, figsize=(9, 6.2))
rows = [("image", X_test[:, 0]), ("ground truth", y_test), ("U-net", preds["U-net"]),
        ("no skips", preds["no skips"])]
for r, (name, maps) in enumerate(rows):
    for c in range(6):
        ax = axes[r, c]
        if r == 0:
            ax.imshow(maps[c], cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(maps[c], cmap=label_cmap, vmin=0, vmax=3, interpolation="nearest")
            if r > 1:
                wrong = (maps[c] != y_test[c]).float()
                ax.imshow(np.ma.masked_where(wrong == 0, wrong), cmap=error_cmap, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[r, 0].set_ylabel(name)
fig.suptitle("test images: circle blue, square red, triangle green; wrong pixels black")
fig.tight_layout()
