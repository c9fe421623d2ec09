"""The identifiable VAE (Khemakhem et al. 2020, "Variational Autoencoders and
Nonlinear ICA: A Unifying Framework", AISTATS).

iVAE is a VAE conditioned on an observed auxiliary variable ``u`` (a
segment, a time index, a label): the prior is conditional,
p(z | u) (:class:`~pyro_vae.priors.ConditionalGaussian`, eq. 7), and the
guide reads ``u`` too, q(z | x, u).  Model::

    z ~ p(z | u)                # inside pyro.plate("data")
    x ~ likelihood(decoder(z))

``u`` is conditioning input passed to model and guide (``model(x, u)``), not
an observed site: the model is p(x, z | u), and nothing about u's own
distribution is learned.  Training maximises the ordinary ELBO
E_q[log p(x | z)] - KL(q(z | x, u) || p(z | u)) (``BetaELBO(1.0)``; the
official code's optional annealing of the decomposed ELBO is not
reproduced).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from pyro_vae.likelihoods import Gaussian, Likelihood
from pyro_vae.models.vae import VAE
from pyro_vae.nets import MLPDecoder, MLPEncoder
from pyro_vae.priors import ConditionalGaussian, LatentContext
from pyro_vae.priors.conditional import IVAE_ACTIVATION

#: the official iVAE decoder variance is 0.01, i.e. a Gaussian scale of 0.1
IVAE_OBSERVATION_SCALE = 0.1


def context_inputs(batch: Any, model_name: str) -> dict[str, Any]:
    """``(x, factors, u)`` batches -> ``{"x": x, "u": u}``; clear error otherwise."""
    if isinstance(batch, list | tuple) and len(batch) == 3:
        return {"x": batch[0], "u": batch[2]}
    if isinstance(batch, dict) and "x" in batch and "u" in batch:
        return {"x": batch["x"], "u": batch["u"]}
    raise ValueError(
        f"{model_name} needs the observed context u: batches must be (x, factors, u) tuples "
        "(as NonlinearICA and SparseMechanismShift give) or dicts with keys 'x' and 'u'"
    )


class IVAE(VAE):
    """iVAE: conditional prior p(z | u), guide q(z | x, u).

    :param nn.Module encoder: ``(x, u) -> (loc, scale)``, an encoder with
        ``context_dim > 0`` (e.g. ``MLPEncoder(..., context_dim=...)``); an
        encoder of ``x`` alone gives q(z | x).
    :param nn.Module decoder: ``z -> likelihood parameters``.
    :param input_shape: shape of one observation.
    :param int latent_dim: size of ``z``.
    :param int context_dim: size of ``u`` (number of segments for one-hot ``u``).
    :param prior: default :class:`~pyro_vae.priors.ConditionalGaussian`.
    :param likelihood: default Gaussian with scale 0.1 (the official decoder
        variance 0.01).
    :param bool log1p_input: feed ``log(1 + x)`` to the encoder (count data
        with a Poisson likelihood).
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        input_shape: Sequence[int],
        latent_dim: int,
        context_dim: int,
        prior: Callable[[LatentContext], torch.Tensor] | None = None,
        likelihood: str | Likelihood | None = None,
        log1p_input: bool = False,
        latent_site: str = "z",
        name: str | None = None,
    ) -> None:
        if prior is None:
            prior = ConditionalGaussian(context_dim, latent_dim, site=latent_site)
        if likelihood is None:
            likelihood = Gaussian(IVAE_OBSERVATION_SCALE)
        super().__init__(
            encoder, decoder, input_shape, latent_dim, prior, likelihood, latent_site, name
        )
        self.context_dim = context_dim
        self.log1p_input = log1p_input

    @classmethod
    def mlp(  # type: ignore[override]
        cls,
        input_shape: Sequence[int],
        context_dim: int,
        latent_dim: int,
        hidden_dims: Sequence[int] = (50, 50),
        learn_prior_mean: bool = False,
        activation: type[nn.Module] = IVAE_ACTIVATION,
        latent_site: str = "z",
        **kwargs,
    ) -> IVAE:
        """iVAE with MLPs as in the official code (two hidden layers of 50
        units, leaky ReLU 0.1) for encoder q(z | x, u), decoder and prior.

        ``learn_prior_mean=False`` (default) fixes the prior mean at 0 and
        learns only the variances, as the official code does; ``True`` learns
        ``mu(u)`` too (eq. 7 with both sufficient statistics).
        """
        hidden = tuple(hidden_dims)
        encoder = MLPEncoder(input_shape, latent_dim, hidden, context_dim, activation)
        decoder = MLPDecoder(latent_dim, input_shape, hidden, activation)
        prior = ConditionalGaussian(
            context_dim, latent_dim, hidden, learn_prior_mean, latent_site, activation
        )
        return cls(
            encoder, decoder, input_shape, latent_dim, context_dim, prior,
            latent_site=latent_site, **kwargs,
        )  # fmt: skip

    def encode(
        self, x: torch.Tensor, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loc, scale)`` of q(z | x, u) (``log(1 + x)`` first with ``log1p_input``)."""
        return super().encode(torch.log1p(x) if self.log1p_input else x, u)

    def inputs_from_batch(self, batch: Any) -> dict[str, Any]:
        """``(x, factors, u)`` -> ``{"x": x, "u": u}``."""
        return context_inputs(batch, type(self).__name__)

    @torch.no_grad()
    def representation(self, x: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """The mean of q(z | x, u), as the metrics use it."""
        return self.encode(x, u)[0]

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """Decode the posterior mean of q(z | x, u)."""
        return self.decode(self.encode(x, u)[0])
