"""Refuse, before anything is allocated, experiments that cannot fit in memory or on disk.

A sample of states is a dense ``states x uncertainties`` array (the flagship has 871
uncertainties, so a billion states would need petabytes), the run's plan holds one small
object per chunk, and the store keeps one row per world. These checks estimate each from the
sizes on the command line and raise one :class:`~detente.errors.InputError` naming the figure,
the limit and what to do instead, so a too-large request fails in milliseconds rather than
with a NumPy ``ArrayMemoryError`` (or a full disk) minutes later.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

from detente.errors import InputError

#: Largest seed: the results database stores seeds as signed 64-bit integers.
SEED_MAX = 2**63 - 1
#: Largest number of worlds one (state, strategy) cell or one ``simulate`` call may ask for.
MAX_WORLDS = 10_000_000
#: Bytes held per sampled number while sampling (unit design, values, the frame's copy).
SAMPLE_BYTES_PER_NUMBER = 3 * 8
#: Bytes of the run plan per chunk (a small dataclass and its key).
PLAN_BYTES_PER_CHUNK = 400
#: Upper bound of stored bytes per world (outcome columns plus keys, before compression).
STORED_BYTES_PER_WORLD = 24 * 8
#: Share of the available memory a request may plan to use.
MEMORY_SHARE = 0.5

SOURCE = "<command line>"


def available_memory() -> int:
    """Bytes of memory available to this process now (``MemAvailable``; else physical)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return 8 * 2**30


def human_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``: a byte count in the largest binary unit below it."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    k = 0 if n < 1024 else min(int(math.log(n, 1024)), len(units) - 1)
    return f"{n:.0f} {units[0]}" if k == 0 else f"{n / 1024**k:.1f} {units[k]}"


def check_worlds(worlds: int, option: str = "--worlds") -> None:
    """Refuse more than :data:`MAX_WORLDS` worlds in one cell or call."""
    if worlds > MAX_WORLDS:
        raise InputError.single(
            SOURCE,
            f"{option} {worlds:,} is more than the {MAX_WORLDS:,} worlds one cell may run "
            "(at tens of thousands of worlds per second that is hours per strategy); "
            "Monte Carlo error shrinks with the square root of the worlds, so sample more "
            "states instead, or spread a large study over Dask workers (--scheduler)",
        )


def _check_memory(need: int, what: str, remedy: str) -> None:
    have = available_memory()
    if need > MEMORY_SHARE * have:
        raise InputError.single(
            SOURCE,
            f"{what} needs about {human_bytes(need)} of memory, more than half of the "
            f"{human_bytes(have)} available; {remedy}",
        )


def check_sample(states: int, uncertainties: int) -> None:
    """Refuse a sample of states that would not fit in the available memory."""
    _check_memory(
        states * uncertainties * SAMPLE_BYTES_PER_NUMBER,
        f"sampling {states:,} states x {uncertainties:,} uncertainties",
        "sample fewer states or fewer uncertainties (--include)",
    )


def check_plan(states: int, strategies: int, worlds: int, chunk_worlds: int) -> None:
    """Refuse a run whose plan (one entry per chunk) would not fit in memory, or whose cells
    ask for more than :data:`MAX_WORLDS` worlds."""
    check_worlds(worlds)
    chunks = states * strategies * max(1, math.ceil(worlds / chunk_worlds))
    _check_memory(
        chunks * PLAN_BYTES_PER_CHUNK,
        f"planning {chunks:,} chunks ({states:,} states x {strategies} strategies x "
        f"{worlds:,} worlds)",
        "use fewer states or worlds, or split the study into runs with different seeds",
    )


def check_disk(directory: Path, states: int, strategies: int, worlds: int) -> None:
    """Refuse a run whose per-world results would not fit on the results database's disk."""
    need = states * strategies * worlds * STORED_BYTES_PER_WORLD
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return
    if need > free:
        raise InputError.single(
            str(directory),
            f"{states:,} states x {strategies} strategies x {worlds:,} worlds would store "
            f"up to {human_bytes(need)} of results, more than the {human_bytes(free)} free "
            "on this disk; use fewer worlds or states, or --db on a larger disk",
        )
