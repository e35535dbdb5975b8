"""mplib.pooling: the one copy of Figure 7's stand-in input, and what is derived from it."""

import torch
import torch.nn.functional as F

from mplib import upsampling
from mplib.pooling import FIGURE7_INPUT, figure7_pooling


def test_the_stand_in_gives_the_notes_output_and_figure_10s_positions():
    pooled, indices = figure7_pooling()
    assert pooled.tolist() == [[6.0, 8.0], [4.0, 8.0]]  # the output the notes print
    # Figure 10 puts 6, 8, 4, 8 back at (1, 1), (1, 3), (3, 0) and (2, 2) of the 4x4 map
    rows, cols = indices // 4, indices % 4
    assert list(zip(rows.flatten().tolist(), cols.flatten().tolist())) == [
        (1, 1), (1, 3), (3, 0), (2, 2)]


def test_each_window_has_a_single_maximum():
    # no ties, so the positions do not depend on how max_pool2d breaks them
    windows = FIGURE7_INPUT.reshape(2, 2, 2, 2).permute(0, 2, 1, 3).reshape(4, 4)
    top = windows.max(1).values
    assert ((windows == top[:, None]).sum(1) == 1).all()


def test_derived_tensors_are_fresh_and_match_unpooling():
    pooled, indices = figure7_pooling()
    pooled += 100  # a caller's change does not reach the next caller
    again, _ = figure7_pooling()
    assert again.max() == 8
    torch.testing.assert_close(upsampling.max_unpool(again, indices, 2),
                               F.max_unpool2d(again[None, None], indices[None, None], 2)[0, 0])
    # the upsampling explorer's Figures 8-10 input is this pooled output, with its positions
    torch.testing.assert_close(upsampling.FIGURE_INPUT, again)
    torch.testing.assert_close(upsampling.FIGURE_INDICES, indices)
