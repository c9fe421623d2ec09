"""Plain :mod:`torch.nn` building blocks (no Pyro inside).

Encoders map an observation to ``(loc, scale)`` of a diagonal Gaussian;
decoders map a latent code to the parameters of the observation model
(logits or a location), with the same shape as the observation.
"""

from pyro_vae.nets.conv import Conv28Decoder, Conv28Encoder, Conv64Decoder, Conv64Encoder
from pyro_vae.nets.mlp import MLP, GaussianHead, MLPDecoder, MLPEncoder

__all__ = [
    "Conv64Encoder",
    "Conv64Decoder",
    "Conv28Encoder",
    "Conv28Decoder",
    "MLP",
    "MLPEncoder",
    "MLPDecoder",
    "GaussianHead",
]
