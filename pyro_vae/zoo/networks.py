"""Default encoder/decoder for an observation shape."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from pyro_vae.nets import (
    Conv28Decoder,
    Conv28Encoder,
    Conv64Decoder,
    Conv64Encoder,
    MLPDecoder,
    MLPEncoder,
)


def default_networks(
    observation_shape: Sequence[int], latent_dim: int, context_dim: int = 0
) -> tuple[nn.Module, nn.Module]:
    """Pick the encoder/decoder pair for ``observation_shape``.

    * ``(C, S, S)`` with ``S`` divisible by 16: disentanglement_lib's conv64 pair;
    * ``(C, 28, 28)``: the 28x28 conv pair;
    * anything else: an MLP pair with two hidden layers of 256 units.
    """
    shape = tuple(observation_shape)
    if len(shape) == 3 and shape[1] == shape[2] and shape[1] % 16 == 0:
        channels, size = shape[0], shape[1]
        encoder = Conv64Encoder(latent_dim, channels, size, context_dim=context_dim)
        return encoder, Conv64Decoder(latent_dim, channels, size)
    if len(shape) == 3 and shape[1:] == (28, 28):
        encoder = Conv28Encoder(latent_dim, shape[0], context_dim=context_dim)
        return encoder, Conv28Decoder(latent_dim, shape[0])
    return MLPEncoder(shape, latent_dim, context_dim=context_dim), MLPDecoder(latent_dim, shape)
