"""Large arrays get a mapping of their own, so that what a phase frees goes back to the system (glibc only;
a no-op elsewhere).

glibc raises its mmap threshold each time a mapped block is freed (up to 32 MiB), so after the first large
numpy array of a refresh is freed the next ones come from the heap, where freed memory stays resident and
fragmented: each phase's leftovers (the export's parse, the planner's frames) then stack under the next
phase's needs, the LP solver's ~100 MiB work space last. A fixed threshold keeps them apart: at SME-L the
refresh's peak RSS fell from ~404 to ~368 MiB (bench/RESULTS.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

M_MMAP_THRESHOLD = -3
"""``mallopt`` parameter number (glibc's malloc.h)."""
MMAP_THRESHOLD = 1 << 20
"""Allocations of at least 1 MiB (a column of 131,072 numbers) are mapped, and unmapped when freed."""


def _glibc() -> ctypes.CDLL | None:
    """The C library where it is glibc's (Linux), else None: its malloc tunables are glibc's own."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def keep_large_arrays_mapped() -> bool:
    """Fix glibc's mmap threshold for this process (no sliding); False where there is no glibc malloc."""
    libc = _glibc()
    mallopt = getattr(libc, "mallopt", None)  # glibc's (musl has none)
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_cycles() -> int:
    """Free what only reference cycles still hold; the number of objects freed.

    pandas caches an accessor (``.dt``, ``.str``, ``.cat``) on the Series it was used on, and the two refer
    to each other: a column read once through ``.dt`` stays until the cyclic collector runs, which a few
    large arrays barely ever trigger (it counts objects, not bytes). After reading the SME-L export ~20 MiB
    of such columns (the parsed export's) outlived the read into the LP's peak. Then glibc is asked to
    return the free pages amid its heap too (``malloc_trim``; a no-op elsewhere).
    """
    freed = gc.collect()
    trim = getattr(_glibc(), "malloc_trim", None)  # glibc's (musl has none)
    if trim is not None:
        trim(0)
    return freed
