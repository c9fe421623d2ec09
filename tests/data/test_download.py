"""Downloads with a fake opener (never the network), checksums, unpacking, digest lists."""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.error
import zipfile

import h5py
import numpy as np
import pytest

from pyro_vae.data.download import DownloadError, fetch, fetch_file, unpack
from pyro_vae.data.files import (
    ChecksumError,
    DatasetFileError,
    expected_checksum,
    listed_checksum,
    read_h5_rows,
)
from pyro_vae.data.sources import SOURCES, DataSource, RemoteFile, get_source
from tests.data.fake_files import write_sha256sums

PAYLOAD = b"0123456789" * 1000
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class FakeWeb:
    """``urlopen`` serving bytes from a dict; unknown URLs fail like a machine offline."""

    def __init__(self, pages: dict[str, bytes], lengths: dict[str, int] | None = None):
        self.pages, self.lengths, self.calls = pages, lengths or {}, []

    def __call__(self, url: str, timeout: float | None = None):
        self.calls.append((url, timeout))
        if url not in self.pages:
            raise urllib.error.URLError("[Errno -2] Name or service not known")
        response = io.BytesIO(self.pages[url])
        response.headers = {"Content-Length": str(self.lengths.get(url, len(self.pages[url])))}
        return response


def _remote(**kw) -> RemoteFile:
    defaults = dict(name="data.bin", urls=("https://a.example/data.bin",), checksum=f"md5:{MD5}")
    return RemoteFile(**{**defaults, "folder": "toy", **kw})


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_fetch_file_success_and_mirrors(tmp_path):
    remote = _remote(urls=("https://down.example/data.bin", "https://a.example/data.bin"))
    web = FakeWeb({"https://a.example/data.bin": PAYLOAD})
    lines = []
    path = fetch_file(remote, tmp_path, urlopen=web, timeout=7, log=lines.append)
    assert path == tmp_path / "toy" / "data.bin" and path.read_bytes() == PAYLOAD
    assert [u for u, _ in web.calls] == list(remote.urls) and web.calls[0][1] == 7
    assert _leftovers(path.parent) == ["data.bin"]  # no temporary files
    assert any("verified" in line for line in lines)
    # present with the right digest: no network at all
    web.calls.clear()
    assert fetch_file(remote, tmp_path, urlopen=web, log=lines.append) == path
    assert web.calls == []
    # present but corrupt: downloaded again
    path.write_bytes(b"garbage")
    fetch_file(remote, tmp_path, urlopen=web, log=lines.append)
    assert path.read_bytes() == PAYLOAD


def test_checksum_failure_leaves_nothing(tmp_path):
    remote = _remote()
    web = FakeWeb({"https://a.example/data.bin": PAYLOAD[:-1] + b"X"})
    with pytest.raises(ChecksumError) as err:
        fetch_file(remote, tmp_path, urlopen=web, log=lambda _: None)
    assert MD5 in str(err.value) and "nothing was saved" in str(err.value)
    assert _leftovers(tmp_path / "toy") == []


def test_cut_connection_leaves_nothing(tmp_path):
    url = "https://a.example/data.bin"
    web = FakeWeb({url: PAYLOAD[:100]}, lengths={url: len(PAYLOAD)})
    with pytest.raises(DownloadError, match="ended after 100 of 10,000 bytes"):
        fetch_file(_remote(), tmp_path, urlopen=web, log=lambda _: None)
    assert _leftovers(tmp_path / "toy") == []


def test_offline_gives_the_instructions(tmp_path):
    source = get_source("3dshapes")
    web = FakeWeb({})
    with pytest.raises(DownloadError) as err:
        fetch(source, tmp_path, urlopen=web, log=lambda _: None)
    msg = str(err.value)
    assert "https://storage.googleapis.com/3d-shapes/3dshapes.h5" in msg
    assert str(tmp_path / "3dshapes.h5") in msg
    assert "md5:099a2078d58cec4daad0702c55d06868, 267,573,662 bytes" in msg
    assert "Name or service not known" in msg
    assert not (tmp_path / "3dshapes.h5").exists()


def test_real_table_rejects_wrong_bytes(tmp_path):
    """The MNIST entry's published digests are checked: bytes that are not MNIST are refused."""
    source = get_source("mnist")
    web = FakeWeb({url: b"not mnist" for f in source.files for url in f.urls})
    with pytest.raises(ChecksumError, match="f68b3c2dcbeaaa9fbdd348bbdeb94873"):
        fetch(source, tmp_path, urlopen=web, log=lambda _: None)
    assert _leftovers(tmp_path / "MNIST" / "raw") == []


def test_fetch_unpacks_gz_and_zip(tmp_path):
    raw = b"\x00\x00\x08\x01\x00\x00\x00\x02\x07\x09"
    gz = gzip.compress(raw)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("images_toy/a/b.png", b"png")
    archive = buf.getvalue()
    source = DataSource(
        "toy",
        (
            RemoteFile(
                "x.gz",
                ("https://a.example/x.gz",),
                f"md5:{hashlib.md5(gz).hexdigest()}",
                "toy/raw",
                unpack="gunzip",
                provides=("x",),
            ),
            RemoteFile(
                "images_toy.zip",
                ("https://a.example/images_toy.zip",),
                f"md5:{hashlib.md5(archive).hexdigest()}",
                "toy",
                unpack="unzip",
                provides=("images_toy",),
            ),
        ),  # fmt: skip
        homepage="https://a.example",
    )
    web = FakeWeb({"https://a.example/x.gz": gz, "https://a.example/images_toy.zip": archive})
    paths = fetch(source, tmp_path, urlopen=web, log=lambda _: None)
    assert paths == [tmp_path / "toy/raw/x.gz", tmp_path / "toy/images_toy.zip"]
    assert (tmp_path / "toy/raw/x").read_bytes() == raw
    assert (tmp_path / "toy/images_toy/a/b.png").read_bytes() == b"png"
    assert sorted(_leftovers(tmp_path / "toy")) == ["images_toy", "images_toy.zip", "raw"]
    assert source.missing(tmp_path) == []
    # the unpacked forms alone count as present, and fetch does not download again
    (tmp_path / "toy/raw/x.gz").unlink()
    web.calls.clear()
    fetch(source, tmp_path, urlopen=web, log=lambda _: None)
    assert [u for u, _ in web.calls] == []


def test_unzip_refuses_members_outside_the_folder(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../escaped.txt", b"x")
    with pytest.raises(DatasetFileError, match="would land outside"):
        unpack(path, RemoteFile("evil.zip", (), None, unpack="unzip", provides=("x",)))
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_manual_sources_only_print_instructions(tmp_path):
    web = FakeWeb({})
    with pytest.raises(DownloadError) as err:
        fetch(get_source("celeba"), tmp_path, urlopen=web)
    msg = str(err.value)
    assert "cannot be downloaded automatically" in msg and web.calls == []
    assert "https://drive.google.com/uc?id=0B7EVK8r0v71pZjFTYXZWM3FlRnM" in msg
    assert str(tmp_path / "celeba" / "img_align_celeba.zip") in msg
    assert "md5:00d2c5bc6d35e252742224ab0c1e8fcb" in msg


def test_source_table():
    assert set(SOURCES) == {
        "3dshapes", "binarized-mnist", "cars3d", "celeba", "dsprites-file", "fashion-mnist",
        "mnist", "mpi3d-real", "mpi3d-realistic", "mpi3d-toy", "omniglot", "smallnorb",
    }  # fmt: skip
    assert SOURCES["binarized-mnist"] is SOURCES["mnist"]
    # no digest is published for these (see pyro_vae.data.sources): None, never a guess
    unpublished = {"cars3d", "smallnorb", "mpi3d-toy", "mpi3d-realistic", "mpi3d-real"}
    for name, source in SOURCES.items():
        for f in source.files:
            assert f.urls
            if name in unpublished:
                assert f.checksum is None
            else:
                assert f.checksum and f.checksum.startswith("md5:")
    with pytest.raises(KeyError, match="no download source is known for 'dsprites'"):
        get_source("dsprites")
    text = get_source("dsprites-file").instructions(None)
    assert "ROOT/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz" in text
    assert "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.hdf5" in text


def test_listed_and_expected_checksums(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"abc")
    (tmp_path / "b.bin").write_bytes(b"abd")
    published = "md5:" + "0" * 32
    assert listed_checksum(tmp_path / "a.bin") is None
    assert expected_checksum(tmp_path / "a.bin", "auto", published) == published
    write_sha256sums(tmp_path, "b.bin")
    (tmp_path / "MD5SUMS").write_text("900150983cd24fb0d6963f7d28e17f72 *a.bin\n")
    assert listed_checksum(tmp_path / "a.bin") == "md5:900150983cd24fb0d6963f7d28e17f72"
    sha = hashlib.sha256(b"abd").hexdigest()
    assert expected_checksum(tmp_path / "b.bin", "auto", published) == f"sha256:{sha}"
    assert expected_checksum(tmp_path / "b.bin", None, published) is None
    assert expected_checksum(tmp_path / "b.bin", "md5:" + "1" * 32, None) == "md5:" + "1" * 32
    (tmp_path / "SHA256SUMS").write_text("xyz  b.bin\n")
    with pytest.raises(ValueError, match="SHA256SUMS', line 1"):
        listed_checksum(tmp_path / "b.bin")


def test_read_h5_rows(tmp_path):
    data = np.arange(40).reshape(20, 2)
    with h5py.File(tmp_path / "x.h5", "w") as h:
        h.create_dataset("d", data=data, chunks=(1, 2))
    with h5py.File(tmp_path / "x.h5") as h:
        for rows in ([3, 1, 3, 19, 0], [2, 5, 9], [7], []):
            assert (read_h5_rows(h["d"], np.array(rows, dtype=np.int64)) == data[rows]).all()


def test_dsprites_file_honours_sha256sums(tmp_path):
    from pyro_vae.data import DSprites, DSpritesFile
    from pyro_vae.data.dsprites import NPZ_NAME

    ds = DSprites()
    factors = ds.index_to_factors(np.array([0, 5, 77]))
    path = tmp_path / NPZ_NAME
    np.savez(
        path,
        imgs=ds.images_from_factors(factors).copy(),
        latents_classes=np.concatenate([np.zeros((3, 1), np.int64), factors], axis=1),
        latents_values=np.concatenate([np.ones((3, 1)), ds.factor_values(factors)], axis=1),
    )
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  {NPZ_NAME}\n")
    with pytest.raises(ChecksumError, match="0" * 64):
        DSpritesFile(tmp_path, allow_subset=True)
    (tmp_path / "SHA256SUMS").unlink()
    write_sha256sums(tmp_path, NPZ_NAME)
    assert len(DSpritesFile(tmp_path, allow_subset=True)) == 3
    # the listed digest replaces the published one; the full-size rule still applies
    with pytest.raises(DatasetFileError, match="holds 3 images; expected 737280"):
        DSpritesFile(tmp_path)
