"""The sVAE spike-and-slab prior over action effects (Lopez et al. 2022,
"Learning Causal Representations of Single Cells via Sparse Mechanism Shift
Modeling", the sVAE model).

For action ``a`` and latent ``k``:

.. math::

    \\pi_{ak} \\sim \\mathrm{Beta}(1, K), \\qquad
    \\gamma_{ak} \\mid \\pi_{ak} \\sim \\mathrm{Bernoulli}(\\pi_{ak}), \\qquad
    z \\mid a \\sim \\mathcal{N}(\\gamma_a \\odot \\mu_a, I),

with learned embeddings ``mu_a``.  ``K`` sets the sparsity pressure: the
Beta(1, K) density ``K (1 - pi)^(K - 1)`` pushes ``pi`` towards 0 for
``K > 1`` and is flat for ``K = 1``.  ``gamma`` is relaxed to a
Gumbel-sigmoid (``RelaxedBernoulliStraightThrough``, temperature ``tau``):
hard 0/1 values forward, gradients of the relaxed sample backward, as the
official code does.

``pi`` and ``gamma`` are **global** sites (one value per action and latent,
outside the data plate).  Their variational family, :meth:`SpikeAndSlab.guide`:

* ``q(pi) = delta(sigmoid(logits))``: a point mass, so ``pi`` is a MAP
  estimate under its Beta prior (the official code's ``- log Beta(pi; 1, K)``
  term); a Beta guide would add an entropy term and Monte Carlo noise for no
  benefit to the mask estimate;
* ``q(gamma) = RelaxedBernoulli(pi)``: the prior conditional itself, so the
  ``gamma`` terms of the ELBO cancel exactly (the official code's "practical
  implementation, setting p_discrete to q_discrete").

Where we depart from the official code: it draws a fresh mask per example
(``gumbel_action(y)`` inside the batch); we draw ``gamma`` once per action
and step, as the model above states.  The action ``u`` may be one-hot (the
usual case), integer labels, or any ``(B, num_actions)`` weights: the prior
mean is ``u @ (gamma * mu)``.
"""

from __future__ import annotations

import warnings

import pyro
import pyro.distributions as dist
import torch
from torch import nn
from torch.distributions.utils import clamp_probs

from pyro_vae.priors.base import LatentContext


class SpikeAndSlab(nn.Module):
    """z | a ~ N(gamma_a * mu_a, I) with a sparse spike-and-slab mask gamma.

    :param int num_actions: number of actions ``A``.
    :param int latent_dim: size of ``z``.
    :param float sparsity: ``K`` of the Beta(1, K) prior on ``pi`` (default:
        ``latent_dim``); ``K = 1`` gives no sparsity pressure.
    :param float temperature: ``tau`` of the Gumbel-sigmoid relaxation (official: 1).
    :param float init_logit: initial ``logit(pi)`` of the guide (official: 5,
        ``pi ~ 0.993``, every action starts by shifting every latent).
    :param str site: name of the latent site.
    """

    def __init__(
        self,
        num_actions: int,
        latent_dim: int,
        sparsity: float | None = None,
        temperature: float = 1.0,
        init_logit: float = 5.0,
        site: str = "z",
    ) -> None:
        super().__init__()
        if num_actions < 1 or latent_dim < 1:
            raise ValueError(
                f"num_actions and latent_dim must be >= 1, got {num_actions} and {latent_dim}"
            )
        sparsity = float(latent_dim if sparsity is None else sparsity)
        if sparsity < 1:
            raise ValueError(f"sparsity K of Beta(1, K) must be >= 1, got {sparsity}")
        if sparsity == 1:
            warnings.warn(
                "SpikeAndSlab with sparsity K = 1: the Beta(1, 1) prior on pi is flat, so "
                "nothing pushes the mask towards sparsity; use K > 1 (e.g. the latent size)",
                stacklevel=2,
            )
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.num_actions = num_actions
        self.latent_dim = latent_dim
        self.sparsity = sparsity
        self.temperature = float(temperature)
        self.site = site
        #: mu_a, the effect of each action on the latents
        self.action_means = nn.Parameter(torch.randn(num_actions, latent_dim))
        #: logits of the point-mass guide of pi
        self.pi_logits = nn.Parameter(torch.full((num_actions, latent_dim), float(init_logit)))

    # ------------------------------------------------------------- pieces
    def _mask(self, pi: torch.Tensor) -> torch.Tensor:
        tau = pi.new_tensor(self.temperature)
        relaxed = dist.RelaxedBernoulliStraightThrough(tau, probs=pi)
        return pyro.sample("gamma", relaxed.to_event(2))

    def _actions(self, u: torch.Tensor | None) -> torch.Tensor:
        if u is None:
            raise ValueError(
                "SpikeAndSlab needs the action as context u (ctx.u is None); pass u to the "
                "model and guide"
            )
        if u.dim() == 1:  # integer labels
            u = nn.functional.one_hot(u.long(), self.num_actions)
        if u.dim() != 2 or u.shape[1] != self.num_actions:
            raise ValueError(
                f"u must be one-hot actions of shape (B, {self.num_actions}) or integer labels "
                f"(B,), got shape {tuple(u.shape)}"
            )
        return u.to(self.action_means.dtype)

    def probabilities(self) -> torch.Tensor:
        """The guide's ``pi``: probability that action ``a`` shifts latent ``k``."""
        return clamp_probs(torch.sigmoid(self.pi_logits))

    @torch.no_grad()
    def mask(self, threshold: float = 0.5) -> torch.Tensor:
        """The estimated action-to-latent mask ``pi > threshold`` (bool)."""
        return self.probabilities() > threshold

    # ------------------------------------------------------------ programs
    def forward(self, ctx: LatentContext) -> torch.Tensor:
        u = self._actions(ctx.u)
        one = self.action_means.new_ones(())
        prior_pi = dist.Beta(one, one * self.sparsity).expand(self.action_means.shape)
        pi = pyro.sample("pi", prior_pi.to_event(2))
        gamma = self._mask(pi)
        loc = u @ (gamma * self.action_means)
        with ctx.plate:
            return pyro.sample(self.site, dist.Normal(loc, 1.0).to_event(1))

    def guide(self, ctx: LatentContext) -> torch.Tensor:
        """q(pi) = point mass at sigmoid(logits); q(gamma | pi) = p(gamma | pi)."""
        pi = pyro.sample("pi", dist.Delta(self.probabilities(), event_dim=2))
        return self._mask(pi)
