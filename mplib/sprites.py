"""A small dSprites-like data set with known generative factors (§5.4, β-VAE).

Each image is one white shape on a black ``size``×``size`` canvas. Four factors, each taking
a few discrete values, are drawn independently and uniformly:

    shape  square, ellipse, triangle
    scale  ``n_scales`` sizes, evenly spaced
    x, y   ``n_positions`` centre positions each, evenly spaced so the largest shape fits

``make_sprites`` returns the images and, per image, the index of each factor's value, so a
disentanglement score (``mplib.disentanglement``) can compare latents with the true factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import checks

SHAPES = ("square", "ellipse", "triangle")
FACTORS = ("shape", "scale", "x", "y")


@dataclass
class Sprites:
    """images (N, 1, size, size) float32 in {0, 1}; factors (N, 4) int64 value indices."""

    images: torch.Tensor
    factors: torch.Tensor
    values: dict            # factor name -> array of its values (shape names, radii, centres)
    names: tuple = FACTORS

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}: {len(v)}" for k, v in self.values.items())
        return f"Sprites({len(self)} images of {tuple(self.images.shape[1:])}; {sizes})"


def render(shape: str, radius: float, cx: float, cy: float, size: int = 16) -> np.ndarray:
    """One sprite: a filled shape of half-width ``radius`` centred at (cx, cy), as 0/1 pixels."""
    checks.choice(shape, "shape", SHAPES)
    radius = checks.number(radius, "radius", above=0)
    cx, cy = checks.number(cx, "cx"), checks.number(cy, "cy")
    size = checks.integer(size, "size")
    yy, xx = np.mgrid[0:size, 0:size] + 0.5          # pixel centres
    dx, dy = (xx - cx) / radius, (yy - cy) / radius
    if shape == "square":
        mask = (np.abs(dx) <= 1) & (np.abs(dy) <= 1)
    elif shape == "ellipse":
        mask = dx ** 2 + dy ** 2 <= 1.15 ** 2
    else:  # triangle pointing up: apex (0, -1), base from (-1, 1) to (1, 1)
        mask = (dy <= 1) & (dy >= -1 + 2 * np.abs(dx) - 1e-9)
    return mask.astype(np.float32)


def make_sprites(n: int = 2000, *, size: int = 16, n_scales: int = 3, n_positions: int = 7,
                 seed: int = 0) -> Sprites:
    """``n`` sprites with independently drawn factor values (seeded; same seed, same set)."""
    n = checks.integer(n, "n")
    size = checks.integer(size, "size", minimum=8)
    n_scales = checks.integer(n_scales, "n_scales")
    n_positions = checks.integer(n_positions, "n_positions")
    seed = checks.integer(seed, "seed", minimum=0)
    radii = np.linspace(0.12, 0.22, n_scales) * size if n_scales > 1 else np.array([0.17 * size])
    margin = radii.max() * 1.15 + 0.5
    # Centres on pixel corners, so that every shape is drawn symmetric about its centre.
    centres = (np.round(np.linspace(margin, size - margin, n_positions)) if n_positions > 1
               else np.array([size // 2], dtype=float))
    if len(np.unique(centres)) != n_positions:
        raise ValueError(f"n_positions={n_positions} is too many for a canvas of size {size}")
    rng = np.random.default_rng(seed)
    counts = (len(SHAPES), n_scales, n_positions, n_positions)
    factors = np.stack([rng.integers(0, c, n) for c in counts], axis=1)
    # Render each distinct combination once, then index: cheap even for many images.
    cache = {}
    images = np.empty((n, 1, size, size), dtype=np.float32)
    for i, (s, r, x, y) in enumerate(factors):
        key = (s, r, x, y)
        if key not in cache:
            cache[key] = render(SHAPES[s], radii[r], centres[x], centres[y], size)
        images[i, 0] = cache[key]
    values = {"shape": np.array(SHAPES), "scale": radii, "x": centres, "y": centres.copy()}
    return Sprites(torch.from_numpy(images), torch.from_numpy(factors.astype(np.int64)), values)
