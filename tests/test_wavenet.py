"""§6.5 WaveNet: μ-law round trip, causality, receptive field 2^L, path, widget."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mplib.wavenet import (CausalConv1d, CausalStack, WaveNet, dilated_receptive_field,
                           dilation_path, dilations, mu_law_decode, mu_law_encode,
                           output_changes, receptive_field_autograd, synthetic_waveform)
from mplib.widgets.dilation import DilationWidget


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=50))
def test_mu_law_round_trip(xs):
    x = torch.tensor(xs, dtype=torch.float32)
    q = mu_law_encode(x)
    assert q.dtype == torch.int64 and q.min() >= 0 and q.max() <= 255
    err = (mu_law_decode(q) - x).abs()
    # half a quantisation step of F, times dx/dF = ln(1 + μ)(1/μ + |x|)
    bound = 1.1 * math.log(256) * (1 / 255 + x.abs()) / 255 + 1e-6
    assert (err <= bound).all()


def test_mu_law_ends_and_errors():
    assert mu_law_encode(torch.tensor([-1.0, 0.0, 1.0])).tolist() == [0, 128, 255]
    torch.testing.assert_close(mu_law_decode(torch.tensor([0, 255])), torch.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError, match="x must lie"):
        mu_law_encode(torch.tensor([1.5]))
    with pytest.raises(ValueError, match="q must"):
        mu_law_decode(torch.tensor([256]))
    with pytest.raises(ValueError, match="mu"):
        mu_law_encode(torch.tensor([0.0]), mu=0)


def test_causal_conv_matches_formula():
    torch.manual_seed(0)
    conv = CausalConv1d(1, 1, kernel_size=2, dilation=3)
    x = torch.randn(1, 1, 20)
    W, b = conv.weight[0, 0], conv.bias[0]
    xp = torch.nn.functional.pad(x[0, 0], (3, 0))
    expected = b + W[1] * xp[3:] + W[0] * xp[:-3]
    torch.testing.assert_close(conv(x)[0, 0], expected)


@pytest.mark.parametrize("L", [1, 2, 3, 4, 5, 6, 7])
def test_receptive_field_is_two_to_the_L(L):
    d = dilations(L)
    assert dilated_receptive_field(d) == 2 ** L
    torch.manual_seed(L)
    assert receptive_field_autograd(CausalStack(d), T=300) == 2 ** L
    assert dilated_receptive_field(dilations(L, "ones")) == L + 1
    assert receptive_field_autograd(CausalStack(dilations(L, "ones"))) == L + 1


def test_wavenet_is_causal_and_has_its_receptive_field():
    torch.manual_seed(0)
    net = WaveNet(channels=8, layers=4)
    h = torch.randn(1, 8, 40, requires_grad=True)
    net.features(h)[0, :, 30].sum().backward()
    seen = np.flatnonzero(h.grad[0].abs().sum(0).numpy())
    assert seen.tolist() == list(range(31 - 16, 31))
    x = torch.randint(0, 256, (2, 50))
    assert net(x).shape == (2, 256, 50)
    assert net.loss(x).ndim == 0
    s = net.sample(5, x[:, :10], generator=torch.Generator().manual_seed(0))
    assert s.shape == (2, 5) and s.min() >= 0 and s.max() < 256
    with pytest.raises(TypeError, match="integer"):
        net(torch.zeros(2, 50))


@settings(max_examples=30, deadline=None)
@given(L=st.integers(1, 5), sched=st.sampled_from(["doubling", "ones"]), t=st.integers(0, 63))
def test_dilation_path_matches_receptive_field(L, sched, t):
    active, edges = dilation_path(L, sched, t, 64)
    rf = dilated_receptive_field(dilations(L, sched))
    assert np.flatnonzero(active[0]).tolist() == list(range(max(0, t - rf + 1), t + 1))
    assert all(a[0] + 1 == b[0] and a[1] <= b[1] for a, b in edges)


def test_synthetic_waveform():
    w = synthetic_waveform(4, 100, seed=0)
    assert w.shape == (4, 100) and w.abs().max() <= 1
    torch.testing.assert_close(w, synthetic_waveform(4, 100, seed=0))
    with pytest.raises(ValueError, match="periods"):
        synthetic_waveform(4, 100, periods=())


def test_dilation_widget_draws_the_paths():
    w = DilationWidget()
    w.controls["layers"].value = 5
    assert w.error is None
    assert len(w.lines.get_segments()) > 0
    w.controls["schedule"].value = "ones"
    assert w.error is None


def test_full_mode_size_constructs():
    net = WaveNet(channels=64, layers=6)  # the notebook's full mode
    assert net.receptive_field == 64
    assert net(torch.randint(0, 256, (2, 192))).shape == (2, 256, 192)


def test_dilation_widget_title_counts_in_the_singular():
    w = DilationWidget()
    w.controls["output"].value = 0      # output 0 sees the first input only
    assert "sees 1 input (" in w.ax.get_title()
    w.controls["output"].value = 31
    assert "sees 8 inputs (" in w.ax.get_title()


def test_causality_check_passes_a_wavenet_and_fires_on_a_leak():
    from mplib.wavenet import causality_violations, inject_future_leak, output_changes
    torch.manual_seed(0)
    net = WaveNet(channels=8, layers=4)          # receptive field 16
    x = torch.randint(0, 256, (40,))
    changes = output_changes(net, x)
    assert not causality_violations(net, x)
    t, s = np.nonzero(changes.numpy() > 1e-6)
    assert (t - s).min() == 0 and (t - s).max() == 15     # exactly the 16 steps x_{t−15..t}
    inject_future_leak(net)
    bad = causality_violations(net, x)
    assert bad and all(s == t + 1 for t, s in bad)        # output t now reads x_{t+1}
    with pytest.raises(TypeError, match="1-D integer"):
        output_changes(net, x.float())


def test_noise_floor():
    from mplib.wavenet import noise_floor
    # Far below one class width the class is certain at a class centre, and a fair coin at
    # x = 0, which is the edge between classes 127 and 128 (μ = 255 is odd).
    centre = mu_law_decode(torch.tensor([128, 200]))
    assert noise_floor(centre, 1e-6) == pytest.approx(0.0, abs=1e-9)
    assert noise_floor(torch.zeros(10), 1e-6) == pytest.approx(math.log(2), abs=1e-6)
    # More noise, more entropy.
    assert noise_floor(centre, 0.001) < noise_floor(centre, 0.01) < noise_floor(centre, 0.1)
    # Monte Carlo agrees on the notebook's tones.
    clean = synthetic_waveform(4, 64, noise=0.0, seed=3)
    g = torch.Generator().manual_seed(0)
    q = mu_law_encode((clean + 0.01 * torch.randn(2000, *clean.shape, generator=g)).clamp(-1, 1))
    p = torch.stack([torch.bincount(col, minlength=256) for col in q.reshape(2000, -1).T]) / 2000
    mc = float(-(p * p.clamp_min(1e-12).log()).sum(1).mean())
    assert noise_floor(clean, 0.01) == pytest.approx(mc, abs=0.02)
    with pytest.raises(ValueError, match="noise"):
        noise_floor(clean, 0.0)


@pytest.mark.parametrize("call, error, match", [
    # a wrong type is a TypeError, a right-typed value out of range a ValueError
    (lambda: mu_law_encode(torch.tensor([0.0]), mu=255.0), TypeError, "mu must be an integer"),
    (lambda: CausalConv1d(1, 1, kernel_size=2, dilation=0), ValueError, "dilation"),
    (lambda: dilations(3, "halving"), ValueError, "schedule must be one of"),
    (lambda: dilations(True), TypeError, "layers must be an integer"),
    (lambda: dilation_path(3, "doubling", 1.0, 16), TypeError, "output must be an integer"),
    (lambda: dilation_path(3, "doubling", 16, 16), ValueError, "output must be an integer in"),
    (lambda: dilation_path(3, "doubling", 8, 16, kernel_size=2.0), TypeError, "kernel_size"),
    (lambda: WaveNet(num_classes=1), ValueError, "num_classes"),
    (lambda: WaveNet(8, 4, 2).sample(3, [[1, 2]]), TypeError, "prime"),
    (lambda: WaveNet(8, 4, 2).sample(3, torch.zeros(2, 0, dtype=torch.long)), ValueError,
     "prime"),
    (lambda: WaveNet(8, 4, 2).sample(3, torch.zeros(1, 2, dtype=torch.long), temperature=0),
     ValueError, "temperature"),
    (lambda: synthetic_waveform(2, 50, periods=(16, "24")), TypeError, "periods"),
    (lambda: synthetic_waveform(2, 50, periods=(16, 1)), ValueError, "periods"),
    (lambda: synthetic_waveform(2, 50, noise=-0.1), ValueError, "noise"),
    (lambda: synthetic_waveform(2, 1), ValueError, "length"),
])
def test_bad_arguments_raise_the_right_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_shapes_of_integer_inputs_are_values():
    # the right type (an integer tensor) of the wrong shape is a ValueError
    net = WaveNet(8, 4, 2)
    with pytest.raises(ValueError, match=r"x must have shape \(N, T\)"):
        net(torch.zeros(2, 3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="x must be 1-D"):
        output_changes(net, torch.zeros(2, 5, dtype=torch.long))
