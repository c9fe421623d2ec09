"""dSprites: 737,280 binary 64x64 images of 2D sprites with five ground-truth factors.

Two datasets share the factor grid of the original dSprites (Matthey et al., 2017,
https://github.com/deepmind/dsprites-dataset):

* :class:`DSprites` renders the images procedurally (no file needed, nothing random);
* :class:`DSpritesFile` reads the original ``.npz`` or ``.hdf5`` file.

=============  =====  ==========================================  ========================
factor         size   values (:meth:`DSprites.factor_values`)     meaning
=============  =====  ==========================================  ========================
shape          3      1, 2, 3                                     square, ellipse, heart
scale          6      ``linspace(0.5, 1, 6)``                     size relative to largest
orientation    40     ``linspace(0, 2 * pi, 40)`` (radians)       counter-clockwise turn
posX           32     ``linspace(0, 1, 32)``                      left to right
posY           32     ``linspace(0, 1, 32)``                      top to bottom
=============  =====  ==========================================  ========================

Item ``i`` has the factor classes whose mixed-radix number, in this order, is ``i`` (posY
varies fastest): the order of the original file, whose leading ``color`` factor has size 1.

**Duplicate images.** As in the original, the 40 orientation values run from 0 to 2*pi
*inclusive*, so orientation classes 0 and 39 are the same rotation and render the same image
(18,432 pairs of items: one per shape, scale, posX and posY). Symmetry adds more: a square
looks the same every 90 degrees and an ellipse every 180 degrees, and 90 degrees is 9.75
orientation steps, so a square's orientation classes ``o`` and ``o + 10`` (``o + 29``; an
ellipse's ``o + 19``, ``o + 20``) differ by a rotation of only 2.3 (4.6) degrees, which for
small sprites often gives the same binary mask. In :class:`DSprites` 62 of the 720 sprites
(shape, scale, orientation) repeat another one, so 63,488 of the 737,280 items repeat an
earlier item's image (673,792 distinct images); ``docs/datasets/dsprites.md`` lists them and
:meth:`DSprites.canonical_factors` maps every item to the first item with its image. Two
items have identical images exactly when their canonical factors are equal; items differing
in shape, scale or position never do. Orientation is identifiable only modulo the shape's
symmetry.

**Throughput** of :meth:`DSprites.get_batch` for batches of 64 random items on one core:
about 700,000 images/s (see ``docs/datasets/dsprites.md`` for the machine), measured by
running this with ``OMP_NUM_THREADS=1 PYTHONPATH=. python -``::

    import collections, time
    import numpy as np, torch
    from pyro_vae.data.dsprites import DSprites
    torch.set_num_threads(1)
    ds = DSprites()
    idx = np.random.default_rng(0).integers(0, len(ds), (5000, 64))
    ds.get_batch(idx[0])  # warm-up
    t = time.perf_counter()
    collections.deque(map(ds.get_batch, idx), maxlen=0)  # discard the batches
    print(round(idx.size / (time.perf_counter() - t)), "images/s")
"""

from __future__ import annotations

import functools
import os
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from pyro_vae.data._file_rows import FileRows
from pyro_vae.data.base import FactorGridDataset
from pyro_vae.data.files import (
    ChecksumError,
    DatasetFileError,
    expected_checksum,
    npy_header,
    npz_memmap,
    read_h5_rows,
    require_file,
    verify_checksum,
)
from pyro_vae.data.registry import register_dataset

__all__ = [
    "DSPRITES_URL",
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "FACTOR_VALUES",
    "HDF5_NAME",
    "KNOWN_CHECKSUMS",
    "NPZ_NAME",
    "NUM_IMAGES",
    "SHAPE_NAMES",
    "DSprites",
    "DSpritesFile",
    "render_sprites",
]

FACTOR_NAMES: tuple[str, ...] = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES: tuple[int, ...] = (3, 6, 40, 32, 32)
SHAPE_NAMES: tuple[str, ...] = ("square", "ellipse", "heart")
NUM_IMAGES = 737_280
IMAGE_SIZE = 64


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


#: The real value of each factor class, as in the original file's ``latents_values``.
FACTOR_VALUES: dict[str, np.ndarray] = {
    "shape": _frozen(np.array([1.0, 2.0, 3.0])),
    "scale": _frozen(np.linspace(0.5, 1.0, 6)),
    "orientation": _frozen(np.linspace(0.0, 2 * np.pi, 40)),
    "posX": _frozen(np.linspace(0.0, 1.0, 32)),
    "posY": _frozen(np.linspace(0.0, 1.0, 32)),
}

NPZ_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
HDF5_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.hdf5"
DSPRITES_URL = f"https://github.com/deepmind/dsprites-dataset/raw/master/{NPZ_NAME}"
#: Published digests of the original files: the ``.npz`` MD5 as listed by several loaders
#: (no SHA-256 of it is published), the ``.hdf5`` SHA-256 (28,024,106 bytes) from
#: TensorFlow Datasets' ``dsprites/checksums.tsv``.
KNOWN_CHECKSUMS: dict[str, str] = {
    "npz": "md5:7da33b31b13a06f4b04a70402ce90c2e",
    "hdf5": "sha256:729fa22e884c9c500e1f17415d580746b4c5894fbbb780a1319bbcfa39a745bb",
}
_HOW_TO_GET = (
    f"Download the original file from {DSPRITES_URL} (or the .hdf5 file next to it, "
    f"{HDF5_NAME}) and pass its path or the directory that holds it."
)


def _factor_values(factors: np.ndarray) -> np.ndarray:
    cols = [FACTOR_VALUES[name][factors[:, k]] for k, name in enumerate(FACTOR_NAMES)]
    return np.stack(cols, axis=1)


# ---------------------------------------------------------------------------------------------
# Procedural rendering
# ---------------------------------------------------------------------------------------------

#: Side of the square patch a sprite is rendered on; the sprite's centre is the centre of the
#: patch's middle pixel (16, 16).
SPRITE_PATCH = 33
_SUB = 4  # sub-samples per pixel and axis
_MAX_SHIFT = FACTOR_SIZES[3] - 1  # 31: posX/posY class k puts the patch's corner at pixel k
# Shape sizes at scale 1, in pixels.
_SQUARE_HALF_SIDE = 10.0  # a 20 px square
_ELLIPSE_SEMI_AXES = (12.0, 6.0)  # a 24 x 12 px ellipse, long axis horizontal at angle 0
# The heart is the region (x^2 + y^2 - 1)^3 <= x^2 y^3 (about 2.28 wide, y from -1 to 1.24,
# lobes up), centred on its bounding box and drawn at 9.6 px per unit: about 22 x 21.5 px.
_HEART_PX_PER_UNIT = 9.6
_HEART_Y_MID = 0.118


def _inside(shape: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Whether points ``(x, y)`` (pixels at scale 1, y up, origin the centre) are inside."""
    if shape == 0:
        return (np.abs(x) <= _SQUARE_HALF_SIDE) & (np.abs(y) <= _SQUARE_HALF_SIDE)
    if shape == 1:
        a, b = _ELLIPSE_SEMI_AXES
        return (x / a) ** 2 + (y / b) ** 2 <= 1.0
    x = x / _HEART_PX_PER_UNIT
    y = y / _HEART_PX_PER_UNIT + _HEART_Y_MID
    return (x * x + y * y - 1.0) ** 3 <= x * x * y**3


def render_sprites() -> np.ndarray:
    """Render the 720 distinct sprites (every shape, scale and orientation) at the centre.

    A pixel is on when at least half of its 4 x 4 sub-samples fall inside the rotated, scaled
    shape. The sub-sample offsets are multiples of 1/8 pixel (exact in floating point), and
    orientation class 39 (2*pi) is rendered with the angle of class 0, so the result is
    deterministic and classes 0 and 39 are identical.

    :return: binary masks of shape ``(3, 6, 40, 33, 33)``, dtype ``uint8``, indexed by
        ``[shape, scale, orientation]``; row index grows downwards, column index rightwards.
    :rtype: numpy.ndarray
    """
    n = SPRITE_PATCH * _SUB
    offsets = (np.arange(n) + 0.5) / _SUB - SPRITE_PATCH / 2  # pixel units from the centre
    u = offsets[None, :]  # x, rightwards
    v = -offsets[:, None]  # y, upwards (rows go down)
    sizes = FACTOR_SIZES[:3]
    out = np.empty((*sizes, SPRITE_PATCH, SPRITE_PATCH), dtype=np.uint8)
    angles = FACTOR_VALUES["orientation"][np.arange(sizes[2]) % (sizes[2] - 1)]
    for o, theta in enumerate(angles):
        c, s = np.cos(theta), np.sin(theta)
        # a sample point is inside the sprite turned by theta iff, turned by -theta, it is
        # inside the upright shape
        x = c * u + s * v
        y = c * v - s * u
        for shape in range(sizes[0]):
            for k, scale in enumerate(FACTOR_VALUES["scale"]):
                inside = _inside(shape, x / scale, y / scale)
                hits = inside.reshape(SPRITE_PATCH, _SUB, SPRITE_PATCH, _SUB).sum(axis=(1, 3))
                out[shape, k, o] = 2 * hits >= _SUB * _SUB
    return out


def _orientation_representatives(sprites: np.ndarray) -> np.ndarray:
    """``rep[shape, scale, o]``: the smallest orientation class whose sprite equals ``o``'s."""
    flat = sprites.reshape(*sprites.shape[:3], -1)
    same = (flat[:, :, :, None, :] == flat[:, :, None, :, :]).all(axis=-1)  # (3, 6, 40, 40)
    return same.argmax(axis=-1).astype(np.int64)


@functools.lru_cache(maxsize=1)
def _sprite_bank() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(sprites, windows, representatives)``, computed once per process.

    Each sprite is put on a zero canvas of side ``64 + 31`` with its patch's corner at
    ``(31, 31)``; the 64 x 64 window whose corner is at ``(31 - posY, 31 - posX)`` is then the
    image with the patch's corner at pixel ``(posY, posX)``. ``windows[sprite, 31 - posY,
    31 - posX]`` gathers a batch of images with one fancy-indexing copy.
    """
    sprites = render_sprites()
    n = sprites.shape[0] * sprites.shape[1] * sprites.shape[2]
    side = IMAGE_SIZE + _MAX_SHIFT
    canvas = np.zeros((n, side, side), dtype=np.uint8)
    corner = _MAX_SHIFT
    canvas[:, corner : corner + SPRITE_PATCH, corner : corner + SPRITE_PATCH] = sprites.reshape(
        n, SPRITE_PATCH, SPRITE_PATCH
    )
    windows = np.lib.stride_tricks.sliding_window_view(
        canvas, (IMAGE_SIZE, IMAGE_SIZE), axis=(1, 2)
    )
    representatives = _orientation_representatives(sprites)
    for a in (sprites, representatives):
        a.setflags(write=False)
    return sprites, windows, representatives


class DSprites(FactorGridDataset):
    """Procedural dSprites: the exact factor grid of the original, rendered by our own code.

    737,280 binary images of shape ``(1, 64, 64)`` (``float32`` in {0, 1}); factors are
    ``int64`` classes ``(shape, scale, orientation, posX, posY)`` of sizes
    ``(3, 6, 40, 32, 32)``; item order is the original file's (see :mod:`pyro_vae.data.dsprites`).

    Geometry (our own, close to the original's look): at scale 1 the square is 20 px wide, the
    ellipse 24 x 12 px and the heart about 22 x 21.5 px; scale shrinks them to half that.
    Orientation turns the sprite counter-clockwise (as displayed) about its centre. The
    sprite's centre is at pixel ``(16 + posY, 16 + posX)``: consecutive position classes move it
    by exactly one pixel, over pixels 16 to 47, and every sprite at every position lies
    entirely inside the canvas. An image is therefore an integer shift of one of the 720
    sprites (:func:`render_sprites`: rendered once per process in about 0.4 s and kept on a
    padded canvas, 6.5 MB in all), so nothing is stored per image and a batch is one
    vectorised gather.

    Duplicates: orientation classes 0 and 39 are both angle 0 (mod 2*pi), as in the original,
    so they render identical images; squares and ellipses also repeat some images across
    orientations 90 (180) degrees apart, their symmetry (see :mod:`pyro_vae.data.dsprites`).
    :meth:`canonical_factors` identifies all identical images exactly.

    Deterministic: no randomness in rendering; the same factors give the same pixels in every
    process.

    Example::

        >>> from pyro_vae.data import DSprites
        >>> ds = DSprites()
        >>> len(ds), ds.factor_sizes
        (737280, (3, 6, 40, 32, 32))
        >>> x, factors = ds[-1]  # posY varies fastest: the last item is the last class of each
        >>> x.shape, factors.tolist()
        (torch.Size([1, 64, 64]), [2, 5, 39, 31, 31])
        >>> x.unique().tolist()  # binary images
        [0.0, 1.0]
        >>> ds.canonical_factors([2, 5, 39, 31, 31]).tolist()  # orientation 39 is 2*pi, i.e. 0
        [[2, 5, 0, 31, 31]]
        >>> bool((ds.images_from_factors([2, 5, 39, 31, 31]) == x.numpy()[0]).all())
        True
    """

    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    observation_shape = (1, IMAGE_SIZE, IMAGE_SIZE)
    default_likelihood = "bernoulli"
    shape_names = SHAPE_NAMES

    def __init__(self) -> None:
        self._sprites, self._windows, self._representatives = _sprite_bank()

    @property
    def sprites(self) -> np.ndarray:
        """The 720 rendered sprites, ``(3, 6, 40, 33, 33)`` read-only ``uint8`` masks."""
        return self._sprites

    def factor_values(self, factors: np.ndarray) -> np.ndarray:
        """Real values of factor classes, as in the original's ``latents_values``.

        :param numpy.ndarray factors: classes of shape ``(n, 5)`` (or ``(5,)``).
        :return: ``(n, 5)`` float64: shape 1..3, scale in [0.5, 1], orientation in radians in
            [0, 2*pi], posX and posY in [0, 1].
        :rtype: numpy.ndarray
        """
        return _factor_values(self._check_factors(factors))

    def canonical_factors(self, factors: np.ndarray) -> np.ndarray:
        """Factors with each orientation class replaced by the smallest orientation class that
        renders the identical sprite (same shape and scale): class 39 becomes 0, and a
        square's or ellipse's symmetric near-repeats become their first occurrence.

        Two items have identical images exactly when their canonical factors are equal (the
        tests check this over the whole dataset).

        :param numpy.ndarray factors: classes of shape ``(n, 5)`` (or ``(5,)``).
        :rtype: numpy.ndarray
        """
        factors = self._check_factors(factors).copy()
        factors[:, 2] = self._representatives[factors[:, 0], factors[:, 1], factors[:, 2]]
        return factors

    def images_from_factors(self, factors: np.ndarray) -> np.ndarray:
        """Binary images as ``uint8`` numpy arrays of shape ``(n, 64, 64)``.

        :param numpy.ndarray factors: classes of shape ``(n, 5)`` (or ``(5,)``).
        :rtype: numpy.ndarray
        """
        f = self._check_factors(factors)
        sprite = (f[:, 0] * self.factor_sizes[1] + f[:, 1]) * self.factor_sizes[2] + f[:, 2]
        return self._windows[sprite, _MAX_SHIFT - f[:, 4], _MAX_SHIFT - f[:, 3]]

    def observations_from_factors(self, factors: np.ndarray) -> torch.Tensor:
        """Render images for factor classes.

        :param numpy.ndarray factors: classes of shape ``(n, 5)`` (or ``(5,)``).
        :return: ``(n, 1, 64, 64)`` float32 tensor with values in {0, 1}.
        :rtype: torch.Tensor
        """
        images = self.images_from_factors(factors)
        return torch.from_numpy(images).unsqueeze(1).to(torch.float32)


@register_dataset(
    "dsprites",
    "procedural dSprites: 737,280 binary 64x64 images, factors shape/scale/orientation/posX/posY",
)
def _dsprites(root: str | None = None, **options) -> DSprites:
    return DSprites(**options)


# ---------------------------------------------------------------------------------------------
# The original file
# ---------------------------------------------------------------------------------------------

_NPZ_KEYS = ("imgs", "latents_classes", "latents_values")
_HDF5_KEYS = ("imgs", "latents/classes", "latents/values")
_LOAD_BLOCK = 16_384  # images read at a time when loading into memory (64 MiB)
_LAZY_CHUNK_WARN = 64  # warn about lazy reads from an .hdf5 with more images per chunk


class DSpritesFile(FileRows, FactorGridDataset):
    """The original dSprites file: ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` or
    ``.hdf5``.

    Same factors, order and observations as :class:`DSprites`, read from the file (get it from
    https://github.com/deepmind/dsprites-dataset/raw/master/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz).

    On construction the file's layout is validated strictly: the ``.npz`` keys ``imgs``,
    ``latents_classes``, ``latents_values`` (``metadata`` is neither required nor read: it is
    a pickle, and nothing here unpickles) or the ``.hdf5`` datasets ``imgs``,
    ``latents/classes``, ``latents/values``; ``imgs`` a ``uint8`` array ``(N, 64, 64)``; the
    latents ``(N, 6)`` (color, shape, scale, orientation, posX, posY) with integer classes
    inside the dSprites grid, color 0, and values matching :data:`FACTOR_VALUES`. ``N`` must
    be 737,280 with the rows in the original order, unless ``allow_subset=True``.

    Images are read on first use (or by :meth:`load`). With ``in_memory=True`` (default) the
    whole ``imgs`` array is streamed once, checked to be binary and kept bit-packed: about
    360 MiB for the full file instead of 2.8 GiB (the original ``.npz`` is compressed and
    cannot be memory-mapped; loading takes some seconds). With ``in_memory=False`` images are
    read per batch: with h5py from an ``.hdf5``, or memory-mapped from an *uncompressed*
    ``.npz`` (``np.savez``). Per-batch reads from an ``.hdf5`` whose chunks span many images
    are slow (a warning says so): the original ``.hdf5`` reportedly uses chunks of
    23040 x 2 x 4, so use ``in_memory=True`` with it.

    :param path: the file, or a directory holding it under its original name (``.npz``
        looked for first).
    :param checksum: ``"auto"`` (default) checks the user's digest of the file when a
        ``SHA256SUMS`` or ``MD5SUMS`` file next to it lists it
        (:func:`~pyro_vae.data.files.listed_checksum`), else the published digest of the
        original file (:data:`KNOWN_CHECKSUMS`: MD5 for the ``.npz``, SHA-256 for the
        ``.hdf5``), or nothing when ``allow_subset=True``; a string ``"<algorithm>:<hex>"``
        or a bare SHA-256 hex checks that digest (use it for a re-saved file); ``None``
        checks nothing.
    :param bool allow_subset: accept a file with fewer than 737,280 images (each factor tuple
        at most once, in any order), e.g. for tests. Items are then the file's rows, and
        :meth:`observations_from_factors` raises for a factor tuple the file lacks.
    :param bool in_memory: see above.
    :raises FileNotFoundError: the file is missing (the message says how to get it).
    :raises pyro_vae.data.files.ChecksumError: the file's digest is not the expected one.
    :raises pyro_vae.data.files.DatasetFileError: the file is corrupt, truncated or has the
        wrong keys, shapes, dtypes or latents.
    """

    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES
    _subset_name = "dSprites"
    _read_errors = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error)
    observation_shape = (1, IMAGE_SIZE, IMAGE_SIZE)
    default_likelihood = "bernoulli"
    shape_names = SHAPE_NAMES

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        checksum: str | None = "auto",
        allow_subset: bool = False,
        in_memory: bool = True,
    ) -> None:
        self.path = self._resolve(path)
        self.format = "npz" if self.path.suffix.lower() == ".npz" else "hdf5"
        self.allow_subset = bool(allow_subset)
        self.in_memory = bool(in_memory)
        published = None if self.allow_subset else KNOWN_CHECKSUMS[self.format]
        checksum = expected_checksum(self.path, checksum, published)
        if checksum is not None:
            try:
                verify_checksum(self.path, checksum, "dSprites")
            except ChecksumError as e:
                raise ChecksumError(
                    f"{e} The original is at {DSPRITES_URL}. If you re-saved the file on "
                    f"purpose, pass its own checksum= or checksum=None."
                ) from None
        with self._reading():
            if self.format == "npz":
                self._validate_npz()
            else:
                self._validate_hdf5()
        self._validate_latents()
        self._packed: np.ndarray | None = None
        self._lazy = None  # per-process h5py dataset or memory map (in_memory=False)
        self._lazy_pid: int | None = None

    # -- locating and validating -------------------------------------------------------------

    @staticmethod
    def _resolve(path: str | os.PathLike) -> Path:
        path = Path(path).expanduser()
        if path.is_dir():
            for name in (NPZ_NAME, HDF5_NAME):
                if (path / name).is_file():
                    return path / name
            raise FileNotFoundError(
                f"dSprites: neither {NPZ_NAME!r} nor {HDF5_NAME!r} is in the directory "
                f"{str(path)!r}. {_HOW_TO_GET}"
            )
        path = require_file(path, "dSprites", _HOW_TO_GET)
        if path.suffix.lower() not in (".npz", ".hdf5", ".h5"):
            raise DatasetFileError(
                f"dSprites: {str(path)!r} is neither a .npz nor a .hdf5 file; expected "
                f"{NPZ_NAME!r} or {HDF5_NAME!r}. {_HOW_TO_GET}"
            )
        return path

    def _error(self, problem: str) -> DatasetFileError:
        return DatasetFileError(
            f"dSprites: {str(self.path)!r} is not a valid dSprites {self.format} file: "
            f"{problem}. {_HOW_TO_GET}"
        )

    def _check_layout(self, imgs: tuple, classes: tuple, values: tuple) -> None:
        """Check ``(shape, dtype)`` of ``imgs``, the latent classes and the latent values."""
        (ishape, idtype), (cshape, cdtype), (vshape, vdtype) = imgs, classes, values
        if len(ishape) != 3 or ishape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or idtype != np.uint8:
            raise self._error(f"imgs must be uint8 of shape (N, 64, 64), got {idtype} {ishape}")
        n = ishape[0]
        for name, shape, dtype, kind in (
            ("latents classes", cshape, cdtype, "iu"),
            ("latents values", vshape, vdtype, "f"),
        ):
            if shape != (n, 6) or dtype.kind not in kind:
                want = "integer" if kind == "iu" else "float"
                raise self._error(f"{name} must be {want} of shape ({n}, 6), got {dtype} {shape}")
        if self.allow_subset:
            if not 1 <= n <= NUM_IMAGES:
                raise self._error(f"it holds {n} images; expected 1 to {NUM_IMAGES}")
        elif n != NUM_IMAGES:
            raise self._error(
                f"it holds {n} images; expected {NUM_IMAGES} (pass allow_subset=True for a "
                f"file with part of the grid)"
            )
        self._n = n

    def _validate_npz(self) -> None:
        with zipfile.ZipFile(self.path) as zf:
            names = zf.namelist()
            keys = {name[: -len(".npy")] for name in names if name.endswith(".npy")}
            missing = [k for k in _NPZ_KEYS if k not in keys]
            if missing:
                raise self._error(
                    f"missing keys {missing}; expected keys {list(_NPZ_KEYS)} (and 'metadata'), "
                    f"found {sorted(keys)}"
                )
            headers = {}
            for key in _NPZ_KEYS:
                with zf.open(f"{key}.npy") as f:
                    shape, dtype, fortran = npy_header(f)
                if fortran:
                    raise self._error(f"{key} is stored in Fortran order")
                headers[key] = (shape, dtype)
            self._check_layout(*(headers[k] for k in _NPZ_KEYS))
            self._imgs_compressed = zf.getinfo("imgs.npy").compress_type != zipfile.ZIP_STORED
        with np.load(self.path, allow_pickle=False) as npz:
            self._classes = np.asarray(npz["latents_classes"])
            self._values = np.asarray(npz["latents_values"])
        if not self.in_memory and self._imgs_compressed:
            raise DatasetFileError(
                f"dSprites: in {str(self.path)!r} the imgs array is compressed and cannot be "
                f"read lazily; use in_memory=True, the .hdf5 file, or an uncompressed .npz "
                f"(np.savez)."
            )

    def _validate_hdf5(self) -> None:
        import h5py

        with h5py.File(self.path, "r") as h:
            missing = [k for k in _HDF5_KEYS if not isinstance(h.get(k), h5py.Dataset)]
            if missing:
                found: list[str] = []
                h.visititems(lambda name, obj: found.append(name))
                raise self._error(
                    f"missing datasets {missing}; expected datasets {list(_HDF5_KEYS)}, "
                    f"found {sorted(found)}"
                )
            self._check_layout(*((h[k].shape, h[k].dtype) for k in _HDF5_KEYS))
            self._classes = h["latents/classes"][...]
            self._values = h["latents/values"][...]

    def _validate_latents(self) -> None:
        classes, values = self._classes.astype(np.int64), self._values.astype(np.float64)
        sizes = np.asarray(FACTOR_SIZES)
        if (classes[:, 0] != 0).any() or (values[:, 0] != 1.0).any():
            raise self._error("the color latent must have class 0 and value 1 throughout")
        f = classes[:, 1:]
        bad = (f < 0) | (f >= sizes)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise self._error(
                f"row {row} has {FACTOR_NAMES[col]} class {f[row, col]}, "
                f"outside [0, {sizes[col] - 1}]"
            )
        grid = np.ravel_multi_index(tuple(f.T), FACTOR_SIZES)
        if self.allow_subset:
            if len(np.unique(grid)) != len(grid):
                raise self._error("some factor tuples occur more than once")
            self._row_of_grid = np.full(NUM_IMAGES, -1, dtype=np.int64)
            self._row_of_grid[grid] = np.arange(len(grid))
        else:
            out_of_order = np.flatnonzero(grid != np.arange(NUM_IMAGES))
            if out_of_order.size:
                raise self._error(
                    f"the latents are not in the dSprites order (first at row {out_of_order[0]})"
                )
            self._row_of_grid = None
        wrong = ~np.isclose(values[:, 1:], _factor_values(f), rtol=0.0, atol=1e-4)
        if wrong.any():
            row, col = np.argwhere(wrong)[0]
            raise self._error(
                f"row {row} has {FACTOR_NAMES[col]} value {values[row, col + 1]}, expected "
                f"{FACTOR_VALUES[FACTOR_NAMES[col]][f[row, col]]} for class {f[row, col]}"
            )
        self._classes = np.ascontiguousarray(f)
        self._values = np.ascontiguousarray(values[:, 1:])

    # -- reading images ----------------------------------------------------------------------

    def _image_blocks(self) -> Iterator[np.ndarray]:
        """All images in file order, in blocks of at most ``_LOAD_BLOCK``."""
        if self.format == "hdf5":
            import h5py

            with h5py.File(self.path, "r") as h:
                ds = h["imgs"]
                # whole chunks at a time (the original's are reportedly 23040 x 2 x 4)
                rows = ds.chunks[0] if ds.chunks else 1
                block = max(1, _LOAD_BLOCK // rows) * rows
                for start in range(0, self._n, block):
                    yield ds[start : start + block]
            return
        with zipfile.ZipFile(self.path) as zf, zf.open("imgs.npy") as f:
            npy_header(f)
            per_image = IMAGE_SIZE * IMAGE_SIZE
            for start in range(0, self._n, _LOAD_BLOCK):
                count = min(_LOAD_BLOCK, self._n - start)
                buf = f.read(count * per_image)
                if len(buf) != count * per_image:
                    raise EOFError(f"imgs ends after {start + len(buf) // per_image} images")
                yield np.frombuffer(buf, dtype=np.uint8).reshape(count, IMAGE_SIZE, IMAGE_SIZE)

    def _binary(self, block: np.ndarray) -> np.ndarray:
        if block.size and block.max() > 1:
            raise self._error(f"imgs must hold 0/1 values, found {block.max()}")
        return block

    def load(self) -> DSpritesFile:
        """Read all images now (otherwise done on first use). No-op when ``in_memory=False``.

        :return: ``self``.
        """
        if self.in_memory and self._packed is None:
            packed = np.empty((self._n, IMAGE_SIZE, IMAGE_SIZE // 8), dtype=np.uint8)
            with self._reading():
                start = 0
                for block in self._image_blocks():
                    packed[start : start + len(block)] = np.packbits(self._binary(block), axis=-1)
                    start += len(block)
            self._packed = packed
        return self

    def _lazy_source(self):
        if self._lazy is None or self._lazy_pid != os.getpid():
            with self._reading():
                if self.format == "hdf5":
                    import h5py

                    self._lazy = h5py.File(self.path, "r")["imgs"]
                    rows = self._lazy.chunks[0] if self._lazy.chunks else 1
                    if rows > _LAZY_CHUNK_WARN:
                        warnings.warn(
                            f"dSprites: {str(self.path)!r} stores imgs in chunks of {rows} "
                            f"images, so reading images one batch at a time "
                            f"(in_memory=False) is very slow; use in_memory=True",
                            stacklevel=3,
                        )
                else:
                    self._lazy = npz_memmap(self.path, "imgs.npy")
            self._lazy_pid = os.getpid()
        return self._lazy

    def _images(self, rows: np.ndarray) -> np.ndarray:
        """``(n, 64, 64)`` uint8 images of file rows ``rows``."""
        if self.in_memory:
            self.load()
            return np.unpackbits(self._packed[rows], axis=-1)
        source = self._lazy_source()
        with self._reading():
            if self.format == "hdf5":
                images = read_h5_rows(source, rows)
            else:
                images = np.asarray(source[rows])
        return self._binary(images)

    def _lazy_is_h5(self) -> bool:
        return self.format == "hdf5"  # else a memory map, nothing to close

    # -- the dataset protocol (closing, pickling, len, rows, sampling: FileRows) -------------

    def index_to_factors(self, index: int | np.ndarray) -> np.ndarray:
        """Factor classes of item(s) ``index`` (the file's rows): shape ``(n, 5)``."""
        return self._classes[self._check_rows(index)]

    def factor_values(self, factors: np.ndarray) -> np.ndarray:
        """The file's ``latents_values`` (without color) for factor classes: ``(n, 5)``."""
        return self._values[self.factors_to_index(factors)]

    def observations_from_factors(self, factors: np.ndarray) -> torch.Tensor:
        """Images for factor classes: ``(n, 1, 64, 64)`` float32 in {0, 1}."""
        images = self._images(self.factors_to_index(factors))
        return torch.from_numpy(images).unsqueeze(1).to(torch.float32)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        rows = self._check_rows(indices)
        images = torch.from_numpy(self._images(rows)).unsqueeze(1).to(torch.float32)
        return images, torch.from_numpy(self._classes[rows])


@register_dataset(
    "dsprites-file",
    "original dSprites .npz/.hdf5 file from --data-root (737,280 binary 64x64 images)",
    needs_files=True,
)
def _dsprites_file(root: str | None = None, **options) -> DSpritesFile:
    from pyro_vae.data.sources import require_root  # sources imports this module

    return DSpritesFile(require_root("dsprites-file", root), **options)
