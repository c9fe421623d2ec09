"""Labelled image datasets read with torchvision: MNIST, binarized MNIST, Fashion-MNIST,
Omniglot and CelebA.

Each class reads the folder layout torchvision uses under a data root (``--data-root``), so a
folder torchvision filled works here and vice versa:

* ``mnist`` and ``binarized-mnist``: ``ROOT/MNIST/raw/`` holding
  ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
  ``t10k-labels-idx1-ubyte`` (or the same names with ``.gz``); 60,000 train, 10,000 test items;
* ``fashion-mnist``: the same four names in ``ROOT/FashionMNIST/raw/``;
* ``omniglot``: ``ROOT/omniglot-py/images_background[.zip]`` (19,280 items) and
  ``images_evaluation[.zip]`` (13,180 items);
* ``celeba``: ``ROOT/celeba/img_align_celeba/*.jpg`` (or ``img_align_celeba.zip``) and the five
  lists ``list_attr_celeba.txt``, ``identity_CelebA.txt``, ``list_bbox_celeba.txt``,
  ``list_landmarks_align_celeba.txt``, ``list_eval_partition.txt``; 162,770 train, 19,867
  valid, 19,962 test items.

(``pyro-vae data list --root ROOT`` shows which are present; ``docs/datasets/files.md`` lists
every file with its address and digest.) ``.gz`` and ``.zip`` files are unpacked next to
themselves on first use when their unpacked form is missing, after their digest is checked.

**Checksums.** ``checksums="auto"`` checks every file that has a published digest (the MD5s
torchvision uses, from :mod:`pyro_vae.data.sources`: the MNIST ``.gz`` files, the Omniglot
zips, CelebA's zip and text files) against the digest listed for it in a ``SHA256SUMS`` or
``MD5SUMS`` file in its folder, else against the published one. The unpacked MNIST files and
CelebA's images have no published digest; they are checked for shape (idx headers and sizes,
every listed image present). ``checksums=None`` checks nothing, and a mapping
``{file name: "<algorithm>:<hex>"}`` checks exactly the files it names.

**Labels are the factors.** Items are ``(x, labels)``, ``labels`` an ``int64`` vector:
the digit (MNIST), the clothing category (Fashion-MNIST), the alphabet and character
(Omniglot), the 40 binary attributes (CelebA, in the order of ``list_attr_celeba.txt``,
``-1/1`` mapped to ``0/1``). They are what supervised and causal models condition on and what
the metrics compare codes with, but they are not generative factors: nothing renders an image
for arbitrary labels, so :meth:`LabeledImages.observations_from_factors` raises and
:meth:`LabeledImages.sample` draws random items instead.

**Preprocessing.** MNIST and Fashion-MNIST: grey values ``/ 255`` in [0, 1], ``(1, 28, 28)``.
Omniglot: the 105 x 105 black-on-white drawings inverted (strokes 1, background 0) and resized
to ``size`` x ``size`` (default 28, as in Burda et al., 2016) with PIL's antialiased bilinear
filter. CelebA: the aligned 178 x 218 images center-cropped to 148 x 148 and resized to
64 x 64 (bilinear, antialiased), the usual preprocessing of VAE work on CelebA, ``(3, 64, 64)``
in [0, 1].

**Dynamic binarization** (``binarize=True``; the registry's ``binarized-mnist``): every time
an item is read its pixels are drawn as Bernoulli(grey value), so each epoch sees fresh binary
images (Salakhutdinov and Murray, 2008; the IWAE and Ladder VAE papers' MNIST). The draws use a
private :class:`torch.Generator` seeded with ``seed`` when given; with ``seed=None`` (default)
they use torch's global generator, which :func:`pyro_vae.train.fit` seeds with its ``seed``
and saves in every checkpoint, so a training run is reproducible and resumes exactly. In
DataLoader worker processes the private generator is reseeded from ``seed`` and the worker's
own seed, so workers do not repeat each other.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.data.download import Checksums, prepare_files
from pyro_vae.data.files import DatasetFileError
from pyro_vae.data.registry import register_dataset
from pyro_vae.data.sources import get_source, require_root

__all__ = [
    "CelebA",
    "FashionMNIST",
    "LabeledImages",
    "LabelsAreNotFactorsError",
    "MNIST",
    "Omniglot",
]


class LabelsAreNotFactorsError(NotImplementedError, ValueError):
    """A labelled dataset cannot render images for given labels (metrics that need it fail
    with this; a ``ValueError`` too, so the command line reports it as a usage error)."""


# ---------------------------------------------------------------------------------------------
# Files: presence, checksums, unpacking
# ---------------------------------------------------------------------------------------------


def _torchvision_download(name: str, root: Path, build, group: str | None = None) -> None:
    """Run torchvision's own download (``build()`` constructs with ``download=True``)."""
    try:
        build()
    except Exception as e:  # torchvision raises RuntimeError, URLError, ImportError (gdown), ...
        raise FileNotFoundError(
            f"{name}: download=True failed ({type(e).__name__}: {e}). Without internet "
            f"access, get the files by hand.\n" + get_source(name).instructions(root, group=group)
        ) from e


def _prechecked(tv_class: type) -> type:
    """``tv_class`` (a torchvision dataset) without its own integrity check: the files have
    been checked by :func:`~pyro_vae.data.download.prepare_files`."""

    class _Checked(tv_class):
        def _check_integrity(self) -> bool:  # prepare_files has checked the files
            return True

    return _Checked


def _resize_to_tensor(size: int, *before):
    """The transform ``before`` (PIL transforms), resize to ``size`` x ``size``, uint8 tensor."""
    from torchvision import transforms

    return transforms.Compose(
        [*before, transforms.Resize((int(size), int(size))), transforms.PILToTensor()]
    )


def _split(name: str, split: str, train: bool | None, choices: dict[str, str]) -> str:
    """Resolve ``split`` (or the torchvision-style ``train`` flag) to a canonical split."""
    if train is not None:
        split = "train" if train else "test"
    key = str(split).lower()
    if key not in choices:
        raise ValueError(f"{name}: unknown split {split!r}; valid splits: {sorted(choices)}")
    return choices[key]


# ---------------------------------------------------------------------------------------------
# The shared dataset class
# ---------------------------------------------------------------------------------------------


class LabeledImages(GroundTruthDataset):
    """Images with integer labels used as factors (base of the datasets in this module).

    Subclasses set ``self._labels`` (``(N, K)`` int64), :attr:`factor_names`,
    :attr:`factor_sizes`, :attr:`observation_shape`, and either ``self._store`` (a ``uint8``
    tensor ``(N, C, H, W)`` of every image) or the image files ``self._paths`` with their
    ``self._transform`` (PIL image -> ``uint8`` tensor).

    :param bool cache: keep each decoded image (``uint8``) so it is decoded once.
    :param bool binarize: draw binary pixels as Bernoulli(grey value) on every read.
    :param seed: seed of the binarization's private generator; ``None`` uses torch's global
        generator (see the module's notes).
    """

    default_likelihood = "bernoulli"

    def __init__(self, *, cache: bool = False, binarize: bool = False, seed: int | None = None):
        self.binarize = bool(binarize)
        self.seed = seed
        self._generator: torch.Generator | None = None
        self._generator_worker: int | None = None
        self._store: torch.Tensor | None = None
        self._cache = bool(cache)
        self._filled: torch.Tensor | None = None

    # -- images read from image files -------------------------------------------------------

    #: for datasets of image files: every item's path, the PIL mode and the transform to a
    #: ``uint8`` tensor (kept instead of the torchvision dataset, so the dataset pickles for
    #: DataLoader workers started with "spawn")
    _paths: list[str] = []
    _mode = "L"
    _transform = None
    _invert = False

    def _decode(self, rows: np.ndarray) -> torch.Tensor:
        """``uint8`` images ``(n, C, H, W)`` of items ``rows``, read from their files."""
        from PIL import Image

        images = []
        for i in rows:
            with Image.open(self._paths[int(i)]) as image:
                images.append(self._transform(image.convert(self._mode)))
        batch = torch.stack(images)
        return 255 - batch if self._invert else batch

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_generator"] = state["_generator_worker"] = None  # reseeded from seed
        return state

    # -- images ------------------------------------------------------------------------------

    @property
    def labels(self) -> np.ndarray:
        """Every item's labels, ``(N, K)`` int64 (read-only)."""
        return self._labels

    def _uint8(self, rows: np.ndarray) -> torch.Tensor:
        index = torch.from_numpy(rows)
        if self._store is not None and self._filled is None:
            return self._store.index_select(0, index)
        if not self._cache:
            return self._decode(rows)
        if self._store is None:
            self._store = torch.empty((len(self), *self.observation_shape), dtype=torch.uint8)
            self._filled = torch.zeros(len(self), dtype=torch.bool)
        todo = np.unique(rows[~self._filled.index_select(0, index).numpy()])
        if len(todo):
            self._store[torch.from_numpy(todo)] = self._decode(todo)
            self._filled[torch.from_numpy(todo)] = True
        return self._store.index_select(0, index)

    def _binarization_generator(self) -> torch.Generator | None:
        if self.seed is None:
            return None
        info = torch.utils.data.get_worker_info()
        worker_seed = None if info is None else info.seed
        if self._generator is None or self._generator_worker != worker_seed:
            seed = self.seed if worker_seed is None else hash((self.seed, worker_seed))
            self._generator = torch.Generator().manual_seed(seed % 2**63)
            self._generator_worker = worker_seed
        return self._generator

    def _check_rows(self, indices) -> np.ndarray:
        rows = np.atleast_1d(np.asarray(indices, dtype=np.int64))
        n = len(self)
        if (rows < 0).any() or (rows >= n).any():
            raise IndexError(f"index out of range for a dataset of {n} items")
        return rows

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, labels)`` for many items: ``x`` float32 ``(n, C, H, W)`` in [0, 1] (binary
        when ``binarize``), ``labels`` int64 ``(n, K)``."""
        rows = self._check_rows(indices)
        x = self._uint8(rows).to(torch.float32).div_(255.0)
        if self.binarize:
            x = torch.bernoulli(x, generator=self._binarization_generator())
        return x, torch.from_numpy(self._labels[rows])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if index < 0:
            index += len(self)
        x, labels = self.get_batch([index])
        return x[0], labels[0]

    def __len__(self) -> int:
        return len(self._labels)

    # -- the ground-truth protocol, as far as labels allow -----------------------------------

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Labels of ``n`` items drawn uniformly (the empirical label distribution)."""
        return self._labels[rng.integers(0, len(self), size=n)]

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, torch.Tensor]:
        """``(labels, observations)`` of ``n`` items drawn uniformly."""
        x, labels = self.get_batch(rng.integers(0, len(self), size=n))
        return labels.numpy(), x

    def observations_from_factors(self, factors: np.ndarray) -> torch.Tensor:
        """Not available: raises :class:`LabelsAreNotFactorsError`."""
        raise LabelsAreNotFactorsError(
            f"{type(self).__name__}: the labels are not generative factors, so there is no "
            f"image for arbitrary labels; use a ground-truth dataset (dsprites, 3dshapes) for "
            f"the metrics, or sample(n, rng) for random (labels, images) pairs and the metrics' "
            f"array functions, e.g. pyro_vae.metrics.mig(codes, labels)"
        )


# ---------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST
# ---------------------------------------------------------------------------------------------

_IDX_TYPES = {0x08: "uint8"}


def _check_idx(name: str, path: Path, dims: int, shape: tuple[int, ...], checksum: str) -> int:
    """Check an idx file's header and size; return the number of items it holds."""
    problem = None
    with open(path, "rb") as f:
        header = f.read(4 + 4 * dims)
    if len(header) < 4 + 4 * dims:
        problem = f"it has {len(header)} bytes, fewer than an idx header"
    else:
        magic = int.from_bytes(header[:4], "big")
        if magic >> 16 != 0 or (magic >> 8) & 0xFF != 0x08 or magic & 0xFF != dims:
            problem = (
                f"its idx header is {magic:#010x}, expected {0x0800 | dims:#010x} "
                f"(unsigned bytes, {dims} dimensions)"
            )
        else:
            sizes = [int.from_bytes(header[4 + 4 * k : 8 + 4 * k], "big") for k in range(dims)]
            expected = 4 + 4 * dims + int(np.prod(sizes))
            actual = path.stat().st_size
            if tuple(sizes[1:]) != shape:
                problem = f"it holds items of shape {tuple(sizes[1:])}, expected {shape}"
            elif actual != expected:
                problem = (
                    f"its header announces {sizes[0]:,} items ({expected:,} bytes) but it has "
                    f"{actual:,} bytes: it is truncated or corrupt"
                )
    if problem:
        raise DatasetFileError(
            f"{name}: {str(path)!r} is not a valid idx file: {problem}. Get it again (the "
            f"download {path.name}.gz has checksum {checksum})."
        )
    return sizes[0]


class MNIST(LabeledImages):
    """MNIST digits (LeCun et al., 1998) through :class:`torchvision.datasets.MNIST`.

    Items: ``x`` float32 ``(1, 28, 28)``, grey values in [0, 1] (or {0, 1} with
    ``binarize=True``); labels ``(digit,)`` in 0..9.

    :param root: the data root; files go to ``ROOT/MNIST/raw/`` (see the module's table).
    :param str split: ``"train"`` (60,000 items) or ``"test"`` (10,000).
    :param train: torchvision's flag; overrides ``split`` when given.
    :param bool download: passed to torchvision (downloads the missing files; needs
        internet access; without it the error says which files go where).
    :param checksums: ``"auto"``, ``None`` or a mapping (see the module's notes).
    :param bool binarize: dynamic binarization (see the module's notes).
    :param seed: the binarization's seed (``None``: torch's global generator).
    """

    factor_names = ("digit",)
    factor_sizes = (10,)
    observation_shape = (1, 28, 28)
    _name = "mnist"
    _torchvision = "MNIST"

    def __init__(
        self,
        root: str | os.PathLike | None,
        split: str = "train",
        *,
        train: bool | None = None,
        download: bool = False,
        checksums: Checksums = "auto",
        binarize: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__(binarize=binarize, seed=seed)
        import torchvision

        name = self._name
        root = require_root(name, root)
        self.split = _split(name, split, train, {"train": "train", "test": "test"})
        is_train = self.split == "train"
        source = get_source(name)
        tv_class = getattr(torchvision.datasets, self._torchvision)
        if download:
            _torchvision_download(name, root, lambda: tv_class(root, train=is_train, download=True))
        prepare_files(name, source, root, checksums)
        stem = "train" if is_train else "t10k"
        raw = source.files[0].path(root).parent
        digests = {f.provides[0]: f.checksum for f in source.files}
        images, labels = f"{stem}-images-idx3-ubyte", f"{stem}-labels-idx1-ubyte"
        n_images = _check_idx(name, raw / images, 3, (28, 28), digests[images])
        n_labels = _check_idx(name, raw / labels, 1, (), digests[labels])
        if n_images != n_labels:
            raise DatasetFileError(
                f"{name}: {stem}-images-idx3-ubyte holds {n_images:,} images but "
                f"{stem}-labels-idx1-ubyte holds {n_labels:,} labels in {str(raw)!r}"
            )
        tv = tv_class(root, train=is_train, download=False)
        targets = tv.targets.numpy().astype(np.int64)
        if targets.size and (targets.min() < 0 or targets.max() >= self.factor_sizes[0]):
            raise DatasetFileError(
                f"{name}: {str(raw / labels)!r}: labels must be 0..{self.factor_sizes[0] - 1}, "
                f"found {targets.min()}..{targets.max()}"
            )
        self._labels = targets[:, None]
        self._labels.setflags(write=False)
        self._store = tv.data.unsqueeze(1).clone()  # (N, 1, 28, 28) uint8, our own memory
        self.root = root


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao et al., 2017) through :class:`torchvision.datasets.FashionMNIST`.

    As :class:`MNIST`, with files in ``ROOT/FashionMNIST/raw/`` and labels ``(category,)`` in
    0..9 (T-shirt/top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle
    boot).
    """

    factor_names = ("category",)
    _name = "fashion-mnist"
    _torchvision = "FashionMNIST"


# ---------------------------------------------------------------------------------------------
# Omniglot
# ---------------------------------------------------------------------------------------------


class Omniglot(LabeledImages):
    """Omniglot (Lake et al., 2015) through :class:`torchvision.datasets.Omniglot`.

    Items: ``x`` float32 ``(1, size, size)``, strokes near 1 on a 0 background (the drawings
    inverted and resized, see the module's notes); labels ``(alphabet, character)``: the
    alphabet's index among the split's alphabets and the character's index among all the
    split's characters, both in sorted name order (torchvision lists folders in file-system
    order, which is not reproducible; items here are sorted by character, then file name).

    :param root: the data root; files go to ``ROOT/omniglot-py/``.
    :param str split: ``"background"`` (964 characters of 30 alphabets, 19,280 images; also
        ``"train"``) or ``"evaluation"`` (659 characters of 20 alphabets, 13,180 images; also
        ``"test"``).
    :param train: overrides ``split`` when given (``True``: background).
    :param bool download: passed to torchvision.
    :param checksums: ``"auto"``, ``None`` or a mapping (see the module's notes).
    :param int size: side of the resized images (default 28).
    :param bool cache: keep decoded images (``size**2`` bytes each; default on: 15 MB).
    :param bool binarize: dynamic binarization.
    :param seed: the binarization's seed.
    """

    _name = "omniglot"

    def __init__(
        self,
        root: str | os.PathLike | None,
        split: str = "background",
        *,
        train: bool | None = None,
        download: bool = False,
        checksums: Checksums = "auto",
        size: int = 28,
        cache: bool = True,
        binarize: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__(cache=cache, binarize=binarize, seed=seed)
        import torchvision

        name = self._name
        root = require_root(name, root)
        self.split = _split(
            name,
            split,
            train,
            {"background": "background", "train": "background", "evaluation": "evaluation",
             "test": "evaluation"},
        )  # fmt: skip
        background = self.split == "background"
        if download:
            _torchvision_download(
                name,
                root,
                lambda: torchvision.datasets.Omniglot(root, background=background, download=True),
                group=self.split,
            )
        prepare_files(name, get_source(name), root, checksums, group=self.split)

        self.observation_shape = (1, int(size), int(size))
        transform = _resize_to_tensor(size)
        tv = _prechecked(torchvision.datasets.Omniglot)(
            root, background=background, transform=transform, download=False
        )
        # sort alphabets, characters and images by name (torchvision keeps os.listdir order)
        old = tv._characters
        tv._characters = sorted(old)
        position = {c: i for i, c in enumerate(tv._characters)}
        tv._flat_character_images = sorted(
            ((image, position[old[k]]) for image, k in tv._flat_character_images),
            key=lambda item: (item[1], item[0]),
        )
        alphabets = sorted(tv._alphabets)
        if not tv._flat_character_images:
            raise DatasetFileError(
                f"{name}: no .png images under {tv.target_folder!r}; expected "
                f"ALPHABET/CHARACTER/*.png folders from images_{self.split}.zip"
            )
        alphabet_of = {c: alphabets.index(c.split("/")[0].split(os.sep)[0]) for c in position}
        characters = np.array([k for _, k in tv._flat_character_images], dtype=np.int64)
        by_character = np.array([alphabet_of[c] for c in tv._characters], dtype=np.int64)
        self._labels = np.stack([by_character[characters], characters], axis=1)
        self._labels.setflags(write=False)
        self.alphabets = tuple(alphabets)
        self.characters = tuple(tv._characters)
        self.factor_names = ("alphabet", "character")
        self.factor_sizes = (len(alphabets), len(tv._characters))
        self._paths = [
            os.path.join(tv.target_folder, tv._characters[k], image)
            for image, k in tv._flat_character_images
        ]
        self._mode, self._transform, self._invert = "L", transform, True
        self.root = root


# ---------------------------------------------------------------------------------------------
# CelebA
# ---------------------------------------------------------------------------------------------


class CelebA(LabeledImages):
    """CelebA (Liu et al., 2015), aligned and cropped faces, through
    :class:`torchvision.datasets.CelebA`.

    Items: ``x`` float32 ``(3, 64, 64)`` in [0, 1]: the 178 x 218 aligned image
    center-cropped to ``crop`` x ``crop`` (148) and resized to ``size`` x ``size`` (64),
    bilinear with antialiasing; labels: the 40 binary attributes (0/1) in the order of
    ``list_attr_celeba.txt`` (:attr:`factor_names`), for supervised and causal models.

    torchvision reads all five text files (attributes, identities, boxes, landmarks,
    partition), so all five must be present, plus the images (``img_align_celeba/``, or
    ``img_align_celeba.zip`` which is extracted on first use).

    :param root: the data root; files go to ``ROOT/celeba/``.
    :param str split: ``"train"`` (162,770 images), ``"valid"`` (19,867), ``"test"``
        (19,962) or ``"all"`` (202,599), from ``list_eval_partition.txt``.
    :param train: overrides ``split`` when given (``True``: train, ``False``: test).
    :param bool download: passed to torchvision (which needs the ``gdown`` package and
        internet access).
    :param checksums: ``"auto"``, ``None`` or a mapping (see the module's notes).
    :param int crop: side of the center crop (default 148).
    :param int size: side of the resized image (default 64).
    :param bool cache: keep decoded images (12 KiB each at 64 x 64: 2 GB for the training
        split) so each JPEG is decoded once; off by default.
    :param bool binarize: dynamic binarization (rarely wanted for faces).
    :param seed: the binarization's seed.
    """

    _name = "celeba"

    def __init__(
        self,
        root: str | os.PathLike | None,
        split: str = "train",
        *,
        train: bool | None = None,
        download: bool = False,
        checksums: Checksums = "auto",
        crop: int = 148,
        size: int = 64,
        cache: bool = False,
        binarize: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__(cache=cache, binarize=binarize, seed=seed)
        import torchvision
        from torchvision import transforms

        name = self._name
        root = require_root(name, root)
        self.split = _split(
            name, split, train, {"train": "train", "valid": "valid", "test": "test", "all": "all"}
        )
        if download:
            _torchvision_download(
                name, root, lambda: torchvision.datasets.CelebA(root, self.split, download=True)
            )
        source = get_source(name)
        prepare_files(name, source, root, checksums)

        self.observation_shape = (3, int(size), int(size))
        transform = _resize_to_tensor(size, transforms.CenterCrop(int(crop)))
        folder = source.folder(root)
        try:
            tv = _prechecked(torchvision.datasets.CelebA)(
                root, self.split, "attr", transform=transform, download=False
            )
        except (ValueError, IndexError, RuntimeError) as e:
            raise DatasetFileError(
                f"{name}: cannot read the text files in {str(folder)!r} ({type(e).__name__}: "
                f"{e}); one of them is truncated or not in CelebA's format"
            ) from e
        names = tuple(n for n in tv.attr_names if n)
        attr = tv.attr.numpy().astype(np.int64)
        if attr.ndim != 2 or attr.shape[1] != len(names) or len(tv.filename) != len(attr):
            raise DatasetFileError(
                f"{name}: {str(folder / 'list_attr_celeba.txt')!r} names {len(names)} "
                f"attributes but has rows of {attr.shape[1:]} values for {len(attr)} images"
            )
        images = folder / "img_align_celeba"
        present = set(os.listdir(images))
        absent = [f for f in tv.filename if f not in present]
        if absent:
            raise FileNotFoundError(
                f"{name}: {len(absent):,} of the {len(tv.filename):,} images of split "
                f"{self.split!r} are missing from {str(images)!r}, e.g. {absent[:3]}; "
                f"extract img_align_celeba.zip there again (checksum "
                f"{source.files[0].checksum})."
            )
        self._labels = attr
        self._labels.setflags(write=False)
        self.factor_names = names
        self.factor_sizes = (2,) * len(names)
        self.crop, self.size = int(crop), int(size)
        self._paths = [str(images / f) for f in tv.filename]
        self._mode, self._transform = "RGB", transform
        self.root = root

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """The 40 attribute names, in label order."""
        return self.factor_names


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


@register_dataset(
    "mnist", "MNIST from --data-root: 28x28 grey digits in [0, 1], label digit", needs_files=True
)
def _mnist(root: str | None = None, **options) -> MNIST:
    return MNIST(root, **options)


@register_dataset(
    "binarized-mnist",
    "MNIST from --data-root, dynamically binarized (fresh Bernoulli pixels on every read)",
    needs_files=True,
)
def _binarized_mnist(root: str | None = None, **options) -> MNIST:
    return MNIST(root, binarize=True, **options)


@register_dataset(
    "fashion-mnist",
    "Fashion-MNIST from --data-root: 28x28 grey clothes in [0, 1], label category",
    needs_files=True,
)
def _fashion_mnist(root: str | None = None, **options) -> FashionMNIST:
    return FashionMNIST(root, **options)


@register_dataset(
    "omniglot",
    "Omniglot from --data-root: 28x28 handwritten characters, labels alphabet/character",
    needs_files=True,
)
def _omniglot(root: str | None = None, **options) -> Omniglot:
    return Omniglot(root, **options)


@register_dataset(
    "celeba",
    "CelebA from --data-root: faces, 148 center crop resized to 64x64 RGB, 40 attributes",
    needs_files=True,
)
def _celeba(root: str | None = None, **options) -> CelebA:
    return CelebA(root, **options)
