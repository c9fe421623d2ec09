"""Helpers for datasets read from user-supplied files.

Reusable by every file-backed loader:

* :func:`require_file` -- a :class:`FileNotFoundError` that names the file and says how to
  get it;
* :func:`file_digest`, :func:`sha256_of`, :func:`verify_checksum` -- streamed checksums and a
  :class:`ChecksumError` naming the file, the expected and the actual digest;

Writing downloaded files goes through :func:`pyro_vae.utils.files.atomic_open` (temporary
name, then rename), so a crash never leaves a half-written file under the final name.

Loaders raise :class:`DatasetFileError` (a :class:`ValueError`) for a file that exists but is
not what they expect (corrupt, truncated, wrong keys or shapes).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = [
    "ChecksumError",
    "DatasetFileError",
    "file_digest",
    "parse_checksum",
    "require_file",
    "sha256_of",
    "verify_checksum",
]

_HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}


class DatasetFileError(ValueError):
    """A dataset file exists but is not usable (corrupt, truncated, wrong layout)."""


class ChecksumError(DatasetFileError):
    """A dataset file does not have the expected checksum."""


def require_file(path: str | os.PathLike, dataset_name: str, how_to_get: str) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` if it is an existing file.

    :param path: the file the loader needs.
    :param str dataset_name: the dataset's name, used in the message.
    :param str how_to_get: a sentence telling the user where to get the file.
    :raises FileNotFoundError: naming the file and saying how to get it.
    :rtype: pathlib.Path
    """
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"{dataset_name}: the file {str(path)!r} {what}. {how_to_get}")
    return path


def file_digest(
    path: str | os.PathLike, algorithm: str = "sha256", chunk_size: int = 1 << 20
) -> str:
    """Hex digest of a file, read in chunks (constant memory).

    :param path: the file.
    :param str algorithm: any :func:`hashlib.new` name (``"sha256"``, ``"md5"``, ...).
    :param int chunk_size: bytes read at a time.
    :rtype: str
    """
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file.

    :param path: the file.
    :rtype: str
    """
    return file_digest(path, "sha256")


def parse_checksum(expected: str) -> tuple[str, str]:
    """Split a checksum into ``(algorithm, lowercase hex digest)``.

    ``expected`` is either ``"<algorithm>:<hex>"`` (e.g. ``"md5:7da3..."``) or a bare
    64-digit hex string, which is taken as SHA-256.

    :param str expected: the checksum.
    :raises ValueError: unknown algorithm, or a digest of the wrong length or not hex.
    :rtype: tuple
    """
    algorithm, sep, digest = expected.strip().partition(":")
    if not sep:
        algorithm, digest = "sha256", algorithm
    algorithm, digest = algorithm.lower(), digest.lower()
    if algorithm not in _HEX_LENGTHS:
        raise ValueError(
            f"unknown checksum algorithm {algorithm!r} in {expected!r}; "
            f"use one of {sorted(_HEX_LENGTHS)} as '<algorithm>:<hex>'"
        )
    try:
        int(digest, 16)
    except ValueError:
        ok = False
    else:
        ok = len(digest) == _HEX_LENGTHS[algorithm]
    if not ok:
        raise ValueError(
            f"{expected!r} is not a {algorithm} checksum: expected "
            f"{_HEX_LENGTHS[algorithm]} hex digits"
        )
    return algorithm, digest


def verify_checksum(path: str | os.PathLike, expected: str, dataset_name: str) -> None:
    """Check a file's digest.

    :param path: the file.
    :param str expected: the expected checksum, see :func:`parse_checksum` (a bare hex string
        is SHA-256).
    :param str dataset_name: the dataset's name, used in the message.
    :raises ChecksumError: naming the file, the expected and the actual digest.
    """
    algorithm, digest = parse_checksum(expected)
    actual = file_digest(path, algorithm)
    if actual != digest:
        raise ChecksumError(
            f"{dataset_name}: checksum mismatch for {str(path)!r}: expected {algorithm} "
            f"{digest}, got {actual}. The file is corrupt, truncated or not the expected file; "
            f"download it again."
        )
