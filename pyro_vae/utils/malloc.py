"""glibc allocator tuning for CPU training.

With glibc's default ``malloc``, every large activation buffer above the
dynamic mmap threshold is ``mmap``-ed and unmapped again each step, and freed
heap top is trimmed back to the OS: a conv64 training step then takes
~18,000 minor page faults.  Raising ``M_MMAP_THRESHOLD`` (to glibc's 64-bit
maximum, 32 MiB) and ``M_TRIM_THRESHOLD`` keeps those buffers in the heap and
reuses them.  ``benchmarks/allocator.py`` measures the effect.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: glibc's ceiling for M_MMAP_THRESHOLD on 64-bit systems (4 MiB * sizeof(long))
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024
TRIM_THRESHOLD = 1024 * 1024 * 1024

_tuned = False


def tune_malloc(
    mmap_threshold: int = MMAP_THRESHOLD_MAX, trim_threshold: int = TRIM_THRESHOLD
) -> bool:
    """Raise glibc's mmap and trim thresholds for this process.

    :returns: ``True`` when both settings were applied (glibc on Linux),
        ``False`` elsewhere (a no-op on other C libraries and systems).
    """
    global _tuned
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        mallopt(M_TRIM_THRESHOLD, trim_threshold)
    )
    _tuned = _tuned or ok
    return ok
