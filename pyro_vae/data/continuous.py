"""Datasets with continuous ground-truth factors and an observed context.

Identifiability benchmarks (iVAE's nonlinear ICA, sVAE's sparse mechanism
shift) are not factor grids: their factors are continuous latent variables,
drawn afresh for every example, and each example comes with an observed
auxiliary variable -- a segment or an action -- that the models condition on.
:class:`ContinuousFactorDataset` adapts the
:class:`~pyro_vae.data.GroundTruthDataset` protocol to them:

* items are ``(x, factors, u)``: the observation, the true latent vector
  (float32) and the context as a one-hot float32 vector of
  :attr:`context_dim` classes;
* :attr:`factor_sizes` are ``0`` for every factor: **0 means continuous**
  (there is no finite set of values); metrics for these datasets compare
  codes with factors by correlation (MCC) instead of by factor classes;
* :meth:`sample_factors` draws factor vectors (float64) from the generative
  process, :meth:`sample_with_context` also returns the context, and
  :meth:`observations_from_factors` renders observations from factors (the
  noiseless mean unless an ``rng`` is given for the observation noise).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from pyro_vae.data.base import GroundTruthDataset


def leaky_relu(h: np.ndarray, slope: float) -> np.ndarray:
    """``max(h, slope * h)`` for ``0 < slope < 1``."""
    return np.where(h > 0, h, slope * h)


def leaky_relu_inverse(h: np.ndarray, slope: float) -> np.ndarray:
    """The inverse of :func:`leaky_relu`."""
    return np.where(h > 0, h, h / slope)


def one_hot(labels: np.ndarray | torch.Tensor, num_classes: int) -> torch.Tensor:
    """Float32 one-hot rows for integer ``labels``."""
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    return torch.nn.functional.one_hot(labels, num_classes).to(torch.float32)


class ContinuousFactorDataset(GroundTruthDataset):
    """Base class: observations, continuous factors and a categorical context,
    all held in memory.

    Subclasses fill :attr:`x` (float32 tensor ``(n, *observation_shape)``),
    :attr:`factors` (float32 tensor ``(n, num_factors)``), :attr:`labels`
    (int64 array ``(n,)`` of context classes), set :attr:`factor_names`,
    :attr:`observation_shape` and :attr:`context_dim`, and implement
    :meth:`sample_with_context` and :meth:`observations_from_factors`.
    """

    x: torch.Tensor
    factors: torch.Tensor
    labels: np.ndarray
    #: number of context classes (segments, actions): the size of ``u``
    context_dim: int = 0

    @property
    def factor_sizes(self) -> tuple[int, ...]:  # type: ignore[override]
        """``0`` per factor: the factors are continuous."""
        return (0,) * len(self.factor_names)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def context(self, indices: Sequence[int] | np.ndarray) -> torch.Tensor:
        """One-hot context ``u`` of items ``indices``."""
        return one_hot(self.labels[np.asarray(indices)], self.context_dim)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)} items")
        return self.x[index], self.factors[index], self.context([index])[0]

    def get_batch(
        self, indices: Sequence[int] | np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x, factors, u)`` for many items at once."""
        idx = torch.as_tensor(np.asarray(indices), dtype=torch.int64)
        return self.x[idx], self.factors[idx], self.context(idx.numpy())

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` factor vectors, shape ``(n, num_factors)``, float64."""
        return self.sample_with_context(n, rng)[0]

    def sample_with_context(
        self, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(factors, labels)``: ``n`` factor vectors and their context classes."""
        raise NotImplementedError
