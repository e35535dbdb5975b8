"""mplib.unet: the U-net of §3.2 with and without its copy-and-concatenate skips."""

import pytest
import torch
import torch.nn.functional as F

from mplib import segmentation, train
from mplib.unet import UNet


@pytest.mark.parametrize("skips", [True, False])
def test_output_shape_and_channels(skips):
    net = UNet(1, 4, channels=(8, 16, 32), skips=skips)
    out = net(torch.rand(2, 1, 32, 32))
    assert out.shape == (2, 4, 32, 32)
    # the decoder's first convolution sees the copy (16) plus the upsampled map (16), or only the latter
    assert net.merge[0][0].in_channels == (32 if skips else 16)


def test_skips_carry_the_encoder_features():
    """Changing the input changes the output of the first encoder block; only a network with
    the skip lets that reach the output without passing the bottleneck."""
    torch.manual_seed(0)
    net = UNet(1, 2, channels=(4, 8), skips=True).eval()
    x = torch.rand(1, 1, 8, 8, requires_grad=True)
    net(x)[0, 0, 3, 3].backward()
    assert x.grad.abs().sum() > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_classes must be an integer >= 1"):
        UNet(1, 0)
    with pytest.raises(TypeError, match="in_ch must be an integer"):
        UNet(True, 3)
    with pytest.raises(TypeError, match="num_classes must be an integer"):
        UNet(1, 3.0)
    with pytest.raises(ValueError, match="channels must hold at least two sizes"):
        UNet(1, 3, channels=(16,))
    with pytest.raises(ValueError, match=r"channels\[1\] must be an integer >= 1"):
        UNet(1, 3, channels=(16, 0))
    with pytest.raises(TypeError, match=r"channels\[0\] must be an integer"):
        UNet(1, 3, channels=(16.0, 32))
    with pytest.raises(TypeError, match="skips"):
        UNet(1, 3, skips="yes")
    with pytest.raises(ValueError, match="divisible by 4"):
        UNet(1, 3, channels=(4, 8, 16))(torch.rand(1, 1, 30, 30))


@pytest.fixture
def one_thread():
    """Tiny convolutions: a second thread only adds waiting on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_trains_with_fit_and_cross_entropy(one_thread):
    """A tiny budget: fit accepts (N, C, H, W) logits against (N, H, W) labels and the loss drops."""
    X, y = segmentation.make_shapes(32, 16, seed=0)
    net = UNet(1, 4, channels=(4, 8))
    before = F.cross_entropy(net(X), y).item()
    history = train.fit(net, (X, y), "cross_entropy", epochs=2, lr=1e-2, batch_size=16,
                        progress=False, device="cpu")
    assert history.train_loss[-1] < before


def _recorded_shapes(net, x):
    names = [("encoder 1", net.down[0]), ("encoder 2", net.down[1]), ("bottleneck", net.bottom),
             ("up 1", net.up[0]), ("decoder 1", net.merge[0]), ("up 2", net.up[1]),
             ("decoder 2", net.merge[1]), ("1x1 head", net.head)]
    shapes = []
    hooks = [m.register_forward_hook(lambda mod, i, o, n=n: shapes.append((n, tuple(o.shape))))
             for n, m in names]
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    return shapes


def test_draw_unet_writes_every_recorded_shape():
    import matplotlib
    matplotlib.use("Agg")
    from mplib.unet import draw_unet
    shapes = _recorded_shapes(UNet(1, 4, channels=(16, 32, 8)), torch.zeros(1, 1, 32, 32))
    texts = " | ".join(t.get_text() for t in draw_unet(shapes).texts)
    for name, (_, c, h, w) in shapes:
        assert f"{c} × {h} × {w}" in texts, name
    assert "copy 16 × 32 × 32" in texts and "copy 32 × 16 × 16" in texts
    assert "no copy" in " ".join(t.get_text() for t in draw_unet(shapes, skips=False).texts)
    with pytest.raises(ValueError, match="missing"):
        draw_unet(shapes[:-1])
