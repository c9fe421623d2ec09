"""The sparse VAE for mechanism shifts (Lopez et al. 2022, "Learning Causal
Representations of Single Cells via Sparse Mechanism Shift Modeling", sVAE+).

An :class:`~pyro_vae.models.IVAE` whose prior is the spike-and-slab
:class:`~pyro_vae.priors.SpikeAndSlab`: each action ``a`` (the observed
context, passed as ``u``) shifts a sparse subset of the latents.  Model::

    pi    ~ Beta(1, K)                      # global, (actions, latents)
    gamma ~ RelaxedBernoulli(pi)            # global, straight-through
    z     ~ N(u @ (gamma * mu), I)          # inside pyro.plate("data")
    x     ~ likelihood(decoder(z))

Guide: ``pi`` a point mass, ``gamma`` its prior conditional (see
:mod:`pyro_vae.priors.spike_slab`), ``z ~ N(encoder(x))``.  As in the paper
the encoder reads ``x`` only, so that ``z`` can be inferred for cells of
unseen actions; the action enters through the prior.  For count data
(``likelihood="poisson"``) pass ``log1p_input=True`` to feed ``log(1 + x)`` to
the encoder, as the official code does.

Global terms are scaled as the ELBO requires: with the data plate subsampled
(``dataset_size=N``), Pyro's ``Trace_ELBO`` scales local terms by N / B and
leaves the global ones alone; our per-example losses divide that by N (the
global term enters as ``(log p(pi) - log q(pi)) / N``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from pyro_vae.likelihoods import Likelihood
from pyro_vae.models.ivae import IVAE
from pyro_vae.nets import MLPDecoder, MLPEncoder
from pyro_vae.priors import LatentContext, SpikeAndSlab


class SVAE(IVAE):
    """sVAE: a VAE with a sparse spike-and-slab prior over action effects.

    :param nn.Module encoder: ``x -> (loc, scale)`` (q(z | x)).
    :param nn.Module decoder: ``z -> likelihood parameters``.
    :param input_shape: shape of one observation.
    :param int latent_dim: size of ``z``.
    :param int num_actions: number of actions (size of the one-hot ``u``).
    :param float sparsity: ``K`` of the Beta(1, K) prior (default ``latent_dim``).
    :param float temperature: Gumbel-sigmoid temperature (default 1).
    :param float init_logit: initial ``logit(pi)`` (official: 5, every action
        starts by shifting every latent; lower values start sparser and need
        fewer steps to move).
    :param prior: override the :class:`~pyro_vae.priors.SpikeAndSlab` prior.
    :param likelihood: default Gaussian with scale 0.1.
    :param bool log1p_input: feed ``log(1 + x)`` to the encoder (count data).
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        input_shape: Sequence[int],
        latent_dim: int,
        num_actions: int,
        sparsity: float | None = None,
        temperature: float = 1.0,
        init_logit: float = 5.0,
        prior: Callable[[LatentContext], torch.Tensor] | None = None,
        likelihood: str | Likelihood | None = None,
        log1p_input: bool = False,
        latent_site: str = "z",
        name: str | None = None,
    ) -> None:
        if prior is None:
            prior = SpikeAndSlab(
                num_actions, latent_dim, sparsity, temperature, init_logit, site=latent_site
            )
        super().__init__(
            encoder, decoder, input_shape, latent_dim, num_actions, prior, likelihood,
            log1p_input, latent_site, name,
        )  # fmt: skip
        self.num_actions = num_actions

    @classmethod
    def mlp(  # type: ignore[override]
        cls,
        input_shape: Sequence[int],
        num_actions: int,
        latent_dim: int,
        hidden_dims: Sequence[int] = (128, 128),
        **kwargs,
    ) -> SVAE:
        """sVAE with MLP encoder q(z | x) and decoder (ReLU, ``hidden_dims``)."""
        hidden = tuple(hidden_dims)
        encoder = MLPEncoder(input_shape, latent_dim, hidden)
        decoder = MLPDecoder(latent_dim, input_shape, tuple(reversed(hidden)))
        return cls(encoder, decoder, input_shape, latent_dim, num_actions, **kwargs)

    @torch.no_grad()
    def learned_mask(self, threshold: float = 0.5) -> torch.Tensor:
        """The estimated action-to-latent mask ``pi > threshold``, ``(actions, latents)``."""
        if not isinstance(self.prior, SpikeAndSlab):
            raise TypeError(f"learned_mask needs a SpikeAndSlab prior, not {type(self.prior)}")
        return self.prior.mask(threshold)
