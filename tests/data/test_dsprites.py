"""dSprites: the procedural generator and the loader of the original file."""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from pyro_vae.data import DSprites, DSpritesFile, dataset_entries, get_dataset
from pyro_vae.data.dsprites import (
    DSPRITES_URL,
    FACTOR_VALUES,
    HDF5_NAME,
    KNOWN_CHECKSUMS,
    NPZ_NAME,
    SPRITE_PATCH,
    render_sprites,
)
from pyro_vae.data.files import ChecksumError, DatasetFileError, sha256_of

N = 737_280
SIZES = (3, 6, 40, 32, 32)
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ds() -> DSprites:
    return DSprites()


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _images(ds: DSprites, factors) -> np.ndarray:
    return ds.observations_from_factors(np.asarray(factors)).numpy()


# -- the procedural dataset ------------------------------------------------------------------


def test_grid(ds):
    assert len(ds) == N == math.prod(SIZES)
    assert ds.factor_sizes == SIZES
    assert ds.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert ds.observation_shape == (1, 64, 64)
    assert ds.num_factors == 5


def test_index_factors_round_trip(ds):
    corners = np.array(np.meshgrid(*[[0, s - 1] for s in SIZES], indexing="ij")).reshape(5, -1).T
    corner_idx = ds.factors_to_index(corners)
    idx = np.concatenate([_rng().integers(0, N, 1000), [0, 1, N - 2, N - 1], corner_idx])
    f = ds.index_to_factors(idx)
    assert f.dtype == np.int64 and f.shape == (len(idx), 5)
    np.testing.assert_array_equal(ds.factors_to_index(f), idx)
    np.testing.assert_array_equal(ds.index_to_factors(corner_idx), corners)
    # the original file's order: posY fastest, shape slowest
    np.testing.assert_array_equal(ds.index_to_factors(0)[0], [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(ds.index_to_factors(1)[0], [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(ds.index_to_factors(32)[0], [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(ds.index_to_factors(N - 1)[0], np.array(SIZES) - 1)
    with pytest.raises(IndexError):
        ds.index_to_factors(N)
    with pytest.raises(ValueError, match="orientation"):
        ds.factors_to_index([0, 0, 40, 0, 0])


def test_factor_values(ds):
    v = ds.factor_values(np.array([[0, 0, 0, 0, 0], [2, 5, 39, 31, 31], [1, 1, 1, 1, 2]]))
    np.testing.assert_allclose(v[0], [1, 0.5, 0, 0, 0])
    np.testing.assert_allclose(v[1], [3, 1, 2 * np.pi, 1, 1])
    np.testing.assert_allclose(v[2], [2, 0.6, 2 * np.pi / 39, 1 / 31, 2 / 31])
    # as in the original's metadata: 40 orientations in [0, 2 pi] *including* 2 pi
    np.testing.assert_allclose(
        FACTOR_VALUES["orientation"][[1, 38, 39]], [0.16110732, 6.12207799, 6.28318531], atol=1e-8
    )


def test_images_are_binary_and_inside_the_canvas(ds):
    sprites = ds.sprites
    assert sprites.shape == (3, 6, 40, SPRITE_PATCH, SPRITE_PATCH)
    counts = sprites.sum(axis=(-1, -2), dtype=np.int64)
    assert (counts > 0).all()
    # the patch border is empty, so no sprite is clipped; every position puts the whole patch
    # inside the canvas (corner at posY, posX <= 31, 31 + 33 = 64)
    for border in (
        sprites[..., 0, :],
        sprites[..., -1, :],
        sprites[..., :, 0],
        sprites[..., :, -1],
    ):
        assert not border.any()
    f = ds.sample_factors(512, _rng(1))
    f[:4, 3:] = [[0, 0], [31, 31], [0, 31], [31, 0]]  # the extreme positions
    x = ds.observations_from_factors(f)
    assert x.dtype == torch.float32 and x.shape == (512, 1, 64, 64)
    assert set(torch.unique(x).tolist()) <= {0.0, 1.0}
    np.testing.assert_array_equal(x.sum(dim=(1, 2, 3)).numpy(), counts[f[:, 0], f[:, 1], f[:, 2]])


def test_geometry(ds):
    """Sizes close to the original look; the centre moves one pixel per position class."""
    s = ds.sprites

    def extent(m: np.ndarray) -> int:
        return max(np.ptp(np.flatnonzero(m.any(0))), np.ptp(np.flatnonzero(m.any(1)))) + 1

    largest = max(extent(s[k, 5, o]) for k in range(3) for o in range(40))
    assert 64 / 3 <= largest <= 32
    for k in range(3):
        assert extent(s[k, 0, 0]) < extent(s[k, 5, 0])
    # square at orientation 0: bounding box centred on pixel (16 + posY, 16 + posX)
    img = _images(ds, [[0, 5, 0, 3, 20]])[0, 0]
    rows, cols = np.flatnonzero(img.any(1)), np.flatnonzero(img.any(0))
    assert (rows.min() + rows.max()) / 2 == 16 + 20 and (cols.min() + cols.max()) / 2 == 16 + 3
    # consecutive position classes shift the image by exactly one pixel
    f = ds.sample_factors(64, _rng(2))
    f[:, 3:] = np.minimum(f[:, 3:], 30)
    base = _images(ds, f)
    right, down = f.copy(), f.copy()
    right[:, 3] += 1
    down[:, 4] += 1
    np.testing.assert_array_equal(_images(ds, right), np.roll(base, 1, axis=3))
    np.testing.assert_array_equal(_images(ds, down), np.roll(base, 1, axis=2))


def test_image_changes_with_each_factor(ds):
    rng = _rng(3)
    for base in ds.sample_factors(5, rng):
        x0 = _images(ds, base)
        for k, size in enumerate(SIZES):
            others = [v for v in range(size) if v != base[k]]
            for v in rng.choice(others, size=min(4, len(others)), replace=False):
                f = base.copy()
                f[k] = v
                if k == 2 and ds.canonical_factors(f)[0, 2] == ds.canonical_factors(base)[0, 2]:
                    continue  # a documented duplicate (0 and 39, or a symmetric near-repeat)
                assert not np.array_equal(_images(ds, f), x0), (base, k, v)
        # orientation by one step always changes the image
        f = base.copy()
        f[2] = (base[2] + 1) % 39
        assert not np.array_equal(_images(ds, f), x0)


def test_different_factors_give_different_images(ds):
    rng = _rng(4)
    a, b = ds.sample_factors(20_000, rng), ds.sample_factors(20_000, rng)
    # pairs close to each other are the interesting ones: share all but one or two factors
    for k in range(5):
        b[k::10, k] = rng.integers(0, SIZES[k], size=len(b[k::10]))
        b[k::10, [j for j in range(5) if j != k]] = a[k::10][:, [j for j in range(5) if j != k]]
    keep = (ds.canonical_factors(a) != ds.canonical_factors(b)).any(axis=1)
    assert keep.sum() > 18_000
    xa, xb = ds.images_from_factors(a[keep]), ds.images_from_factors(b[keep])
    assert (xa != xb).any(axis=(1, 2)).all()


def test_duplicates_are_exactly_the_documented_ones(ds):
    """Exhaustive over all 737,280 items.

    An image is a sprite shifted to its position, never clipped (see above), so two images
    are equal iff their sprites' cropped masks are equal and the crops land on the same pixels.
    """
    s = ds.sprites.reshape(720, SPRITE_PATCH, SPRITE_PATCH)
    keys = []
    for m in s:
        rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
        crop = m[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        keys.append((crop.shape, crop.tobytes(), rows[0], cols[0]))
    by_crop: dict = {}
    for i, key in enumerate(keys):
        by_crop.setdefault(key[:2], []).append(i)
    rep = ds.canonical_factors(
        np.stack([*np.unravel_index(np.arange(720), (3, 6, 40)), [0] * 720, [0] * 720], axis=1)
    )
    rep_sprite = np.ravel_multi_index(tuple(rep[:, :3].T), (3, 6, 40))
    for members in by_crop.values():
        # same crop => same offset in the patch, so duplicates only at the same position ...
        assert len({keys[i][2:] for i in members}) == 1
        # ... and the same canonical factors; different crops => different canonical factors
        assert len(set(rep_sprite[members])) == 1
    assert len(set(rep_sprite)) == len(by_crop) == 658
    assert (rep_sprite != np.arange(720)).sum() * 32 * 32 == 63_488
    # duplicates stay within one shape and scale, and orientation 39 is always orientation 0
    shape_scale = np.stack(np.unravel_index(np.arange(720), (3, 6, 40))[:2], axis=1)
    np.testing.assert_array_equal(rep[:, :2], shape_scale)
    assert (rep.reshape(3, 6, 40, 5)[:, :, 39, 2] == 0).all()


def test_documented_duplicates_are_duplicates(ds):
    rng = _rng(5)
    f = ds.sample_factors(256, rng)
    f[:, 2] = 0
    g = f.copy()
    g[:, 2] = 39
    np.testing.assert_array_equal(_images(ds, f), _images(ds, g))
    # symmetric near-repeats listed in the docs: squares 90 degrees apart, ellipses 180
    for shape, scale, group in [(0, 0, (1, 11, 30)), (0, 4, (9, 19)), (1, 0, (10, 29))]:
        f = np.tile([shape, scale, 0, 7, 22], (len(group), 1))
        f[:, 2] = group
        x = _images(ds, f)
        assert all(np.array_equal(x[0], xi) for xi in x[1:])
        assert (ds.canonical_factors(f)[:, 2] == group[0]).all()


def test_deterministic(ds):
    idx = _rng(6).integers(0, N, 256)
    x1, f1 = ds.get_batch(idx)
    x2, f2 = DSprites().get_batch(idx)
    assert torch.equal(x1, x2) and torch.equal(f1, f2)
    np.testing.assert_array_equal(render_sprites(), ds.sprites)
    # the same pixels in a fresh process, and the same as when this test was written
    digest = hashlib.sha256(ds.sprites.tobytes()).hexdigest()
    code = (
        "import hashlib; from pyro_vae.data.dsprites import render_sprites; "
        "print(hashlib.sha256(render_sprites().tobytes()).hexdigest())"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == digest
    assert digest == "63823d07dccba547ef713e1b25d82e61d4dff19b22233eec531d171b6a8b2ab4"


def test_get_batch_equals_getitem(ds):
    idx = np.concatenate([_rng(7).integers(0, N, 64), [0, N - 1]])
    x, f = ds.get_batch(idx)
    assert x.shape == (66, 1, 64, 64) and f.dtype == torch.int64
    for j, i in enumerate(idx):
        xi, fi = ds[int(i)]
        assert torch.equal(xi, x[j]) and torch.equal(fi, f[j])
    assert torch.equal(ds[-1][0], x[-1])
    factors, obs = ds.sample(8, _rng(8))
    assert torch.equal(obs, ds.get_batch(ds.factors_to_index(factors))[0])


def test_registry():
    entries = dataset_entries()
    assert not entries["dsprites"].needs_files and entries["dsprites-file"].needs_files
    assert isinstance(get_dataset("dsprites"), DSprites)
    assert isinstance(get_dataset("dsprites", root="/ignored"), DSprites)
    with pytest.raises(FileNotFoundError, match="dsprites-dataset"):
        get_dataset("dsprites-file")


# -- the file loader ---------------------------------------------------------------------------


def _latents(ds: DSprites, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    classes = np.concatenate([np.zeros((len(factors), 1), np.int64), factors], axis=1)
    values = np.concatenate([np.ones((len(factors), 1)), ds.factor_values(factors)], axis=1)
    return classes, values


@pytest.fixture(scope="module")
def subset(ds):
    """300 distinct factor tuples in random order, with the original layout's arrays."""
    idx = _rng(9).choice(N, size=300, replace=False)
    factors = ds.index_to_factors(idx)
    classes, values = _latents(ds, factors)
    imgs = ds.images_from_factors(factors).copy()
    return {"factors": factors, "imgs": imgs, "classes": classes, "values": values}


def _write_npz(path: Path, data: dict, compressed: bool = True, **overrides) -> Path:
    arrays = {
        "imgs": data["imgs"],
        "latents_classes": data["classes"],
        "latents_values": data["values"],
        "metadata": np.array({"title": "dSprites test file"}, dtype=object),
    }
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def _write_hdf5(path: Path, data: dict, **overrides) -> Path:
    arrays = {
        "imgs": data["imgs"],
        "latents/classes": data["classes"],
        "latents/values": data["values"],
    }
    arrays.update(overrides)
    with h5py.File(path, "w") as h:
        for k, v in arrays.items():
            if v is not None:
                chunks = (min(len(v), 32), *v.shape[1:]) if k == "imgs" else True
                h.create_dataset(k, data=v, compression="gzip", chunks=chunks)
    return path


def _check_reads_right(ds: DSprites, f: DSpritesFile, data: dict) -> None:
    assert len(f) == len(data["factors"])
    rows = np.concatenate([_rng(10).integers(0, len(f), 50), [0, len(f) - 1]])
    x, factors = f.get_batch(rows)
    assert x.dtype == torch.float32 and x.shape == (len(rows), 1, 64, 64)
    np.testing.assert_array_equal(factors.numpy(), data["factors"][rows])
    np.testing.assert_array_equal(x[:, 0].numpy(), data["imgs"][rows])
    assert torch.equal(x, ds.observations_from_factors(data["factors"][rows]))
    assert torch.equal(f.observations_from_factors(data["factors"][rows]), x)
    np.testing.assert_array_equal(f.factor_values(data["factors"][rows]), data["values"][rows, 1:])
    np.testing.assert_array_equal(f.factors_to_index(data["factors"][rows]), rows)
    xi, fi = f[int(rows[3])]
    assert torch.equal(xi, x[3]) and torch.equal(fi, factors[3])
    sampled = f.sample_factors(20, _rng(11))
    assert set(map(tuple, sampled)) <= set(map(tuple, data["factors"]))
    present = set(map(tuple, data["factors"]))
    absent = next(t for t in ds.sample_factors(50, _rng(12)) if tuple(t) not in present)
    with pytest.raises(KeyError, match="not in"):
        f.observations_from_factors(absent)


@pytest.mark.parametrize("fmt", ["npz", "npz-stored", "hdf5"])
@pytest.mark.parametrize("in_memory", [True, False])
def test_file_reads_values_right(ds, subset, tmp_path, fmt, in_memory):
    if fmt == "hdf5":
        path = _write_hdf5(tmp_path / HDF5_NAME, subset)
    else:
        path = _write_npz(tmp_path / NPZ_NAME, subset, compressed=fmt == "npz")
    if fmt == "npz" and not in_memory:
        with pytest.raises(DatasetFileError, match="compressed"):
            DSpritesFile(path, allow_subset=True, in_memory=False)
        return
    f = DSpritesFile(tmp_path, allow_subset=True, in_memory=in_memory)  # found in the directory
    assert f.path == path
    _check_reads_right(ds, f, subset)
    # survives pickling (DataLoader workers), reopening lazy handles
    g = pickle.loads(pickle.dumps(f))
    assert torch.equal(g.get_batch([0, 5])[0], f.get_batch([0, 5])[0])


def test_file_checksums(subset, tmp_path):
    path = _write_npz(tmp_path / "small.npz", subset)
    digest = sha256_of(path)
    DSpritesFile(path, allow_subset=True, checksum=digest)
    DSpritesFile(path, allow_subset=True, checksum=f"sha256:{digest.upper()}")
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as err:
        DSpritesFile(path, allow_subset=True, checksum=wrong)
    msg = str(err.value)
    assert str(path) in msg and wrong in msg and digest in msg and DSPRITES_URL in msg
    # by default a file is checked against the original's published digest
    with pytest.raises(ChecksumError) as err:
        DSpritesFile(path)
    assert str(path) in str(err.value) and KNOWN_CHECKSUMS["npz"].split(":")[1] in str(err.value)
    h5 = _write_hdf5(tmp_path / "small.hdf5", subset)
    with pytest.raises(ChecksumError, match=KNOWN_CHECKSUMS["hdf5"].split(":")[1]):
        DSpritesFile(h5)
    with pytest.raises(ValueError, match="not a sha256 checksum"):
        DSpritesFile(path, allow_subset=True, checksum="abc")


def test_file_missing(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        DSpritesFile(tmp_path / NPZ_NAME)
    assert str(tmp_path / NPZ_NAME) in str(err.value) and DSPRITES_URL in str(err.value)
    with pytest.raises(FileNotFoundError) as err:
        DSpritesFile(tmp_path)
    msg = str(err.value)
    assert str(tmp_path) in msg and NPZ_NAME in msg and HDF5_NAME in msg and DSPRITES_URL in msg
    with pytest.raises(FileNotFoundError, match=DSPRITES_URL):
        get_dataset("dsprites-file", root=str(tmp_path))
    (tmp_path / "dsprites.txt").write_text("hi")
    with pytest.raises(DatasetFileError, match=r"neither a \.npz nor a \.hdf5"):
        DSpritesFile(tmp_path / "dsprites.txt")


@pytest.mark.parametrize("fmt", ["npz", "hdf5"])
def test_file_truncated_or_corrupt(subset, tmp_path, fmt):
    write = _write_npz if fmt == "npz" else _write_hdf5
    good = write(tmp_path / f"good.{fmt}", subset)
    raw = good.read_bytes()
    truncated = tmp_path / f"truncated.{fmt}"
    truncated.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DatasetFileError, match="truncated or corrupt") as err:
        DSpritesFile(truncated, allow_subset=True)
    assert str(truncated) in str(err.value) and DSPRITES_URL in str(err.value)
    garbage = tmp_path / f"garbage.{fmt}"
    garbage.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(DatasetFileError, match="garbage"):
        DSpritesFile(garbage, allow_subset=True)
    # damage inside the image data: found when the images are read
    corrupt = tmp_path / f"corrupt.{fmt}"
    if fmt == "npz":
        with zipfile.ZipFile(good) as zf:
            info = zf.getinfo("imgs.npy")
        start = info.header_offset + 30 + len(info.filename) + 200
    else:
        with h5py.File(good, "r") as h:
            start = h["imgs"].id.get_chunk_info(0).byte_offset + 20
    damaged = bytearray(raw)
    damaged[start : start + 64] = bytes(b ^ 0xFF for b in raw[start : start + 64])
    corrupt.write_bytes(bytes(damaged))
    with pytest.raises(DatasetFileError, match="truncated or corrupt") as err:
        DSpritesFile(corrupt, allow_subset=True).load()
    assert str(corrupt) in str(err.value)


@pytest.mark.parametrize("fmt", ["npz", "hdf5"])
def test_file_wrong_layout(subset, tmp_path, fmt):
    def check(match: str, allow_subset: bool = True, **overrides) -> None:
        path = tmp_path / f"bad.{fmt}"
        if fmt == "npz":
            _write_npz(path, subset, **overrides)
        else:
            _write_hdf5(path, subset, **overrides)
        with pytest.raises(DatasetFileError, match=match) as err:
            DSpritesFile(path, allow_subset=allow_subset, checksum=None).load()
        assert str(path) in str(err.value) and DSPRITES_URL in str(err.value)

    classes_key = "latents_classes" if fmt == "npz" else "latents/classes"
    imgs = subset["imgs"]
    if fmt == "npz":
        check(r"missing keys \['imgs'\].*found \['images'", imgs=None, images=imgs)
    else:
        check(r"missing datasets \['imgs'\].*found \['images'", imgs=None, images=imgs)
    check(r"imgs must be uint8 of shape \(N, 64, 64\)", imgs=imgs[:, :32, :32])
    check(r"imgs must be uint8", imgs=imgs.astype(np.float32))
    five_columns = subset["classes"][:, 1:]
    check(r"latents classes must be integer of shape \(300, 6\)", **{classes_key: five_columns})
    check("holds 300 images; expected 737280", allow_subset=False)
    check("imgs must hold 0/1 values", imgs=imgs * 255)
    bad = subset["classes"].copy()
    bad[5, 3] = 40
    check("orientation class 40", **{classes_key: bad})
    dup = subset["classes"].copy()
    dup[1] = dup[0]
    check("more than once", **{classes_key: dup})
    values_key = "latents_values" if fmt == "npz" else "latents/values"
    wrong = subset["values"].copy()
    wrong[7, 2] += 0.05
    check("scale value", **{values_key: wrong})


def test_full_size_file_order_is_checked(ds, tmp_path):
    """A full-size .hdf5 (images left unwritten: all zero, no disk used) passes the strict
    checks, and a file whose rows are out of the dSprites order does not."""
    factors = ds.index_to_factors(np.arange(N))
    classes, values = _latents(ds, factors)

    def write(path: Path, classes: np.ndarray) -> Path:
        with h5py.File(path, "w") as h:
            h.create_dataset("imgs", shape=(N, 64, 64), dtype=np.uint8, chunks=(64, 64, 64))
            h.create_dataset("latents/classes", data=classes)
            h.create_dataset("latents/values", data=values)
        return path

    f = DSpritesFile(write(tmp_path / "full.hdf5", classes), checksum=None, in_memory=False)
    assert len(f) == N
    x, fac = f.get_batch([0, N - 1])
    assert not x.any() and torch.equal(fac, torch.from_numpy(factors[[0, N - 1]]))
    np.testing.assert_array_equal(f.sample_factors(5, _rng(13)), ds.sample_factors(5, _rng(13)))
    classes[[10, 11]] = classes[[11, 10]]
    with pytest.raises(DatasetFileError, match="not in the dSprites order"):
        DSpritesFile(write(tmp_path / "shuffled.hdf5", classes), checksum=None)


def test_lazy_reads_from_big_chunks_warn(subset, tmp_path):
    path = tmp_path / "big_chunks.hdf5"
    with h5py.File(path, "w") as h:
        h.create_dataset("imgs", data=subset["imgs"], chunks=(300, 2, 4), compression="gzip")
        h.create_dataset("latents/classes", data=subset["classes"])
        h.create_dataset("latents/values", data=subset["values"])
    f = DSpritesFile(path, allow_subset=True, in_memory=False)
    with pytest.warns(UserWarning, match="chunks of 300 images"):
        x, _ = f.get_batch([3, 1, 3])
    np.testing.assert_array_equal(x[:, 0].numpy(), subset["imgs"][[3, 1, 3]])
    f.close()
    # in memory, it is read whole chunks at a time
    g = DSpritesFile(path, allow_subset=True).load()
    np.testing.assert_array_equal(g.get_batch(np.arange(300))[0][:, 0].numpy(), subset["imgs"])


def test_docs_list_the_duplicates(ds):
    """The table of identical images in docs/datasets/dsprites.md matches the code."""
    doc = REPO_ROOT / "docs" / "datasets" / "dsprites.md"
    if not doc.is_file():
        pytest.skip("docs not present")
    documented = set()
    for line in doc.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in ("square", "ellipse", "heart") and "{" in cells[2]:
            shape, scale = ("square", "ellipse", "heart").index(cells[0]), int(cells[1][0])
            for group in re.findall(r"\{([^}]*)\}", cells[2]):
                documented.add((shape, scale, tuple(int(o) for o in group.split(","))))
    rep = ds.canonical_factors(
        np.stack([*np.unravel_index(np.arange(720), (3, 6, 40)), [0] * 720, [0] * 720], axis=1)
    )[:, 2].reshape(3, 6, 40)
    actual = set()
    for shape in range(3):
        for scale in range(6):
            for r in np.unique(rep[shape, scale]):
                group = tuple(int(o) for o in np.flatnonzero(rep[shape, scale] == r))
                if len(group) > 1 and group != (0, 39):
                    actual.add((shape, scale, group))
    assert documented == actual
