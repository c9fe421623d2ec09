"""Presets of identifiable VAEs with an observed context: ivae, svae.

Both read the size of the context ``u`` from the dataset (``dataset.context_dim``:
the number of segments of ``nonlinear-ica``, of actions of ``sparse-shift``).
"""

from __future__ import annotations

from pyro_vae.infer import BetaELBO
from pyro_vae.likelihoods import Likelihood, get_likelihood
from pyro_vae.models import IVAE, SVAE
from pyro_vae.zoo.registry import BuildSpec, Preset, register_preset


def context_dim_of(spec: BuildSpec, preset: str) -> int:
    """The size of the observed context ``u`` of the spec's dataset."""
    dim = getattr(spec.dataset, "context_dim", 0)
    if not dim:
        name = type(spec.dataset).__name__ if spec.dataset is not None else "no dataset"
        raise ValueError(
            f"preset {preset!r} needs a dataset with an observed context u (a `context_dim` "
            f"attribute), such as nonlinear-ica or sparse-shift; got {name}"
        )
    return int(dim)


def likelihood_for(spec: BuildSpec, scale: float) -> Likelihood:
    """The spec's likelihood, with the observation ``scale`` for Gaussian/Laplace."""
    if spec.likelihood in ("gaussian", "laplace"):
        return get_likelihood(spec.likelihood, scale=float(scale))
    return get_likelihood(spec.likelihood)


def _ivae(spec: BuildSpec):
    h = spec.hyper
    model = IVAE.mlp(
        spec.observation_shape,
        context_dim_of(spec, "ivae"),
        spec.latent_dim,
        hidden_dims=(int(h["hidden_dim"]),) * 2,
        learn_prior_mean=bool(h["learn_prior_mean"]),
        likelihood=likelihood_for(spec, h["obs_scale"]),
    )
    return model, BetaELBO(1.0)


def _svae(spec: BuildSpec):
    h = spec.hyper
    model = SVAE.mlp(
        spec.observation_shape,
        context_dim_of(spec, "svae"),
        spec.latent_dim,
        hidden_dims=(int(h["hidden_dim"]),) * 2,
        sparsity=h["sparsity"],
        temperature=float(h["temperature"]),
        init_logit=float(h["init_logit"]),
        likelihood=likelihood_for(spec, h["obs_scale"]),
        log1p_input=spec.likelihood == "poisson",
    )
    return model, BetaELBO(1.0)


register_preset(
    Preset(
        "ivae",
        "iVAE: conditional Gaussian prior p(z|u), guide q(z|x,u); ELBO",
        "Khemakhem et al. 2020, Variational Autoencoders and Nonlinear ICA (AISTATS)",
        _ivae,
        hyperparameters={"learn_prior_mean": False, "hidden_dim": 50, "obs_scale": 0.1},
        training={"lr": 1e-3, "batch_size": 64, "steps": 20_000, "latent_dim": 5},
    )
)
register_preset(
    Preset(
        "svae",
        "sVAE: sparse spike-and-slab prior over action effects (sparsity=null: K = latent size)",
        "Lopez et al. 2022, Learning Causal Representations of Single Cells via Sparse "
        "Mechanism Shift Modeling (CLeaR 2023)",
        _svae,
        hyperparameters={
            "sparsity": None,
            "temperature": 1.0,
            "init_logit": 5.0,
            "hidden_dim": 128,
            "obs_scale": 0.1,
        },
        training={"lr": 2e-3, "batch_size": 128, "steps": 100_000, "latent_dim": 15},
    )
)
