"""Small hand-set models with known answers for the analysis tests.

* :func:`linear_vae`: a VAE whose encoder is ``loc = gain * x``, ``scale =
  scales`` (fixed), whose decoder is the identity (observation = code) and a
  Gaussian likelihood, so the KL per dimension has a closed form and the
  decoded image *is* the code.
* :class:`TwoLayer`: a two-layer linear-Gaussian hierarchy with sites
  ``z2`` (top) and ``z1``, standing in for the Ladder VAE (branch ``ladder``).
* :class:`Concepts`: a code ``z`` of shape ``(concepts, concept_dim)`` and a
  global adjacency-like site ``A`` outside the data plate, standing in for
  CausalVAE (branch ``causal``).
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
from torch import nn

from pyro_vae.likelihoods import Gaussian
from pyro_vae.models import VAE, LatentVariableModel


class FixedLinearEncoder(nn.Module):
    """``x -> (gain * x.flatten(1), scales)``."""

    def __init__(self, gains, scales) -> None:
        super().__init__()
        self.register_buffer("gains", torch.as_tensor(gains, dtype=torch.float32))
        self.register_buffer("scales", torch.as_tensor(scales, dtype=torch.float32))
        self.dummy = nn.Parameter(torch.zeros(()))  # a parameter, so the model has a device

    def forward(self, x):
        loc = self.gains * x.flatten(1)
        return loc, self.scales.expand_as(loc)


class IdentityDecoder(nn.Module):
    """The code, reshaped to the image ``(1, 2, 2)``."""

    def forward(self, z):
        return z.reshape(*z.shape[:-1], 1, 2, 2)


def linear_vae(gains=(0.0, 0.5, 1.0, 2.0), scales=(1.0, 0.2, 0.6, 0.05)) -> VAE:
    """A 4-latent VAE on ``(1, 2, 2)`` images with closed-form KL per dimension."""
    return VAE(
        FixedLinearEncoder(gains, scales),
        IdentityDecoder(),
        (1, 2, 2),
        4,
        likelihood=Gaussian(1.0),
    )


def gaussian_kl_to_standard(loc, scale):
    """KL(N(loc, scale^2) || N(0, 1)) element-wise."""
    var = scale**2
    return 0.5 * (var + loc**2 - 1.0 - var.log())


class TwoLayer(LatentVariableModel):
    """p(z2) = N(0, I_2); p(z1 | z2) = N(W z2, 0.5^2 I_3); p(x | z1) = N(V z1, I_4).

    Guide (both from x): q(z1 | x) = N(E1 x, s1^2), q(z2 | x) = N(E2 x, s2^2).
    """

    def __init__(self, s2: float = 0.3) -> None:
        super().__init__((4,), Gaussian(1.0))
        g = torch.Generator().manual_seed(0)
        self.register_buffer("W", torch.randn(3, 2, generator=g))
        self.register_buffer("V", torch.randn(4, 3, generator=g))
        self.register_buffer("E1", torch.randn(3, 4, generator=g) * 0.5)
        self.register_buffer("E2", torch.randn(2, 4, generator=g) * 0.5)
        self.register_buffer("s1", torch.tensor([0.5, 0.8, 0.3]))
        self.register_buffer("s2", torch.full((2,), float(s2)))
        self.dummy = nn.Parameter(torch.zeros(()))

    def model(self, x=None, u=None, *, batch_size=None, dataset_size=None):
        self.register()
        n = self.batch_size_of(x, batch_size)
        with self.plate(n, dataset_size):
            z2 = pyro.sample("z2", dist.Normal(torch.zeros(2), 1.0).to_event(1))
            z1 = pyro.sample("z1", dist.Normal(z2 @ self.W.T, 0.5).to_event(1))
            pyro.sample("x", self.likelihood(z1 @ self.V.T, 1), obs=x)

    def guide(self, x, u=None, *, batch_size=None, dataset_size=None):
        self.register()
        n = self.batch_size_of(x, batch_size)
        with self.plate(n, dataset_size):
            pyro.sample("z1", dist.Normal(x @ self.E1.T, self.s1).to_event(1))
            pyro.sample("z2", dist.Normal(x @ self.E2.T, self.s2).to_event(1))


class Concepts(LatentVariableModel):
    """A global ``A`` (3 x 3) and local concepts ``z`` (3 x 2); ``x = z.flatten() + mean(A)``."""

    def __init__(self) -> None:
        super().__init__((6,), Gaussian(1.0))
        self.register_buffer("A_loc", torch.full((3, 3), 0.25))
        self.dummy = nn.Parameter(torch.zeros(()))

    def model(self, x=None, u=None, *, batch_size=None, dataset_size=None):
        self.register()
        n = self.batch_size_of(x, batch_size)
        A = pyro.sample("A", dist.Normal(torch.zeros(3, 3), 1.0).to_event(2))
        with self.plate(n, dataset_size):
            z = pyro.sample("z", dist.Normal(torch.zeros(3, 2), 1.0).to_event(2))
            loc = z.flatten(-2) + A.mean((-2, -1), keepdim=True)
            pyro.sample("x", self.likelihood(loc, 1), obs=x)

    def guide(self, x, u=None, *, batch_size=None, dataset_size=None):
        self.register()
        n = self.batch_size_of(x, batch_size)
        pyro.sample("A", dist.Normal(self.A_loc, 0.1).to_event(2))
        with self.plate(n, dataset_size):
            loc = x.reshape(n, 3, 2) * 0.5
            pyro.sample("z", dist.Normal(loc, 0.4).to_event(2))
