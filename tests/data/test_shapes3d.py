"""3dshapes from HDF5 files with DeepMind's layout, made here (no download)."""

from __future__ import annotations

import pickle
import warnings

import h5py
import numpy as np
import pytest
import torch

from pyro_vae.data import Shapes3D, get_dataset
from pyro_vae.data.files import ChecksumError, DatasetFileError, file_digest
from pyro_vae.data.shapes3d import FACTOR_SIZES, FACTOR_VALUES, NUM_IMAGES
from tests.data.fake_files import shapes3d_labels, write_sha256sums, write_shapes3d

PUBLISHED_MD5 = "099a2078d58cec4daad0702c55d06868"


def _notebook_index(factors: np.ndarray) -> np.ndarray:
    """DeepMind's ``get_index``: orientation varies fastest (their loading notebook)."""
    index, base = np.zeros(len(factors), dtype=np.int64), 1
    for k in reversed(range(6)):
        index += factors[:, k] * base
        base *= FACTOR_SIZES[k]
    return index


def _expected_x(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).to(torch.float32) / 255.0


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """All 480,000 labels; images written for the first 64 rows only (the rest read 0)."""
    path = tmp_path_factory.mktemp("shapes3d_full") / "3dshapes.h5"
    data = write_shapes3d(path)
    return Shapes3D(path.parent, checksum=None), data


@pytest.fixture(scope="module")
def subset_file(tmp_path_factory):
    """200 grid items in random order, with random images; digest listed in SHA256SUMS."""
    folder = tmp_path_factory.mktemp("shapes3d_subset")
    rows = np.random.default_rng(1).choice(NUM_IMAGES, size=200, replace=False)
    data = write_shapes3d(folder / "3dshapes.h5", rows)
    write_sha256sums(folder, "3dshapes.h5")
    return folder / "3dshapes.h5", data


def test_full_grid_order_and_round_trip(full):
    ds, _ = full
    assert len(ds) == NUM_IMAGES == int(np.prod(FACTOR_SIZES))
    assert ds.factor_sizes == (10, 10, 10, 8, 4, 15) and ds.observation_shape == (3, 64, 64)
    rng = np.random.default_rng(0)
    index = np.concatenate([[0, 1, 14, 15, 60, 479_999], rng.integers(0, NUM_IMAGES, 500)])
    factors = ds.index_to_factors(index)
    assert (_notebook_index(factors) == index).all()
    assert (ds.factors_to_index(factors) == index).all()
    assert factors[1].tolist() == [0, 0, 0, 0, 0, 1]  # orientation varies fastest
    assert factors[3].tolist() == [0, 0, 0, 0, 1, 0]  # then shape (15 orientations)
    assert factors[4].tolist() == [0, 0, 0, 1, 0, 0]  # then scale (4 * 15)
    assert factors[5].tolist() == [9, 9, 9, 7, 3, 14]
    # classes read from the file's labels agree with the arithmetic and with the values
    with h5py.File(ds.path) as h:
        labels = h["labels"][np.sort(index)]
    sorted_factors = ds.index_to_factors(np.sort(index))
    assert np.allclose(ds.factor_values(sorted_factors), labels)
    assert np.allclose(ds.factor_values([[3, 0, 0, 7, 2, 14]])[0], [0.3, 0, 0, 1.25, 2, 30])


def test_full_grid_reads_images(full):
    ds, data = full
    rows = np.array([5, 3, 5, 0, 63])  # repeats and any order
    x, f = ds.get_batch(rows)
    assert x.dtype == torch.float32 and x.shape == (5, 3, 64, 64)
    assert torch.equal(x, _expected_x(data["images"][rows]))
    assert torch.equal(f, torch.from_numpy(ds.index_to_factors(rows)))
    assert torch.equal(ds.observations_from_factors(f.numpy()), x)
    x0, f0 = ds[3]
    assert torch.equal(x0, x[1]) and torch.equal(f0, f[1])
    assert torch.equal(ds.get_batch([1000])[0], torch.zeros(1, 3, 64, 64))  # unwritten: zeros


def test_observations_from_factors_for_metrics(full):
    ds, data = full
    rng = np.random.default_rng(3)
    factors = ds.sample_factors(256, rng)
    assert factors.shape == (256, 6) and factors.dtype == np.int64
    assert (factors >= 0).all() and (factors < np.array(FACTOR_SIZES)).all()
    assert all(len(np.unique(factors[:, k])) == s for k, s in enumerate(FACTOR_SIZES))
    # fixing one factor (what the beta-VAE / FactorVAE metrics do)
    factors[:, 4] = 2
    index = ds.factors_to_index(factors)
    assert (ds.index_to_factors(index)[:, 4] == 2).all()
    assert torch.equal(ds.observations_from_factors(factors), ds.get_batch(index)[0])
    first = ds.index_to_factors(np.arange(64))  # the rows that hold written images
    x = ds.observations_from_factors(first)
    assert torch.equal(x, _expected_x(data["images"]))
    with pytest.raises(ValueError, match="factor 'scale' has class 8, outside"):
        ds.observations_from_factors([[0, 0, 0, 8, 0, 0]])


def test_full_file_wrong_order_or_values(tmp_path):
    classes = np.stack(np.unravel_index(np.arange(NUM_IMAGES), FACTOR_SIZES), axis=1)
    labels = shapes3d_labels(classes)
    labels[[7, 8]] = labels[[8, 7]]
    write_shapes3d(tmp_path / "3dshapes.h5", labels=labels)
    with pytest.raises(DatasetFileError, match="not in the 3dshapes order .first at row 7"):
        Shapes3D(tmp_path, checksum=None)
    labels = shapes3d_labels(classes)
    labels[:, 3] = 1.0
    write_shapes3d(tmp_path / "3dshapes.h5", labels=labels)
    with pytest.raises(DatasetFileError, match=r"scale \(labels column 3\) has 1 distinct"):
        Shapes3D(tmp_path, checksum=None)


@pytest.mark.parametrize("in_memory", [False, True])
def test_subset_reads_right(subset_file, in_memory):
    path, data = subset_file
    ds = Shapes3D(path, in_memory=in_memory)  # "auto": the digest listed in SHA256SUMS
    assert len(ds) == 200
    assert (ds.index_to_factors(np.arange(200)) == data["classes"]).all()
    rows = np.array([199, 0, 17, 17, 42])
    x, f = ds.get_batch(rows)
    assert torch.equal(x, _expected_x(data["images"][rows]))
    assert (f.numpy() == data["classes"][rows]).all()
    assert (ds.factors_to_index(data["classes"][rows]) == rows).all()
    assert torch.equal(ds.observations_from_factors(data["classes"][rows]), x)
    drawn = ds.sample_factors(50, np.random.default_rng(0))
    assert (ds.factors_to_index(drawn) >= 0).all()  # only tuples the file holds
    absent = np.array([[0, 0, 0, 0, 0, 0]])
    if (data["classes"] == absent).all(axis=1).any():  # pragma: no cover - 1 in 2,400 seeds
        absent = np.array([[9, 9, 9, 7, 3, 14]])
    with pytest.raises(KeyError, match="not in .* subset of 3dshapes"):
        ds.observations_from_factors(absent)
    clone = pickle.loads(pickle.dumps(ds))  # what DataLoader workers get
    assert torch.equal(clone.get_batch(rows)[0], x)
    ds.close()


def test_registry(subset_file):
    path, _ = subset_file
    ds = get_dataset("3dshapes", root=str(path.parent), in_memory=True)
    assert isinstance(ds, Shapes3D) and len(ds) == 200
    with pytest.raises(FileNotFoundError, match="--data-root DIR"):
        get_dataset("3dshapes")


def test_checksums(subset_file, tmp_path):
    path, _ = subset_file
    copy = tmp_path / "3dshapes.h5"
    copy.write_bytes(path.read_bytes())
    # no SHA256SUMS beside the copy: the published digest of the full file is expected
    with pytest.raises(ChecksumError) as err:
        Shapes3D(tmp_path)
    msg = str(err.value)
    assert str(copy) in msg and PUBLISHED_MD5 in msg and "SHA256SUMS" in msg
    md5 = file_digest(copy, "md5")
    assert len(Shapes3D(copy, checksum=f"md5:{md5}")) == 200
    assert len(Shapes3D(copy, checksum=None)) == 200
    write_sha256sums(tmp_path, "3dshapes.h5")
    listed = file_digest(copy, "sha256")
    raw = bytearray(copy.read_bytes())
    raw[-100] ^= 0xFF  # corrupt one byte
    copy.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError) as err:
        Shapes3D(tmp_path)
    assert str(copy) in str(err.value) and listed in str(err.value)
    with pytest.raises(ValueError, match="not a md5 checksum"):
        Shapes3D(copy, checksum="md5:1234")


def test_truncated_file(subset_file, tmp_path):
    path, _ = subset_file
    cut = tmp_path / "3dshapes.h5"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        Shapes3D(cut, checksum=f"sha256:{file_digest(path, 'sha256')}")
    with pytest.raises(DatasetFileError, match=r"3dshapes\.h5' is not a valid 3dshapes file"):
        Shapes3D(cut, checksum=None).get_batch(np.arange(200))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        Shapes3D(tmp_path)
    msg = str(err.value)
    assert "'3dshapes.h5' is not in the directory" in msg and str(tmp_path) in msg
    assert "https://storage.googleapis.com/3d-shapes/3dshapes.h5" in msg and PUBLISHED_MD5 in msg
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Shapes3D(tmp_path / "elsewhere.h5")


def test_wrong_layout(tmp_path):
    rows = np.arange(10)
    write_shapes3d(tmp_path / "3dshapes.h5", rows, images_name="imgs")
    with pytest.raises(DatasetFileError, match=r"missing datasets \['images'\]"):
        Shapes3D(tmp_path, checksum=None)
    labels = shapes3d_labels(np.stack(np.unravel_index(rows, FACTOR_SIZES), axis=1))
    labels[4, 0] = 0.55
    write_shapes3d(tmp_path / "3dshapes.h5", rows, labels=labels)
    with pytest.raises(DatasetFileError, match="row 4 has floor_hue value 0.55, not one of"):
        Shapes3D(tmp_path, checksum=None)
    write_shapes3d(tmp_path / "3dshapes.h5", np.array([3, 3]))
    with pytest.raises(DatasetFileError, match="occur more than once"):
        Shapes3D(tmp_path, checksum=None)
    with h5py.File(tmp_path / "3dshapes.h5", "w") as h:
        h["images"] = np.zeros((2, 64, 64), dtype=np.uint8)
        h["labels"] = np.zeros((2, 6))
    with pytest.raises(DatasetFileError, match=r"images must be uint8 of shape \(N, 64, 64, 3\)"):
        Shapes3D(tmp_path, checksum=None)


def test_big_chunks_warn_for_lazy_reads(tmp_path):
    write_shapes3d(tmp_path / "3dshapes.h5", np.arange(300), chunks=(300, 64, 64, 3),
                   compression="gzip")  # fmt: skip
    with pytest.warns(UserWarning, match="chunks of 300 images"):
        Shapes3D(tmp_path, checksum=None).get_batch([0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Shapes3D(tmp_path, checksum=None, in_memory=True).get_batch([0, 1])


def test_factor_values_table():
    assert np.allclose(FACTOR_VALUES["floor_hue"], np.linspace(0, 0.9, 10))
    assert np.allclose(FACTOR_VALUES["scale"], np.linspace(0.75, 1.25, 8))
    assert np.allclose(FACTOR_VALUES["orientation"][[0, 7, 14]], [-30, 0, 30])
