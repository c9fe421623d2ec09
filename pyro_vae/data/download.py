"""Download a dataset's files with checksums, atomically, or say how to get them by hand.

:func:`fetch` downloads every missing file of a :class:`~pyro_vae.data.sources.DataSource`
with :mod:`urllib` (a timeout on every connection, mirrors tried in order), hashes the bytes
while writing them to a temporary name next to the destination, and renames the file into
place only when its digest is the published one: a failed or corrupt download leaves nothing
behind. ``.gz`` files are then decompressed and ``.zip`` archives extracted the same way
(temporary name, then rename).

Without network access every mirror fails and :class:`DownloadError` carries the manual
instructions (addresses, file names, folders, digests) from
:meth:`~pyro_vae.data.sources.DataSource.instructions`.

The opener is a parameter (``urlopen``), so tests serve bytes from memory and never touch
the network.

:func:`prepare_files` is what loaders call before reading: it checks the digests of the files
present, unpacks what needs unpacking, and raises a :class:`FileNotFoundError` listing the
missing files with the instructions. It never uses the network.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from pyro_vae.data.files import (
    ChecksumError,
    DatasetFileError,
    expected_checksum,
    parse_checksum,
    verify_checksum,
)
from pyro_vae.data.sources import DataSource, RemoteFile
from pyro_vae.utils.files import atomic_open

__all__ = ["DownloadError", "fetch", "fetch_file", "prepare_files", "unpack"]

#: Bytes read from the network at a time.
CHUNK = 1 << 20

Opener = Callable[..., IO[bytes]]
#: ``"auto"``, ``None`` or ``{file name: "<algorithm>:<hex>"}`` (see :func:`prepare_files`)
Checksums = str | Mapping[str, str] | None


class DownloadError(ConnectionError):
    """No mirror of a file could be downloaded; the message says how to get it by hand."""


def _download(url: str, dest: Path, remote: RemoteFile, urlopen: Opener, timeout: float) -> None:
    """Stream ``url`` into ``dest`` (temporary name, then rename) and check its digest."""
    algorithm, digest = parse_checksum(remote.checksum) if remote.checksum else ("sha256", None)
    hasher = hashlib.new(algorithm)
    written = 0
    with urlopen(url, timeout=timeout) as response:
        headers = getattr(response, "headers", None)
        length = headers.get("Content-Length") if headers is not None else None
        with atomic_open(dest, "wb") as out:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                hasher.update(chunk)
                written += len(chunk)
            if length is not None and written != int(length):
                raise DownloadError(
                    f"{url} ended after {written:,} of {int(length):,} bytes (connection cut)"
                )
            actual = hasher.hexdigest()
            if digest is not None and actual != digest:
                # raised inside atomic_open: the temporary file is removed, dest is untouched
                raise ChecksumError(
                    f"{remote.name}: the download from {url} has {algorithm} {actual}, "
                    f"expected {digest} ({written:,} bytes"
                    + (f", expected {remote.size:,}" if remote.size else "")
                    + "); nothing was saved. Try again, or download it by hand."
                )


def unpack(path: Path, remote: RemoteFile) -> None:
    """Decompress (``gunzip``) or extract (``unzip``) a downloaded file next to itself.

    Both write to temporary names and rename when complete. Zip members that would land
    outside the folder (absolute paths, ``..``) are refused.
    """
    if remote.unpack == "gunzip":
        target = path.parent / remote.provides[0]
        with gzip.open(path, "rb") as src, atomic_open(target, "wb") as out:
            shutil.copyfileobj(src, out, CHUNK)
    elif remote.unpack == "unzip":
        folder = path.parent
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                resolved = (folder / member).resolve()
                if not resolved.is_relative_to(folder.resolve()):
                    raise DatasetFileError(f"{path}: member {member!r} would land outside {folder}")
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=folder))
            try:
                zf.extractall(tmp)
                for entry in tmp.iterdir():
                    target = folder / entry.name
                    if target.is_dir():
                        shutil.rmtree(target)
                    os.replace(entry, target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    elif remote.unpack is not None:
        raise ValueError(f"unknown unpack step {remote.unpack!r}")


def fetch_file(
    remote: RemoteFile,
    root: str | os.PathLike,
    *,
    urlopen: Opener | None = None,
    timeout: float = 60.0,
    log: Callable[[str], None] = print,
) -> Path:
    """Download one file under ``root`` unless a copy with the right digest is there.

    :param remote: the file.
    :param root: the data root.
    :param urlopen: ``urlopen(url, timeout=...)`` returning a readable context manager;
        ``None``: :func:`urllib.request.urlopen` (tests pass a fake).
    :param float timeout: seconds to wait on each connection and read.
    :param log: called with one line per action.
    :returns: the file's path.
    :raises DownloadError: every mirror failed (no network, HTTP error, cut connection).
    :raises ChecksumError: a mirror sent bytes with the wrong digest (nothing is kept).
    """
    urlopen = urlopen or urllib.request.urlopen
    dest = remote.path(root)
    if dest.is_file():
        if remote.checksum is None:
            log(f"{dest}: present")
            return dest
        try:
            verify_checksum(dest, remote.checksum, remote.name)
        except ChecksumError as e:
            log(f"{dest}: present but corrupt ({e}); downloading it again")
        else:
            log(f"{dest}: present, {remote.checksum.split(':')[0]} checked")
            return dest
    errors: list[str] = []
    bad_digest: ChecksumError | None = None
    for url in remote.urls:
        log(f"downloading {url} -> {dest}")
        try:
            _download(url, dest, remote, urlopen, timeout)
        except ChecksumError as e:
            bad_digest = e
            errors.append(f"{url}: {e}")
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as e:
            errors.append(f"{url}: {type(e).__name__}: {e}")
        else:
            log(f"{dest}: saved, {remote.checksum or 'no checksum published'} verified")
            return dest
    if bad_digest is not None:
        raise ChecksumError("\n".join(errors))
    raise DownloadError(f"could not download {remote.name}:\n  " + "\n  ".join(errors))


def fetch(
    source: DataSource,
    root: str | os.PathLike,
    *,
    urlopen: Opener | None = None,
    timeout: float = 60.0,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Download and unpack every file of ``source`` that is not yet under ``root``.

    :returns: the downloaded files' paths (present ones included).
    :raises DownloadError: a file could not be downloaded; the message ends with the manual
        instructions for the whole dataset.
    :raises ChecksumError: a download had the wrong digest (nothing is kept).
    """
    if source.manual:
        raise DownloadError(
            f"{source.name} cannot be downloaded automatically.\n" + source.instructions(root)
        )
    paths = []
    for remote in source.files:
        if not remote.path(root).is_file() and remote.present(root):
            log(f"{remote.path(root).parent / remote.provides[0]}: present")
            continue
        try:
            path = fetch_file(remote, root, urlopen=urlopen, timeout=timeout, log=log)
        except DownloadError as e:
            raise DownloadError(f"{e}\n\n{source.instructions(root)}") from None
        if remote.unpack and not all((path.parent / p).exists() for p in remote.provides):
            log(f"unpacking {path}")
            unpack(path, remote)
        paths.append(path)
    return paths


def _expected(remote: RemoteFile, path: Path, checksums: Checksums) -> str | None:
    if isinstance(checksums, Mapping):
        return checksums.get(remote.name)
    return expected_checksum(path, checksums, remote.checksum)


def prepare_files(
    name: str,
    source: DataSource,
    root: Path,
    checksums: Checksums = "auto",
    group: str | None = None,
) -> None:
    """Check the files of ``source`` (of split ``group``) under ``root`` and unpack them.

    For each file: when present, its digest is checked; when its unpacked form
    (``provides``) is missing it is unpacked. No network is used.

    :param str name: the dataset's name, for messages.
    :param source: the dataset's files.
    :param root: the data root.
    :param checksums: ``"auto"``: for each file the digest listed in a ``SHA256SUMS`` or
        ``MD5SUMS`` file in its folder, else the published one; ``None``: no checks; a mapping
        ``{file name: "<algorithm>:<hex>"}``: exactly the files it names.
    :param group: only the files of this split (and those shared by all splits).
    :raises FileNotFoundError: files are missing; the message lists them and says which file
        goes where, with addresses and digests.
    :raises pyro_vae.data.files.ChecksumError: a file has the wrong digest.
    """
    missing: list[RemoteFile] = []
    for remote in source.files:
        if group is not None and remote.group not in ("", group):
            continue
        path = remote.path(root)
        unpacked = [path.parent / p for p in remote.provides]
        if path.is_file():
            expected = _expected(remote, path, checksums)
            if expected is not None:
                try:
                    verify_checksum(path, expected, name)
                except ChecksumError as e:
                    raise ChecksumError(
                        f"{e} Get it again with `pyro-vae data fetch {source.name} --root "
                        f"{root}`, or, for a file of your own, list its digest in SHA256SUMS "
                        f"in {str(path.parent)!r} (`sha256sum {path.name} >> SHA256SUMS`) or "
                        f"pass checksums=None."
                    ) from None
            if unpacked and not all(p.exists() for p in unpacked):
                try:
                    unpack(path, remote)
                except (OSError, EOFError, ValueError) as e:
                    raise DatasetFileError(
                        f"{name}: cannot unpack {str(path)!r} ({type(e).__name__}: {e}); it "
                        f"may be truncated or corrupt (expected checksum "
                        f"{remote.checksum or 'none published'})."
                    ) from e
        elif not (unpacked and all(p.exists() for p in unpacked)):
            missing.append(remote)
    if missing:
        listed = ", ".join(str(m.path(root)) for m in missing)
        raise FileNotFoundError(
            f"{name}: missing {listed}.\n" + source.instructions(root, group=group)
        )
