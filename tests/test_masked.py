"""MaskedLinear and the MADE degrees and masks (§6.1, §6.3)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mplib.masked import (MaskedLinear, connectivity, effective_parameters, made_degrees,
                          made_layout, made_masks, random_ordering, triangular_mask)


def test_masked_linear_respects_mask():
    torch.manual_seed(0)
    mask = (torch.rand(4, 5) > 0.5).float()
    layer = MaskedLinear(5, 4, mask)
    x = torch.randn(3, 5, requires_grad=True)
    y = layer(x)
    torch.testing.assert_close(y, x @ (layer.weight * mask).T + layer.bias)
    y.sum().backward()
    # masked-out weights get exactly zero gradient; the Jacobian dy_i/dx_j is W_ij M_ij
    assert bool((layer.weight.grad[mask == 0] == 0).all())
    J = torch.autograd.functional.jacobian(layer, torch.randn(5))
    assert bool((J[mask == 0] == 0).all())
    assert isinstance(layer, torch.nn.Linear)
    assert "mask" in dict(layer.named_buffers())


def test_masked_linear_validates():
    with pytest.raises(ValueError, match="mask must have shape"):
        MaskedLinear(3, 2, torch.ones(3, 2))
    with pytest.raises(ValueError, match="0s and 1s"):
        MaskedLinear(2, 2, torch.full((2, 2), 0.5))
    layer = MaskedLinear(2, 2, torch.ones(2, 2))
    layer.set_mask(torch.eye(2))
    torch.testing.assert_close(layer.mask, torch.eye(2))
    with pytest.raises(ValueError, match="mask must have shape"):
        layer.set_mask(torch.ones(3, 3))


def test_triangular_mask_and_effective_parameters():
    M = triangular_mask(4)
    assert M.tolist() == [[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]]
    assert effective_parameters(MaskedLinear(4, 4, M)) == 6 + 4
    assert effective_parameters(torch.nn.Linear(3, 2)) == 8
    with pytest.raises(ValueError, match="n must"):
        triangular_mask(0)
    with pytest.raises(TypeError, match="module"):
        effective_parameters("not a module")


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 9), hidden=st.lists(st.integers(1, 12), min_size=1, max_size=3),
       seed=st.integers(0, 10_000), random_order=st.booleans())
def test_made_masks_match_the_definition(n, hidden, seed, random_order):
    degrees = made_degrees(n, hidden, ordering="random" if random_order else None, seed=seed)
    assert sorted(degrees[0].tolist()) == list(range(1, n + 1))
    for m, h in zip(degrees[1:], hidden):
        assert len(m) == h and int(m.min()) >= 1 and int(m.max()) <= n - 1
    masks = made_masks(degrees)
    assert len(masks) == len(hidden) + 1
    for ell in range(1, len(degrees)):  # M^W(ℓ)_ij = 1{m^(ℓ-1)(j) <= m^(ℓ)(i)}
        M = masks[ell - 1]
        assert M.shape == (len(degrees[ell]), len(degrees[ell - 1]))
        for i in range(M.shape[0]):
            for j in range(M.shape[1]):
                assert M[i, j] == float(degrees[ell - 1][j] <= degrees[ell][i])
    MV = masks[-1]  # M^V_ij = 1{m^(L)(j) < m^(0)(i)}
    assert MV.shape == (n, hidden[-1])
    for i in range(n):
        for j in range(hidden[-1]):
            assert MV[i, j] == float(degrees[-1][j] < degrees[0][i])
    # the mask product: output i reaches input j only if j comes before i in the ordering
    C = connectivity(masks)
    m0 = degrees[0]
    assert bool((C[m0[None, :] >= m0[:, None]] == 0).all())


def test_made_degrees_validation_and_determinism():
    a, b = made_degrees(5, [8, 8], seed=3), made_degrees(5, [8, 8], seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert made_degrees(3, 4, ordering=[3, 1, 2])[0].tolist() == [3, 1, 2]
    with pytest.raises(ValueError, match="n must"):
        made_degrees(1, [4])
    with pytest.raises(ValueError, match="hidden"):
        made_degrees(4, [])
    with pytest.raises(ValueError, match="ordering"):
        made_degrees(3, [4], ordering=[1, 1, 2])
    with pytest.raises(ValueError, match="ordering"):
        made_degrees(3, [4], ordering="backwards")
    with pytest.raises(ValueError, match="degrees"):
        made_masks([torch.arange(1, 4)])


def test_made_widget_compute_and_view():
    from mplib.masked import check_autoregressive, made_layout
    from mplib.widgets.made import MadeWidget

    layout = made_layout(3, 4, 2, seed=0, ordering="figure")
    assert layout["degrees"][0].tolist() == [3, 1, 2]
    assert check_autoregressive(layout["degrees"], layout["masks"])[0]
    wrong = made_layout(3, 4, 2, seed=0, ordering="figure", output_rule="<=")
    ok, text = check_autoregressive(wrong["degrees"], wrong["masks"])
    assert not ok and "NOT autoregressive" in text
    with pytest.raises(ValueError, match="n = 3"):
        made_layout(4, 4, 2, ordering="figure")
    with pytest.raises(ValueError, match="Figure 15's degrees need"):
        made_layout(3, 5, 2, ordering="figure", hidden_degrees="figure")
    with pytest.raises(ValueError, match="hidden_degrees"):
        made_layout(3, 4, 2, hidden_degrees="paper")

    w = MadeWidget()
    first = w.image.value
    assert isinstance(w.controls["seed"], __import__("ipywidgets").IntSlider)
    assert list(w.controls)[:2] == ["seed", "degrees"]   # the seed is the main slider
    assert w.resample in w.box.children[1].children      # the extra row below the controls
    # the default is the figure itself: every output but the first in the ordering connected
    assert w.controls["degrees"].value == "Figure 15's own"
    assert w.lost.get_text().startswith("✓")
    renders = w.renders
    w.controls["seed"].value = 75         # moving the seed leaves the preset, in one redraw
    assert w.controls["degrees"].value == "sampled (seed)"
    assert w.renders == renders + 1
    assert w.error is None and w.image.value != first
    w.controls["degrees"].value = "Figure 15's own"
    assert w.image.value == first
    w.resample.click()                    # resample leaves the preset, same seed
    assert w.controls["degrees"].value == "sampled (seed)" and w.controls["seed"].value == 75
    assert w.error is None and w.image.value != first
    assert w.status.get_text().startswith("✓")
    w.controls["output_rule"].value = "M^V with ≤ (wrong)"
    assert w.status.get_text().startswith("✗")
    w.resample.click()
    assert w.controls["seed"].value == 76
    w.controls["output_rule"].value = "M^V with < (notes)"
    w.controls["seed"].value = 0          # a seed whose second layer is all degree 2
    assert w.lost.get_text().startswith("⚠") and "p(x3 | x2)" in w.lost.get_text()
    w.controls["n"].value = 5
    assert isinstance(w.error, ValueError)  # Figure 15's ordering needs n = 3
    w.controls["ordering"].value = "random"
    assert w.error is None


def test_figure_15_degrees_and_unconditioned_outputs():
    from mplib.masked import figure_15_degrees, unconditioned_outputs

    degrees = figure_15_degrees()
    masks = made_masks(degrees)
    C = connectivity(masks)
    # x̂_1 (degree 3) sees x_2 and x_3, x̂_3 (degree 2) sees x_2, x̂_2 (degree 1) nothing
    assert (C > 0).int().tolist() == [[0, 1, 1], [0, 0, 0], [0, 1, 0]]
    assert unconditioned_outputs(masks) == [1]
    degenerate = [degrees[0], degrees[1], torch.tensor([2, 2, 2, 2])]
    assert unconditioned_outputs(made_masks(degenerate)) == [1, 2]


@pytest.mark.parametrize("call, error, match", [
    # a wrong type is a TypeError, a right-typed value out of range a ValueError
    (lambda: triangular_mask(2.0), TypeError, "n must be an integer"),
    (lambda: made_degrees(True, [4]), TypeError, "n must be an integer"),
    (lambda: made_degrees(4, "8"), TypeError, "hidden must be an integer"),
    (lambda: made_degrees(4, [8, 2.5]), TypeError, r"hidden \(each layer size\)"),
    (lambda: made_degrees(4, [8, 0]), ValueError, r"hidden \(each layer size\)"),
    (lambda: made_degrees(4, 0), ValueError, "hidden must be an integer >= 1"),
    (lambda: made_degrees(4, [8], ordering="random", ordering_seed=-1), ValueError,
     "ordering_seed"),
    (lambda: random_ordering(4, seed=1.0), TypeError, "seed must be an integer"),
    (lambda: made_layout(3, 4, 0), ValueError, "layers must be an integer >= 1"),
    (lambda: made_layout(3, 4, 2.0), TypeError, "layers must be an integer"),
    (lambda: made_layout(3, 4, 2, output_rule="<<"), ValueError, "output_rule must be one of"),
])
def test_bad_arguments_raise_the_right_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_made_masks_wants_a_list_of_degrees():
    with pytest.raises(TypeError, match="degrees must be a list"):
        made_masks(torch.arange(1, 4))
    with pytest.raises(ValueError, match="L >= 1"):
        made_masks([torch.arange(1, 4)])
