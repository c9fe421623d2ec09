"""Presets of the plain VAE family: vae, beta-vae, annealed-vae."""

from __future__ import annotations

from pyro_vae.infer import BetaELBO, CapacityELBO
from pyro_vae.models import VAE
from pyro_vae.zoo.networks import default_networks
from pyro_vae.zoo.registry import BuildSpec, Preset, register_preset


def vae_from_spec(spec: BuildSpec, **kwargs) -> VAE:
    """A :class:`~pyro_vae.models.VAE` with the default networks for the data."""
    encoder, decoder = default_networks(spec.observation_shape, spec.latent_dim)
    return VAE(
        encoder,
        decoder,
        spec.observation_shape,
        spec.latent_dim,
        likelihood=spec.likelihood,
        **kwargs,
    )


def _vae(spec: BuildSpec):
    return vae_from_spec(spec), BetaELBO(1.0)


def _beta_vae(spec: BuildSpec):
    return vae_from_spec(spec), BetaELBO(float(spec.hyper["beta"]))


def _annealed_vae(spec: BuildSpec):
    h = spec.hyper
    loss = CapacityELBO(float(h["gamma"]), float(h["c_max"]), int(h["c_steps"]))
    return vae_from_spec(spec), loss


register_preset(
    Preset(
        "vae",
        "VAE trained with the ELBO (beta = 1)",
        "Kingma & Welling 2014, Auto-Encoding Variational Bayes",
        _vae,
    )
)
register_preset(
    Preset(
        "beta-vae",
        "beta-VAE: KL weighted by beta (dlib dSprites sweep: beta in 1, 2, 4, 6, 8, 16)",
        "Higgins et al. 2017, beta-VAE (ICLR)",
        _beta_vae,
        hyperparameters={"beta": 4.0},
    )
)
register_preset(
    Preset(
        "annealed-vae",
        "annealed-capacity beta-VAE: gamma * |KL - C(t)|, C from 0 to c_max over c_steps",
        "Burgess et al. 2018, Understanding disentangling in beta-VAE",
        _annealed_vae,
        hyperparameters={"gamma": 1000.0, "c_max": 25.0, "c_steps": 100_000},
    )
)
