"""Preset of the Ladder VAE family: ladder-vae.

Defaults follow our reading of the MNIST setting of Sonderby et al. 2016:
stochastic layers 64-32-16-8-4, deterministic layers 512-256-128-64-32 with
two hidden layers per MLP, batch norm, leaky ReLUs, Adam with learning rate
0.002, batches of 256, and a KL warm-up from beta = 0 to 1 over the first 200
epochs (200 * 60,000 / 256 = 46,875 steps at batch 256).  Free bits
(Kingma et al. 2016) are off by default (the paper uses warm-up alone).

``--latent-dim`` is the size of the top layer ``zL`` (the layer traversed and
encoded); it must equal ``latent_dims[-1]``.
"""

from __future__ import annotations

from pyro_vae.infer import BetaELBO, Linear
from pyro_vae.models import LadderVAE
from pyro_vae.zoo.registry import BuildSpec, Preset, register_preset

#: 200 epochs of 60,000 images in batches of 256
PAPER_WARMUP_STEPS = 46_875


def ladder_from_spec(spec: BuildSpec) -> LadderVAE:
    """A :class:`~pyro_vae.models.LadderVAE` from a preset's hyperparameters."""
    h = spec.hyper
    latent_dims = tuple(int(d) for d in h["latent_dims"])
    if spec.latent_dim != latent_dims[-1]:
        raise ValueError(
            f"ladder-vae: the latent size ({spec.latent_dim}) is the top layer's and must "
            f"equal latent_dims[-1] ({latent_dims[-1]}); pass --latent-dim {latent_dims[-1]} "
            "or change latent_dims"
        )
    return LadderVAE(
        spec.observation_shape,
        latent_dims,
        tuple(int(d) for d in h["hidden_dims"]),
        spec.likelihood,
        mlp_layers=int(h["mlp_layers"]),
        batch_norm=bool(h["batch_norm"]),
        frontend=str(h["frontend"]),
    )


def warmup_loss(
    warmup_steps: int, warmup_start: float = 0.0, free_bits: float | dict | None = None
) -> BetaELBO:
    """The ELBO with the KL warm-up ``beta: warmup_start -> 1`` over
    ``warmup_steps`` steps (the warm-up of Sonderby et al. 2016) and optional free bits."""
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    beta = Linear(float(warmup_start), 1.0, int(warmup_steps)) if warmup_steps else 1.0
    return BetaELBO(beta, free_bits=free_bits)


def _ladder_vae(spec: BuildSpec):
    h = spec.hyper
    loss = warmup_loss(int(h["warmup_steps"]), float(h["warmup_start"]), h["free_bits"])
    return ladder_from_spec(spec), loss


register_preset(
    Preset(
        "ladder-vae",
        "Ladder VAE: hierarchy z1..zL with a precision-weighted ladder guide, KL warm-up "
        "(--latent-dim = top layer size)",
        "Sonderby et al. 2016, Ladder Variational Autoencoders (NeurIPS)",
        _ladder_vae,
        hyperparameters={
            "latent_dims": [64, 32, 16, 8, 4],
            "hidden_dims": [512, 256, 128, 64, 32],
            "mlp_layers": 2,
            "batch_norm": True,
            "frontend": "mlp",
            "warmup_steps": PAPER_WARMUP_STEPS,
            "warmup_start": 0.0,
            "free_bits": None,
        },
        training={"lr": 2e-3, "batch_size": 256, "latent_dim": 4},
    )
)
