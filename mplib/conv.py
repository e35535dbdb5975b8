"""2-D correlation and convolution, vectorised, and convolution as a matrix product (§2.1).

Convention (the notes' §2.1 and notebook 02): in ``A ⋆ B`` and ``A * B`` the first argument A
is the one that slides over the second, B. With the kernel K sliding over the image I:

* correlation  ``(K ⋆ I)[i, j] = Σ_m Σ_n K[m, n] I[i + m, j + n]``  (what ``conv2d`` computes);
* convolution  ``(K * I)[i, j] = Σ_m Σ_n K[m, n] I[i − m, j − n]``, which equals the correlation
  with the kernel rotated by 180°.

Every function takes the 2-D image ``I`` (H, W) first and the 2-D kernel ``K`` (k_h, k_w)
second, in the order of ``F.conv2d(input, weight)``: ``correlate2d(I, K)`` is ``K ⋆ I`` and
``convolve2d(I, K)`` is ``K * I``. ``stride``,
``padding`` and ``dilation`` are an int or a pair (rows, columns); ``padding`` may also be
"valid" (the default, no padding), "same" (output as large as the input, stride 1) or "full"
(every overlap of kernel and image, stride 1). ``padding_mode`` is "zeros", "circular",
"reflect" or "replicate"; with "circular" the correlation is exactly shift-equivariant.

:func:`conv_matrix` builds the (doubly block) Toeplitz matrix ``C`` with
``(C @ x.reshape(-1)).reshape(H_out, W_out) == conv2d(x[None, None], K[None, None])[0, 0]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import checks

PADDING_MODES = ("zeros", "circular", "reflect", "replicate")
PADDING_NAMES = ("valid", "same", "full")

__all__ = ["correlate2d", "convolve2d", "conv_matrix", "output_shape", "PADDING_MODES"]


def _check_2d(name: str, t) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.ndim != 2:
        raise ValueError(f"{name} must be a 2-D tensor, got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(t.shape)}")
    return t


def _pair(name: str, value, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each >= minimum, as a pair (the entries named name[0], name[1])."""
    if not isinstance(value, (tuple, list)):
        value = checks.integer(value, name, minimum)
        return value, value
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return (checks.integer(value[0], f"{name}[0]", minimum),
            checks.integer(value[1], f"{name}[1]", minimum))


def _pads(padding, kernel_shape, dilation, stride) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) zero-padding amounts for a padding argument."""
    eff = [d * (k - 1) + 1 for k, d in zip(kernel_shape, dilation)]
    if isinstance(padding, str):
        if checks.choice(padding, "padding", PADDING_NAMES) == "valid":
            return 0, 0, 0, 0
        if stride != (1, 1):
            raise ValueError(f"padding={padding!r} needs stride 1, got stride={stride}")
        if padding == "full":
            return eff[0] - 1, eff[0] - 1, eff[1] - 1, eff[1] - 1
        top, left = (eff[0] - 1) // 2, (eff[1] - 1) // 2  # "same": as PyTorch splits it
        return top, eff[0] - 1 - top, left, eff[1] - 1 - left
    ph, pw = _pair("padding", padding, 0)
    return ph, ph, pw, pw


def output_shape(input_shape, kernel_shape, *, stride=1, padding=0, dilation=1) -> tuple[int, int]:
    """(H_out, W_out) of a 2-D correlation: ``(H + pads − d(k − 1) − 1) // s + 1``.

    Raises ValueError (naming the kernel) when the kernel does not fit the padded input.
    """
    H, W = _pair("input_shape", tuple(input_shape), 1)
    kh, kw = _pair("kernel_shape", tuple(kernel_shape), 1)
    stride = _pair("stride", stride, 1)
    dilation = _pair("dilation", dilation, 1)
    top, bottom, left, right = _pads(padding, (kh, kw), dilation, stride)
    eff_h, eff_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    if eff_h > H + top + bottom or eff_w > W + left + right:
        raise ValueError(f"kernel K of (effective) size {eff_h}x{eff_w} is larger than the "
                         f"padded input {H + top + bottom}x{W + left + right}; "
                         f"use a smaller kernel or more padding")
    return (H + top + bottom - eff_h) // stride[0] + 1, (W + left + right - eff_w) // stride[1] + 1


def correlate2d(I: torch.Tensor, K: torch.Tensor, *, stride=1, padding="valid", dilation=1,
                padding_mode: str = "zeros") -> torch.Tensor:
    """Correlation ``(K ⋆ I)[i, j] = Σ_m Σ_n K[m, n] I[s·i + d·m, s·j + d·n]`` (padded I).

    Vectorised: all kernel-sized windows of the padded image are taken at once (``unfold``) and
    multiplied with K in one ``einsum``. Equals ``F.conv2d(I[None, None], K[None, None], ...)``.
    """
    I, K = _check_2d("I", I), _check_2d("K", K)
    checks.choice(padding_mode, "padding_mode", PADDING_MODES)
    stride = _pair("stride", stride, 1)
    dilation = _pair("dilation", dilation, 1)
    H_out, W_out = output_shape(I.shape, K.shape, stride=stride, padding=padding,
                                dilation=dilation)
    top, bottom, left, right = _pads(padding, tuple(K.shape), dilation, stride)
    if padding_mode != "zeros" and max(top, bottom) > I.shape[0] - (padding_mode == "reflect"):
        raise ValueError(f"padding {max(top, bottom)} is too large for padding_mode="
                         f"{padding_mode!r} on an input with {I.shape[0]} rows")
    if padding_mode != "zeros" and max(left, right) > I.shape[1] - (padding_mode == "reflect"):
        raise ValueError(f"padding {max(left, right)} is too large for padding_mode="
                         f"{padding_mode!r} on an input with {I.shape[1]} columns")
    dtype = torch.promote_types(torch.promote_types(I.dtype, K.dtype), torch.float32)
    I, K = I.to(dtype), K.to(dtype)
    if any((top, bottom, left, right)):
        mode = "constant" if padding_mode == "zeros" else padding_mode
        I = F.pad(I[None, None], (left, right, top, bottom), mode=mode)[0, 0]
    kh, kw = K.shape
    eff_h, eff_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    # windows[i, j] is the (eff_h, eff_w) patch whose top-left corner is (s·i, s·j)
    windows = I.unfold(0, eff_h, stride[0]).unfold(1, eff_w, stride[1])
    windows = windows[:H_out, :W_out, :: dilation[0], :: dilation[1]]
    return torch.einsum("ijmn,mn->ij", windows, K)


def convolve2d(I: torch.Tensor, K: torch.Tensor, *, stride=1, padding="valid", dilation=1,
               padding_mode: str = "zeros") -> torch.Tensor:
    """Convolution ``(K * I)[i, j] = Σ_m Σ_n K[m, n] I[i − m, j − n]``: correlation with K
    rotated by 180°. With ``padding="full"`` it is commutative: ``convolve2d(I, K, padding="full")
    == convolve2d(K, I, padding="full")``.
    """
    K = _check_2d("K", K)
    return correlate2d(I, torch.flip(K, dims=(0, 1)), stride=stride, padding=padding,
                       dilation=dilation, padding_mode=padding_mode)


def conv_matrix(K: torch.Tensor, input_shape, *, stride=1, padding=0,
                dilation=1) -> torch.Tensor:
    """The (doubly block) Toeplitz matrix C of the correlation with K on an image of input_shape.

    Shape (H_out·W_out, H·W); row ``i·W_out + j`` holds K placed at output position (i, j),
    so ``(C @ x.reshape(-1)).reshape(H_out, W_out)`` equals
    ``F.conv2d(x[None, None], K[None, None], stride=stride, padding=padding)[0, 0]``.
    Zero padding only (padded pixels are zero, so they simply drop out of the matrix).
    Differentiable in K; ``C.T`` is the matrix of the transposed convolution (§3).
    """
    K = _check_2d("K", K)
    if not isinstance(input_shape, (tuple, list, torch.Size)):
        raise TypeError(f"input_shape must be a pair (H, W), got {input_shape!r}")
    H, W = _pair("input_shape", tuple(input_shape), 1)
    stride = _pair("stride", stride, 1)
    dilation = _pair("dilation", dilation, 1)
    H_out, W_out = output_shape((H, W), K.shape, stride=stride, padding=padding,
                                dilation=dilation)
    top, _, left, _ = _pads(padding, tuple(K.shape), dilation, stride)
    kh, kw = K.shape
    i = torch.arange(H_out).view(-1, 1, 1, 1)
    j = torch.arange(W_out).view(1, -1, 1, 1)
    m = torch.arange(kh).view(1, 1, -1, 1)
    n = torch.arange(kw).view(1, 1, 1, -1)
    rows = (i * stride[0] + m * dilation[0] - top).expand(H_out, W_out, kh, kw)
    cols = (j * stride[1] + n * dilation[1] - left).expand(H_out, W_out, kh, kw)
    out = (i * W_out + j).expand(H_out, W_out, kh, kw)
    inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
    weights = K.expand(H_out, W_out, kh, kw)
    dtype = torch.promote_types(K.dtype, torch.float32)
    C = torch.zeros(H_out * W_out, H * W, dtype=dtype, device=K.device)
    index = (out[inside].to(K.device), (rows[inside] * W + cols[inside]).to(K.device))
    return C.index_put(index, weights[inside].to(dtype), accumulate=True)
