"""MPI3D: RGB 64x64 images of a robot arm holding an object, seven ground-truth factors.

MPI3D (Gondal et al., "On the Transfer of Inductive Bias from Simulation to the Real World:
a New Disentanglement Dataset", NeurIPS 2019; https://github.com/rr-learning/disentanglement_dataset)
comes in three variants with files: ``toy`` (simplistic renderings), ``realistic``
(realistic renderings) and ``real`` (photographs). Each is one ``.npz`` file
``mpi3d_<variant>.npz`` with a single array ``images`` of shape ``(N, 64, 64, 3)``, ``uint8``,
holding the full factor grid in mixed-radix order, the last factor fastest (the README's
``array.reshape([6, 6, 2, 3, 3, 40, 40, 64, 64, 3])``; disentanglement_lib's
``disentanglement_lib/data/ground_truth/mpi3d.py`` indexes with the same bases).

================  ======  ====================================================
factor            size    values (the README's table, 6-valued files)
================  ======  ====================================================
object_color      6 / 4   white, green, red, blue, brown, olive
object_shape      6 / 4   cone, cube, cylinder, hexagonal, pyramid, sphere
object_size       2       small, large
camera_height     3       top, center, bottom
background_color  3       purple, sea green, salmon
horizontal_axis   40      first degree of freedom of the arm, 0..39
vertical_axis     40      second degree of freedom of the arm, 0..39
================  ======  ====================================================

**Two grids.** The files published now (the README's "Downloads") have 6 object colors and
6 shapes: 1,036,800 images. disentanglement_lib (``mpi3d.py``) gives factor sizes
``[4, 4, 2, 3, 3, 40, 40]`` (460,800 images) for ``mpi3d_toy`` and ``mpi3d_realistic`` (the
files of the 2019 challenge, without the held-out colors and shapes; its
``bin/dlib_download_data`` fetched ``sim_toy_64x_ordered_without_heldout_factors.npz``) and
``[6, 6, 2, 3, 3, 40, 40]`` for ``mpi3d_real``. This loader takes the grid from the number
of images: 1,036,800 gives 6 colors and shapes, 460,800 gives 4 (classes 0..3 in the file's
order; which 4 of the 6 is not documented).

**Reading.** ``images`` is memory-mapped when the ``.npz`` stores it uncompressed
(``np.savez``): nothing is read until a batch asks for its rows. A compressed member cannot be
mapped; then ``in_memory=True`` is needed, which loads all images (12.7 GB for 1,036,800
images, 5.7 GB for 460,800).

**Checksum.** No digest is published for these files (see :mod:`pyro_vae.data.sources`);
the loader checks the zip structure, the ``.npy`` header (shape, dtype) and the image count
only, and a digest you list in ``SHA256SUMS``/``MD5SUMS`` next to the file.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyro_vae.data._file_rows import FileRows
from pyro_vae.data.base import FactorGridDataset
from pyro_vae.data.files import (
    DatasetFileError,
    expected_checksum,
    npy_header,
    npz_memmap,
    require_file,
    verify_checksum,
)
from pyro_vae.data.registry import register_dataset
from pyro_vae.data.sources import MPI3D_VARIANTS, get_source, require_root

__all__ = ["FACTOR_NAMES", "GRIDS", "MPI3D"]

FACTOR_NAMES: tuple[str, ...] = (
    "object_color",
    "object_shape",
    "object_size",
    "camera_height",
    "background_color",
    "horizontal_axis",
    "vertical_axis",
)
#: Factor sizes by number of object colors/shapes: 6 (files published now), 4 (the
#: challenge files disentanglement_lib describes for toy and realistic).
GRIDS: dict[int, tuple[int, ...]] = {
    6: (6, 6, 2, 3, 3, 40, 40),
    4: (4, 4, 2, 3, 3, 40, 40),
}
IMAGE_SHAPE = (64, 64, 3)


def _how_to_get(variant: str) -> str:
    remote = get_source(f"mpi3d-{variant}").files[0]
    return (
        f"Download {remote.urls[0]} into ROOT/{remote.folder}/ (no checksum is published), "
        f"e.g. `pyro-vae data fetch mpi3d-{variant} --root ROOT`, and pass ROOT, the folder "
        f"or the file."
    )


class MPI3D(FileRows, FactorGridDataset):
    """One MPI3D variant read from ``mpi3d_<variant>.npz``.

    Items are ``(x, factors)``: ``x`` a ``float32`` tensor ``(3, 64, 64)`` in [0, 1] (the
    ``uint8`` RGB values divided by 255, channels first), ``factors`` the ``int64`` classes of
    :data:`FACTOR_NAMES`. Item ``i`` is row ``i`` of the file, the factor tuple whose
    mixed-radix number is ``i`` (see :mod:`pyro_vae.data.mpi3d`).

    Source layout and where we differ: the layout is the README's and disentanglement_lib's
    (``data/ground_truth/mpi3d.py``: key ``images``, same factor order and index bases,
    pixels divided by 255). disentanglement_lib fixes 4 colors and shapes for toy and
    realistic; the files published now have 6, so the grid is taken from the image count
    (``object_values`` overrides it). disentanglement_lib loads the whole array; here it is
    memory-mapped when the file allows. Images are ``(3, 64, 64)`` float32 rather than
    ``(64, 64, 3)`` float64.

    :param path: the data root (holding ``mpi3d_<variant>/mpi3d_<variant>.npz``, the
        layout of ``pyro-vae data fetch`` and of disentanglement_lib), the folder holding the
        file, or the file.
    :param str variant: ``"toy"``, ``"realistic"`` or ``"real"`` (the file's name).
    :param checksum: ``"auto"`` (default): the digest listed for the file in ``SHA256SUMS``
        or ``MD5SUMS`` next to it, else none (none is published); ``"<algorithm>:<hex>"``:
        that digest; ``None``: no check.
    :param object_values: number of object colors and shapes, 6 or 4; ``None``: from the
        image count (a subset file: 6).
    :param bool allow_subset: accept a file holding only the first ``N`` images of the grid
        (e.g. a test file); :meth:`observations_from_factors` then raises ``KeyError`` for
        the others.
    :param bool in_memory: load all images on first use instead of memory-mapping them
        (needed when the file's ``images`` is compressed).
    :raises FileNotFoundError: the file is missing (the message says where to get it and
        where it goes).
    :raises pyro_vae.data.files.ChecksumError: the file's digest is not the one listed.
    :raises pyro_vae.data.files.DatasetFileError: the file is truncated, corrupt, or not an
        MPI3D file (no ``images``, wrong shape, dtype or count).
    """

    factor_names = FACTOR_NAMES
    _read_errors = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error)
    observation_shape = (3, 64, 64)
    default_likelihood = "bernoulli"

    def __init__(
        self,
        path: str | os.PathLike,
        variant: str = "toy",
        *,
        checksum: str | None = "auto",
        object_values: int | None = None,
        allow_subset: bool = False,
        in_memory: bool = False,
    ) -> None:
        if variant not in MPI3D_VARIANTS:
            raise ValueError(f"unknown MPI3D variant {variant!r}; use one of {MPI3D_VARIANTS}")
        if object_values is not None and object_values not in GRIDS:
            raise ValueError(f"object_values must be 6, 4 or None, got {object_values!r}")
        self.variant = variant
        self._subset_name = f"MPI3D {variant}"
        self.file_name = f"mpi3d_{variant}.npz"
        self.path = self._resolve(Path(path).expanduser())
        self.allow_subset = bool(allow_subset)
        self.in_memory = bool(in_memory)
        expected = expected_checksum(self.path, checksum, None)
        if expected is not None:
            verify_checksum(self.path, expected, f"mpi3d-{variant}")
        with self._reading():
            self._validate(object_values)
        self._images_in_memory: np.ndarray | None = None
        self._lazy = None  # per-process memory map
        self._lazy_pid: int | None = None

    # -- locating and validating -------------------------------------------------------------

    def _resolve(self, path: Path) -> Path:
        name, folder = self.file_name, f"mpi3d_{self.variant}"
        if path.is_dir():
            for candidate in (path / folder / name, path / name):
                if candidate.is_file():
                    return candidate
            raise FileNotFoundError(
                f"mpi3d-{self.variant}: {name!r} is neither in {str(path / folder)!r} nor in "
                f"{str(path)!r}. {_how_to_get(self.variant)}"
            )
        return require_file(path, f"mpi3d-{self.variant}", _how_to_get(self.variant))

    def _error(self, problem: str) -> DatasetFileError:
        return DatasetFileError(
            f"mpi3d-{self.variant}: {str(self.path)!r} is not a valid MPI3D file: {problem}. "
            f"{_how_to_get(self.variant)}"
        )

    def _validate(self, object_values: int | None) -> None:
        with zipfile.ZipFile(self.path) as zf:
            names = zf.namelist()
            if "images.npy" not in names:
                raise self._error(f"no array 'images' in the .npz (found {sorted(names)})")
            with zf.open("images.npy") as f:
                shape, dtype, fortran = npy_header(f)
            self._compressed = zf.getinfo("images.npy").compress_type != zipfile.ZIP_STORED
        if len(shape) != 4 or tuple(shape[1:]) != IMAGE_SHAPE or dtype != np.uint8 or fortran:
            raise self._error(
                f"images must be uint8 of shape (N, 64, 64, 3) in C order, got {dtype} {shape}"
                + (" in Fortran order" if fortran else "")
            )
        n = int(shape[0])
        by_count = {int(np.prod(sizes)): k for k, sizes in GRIDS.items()}
        if object_values is None:
            object_values = by_count.get(n, 6) if self.allow_subset else by_count.get(n)
        if object_values is None:
            raise self._error(
                f"it holds {n:,} images; expected {', '.join(f'{c:,}' for c in by_count)} "
                f"(pass allow_subset=True for a file with the first images of the grid)"
            )
        self.factor_sizes = GRIDS[object_values]
        full = int(np.prod(self.factor_sizes))
        if not (1 <= n <= full if self.allow_subset else n == full):
            raise self._error(f"it holds {n:,} images; expected {full:,}")
        if self._compressed and not self.in_memory:
            raise DatasetFileError(
                f"mpi3d-{self.variant}: in {str(self.path)!r} the images array is compressed "
                f"and cannot be memory-mapped; pass in_memory=True (about {n * 12288 / 2**30:.1f}"
                f" GiB of memory) or re-save it uncompressed with np.savez."
            )
        self._n = n
        if n == full:
            self._row_of_grid = None
            self._classes = None
        else:  # the first n grid items: row i is grid item i
            self._row_of_grid = np.full(full, -1, dtype=np.int64)
            self._row_of_grid[:n] = np.arange(n)
            self._classes = np.stack(np.unravel_index(np.arange(n), self.factor_sizes), axis=1)

    # -- reading images ----------------------------------------------------------------------

    def load(self) -> MPI3D:
        """Read all images into memory now (what ``in_memory=True`` does on first use).

        :return: ``self``.
        """
        if self._images_in_memory is None:
            with self._reading(), np.load(self.path, allow_pickle=False) as npz:
                images = np.asarray(npz["images"])
            self._images_in_memory = images
        return self

    def _lazy_source(self) -> np.memmap:
        if self._lazy is None or self._lazy_pid != os.getpid():
            with self._reading():
                self._lazy = npz_memmap(self.path, "images.npy")
            self._lazy_pid = os.getpid()
        return self._lazy

    def _lazy_is_h5(self) -> bool:
        return False  # a memory map: nothing to close

    def _images(self, rows: np.ndarray) -> np.ndarray:
        """``(n, 64, 64, 3)`` uint8 images of file rows ``rows``."""
        if self.in_memory:
            return self.load()._images_in_memory[rows]
        source = self._lazy_source()
        with self._reading():
            return np.asarray(source[rows])

    @staticmethod
    def _to_tensor(images: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        return x.to(torch.float32).div_(255.0)

    # -- the dataset protocol (closing, pickling, len, rows, sampling: FileRows) -------------

    def observations_from_factors(self, factors: np.ndarray) -> torch.Tensor:
        """Images for factor classes ``(n, 7)``: ``(n, 3, 64, 64)`` float32 in [0, 1]."""
        return self._to_tensor(self._images(self.factors_to_index(factors)))

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        rows = self._check_rows(indices)
        factors = np.stack(np.unravel_index(rows, self.factor_sizes), axis=1).astype(np.int64)
        return self._to_tensor(self._images(rows)), torch.from_numpy(factors)


def _register(variant: str) -> None:
    @register_dataset(
        f"mpi3d-{variant}",
        f"mpi3d_{variant}.npz from --data-root: MPI3D {variant}, 1,036,800 (or 460,800) RGB "
        f"64x64 images, 7 factors (object color, shape, size, camera height, background, "
        f"two arm axes)",
        needs_files=True,
    )
    def _mpi3d(root: str | None = None, **options) -> MPI3D:
        return MPI3D(require_root(f"mpi3d-{variant}", root), variant, **options)


for _variant in MPI3D_VARIANTS:
    _register(_variant)
