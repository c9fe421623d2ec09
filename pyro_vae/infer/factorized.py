"""A guide's latent site read as a factorized distribution, one factor per dimension.

The disentangling objectives need more of q(z | x) than its log density at
the sample: beta-TCVAE evaluates every dimension of every sample under every
example's posterior, DIP-VAE reads the posterior means and variances, and
FactorVAE draws a second sample.  :func:`factorized_site` unwraps the guide's
distribution at a site (``Independent(Normal(loc, scale), 1)`` and any other
``Independent`` of a distribution with a per-dimension ``log_prob``) into a
distribution of batch shape ``(B, D)`` that evaluates dimensions separately.
Any guide qualifies, including the upper-layer-dependent posterior of a
ladder VAE's ``"z3"``: ELBOTerms hands us that site's distribution as the
guide built it, conditioned on the upper layers' samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyro.distributions as dist
import torch
from torch.distributions import Distribution, Independent

from pyro_vae.infer.terms import ELBOTerms


@dataclass
class FactorizedSite:
    """The guide's distribution at a local latent site, factor by factor.

    :ivar str name: the site.
    :ivar base: the unwrapped distribution, batch shape ``(B, *E)`` (``E`` the
        site's event shape), event shape ``()``.
    :ivar value: the guide's sample, shape ``(B, *E)``.
    """

    name: str
    base: Distribution
    value: torch.Tensor

    @property
    def batch_size(self) -> int:
        return int(self.value.shape[0])

    @property
    def dim(self) -> int:
        """Number of latent dimensions D (the event shape, flattened)."""
        return int(self.value[0].numel())

    def flat(self, tensor: torch.Tensor) -> torch.Tensor:
        """Reshape ``(..., B, *E)`` to ``(..., B, D)``."""
        lead = tensor.shape[: tensor.dim() - self.value.dim() + 1]
        return tensor.reshape(*lead, self.dim)

    def pairwise_log_prob(self, value: torch.Tensor | None = None) -> torch.Tensor:
        """``out[i, j, d] = log q(z_{i,d} | x_j)``: every dimension of every
        sample under every example's posterior, shape ``(B, B, D)``.

        :param value: samples ``(B, *E)``; default the guide's sample.
        """
        value = self.value if value is None else value
        log_q = self.base.log_prob(value.unsqueeze(1))  # (B, 1, *E) against (B, *E)
        return log_q.reshape(value.shape[0], self.batch_size, self.dim)

    @property
    def mean(self) -> torch.Tensor:
        """Posterior means, ``(B, D)``."""
        return self.flat(self.base.mean)

    @property
    def variance(self) -> torch.Tensor:
        """Posterior variances, ``(B, D)``."""
        return self.flat(self.base.variance)

    def sample(self) -> torch.Tensor:
        """A fresh, non-reparametrized draw from q(z | x) for the same batch, ``(B, D)``."""
        return self.flat(self.base.sample())


def factorized_site(terms: ELBOTerms, site: str) -> FactorizedSite:
    """Read the guide's distribution at ``site`` as independent factors.

    :param ELBOTerms terms: the traced terms.
    :param str site: a local latent site, one value per example of the batch.
    :raises ValueError: the site is not a local latent site, has extra batch
        dimensions (other plates), or its distribution does not factorize
        over dimensions (e.g. ``MultivariateNormal``).
    """
    if site not in terms.local_latents:
        raise ValueError(
            f"site {site!r} is not a local latent site of the model (inside the "
            f"{terms.data_plate!r} plate); local latent sites: {terms.local_latents}. "
            "Pass site=... to the loss"
        )
    fn = terms.guide_fn(site)
    value = terms.value(site)
    base = fn
    while isinstance(base, Independent | dist.Independent):
        base = base.base_dist
    name = type(fn).__name__
    if base.event_shape != torch.Size():
        raise ValueError(
            f"the guide's distribution at site {site!r} ({name} over "
            f"{type(base).__name__}) does not factorize over latent dimensions; these "
            "objectives need a per-dimension log_prob, e.g. "
            "dist.Normal(loc, scale).to_event(1)"
        )
    if value.dim() != 1 + len(fn.event_shape) or value.shape[0] != terms.batch_size:
        raise ValueError(
            f"site {site!r} has value shape {tuple(value.shape)}; expected (batch, *event) = "
            f"({terms.batch_size}, *{tuple(fn.event_shape)}): one sample per example, no "
            "other plates or particle dimensions"
        )
    if base.batch_shape != value.shape:
        base = base.expand(value.shape)
    return FactorizedSite(site, base, value)
