"""Atomic file writes: write to a temporary name in the same folder, then rename."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any


def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is untouched,
    so a crash mid-write never leaves a half-written file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, _FILE_MODE)  # mkstemp makes 0600; give what open() would
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing; rename it over ``path``
    when the ``with`` block succeeds, remove it when the block raises.

    :param path: the final file name.
    :param str mode: ``"w"`` (default) or ``"wb"``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp, open(tmp, mode) as f:
        yield f
        f.flush()
        os.fsync(f.fileno())


def atomic_write(path: str | os.PathLike, write: Callable[[IO], Any], mode: str = "w") -> None:
    """Call ``write(file)`` on a temporary file, then rename it to ``path``.

    Example::

        >>> import os, tempfile
        >>> from pathlib import Path
        >>> from pyro_vae.utils.files import atomic_write
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = Path(folder.name) / "notes.txt"
        >>> atomic_write(path, lambda f: f.write("first"))
        >>> def crash(f):
        ...     f.write("half-written")
        ...     raise RuntimeError("crash")
        >>> atomic_write(path, crash)
        Traceback (most recent call last):
            ...
        RuntimeError: crash
        >>> path.read_text(), os.listdir(folder.name)  # untouched; no temporary file left
        ('first', ['notes.txt'])
        >>> folder.cleanup()
    """
    with atomic_open(path, mode) as f:
        write(f)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    atomic_write(path, lambda f: json.dump(obj, f, indent=2, sort_keys=True, default=str))
