"""MPI3D from .npz files with the published layout (one array ``images``), made here."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from pyro_vae.data import MPI3D, get_dataset
from pyro_vae.data.files import ChecksumError, DatasetFileError
from pyro_vae.data.mpi3d import GRIDS
from pyro_vae.data.sources import get_source
from tests.data.fake_files import write_mpi3d, write_sha256sums


def _x(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).to(torch.float32) / 255.0


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("mpi3d")
    images = write_mpi3d(root / "mpi3d_toy" / "mpi3d_toy.npz", n=2000)
    return root, images


@pytest.mark.parametrize("in_memory", [False, True])
def test_layout_round_trip_and_images(toy, in_memory):
    root, images = toy
    ds = MPI3D(root, "toy", allow_subset=True, in_memory=in_memory)
    assert len(ds) == 2000 and ds.factor_sizes == GRIDS[6] == (6, 6, 2, 3, 3, 40, 40)
    assert ds.observation_shape == (3, 64, 64) and ds.num_factors == 7
    rows = np.array([1999, 0, 1, 40, 1600, 1600])
    x, f = ds.get_batch(rows)
    assert x.dtype == torch.float32 and x.shape == (6, 3, 64, 64)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert torch.equal(x, _x(images[rows]))
    # the README's index: vertical_axis fastest, then horizontal_axis (40), background (1600)
    assert f[2].tolist() == [0, 0, 0, 0, 0, 0, 1]
    assert f[3].tolist() == [0, 0, 0, 0, 0, 1, 0]
    assert f[4].tolist() == [0, 0, 0, 0, 1, 0, 0]
    assert (ds.factors_to_index(f.numpy()) == rows).all()
    assert (ds.index_to_factors(rows) == f.numpy()).all()
    assert torch.equal(ds.observations_from_factors(f.numpy()), x)
    drawn = ds.sample_factors(64, np.random.default_rng(0))
    assert torch.equal(ds.observations_from_factors(drawn), _x(images[ds.factors_to_index(drawn)]))
    with pytest.raises(KeyError, match="subset of MPI3D toy"):
        ds.observations_from_factors([[5, 5, 1, 2, 2, 39, 39]])
    assert torch.equal(pickle.loads(pickle.dumps(ds)).get_batch(rows)[0], x)


def test_dlib_grid_and_count(tmp_path, toy):
    root, _ = toy
    ds = MPI3D(root / "mpi3d_toy", "toy", allow_subset=True, object_values=4)
    assert ds.factor_sizes == (4, 4, 2, 3, 3, 40, 40) and int(np.prod(ds.factor_sizes)) == 460_800
    with pytest.raises(DatasetFileError, match=r"holds 2,000 images; expected 1,036,800, 460,800"):
        MPI3D(root, "toy")


def test_registry_and_variants(toy, tmp_path):
    root, _ = toy
    ds = get_dataset("mpi3d-toy", root=str(root), allow_subset=True)
    assert isinstance(ds, MPI3D) and ds.variant == "toy"
    with pytest.raises(FileNotFoundError, match="--data-root DIR"):
        get_dataset("mpi3d-real")
    with pytest.raises(FileNotFoundError) as err:
        get_dataset("mpi3d-realistic", root=str(root))
    msg = str(err.value)
    assert "'mpi3d_realistic.npz' is neither in" in msg and str(root / "mpi3d_realistic") in msg
    assert get_source("mpi3d-realistic").files[0].urls[0] in msg
    with pytest.raises(ValueError, match="unknown MPI3D variant"):
        MPI3D(root, "complex")


def test_compressed_needs_in_memory(tmp_path):
    images = write_mpi3d(tmp_path / "mpi3d_real.npz", n=50, compressed=True)
    with pytest.raises(DatasetFileError, match="compressed and cannot be memory-mapped"):
        MPI3D(tmp_path, "real", allow_subset=True)
    ds = MPI3D(tmp_path, "real", allow_subset=True, in_memory=True)
    assert torch.equal(ds.get_batch([3, 49])[0], _x(images[[3, 49]]))


def test_truncated_corrupt_and_wrong_layout(toy, tmp_path):
    root, _ = toy
    path = root / "mpi3d_toy" / "mpi3d_toy.npz"
    cut = tmp_path / "mpi3d_toy.npz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DatasetFileError, match=r"mpi3d_toy\.npz' is not a valid MPI3D file"):
        MPI3D(cut, "toy", allow_subset=True)
    cut.write_bytes(path.read_bytes())
    write_sha256sums(tmp_path, "mpi3d_toy.npz")
    raw = bytearray(cut.read_bytes())
    raw[5000] ^= 0xFF
    cut.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError) as err:
        MPI3D(tmp_path, "toy", allow_subset=True)
    assert str(cut) in str(err.value)
    (tmp_path / "SHA256SUMS").unlink()
    with open(cut, "wb") as f:
        np.savez(f, imgs=np.zeros((3, 64, 64, 3), np.uint8))
    with pytest.raises(DatasetFileError, match="no array 'images'"):
        MPI3D(cut, "toy", allow_subset=True)
    with open(cut, "wb") as f:
        np.savez(f, images=np.zeros((3, 64, 64), np.uint8))
    with pytest.raises(DatasetFileError, match=r"uint8 of shape \(N, 64, 64, 3\)"):
        MPI3D(cut, "toy", allow_subset=True)
