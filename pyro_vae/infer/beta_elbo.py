"""beta-VAE and annealed-capacity objectives."""

from __future__ import annotations

import torch

from pyro_vae.infer.base import PerExampleLoss
from pyro_vae.infer.schedules import Linear, Schedule, as_schedule
from pyro_vae.infer.terms import ELBOTerms


def _checked(schedule, step: int, name: str, minimum: float = 0.0) -> float:
    value = float(schedule(step))
    if not value >= minimum:
        raise ValueError(f"{name} at step {step} is {value}; it must be >= {minimum}")
    return value


class BetaELBO(PerExampleLoss):
    r"""The beta-VAE objective (Higgins et al. 2017, eq. 4), per example:

    .. math::

        \mathcal{L} = -\mathbb{E}_{q(z|x)}[\log p(x|z)]
                      + \beta\,\mathrm{KL}(q(z|x)\,\|\,p(z))

    ``beta = 1`` is the ELBO; its value is then Pyro's ``TraceMeanField_ELBO``
    (``analytic_kl=True``) or ``Trace_ELBO`` (``analytic_kl=False``) divided
    by the data plate size.  ``beta`` weights the KL of every local latent
    site; global latents and ``pyro.factor`` penalties enter unweighted.
    ``beta`` may be a schedule (e.g. the KL warm-up
    ``Linear(1e-3, 1.0, steps)`` of Sonderby et al. 2016), evaluated at the
    loss's training-step counter.

    An optional ``free_bits`` floor (Kingma et al. 2016, eq. 15) replaces each
    listed site's batch-mean KL by ``max(free_bits, KL)``; a float applies to
    every local latent site, a dict maps site names to floors.

    Logged terms: ``recon`` (-log p(x|z)), ``kl``, ``beta``; ``kl_<site>`` for
    each site when there are several.

    Example::

        >>> import math, pyro, torch
        >>> from pyro.infer import TraceMeanField_ELBO
        >>> from pyro_vae.infer import BetaELBO
        >>> from pyro_vae.models import VAE
        >>> vae = VAE.mlp((6,), latent_dim=2, hidden_dims=(8,))
        >>> x = torch.rand(4, 6)
        >>> pyro.set_rng_seed(0)  # the same draw of z for both losses
        >>> loss = BetaELBO(beta=1.0).loss(vae.model, vae.guide, x, dataset_size=100)
        >>> pyro.set_rng_seed(0)
        >>> pyro_loss = TraceMeanField_ELBO().loss(vae.model, vae.guide, x, dataset_size=100)
        >>> math.isclose(loss, pyro_loss / 100, rel_tol=1e-5)  # per example of N = 100
        True
        >>> elbo = BetaELBO(beta=4.0)
        >>> loss = elbo.loss(vae.model, vae.guide, x)
        >>> terms = elbo.last_terms
        >>> math.isclose(loss, terms["recon"] + 4.0 * terms["kl"], rel_tol=1e-5)
        True
        >>> elbo.step  # evaluation never advances a schedule
        0
    """

    def __init__(
        self,
        beta: float | Schedule = 1.0,
        *,
        free_bits: float | dict[str, float] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.beta = as_schedule(beta, "beta", minimum=0.0)
        if isinstance(free_bits, int | float) and free_bits < 0:
            raise ValueError(f"free_bits must be >= 0, got {free_bits}")
        self.free_bits = free_bits

    def _floor(self, site: str) -> float | None:
        if self.free_bits is None:
            return None
        if isinstance(self.free_bits, dict):
            return self.free_bits.get(site)
        return float(self.free_bits)

    def loss_from_terms(self, terms: ELBOTerms) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        beta = _checked(self.beta, self.step, "beta")
        log_lik = terms.log_likelihood().mean()
        kl = torch.zeros((), device=log_lik.device)
        logs: dict[str, torch.Tensor] = {}
        for site in terms.local_latents:
            site_kl = terms.kl(site, self.analytic_kl).mean()
            if len(terms.local_latents) > 1:
                logs[f"kl_{site}"] = site_kl
            floor = self._floor(site)
            kl = kl + (site_kl if floor is None else site_kl.clamp(min=floor))
        elbo = log_lik + terms.local_factors().mean() - beta * kl
        if terms.has_globals:
            elbo = elbo + terms.global_term(self.analytic_kl)
        logs.update(recon=-log_lik, kl=kl, beta=torch.tensor(beta))
        return -elbo, logs


class CapacityELBO(PerExampleLoss):
    r"""Annealed-capacity beta-VAE (Burgess et al. 2018, eq. 8), per example:

    .. math::

        \mathcal{L} = -\mathbb{E}_{q(z|x)}[\log p(x|z)]
                      + \gamma\,\big|\mathrm{KL}(q(z|x)\,\|\,p(z)) - C(t)\big|

    with ``C(t)`` increased linearly from ``0`` to ``c_max`` over ``c_steps``
    training steps.  As in disentanglement_lib (``AnnealedVAE``), the absolute
    value is taken of the batch-mean KL, not per example.  Defaults are
    disentanglement_lib's: ``gamma = 1000``, ``c_max = 25`` nats,
    ``c_steps = 100000``.  Pass ``capacity=`` to use another schedule.

    Logged terms: ``recon``, ``kl``, ``capacity``.

    Example::

        >>> import math, torch
        >>> from pyro_vae.infer import CapacityELBO
        >>> from pyro_vae.models import VAE
        >>> vae = VAE.mlp((6,), latent_dim=2, hidden_dims=(8,))
        >>> x = torch.rand(4, 6)
        >>> elbo = CapacityELBO(gamma=10.0, c_max=5.0, c_steps=10)
        >>> elbo.advance(4)  # as after 4 training steps: C = 5 * 4 / 10
        >>> loss = elbo.loss(vae.model, vae.guide, x)
        >>> terms = elbo.last_terms
        >>> terms["capacity"].item()
        2.0
        >>> math.isclose(loss, terms["recon"] + 10.0 * abs(terms["kl"] - 2.0), rel_tol=1e-5)
        True
    """

    def __init__(
        self,
        gamma: float = 1000.0,
        c_max: float = 25.0,
        c_steps: int = 100_000,
        *,
        capacity: Schedule | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        if c_max < 0:
            raise ValueError(f"c_max must be >= 0, got {c_max}")
        self.gamma = float(gamma)
        self.capacity = capacity if capacity is not None else Linear(0.0, float(c_max), c_steps)

    def loss_from_terms(self, terms: ELBOTerms) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        capacity = _checked(self.capacity, self.step, "capacity")
        log_lik = terms.log_likelihood().mean()
        kl = terms.local_kl(self.analytic_kl).mean()
        objective = log_lik + terms.local_factors().mean() - self.gamma * (kl - capacity).abs()
        if terms.has_globals:
            objective = objective + terms.global_term(self.analytic_kl)
        logs = {"recon": -log_lik, "kl": kl, "capacity": torch.tensor(capacity)}
        return -objective, logs
