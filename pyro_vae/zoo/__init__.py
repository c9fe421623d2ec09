"""Named presets (model + objective + defaults) for Python and the CLI."""

from pyro_vae.zoo import causal as _causal_presets  # noqa: F401  (registers presets)
from pyro_vae.zoo import identifiable as _identifiable_presets  # noqa: F401  (registers presets)
from pyro_vae.zoo import ladder as _ladder_presets  # noqa: F401  (registers presets)
from pyro_vae.zoo import objectives as _objective_presets  # noqa: F401  (registers presets)
from pyro_vae.zoo import vae as _vae_presets  # noqa: F401  (registers presets)
from pyro_vae.zoo.networks import default_networks
from pyro_vae.zoo.registry import (
    DEFAULT_TRAINING,
    BuildSpec,
    Preset,
    build,
    get_preset,
    presets,
    register_preset,
    spec_for_dataset,
    training_defaults,
)

__all__ = [
    "build",
    "spec_for_dataset",
    "BuildSpec",
    "Preset",
    "DEFAULT_TRAINING",
    "default_networks",
    "get_preset",
    "presets",
    "register_preset",
    "training_defaults",
]
