"""The VAE model/guide pair (Kingma & Welling 2014), the base of beta-VAE,
annealed-capacity VAE, beta-TCVAE, FactorVAE, DIP-VAE and InfoVAE, which
differ only in their objective (:mod:`pyro_vae.infer`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyro
import pyro.distributions as dist
import torch
from torch import nn

from pyro_vae.likelihoods import Likelihood
from pyro_vae.models.base import LatentVariableModel
from pyro_vae.nets import (
    Conv28Decoder,
    Conv28Encoder,
    Conv64Decoder,
    Conv64Encoder,
    MLPDecoder,
    MLPEncoder,
)
from pyro_vae.priors import LatentContext, StandardNormal


class VAE(LatentVariableModel):
    """A VAE as a Pyro model/guide pair.

    Model::

        z ~ prior(ctx)                       # any prior program, default N(0, I)
        x ~ likelihood(decoder(z))           # inside pyro.plate("data")

    Guide: ``z ~ N(encoder(x))`` (diagonal Gaussian) at the prior's latent
    site; a prior with global latent sites supplies their guide as
    ``prior.guide(ctx)``, which this guide calls.

    Example::

        >>> import torch
        >>> from pyro import poutine
        >>> from pyro_vae.models import VAE
        >>> vae = VAE.mlp((1, 4, 4), latent_dim=3, hidden_dims=(8,))
        >>> x = torch.rand(5, 1, 4, 4)
        >>> guide_trace = poutine.trace(vae.guide).get_trace(x)
        >>> model_trace = poutine.trace(poutine.replay(vae.model, trace=guide_trace)).get_trace(x)
        >>> model_trace.stochastic_nodes  # the data plate's subsample site, then the latent
        ['data', 'z']
        >>> model_trace.observation_nodes
        ['x']
        >>> model_trace.nodes["z"]["value"].shape
        torch.Size([5, 3])
        >>> model_trace.nodes["x"]["fn"].event_shape  # every pixel is in the event
        torch.Size([1, 4, 4])
        >>> model_trace.nodes["z"]["value"] is guide_trace.nodes["z"]["value"]  # replayed
        True
        >>> vae.reconstruct(x).shape
        torch.Size([5, 1, 4, 4])

    :param nn.Module encoder: ``x -> (loc, scale)`` (or ``(x, u) -> ...`` when
        it has ``context_dim > 0``).
    :param nn.Module decoder: ``z -> likelihood parameters`` of shape ``input_shape``.
    :param input_shape: shape of one observation.
    :param int latent_dim: size of the latent code.
    :param prior: a prior program (see :mod:`pyro_vae.priors.base`); default
        :class:`~pyro_vae.priors.StandardNormal`.
    :param likelihood: observation model or its name.
    :param str latent_site: the latent site the encoder's Gaussian is for.
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        input_shape: Sequence[int],
        latent_dim: int,
        prior: Callable[[LatentContext], torch.Tensor] | None = None,
        likelihood: str | Likelihood = "bernoulli",
        latent_site: str = "z",
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape, likelihood, name)
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = latent_dim
        self.prior = prior if prior is not None else StandardNormal(latent_dim, latent_site)
        self.latent_site = latent_site

    # -------------------------------------------------------------- builders
    @classmethod
    def conv64(cls, latent_dim: int = 10, channels: int = 1, image_size: int = 64, **kwargs) -> VAE:
        """A VAE with disentanglement_lib's conv64 encoder/decoder."""
        return cls(
            Conv64Encoder(latent_dim, channels, image_size),
            Conv64Decoder(latent_dim, channels, image_size),
            (channels, image_size, image_size),
            latent_dim,
            **kwargs,
        )

    @classmethod
    def conv28(cls, latent_dim: int = 10, channels: int = 1, **kwargs) -> VAE:
        """A VAE with the small 28x28 convolutional encoder/decoder."""
        return cls(
            Conv28Encoder(latent_dim, channels),
            Conv28Decoder(latent_dim, channels),
            (channels, 28, 28),
            latent_dim,
            **kwargs,
        )

    @classmethod
    def mlp(
        cls,
        input_shape: Sequence[int],
        latent_dim: int = 10,
        hidden_dims: Sequence[int] = (256, 256),
        **kwargs,
    ) -> VAE:
        """A VAE with MLP encoder/decoder for flat or small inputs."""
        return cls(
            MLPEncoder(input_shape, latent_dim, hidden_dims),
            MLPDecoder(latent_dim, input_shape, tuple(reversed(tuple(hidden_dims)))),
            input_shape,
            latent_dim,
            **kwargs,
        )

    # ------------------------------------------------------------ model/guide
    def model(
        self,
        x: torch.Tensor | None = None,
        u: torch.Tensor | None = None,
        *,
        batch_size: int | None = None,
        dataset_size: int | None = None,
    ) -> torch.Tensor:
        """p(x, z) = p(z) p(x | z); returns the decoder output (likelihood parameters)."""
        self.register()
        n = self.batch_size_of(x, batch_size)
        ctx = self.context(n, u, dataset_size, x)
        z = self.prior(ctx)
        params = self.decoder(z)
        self.observe(ctx.plate, params, x)
        return params

    def guide(
        self,
        x: torch.Tensor,
        u: torch.Tensor | None = None,
        *,
        batch_size: int | None = None,
        dataset_size: int | None = None,
    ) -> torch.Tensor:
        """q(z | x) = N(encoder(x)); returns the sampled latent."""
        self.register()
        n = self.batch_size_of(x, batch_size)
        ctx = self.context(n, u, dataset_size, x)
        prior_guide = getattr(self.prior, "guide", None)
        if prior_guide is not None:
            prior_guide(ctx)
        loc, scale = self.encode(x, u)
        with ctx.plate:
            return pyro.sample(self.latent_site, dist.Normal(loc, scale).to_event(1))

    # ------------------------------------------------------------- utilities
    def encode(
        self, x: torch.Tensor, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loc, scale)`` of q(z | x) (no Pyro involved)."""
        if getattr(self.encoder, "context_dim", 0):
            return self.encoder(x, u)
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Expected observation given latent ``z`` (e.g. pixel probabilities)."""
        return self.likelihood.mean(self.decoder(z))

    @torch.no_grad()
    def representation(self, x: torch.Tensor) -> torch.Tensor:
        """The mean representation E[z | x], as the metrics use it."""
        return self.encode(x)[0]

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode the posterior mean: the usual reconstruction picture."""
        return self.decode(self.encode(x)[0])
