"""3dshapes: 480,000 RGB 64x64 images of a 3D object in a room, six ground-truth factors.

3dshapes (Burgess and Kim, 2018, https://github.com/google-deepmind/3d-shapes; used in Kim
and Mnih, "Disentangling by Factorising", ICML 2018) is the full grid of six factors, read
from DeepMind's HDF5 file ``3dshapes.h5``: dataset ``images`` of shape (480000, 64, 64, 3),
``uint8`` RGB, and dataset ``labels`` of shape (480000, 6), ``float64``, the factor values in
the order below (DeepMind's README and loading notebook).

==============  =====  ====================================  =============================
factor          size   value of class ``k`` in the file      meaning
==============  =====  ====================================  =============================
floor_hue       10     ``k / 10`` (0, 0.1, ..., 0.9)          hue of the floor
wall_hue        10     ``k / 10``                             hue of the walls
object_hue      10     ``k / 10``                             hue of the object
scale           8      ``linspace(0.75, 1.25, 8)[k]``         size of the object
shape           4      ``k`` (0, 1, 2, 3)                     kind of object
orientation     15     ``linspace(-30, 30, 15)[k]`` (deg.)    turn of the room about the
                                                              vertical axis
==============  =====  ====================================  =============================

DeepMind's README writes "linearly spaced in [0, 1]" for the hues and the scale; the values
stored in the file are the ones above (as public loaders record them). Classes are what
counts: for the full file this loader takes each factor's class as the rank of the value among
the column's 10, 10, 10, 8, 4 and 15 distinct values, so it does not depend on the exact
values, and :meth:`Shapes3D.factor_values` returns the file's own.

**Order.** "We varied one latent at a time (starting from orientation, then shape, etc)": item
``i`` is the factor tuple whose mixed-radix number in the order above is ``i``, orientation
varying fastest (the notebook's ``get_index``), exactly the convention of
:class:`~pyro_vae.data.base.FactorGridDataset`. The loader checks it on the full file.

**Reading.** By default images are read lazily: each batch is one h5py selection of the
sorted unique rows, put back in the order asked for (:func:`~pyro_vae.data.files.read_h5_rows`).
``in_memory=True`` reads the whole ``images`` array once (5.9 GB for the full file) and serves
batches from memory. If the file stores ``images`` in chunks that span many images, every lazy
read decompresses whole chunks; a warning then recommends ``in_memory=True``.

**Checksum.** No digest is published by DeepMind; the file's MD5
``099a2078d58cec4daad0702c55d06868`` (267,573,662 bytes) is the one recorded by independent
loaders (e.g. disent) and is checked by default (see :mod:`pyro_vae.data.sources`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyro_vae.data._file_rows import FileRows
from pyro_vae.data.base import FactorGridDataset
from pyro_vae.data.files import (
    ChecksumError,
    DatasetFileError,
    expected_checksum,
    read_h5_rows,
    require_file,
    verify_checksum,
)
from pyro_vae.data.registry import register_dataset
from pyro_vae.data.sources import get_source, require_root

__all__ = [
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "FACTOR_VALUES",
    "FILE_NAME",
    "NUM_IMAGES",
    "Shapes3D",
]

FACTOR_NAMES: tuple[str, ...] = (
    "floor_hue",
    "wall_hue",
    "object_hue",
    "scale",
    "shape",
    "orientation",
)
FACTOR_SIZES: tuple[int, ...] = (10, 10, 10, 8, 4, 15)
NUM_IMAGES = 480_000
IMAGE_SHAPE = (64, 64, 3)
FILE_NAME = "3dshapes.h5"


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


#: The value of each factor class stored in ``labels`` (see the module's table).
FACTOR_VALUES: dict[str, np.ndarray] = {
    "floor_hue": _frozen(np.arange(10) / 10),
    "wall_hue": _frozen(np.arange(10) / 10),
    "object_hue": _frozen(np.arange(10) / 10),
    "scale": _frozen(np.linspace(0.75, 1.25, 8)),
    "shape": _frozen(np.arange(4, dtype=np.float64)),
    "orientation": _frozen(np.linspace(-30.0, 30.0, 15)),
}

_SOURCE = get_source("3dshapes")
_PUBLISHED = _SOURCE.files[0].checksum
_HOW_TO_GET = (
    f"Download {_SOURCE.files[0].urls[0]} (MD5 {_PUBLISHED.split(':')[1]}) and pass its path "
    f"or the directory that holds it, e.g. `pyro-vae data fetch 3dshapes --root DIR`."
)
_LOAD_BLOCK = 8192  # images read at a time when loading into memory (96 MiB)
_LAZY_CHUNK_WARN = 64  # warn about lazy reads from chunks holding more images than this
_VALUE_ATOL = 1e-4


class Shapes3D(FileRows, FactorGridDataset):
    """3dshapes read from DeepMind's ``3dshapes.h5``.

    Items are ``(x, factors)``: ``x`` a ``float32`` tensor ``(3, 64, 64)`` with values in
    [0, 1] (the ``uint8`` RGB values divided by 255, channels first), ``factors`` the
    ``int64`` classes ``(floor_hue, wall_hue, object_hue, scale, shape, orientation)`` of sizes
    ``(10, 10, 10, 8, 4, 15)``. Item order is the file's, which is the mixed-radix order of
    the factors (see :mod:`pyro_vae.data.shapes3d`), so :meth:`index_to_factors` and
    :meth:`factors_to_index` are arithmetic.

    A file with fewer than 480,000 images (a subset of the grid, each factor tuple at most
    once, in any order; e.g. a test file) is accepted when its checksum is the one expected
    (give ``checksum=`` or list it in ``SHA256SUMS``; the published digest is that of the full
    file): items are then the file's rows, its label values must be those of
    :data:`FACTOR_VALUES`, and :meth:`observations_from_factors` raises ``KeyError`` for a
    factor tuple the file lacks.

    :param path: ``3dshapes.h5`` or the directory holding it.
    :param checksum: ``"auto"`` (default): the digest listed for the file in a ``SHA256SUMS``
        or ``MD5SUMS`` file next to it, else the published MD5 of the original; a string
        ``"<algorithm>:<hex>"`` (or bare SHA-256 hex): that digest; ``None``: no check.
    :param bool in_memory: read all images into memory on first use (5.9 GB for the full
        file) instead of reading each batch from the file.
    :raises FileNotFoundError: the file is missing (the message says where to get it).
    :raises pyro_vae.data.files.ChecksumError: the file's digest is not the expected one.
    :raises pyro_vae.data.files.DatasetFileError: the file is not a readable 3dshapes file
        (truncated, corrupt, wrong datasets, shapes or labels).
    """

    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    _subset_name = "3dshapes"
    _read_errors = (OSError, ValueError, KeyError, RuntimeError)
    observation_shape = (3, 64, 64)
    default_likelihood = "bernoulli"

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        checksum: str | None = "auto",
        in_memory: bool = False,
    ) -> None:
        self.path = self._resolve(path)
        self.in_memory = bool(in_memory)
        expected = expected_checksum(self.path, checksum, _PUBLISHED)
        if expected is not None:
            try:
                verify_checksum(self.path, expected, "3dshapes")
            except ChecksumError as e:
                raise ChecksumError(
                    f"{e} The original is at {_SOURCE.files[0].urls[0]}. For a file you made "
                    f"yourself (re-saved or a subset), pass checksum='<algorithm>:<hex>' or "
                    f"list its digest in SHA256SUMS next to it (`sha256sum {FILE_NAME} > "
                    f"SHA256SUMS`)."
                ) from None
        with self._reading():
            self._validate()
        self._images_in_memory: np.ndarray | None = None
        self._lazy = None  # per-process h5py dataset
        self._lazy_pid: int | None = None

    # -- locating and validating -------------------------------------------------------------

    @staticmethod
    def _resolve(path: str | os.PathLike) -> Path:
        path = Path(path).expanduser()
        if path.is_dir():
            path = path / FILE_NAME
            if not path.is_file():
                raise FileNotFoundError(
                    f"3dshapes: {FILE_NAME!r} is not in the directory {str(path.parent)!r}. "
                    f"{_HOW_TO_GET}"
                )
        return require_file(path, "3dshapes", _HOW_TO_GET)

    def _error(self, problem: str) -> DatasetFileError:
        return DatasetFileError(
            f"3dshapes: {str(self.path)!r} is not a valid 3dshapes file: {problem}. "
            f"The original is {FILE_NAME} from {_SOURCE.files[0].urls[0]} "
            f"(MD5 {_PUBLISHED.split(':')[1]})."
        )

    def _validate(self) -> None:
        import h5py

        with h5py.File(self.path, "r") as h:
            missing = [k for k in ("images", "labels") if not isinstance(h.get(k), h5py.Dataset)]
            if missing:
                raise self._error(
                    f"missing datasets {missing}; expected 'images' (N, 64, 64, 3) uint8 and "
                    f"'labels' (N, 6) float64, found {sorted(h.keys())}"
                )
            images, labels = h["images"], h["labels"]
            if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE or images.dtype != np.uint8:
                raise self._error(
                    f"images must be uint8 of shape (N, 64, 64, 3), got {images.dtype} "
                    f"{images.shape}"
                )
            n = images.shape[0]
            if labels.shape != (n, 6) or labels.dtype.kind != "f":
                raise self._error(
                    f"labels must be float of shape ({n}, 6), got {labels.dtype} {labels.shape}"
                )
            if not 1 <= n <= NUM_IMAGES:
                raise self._error(f"it holds {n} images; expected 1 to {NUM_IMAGES}")
            values = labels[...].astype(np.float64)
            self._chunk_rows = images.chunks[0] if images.chunks else 1
        self._n = n
        if n == NUM_IMAGES:
            self._classes, self._values_of_class = self._classes_by_rank(values)
            grid = np.ravel_multi_index(tuple(self._classes.T), FACTOR_SIZES)
            out_of_order = np.flatnonzero(grid != np.arange(NUM_IMAGES))
            if out_of_order.size:
                raise self._error(
                    f"the labels are not in the 3dshapes order (first at row "
                    f"{out_of_order[0]}: factors {tuple(self._classes[out_of_order[0]])})"
                )
            self._row_of_grid = None
        else:
            self._classes = self._classes_by_value(values)
            self._values_of_class = FACTOR_VALUES
            grid = np.ravel_multi_index(tuple(self._classes.T), FACTOR_SIZES)
            if len(np.unique(grid)) != n:
                raise self._error("some factor tuples occur more than once")
            self._row_of_grid = np.full(NUM_IMAGES, -1, dtype=np.int64)
            self._row_of_grid[grid] = np.arange(n)

    def _classes_by_rank(self, values: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Classes of the full file: the rank of each value among its column's values."""
        classes = np.empty(values.shape, dtype=np.int64)
        found: dict[str, np.ndarray] = {}
        for k, (name, size) in enumerate(zip(FACTOR_NAMES, FACTOR_SIZES, strict=True)):
            distinct, classes[:, k] = np.unique(values[:, k], return_inverse=True)
            if len(distinct) != size:
                raise self._error(
                    f"factor {name} (labels column {k}) has {len(distinct)} distinct values, "
                    f"expected {size}"
                )
            found[name] = _frozen(distinct)
        return classes, found

    def _classes_by_value(self, values: np.ndarray) -> np.ndarray:
        """Classes of a subset file: the index of each value in :data:`FACTOR_VALUES`."""
        classes = np.empty(values.shape, dtype=np.int64)
        for k, name in enumerate(FACTOR_NAMES):
            known = FACTOR_VALUES[name]
            nearest = np.abs(values[:, k, None] - known[None, :]).argmin(axis=1)
            wrong = ~np.isclose(values[:, k], known[nearest], rtol=0.0, atol=_VALUE_ATOL)
            if wrong.any():
                row = int(np.argmax(wrong))
                raise self._error(
                    f"row {row} has {name} value {values[row, k]}, not one of "
                    f"{np.round(known, 4).tolist()}"
                )
            classes[:, k] = nearest
        return classes

    # -- reading images ----------------------------------------------------------------------

    def load(self) -> Shapes3D:
        """Read all images into memory now (what ``in_memory=True`` does on first use).

        :return: ``self``.
        """
        if self._images_in_memory is None:
            import h5py

            images = np.empty((self._n, *IMAGE_SHAPE), dtype=np.uint8)
            with self._reading(), h5py.File(self.path, "r") as h:
                ds = h["images"]
                block = max(1, _LOAD_BLOCK // self._chunk_rows) * self._chunk_rows
                for start in range(0, self._n, block):
                    rows = np.s_[start : min(start + block, self._n)]
                    ds.read_direct(images, rows, rows)
            self._images_in_memory = images
        return self

    def _lazy_source(self):
        if self._lazy is None or self._lazy_pid != os.getpid():
            import h5py

            with self._reading():
                self._lazy = h5py.File(self.path, "r", rdcc_nbytes=32 << 20)["images"]
            if self._chunk_rows > _LAZY_CHUNK_WARN:
                warnings.warn(
                    f"3dshapes: {str(self.path)!r} stores images in chunks of "
                    f"{self._chunk_rows} images, so reading random batches from the file "
                    f"(in_memory=False) decompresses whole chunks and is slow; use "
                    f"in_memory=True (about {self._n * 12288 / 2**30:.1f} GiB of memory)",
                    stacklevel=4,
                )
            self._lazy_pid = os.getpid()
        return self._lazy

    def _images(self, rows: np.ndarray) -> np.ndarray:
        """``(n, 64, 64, 3)`` uint8 images of file rows ``rows``."""
        if self.in_memory:
            return self.load()._images_in_memory[rows]
        source = self._lazy_source()
        with self._reading():
            return read_h5_rows(source, rows)

    @staticmethod
    def _to_tensor(images: np.ndarray) -> torch.Tensor:
        """``(n, 64, 64, 3)`` uint8 -> ``(n, 3, 64, 64)`` float32 in [0, 1]."""
        x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        return x.to(torch.float32).div_(255.0)

    # -- the dataset protocol (closing, pickling, len, rows, sampling: FileRows) -------------

    def index_to_factors(self, index: int | np.ndarray) -> np.ndarray:
        """Factor classes of item(s) ``index``: shape ``(n, 6)``."""
        return self._classes[self._check_rows(index)]

    def factor_values(self, factors: np.ndarray) -> np.ndarray:
        """The file's label values for factor classes: ``(n, 6)`` float64."""
        f = self._check_factors(factors)
        cols = [self._values_of_class[name][f[:, k]] for k, name in enumerate(FACTOR_NAMES)]
        return np.stack(cols, axis=1)

    def observations_from_factors(self, factors: np.ndarray) -> torch.Tensor:
        """Images for factor classes ``(n, 6)``: ``(n, 3, 64, 64)`` float32 in [0, 1]."""
        return self._to_tensor(self._images(self.factors_to_index(factors)))

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        rows = self._check_rows(indices)
        return self._to_tensor(self._images(rows)), torch.from_numpy(self._classes[rows])


@register_dataset(
    "3dshapes",
    "3dshapes.h5 from --data-root: 480,000 RGB 64x64 images, factors floor/wall/object hue, "
    "scale, shape, orientation",
    needs_files=True,
)
def _shapes3d(root: str | None = None, **options) -> Shapes3D:
    return Shapes3D(require_root("3dshapes", root), **options)
