"""A synthetic semantic-segmentation set and its scores (§3, §3.2 U-net).

``make_shapes`` draws circles, squares and triangles on noisy, striped backgrounds and
returns the images with one label per pixel (0 = background, 1 = circle, 2 = square,
3 = triangle). Every shape gets its brightness from the same distribution, so a network
has to recognise the *outline* of a shape, not its grey level, to name its class.

``mean_iou`` scores a predicted label map; ``boundary_band`` marks the pixels close to a
class boundary, where the coarse, upsampled predictions of a network without skips go wrong.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from . import checks

CLASSES = ("background", "circle", "square", "triangle")
SHAPES = CLASSES[1:]


@functools.lru_cache(maxsize=8)
def _grid(size):
    y, x = np.mgrid[0:size, 0:size].astype(float)
    y.flags.writeable = x.flags.writeable = False
    return y, x


def draw_shape(kind: str, size: int, cx: float, cy: float, r: float) -> np.ndarray:
    """Boolean (size, size) mask of one shape centred at (cx, cy) with "radius" r.

    circle: the disc of radius r; square: the axis-aligned square of half-side 0.85 r
    (about the same area as the disc); triangle: an upward triangle inscribed in the
    circle of radius 1.2 r.
    """
    checks.choice(kind, "kind", SHAPES)
    size = checks.integer(size, "size")
    cx, cy = checks.number(cx, "cx"), checks.number(cy, "cy")
    r = checks.number(r, "r", above=0)
    y, x = _grid(size)
    dx, dy = x - cx, y - cy
    if kind == "circle":
        return dx**2 + dy**2 <= r**2
    if kind == "square":
        h = 0.85 * r
        return (np.abs(dx) <= h) & (np.abs(dy) <= h)
    R = 1.2 * r  # triangle: apex at the top, base below the centre
    inside = dy <= R / 2  # the base
    for angle in (np.pi / 6, 5 * np.pi / 6):  # the two slanted sides
        nx, ny = np.cos(angle), -np.sin(angle)  # outward normals, pointing up-right/up-left
        inside &= dx * nx + dy * ny <= R / 2
    return inside


def make_shapes(n: int, size: int = 32, *, max_shapes: int = 3, noise: float = 0.08,
                texture: float = 0.15, seed: int = 0):
    """``n`` images with 1 to ``max_shapes`` shapes each, and their per-pixel labels.

    Returns ``(X, y)``: X float32 of shape (n, 1, size, size) in [0, 1]; y int64 of shape
    (n, size, size) with 0 for the background and ``CLASSES.index(kind)`` inside a shape
    (shapes are placed so that they do not touch).
    The background is a grey level plus sinusoidal stripes of amplitude ``texture`` with a
    random frequency and direction, and Gaussian noise of standard deviation ``noise`` is
    added to the whole image. Same ``seed``, same data.
    """
    n = checks.integer(n, "n")
    size = checks.integer(size, "size", minimum=16)
    max_shapes = checks.integer(max_shapes, "max_shapes")
    noise = checks.number(noise, "noise", at_least=0)
    texture = checks.number(texture, "texture", at_least=0)
    seed = checks.integer(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    X = np.empty((n, size, size), dtype=np.float32)
    y = np.zeros((n, size, size), dtype=np.int64)
    r_lo, r_hi = size * 0.14, size * 0.24
    for i in range(n):
        base = rng.uniform(0.3, 0.7)
        freq, angle, phase = rng.uniform(0.3, 1.2), rng.uniform(0, np.pi), rng.uniform(0, 6.3)
        stripes = np.sin(freq * (np.cos(angle) * xx + np.sin(angle) * yy) + phase)
        img = base + texture * stripes
        taken = np.zeros((size, size), dtype=bool)
        for _ in range(rng.integers(1, max_shapes + 1)):
            for _attempt in range(20):  # shapes do not touch: retry a few placements
                k = rng.integers(len(SHAPES))
                r = rng.uniform(r_lo, r_hi)
                cx, cy = rng.uniform(1.2 * r, size - 1 - 1.2 * r, size=2)
                mask = draw_shape(SHAPES[k], size, cx, cy, r)
                if not (mask & taken).any():
                    break
            else:
                continue  # no room left: fewer shapes in this image
            taken |= draw_shape(SHAPES[k], size, cx, cy, r + 1.5)
            # Brighter or darker than the background by at least 0.25, whatever the class.
            contrast = rng.choice([-1.0, 1.0]) * rng.uniform(0.25, 0.4)
            img = np.where(mask, base + contrast + 0.5 * texture * stripes, img)
            y[i][mask] = k + 1
        X[i] = img
    X += noise * rng.standard_normal(X.shape).astype(np.float32)
    return torch.from_numpy(np.clip(X, 0.0, 1.0)[:, None]), torch.from_numpy(y)


def _check_labels(pred, target):
    if not (torch.is_tensor(pred) and torch.is_tensor(target)):
        raise TypeError(f"pred and target must be tensors, got {type(pred).__name__} and "
                        f"{type(target).__name__}")
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")
    if pred.is_floating_point() or target.is_floating_point():
        raise TypeError("pred and target must hold integer labels (use logits.argmax(1))")


def iou_per_class(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """IoU_c = |pred = c and target = c| / |pred = c or target = c| for each class c.

    A class that appears in neither gets NaN (it has no IoU, and must not count as 0 or 1).
    """
    _check_labels(pred, target)
    num_classes = checks.integer(num_classes, "num_classes")
    pred, target = pred.reshape(-1).long(), target.reshape(-1).long()
    for name, t in (("pred", pred), ("target", target)):
        if t.numel() and (t.min() < 0 or t.max() >= num_classes):
            raise ValueError(f"{name} labels must lie in 0..{num_classes - 1}")
    counts = torch.bincount(target * num_classes + pred, minlength=num_classes**2)
    confusion = counts.reshape(num_classes, num_classes).double()  # rows: target, cols: pred
    inter = confusion.diag()
    union = confusion.sum(0) + confusion.sum(1) - inter
    return torch.where(union > 0, inter / union.clamp_min(1), torch.nan)


def mean_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> float:
    """Mean over classes (background included) of the IoU, skipping absent classes."""
    iou = iou_per_class(pred, target, num_classes)
    present = ~torch.isnan(iou)
    if not present.any():
        raise ValueError("pred and target are empty: no class to score")
    return float(iou[present].mean())


def boundary_band(target: torch.Tensor, width: int = 1) -> torch.Tensor:
    """Boolean mask of the pixels within ``width`` pixels (chessboard distance) of a pixel
    with another label. ``target``: integer labels of shape (H, W) or (N, H, W)."""
    if not torch.is_tensor(target) or target.is_floating_point():
        raise TypeError("target must be an integer tensor of shape (H, W) or (N, H, W)")
    if target.dim() not in (2, 3):
        raise ValueError(f"target must be an integer tensor of shape (H, W) or (N, H, W), "
                         f"got shape {tuple(target.shape)}")
    width = checks.integer(width, "width")
    t = target.float()[None] if target.dim() == 2 else target.float()
    t = t[:, None]
    k = 2 * width + 1
    hi = F.max_pool2d(F.pad(t, (width,) * 4, mode="replicate"), k, stride=1)
    lo = -F.max_pool2d(F.pad(-t, (width,) * 4, mode="replicate"), k, stride=1)
    band = (hi != lo)[:, 0]
    return band[0] if target.dim() == 2 else band


def foreground_iou(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
                   ) -> float:
    """IoU of "some shape" (label > 0) against the background, whatever the class.

    It scores *where* the outlines are and ignores *which* shape was named. With ``mask``
    (e.g. :func:`boundary_band`), only the pixels where ``mask`` is True count.
    """
    _check_labels(pred, target)
    if mask is not None:
        if not torch.is_tensor(mask) or mask.dtype != torch.bool:
            raise TypeError(f"mask must be a boolean tensor of shape {tuple(target.shape)}")
        if mask.shape != target.shape:
            raise ValueError(f"mask must be a boolean tensor of shape {tuple(target.shape)}, "
                             f"got {tuple(mask.shape)}")
        pred, target = pred[mask], target[mask]
    p, t = pred > 0, target > 0
    union = (p | t).sum()
    if union == 0:
        raise ValueError("pred and target hold no shape pixel: foreground IoU is undefined")
    return float((p & t).sum() / union)
