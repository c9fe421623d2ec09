"""Named presets: ``"beta-vae"`` -> a model, an objective and default settings.

A preset's ``build(spec)`` returns ``(model, loss)`` for a
:class:`BuildSpec`: the dataset's observation shape and size, the latent
size, the likelihood and the preset's hyperparameters (its defaults updated
with the user's values).  Presets register themselves with
:func:`register_preset`; :func:`get_preset` rejects unknown names with the
list of valid ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from torch.utils.data import Dataset


@dataclass
class BuildSpec:
    """Everything a preset needs to build a model and its objective.

    :ivar observation_shape: shape of one observation.
    :ivar int latent_dim: latent size.
    :ivar str likelihood: observation model name.
    :ivar int dataset_size: number of training examples N.
    :ivar dict hyper: hyperparameters (preset defaults updated by the user).
    :ivar dataset: the training dataset, for presets that read more from it
        (context sizes, true graphs); may be ``None``.
    """

    observation_shape: tuple[int, ...]
    latent_dim: int
    likelihood: str
    dataset_size: int
    hyper: dict[str, Any]
    dataset: Dataset | None = None


@dataclass(frozen=True)
class Preset:
    """A named model + objective with documented defaults.

    :ivar name: CLI name, e.g. ``"beta-tcvae"``.
    :ivar summary: one line for ``pyro-vae list``.
    :ivar paper: the reference.
    :ivar build: ``BuildSpec -> (model, loss)``.
    :ivar hyperparameters: defaults of the objective's hyperparameters.
    :ivar training: default ``lr``, ``batch_size``, ``steps``, ``latent_dim``.
    """

    name: str
    summary: str
    paper: str
    build: Callable[[BuildSpec], tuple[Any, Any]]
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults updated by ``overrides``; unknown keys are an error."""
        unknown = sorted(set(overrides) - set(self.hyperparameters))
        if unknown:
            valid = ", ".join(sorted(self.hyperparameters)) or "none"
            raise ValueError(
                f"preset {self.name!r} has no hyperparameter {', '.join(unknown)}; "
                f"its hyperparameters: {valid}"
            )
        return {**self.hyperparameters, **overrides}


#: training defaults shared by presets unless they override them
#: (disentanglement_lib: Adam 1e-4, batch 64, 300k steps)
DEFAULT_TRAINING = {"lr": 1e-4, "batch_size": 64, "steps": 300_000, "latent_dim": 10}

_PRESETS: dict[str, Preset] = {}


def register_preset(preset: Preset) -> Preset:
    """Add a preset under its name (names are unique)."""
    if preset.name in _PRESETS:
        raise ValueError(f"preset {preset.name!r} is registered twice")
    _PRESETS[preset.name] = preset
    return preset


def presets() -> dict[str, Preset]:
    """All presets, by name."""
    return dict(sorted(_PRESETS.items()))


def get_preset(name: str) -> Preset:
    """The preset called ``name``.

    :raises ValueError: unknown name (the message lists the valid ones).
    """
    try:
        return _PRESETS[name]
    except KeyError:
        valid = ", ".join(sorted(_PRESETS))
        raise ValueError(f"unknown model {name!r}; valid models: {valid}") from None


def training_defaults(preset: Preset) -> dict[str, Any]:
    return {**DEFAULT_TRAINING, **preset.training}


def spec_for_dataset(
    dataset: Dataset,
    latent_dim: int,
    hyper: Mapping[str, Any] | None = None,
    likelihood: str | None = None,
) -> BuildSpec:
    """A :class:`BuildSpec` reading shape, size and likelihood from ``dataset``."""
    shape = getattr(dataset, "observation_shape", None)
    if not shape:
        first = dataset[0]
        shape = tuple((first[0] if isinstance(first, tuple | list) else first).shape)
    return BuildSpec(
        observation_shape=tuple(shape),
        latent_dim=int(latent_dim),
        likelihood=likelihood or getattr(dataset, "default_likelihood", "bernoulli"),
        dataset_size=len(dataset),
        hyper=dict(hyper or {}),
        dataset=dataset,
    )


def build(
    name: str,
    dataset: Dataset,
    latent_dim: int | None = None,
    likelihood: str | None = None,
    **hyper: Any,
) -> tuple[Any, Any]:
    """Build ``(model, loss)`` of preset ``name`` for ``dataset``.

    Example::

        >>> from pyro_vae import zoo
        >>> from pyro_vae.data import DSprites
        >>> model, loss = zoo.build("beta-vae", DSprites(), latent_dim=10, beta=4.0)
        >>> type(model).__name__, model.input_shape, type(model.encoder).__name__
        ('VAE', (1, 64, 64), 'Conv64Encoder')
        >>> type(loss).__name__, loss.beta(0)
        ('BetaELBO', 4.0)
        >>> zoo.build("beta-vae", DSprites(), gamma=2.0)
        Traceback (most recent call last):
            ...
        ValueError: preset 'beta-vae' has no hyperparameter gamma; its hyperparameters: beta
    """
    preset = get_preset(name)
    latent_dim = latent_dim or training_defaults(preset)["latent_dim"]
    spec = spec_for_dataset(dataset, latent_dim, preset.resolve(hyper), likelihood)
    return preset.build(spec)
