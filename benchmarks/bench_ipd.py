"""Benchmark: noisy IPD throughput of ``detente.sim.ipd.matches`` against ``axelrod.Match``.

Tit For Tat vs GTFT, 200 turns, noise 0.05, both measured in this process. detente plays
``N_MATCHES`` matches at once (vectorised over matches); axelrod plays matches one by one for
about ``AXELROD_SECONDS``. Prints one JSON line with match-turns per second and the ratio.

Run: ``.venv/bin/python benchmarks/bench_ipd.py``
"""

from __future__ import annotations

import json
import time

import axelrod as axl

from detente.sim.ipd import matches

TURNS = 200
NOISE = 0.05
N_MATCHES = 50_000
REPEATS = 3
AXELROD_SECONDS = 5.0


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


def main() -> None:
    """Measure both and print one JSON line."""
    ours = detente_rate()
    theirs = axelrod_rate()
    print(
        json.dumps(
            {
                "detente_turns_per_s": round(ours),
                "axelrod_turns_per_s": round(theirs),
                "ratio": round(ours / theirs, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
