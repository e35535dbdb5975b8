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
    with pytest.raises(ValueError, match="num_classes"):
        UNet(1, 0)
    with pytest.raises(ValueError, match="in_ch"):
        UNet(True, 3)
    with pytest.raises(ValueError, match="channels"):
        UNet(1, 3, channels=(16,))
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
