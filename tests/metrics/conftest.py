"""A tiny ground-truth dataset and representation functions for the metric tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pyro_vae.data.base import FactorGridDataset


class TinyGrid(FactorGridDataset):
    """Three factors; an observation is the factor tuple scaled to [0, 1]."""

    factor_names = ("shape", "scale", "position")
    factor_sizes = (3, 5, 8)
    observation_shape = (3,)
    default_likelihood = "normal"

    def __init__(self) -> None:
        self.renders = 0  # observations rendered so far

    def observations_from_factors(self, factors: np.ndarray) -> torch.Tensor:
        factors = self._check_factors(factors)
        self.renders += len(factors)
        sizes = np.asarray(self.factor_sizes, dtype=np.float32) - 1
        return torch.from_numpy(factors.astype(np.float32) / sizes)


MONOTONE_MAPS = (np.exp, lambda t: t**3 + t, lambda t: np.tanh(2 * t - 1), np.log1p)


def monotone_codes(factors: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Factors through random increasing maps, columns permuted.

    The maps are mild (slopes within a factor ~3 on [0, 1]) so that 20
    equal-width bins still separate every factor level.

    :returns: ``(codes, perm)`` with ``codes[:, i] = map(factors[:, perm[i]])``.
    """
    f = np.asarray(factors, dtype=np.float64)
    perm = rng.permutation(f.shape[1])
    cols = []
    for i, k in enumerate(perm):
        scale = rng.uniform(0.5, 1.0)
        cols.append(MONOTONE_MAPS[i % len(MONOTONE_MAPS)](scale * f[:, k] / max(1, f[:, k].max())))
    return np.stack(cols, axis=1), perm


class MonotoneRepresentation:
    """``x -> codes``: each observation coordinate through an increasing map,
    coordinates permuted (an ideal, disentangled representation)."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.perm = rng.permutation(3)
        self.calls: list[int] = []

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(len(x))
        x = x[:, self.perm].double()
        return torch.stack([torch.exp(x[:, 0]), x[:, 1] ** 3 + x[:, 1], torch.tanh(2 * x[:, 2])], 1)


class RandomRepresentation:
    """``x -> codes`` independent of ``x``."""

    def __init__(self, dim: int = 4, seed: int = 0) -> None:
        self.gen = torch.Generator().manual_seed(seed)
        self.dim = dim

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.randn(len(x), self.dim, generator=self.gen)


@pytest.fixture
def grid() -> TinyGrid:
    return TinyGrid()
