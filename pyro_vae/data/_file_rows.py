"""The part of a file-backed factor dataset that is the same for every file: items are rows.

:class:`FileRows` is a mixin for a :class:`~pyro_vae.data.base.FactorGridDataset` whose items
are the rows of one file (the full factor grid in grid order, or a subset of it in any order).
It turns low-level read errors into one that names the file, keeps the per-process lazy file
handle (closed by :meth:`FileRows.close`, dropped when pickled for a worker process), checks
item indices, and maps factor tuples to the file's rows.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np
import torch

from pyro_vae.data.files import DatasetFileError

__all__ = ["FileRows"]


class FileRows:
    """Rows of a file as the items of a factor-grid dataset (a mixin; put it first in bases).

    The subclass sets ``path``, ``_n`` (rows in the file), ``_classes`` (``(n, num_factors)``
    factor classes of the rows), ``_row_of_grid`` (``None`` for the full grid in grid order,
    else the row of each grid index or -1), ``_lazy``/``_lazy_pid`` (the per-process handle
    for lazy reads and the process that opened it), ``_subset_name`` (the dataset's name in
    messages), ``_read_errors`` (the low-level errors of a bad file) and ``_error(problem)``
    (a :class:`~pyro_vae.data.files.DatasetFileError` naming the file), and implements
    ``get_batch``.
    """

    path: os.PathLike
    _n: int
    _classes: np.ndarray
    _row_of_grid: np.ndarray | None
    _subset_name: str
    _read_errors: tuple[type[BaseException], ...]

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn low-level read errors into a :class:`DatasetFileError` naming the file."""
        try:
            yield
        except DatasetFileError:
            raise
        except self._read_errors as e:
            raise self._error(
                f"cannot read it ({type(e).__name__}: {e}); it may be truncated or corrupt"
            ) from e

    def _lazy_is_h5(self) -> bool:
        """Whether the lazy handle is an h5py dataset (whose file :meth:`close` closes)."""
        return True

    def close(self) -> None:
        """Close the file handle kept for lazy reads (reopened when needed)."""
        if self._lazy is not None and self._lazy_is_h5() and self._lazy_pid == os.getpid():
            self._lazy.file.close()
        self._lazy = self._lazy_pid = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_lazy"] = state["_lazy_pid"] = None  # reopened in the new process
        return state

    def __len__(self) -> int:
        return self._n

    def _check_rows(self, index) -> np.ndarray:
        rows = np.atleast_1d(np.asarray(index, dtype=np.int64))
        if (rows < 0).any() or (rows >= self._n).any():
            raise IndexError(f"index out of range for a dataset of {self._n} items")
        return rows

    def factors_to_index(self, factors: np.ndarray) -> np.ndarray:
        """Item index of each factor tuple (the inverse of :meth:`index_to_factors`).

        :raises KeyError: a factor tuple is not in a subset file.
        """
        grid = super().factors_to_index(factors)
        if self._row_of_grid is None:
            return grid
        rows = self._row_of_grid[grid]
        if (rows < 0).any():
            missing = self._check_factors(factors)[np.argmax(rows < 0)]
            raise KeyError(
                f"factors {tuple(int(v) for v in missing)} are not in {str(self.path)!r} "
                f"(a subset of {self._subset_name})"
            )
        return rows

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` factor tuples uniformly from those the file holds."""
        if self._row_of_grid is None:
            return super().sample_factors(n, rng)
        return self._classes[rng.integers(0, self._n, size=n)]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if index < 0:
            index += self._n
        x, f = self.get_batch([index])
        return x[0], f[0]
