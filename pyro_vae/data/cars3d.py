"""Cars3D: 17,568 RGB images of 183 car models seen from 96 viewpoints, three factors.

Cars3D (Reed et al., "Deep Visual Analogy-Making", NIPS 2015; files from
http://www.scottreed.info/, archive ``nips2015-analogy-data.tar.gz``, folder ``data/cars``)
is one MATLAB ``.mat`` file per car model. Each holds an array ``im`` of shape
``(128, 128, 3, 24, 4)``, ``uint8``: height, width, RGB, 24 azimuths, 4 elevations (the layout
disentanglement_lib's ``disentanglement_lib/data/ground_truth/cars3d.py`` reads: it permutes
``im`` to ``(24, 4, 128, 128, 3)`` and numbers image ``j`` of a file with azimuth ``j // 4``
and elevation ``j % 4``).

===========  =====  ====================================================
factor       size   meaning
===========  =====  ====================================================
elevation    4      camera elevation (class ``e`` is ``im[..., a, e]``)
azimuth      24     camera azimuth (class ``a``)
object_type  183    car model: the ``.mat`` file's rank in name order
===========  =====  ====================================================

Item ``i`` is the factor tuple whose mixed-radix number, in this order, is ``i`` (object type
fastest), disentanglement_lib's order. Images are resized to 64 x 64 with PIL's Lanczos
filter, as disentanglement_lib does (``PIL.Image.thumbnail`` with ``ANTIALIAS``, which for
a square 128 x 128 image is the same resize).

**Reading.** The ``.mat`` files (MATLAB v5, possibly compressed) cannot be read lazily: all
of them are read and resized on construction (a few seconds) and kept in memory as ``uint8``
(216 MB for the 183 cars).

**Checksum.** No digest of the archive or the ``.mat`` files is published; each file is
checked for its ``im`` array's shape and dtype, and against a digest you list in
``SHA256SUMS``/``MD5SUMS`` in the folder.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyro_vae.data._file_rows import FileRows
from pyro_vae.data._images import resize_uint8
from pyro_vae.data.base import FactorGridDataset
from pyro_vae.data.files import DatasetFileError, expected_checksum, verify_checksum
from pyro_vae.data.registry import register_dataset
from pyro_vae.data.sources import get_source, require_root

__all__ = ["FACTOR_NAMES", "FACTOR_SIZES", "Cars3D"]

FACTOR_NAMES: tuple[str, ...] = ("elevation", "azimuth", "object_type")
FACTOR_SIZES: tuple[int, ...] = (4, 24, 183)
FOLDER = "cars"

_SOURCE = get_source("cars3d")
_HOW_TO_GET = (
    f"Get {_SOURCE.files[0].urls[0]} (no checksum is published) and extract its data/cars/*.mat "
    f"({FACTOR_SIZES[2]} files) into ROOT/{FOLDER}/: {_SOURCE.note.split(': ', 1)[1]}"
)


class Cars3D(FileRows, FactorGridDataset):
    """Cars3D read from the folder of ``.mat`` files.

    Items are ``(x, factors)``: ``x`` a ``float32`` tensor ``(3, 64, 64)`` in [0, 1] (the
    resized ``uint8`` RGB values divided by 255, channels first), ``factors`` the ``int64``
    classes ``(elevation, azimuth, object_type)`` of sizes ``(4, 24, 183)``, in
    disentanglement_lib's grid order (see :mod:`pyro_vae.data.cars3d`).

    Source layout and where we differ: disentanglement_lib (``data/ground_truth/cars3d.py``)
    reads every file whose name contains ``.mat`` in the order the file system lists them,
    so its object classes depend on the machine; here the files are taken in sorted name
    order. It keeps the images as float64 ``(64, 64, 3)``; here they are ``uint8`` in memory
    and float32 ``(3, 64, 64)`` per batch. It accepts any number of files up to 183 silently
    (missing cars stay black images); here exactly 183 are required unless
    ``allow_subset=True``.

    :param path: the data root (holding ``cars/``, the layout of disentanglement_lib's
        download script) or the folder of ``.mat`` files itself.
    :param checksum: ``"auto"``: check each file against a digest listed in ``SHA256SUMS``
        or ``MD5SUMS`` in the folder, when listed (none is published); ``None``: no check.
    :param bool allow_subset: accept fewer than 183 files (e.g. a test folder): they are
        object types ``0..k-1``, items are their images, and :meth:`observations_from_factors`
        raises ``KeyError`` for other object types.
    :raises FileNotFoundError: no ``.mat`` files (the message says where to get them and
        where they go).
    :raises pyro_vae.data.files.ChecksumError: a file's digest is not the one listed.
    :raises pyro_vae.data.files.DatasetFileError: a file is truncated, corrupt, or not a
        Cars3D file (no ``im``, wrong shape or dtype), or there are not 183 files.
    """

    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    _subset_name = "Cars3D"
    _read_errors = (OSError, EOFError, ValueError, KeyError, TypeError, zlib.error)
    observation_shape = (3, 64, 64)
    default_likelihood = "bernoulli"

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        checksum: str | None = "auto",
        allow_subset: bool = False,
    ) -> None:
        if checksum not in ("auto", None):
            raise ValueError(
                "Cars3D reads 183 files: checksum must be 'auto' (digests listed in SHA256SUMS "
                f"in the folder) or None, got {checksum!r}"
            )
        self.path = self._resolve(Path(path).expanduser())
        self.allow_subset = bool(allow_subset)
        self.files = sorted(p for p in self.path.iterdir() if p.suffix == ".mat")
        k = len(self.files)
        if k > FACTOR_SIZES[2] or (k != FACTOR_SIZES[2] and not self.allow_subset):
            raise self._error(
                f"it holds {k} .mat files; expected {FACTOR_SIZES[2]} (one per car model)"
                + ("" if k > FACTOR_SIZES[2] else "; pass allow_subset=True for fewer")
            )
        images = np.empty((4, 24, k, 64, 64, 3), dtype=np.uint8)
        for o, file in enumerate(self.files):
            if checksum is not None:
                expected = expected_checksum(file, "auto", None)
                if expected is not None:
                    verify_checksum(file, expected, "cars3d")
            images[:, :, o] = self._read_mat(file)
        self._images_in_memory = images.reshape(-1, 64, 64, 3)
        self._n = len(self._images_in_memory)
        self._classes = np.stack(np.unravel_index(np.arange(self._n), (4, 24, k)), axis=1)
        if k == FACTOR_SIZES[2]:
            self._row_of_grid = None
        else:
            self._row_of_grid = np.full(int(np.prod(FACTOR_SIZES)), -1, dtype=np.int64)
            grid = np.ravel_multi_index(tuple(self._classes.T), FACTOR_SIZES)
            self._row_of_grid[grid] = np.arange(self._n)
        self._lazy = self._lazy_pid = None  # nothing is read lazily

    @staticmethod
    def _resolve(path: Path) -> Path:
        if not path.is_dir():
            raise FileNotFoundError(
                f"cars3d: {str(path)!r} is not a directory; pass the data root (holding "
                f"{FOLDER}/) or the folder of .mat files. {_HOW_TO_GET}"
            )
        for folder in (path / FOLDER, path):
            if folder.is_dir() and any(p.suffix == ".mat" for p in folder.iterdir()):
                return folder
        raise FileNotFoundError(
            f"cars3d: no .mat files in {str(path / FOLDER)!r} nor in {str(path)!r}. {_HOW_TO_GET}"
        )

    def _error(self, problem: str) -> DatasetFileError:
        return DatasetFileError(f"cars3d: {str(self.path)!r}: {problem}. {_HOW_TO_GET}")

    def _read_mat(self, file: Path) -> np.ndarray:
        """``(4, 24, 64, 64, 3)`` uint8 images of one car: ``[elevation, azimuth]``."""
        from scipy.io import loadmat

        def bad(problem: str) -> DatasetFileError:
            return DatasetFileError(
                f"cars3d: {str(file)!r} is not a valid Cars3D .mat file: {problem}. {_HOW_TO_GET}"
            )

        try:
            im = loadmat(file, variable_names=["im"]).get("im")
        except self._read_errors as e:
            raise bad(
                f"cannot read it ({type(e).__name__}: {e}); it may be truncated or corrupt"
            ) from e
        if im is None:
            raise bad("it has no array 'im'")
        if im.ndim != 5 or im.shape[2:] != (3, 24, 4) or im.dtype != np.uint8:
            raise bad(f"'im' must be uint8 of shape (H, W, 3, 24, 4), got {im.dtype} {im.shape}")
        if im.shape[0] != im.shape[1] or im.shape[0] < 64:
            raise bad(f"'im' must hold square images of at least 64 x 64, got {im.shape[:2]}")
        views = np.transpose(im, (4, 3, 0, 1, 2))  # (elevation, azimuth, H, W, 3)
        resized = resize_uint8(views.reshape(-1, *im.shape[:3]))
        return resized.reshape(4, 24, 64, 64, 3)

    # -- the dataset protocol (closing, pickling, len, rows, sampling: FileRows) -------------

    @staticmethod
    def _to_tensor(images: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        return x.to(torch.float32).div_(255.0)

    def index_to_factors(self, index: int | np.ndarray) -> np.ndarray:
        """Factor classes of item(s) ``index``: shape ``(n, 3)``."""
        return self._classes[self._check_rows(index)]

    def observations_from_factors(self, factors: np.ndarray) -> torch.Tensor:
        """Images for factor classes ``(n, 3)``: ``(n, 3, 64, 64)`` float32 in [0, 1]."""
        return self._to_tensor(self._images_in_memory[self.factors_to_index(factors)])

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        rows = self._check_rows(indices)
        return (
            self._to_tensor(self._images_in_memory[rows]),
            torch.from_numpy(self._classes[rows]),
        )


@register_dataset(
    "cars3d",
    "Cars3D .mat files from --data-root (cars/): 17,568 RGB images resized to 64x64, factors "
    "elevation, azimuth, object type",
    needs_files=True,
)
def _cars3d(root: str | None = None, **options) -> Cars3D:
    return Cars3D(require_root("cars3d", root), **options)
