"""Random generators of the dataset-level metric functions."""

from __future__ import annotations

import numpy as np


def make_rng(rng: np.random.Generator | int | None) -> tuple[np.random.Generator, int | None]:
    """``(generator, seed)`` from a generator or an integer seed.

    The seed is returned so that results can record it; it is ``None`` when
    a generator was passed (its state is not a seed).
    """
    if isinstance(rng, np.random.Generator):
        return rng, None
    if rng is None:
        raise ValueError("pass an explicit seed or numpy.random.Generator")
    seed = int(rng)
    return np.random.default_rng(seed), seed
