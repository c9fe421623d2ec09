"""Preset of the causal family: causal-vae."""

from __future__ import annotations

from pyro_vae.infer import BetaELBO
from pyro_vae.models import CausalVAE
from pyro_vae.priors.scm import SCMPrior
from pyro_vae.zoo.networks import default_networks
from pyro_vae.zoo.registry import BuildSpec, Preset, register_preset

#: SCMPrior options a preset hyperparameter sets (same names)
PRIOR_OPTIONS = (
    "label_scale",
    "label_shift",
    "label_weight",
    "mask_weight",
    "dag_update_every",
    "dag_penalty_init",
    "dag_penalty_growth",
    "dag_progress",
    "initial_graph",
)


def _num_concepts(spec: BuildSpec) -> int:
    dataset = spec.dataset
    if dataset is None:
        raise ValueError("causal-vae reads the number of concepts from the dataset; pass it")
    first = dataset[0]
    if not isinstance(first, tuple | list) or len(first) < 3:
        raise ValueError(
            "causal-vae needs concept labels: a dataset whose items are (x, factors, u), "
            "e.g. 'pendulum'"
        )
    return int(first[2].numel())


def causal_vae_from_spec(spec: BuildSpec) -> CausalVAE:
    """A :class:`~pyro_vae.models.CausalVAE` with the default networks for the data;
    ``latent_dim`` is split into one block per concept."""
    n = _num_concepts(spec)
    if spec.latent_dim % n:
        raise ValueError(
            f"causal-vae splits the latent into {n} concept blocks: latent_dim "
            f"{spec.latent_dim} is not a multiple of {n} (use e.g. --latent-dim {4 * n})"
        )
    encoder, decoder = default_networks(spec.observation_shape, spec.latent_dim)
    h = spec.hyper
    prior = SCMPrior(n, spec.latent_dim // n, **{k: h[k] for k in PRIOR_OPTIONS})
    names = getattr(spec.dataset, "factor_names", None)
    return CausalVAE(
        encoder,
        decoder,
        spec.observation_shape,
        n,
        spec.latent_dim // n,
        prior=prior,
        likelihood=spec.likelihood,
        concept_names=names if names is not None and len(names) == n else None,
    )


def _causal_vae(spec: BuildSpec):
    return causal_vae_from_spec(spec), BetaELBO(float(spec.hyper["beta"]))


register_preset(
    Preset(
        "causal-vae",
        "CausalVAE: concepts from a learned linear+mask SCM, DAG by augmented Lagrangian",
        "Yang et al. 2021, CausalVAE: Disentangled Representation Learning via Neural "
        "Structural Causal Models (CVPR)",
        _causal_vae,
        hyperparameters={
            "beta": 1.0,
            "label_scale": 2.0,
            "label_shift": 0.5,
            "label_weight": 1.0,
            "mask_weight": 1.0,
            "dag_update_every": 500,
            "dag_penalty_init": 1.0,
            "dag_penalty_growth": 10.0,
            "dag_progress": 0.25,
            "initial_graph": None,
        },
        # the official code: 4 concepts x 4 dims, Adam 1e-3, batch 64, 101 epochs of
        # the 5847 training scenes (about 9,200 steps)
        training={"latent_dim": 16, "lr": 1e-3, "batch_size": 64, "steps": 9200},
    )
)
