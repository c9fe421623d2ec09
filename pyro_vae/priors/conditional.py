"""The iVAE conditional prior p(z | u) (Khemakhem et al. 2020, "Variational
Autoencoders and Nonlinear ICA: A Unifying Framework", eq. 7).

iVAE's prior is a conditionally factorial exponential family,

.. math::

    p(z \\mid u) = \\prod_j \\frac{Q_j(z_j)}{Z_j(u)}
                  \\exp\\big(\\textstyle\\sum_k T_{j,k}(z_j)\\,\\lambda_{j,k}(u)\\big),

here with Gaussian sufficient statistics ``T_j(z_j) = (z_j, z_j^2)``, i.e.
``p(z | u) = N(mu(u), diag sigma^2(u))`` with ``mu`` and ``log sigma^2``
small MLPs of the observed context ``u`` (a one-hot segment or any
continuous vector).  The official code fixes ``mu(u) = 0`` and learns only
the variance (``learn_mean=False`` here); the paper's eq. 7 with both
statistics learns both (the default here).

``u`` is conditioning input, not a random variable: the iVAE model is
p(x, z | u), so the prior reads ``ctx.u`` and issues no site for it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pyro
import pyro.distributions as dist
import torch
from torch import nn

from pyro_vae.nets import MLP
from pyro_vae.nets.mlp import LOG_VAR_RANGE
from pyro_vae.priors.base import LatentContext

#: the official iVAE code's activation: leaky ReLU with negative slope 0.1
IVAE_ACTIVATION = functools.partial(nn.LeakyReLU, 0.1)


class ConditionalGaussian(nn.Module):
    """p(z | u) = N(mu(u), diag sigma^2(u)), the iVAE prior.

    Example::

        >>> import pyro, torch
        >>> from pyro_vae.priors import ConditionalGaussian, LatentContext
        >>> prior = ConditionalGaussian(context_dim=2, latent_dim=3, learn_mean=False, site="s")
        >>> u = torch.eye(2)[[0, 1, 1, 0]]  # one-hot segments of 4 examples
        >>> ctx = LatentContext(plate=pyro.plate("data", 4), batch_size=4, u=u)
        >>> trace = pyro.poutine.trace(prior).get_trace(ctx)
        >>> trace.stochastic_nodes  # u is conditioning input, not a site
        ['s']
        >>> trace.nodes["s"]["value"].shape
        torch.Size([4, 3])
        >>> loc, scale = prior.params(u)
        >>> bool((loc == 0).all()), bool(torch.equal(scale[0], scale[3]))  # same segment
        (True, True)
        >>> prior(LatentContext(plate=pyro.plate("data", 4), batch_size=4))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: ConditionalGaussian needs the context u (ctx.u is None)...

    :param int context_dim: size of ``u`` (number of segments for one-hot ``u``).
    :param int latent_dim: size of ``z``.
    :param hidden_dims: hidden layers of the MLPs (the official code: 50 units).
    :param bool learn_mean: learn ``mu(u)``; ``False`` fixes it at 0 as the
        official iVAE code does.
    :param str site: name of the latent site.
    :param activation: activation module class of the MLPs.
    """

    def __init__(
        self,
        context_dim: int,
        latent_dim: int,
        hidden_dims: Sequence[int] = (50, 50),
        learn_mean: bool = True,
        site: str = "z",
        activation: type[nn.Module] = IVAE_ACTIVATION,
    ) -> None:
        super().__init__()
        if context_dim < 1 or latent_dim < 1:
            raise ValueError(
                f"context_dim and latent_dim must be >= 1, got {context_dim} and {latent_dim}"
            )
        self.context_dim = context_dim
        self.latent_dim = latent_dim
        self.site = site
        hidden = tuple(hidden_dims)
        self.log_var = MLP(context_dim, hidden, latent_dim, activation)
        self.loc = MLP(context_dim, hidden, latent_dim, activation) if learn_mean else None

    def params(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu(u), sigma(u))``, each of shape ``(B, latent_dim)``."""
        if u is None:
            raise ValueError(
                "ConditionalGaussian needs the context u (ctx.u is None); pass u to the "
                "model and guide, e.g. model.model(x, u)"
            )
        u = u.reshape(u.shape[0], -1).to(self.log_var[0].weight.dtype)
        if u.shape[1] != self.context_dim:
            raise ValueError(f"u must have {self.context_dim} features, got {u.shape[1]}")
        scale = torch.exp(0.5 * self.log_var(u).clamp(*LOG_VAR_RANGE))
        loc = self.loc(u) if self.loc is not None else torch.zeros_like(scale)
        return loc, scale

    def forward(self, ctx: LatentContext) -> torch.Tensor:
        loc, scale = self.params(ctx.u)
        with ctx.plate:
            return pyro.sample(self.site, dist.Normal(loc, scale).to_event(1))
