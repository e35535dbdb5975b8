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
# # 6 Autoregressive models (part 2: PixelCNN and WaveNet, §6.4–6.5)
#
# This notebook follows chapter 6 of *Machine Perception*, C. Perez Jensen, 2024 (the notes).
#
# Part 1 (FVSBN, NADE, MADE) treated an image as a flat vector of n pixels. Images and sound
# have more structure than that: a pixel mostly depends on its neighbours, a sample of audio
# on the samples just before it. Convolutions exploit exactly this, and a *mask* on the
# kernel keeps them autoregressive. This notebook builds the PixelCNN (§6.4), finds its
# blind spot with autograd and removes it, orders the colour channels, trains a small model
# into the likelihood table of part 1, and then turns to audio (§6.5): causal dilated
# convolutions, their receptive field of 2^L samples, μ-law quantisation and a tiny WaveNet.

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
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.nn import functional as F

from mplib import data, exercises, likelihood, plot, runtime, train
from mplib import exercises_ch6b as ch6b
from mplib import pixelcnn, wavenet

runtime.setup(seed=0)

# %% [markdown]
# ## 6.4 Generating images
#
# An image x with n pixels, read in raster order (row by row, left to right), has the
# autoregressive factorisation
#
# $$p(\mathbf{x}) = \prod_{i=1}^{n} p(x_i \mid x_1, \dots, x_{i-1}).$$
#
# **Pixel-RNN** reads the pixels in this order with a recurrent network: the hidden state
# summarises everything generated so far, and each new pixel is predicted from the hidden
# state and its top-left neighbours. It is expressive, but every step waits for the previous
# hidden state, so even *training* runs one pixel after the other.
#
# **Pixel-CNN** drops the recurrence: each conditional only looks at a context window of
# already known pixels, computed by convolutions. During training all pixels are known, so
# all n conditionals come out of one forward pass. (Sampling is still sequential, as for
# every autoregressive model.) The trick is the **mask**: a k×k kernel W is multiplied by a
# 0/1 mask M that zeroes every tap at or after the centre in raster order,
#
# $$\mathbf{y} = (\mathbf{W} \odot \mathbf{M}) \star \mathbf{x}, \qquad
#   M_{ab} = \begin{cases} 1 & a < r \ \text{ or } \ (a = r \text{ and } b < r) \\
#   [\text{type B}] & a = r,\ b = r \\ 0 & \text{otherwise} \end{cases}, \quad r = \lfloor k/2 \rfloor.$$
#
# > **Convention (chapter 2, §2.1).** $\mathbf{A} \star \mathbf{B}$ and $\mathbf{A} * \mathbf{B}$: the
# > *first* argument $\mathbf{A}$ is the one that slides over the second, $\mathbf{B}$:
# > $(\mathbf{A} \star \mathbf{B})[i,j] = \sum_{m,n} \mathbf{A}[m,n]\,\mathbf{B}[i+m,j+n]$ (correlation),
# > $(\mathbf{A} * \mathbf{B})[i,j] = \sum_{m,n} \mathbf{A}[m,n]\,\mathbf{B}[i-m,j-n]$ (convolution).
# > `F.conv2d(input, weight)` and `F.conv1d` compute $\star$ with the weight sliding. With
# > $\star$ the mask reads as it is drawn: $M_{ab}$ multiplies the input pixel $a - r$ rows
# > and $b - r$ columns away from the output pixel (a $*$ would turn it by 180°).
#
# The first layer (type **A**) must not see the pixel it predicts; later layers (type **B**)
# may keep the centre, because their centre is a feature that already excludes that pixel.
#
# **Your turn (implement): the mask.** Write `mask(k, mask_type)`: the $k \times k$ float
# tensor $\mathbf{M}$ of the definition above, for an odd $k$ and type `"A"` or `"B"` (rows
# are the index $a$, columns $b$). The cell after the check draws three masks with it.

# %% nbgrader={"grade": false, "grade_id": "mask", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mask(k, mask_type):
    """The k×k PixelCNN mask M of type "A" or "B", from the definition above."""
    ### BEGIN SOLUTION
    r = k // 2
    M = torch.zeros(k, k)
    for a in range(k):
        for b in range(k):
            if a < r or (a == r and b < r):
                M[a, b] = 1.0
    M[r, r] = 1.0 if mask_type == "B" else 0.0
    return M
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_mask", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6b.check_mask(mask)

# %%
make_mask = exercises.yours_or_reference(mask, ch6b.mask, ch6b.MASK_CASES, name="mask")
fig, axes = plt.subplots(1, 3, figsize=(7, 2.6))
plot.show_array(axes[0], make_mask(3, "A"), fmt="{:.0f}", title="type A, k = 3")
plot.show_array(axes[1], make_mask(3, "B"), fmt="{:.0f}", title="type B, k = 3")
plot.show_array(axes[2], make_mask(5, "A"), fmt="{:.0f}", title="type A, k = 5", fontsize=8)
fig.tight_layout()

# %% [markdown]
# **Check.** The masks of `mplib.pixelcnn.MaskedConv2d` equal ours, and autograd agrees:
# the output of one type-A layer at pixel (i, j) has a nonzero gradient exactly with
# respect to the pixels where the mask, centred on (i, j), is 1.

# %%
for k in (3, 5, 7):
    for t in "AB":
        torch.testing.assert_close(pixelcnn.pixelcnn_mask(k, t)[0, 0], make_mask(k, t))

runtime.seed(0)
layer = pixelcnn.MaskedConv2d(1, 1, kernel_size=5, mask_type="A")
x = torch.randn(1, 1, 9, 9, requires_grad=True)
layer(x)[0, 0, 4, 4].backward()
expected = torch.zeros(9, 9)
expected[2:7, 2:7] = make_mask(5, "A")
torch.testing.assert_close((x.grad[0, 0] != 0).float(), expected)
print("masks and autograd footprint agree")

# %% [markdown]
# ### The blind spot (Figure 17)
#
# Stack several masked 3×3 layers and ask autograd which input pixels reach one output
# pixel: the gradient of that output with respect to the input is nonzero exactly there.
# One layer at (i, j) reads the three pixels of the row above, (i − 1, j − 1), (i − 1, j) and
# (i − 1, j + 1), and the pixel to its left, (i, j − 1). Going up or left is free, but every
# step to the right also climbs a row: there is no tap straight to the right. After L layers
# the stack covers the rows above within L columns on either side, except a triangle above
# and to the right of the pixel that no path of L steps gets to. That triangle is the **blind
# spot**: pixels generated before (i, j), within the L-layer reach, that (i, j) cannot see.
#
# **Your turn (predict): the blind spot by hand.** Write the blind spot of L layers as a set
# of offsets (a, b), meaning the pixel (i − a, j + b): a rows up, b columns to the right. Let
# `blind_spot(L)` return that set for any L ≥ 1 (draw L = 2 and L = 3 on paper first). The
# autograd footprints below check your rule.

# %% nbgrader={"grade": false, "grade_id": "blind_spot", "locked": false, "schema_version": 3, "solution": true, "task": false}
def blind_spot(L):
    """The set of offsets (a, b): pixel (i − a, j + b) is in the blind spot of L layers."""
    ### BEGIN SOLUTION
    return {(a, b) for b in range(1, L + 1) for a in range(1, b)}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_blind_spot", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6b.check_blind_spot(blind_spot)

# %% [markdown]
# The rule: climbing a rows buys at most a steps to the right, so within the reach of L
# layers the pixels (i − a, j + b) with $1 \le a < b \le L$ are missed, $L(L-1)/2$ of them.
# The pixel diagonally up-right, (i − 1, j + 1), *is* seen: it is one tap of the first layer.
#
# We use small untrained nets with positive weights (`pixelcnn.footprint_net`), so that
# gradients cannot cancel by accident and a zero means "no path".

# %%
def footprint(net, size, pixel):
    """Which input pixels output pixel (i, j) depends on: ∂ y_ij / ∂ x ≠ 0, by autograd."""
    i, j = pixel
    x = torch.ones(1, 1, *size, requires_grad=True)
    net(x)[0, 0, i, j].backward()
    return (x.grad[0, 0] != 0).numpy()


size, pixel, L = (11, 11), (8, 5), 4
seen = {kind: footprint(pixelcnn.footprint_net(kind, L), size, pixel)
        for kind in ("plain", "two-stack")}
reach = pixelcnn.ideal_region(size, pixel, L)  # rows above within L steps, and left in the row
for kind, s in seen.items():
    print(f"{kind:>9}: sees {s.sum():2d} pixels, blind spot {(reach & ~s).sum()} pixels")

# %% [markdown]
# **Check.** Both stacks are causal (nothing at or after the pixel in raster order), our
# footprint equals `mplib`'s, the plain stack misses a triangle of 1 + 2 + 3 = 6 pixels after
# four layers, and the two-stack net (below) sees everything within reach.

# %%
rows, cols = np.ogrid[:11, :11]
before = (rows < pixel[0]) | ((rows == pixel[0]) & (cols < pixel[1]))
for kind, s in seen.items():
    assert not (s & ~before).any(), f"{kind} sees the future"
    np.testing.assert_array_equal(s, pixelcnn.footprint(pixelcnn.footprint_net(kind, L), size, pixel))
assert (reach & ~seen["plain"]).sum() == 6
np.testing.assert_array_equal(seen["two-stack"], reach)
print("causal, blind spot of the plain stack: 6 pixels; two-stack: none")
for L_ in range(1, 6):  # the rule 1 ≤ a < b ≤ L, against autograd on a grid with room
    grid, (i_, j_) = (2 * L_ + 3, 2 * L_ + 3), (L_ + 1, L_ + 1)
    unseen = pixelcnn.ideal_region(grid, (i_, j_), L_) & ~pixelcnn.footprint(
        pixelcnn.footprint_net("plain", L_), grid, (i_, j_))
    offsets = {(int(i_ - r), int(c - j_)) for r, c in zip(*np.nonzero(unseen))}
    assert offsets == ch6b.blind_spot(L_)
    print(f"L = {L_}: blind spot {sorted(offsets)}")

# %% [markdown]
# **The fix: two stacks.** The gated PixelCNN splits the network into a **vertical stack**,
# whose features at (i, j) see all rows above within reach (a k×k kernel over the rows
# above, the first layer shifted so that row i itself is excluded), and a **horizontal
# stack**, which sees the current row to the left (a 1×k kernel). In every layer the
# vertical features are added into the horizontal stack, never the other way round (that
# would leak row i into the vertical stack). Both use the gated activation
#
# $$\mathbf{y} = \tanh(\mathbf{W}_{f} \star \mathbf{x}) \odot \sigma(\mathbf{W}_{g} \star \mathbf{x}),$$
#
# and the output is read from the horizontal stack. The two footprints, with the pixel in
# black, the pixels it depends on in yellow and the blind spot in grey:

# %%
from mplib.pixelcnn import footprint_map
from mplib.widgets.blind_spot import CMAP

fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
for ax, kind in zip(axes, ("plain", "two-stack")):
    m = footprint_map(kind, L, pixel, size)
    ax.imshow(m, cmap=CMAP, vmin=-0.5, vmax=3.5)
    ax.set_xticks(np.arange(12) - 0.5, minor=True)
    ax.set_yticks(np.arange(12) - 0.5, minor=True)
    ax.grid(which="minor", color="#cccccc")
    ax.grid(which="major", visible=False)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(f"{kind}, {L} layers: blind spot {(m == 2).sum()}")
fig.tight_layout()

# %% [markdown]
# **Widget: PixelCNN blind spot.** Move the number of layers and the pixel; switch between
# the plain and the two-stack network. Every footprint is computed by autograd, as above.

# %%
from mplib.widgets.blind_spot import BlindSpotWidget

BlindSpotWidget()

# %% [markdown]
# ### Colour: R → G → B within a pixel
#
# A colour pixel has three values, so the chain rule goes on inside the pixel:
#
# $$p(x_i \mid \mathbf{x}_{1:i-1}) = p(x_{i,R} \mid \mathbf{x}_{1:i-1})\,
#   p(x_{i,G} \mid \mathbf{x}_{1:i-1}, x_{i,R})\,
#   p(x_{i,B} \mid \mathbf{x}_{1:i-1}, x_{i,R}, x_{i,G}).$$
#
# The feature maps are split into three groups (R, G, B). At the centre tap, output group
# g may read input group g' only if g' < g (type A) or g' ≤ g (type B); all pixels before
# the centre stay visible to every group. Below: the centre taps of a type-A and a type-B
# layer with 3 input and 6 output channels (two per colour; 1 = the output channel reads that
# input channel of the current pixel), then a three-layer stack checked by autograd.

# %%
fig, axes = plt.subplots(1, 2, figsize=(6.4, 4.4))
for ax, kind in zip(axes, "AB"):
    centre = pixelcnn.pixelcnn_mask(3, kind, in_channels=3, out_channels=6,
                                    color_channels=3)[:, :, 1, 1]
    plot.show_array(ax, centre, fmt="{:.0f}", title=f"centre taps, type {kind}", fontsize=12)
    # Every row and column named by its own tick label: rows are output channels (two per
    # colour), columns input channels.
    ax.set_xticks(range(3), ["R", "G", "B"])
    ax.set_yticks(range(6), ["R₁", "R₂", "G₁", "G₂", "B₁", "B₂"])
    ax.tick_params(labelbottom=True, labelleft=True, labelsize=11)
    ax.set(xlabel="input channel", ylabel="output channel")
fig.tight_layout()

# %%
# NBVAL_CHECK_OUTPUT
runtime.seed(0)
rgb_net = torch.nn.Sequential(
    pixelcnn.MaskedConv2d(3, 6, 3, "A", color_channels=3), torch.nn.Tanh(),
    pixelcnn.MaskedConv2d(6, 6, 3, "B", color_channels=3), torch.nn.Tanh(),
    pixelcnn.MaskedConv2d(6, 3, 3, "B", color_channels=3))
x = torch.randn(1, 3, 5, 5, requires_grad=True)
sees = torch.zeros(3, 3)
for c in range(3):  # output channel R, G, B at pixel (2, 2)
    (grad,) = torch.autograd.grad(rgb_net(x)[0, c, 2, 2], x)
    sees[c] = (grad[0, :, 2, 2] != 0).float()  # which input channels of the SAME pixel
torch.testing.assert_close(sees, torch.tensor([[0., 0, 0], [1, 0, 0], [1, 1, 0]]))
for c, name in enumerate("RGB"):
    print(f"output {name} at (2, 2) sees current-pixel channels:",
          [ch for ch, s in zip("RGB", sees[c]) if s] or "none")

# %% [markdown]
# ### Training a small PixelCNN
#
# Our digits are binary, so each conditional is a Bernoulli with a logit from the network,
# and the loss is the binary cross-entropy over all pixels at once (teacher forcing: the true
# pixels are the context). We train the two-stack network on the binarised 8×8 digits (quick
# mode; binarised MNIST in full mode) and add its held-out negative log-likelihood to the
# table of part 1, whose FVSBN, NADE and MADE rows `likelihood.train_baselines` retrains
# here on the same split. A published column appears only beside full MNIST (never beside
# the 5,000-image subset that full mode falls back to offline). The published numbers were
# measured on the stochastically binarised MNIST of Larochelle & Murray (2011), while these
# notebooks threshold at 0.5, so they are comparable in scale, not digit for digit.

# %%
runtime.summary()
images = data.load(runtime.budget(quick="digits", full="mnist"))
X_train, X_test = data.binarize(images.X_train), data.binarize(images.X_test)
H, W = images.shape[1:]
# The published numbers only beside full MNIST, never beside the subset it may fall back to.
published = likelihood.PUBLISHED_MNIST if images.is_full_mnist else None

# Full mode loads the baselines that 06a trained on the same data, if it ran on this machine.
table = likelihood.train_baselines(X_train, X_test, published=published,
                                   cache=runtime.mode() == "full", mode=runtime.mode())

runtime.seed(0)
model = pixelcnn.TwoStackPixelCNN(channels=runtime.budget(quick=16, full=64),
                                  layers=runtime.budget(quick=3, full=7), kernel_size=5,
                                  image_size=(H, W))
# Full mode: an epoch over 60 000 images costs about 7·10¹⁴ FLOP, so a few epochs only.
history = train.fit(model, (X_train, X_train), "bce", epochs=runtime.budget(quick=15, full=4),
                    lr=runtime.budget(quick=1e-2, full=1e-3), batch_size=64)
scores = likelihood.nll(model, X_test)
table.add("PixelCNN", scores["nats"], scores["bits_per_dim"],
          published=None if published is None else published["PixelCNN"])
print(table)
nats = {r["name"]: r["nats"] for r in table.rows}
best = min(v for k, v in nats.items() if k != "PixelCNN")
print(f"PixelCNN {'beats' if nats['PixelCNN'] < best else 'does NOT beat'} the best of "
      f"FVSBN/NADE/MADE ({nats['PixelCNN']:.2f} vs {best:.2f} nats) on this budget")
# What holds on every seed: the PixelCNN beats the FVSBN, the model with the same
# factorisation and one logistic regression per conditional.
runtime.target(f"PixelCNN {nats['PixelCNN']:.2f} < FVSBN {nats['FVSBN']:.2f} nats",
               nats["PixelCNN"] < nats["FVSBN"])

# %% [markdown]
# **Your turn (break it): the vertical stack sees its own row.** Suppose the first vertical
# layer's mask also kept the current row to the right of the centre (a one-line change in
# `VerticalConv`). Which of these is true? (a) nothing leaks, because the vertical stack
# never produces the output; (b) the logit of pixel (i, j) now depends on pixels after it in
# its own row, and a check that flips every pixel in turn finds it; (c) flipping the single
# pixel (4, 0) of an 8×8 image and comparing the first 33 conditionals catches it; (d) the
# check that `log_prob` equals the sum of Bernoulli log-probabilities fails.

# %% nbgrader={"grade": false, "grade_id": "vertical_leak", "locked": false, "schema_version": 3, "solution": true, "task": false}
def vertical_leak_answer():
    """"a", "b", "c" or "d"."""
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_vertical_leak", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6b.check_vertical_leak(vertical_leak_answer)

# %% [markdown]
# **Check.** The trained network is still autoregressive. We flip every pixel p of a test
# image in turn (H·W copies, one batched pass) and record how much each logit moves: the
# conditional of pixel o may move only when p < o in raster order. Then the same check on a
# copy of the model with the leak of the exercise injected (`pixelcnn.inject_row_leak`) must
# fire, while a check that flips only the first pixel of the middle row would have passed it.
# Finally, `log_prob` is the sum of the per-pixel Bernoulli log-probabilities, the quantity
# the table reports.

# %%
model.to(runtime.device()).eval()     # n copies of the image: on the GPU in full mode
x0 = X_test[:1].reshape(H, W)
if runtime.fast_dev_run():
    # A fast dev run may be full mode on a CPU, where 784 flips take minutes: a 12 × 12 crop
    # checks the same convolutional weights (quick mode's 8 × 8 images are checked whole).
    x0 = x0[:12, :12]
h, w = x0.shape
n = h * w
changes = pixelcnn.flip_changes(model, x0)                       # [o, p]: |Δ logit_o|, p flipped
at_or_after = torch.ones(n, n, dtype=torch.bool).triu()          # p ≥ o: must not matter
# A tolerance of 1e-4: GPU convolution algorithms may round where a masked tap is zero.
bad = pixelcnn.causality_violations(model, x0, atol=1e-4)
print(f"trained model, all {n} pixels of the {h} × {w} image flipped: {len(bad)} conditionals "
      f"move on a pixel at or after their own (largest change "
      f"{changes[at_or_after].max():.1e}); earlier pixels move them by up to "
      f"{changes[~at_or_after].max():.2f}")
assert not bad and changes[~at_or_after].max() > 0

leaky = pixelcnn.inject_row_leak(copy.deepcopy(model))
caught = pixelcnn.causality_violations(leaky, x0, atol=1e-4)
first_of_row = (h // 2) * w                                      # pixel (h/2, 0), index n/2
missed = not [(o, p) for o, p in caught if p == first_of_row]
print(f"row leak injected: {len(caught)} violations, all in the flipped pixel's own row: "
      f"{all(o // w == p // w for o, p in caught)}; flipping only pixel {first_of_row} "
      f"(row {h // 2}, column 0) finds {'none' if missed else 'some'}")
assert caught and missed and all(o // w == p // w for o, p in caught)
model.cpu()
with torch.no_grad():
    p = torch.sigmoid(model(X_test[:8]).flatten(1))
    t = X_test[:8].flatten(1)
    direct = (t * p.log() + (1 - t) * (1 - p).log()).sum(1)
    torch.testing.assert_close(model.log_prob(X_test[:8]), direct, rtol=1e-4, atol=1e-4)

# %% [markdown]
# Sampling runs the network once per pixel, in raster order, each time drawing the next
# pixel from its Bernoulli conditional. It runs on the device the network trained on (a GPU in
# full mode): 784 passes of the full-size network are slow on a CPU.

# %%
model.to(runtime.device())
samples = model.sample(runtime.capped(20), generator=runtime.seed(1)).cpu()
model.cpu()
fig = plot.image_grid(samples, ncols=10, suptitle="PixelCNN samples (two-stack, binarised)")

# %% [markdown]
# ## 6.5 Generating audio
#
# WaveNet applies the PixelCNN recipe to sound. A second of audio has thousands of samples,
# so the context has to be long, and a stack of ordinary causal convolutions with kernel 2
# would need one layer per sample of context. **Dilated** convolutions skip d − 1 samples
# between the taps of the kernel. A causal dilated convolution with kernel size k and
# dilation d computes
#
# $$y_t = b + \sum_{m=0}^{k-1} W_m \, x_{t - m d},$$
#
# which uses only the present and the past. Doubling the dilation layer after layer,
# d_ℓ = 2^{ℓ−1}, makes the receptive field grow exponentially with the depth:
#
# $$R = 1 + \sum_{\ell=1}^{L} (k - 1)\, d_\ell = 1 + \sum_{\ell=1}^{L} 2^{\ell-1} = 2^L
#   \quad (k = 2).$$
#
# The sum is a convolution (∗ in the convention box): W_0 multiplies the newest sample x_t.
# `F.conv1d` correlates (⋆), so its *last* tap multiplies x_t; `causal_conv` below takes
# W = (W_0, ..., W_{k−1}) in the equation's order and flips it for `conv1d`.

# %%
def causal_conv(x, W, b, d):
    """y_t = b + Σ_m W_m x_{t − m d}, W = (W_0, ..., W_{k−1}) as in the equation."""
    k = W.shape[-1]
    # Pad (k − 1) d zeros on the left (the past before t = 0 is silence), then correlate with
    # the reversed kernel: conv1d's last tap meets x_t, and that tap must be W_0.
    return F.conv1d(F.pad(x, ((k - 1) * d, 0)), W.flip(-1), b, dilation=d)


runtime.seed(0)
x = torch.randn(1, 1, 16)
conv = wavenet.CausalConv1d(1, 1, kernel_size=2, dilation=4)
W = conv.weight.flip(-1)          # the layer stores conv1d's order, W read backwards
b = conv.bias
y = causal_conv(x, W, b, 4)
torch.testing.assert_close(y, conv(x))
for t in range(16):  # the sum itself, term by term, with x_s = 0 for s < 0
    expected = b[0] + sum(W[0, 0, m] * x[0, 0, t - m * 4] for m in range(2) if t - m * 4 >= 0)
    torch.testing.assert_close(y[0, 0, t], expected)
print("causal dilated convolution = formula = mplib.wavenet.CausalConv1d")

# %% [markdown]
# **Check of R = 2^L.** Autograd counts the inputs with a nonzero
# gradient for the last output of a stack of L causal convolutions, for doubling dilations
# and for dilation 1 everywhere (only L + 1 inputs).

# %%
# NBVAL_CHECK_OUTPUT
print(" L  doubling: formula autograd   all ones: formula autograd")
for L in range(1, 8):
    runtime.seed(L)
    row = []
    for schedule in ("doubling", "ones"):
        d = wavenet.dilations(L, schedule)
        R = wavenet.dilated_receptive_field(d)
        R_grad = wavenet.receptive_field_autograd(wavenet.CausalStack(d), T=300)
        assert R == R_grad
        row += [R, R_grad]
    assert row[0] == 2 ** L
    print(f"{L:2d}  {row[0]:17d} {row[1]:8d} {row[2]:18d} {row[3]:8d}")

# %% [markdown]
# **Your turn (predict): a receptive field.** The WaveNet paper repeats the doubling block:
# dilations 1, 2, 4, 8, 1, 2, 4, 8, kernel size k = 2. How many input samples does one
# output of this eight-layer stack see? Let `receptive_field_answer` return the number.

# %% nbgrader={"grade": false, "grade_id": "receptive_field", "locked": false, "schema_version": 3, "solution": true, "task": false}
def receptive_field_answer():
    """R for dilations (1, 2, 4, 8, 1, 2, 4, 8) and k = 2, a number."""
    ### BEGIN SOLUTION
    return 1 + sum([1, 2, 4, 8, 1, 2, 4, 8])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_receptive_field", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6b.check_receptive_field(receptive_field_answer)

# %%
runtime.seed(0)
stack = wavenet.CausalStack(list(ch6b.RF_DILATIONS), kernel_size=ch6b.RF_KERNEL)
print(f"dilations {list(ch6b.RF_DILATIONS)}: autograd counts "
      f"{wavenet.receptive_field_autograd(stack, T=200)} inputs; one block of four reaches "
      f"{wavenet.dilated_receptive_field(ch6b.RF_DILATIONS[:4])}")

# %% [markdown]
# **Widget: WaveNet dilation (Figure 18).** The units of each layer in a row, the input at
# the bottom. Pick the number of layers, the dilation schedule and the output to trace:
# the red path connects that output to every input it depends on.

# %%
from mplib.widgets.dilation import DilationWidget

DilationWidget()

# %% [markdown]
# ### μ-law quantisation
#
# WaveNet predicts each sample as a *class*: a softmax over 256 values is more flexible than
# a Gaussian. Sound is quiet most of the time, so before quantising, the amplitude
# x ∈ [−1, 1] is compressed with the μ-law (μ = 255), which spends more levels near 0:
#
# $$F(x) = \operatorname{sign}(x)\, \frac{\ln(1 + \mu |x|)}{\ln(1 + \mu)}, \qquad
#   q = \operatorname{round}\Big(\frac{F(x) + 1}{2}\, \mu\Big) \in \{0, \dots, 255\},$$
#
# and decoding inverts it: y = 2q/μ − 1, x̂ = sign(y) ((1 + μ)^{|y|} − 1) / μ.
#
# **Your turn (implement): μ-law encoding.** Write `mu_law_encode(x, mu=255)`: for a float
# tensor x with values in [−1, 1], return the integer classes q (a `torch.long` tensor).

# %% nbgrader={"grade": false, "grade_id": "mu_law_encode", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mu_law_encode(x, mu=255):
    """Classes q = round((F(x) + 1)/2 · μ), F(x) = sign(x) ln(1 + μ|x|) / ln(1 + μ)."""
    ### BEGIN SOLUTION
    F_x = torch.sign(x) * torch.log(1 + mu * x.abs()) / math.log(1 + mu)
    return torch.round((F_x + 1) / 2 * mu).long()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_mu_law_encode", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6b.check_mu_law_encode(mu_law_encode)

# %% [markdown]
# **Your turn (implement): μ-law decoding.** Write `mu_law_decode(q, mu=255)`: from integer
# classes back to amplitudes x̂ in [−1, 1] (a float tensor), inverting F as above.

# %% nbgrader={"grade": false, "grade_id": "mu_law_decode", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mu_law_decode(q, mu=255):
    """Amplitudes x̂ = sign(y) ((1 + μ)^|y| − 1) / μ with y = 2q/μ − 1."""
    ### BEGIN SOLUTION
    y = 2 * q.float() / mu - 1
    return torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_mu_law_decode", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
ch6b.check_mu_law_decode(mu_law_decode)

# %% [markdown]
# **The round trip.** With your two functions (or the references, until yours pass), every
# amplitude comes back within half a quantisation step of F, which in x is
# ½ · (2/μ) · dx/dF = ln(1 + μ)(1/μ + |x|)/μ: fine steps near 0, coarse ones near ±1.

# %%
encode = exercises.yours_or_reference(mu_law_encode, ch6b.mu_law_encode, ch6b.ENCODE_CASES,
                                      rtol=0, atol=0, name="mu_law_encode")
decode = exercises.yours_or_reference(mu_law_decode, ch6b.mu_law_decode, ch6b.DECODE_CASES,
                                      rtol=1e-5, atol=1e-6, name="mu_law_decode")
mu = 255
x = torch.linspace(-1, 1, 2001)
F_x = torch.sign(x) * torch.log(1 + mu * x.abs()) / math.log(1 + mu)
q = encode(x)
assert torch.equal(q, wavenet.mu_law_encode(x))
x_hat = decode(q)
torch.testing.assert_close(x_hat, wavenet.mu_law_decode(q))
err = (x_hat - x).abs()
assert (err <= 1.1 * math.log(1 + mu) * (1 / mu + x.abs()) / mu).all()  # half a step of F
print(f"round trip: largest error {err.max():.4f} (near |x| = 1), "
      f"{err[x.abs() < 0.05].max():.5f} for |x| < 0.05")

fig, axes = plt.subplots(1, 2, figsize=(8, 2.8))
axes[0].plot(x, F_x)
axes[0].set(title="μ-law companding F(x)", xlabel="x", ylabel="F(x)")
axes[1].plot(x, err)
axes[1].set(title="round-trip error |decode(encode(x)) − x|", xlabel="x")
fig.tight_layout()

# %% [markdown]
# ### A tiny WaveNet
#
# The model (`mplib.wavenet.WaveNet`): an embedding of the 256 classes, six gated residual
# layers with dilations 1, 2, …, 32 (receptive field 64 samples) and skip connections, then
# two 1×1 convolutions to 256 logits per step. The output at step t is the distribution of
# x_{t+1}: the input is the waveform, the target the same waveform shifted by one. That loss,
# the cross-entropy of p(x_{t+1} | x_{≤t}), is the model's own `WaveNet.loss(x)`, so
# `train.fit` is given no loss function and calls it on each batch (x,).
# The data are synthetic tones (three pitches, two harmonics, random phase and loudness)
# with a little Gaussian noise (standard deviation 0.01) added to every sample.

# %%
runtime.summary()
runtime.seed(0)
noise = 0.01
Q_train = wavenet.mu_law_encode(wavenet.synthetic_waveform(runtime.budget(quick=128, full=2048),
                                                           192, noise=noise, seed=0))
Q_test = wavenet.mu_law_encode(wavenet.synthetic_waveform(64, 192, noise=noise, seed=1))
net = wavenet.WaveNet(channels=runtime.budget(quick=32, full=64), layers=6)
history = train.fit(net, (Q_train,), None, epochs=runtime.budget(quick=40, full=40),
                    lr=runtime.budget(quick=6e-3, full=3e-3), batch_size=32, test=(Q_test,))
counts = torch.bincount(Q_test.flatten(), minlength=256).float()
marginal = -(counts / counts.sum() * (counts / counts.sum()).clamp_min(1e-12).log()).sum()
# The noise floor: even knowing the clean tone exactly, the noise leaves the class of each
# sample random. The noise at step t is independent of the past, so no model can beat it.
clean = wavenet.synthetic_waveform(64, 192, noise=0.0, seed=1)   # Q_test without its noise
floor = wavenet.noise_floor(clean[:, 1:], noise)                  # the predicted steps
ce = history.test_loss[-1]
print(f"test cross-entropy {ce:.2f} nats/sample; noise floor {floor:.2f}; uniform guess "
      f"{math.log(256):.2f}; the classes' marginal entropy {marginal:.2f}")
assert ce > floor, "below the noise floor: the floor or the loss is computed wrongly"
runtime.target(f"WaveNet test cross-entropy {ce:.2f} < marginal {marginal:.2f} − 1 nat",
               ce < marginal - 1)

# %% [markdown]
# **Check.** The trained WaveNet is causal, and its receptive field is the 64 samples the
# formula gives. We change each input class x_s of a held-out sequence in turn (by 128
# classes, all copies in one batch) and record which outputs move: output t, the
# distribution of x_{t+1}, may move only for t − 63 ≤ s ≤ t. Then the same check on a copy
# whose first layer pads one step on the right (`wavenet.inject_future_leak`, so output t
# reads x_{t+1}, the very sample it predicts) must fire.

# %%
net.cpu().eval()
seq = Q_test[0, :160]
changes = wavenet.output_changes(net, seq)                       # [t, s]: |Δ logits_t|, x_s changed
t_idx, s_idx = np.nonzero(changes.numpy() > 1e-6)
lags = t_idx - s_idx
bad = wavenet.causality_violations(net, seq)
print(f"trained WaveNet, each of {len(seq)} steps changed: {len(bad)} outputs move on a later "
      f"input (largest change {changes.triu(1).max():.1e}); output t moves for "
      f"t − s = {lags.min()}..{lags.max()}, a receptive field of {lags.max() + 1}")
assert not bad and lags.min() == 0 and lags.max() + 1 == net.receptive_field == 64
leaky = wavenet.inject_future_leak(copy.deepcopy(net))
caught = wavenet.causality_violations(leaky, seq)
print(f"future leak injected: {len(caught)} outputs move on a later input, each on the very "
      f"next one: {all(s_ == t_ + 1 for t_, s_ in caught)}")
assert caught

# %% [markdown]
# **Sampling.** Prime the network with the first 64 samples of held-out tones, then draw one
# sample at a time from the softmax (temperature 1) and feed it back in. The held-out tones
# go on for another 128 samples, so we can measure how well the samples continue them: the
# root-mean-square error between the generated and the true continuation, against the size
# of the tones themselves (their root-mean-square amplitude).

# %%
prime = Q_test[:16, :64]
generated = net.sample(128, prime, generator=runtime.seed(2))
x_gen = wavenet.mu_law_decode(generated)
x_true = wavenet.mu_law_decode(Q_test[:16, 64:192])
rms_err = (x_gen - x_true).pow(2).mean().sqrt().item()
rms_tone = x_true.pow(2).mean().sqrt().item()
print(f"16 held-out tones, 128 generated samples each: RMS error {rms_err:.3f} against the "
      f"true continuation, whose RMS amplitude is {rms_tone:.3f}")
# Silence would be off by the tone RMS, a tone of the right pitch in a random phase by √2 times
# it: well below both, the samples stay in phase with the held-out tones.
runtime.target(f"generated continuation RMS error {rms_err:.3f} < 0.75 × tone RMS {rms_tone:.3f}",
               rms_err < 0.75 * rms_tone)

fig, axes = plt.subplots(3, 1, figsize=(8, 4.6), sharex=True)
for k, ax in enumerate(axes):
    ax.plot(range(64, 192), x_true[k], color="#999999", lw=3, alpha=0.6,
            label="true continuation")
    ax.plot(range(64), wavenet.mu_law_decode(prime[k]), color=plot.COLORS[0], label="prime")
    ax.plot(range(64, 192), x_gen[k], color=plot.COLORS[1], label="generated")
    ax.set_ylabel("x")
axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
axes[0].set_title(f"WaveNet continues held-out tones (RMS error {rms_err:.2f}, "
                  f"tone RMS {rms_tone:.2f}, 16 tones)")
axes[-1].set_xlabel("time step t")
fig.tight_layout()

# %% [markdown]
# **What to take away.** Masks make convolutions autoregressive; stacking them is cheap to
# train but can hide part of the context (the blind spot), which a second stack repairs.
# Causality is a property to check on the trained model, at every position: a leak that
# sits in the middle of a row escapes a check at one pixel. Dilations make the context of a
# causal stack grow exponentially with depth. Part 3 replaces convolutions by attention,
# which sees the whole past in one step.
#
# **Listen.** The first generated continuation as sound: 128 samples at 8 kHz last 16 ms,
# so the player repeats them 40 times.

# %%
from IPython.display import Audio

Audio(wavenet.mu_law_decode(generated[0]).repeat(40).numpy(), rate=8000)
