"""SmallNORB from files in NORB's binary matrix format, made here."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from pyro_vae.data import SmallNORB, get_dataset
from pyro_vae.data._images import resize_uint8
from pyro_vae.data.files import ChecksumError, DatasetFileError
from pyro_vae.data.norb import NUM_IMAGES, read_norb_header
from tests.data.fake_files import norb_matrix, write_sha256sums, write_smallnorb


def _x(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(resize_uint8(images)).unsqueeze(1).to(torch.float32) / 255.0


@pytest.fixture(scope="module")
def norb(tmp_path_factory):
    root = tmp_path_factory.mktemp("norb")
    return root, write_smallnorb(root, per_chunk=30, gz=True)


@pytest.mark.parametrize("in_memory", [False, True])
def test_layout_round_trip_and_images(norb, in_memory):
    root, data = norb
    ds = SmallNORB(root, allow_subset=True, in_memory=in_memory)  # gunzips on first use
    assert len(ds) == 60 and ds.factor_sizes == (5, 10, 9, 18, 6)
    assert int(np.prod(ds.factor_sizes)) == NUM_IMAGES and ds.observation_shape == (1, 64, 64)
    rows = np.array([59, 0, 31, 7, 7])
    x, f = ds.get_batch(rows)
    assert x.dtype == torch.float32 and x.shape == (5, 1, 64, 64)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert torch.equal(x, _x(data["images"][rows]))  # left camera, Lanczos to 64 x 64
    assert (f.numpy() == data["classes"][rows]).all()  # azimuth halved: classes 0..17
    assert set(f[:, 1].tolist()) <= set(range(10))
    assert (ds.factors_to_index(f.numpy()) == rows).all()
    assert torch.equal(ds.observations_from_factors(data["classes"][rows]), x)
    drawn = ds.sample_factors(20, np.random.default_rng(0))
    assert torch.equal(
        ds.observations_from_factors(drawn), ds.get_batch(ds.factors_to_index(drawn))[0]
    )
    missing = np.array([[0, 0, 0, 0, 0]])
    if (data["classes"] == missing).all(axis=1).any():  # pragma: no cover
        missing = np.array([[4, 9, 8, 17, 5]])
    with pytest.raises(KeyError, match="subset of SmallNORB"):
        ds.observations_from_factors(missing)
    assert torch.equal(pickle.loads(pickle.dumps(ds)).get_batch(rows)[0], x)


def test_header_format(tmp_path):
    path = tmp_path / "m.mat"
    path.write_bytes(norb_matrix(np.arange(6, dtype=np.int32)))
    dtype, shape, offset = read_norb_header(path)
    assert dtype == np.int32 and shape == (6,) and offset == 20  # 1-d: 3 size slots
    path.write_bytes(norb_matrix(np.zeros((2, 2, 96, 96), np.uint8)))
    assert read_norb_header(path)[1:] == ((2, 2, 96, 96), 24)


def test_count_missing_and_registry(norb, tmp_path):
    root, _ = norb
    with pytest.raises(DatasetFileError, match="hold 60 images; expected 48,600"):
        SmallNORB(root)
    assert len(get_dataset("smallnorb", root=str(root), allow_subset=True)) == 60
    with pytest.raises(FileNotFoundError) as err:
        get_dataset("smallnorb", root=str(tmp_path))
    msg = str(err.value)
    assert (
        str(tmp_path / "small_norb" / "smallnorb-5x01235x9x18x6x2x96x96-testing-info.mat.gz") in msg
    )
    assert "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/" in msg and "none published" in msg
    with pytest.raises(FileNotFoundError, match="--data-root DIR"):
        get_dataset("smallnorb")


def test_truncated_corrupt_and_bad_labels(tmp_path):
    data = write_smallnorb(tmp_path, per_chunk=5)
    folder = tmp_path / "small_norb"
    dat = folder / "smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat"
    good = dat.read_bytes()
    dat.write_bytes(good[:-100])
    with pytest.raises(DatasetFileError) as err:
        SmallNORB(tmp_path, allow_subset=True)
    assert str(dat) in str(err.value) and "truncated" in str(err.value)
    dat.write_bytes(good)
    # digests apply to the downloaded .gz files (what prepare_files checks)
    gz_root = tmp_path / "gz"
    write_smallnorb(gz_root, per_chunk=5, gz=True)
    gz = gz_root / "small_norb" / f"{dat.name}.gz"
    write_sha256sums(gz.parent, gz.name)
    raw = bytearray(gz.read_bytes())
    raw[-7] ^= 0xFF
    gz.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match=gz.name):
        SmallNORB(gz_root, allow_subset=True)
    info = folder / "smallnorb-5x01235x9x18x6x2x96x96-testing-info.mat"
    labels = data["classes"][5:]
    bad = np.stack([labels[:, 1], labels[:, 2], 2 * labels[:, 3], labels[:, 4]], axis=1)
    bad[2, 3] = 6  # lighting 6: outside 0..5
    info.write_bytes(norb_matrix(bad.astype(np.int32)))
    with pytest.raises(DatasetFileError, match="row 7 .* has lighting class 6, outside"):
        SmallNORB(tmp_path, allow_subset=True)
    bad[2, 3] = labels[2, 4]
    bad[3] = bad[2]
    cat = folder / "smallnorb-5x01235x9x18x6x2x96x96-testing-cat.mat"
    cats = labels[:, 0].astype(np.int32)
    cats[3] = cats[2]
    cat.write_bytes(norb_matrix(cats))
    info.write_bytes(norb_matrix(bad.astype(np.int32)))
    with pytest.raises(DatasetFileError, match="occur more than once"):
        SmallNORB(tmp_path, allow_subset=True)
