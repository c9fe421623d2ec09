"""The isotropic standard normal prior p(z) = N(0, I)."""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
from torch import nn

from pyro_vae.priors.base import LatentContext


class StandardNormal(nn.Module):
    """p(z) = N(0, I) over a ``latent_dim`` vector per example.

    Example::

        >>> import pyro
        >>> from pyro_vae.priors import LatentContext, StandardNormal
        >>> ctx = LatentContext(plate=pyro.plate("data", 5), batch_size=5)
        >>> trace = pyro.poutine.trace(StandardNormal(latent_dim=3)).get_trace(ctx)
        >>> site = trace.nodes["z"]
        >>> site["fn"].batch_shape, site["fn"].event_shape
        (torch.Size([5]), torch.Size([3]))
        >>> [frame.name for frame in site["cond_indep_stack"]]  # a local site
        ['data']

    :param int latent_dim: size of the latent code.
    :param str site: name of the latent site (default ``"z"``).
    """

    def __init__(self, latent_dim: int, site: str = "z") -> None:
        super().__init__()
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
        self.latent_dim = latent_dim
        self.site = site
        self.register_buffer("loc", torch.zeros(latent_dim), persistent=False)
        self.register_buffer("scale", torch.ones(latent_dim), persistent=False)

    def forward(self, ctx: LatentContext) -> torch.Tensor:
        with ctx.plate:
            return pyro.sample(self.site, dist.Normal(self.loc, self.scale).to_event(1))
