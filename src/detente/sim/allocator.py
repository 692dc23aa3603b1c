"""Keep the memory of the engine's per-step arrays in the process between steps.

Each step of the engine allocates and frees a few hundred arrays, many of them hundreds of
kilobytes for a chunk of 2,048 worlds. With glibc's defaults, memory freed at the top of
the heap beyond 128 KiB is given back to the system and allocations above a threshold are
mapped afresh, so the next step takes it back page by page: page faults and zeroing were
about a tenth of a flagship run's time (``perf``, docs/performance.md). :func:`tune_allocator`
raises those limits once per process (``mallopt``): allocations up to 32 MiB come from the
heap, and up to 128 MiB of free memory stays at its top, with 16 MiB of padding on each
growth. It changes how memory is reused, never a number the engine computes; the cost is
that a process may hold up to 128 MiB it no longer uses. It does nothing where the C
library is not glibc, or when ``$DETENTE_MALLOC`` is ``default``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

MALLOC_ENV = "DETENTE_MALLOC"
"""``default`` leaves the C library's allocator as it is."""

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
SETTINGS = ((M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 128 << 20), (M_TOP_PAD, 16 << 20))
"""``mallopt`` parameters (glibc's ``malloc.h`` numbers) and values, in bytes."""

_tuned: bool | None = None


def tune_allocator() -> bool:
    """Apply :data:`SETTINGS` once per process; whether glibc took them."""
    global _tuned
    if _tuned is None:
        _tuned = False
        if os.environ.get(MALLOC_ENV, "").strip().lower() != "default":
            _tuned = _mallopt_all()
    return _tuned


def _mallopt_all() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in SETTINGS)
