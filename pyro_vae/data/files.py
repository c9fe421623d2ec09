"""Helpers for datasets read from user-supplied files.

Reusable by every file-backed loader:

* :func:`require_file` -- a :class:`FileNotFoundError` that names the file and says how to
  get it;
* :func:`file_digest`, :func:`sha256_of`, :func:`verify_checksum` -- streamed checksums and a
  :class:`ChecksumError` naming the file, the expected and the actual digest;
* :func:`listed_checksum`, :func:`expected_checksum` -- the user's own digest of a file, read
  from a ``SHA256SUMS`` or ``MD5SUMS`` file next to it (the output of ``sha256sum``/``md5sum``),
  which ``checksum="auto"`` prefers to the published digest (for re-saved or partial files);
* :func:`read_h5_rows` -- rows of an HDF5 dataset in any order (h5py wants sorted, unique
  indices);
* :func:`npy_header`, :func:`npz_memmap` -- the header of a ``.npy`` stream, and a memory
  map of an uncompressed ``.npz`` member (lazy reads from ``np.savez`` files);

Writing downloaded files goes through :func:`pyro_vae.utils.files.atomic_open` (temporary
name, then rename), so a crash never leaves a half-written file under the final name.

Loaders raise :class:`DatasetFileError` (a :class:`ValueError`) for a file that exists but is
not what they expect (corrupt, truncated, wrong keys or shapes).
"""

from __future__ import annotations

import hashlib
import os
import struct
import zipfile
from pathlib import Path

import numpy as np

__all__ = [
    "ChecksumError",
    "DatasetFileError",
    "expected_checksum",
    "file_digest",
    "listed_checksum",
    "npy_header",
    "npz_memmap",
    "parse_checksum",
    "read_h5_rows",
    "require_file",
    "sha256_of",
    "verify_checksum",
]

#: Files in a dataset folder that list the user's own digests, in ``sha256sum``/``md5sum``
#: output format (``<hex>  <file name>`` per line), with the algorithm of each.
CHECKSUM_LISTS: tuple[tuple[str, str], ...] = (("SHA256SUMS", "sha256"), ("MD5SUMS", "md5"))

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


def listed_checksum(path: str | os.PathLike) -> str | None:
    """The digest of ``path`` listed in a ``SHA256SUMS`` or ``MD5SUMS`` file in its folder.

    Lines are ``<hex>  <name>`` or ``<hex> *<name>`` (what ``sha256sum`` / ``md5sum`` print);
    ``<name>`` is the file's name relative to that folder. ``SHA256SUMS`` is read first.

    :param path: the data file.
    :returns: ``"<algorithm>:<hex>"``, or ``None`` when no list names the file.
    :raises ValueError: a listed digest is malformed (the message names the list).
    :rtype: str or None
    """
    path = Path(path)
    for list_name, algorithm in CHECKSUM_LISTS:
        listing = path.parent / list_name
        if not listing.is_file():
            continue
        for number, line in enumerate(listing.read_text().splitlines(), 1):
            digest, _, name = line.strip().partition(" ")
            if name.strip().lstrip("*") != path.name:
                continue
            try:
                return ":".join(parse_checksum(f"{algorithm}:{digest}"))
            except ValueError as e:
                raise ValueError(f"{str(listing)!r}, line {number}: {e}") from None
    return None


def expected_checksum(
    path: str | os.PathLike, checksum: str | None, published: str | None
) -> str | None:
    """The digest a loader checks ``path`` against.

    :param path: the data file.
    :param checksum: ``"auto"``: the user's digest from ``SHA256SUMS``/``MD5SUMS`` next to the
        file (:func:`listed_checksum`) if listed, else ``published``; ``None``: no check; any
        other string: that digest (see :func:`parse_checksum`).
    :param published: the published digest of the original file, or ``None`` if unknown.
    :rtype: str or None
    """
    if checksum == "auto":
        return listed_checksum(path) or published
    if checksum is not None:
        parse_checksum(checksum)  # a malformed checksum is the caller's error, not the file's
    return checksum


def read_h5_rows(dataset, rows):
    """``dataset[rows]`` for an h5py dataset and any integer rows (repeats, any order).

    Reads the sorted unique rows as runs of consecutive rows, one slice per run, then puts them
    back in the order asked for. (h5py's own fancy indexing, ``dataset[sorted_list]``, builds
    one selection per index and was measured 50x slower than slices for 64 random rows of
    64 x 64 x 3 images: ``benchmarks/data.py``.)

    :param dataset: an :class:`h5py.Dataset` (or anything sliceable with ``shape``/``dtype``).
    :param numpy.ndarray rows: 1-d integer rows.
    :rtype: numpy.ndarray
    """
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    unique, inverse = np.unique(rows, return_inverse=True)
    out = np.empty((len(unique), *dataset.shape[1:]), dtype=dataset.dtype)
    breaks = np.flatnonzero(np.diff(unique) != 1) + 1
    for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(unique)], strict=True):
        if stop > start:
            out[start:stop] = dataset[int(unique[start]) : int(unique[stop - 1]) + 1]
    if len(unique) == len(rows) and (unique == rows).all():
        return out  # already increasing: no copy
    return out[inverse.reshape(-1)]


def npy_header(f) -> tuple[tuple[int, ...], np.dtype, bool]:
    """``(shape, dtype, fortran_order)`` from the ``.npy`` header at ``f``'s position.

    :param f: a binary file object positioned at the start of a ``.npy`` stream; on return
        it is positioned at the first byte of the array's data.
    :raises ValueError: not a ``.npy`` header, or an unsupported format version.
    """
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    return shape, dtype, fortran


def npz_memmap(path: str | os.PathLike, member: str) -> np.memmap:
    """Memory-map the array ``member`` (e.g. ``"imgs.npy"``) of an uncompressed ``.npz``.

    The member's data starts after the zip local file header and the ``.npy`` header; only
    a member stored without compression (``np.savez``, not ``np.savez_compressed``) can be
    mapped.

    :raises ValueError: the member is compressed, or the headers are malformed.
    :raises KeyError: no such member.
    :rtype: numpy.memmap
    """
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"{member} is compressed and cannot be memory-mapped")
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)  # the zip local file header
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise ValueError(f"bad zip local header for {member}")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        f.seek(info.header_offset + 30 + name_len + extra_len)
        shape, dtype, fortran = npy_header(f)
        offset = f.tell()
    if fortran:
        raise ValueError(f"{member} is stored in Fortran order")
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
