"""Cars3D from MATLAB files with the layout of Reed et al.'s ``data/cars``, made here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pyro_vae.data import Cars3D, get_dataset
from pyro_vae.data._images import resize_uint8
from pyro_vae.data.files import ChecksumError, DatasetFileError
from tests.data.fake_files import write_cars3d, write_sha256sums


@pytest.fixture(scope="module")
def cars(tmp_path_factory):
    root = tmp_path_factory.mktemp("cars3d")
    arrays = write_cars3d(root / "cars", cars=2)
    return root, arrays


def _expected(im: np.ndarray, elevation: int, azimuth: int) -> torch.Tensor:
    """dlib's reading: image (elevation e, azimuth a) is im[:, :, :, a, e], resized."""
    image = resize_uint8(im[None, :, :, :, azimuth, elevation])[0]
    return torch.from_numpy(image).permute(2, 0, 1).to(torch.float32) / 255.0


def test_layout_round_trip_and_images(cars):
    root, arrays = cars
    ds = Cars3D(root, allow_subset=True)
    assert [p.name for p in ds.files] == ["car_001_mesh.mat", "car_002_mesh.mat"]
    assert len(ds) == 4 * 24 * 2 and ds.factor_sizes == (4, 24, 183)
    assert ds.observation_shape == (3, 64, 64)
    x, f = ds.get_batch(np.arange(len(ds)))
    assert x.dtype == torch.float32 and x.shape == (192, 3, 64, 64)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert f[:3].tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 0]]  # object type fastest
    assert (ds.factors_to_index(f.numpy()) == np.arange(192)).all()
    for e, a, o in ([0, 0, 0], [3, 23, 1], [2, 5, 1], [1, 17, 0]):
        got = ds.observations_from_factors([[e, a, o]])[0]
        assert torch.equal(got, _expected(arrays[o], e, a))
    drawn = ds.sample_factors(50, np.random.default_rng(0))
    assert (drawn[:, 2] < 2).all()
    assert torch.equal(
        ds.observations_from_factors(drawn), ds.get_batch(ds.factors_to_index(drawn))[0]
    )
    with pytest.raises(KeyError, match="subset of Cars3D"):
        ds.observations_from_factors([[0, 0, 100]])


def test_already_64_pixels_is_not_resized(tmp_path):
    arrays = write_cars3d(tmp_path / "cars", cars=1, side=64)
    ds = Cars3D(tmp_path, allow_subset=True)
    x = ds.observations_from_factors([[2, 7, 0]])[0]
    assert torch.equal(x, torch.from_numpy(arrays[0][:, :, :, 7, 2]).permute(2, 0, 1) / 255.0)


def test_count_missing_and_registry(cars, tmp_path):
    root, _ = cars
    with pytest.raises(DatasetFileError, match="holds 2 .mat files; expected 183"):
        Cars3D(root)
    assert len(get_dataset("cars3d", root=str(root), allow_subset=True)) == 192
    with pytest.raises(FileNotFoundError) as err:
        get_dataset("cars3d", root=str(tmp_path))
    msg = str(err.value)
    assert str(tmp_path / "cars") in msg and "nips2015-analogy-data.tar.gz" in msg
    assert "ROOT/cars" in msg and "tar -xzf" in msg
    with pytest.raises(FileNotFoundError, match="--data-root DIR"):
        get_dataset("cars3d")


def test_truncated_and_corrupt_files(cars, tmp_path):
    root, _ = cars
    folder = tmp_path / "cars"
    folder.mkdir()
    good = (root / "cars" / "car_001_mesh.mat").read_bytes()
    (folder / "car_001_mesh.mat").write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetFileError) as err:
        Cars3D(tmp_path, allow_subset=True)
    assert "car_001_mesh.mat' is not a valid Cars3D .mat file" in str(err.value)
    assert "truncated or corrupt" in str(err.value)
    (folder / "car_001_mesh.mat").write_bytes(good)
    write_sha256sums(folder, "car_001_mesh.mat")
    raw = bytearray(good)
    raw[-50] ^= 0xFF
    (folder / "car_001_mesh.mat").write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match="car_001_mesh.mat"):
        Cars3D(tmp_path, allow_subset=True)
    with pytest.raises(DatasetFileError, match="truncated or corrupt"):  # zlib's check fails
        Cars3D(tmp_path, allow_subset=True, checksum=None)


def test_wrong_array(tmp_path):
    from scipy.io import savemat

    (tmp_path / "cars").mkdir()
    savemat(tmp_path / "cars" / "a.mat", {"img": np.zeros((8, 8), np.uint8)})
    with pytest.raises(DatasetFileError, match="has no array 'im'"):
        Cars3D(tmp_path, allow_subset=True)
    savemat(tmp_path / "cars" / "a.mat", {"im": np.zeros((64, 64, 3, 4, 24), np.uint8)})
    with pytest.raises(DatasetFileError, match=r"shape \(H, W, 3, 24, 4\)"):
        Cars3D(tmp_path, allow_subset=True)
