"""Benchmark: noisy IPD throughput of ``detente.sim.ipd.matches`` against ``axelrod.Match``.

Tit For Tat vs GTFT, 200 turns, noise 0.05, both measured in this process. detente plays
``N_MATCHES`` matches at once (compiled: both strategies declare a machine); axelrod plays
matches one by one for about ``AXELROD_SECONDS``. detente is measured with numba's default
threads (blocks of matches in parallel) and with one thread; axelrod uses one.

The compile cost is measured in fresh processes: ``cold`` is the first call with an empty
numba cache (everything compiled), ``warm`` the first call of a second process reading that
on-disk cache (``cache=True``); ``import`` is importing detente.sim.ipd in that process.

Prints one JSON line. Run: ``.venv/bin/python benchmarks/bench_ipd.py``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import axelrod as axl
import numba

from detente.sim.ipd import matches

TURNS = 200
NOISE = 0.05
N_MATCHES = 50_000
REPEATS = 3
AXELROD_SECONDS = 5.0

_FIRST_CALL = """
import json, time
t0 = time.perf_counter()
from detente.sim.ipd import matches
t1 = time.perf_counter()
matches("Tit For Tat", "GTFT", 200, noise=0.05, seed=0, n=256)
t2 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1]))
"""


def detente_rate() -> float:
    """Best-of-``REPEATS`` match-turns per second for detente."""
    matches("Tit For Tat", "GTFT", TURNS, noise=NOISE, seed=0, n=256)  # warm up
    best = float("inf")
    for rep in range(REPEATS):
        t0 = time.perf_counter()
        matches("Tit For Tat", "GTFT", TURNS, noise=NOISE, seed=rep, n=N_MATCHES)
        best = min(best, time.perf_counter() - t0)
    return N_MATCHES * TURNS / best


def axelrod_rate() -> float:
    """Match-turns per second for axelrod, matches played one by one."""
    axl.Match((axl.TitForTat(), axl.GTFT()), turns=TURNS, noise=NOISE, seed=0).play()
    played = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < AXELROD_SECONDS:
        players = (axl.TitForTat(), axl.GTFT())
        axl.Match(players, turns=TURNS, noise=NOISE, seed=played + 1).play()
        played += 1
    return played * TURNS / (time.perf_counter() - t0)


def first_calls() -> dict[str, float]:
    """Import and first-call seconds in fresh processes: empty numba cache, then filled."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold", "warm"):
            done = subprocess.run(
                [sys.executable, "-c", _FIRST_CALL], env=env, check=True, capture_output=True,
                text=True,
            )
            imported, called = json.loads(done.stdout)
            out[f"{label}_import_s"] = round(imported, 3)
            out[f"{label}_first_call_s"] = round(called, 3)
    return out


def main() -> None:
    """Measure and print one JSON line."""
    threads = numba.get_num_threads()
    ours = detente_rate()
    numba.set_num_threads(1)
    ours_one = detente_rate()
    numba.set_num_threads(threads)
    theirs = axelrod_rate()
    print(
        json.dumps(
            {
                "detente_turns_per_s": round(ours),
                "detente_threads": threads,
                "detente_1_thread_turns_per_s": round(ours_one),
                "axelrod_turns_per_s": round(theirs),
                "ratio": round(ours / theirs, 1),
                "ratio_1_thread": round(ours_one / theirs, 1),
                **first_calls(),
            }
        )
    )


if __name__ == "__main__":
    main()
