import torch

from pyro_vae.nets import MLP, MLPDecoder, MLPEncoder
from pyro_vae.nets.mlp import LOG_VAR_RANGE


def test_mlp_layers_and_batch_norm():
    net = MLP(4, (8, 8), 2, batch_norm=True)
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in net) == 2
    assert net(torch.randn(5, 4)).shape == (5, 2)


def test_mlp_encoder_decoder_roundtrip_shapes():
    enc = MLPEncoder((1, 8, 8), 3, (16,))
    dec = MLPDecoder(3, (1, 8, 8), (16,))
    loc, scale = enc(torch.rand(6, 1, 8, 8))
    assert loc.shape == (6, 3) and (scale > 0).all()
    assert dec(loc).shape == (6, 1, 8, 8)


def test_gaussian_head_scale_is_clamped():
    enc = MLPEncoder((2,), 1, ())
    with torch.no_grad():
        enc.head.linear.weight.fill_(0.0)
        enc.head.linear.bias.copy_(torch.tensor([0.0, 1e4]))
    _, scale = enc(torch.zeros(1, 2))
    assert torch.isfinite(scale).all()
    assert torch.allclose(scale, torch.exp(torch.tensor(0.5 * LOG_VAR_RANGE[1])))
