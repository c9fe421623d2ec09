"""A reproducible batch of examples for the analysis tools."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pyro_vae.analysis.interface import inputs_to
from pyro_vae.data.stream import fetch_batch
from pyro_vae.sites import OBSERVED


@dataclass
class Examples:
    """A batch drawn from a dataset.

    :ivar ids: the dataset indices, shape ``(n,)``.
    :ivar x: the observations.
    :ivar inputs: further model/guide arguments (e.g. ``{"u": u}``), batched.
    """

    ids: np.ndarray
    x: torch.Tensor
    inputs: dict[str, Any]

    def head(self, n: int) -> Examples:
        """The first ``n`` examples."""
        inputs = {k: (v[:n] if torch.is_tensor(v) else v) for k, v in self.inputs.items()}
        return Examples(self.ids[:n], self.x[:n], inputs)


def draw_examples(model, dataset, n: int, seed: int = 0, device=None) -> Examples:
    """``n`` distinct items of ``dataset`` chosen by ``numpy.random.default_rng(seed)``,
    mapped to model inputs with ``model.inputs_from_batch``.

    :param device: where to put the tensors (default ``model.device``).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    ids = np.sort(rng.choice(len(dataset), size=min(n, len(dataset)), replace=False))
    inputs = dict(model.inputs_from_batch(fetch_batch(dataset, torch.from_numpy(ids))))
    device = device if device is not None else model.device
    inputs = inputs_to(inputs, device)
    x = inputs.pop(OBSERVED)
    return Examples(ids, x, inputs)
