"""The ground-truth dataset protocol.

A ground-truth dataset knows its generative factors and can render
observations from them, which is what the disentanglement metrics need::

    ds.factor_names        # ("shape", "scale", ...)
    ds.factor_sizes        # (3, 6, ...): number of values of each factor
    ds.observation_shape   # (C, H, W) or (D,)
    ds.sample_factors(n, rng)              # (n, K) int64 factor classes
    ds.observations_from_factors(factors)  # (n, *observation_shape) float32 tensor
    ds[i]                  # (x, factors) as tensors: a torch Dataset
    ds.get_batch(indices)  # (x, factors) for many indices at once

``rng`` is always an explicit :class:`numpy.random.Generator`
(``np.random.default_rng(seed)``); nothing reads global random state.

:class:`FactorGridDataset` implements everything for a dataset that is the
full Cartesian product of its factor values (dSprites, 3dshapes): item ``i``
is the factor tuple whose mixed-radix index, in the order of
``factor_names``, is ``i``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset


class GroundTruthDataset(Dataset):
    """Base class of datasets with known generative factors.

    Subclasses set :attr:`factor_names`, :attr:`factor_sizes`,
    :attr:`observation_shape` and implement :meth:`sample_factors`,
    :meth:`observations_from_factors`, ``__len__`` and :meth:`get_batch`.
    """

    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    observation_shape: tuple[int, ...] = ()
    #: the likelihood that fits the data range (see :mod:`pyro_vae.likelihoods`)
    default_likelihood: str = "bernoulli"

    @property
    def num_factors(self) -> int:
        return len(self.factor_sizes)

    def _check_factors(self, factors: np.ndarray) -> np.ndarray:
        factors = np.asarray(factors, dtype=np.int64)
        if factors.ndim == 1:
            factors = factors[None, :]
        if factors.ndim != 2 or factors.shape[1] != self.num_factors:
            raise ValueError(
                f"factors must have shape (n, {self.num_factors}) for factors "
                f"{self.factor_names}, got {factors.shape}"
            )
        sizes = np.asarray(self.factor_sizes)
        if (factors < 0).any() or (factors >= sizes).any():
            bad = np.argwhere((factors < 0) | (factors >= sizes))[0]
            raise ValueError(
                f"factor {self.factor_names[bad[1]]!r} has class {factors[tuple(bad)]}, "
                f"outside [0, {sizes[bad[1]] - 1}]"
            )
        return factors

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` factor tuples, shape ``(n, num_factors)``, dtype int64."""
        raise NotImplementedError

    def observations_from_factors(self, factors: np.ndarray) -> torch.Tensor:
        """Render observations for factor classes of shape ``(n, num_factors)``."""
        raise NotImplementedError

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, factors)`` for many items at once (what the trainer calls)."""
        items = [self[int(i)] for i in indices]
        return torch.stack([x for x, _ in items]), torch.stack([f for _, f in items])

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, torch.Tensor]:
        """``(factors, observations)`` for ``n`` random factor tuples."""
        factors = self.sample_factors(n, rng)
        return factors, self.observations_from_factors(factors)

    def sample_observations(self, n: int, rng: np.random.Generator) -> torch.Tensor:
        return self.sample(n, rng)[1]


class FactorGridDataset(GroundTruthDataset):
    """A dataset that is the full grid of its factor values.

    Subclasses implement :meth:`observations_from_factors` only.

    Example::

        >>> import numpy as np, torch
        >>> from pyro_vae.data import FactorGridDataset
        >>> class Grid(FactorGridDataset):
        ...     factor_names = ("a", "b")
        ...     factor_sizes = (2, 3)
        ...     observation_shape = (2,)
        ...     def observations_from_factors(self, factors):
        ...         return torch.as_tensor(np.asarray(factors), dtype=torch.float32)
        >>> ds = Grid()
        >>> len(ds)
        6
        >>> ds.index_to_factors([0, 1, 5]).tolist()  # mixed radix, the last factor fastest
        [[0, 0], [0, 1], [1, 2]]
        >>> ds.factors_to_index(ds.index_to_factors(np.arange(6))).tolist()
        [0, 1, 2, 3, 4, 5]
        >>> ds[4]
        (tensor([1., 1.]), tensor([1, 1]))
        >>> ds.factors_to_index([[1, 3]])
        Traceback (most recent call last):
            ...
        ValueError: factor 'b' has class 3, outside [0, 2]
    """

    def __len__(self) -> int:
        return math.prod(self.factor_sizes)

    def index_to_factors(self, index: int | np.ndarray) -> np.ndarray:
        """Factor classes of item(s) ``index``: shape ``(n, num_factors)``."""
        index = np.atleast_1d(np.asarray(index, dtype=np.int64))
        if (index < 0).any() or (index >= len(self)).any():
            raise IndexError(f"index out of range for a dataset of {len(self)} items")
        return np.stack(np.unravel_index(index, self.factor_sizes), axis=1).astype(np.int64)

    def factors_to_index(self, factors: np.ndarray) -> np.ndarray:
        """Item index of each factor tuple: the inverse of :meth:`index_to_factors`."""
        factors = self._check_factors(factors)
        return np.ravel_multi_index(tuple(factors.T), self.factor_sizes).astype(np.int64)

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        cols = [rng.integers(0, size, size=n) for size in self.factor_sizes]
        return np.stack(cols, axis=1).astype(np.int64)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if index < 0:
            index += len(self)
        factors = self.index_to_factors(index)
        return self.observations_from_factors(factors)[0], torch.from_numpy(factors[0])

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        factors = self.index_to_factors(np.asarray(indices))
        return self.observations_from_factors(factors), torch.from_numpy(factors)
