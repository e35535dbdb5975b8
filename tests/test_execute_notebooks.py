"""tools/execute_notebooks.keep_ids: a re-executed notebook keeps the cell ids of the one it
replaces wherever a cell is unchanged, so its diff shows only what changed."""

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from execute_notebooks import keep_ids  # noqa: E402


def _nb(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else
                nbformat.v4.new_code_cell(src) for kind, src in cells]
    return nb


def test_unchanged_cells_keep_their_ids_and_edited_or_new_cells_do_not():
    old = _nb([("md", "# Title"), ("code", "x = 1"), ("code", "print(x)"), ("code", "x = 1")])
    new = _nb([("md", "# Title"), ("code", "y = 2"), ("code", "x = 1"), ("code", "print(x)"),
               ("code", "x = 1"), ("code", "x = 1"), ("md", "print(x)")])
    fresh = [c.id for c in new.cells]
    keep_ids(new, old)
    got = [c.id for c in new.cells]
    o = [c.id for c in old.cells]
    # Same source and type: the old ids, in order (the two "x = 1" cells take both old ids).
    assert got[0] == o[0] and got[2] == o[1] and got[3] == o[2] and got[4] == o[3]
    # An inserted cell, a third "x = 1" and a markdown cell with a code cell's text stay new.
    assert got[1] == fresh[1] and got[5] == fresh[5] and got[6] == fresh[6]
    assert len(set(got)) == len(got)
    nbformat.validate(new)
