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
import sys

M_MMAP_THRESHOLD = -3
"""``mallopt`` parameter number (glibc's malloc.h)."""
MMAP_THRESHOLD = 1 << 20
"""Allocations of at least 1 MiB (a column of 131,072 numbers) are mapped, and unmapped when freed."""


def keep_large_arrays_mapped() -> bool:
    """Fix glibc's mmap threshold for this process (no sliding); False where there is no glibc malloc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt  # glibc's (musl has none)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
