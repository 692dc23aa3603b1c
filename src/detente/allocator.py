"""Keep freed memory in the process, so that one simulation chunk's arrays serve the next.

A chunk of 2048 worlds keeps about 29 MB of arrays alive while it runs (its random numbers,
the recorded metrics, the step's buffers) and frees them at its end. glibc's ``malloc`` then
hands the top of its heap back to the operating system (``M_TRIM_THRESHOLD``), and the next
chunk faults every page of it in again, zeroed by the kernel: about 146 minor page faults
per step, some 7 % of the engine's time (docs/performance.md, "Sixth pass"). Asking ``malloc``
to keep a pad of free memory at the top of its heap (``M_TOP_PAD``, mallopt(3)) keeps those
pages mapped from one chunk to the next; the cost is up to that much more resident memory.

Setting the pad also turns off glibc's *dynamic* mmap threshold (which otherwise rises,
after the first large free, to 32 MB), so every array above the fixed 128 kB default would
get fresh pages from ``mmap``, zeroed by the kernel each time (a stacked run of 64 states x
100 worlds: about 1,200 page faults per 3-option call, against 140): the threshold is set to
the 32 MB the dynamic one would have reached (``M_MMAP_THRESHOLD``).

This is a setting of the whole process, so the library never makes it on import: the
programs make it (:func:`detente.cli.main` when it starts, each Dask task in its worker,
:mod:`detente.experiments.executors`). A program embedding detente may call
:func:`retain_freed_memory` itself. Elsewhere than glibc, or when the user has already
tuned ``malloc`` through the environment, it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import platform

RETAINED_BYTES = 64 * 2**20
"""The free memory ``malloc`` keeps at the top of its heap: above a 4096-world chunk's
working set, well below the 2 GB a flagship run may use."""

MMAP_THRESHOLD = 32 * 2**20
"""Allocations above this size get their own ``mmap``: glibc's ``DEFAULT_MMAP_THRESHOLD_MAX``
on 64-bit systems, where its dynamic threshold stops rising."""

_M_TOP_PAD = -2  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_USER_SETTINGS = ("MALLOC_TOP_PAD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")
_done = False


def retain_freed_memory(pad: int = RETAINED_BYTES) -> bool:
    """Ask glibc's ``malloc`` to keep ``pad`` bytes of freed memory mapped (``M_TOP_PAD``),
    and to serve allocations up to :data:`MMAP_THRESHOLD` from its heap.

    Returns whether the setting was made now or by an earlier call; False off glibc, or when
    ``MALLOC_*_`` variables or ``GLIBC_TUNABLES`` already tune ``malloc`` (the user's choice
    is left as it is).
    """
    global _done
    if _done:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    if any(v in os.environ for v in _USER_SETTINGS) or "malloc" in os.environ.get(
            "GLIBC_TUNABLES", ""):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _done = mallopt(_M_TOP_PAD, int(pad)) == 1 and mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return _done


__all__ = ["MMAP_THRESHOLD", "RETAINED_BYTES", "retain_freed_memory"]
