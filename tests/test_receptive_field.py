"""mplib.receptive_field (§2.2): the recurrence against autograd, and the widget headlessly."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from mplib.receptive_field import (Layer, build_stack, input_gradient, input_window,
                                   layers_from_module, output_size, receptive_field, stack)


@st.composite
def layer_stacks(draw, padded=False):
    """Random stacks; padded ones keep stride and dilation 1 so every input window is contiguous
    (then clipping it at the border keeps its bounding box exact)."""
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        if padded:
            layers.append(Layer(draw(st.integers(1, 4)), padding=draw(st.integers(0, 2))))
        elif draw(st.booleans()):
            p = draw(st.integers(2, 3))
            layers.append(Layer(p, p, kind="maxpool"))
        else:
            layers.append(Layer(draw(st.integers(1, 4)), draw(st.integers(1, 3)),
                                draw(st.integers(1, 3))))
    return layers


def _exact_box(layers, n, u):
    """Walk unit u back layer by layer, clipping to each layer's extent (padding is not input):
    the first and one-past-last input pixel it reaches along one axis, or (None, None)."""
    sizes = output_size(layers, n)
    lo = hi = u
    for layer, size in zip(reversed(layers), reversed(sizes[:-1])):
        lo = max(lo * layer.stride - layer.padding, 0)
        hi = min(hi * layer.stride - layer.padding + layer.effective_kernel - 1, size - 1)
        if lo > hi:
            return None, None
    return lo, hi + 1


def _box(mask):
    rows, cols = np.nonzero(mask)
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1


@settings(max_examples=40, deadline=None)
@given(st.booleans().flatmap(layer_stacks), st.data())
def test_recurrence_matches_autograd_input_window(layers, data):
    n = 40
    try:
        sizes = output_size(layers, n)
    except ValueError:
        return
    i = data.draw(st.integers(0, sizes[-1] - 1))
    j = data.draw(st.integers(0, sizes[-1] - 1))
    model = build_stack(layers, channels=1, probe=True).double()
    grad = input_gradient(model, torch.ones(1, 1, n, n, dtype=torch.float64), (i, j))
    rows, cols = input_window(layers, (i, j))
    expected = _exact_box(layers, n, i) + _exact_box(layers, n, j)
    if None in expected:  # the unit sees only padding
        assert grad.abs().max() == 0
    else:
        assert _box(grad.numpy() > 0) == expected
    if all(layer.padding == 0 for layer in layers):  # nothing clipped: exactly the recurrence
        assert expected == (rows.start, rows.stop, cols.start, cols.stop)
    # the size itself: r_ℓ = r_{ℓ−1} + (k̂_ℓ − 1)·Π_{i<ℓ} s_i
    r, J = 1, 1
    for layer in layers:
        r, J = r + (layer.effective_kernel - 1) * J, J * layer.stride
    assert receptive_field(layers)[-1].size == r and rows.stop - rows.start == r


def test_known_values():
    # three 3x3 convolutions: 7x7 (the VGG argument); with a 2x2 pooling in between it grows
    assert receptive_field(stack([3, 3, 3]))[-1].size == 7
    assert [rf.size for rf in receptive_field(stack([3, 3], pools=[2, 1]))] == [1, 3, 4, 8]
    # dilations 1, 2, 4 with kernel 2: 2^L (WaveNet, §6.5)
    assert receptive_field(stack([2, 2, 2], dilations=[1, 2, 4]))[-1].size == 8
    assert output_size(stack([5, 5], pools=[2, 2]), 28) == [28, 24, 12, 8, 4]


def test_layers_from_module():
    net = nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(4, 8, 3, stride=2, padding=1, dilation=2), nn.BatchNorm2d(8),
                        nn.Flatten(), nn.Linear(8, 2))
    assert layers_from_module(net) == [Layer(5), Layer(2, 2, kind="maxpool"), Layer(3, 2, 2, 1)]
    with pytest.raises(ValueError, match="square"):
        layers_from_module(nn.Sequential(nn.Conv2d(1, 1, (3, 5))))
    with pytest.raises(ValueError, match="Linear"):
        layers_from_module(nn.Sequential(nn.Linear(3, 3)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="stride"):
        Layer(3, 0)
    with pytest.raises(TypeError, match="kernel"):
        Layer(2.5)
    with pytest.raises(ValueError, match="kind"):
        Layer(3, kind="pool")
    with pytest.raises(ValueError, match="strides"):
        stack([3, 3], strides=[1])
    with pytest.raises(ValueError, match="layer 2"):
        output_size(stack([5, 5, 5], strides=[2, 2, 1]), 12)
    with pytest.raises(ValueError, match="unit"):
        input_gradient(build_stack(stack([3])), torch.rand(1, 1, 5, 5), (3, 0))
    with pytest.raises(ValueError, match="images"):
        input_gradient(build_stack(stack([3])), torch.rand(5, 5), (0, 0))
    with pytest.raises(TypeError, match="images must be a tensor"):
        input_gradient(build_stack(stack([3])), [[0.0]], (0, 0))
    with pytest.raises(ValueError, match=r"kind must be one of \('conv', 'maxpool', 'avgpool'\)"):
        Layer(3, kind="pool")
    with pytest.raises(TypeError, match="padding must be an integer"):
        Layer(3, padding=True)
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        Layer(3, padding=-1)
    with pytest.raises(TypeError, match="pool must be an integer"):
        stack([3], pools=[2.0])
    with pytest.raises(TypeError, match="channels must be an integer"):
        build_stack(stack([3]), channels=4.0)
    with pytest.raises(TypeError, match="input size n must be an integer"):
        output_size(stack([3]), "12")
    assert type(Layer(np.int64(3)).kernel) is int


def test_random_stack_gradient_stays_inside_input_window():
    layers = stack([3, 3], strides=[2, 1], dilations=[1, 2], pools=[2, 1])
    model = build_stack(layers, channels=4, seed=1)
    grad = input_gradient(model, torch.rand(8, 1, 28, 28), (1, 1))
    rows, cols = input_window(layers, (1, 1))
    outside = grad.clone()
    outside[max(rows.start, 0):rows.stop, max(cols.start, 0):cols.stop] = 0
    assert grad.sum() > 0 and outside.abs().max() == 0


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 5),
                         nn.ReLU(), nn.MaxPool2d(2))


def test_widget_updates_and_reports_bad_settings():
    from mplib.widgets.receptive_field import ReceptiveFieldWidget

    torch.manual_seed(0)
    images = torch.rand(4, 1, 28, 28)
    w = ReceptiveFieldWidget(trained=_cnn(), untrained=_cnn(), images=images)
    row, column = w.controls["row"], w.controls["column"]
    assert type(row).__name__ == type(column).__name__ == "IntSlider"
    assert (row.description, column.description) == ("unit row", "unit col")
    assert row.max == column.max == 3                         # 28 -> 24 -> 12 -> 8 -> 4
    labels = set()
    for value in range(row.max + 1):                          # every step moves the unit
        row.value = value
        assert w.error is None
        labels.add(w.axes[0].get_xlabel())
    assert len(labels) == row.max + 1
    w.controls["pool1"].value = 1                             # 28 -> 24 -> 20 -> 10: max follows
    assert row.max == column.max == 9 and w.error is None
    row.value = 9
    w.controls["pool2"].value = 1                             # 28 -> 24 -> 20: max 19
    assert row.max == 19 and row.value == 9
    w.controls["pool1"].value = 3                             # 28 -> 24 -> 8 -> 4: clamped
    assert row.max == 3 and row.value == 3 and w.error is None
    assert "(3, 2) of 4x4" in w.axes[0].get_xlabel()
    w.controls["pool1"].value = w.controls["pool2"].value = 2  # back to the default stack
    w.controls["layers"].value = 4
    for name in ("k1", "k2", "k3", "k4"):
        w.controls[name].value = 7
    assert isinstance(w.error, ValueError) and "layer" in w.message.value
    w.controls["layers"].value = 2
    assert w.error is None
    w.controls["d1"].value = 2
    assert w.error is None and "r = " in w.title.get_text()


def test_widget_needs_one_channel_image_tensors():
    from mplib.widgets.receptive_field import ReceptiveFieldWidget

    with pytest.raises(TypeError, match="images must be a tensor"):
        ReceptiveFieldWidget(trained=_cnn(), untrained=_cnn(), images=[[0.0]])
    with pytest.raises(ValueError, match=r"images must be a tensor of shape \(N, 1, H, W\), got"):
        ReceptiveFieldWidget(trained=_cnn(), untrained=_cnn(), images=torch.rand(2, 3, 28, 28))
