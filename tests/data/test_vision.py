"""torchvision-backed datasets on small files with torchvision's folder layouts."""

from __future__ import annotations

import pickle
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

from pyro_vae.data import MNIST, CelebA, FashionMNIST, Omniglot, get_dataset
from pyro_vae.data.files import ChecksumError, DatasetFileError
from tests.data.fake_files import (
    CELEBA_ATTRIBUTES,
    CELEBA_LISTS,
    write_celeba,
    write_mnist,
    write_omniglot,
    write_sha256sums,
)

MNIST_NAMES = [f"{s}-{k}-ubyte" for s in ("train", "t10k") for k in ("images-idx3", "labels-idx1")]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Every urllib connection fails, as on a machine without internet access."""
    calls = []

    def refuse(url, *args, **kwargs):
        calls.append(getattr(url, "full_url", url))
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return calls


# -- MNIST --------------------------------------------------------------------------------------


def test_mnist_from_gz_files(tmp_path):
    data = write_mnist(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    ds = MNIST(tmp_path, checksums=None)
    assert all((raw / name).is_file() for name in MNIST_NAMES)  # decompressed next to the .gz
    images, labels = data["train"]
    assert len(ds) == 96 and ds.observation_shape == (1, 28, 28)
    assert ds.factor_names == ("digit",) and ds.factor_sizes == (10,)
    rows = np.array([95, 0, 7, 7])
    x, y = ds.get_batch(rows)
    assert x.dtype == torch.float32 and x.shape == (4, 1, 28, 28)
    assert torch.equal(x[:, 0], torch.from_numpy(images[rows]).float() / 255)
    assert y.tolist() == [[int(v)] for v in labels[rows]]
    x0, y0 = ds[7]
    assert torch.equal(x0, x[2]) and torch.equal(y0, y[2])
    test = MNIST(tmp_path, "test", checksums=None)
    assert len(test) == 32 and len(MNIST(tmp_path, train=False, checksums=None)) == 32
    assert torch.equal(test.get_batch([3])[0][0, 0], torch.from_numpy(data["test"][0][3]) / 255)
    with pytest.raises(
        ValueError, match=r"unknown split 'valid'; valid splits: \['test', 'train'\]"
    ):
        MNIST(tmp_path, "valid", checksums=None)


def test_mnist_checksums(tmp_path):
    write_mnist(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    with pytest.raises(ChecksumError) as err:
        MNIST(tmp_path)  # tiny test files do not have the published digests
    msg = str(err.value)
    assert str(raw / "train-images-idx3-ubyte.gz") in msg
    assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in msg and "pyro-vae data fetch mnist" in msg
    write_sha256sums(raw, *(f"{n}.gz" for n in MNIST_NAMES))
    assert len(MNIST(tmp_path)) == 96  # the user's digests, listed next to the files
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not the file")
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.gz"):
        MNIST(tmp_path)


def test_mnist_truncated_or_corrupt(tmp_path):
    write_mnist(tmp_path, gz=False)
    raw = tmp_path / "MNIST" / "raw"
    path = raw / "train-images-idx3-ubyte"
    good = path.read_bytes()
    path.write_bytes(good[:-100])
    with pytest.raises(DatasetFileError) as err:
        MNIST(tmp_path)
    msg = str(err.value)
    assert str(path) in msg and "truncated" in msg and "f68b3c2dcbeaaa9fbdd348bbdeb94873" in msg
    path.write_bytes(b"\x00\x00\x08\x01" + good[4:])
    with pytest.raises(DatasetFileError, match="idx header is 0x00000801"):
        MNIST(tmp_path)
    path.write_bytes(good)
    (raw / "train-labels-idx1-ubyte").write_bytes(
        (0x0801).to_bytes(4, "big") + (5).to_bytes(4, "big") + bytes(5)
    )
    with pytest.raises(DatasetFileError, match="holds 96 images but .* holds 5 labels"):
        MNIST(tmp_path)
    gz = raw / "t10k-images-idx3-ubyte.gz"
    (raw / "t10k-images-idx3-ubyte").unlink()
    gz.write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(DatasetFileError, match="cannot unpack .*t10k-images-idx3-ubyte.gz"):
        MNIST(tmp_path, checksums=None)


def test_mnist_missing_files_say_where_they_go(tmp_path, offline):
    with pytest.raises(FileNotFoundError) as err:
        MNIST(tmp_path)
    msg = str(err.value)
    for name in MNIST_NAMES:
        assert str(tmp_path / "MNIST" / "raw" / f"{name}.gz") in msg
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in msg
    assert "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873" in msg
    with pytest.raises(FileNotFoundError, match="pass --data-root DIR"):
        MNIST(None)
    assert not offline  # nothing tried the network without download=True
    with pytest.raises(FileNotFoundError) as err:
        MNIST(tmp_path, download=True)
    assert "download=True failed" in str(err.value) and "MNIST/raw" in str(err.value)
    assert offline and "train-images-idx3-ubyte.gz" in offline[0]  # torchvision's own download


def test_download_true_with_files_present_stays_offline(tmp_path, offline):
    write_mnist(tmp_path, gz=False)
    assert len(MNIST(tmp_path, download=True)) == 96
    assert not offline


def test_binarized_mnist(tmp_path):
    data = write_mnist(tmp_path, gz=False)
    grey = torch.from_numpy(data["train"][0][:4]).float() / 255
    ds = MNIST(tmp_path, binarize=True, seed=3)
    draws = torch.stack([ds.get_batch(np.arange(4))[0][:, 0] for _ in range(400)])
    assert set(draws.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(draws[0], draws[1])  # fresh pixels on every read
    # E[x] = grey value: 400 draws, standard error <= 0.025
    assert (draws.mean(0) - grey).abs().max() < 0.125
    assert abs((draws.mean(0) - grey).mean().item()) < 0.01
    again = MNIST(tmp_path, binarize=True, seed=3)
    assert torch.equal(again.get_batch(np.arange(4))[0][:, 0], draws[0])  # reproducible
    clone = pickle.loads(pickle.dumps(ds))  # restarts from the seed
    assert torch.equal(clone.get_batch(np.arange(4))[0][:, 0], draws[0])
    other = MNIST(tmp_path, binarize=True, seed=4)
    assert not torch.equal(other.get_batch(np.arange(4))[0][:, 0], draws[0])
    registry = get_dataset("binarized-mnist", root=str(tmp_path))  # seed=None: torch's generator
    torch.manual_seed(0)
    first = registry.get_batch(np.arange(4))[0]
    torch.manual_seed(0)
    assert torch.equal(registry.get_batch(np.arange(4))[0], first)


def test_fashion_mnist_and_registry(tmp_path):
    data = write_mnist(tmp_path, "FashionMNIST", gz=False, seed=5)
    ds = get_dataset("fashion-mnist", root=str(tmp_path))
    assert isinstance(ds, FashionMNIST) and ds.factor_names == ("category",)
    assert torch.equal(ds.get_batch([2])[0][0, 0], torch.from_numpy(data["train"][0][2]) / 255)
    with pytest.raises(FileNotFoundError, match="mnist: missing .*/MNIST/raw/train-images-idx3"):
        get_dataset("mnist", root=str(tmp_path))  # MNIST's folder is elsewhere


def test_labels_are_not_generative_factors(tmp_path):
    write_mnist(tmp_path, gz=False)
    ds = MNIST(tmp_path)
    labels, x = ds.sample(10, np.random.default_rng(0))
    assert labels.shape == (10, 1) and x.shape == (10, 1, 28, 28)
    assert set(ds.sample_factors(500, np.random.default_rng(0))[:, 0]) <= set(ds.labels[:, 0])
    with pytest.raises(NotImplementedError, match="not generative factors"):
        ds.observations_from_factors(labels)


# -- Omniglot -----------------------------------------------------------------------------------


def test_omniglot(tmp_path):
    fake = write_omniglot(tmp_path)
    ds = Omniglot(tmp_path, checksums=None)
    assert (tmp_path / "omniglot-py" / "images_background").is_dir()  # extracted
    assert ds.characters == tuple(fake["characters"]) and ds.alphabets == ("Alpha", "Beta")
    assert ds.labels.tolist() == [[0, 0]] * 3 + [[0, 1]] * 3 + [[1, 2]] * 3
    assert ds.factor_sizes == (2, 3) and ds.observation_shape == (1, 28, 28)
    x, y = ds.get_batch([0, 3, 6])
    assert x.shape == (3, 1, 28, 28) and x.min() >= 0 and x.max() <= 1
    for k in range(3):  # character k: inverted bar at columns 10k..10k+20 of 105 -> 28
        lo, hi = round(10 * k * 28 / 105), round((10 * k + 21) * 28 / 105)
        assert x[k, 0, :, lo + 1 : hi - 1].min() > 0.9  # strokes are 1
        assert x[k, 0, :, hi + 1 :].max() < 0.1  # background is 0
    assert torch.equal(ds.get_batch([3])[0], x[1:2])  # from the cache
    assert torch.equal(pickle.loads(pickle.dumps(ds)).get_batch([0, 3, 6])[0], x)  # workers
    assert torch.equal(Omniglot(tmp_path, checksums=None, cache=False).get_batch([0, 3, 6])[0], x)
    assert len(Omniglot(tmp_path, checksums=None, size=32).get_batch([0])[0][0, 0]) == 32


def test_omniglot_checksums_and_missing_split(tmp_path):
    write_omniglot(tmp_path)
    zip_path = tmp_path / "omniglot-py" / "images_background.zip"
    with pytest.raises(ChecksumError) as err:
        Omniglot(tmp_path)
    assert str(zip_path) in str(err.value) and "68d2efa1b9178cc56df9314c21c6e718" in str(err.value)
    write_sha256sums(zip_path.parent, zip_path.name)
    assert len(Omniglot(tmp_path)) == 9
    with pytest.raises(FileNotFoundError) as err:
        Omniglot(tmp_path, "evaluation")
    msg = str(err.value)
    assert str(tmp_path / "omniglot-py" / "images_evaluation.zip") in msg
    assert "images_background" not in msg.split("missing")[1].split("\n")[0]
    assert "brendenlake/omniglot/master/python/images_evaluation.zip" in msg


# -- CelebA -------------------------------------------------------------------------------------


def test_celeba(tmp_path):
    fake = write_celeba(tmp_path)
    ds = CelebA(tmp_path, checksums=None)
    assert len(ds) == 8 and ds.observation_shape == (3, 64, 64)
    assert ds.attribute_names == tuple(CELEBA_ATTRIBUTES) and ds.factor_sizes == (2,) * 40
    assert (ds.labels == fake["attr"][:8]).all()
    sizes = {s: len(CelebA(tmp_path, s, checksums=None)) for s in ("valid", "test", "all")}
    assert sizes == {"valid": 2, "test": 2, "all": 12}
    assert (CelebA(tmp_path, "test", checksums=None).labels == fake["attr"][10:]).all()
    x, y = ds.get_batch([0, 5])
    assert x.shape == (2, 3, 64, 64) and x.dtype == torch.float32
    assert torch.equal(y, torch.from_numpy(fake["attr"][[0, 5]]))
    # the 148 x 148 center crop keeps the red and blue halves and drops the green border
    assert x[:, 1].max() < 0.2
    assert x[:, 0, :, :30].min() > 0.85 and x[:, 2, :, :30].max() < 0.15
    assert x[:, 2, :, 34:].min() > 0.85 and x[:, 0, :, 34:].max() < 0.15
    assert torch.equal(CelebA(tmp_path, checksums=None, cache=True).get_batch([0, 5])[0], x)
    assert torch.equal(pickle.loads(pickle.dumps(ds)).get_batch([0, 5])[0], x)  # workers


def test_celeba_checksums(tmp_path):
    fake = write_celeba(tmp_path)
    with pytest.raises(ChecksumError) as err:
        CelebA(tmp_path)
    msg = str(err.value)
    assert str(fake["folder"] / "list_attr_celeba.txt") in msg
    assert "75e246fa4810816ffd6ee81facbd244c" in msg
    write_sha256sums(fake["folder"], *CELEBA_LISTS)
    assert len(CelebA(tmp_path)) == 8
    attr = fake["folder"] / "list_attr_celeba.txt"
    attr.write_text(attr.read_text()[:-50])  # truncated
    with pytest.raises(ChecksumError, match="list_attr_celeba.txt"):
        CelebA(tmp_path)
    with pytest.raises(DatasetFileError, match="cannot read the text files"):
        CelebA(tmp_path, checksums=None)


def test_celeba_missing_files(tmp_path, offline):
    fake = write_celeba(tmp_path)
    (fake["folder"] / "img_align_celeba" / "000003.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 of the 8 images .* \['000003.jpg'\]"):
        CelebA(tmp_path, checksums=None)
    (fake["folder"] / "list_eval_partition.txt").unlink()
    with pytest.raises(FileNotFoundError) as err:
        CelebA(tmp_path, checksums=None)
    msg = str(err.value)
    assert f"missing {fake['folder'] / 'list_eval_partition.txt'}" in msg
    assert "https://drive.google.com/uc?id=0B7EVK8r0v71pY0NSMzRuSXJEVkk" in msg
    assert "md5:d32c9cbf5e040fd4025c592c306e6668" in msg
    with pytest.raises(FileNotFoundError, match="pass --data-root DIR"):
        get_dataset("celeba")


def test_celeba_from_zip(tmp_path):
    fake = write_celeba(tmp_path, zipped=True)
    ds = CelebA(tmp_path, "all", checksums=None)
    assert (fake["folder"] / "img_align_celeba" / "000012.jpg").is_file()
    assert len(ds) == 12 and ds.get_batch([11])[0].shape == (1, 3, 64, 64)


def test_binarization_in_dataloader_workers(tmp_path):
    """Workers get different private streams (not copies of the parent's generator)."""
    write_mnist(tmp_path, gz=False)
    ds = MNIST(tmp_path, binarize=True, seed=3)
    loader = torch.utils.data.DataLoader(ds, batch_size=1, sampler=[0, 0, 0, 0], num_workers=2)
    batches = [x for x, _ in loader]  # worker 0: batches 0 and 2; worker 1: 1 and 3
    assert not torch.equal(batches[0], batches[1])
    assert not torch.equal(batches[0], batches[2])
