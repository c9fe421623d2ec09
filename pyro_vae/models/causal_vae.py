r"""CausalVAE (Yang et al. 2021, "CausalVAE: Disentangled Representation
Learning via Neural Structural Causal Models", CVPR) as a Pyro model/guide pair.

Model (the prior is :class:`~pyro_vae.priors.scm.SCMPrior`; see its module for
the equations and penalties)::

    dag_penalty factor                            # global: -N (alpha H(A) + c/2 H(A)^2)
    with pyro.plate("data"):
        eps ~ N(0, I)                             # exogenous, (B, n, d)
        z ~ N(label_scale * u, I)                 # endogenous, p(z | u)
        label_loss, mask_loss factors
        x ~ likelihood(decoder(z))

Guide::

    with pyro.plate("data"):
        eps ~ N(encoder(x))                       # q(eps | x), with the encoder's variance
        z = (I - A^T)^{-1} eps                    # scored by its marginal q(z | x)

Without labels (``u=None`` and ``x=None``) the model generates from the SCM
(``z`` from the causal and mask layers); interventions use that program
(:mod:`pyro_vae.analysis.interventions`).

Departures from the paper (each also a departure from, or a fix of, the
official code; see ``docs/models/causal_vae.md``):

* the encoder reads ``x`` only (the paper's ``q(eps | x, u)``; the official
  code does the same), so that the evaluated representation does not receive
  the labels it is scored against; pass an encoder built with
  ``context_dim = n`` to condition on ``u``;
* one decoder reads the concatenated ``z`` (the official code averages four
  per-concept decoders).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from pyro_vae.likelihoods import Likelihood
from pyro_vae.models.base import LatentVariableModel
from pyro_vae.priors.scm import LinearSCMNormal, SCMPrior


class CausalVAE(LatentVariableModel):
    """CausalVAE: a VAE whose latent concepts follow a learned SCM.

    :param nn.Module encoder: ``x -> (loc, scale)`` of ``q(eps | x)``, each
        ``(B, n * d)`` (or ``(x, u) -> ...`` with ``context_dim > 0``).
    :param nn.Module decoder: ``z (B, n * d) -> likelihood parameters``.
    :param input_shape: shape of one observation.
    :param int num_concepts: ``n``.
    :param int concept_dim: ``d``, latent dimensions per concept.
    :param prior: an :class:`~pyro_vae.priors.scm.SCMPrior` for ``n`` and ``d``;
        default ``SCMPrior(n, d, **prior_options)``.
    :param likelihood: observation model or its name.
    :param concept_names: names of the concepts (e.g. the dataset's factor names).
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        input_shape: Sequence[int],
        num_concepts: int,
        concept_dim: int,
        prior: SCMPrior | None = None,
        likelihood: str | Likelihood = "bernoulli",
        concept_names: Sequence[str] | None = None,
        name: str | None = None,
        **prior_options: Any,
    ) -> None:
        super().__init__(input_shape, likelihood, name)
        if prior is None:
            prior = SCMPrior(num_concepts, concept_dim, **prior_options)
        elif prior_options:
            raise ValueError("pass prior options or a prior, not both")
        if (prior.num_concepts, prior.concept_dim) != (num_concepts, concept_dim):
            raise ValueError(
                f"the prior is for {prior.num_concepts} concepts of {prior.concept_dim} dims, "
                f"the model for {num_concepts} of {concept_dim}"
            )
        self.encoder = encoder
        self.decoder = decoder
        self.prior = prior
        self.num_concepts = num_concepts
        self.concept_dim = concept_dim
        self.latent_dim = num_concepts * concept_dim
        names = list(concept_names) if concept_names is not None else None
        if names is not None and len(names) != num_concepts:
            raise ValueError(f"{len(names)} concept names for {num_concepts} concepts")
        self.concept_names = names or [f"concept{i}" for i in range(num_concepts)]
        self.latent_site = self.prior.z_site

    # ---------------------------------------------------------------- inputs
    def inputs_from_batch(self, batch: Any) -> dict[str, Any]:
        """``(x, factors, u)`` -> ``{"x": x, "u": u}``."""
        if not isinstance(batch, list | tuple) or len(batch) < 3:
            raise ValueError(
                "CausalVAE needs the concept labels u: use a dataset whose items are "
                "(x, factors, u), e.g. 'pendulum'"
            )
        return {"x": batch[0], "u": batch[2]}

    def _concepts(self, flat: torch.Tensor) -> torch.Tensor:
        return flat.reshape(*flat.shape[:-1], self.num_concepts, self.concept_dim)

    # ------------------------------------------------------------ model/guide
    def model(
        self,
        x: torch.Tensor | None = None,
        u: torch.Tensor | None = None,
        *,
        batch_size: int | None = None,
        dataset_size: int | None = None,
    ) -> torch.Tensor:
        """p(x, eps, z | u); returns the decoder output (likelihood parameters)."""
        self.register()
        n = self.batch_size_of(x, batch_size)
        if x is not None and u is None:
            raise ValueError(
                "CausalVAE is trained with its concept labels: pass u (the paper's "
                "conditional prior p(z | u)); without labels only sampling (x=None) works"
            )
        ctx = self.context(n, u, dataset_size, x)
        z = self.prior(ctx)
        params = self.decoder(z.reshape(n, self.latent_dim))
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
        """q(eps | x) from the encoder and z = (I - A^T)^{-1} eps; returns z."""
        self.register()
        n = self.check_input(x)
        if u is None:
            raise ValueError("CausalVAE's guide needs the concept labels u, as its model does")
        ctx = self.context(n, u, dataset_size, x)
        loc, scale = self.encode_exogenous(x, u)
        with ctx.plate:
            return self.prior.posterior(loc, scale)

    # ------------------------------------------------------------- utilities
    def encode_exogenous(
        self, x: torch.Tensor, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loc, scale)`` of ``q(eps | x)``, each ``(B, n, d)``."""
        if getattr(self.encoder, "context_dim", 0):
            if u is None:
                raise ValueError("this encoder reads the labels: pass u")
            loc, scale = self.encoder(x, u)
        else:
            loc, scale = self.encoder(x)
        return self._concepts(loc), self._concepts(scale)

    def encode(
        self, x: torch.Tensor, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loc, scale)`` of the marginals of ``q(z | x)``, flat ``(B, n * d)``:
        the posterior of the latent the decoder reads (traversals, KL per dim)."""
        loc, scale = self.encode_exogenous(x, u)
        q = LinearSCMNormal(loc, scale, self.prior.A)
        return q.mean.flatten(-2), q.variance.sqrt().flatten(-2)

    def posterior_mean(self, x: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """``E[z | x]`` as concept blocks ``(B, n, d)``."""
        loc, _ = self.encode_exogenous(x, u)
        return self.prior.causal_layer(loc)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Expected observation given ``z`` (flat ``(B, n * d)`` or ``(B, n, d)``)."""
        if z.dim() >= 2 and tuple(z.shape[-2:]) == (self.num_concepts, self.concept_dim):
            z = z.flatten(-2)
        return self.likelihood.mean(self.decoder(z))

    def prior_mean(self, batch_size: int, u: torch.Tensor | None = None) -> torch.Tensor:
        """The prior's centre ``(B, n, d)``: ``label_scale * (u - label_shift)`` given
        labels, else the SCM's value at the mean exogenous noise ``eps = 0``."""
        prior = self.prior
        if u is not None:
            u = prior._check_labels(u.to(self.device), u.shape[0])
            loc = prior.label_scale * (u[:, :, None] - prior.label_shift)
            return loc.expand(-1, -1, self.concept_dim)
        eps = torch.zeros(batch_size, self.num_concepts, self.concept_dim, device=self.device)
        return prior.structural(eps)

    def traversal_interface(self, site: str):
        """The analysis tools' access to the sites ``z`` (units: concepts, the
        marginals of ``q(z | x)``; KL per element against ``p(z | u)`` given ``u``,
        else against N(0, 1)) and ``eps`` (decoded through the causal layer); see
        :mod:`pyro_vae.analysis.interface`. A traversal decodes a code; it is not
        an intervention (for those see :mod:`pyro_vae.analysis.interventions`)."""
        from pyro_vae.analysis.interface import TraversalInterface  # analysis sits on top

        shape = (self.num_concepts, self.concept_dim)

        def kl_to(loc, scale, prior_loc):
            return 0.5 * (scale.pow(2) + (loc - prior_loc).pow(2) - 1.0) - scale.log()

        if site == self.prior.z_site:

            def encode(x, u=None, **_):
                loc, scale = self.encode(x, u)
                return loc.reshape(-1, *shape), scale.reshape(-1, *shape)

            def kl(x, u=None, **_):
                loc, scale = encode(x, u)
                centre = self.prior_mean(x.shape[0], u) if u is not None else 0.0
                return kl_to(loc, scale, centre).mean(0)

            return TraversalInterface(
                site,
                shape,
                encode,
                lambda z, **_: self.decode(z),
                lambda batch_size=1, u=None, **_: self.prior_mean(batch_size, u),
                kl,
                unit="concept",
            )
        if site == self.prior.eps_site:

            def kl_eps(x, u=None, **_):
                loc, scale = self.encode_exogenous(x, u)
                return kl_to(loc, scale, 0.0).mean(0)

            return TraversalInterface(
                site,
                shape,
                lambda x, u=None, **_: self.encode_exogenous(x, u),
                lambda eps, **_: self.decode(self.prior.causal_layer(eps)),
                lambda batch_size=1, **_: torch.zeros(batch_size, *shape, device=self.device),
                kl_eps,
                unit="concept",
            )
        return None

    @torch.no_grad()
    def representation(self, x: torch.Tensor) -> torch.Tensor:
        """The mean representation ``E[z | x]``, flat: concept ``i`` owns the
        dimensions ``i*d .. (i+1)*d - 1``."""
        return self.posterior_mean(x).flatten(-2)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode the posterior mean of ``z``."""
        return self.decode(self.posterior_mean(x))
