"""Checksum and file helpers shared by file-backed datasets."""

from __future__ import annotations

import pytest

from pyro_vae.data.files import (
    ChecksumError,
    DatasetFileError,
    file_digest,
    parse_checksum,
    require_file,
    sha256_of,
    verify_checksum,
)

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
ABC_MD5 = "900150983cd24fb0d6963f7d28e17f72"


@pytest.fixture
def abc(tmp_path):
    path = tmp_path / "abc.bin"
    path.write_bytes(b"abc")
    return path


def test_digests(abc):
    assert sha256_of(abc) == ABC_SHA256
    assert file_digest(abc, "md5") == ABC_MD5
    assert file_digest(abc, "sha256", chunk_size=1) == ABC_SHA256


def test_parse_checksum():
    assert parse_checksum(ABC_SHA256) == ("sha256", ABC_SHA256)
    assert parse_checksum(f"SHA256:{ABC_SHA256.upper()}") == ("sha256", ABC_SHA256)
    assert parse_checksum(f"md5:{ABC_MD5}") == ("md5", ABC_MD5)
    with pytest.raises(ValueError, match="unknown checksum algorithm 'crc'"):
        parse_checksum("crc:1234")
    with pytest.raises(ValueError, match="64 hex digits"):
        parse_checksum(ABC_MD5)  # a bare string is SHA-256
    with pytest.raises(ValueError, match="not a md5 checksum"):
        parse_checksum("md5:" + "z" * 32)


def test_verify_checksum(abc):
    verify_checksum(abc, ABC_SHA256, "toy")
    verify_checksum(abc, f"md5:{ABC_MD5}", "toy")
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as err:
        verify_checksum(abc, wrong, "toy")
    msg = str(err.value)
    assert "toy" in msg and str(abc) in msg and wrong in msg and ABC_SHA256 in msg
    assert isinstance(err.value, DatasetFileError) and isinstance(err.value, ValueError)


def test_require_file(abc, tmp_path):
    assert require_file(str(abc), "toy", "Get it somewhere.") == abc
    with pytest.raises(FileNotFoundError, match=r"toy: the file .*nope\.bin' does not exist\. Get"):
        require_file(tmp_path / "nope.bin", "toy", "Get it somewhere.")
    with pytest.raises(FileNotFoundError, match="is a directory"):
        require_file(tmp_path, "toy", "Get it somewhere.")
