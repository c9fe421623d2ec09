import pytest
import torch

from pyro_vae.nets import Conv28Decoder, Conv28Encoder, Conv64Decoder, Conv64Encoder
from pyro_vae.nets.conv import BETA_VAE_PAPER_KERNEL_SIZES


@pytest.mark.parametrize("image_size", [64, 96])
@pytest.mark.parametrize("channels", [1, 3])
def test_conv64_shapes(image_size, channels):
    enc = Conv64Encoder(7, channels, image_size)
    dec = Conv64Decoder(7, channels, image_size)
    x = torch.rand(5, channels, image_size, image_size)
    loc, scale = enc(x)
    assert loc.shape == scale.shape == (5, 7)
    assert (scale > 0).all()
    assert dec(loc).shape == x.shape


def test_conv64_matches_disentanglement_lib_layout():
    enc = Conv64Encoder(10)
    convs = [m for m in enc.conv if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 64]
    assert [c.kernel_size[0] for c in convs] == [4, 4, 2, 2]
    assert all(c.stride == (2, 2) for c in convs)
    assert enc.fc[0].in_features == 1024 and enc.fc[0].out_features == 256
    paper = Conv64Encoder(10, kernel_sizes=BETA_VAE_PAPER_KERNEL_SIZES)
    assert [c.kernel_size[0] for c in paper.conv if isinstance(c, torch.nn.Conv2d)] == [4] * 4
    assert paper(torch.rand(2, 1, 64, 64))[0].shape == (2, 10)


def test_conv64_rejects_bad_image_size():
    with pytest.raises(ValueError, match="divisible by 16"):
        Conv64Encoder(10, image_size=60)


def test_decoder_accepts_extra_batch_dims():
    dec = Conv64Decoder(4)
    assert dec(torch.randn(3, 2, 4)).shape == (3, 2, 1, 64, 64)


def test_conv28_shapes_and_context():
    enc = Conv28Encoder(6, context_dim=3)
    x = torch.rand(4, 1, 28, 28)
    loc, scale = enc(x, torch.randn(4, 3))
    assert loc.shape == (4, 6)
    assert Conv28Decoder(6)(loc).shape == x.shape
    with pytest.raises(ValueError, match="context"):
        enc(x)
