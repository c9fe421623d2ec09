"""SmallNORB: 48,600 grey images of 50 toys, five factors, resized from 96x96 to 64x64.

SmallNORB (LeCun, Huang and Bottou, "Learning Methods for Generic Object Recognition with
Invariance to Pose and Lighting", CVPR 2004; https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/)
comes as two chunks, training (instances 4, 6, 7, 8, 9 of each category) and testing
(instances 0, 1, 2, 3, 5), of 24,300 stereo pairs each; each chunk is three files in NORB's
binary matrix format, ``smallnorb-<chunk>-dat.mat`` (``uint8`` ``(24300, 2, 96, 96)``),
``-cat.mat`` (``int32`` ``(24300,)``: the category) and ``-info.mat`` (``int32``
``(24300, 4)``: instance, elevation, azimuth, lighting). A header of little-endian ``int32``
gives a magic number (``0x1E3D4C55`` bytes, ``0x1E3D4C54`` int32), the number of dimensions
and at least three sizes.

===========  =====  ========================================================
factor       size   meaning
===========  =====  ========================================================
category     5      four-legged animal, human figure, airplane, truck, car
instance     10     which of the category's 10 toys
elevation    9      30 to 70 degrees in steps of 5
azimuth      18     0 to 340 degrees in steps of 20 (the file's 0, 2, ..., 34,
                    halved)
lighting     6      lighting condition
===========  =====  ========================================================

This is disentanglement_lib's factor layout (``disentanglement_lib/data/ground_truth/norb.py``:
``factor_sizes = [5, 10, 9, 18, 6]``, columns category then the four ``info`` columns, the
azimuth halved), over both chunks (training first). The observation is the first image of
each stereo pair, resized to 64 x 64 with PIL's Lanczos filter, as there.

**Instance.** disentanglement_lib does not treat the instance as a latent factor
(``latent_factor_indices = [0, 2, 3, 4]``): its metrics see four factors and draw the instance
at random for each observation. Here the instance is a factor like the others (the dataset is
then the full grid of 48,600 tuples, and observations are deterministic), so metrics score
five factors; a representation is not expected to encode the instance, which lowers
scores that average over factors compared with disentanglement_lib's.

**Reading.** The ``dat`` files are memory-mapped; a batch reads its rows and resizes them
(``in_memory=True`` resizes all 48,600 images once and keeps them: 199 MB).

**Checksum.** No digest is published; the files' headers, sizes and labels are checked. A
digest you list in ``SHA256SUMS``/``MD5SUMS`` in the folder is checked for the downloaded
``.mat.gz`` files that are present (:func:`~pyro_vae.data.download.prepare_files`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyro_vae.data._file_rows import FileRows
from pyro_vae.data._images import resize_uint8
from pyro_vae.data.base import FactorGridDataset
from pyro_vae.data.download import Checksums, prepare_files
from pyro_vae.data.files import DatasetFileError
from pyro_vae.data.registry import register_dataset
from pyro_vae.data.sources import NORB_CHUNKS, get_source, require_root

__all__ = ["FACTOR_NAMES", "FACTOR_SIZES", "NUM_IMAGES", "SmallNORB"]

FACTOR_NAMES: tuple[str, ...] = ("category", "instance", "elevation", "azimuth", "lighting")
FACTOR_SIZES: tuple[int, ...] = (5, 10, 9, 18, 6)
NUM_IMAGES = 48_600
CATEGORY_NAMES = ("animal", "human", "airplane", "truck", "car")
_MAGIC = {0x1E3D4C55: np.dtype(np.uint8), 0x1E3D4C54: np.dtype("<i4")}
_SOURCE = get_source("smallnorb")
_LOAD_BLOCK = 4096


def read_norb_header(path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    """``(dtype, shape, data offset)`` of a NORB binary matrix file.

    :raises pyro_vae.data.files.DatasetFileError: unknown magic number, bad header, or a file
        shorter or longer than its header says.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        raw = f.read(24)

    def bad(problem: str) -> DatasetFileError:
        return DatasetFileError(
            f"smallnorb: {str(path)!r} is not a valid NORB matrix file: {problem}. Get it "
            f"again: {_SOURCE.files[0].urls[0].rsplit('/', 1)[0]}/{path.name}.gz (no checksum "
            f"is published)"
        )

    if len(raw) < 20:
        raise bad(f"it has {size} bytes, too few for a header")
    magic, ndim = (int(v) for v in np.frombuffer(raw[:8], "<i4"))
    if magic not in _MAGIC or not 1 <= ndim <= 4:
        raise bad(f"magic number {magic:#x} with {ndim} dimensions")
    dims = max(3, ndim)
    if len(raw) < 8 + 4 * dims:
        raise bad(f"it has {size} bytes, too few for a header")
    shape = tuple(int(v) for v in np.frombuffer(raw[8 : 8 + 4 * dims], "<i4")[:ndim])
    offset = 8 + 4 * dims
    expected = offset + int(np.prod(shape)) * _MAGIC[magic].itemsize
    if size != expected:
        raise bad(f"it has {size:,} bytes, its header says {expected:,} (truncated?)")
    return _MAGIC[magic], shape, offset


class SmallNORB(FileRows, FactorGridDataset):
    """SmallNORB read from the six ``.mat`` files of its two chunks.

    Items are ``(x, factors)``: ``x`` a ``float32`` tensor ``(1, 64, 64)`` in [0, 1] (the
    resized ``uint8`` grey values divided by 255), ``factors`` the ``int64`` classes
    ``(category, instance, elevation, azimuth, lighting)`` of sizes ``(5, 10, 9, 18, 6)``.
    Item ``i`` is the factor tuple whose mixed-radix number is ``i`` (lighting fastest); the
    files' rows are in another order, mapped through their labels.

    Source layout and where we differ: the files, factor sizes and preprocessing are
    disentanglement_lib's (``data/ground_truth/norb.py``); there the instance is a nuisance
    drawn at random and the other four are the latent factors, here all five are factors
    (see :mod:`pyro_vae.data.norb`). Items are in grid order (there: file order), images are
    float32 ``(1, 64, 64)`` (there float64 ``(64, 64, 1)``) and are read lazily.

    :param root: the data root; the files go to ``ROOT/small_norb/`` (decompressed, or as
        the downloaded ``.mat.gz``, which are decompressed next to themselves on first use).
    :param checksums: for the ``.mat.gz`` files present: ``"auto"``: digests listed in
        ``SHA256SUMS``/``MD5SUMS`` in the folder (none is published); ``None``: no check; a
        mapping ``{file name: digest}``.
    :param bool allow_subset: accept files with fewer rows (each factor tuple at most once,
        e.g. test files); :meth:`observations_from_factors` then raises ``KeyError`` for a
        tuple they lack.
    :param bool in_memory: resize all images once and keep them (199 MB).
    :raises FileNotFoundError: files are missing (the message lists them and where they go).
    :raises pyro_vae.data.files.DatasetFileError: a file is truncated or corrupt, or its
        labels are outside the grid, repeated, or (without ``allow_subset``) incomplete.
    """

    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    _subset_name = "SmallNORB"
    _read_errors = (OSError, ValueError)
    observation_shape = (1, 64, 64)
    default_likelihood = "bernoulli"

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        checksums: Checksums = "auto",
        allow_subset: bool = False,
        in_memory: bool = False,
    ) -> None:
        root = Path(root).expanduser()
        prepare_files("smallnorb", _SOURCE, root, checksums)
        self.path = _SOURCE.files[0].path(root).parent
        self.allow_subset = bool(allow_subset)
        self.in_memory = bool(in_memory)
        self._dat: list[tuple[Path, tuple[int, ...], int]] = []
        labels = []
        for chunk in NORB_CHUNKS:
            dat, cat, info = (self.path / f"smallnorb-{chunk}-{kind}.mat" for kind in
                              ("dat", "cat", "info"))  # fmt: skip
            labels.append(self._labels(dat, cat, info))
        classes = np.concatenate(labels).astype(np.int64)
        self._n = len(classes)
        sizes = np.asarray(FACTOR_SIZES)
        bad = (classes < 0) | (classes >= sizes)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise self._error(
                f"row {row} (training rows first) has {FACTOR_NAMES[col]} class "
                f"{classes[row, col]}, outside [0, {sizes[col] - 1}]"
            )
        grid = np.ravel_multi_index(tuple(classes.T), FACTOR_SIZES)
        if len(np.unique(grid)) != self._n:
            raise self._error("some factor tuples occur more than once")
        if self._n != NUM_IMAGES and not self.allow_subset:
            raise self._error(
                f"the files hold {self._n:,} images; expected {NUM_IMAGES:,} (pass "
                f"allow_subset=True for files with part of the grid)"
            )
        self._classes = classes
        self._row_of_grid = np.full(NUM_IMAGES, -1, dtype=np.int64)
        self._row_of_grid[grid] = np.arange(self._n)
        self._grid_rows = np.argsort(grid) if self._n == NUM_IMAGES else None
        self._images_in_memory: np.ndarray | None = None
        self._lazy = None  # per-process memory maps of the dat files
        self._lazy_pid: int | None = None

    def _error(self, problem: str) -> DatasetFileError:
        return DatasetFileError(
            f"smallnorb: the files in {str(self.path)!r} are not valid SmallNORB files: "
            f"{problem}.\n{_SOURCE.instructions(None)}"
        )

    def _labels(self, dat: Path, cat: Path, info: Path) -> np.ndarray:
        """``(n, 5)`` factor classes of one chunk, after checking its three headers."""
        headers = {p: read_norb_header(p) for p in (dat, cat, info)}
        (ddtype, dshape, doffset), (cdtype, cshape, coff), (idtype, ishape, ioff) = (
            headers[dat], headers[cat], headers[info]
        )  # fmt: skip
        n = dshape[0] if dshape else 0
        for path, dtype, shape, want_dtype, want in (
            (dat, ddtype, dshape, np.uint8, (n, 2, 96, 96)),
            (cat, cdtype, cshape, np.int32, (n,)),
            (info, idtype, ishape, np.int32, (n, 4)),
        ):
            if dtype != want_dtype or shape != want:
                raise self._error(
                    f"{path.name} holds {dtype} {shape}, expected {np.dtype(want_dtype)} {want}"
                )
        category = np.fromfile(cat, "<i4", offset=coff)
        instance, elevation, azimuth, lighting = (
            np.fromfile(info, "<i4", offset=ioff).reshape(n, 4).T
        )
        if (azimuth % 2).any():
            row = int(np.argmax(azimuth % 2))
            raise self._error(f"{info.name} row {row} has odd azimuth {azimuth[row]}")
        self._dat.append((dat, dshape, doffset))
        return np.stack([category, instance, elevation, azimuth // 2, lighting], axis=1)

    # -- reading images ----------------------------------------------------------------------

    def _maps(self) -> list[np.memmap]:
        if self._lazy is None or self._lazy_pid != os.getpid():
            with self._reading():
                self._lazy = [
                    np.memmap(path, np.uint8, mode="r", offset=offset, shape=shape)
                    for path, shape, offset in self._dat
                ]
            self._lazy_pid = os.getpid()
        return self._lazy

    def _read(self, rows: np.ndarray) -> np.ndarray:
        """``(n, 64, 64)`` uint8: the resized left images of file rows ``rows``."""
        maps = self._maps()
        first = len(maps[0])
        out = np.empty((len(rows), 96, 96), dtype=np.uint8)
        with self._reading():
            in_first = rows < first
            out[in_first] = maps[0][rows[in_first], 0]
            out[~in_first] = maps[1][rows[~in_first] - first, 0]
        return resize_uint8(out)

    def load(self) -> SmallNORB:
        """Resize all images now and keep them (what ``in_memory=True`` does on first use).

        :return: ``self``.
        """
        if self._images_in_memory is None:
            images = np.empty((self._n, 64, 64), dtype=np.uint8)
            for start in range(0, self._n, _LOAD_BLOCK):
                rows = np.arange(start, min(start + _LOAD_BLOCK, self._n))
                images[rows] = self._read(rows)
            self._images_in_memory = images
        return self

    def _images(self, rows: np.ndarray) -> np.ndarray:
        if self.in_memory:
            return self.load()._images_in_memory[rows]
        return self._read(rows)

    def _lazy_is_h5(self) -> bool:
        return False  # memory maps: nothing to close

    # -- the dataset protocol: items in grid order (the full files) or file order (subset) ----

    def _rows_of_items(self, index) -> np.ndarray:
        items = self._check_rows(index)
        return items if self._grid_rows is None else self._grid_rows[items]

    def index_to_factors(self, index: int | np.ndarray) -> np.ndarray:
        """Factor classes of item(s) ``index``: shape ``(n, 5)``."""
        return self._classes[self._rows_of_items(index)]

    def factors_to_index(self, factors: np.ndarray) -> np.ndarray:
        """Item index of each factor tuple (the inverse of :meth:`index_to_factors`)."""
        if self._grid_rows is None:
            return FileRows.factors_to_index(self, factors)  # file rows
        return FactorGridDataset.factors_to_index(self, factors)  # grid order

    def observations_from_factors(self, factors: np.ndarray) -> torch.Tensor:
        """Images for factor classes ``(n, 5)``: ``(n, 1, 64, 64)`` float32 in [0, 1]."""
        return self._to_tensor(self._images(FileRows.factors_to_index(self, factors)))

    @staticmethod
    def _to_tensor(images: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(images).unsqueeze(1).to(torch.float32).div_(255.0)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        rows = self._rows_of_items(indices)
        return self._to_tensor(self._images(rows)), torch.from_numpy(self._classes[rows])


@register_dataset(
    "smallnorb",
    "SmallNORB files from --data-root (small_norb/): 48,600 grey images resized to 64x64, "
    "factors category, instance, elevation, azimuth, lighting",
    needs_files=True,
)
def _smallnorb(root: str | None = None, **options) -> SmallNORB:
    return SmallNORB(require_root("smallnorb", root), **options)
