"""A resumable stream of shuffled minibatches.

The trainer draws batches from a :class:`BatchStream` instead of a
``DataLoader`` iterator because its position can be checkpointed and
restored exactly: each epoch's order is ``torch.randperm`` from a private
generator, and the state is that generator's state at the start of the
epoch plus the position inside it (a few bytes, not the permutation).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset
from torch.utils.data._utils.collate import default_collate


def fetch_batch(data: Dataset | torch.Tensor, indices: torch.Tensor) -> Any:
    """Items ``indices`` of ``data`` as one batch.

    Uses ``data.get_batch`` (vectorized, see
    :class:`~pyro_vae.data.base.GroundTruthDataset`) when present, indexes a
    tensor directly, and otherwise collates single items.
    """
    if torch.is_tensor(data):
        return data[indices]
    get_batch = getattr(data, "get_batch", None)
    if get_batch is not None:
        return get_batch(indices.numpy())
    return default_collate([data[int(i)] for i in indices])


class BatchStream:
    """Endless shuffled minibatches of ``batch_size`` items (incomplete last
    batches of an epoch are dropped).

    Example::

        >>> import torch
        >>> from pyro_vae.data.stream import BatchStream
        >>> stream = BatchStream(torch.arange(6), batch_size=3, seed=0)
        >>> epoch = torch.cat([next(stream), next(stream)])
        >>> sorted(epoch.tolist())  # an epoch visits every item once
        [0, 1, 2, 3, 4, 5]
        >>> state = stream.state_dict()
        >>> expected = [next(stream) for _ in range(3)]
        >>> resumed = BatchStream(torch.arange(6), batch_size=3, seed=123)
        >>> resumed.load_state_dict(state)
        >>> all(torch.equal(next(resumed), batch) for batch in expected)
        True

    :param data: a map-style dataset or a tensor of observations.
    :param int batch_size: items per batch.
    :param int seed: seed of the private shuffling generator.
    """

    def __init__(self, data: Dataset | torch.Tensor, batch_size: int, seed: int = 0) -> None:
        self.data = data
        self.size = len(data)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if self.size < batch_size:
            raise ValueError(
                f"the dataset has {self.size} items, fewer than one batch of {batch_size}; "
                "use a smaller --batch-size"
            )
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch = 0
        self.position = 0
        self._epoch_state = self.generator.get_state()
        self._order: torch.Tensor | None = None

    @property
    def batches_per_epoch(self) -> int:
        return self.size // self.batch_size

    def _new_epoch(self) -> None:
        self._epoch_state = self.generator.get_state()
        self._order = torch.randperm(self.size, generator=self.generator)
        self.position = 0
        self.epoch += 1

    def next_indices(self) -> torch.Tensor:
        if self._order is None or self.position + self.batch_size > self.size:
            self._new_epoch()
        idx = self._order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return idx

    def __next__(self) -> Any:
        return fetch_batch(self.data, self.next_indices())

    def __iter__(self) -> BatchStream:
        return self

    def state_dict(self) -> dict[str, Any]:
        return {
            "epoch_generator_state": self._epoch_state,
            "epoch": self.epoch,
            "position": self.position,
            "size": self.size,
            "batch_size": self.batch_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["size"] != self.size or state["batch_size"] != self.batch_size:
            raise ValueError(
                f"cannot resume: the checkpoint was written for {state['size']} items in "
                f"batches of {state['batch_size']}, this run has {self.size} in batches of "
                f"{self.batch_size}"
            )
        self.generator.set_state(state["epoch_generator_state"])
        self.epoch = state["epoch"]
        self.position = state["position"]
        if self.epoch == 0:
            self._order = None
        else:
            self._epoch_state = self.generator.get_state()
            self._order = torch.randperm(self.size, generator=self.generator)
