"""Datasets by name, for the zoo and the command line.

A dataset module registers a factory ``factory(root=None, **options)``::

    @register_dataset("dsprites", "procedural dSprites, 737,280 64x64 binary images")
    def _dsprites(root=None, **options):
        return DSprites(**options)

``get_dataset("dsprites")`` then builds it; an unknown name raises an error
that lists the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch.utils.data import Dataset


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    summary: str
    factory: Callable[..., Dataset]
    needs_files: bool = False


_REGISTRY: dict[str, DatasetEntry] = {}


def register_dataset(name: str, summary: str, needs_files: bool = False):
    """Decorator registering ``factory(root=None, **options) -> Dataset`` under ``name``."""

    def decorate(factory: Callable[..., Dataset]) -> Callable[..., Dataset]:
        if name in _REGISTRY:
            raise ValueError(f"dataset {name!r} is registered twice")
        _REGISTRY[name] = DatasetEntry(name, summary, factory, needs_files)
        return factory

    return decorate


def dataset_entries() -> dict[str, DatasetEntry]:
    """All registered datasets, by name."""
    return dict(sorted(_REGISTRY.items()))


def get_dataset(name: str, root: str | None = None, **options) -> Dataset:
    """Build the dataset registered as ``name``.

    :raises ValueError: unknown name (the message lists the valid names).
    """
    try:
        entry = _REGISTRY[name]
    except KeyError:
        valid = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"unknown dataset {name!r}; valid datasets: {valid}") from None
    return entry.factory(root=root, **options)
