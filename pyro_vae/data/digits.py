"""scikit-learn's bundled 8x8 handwritten digits: the default small real dataset.

1,797 greyscale images of 8x8 pixels (UCI "Optical Recognition of
Handwritten Digits", test part, as shipped with
:func:`sklearn.datasets.load_digits`: no download).  Pixel values 0..16 are
scaled to [0, 1]; observations have shape ``(1, 8, 8)`` (``flat=True``:
``(64,)``).  The label is the one factor, ``("digit",)`` with 10 values.

Not a factor grid: several images share a label.  The ground-truth protocol
is implemented as follows:

* :meth:`Digits.sample_factors` draws labels of existing images (uniformly
  over the images of the split, so with the split's label frequencies);
* :meth:`Digits.observations_from_factors` returns, for each label, an image
  of the split drawn uniformly among those with that label, using ``rng``
  (a :class:`numpy.random.Generator`) when given, else the dataset's own
  generator seeded with ``seed`` at construction.

Train/test split: a seeded random permutation (``split_seed``) puts
``round(test_fraction * 1797)`` images in ``"test"`` and the rest in
``"train"``; ``"all"`` is every image.

Binarisation (for a Bernoulli likelihood that is a proper density):
``binarize="fixed"`` draws each pixel once as ``Bernoulli(value)`` with
``numpy.random.default_rng(seed)`` (the usual treatment of a test set);
``binarize="dynamic"`` draws a fresh binarisation in every
:meth:`~Digits.get_batch` / ``__getitem__`` from torch's global generator,
which :func:`pyro_vae.train.fit` seeds and checkpoints, so training stays
reproducible and resumes exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.data.registry import register_dataset

SPLITS = ("train", "test", "all")
BINARIZE = (None, "fixed", "dynamic")


class Digits(GroundTruthDataset):
    """sklearn's 8x8 digits as a :class:`~pyro_vae.data.GroundTruthDataset`.

    :param str split: ``"train"``, ``"test"`` or ``"all"``.
    :param float test_fraction: share of the images in the test split.
    :param int split_seed: seed of the train/test permutation.
    :param bool flat: observations of shape ``(64,)`` instead of ``(1, 8, 8)``.
    :param binarize: ``None`` (grey values), ``"fixed"`` or ``"dynamic"`` (module docs).
    :param int seed: seed of the fixed binarisation and of the generator used by
        :meth:`observations_from_factors` when no ``rng`` is given.
    """

    factor_names = ("digit",)
    factor_sizes = (10,)
    default_likelihood = "bernoulli"

    def __init__(
        self,
        split: str = "train",
        test_fraction: float = 0.2,
        split_seed: int = 0,
        flat: bool = False,
        binarize: str | None = None,
        seed: int = 0,
    ) -> None:
        from sklearn.datasets import load_digits

        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if binarize not in BINARIZE:
            raise ValueError(f"binarize must be one of {BINARIZE}, got {binarize!r}")
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
        bunch = load_digits()
        images = bunch.images.astype(np.float32) / 16.0
        labels = bunch.target.astype(np.int64)
        order = np.random.default_rng(split_seed).permutation(len(labels))
        n_test = int(round(test_fraction * len(labels)))
        index = {
            "test": np.sort(order[:n_test]),
            "train": np.sort(order[n_test:]),
            "all": np.arange(len(labels)),
        }[split]
        self.split = split
        self.binarize = binarize
        self.indices = index
        self.observation_shape = (64,) if flat else (1, 8, 8)
        self.grey = torch.from_numpy(images[index].reshape(len(index), *self.observation_shape))
        self.labels = labels[index]
        rng = np.random.default_rng(seed)
        if binarize == "fixed":
            fixed = rng.random(self.grey.shape, dtype=np.float32) < self.grey.numpy()
            self.images = torch.from_numpy(fixed.astype(np.float32))
        else:
            self.images = self.grey
        self._rng = rng
        self._by_label = [np.flatnonzero(self.labels == d) for d in range(10)]

    def __len__(self) -> int:
        return len(self.labels)

    def _observe(self, rows: np.ndarray | torch.Tensor) -> torch.Tensor:
        x = self.images[torch.as_tensor(rows, dtype=torch.long)]
        return torch.bernoulli(x) if self.binarize == "dynamic" else x

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} digits")
        return self._observe(np.array([index]))[0], torch.tensor([self.labels[index]])

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        rows = np.asarray(indices, dtype=np.int64)
        return self._observe(rows), torch.from_numpy(self.labels[rows][:, None])

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Labels of ``n`` images drawn uniformly from the split, shape ``(n, 1)``."""
        return self.labels[rng.integers(0, len(self), size=n)][:, None].copy()

    def observations_from_factors(
        self, factors: np.ndarray, rng: np.random.Generator | None = None
    ) -> torch.Tensor:
        """For each label, an image of the split with that label, drawn with ``rng``
        (default: the dataset's own generator, see the module docstring)."""
        factors = np.asarray(factors, dtype=np.int64).reshape(-1, 1)
        rng = rng if rng is not None else self._rng
        rows = np.empty(len(factors), dtype=np.int64)
        for i, label in enumerate(factors[:, 0]):
            if not 0 <= label < 10 or not len(self._by_label[label]):
                raise ValueError(f"no image with digit {label} in the {self.split!r} split")
            rows[i] = rng.choice(self._by_label[label])
        return self._observe(rows)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, torch.Tensor]:
        """``(factors, observations)``, both drawn with ``rng``."""
        factors = self.sample_factors(n, rng)
        return factors, self.observations_from_factors(factors, rng)


@register_dataset(
    "digits",
    "sklearn's 8x8 handwritten digits, 1,797 images in [0, 1], bundled (no download); "
    "options: split=train|test|all, flat, binarize=fixed|dynamic",
)
def _digits(root: str | None = None, **options) -> Digits:
    return Digits(**options)
