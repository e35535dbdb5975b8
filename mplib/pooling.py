"""Max pooling's worked example, Figure 7 of the notes (§2.2), in one place.

The text of the notes does not carry Figure 7's input numbers, so :data:`FIGURE7_INPUT` is a
stand-in of our own: 2×2 max pooling with stride 2 turns it into the notes' output
[[6, 8], [4, 8]], with each maximum where Figure 10 (§3.1, max unpooling) puts it back.
Everything else (that output, the positions of the maxima) is derived from it with
``F.max_pool2d(..., return_indices=True)``: figures.py, the upsampling explorer and notebooks
02 and 03 all use this one tensor.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

FIGURE7_INPUT = torch.tensor([[1.0, 3.0, 2.0, 1.0],
                              [2.0, 6.0, 5.0, 8.0],
                              [3.0, 1.0, 8.0, 7.0],
                              [4.0, 2.0, 0.0, 6.0]])


def figure7_pooling() -> tuple[torch.Tensor, torch.Tensor]:
    """(pooled, indices) of Figure 7: 2×2 max pooling with stride 2 of :data:`FIGURE7_INPUT`.

    ``indices`` are flat positions i* W + j* into the 4×4 input, as ``F.max_pool2d`` returns
    them (and as ``F.max_unpool2d`` and :func:`mplib.upsampling.max_unpool` take them).
    Fresh tensors each call, so a caller may change them.
    """
    pooled, indices = F.max_pool2d(FIGURE7_INPUT[None, None], 2, stride=2, return_indices=True)
    return pooled[0, 0], indices[0, 0]
