"""Benchmark of the simulation engine: worlds per second and peak memory on the flagship.

Runs the three options of us-iran-2001 (summaries streamed chunk by chunk), in parallel
processes (one per core by default), and a per-world loop peer (the same engine called with
one block of worlds at a time is the closest honest "unvectorised" peer: per-world Python
loops would be the same code with n=1). Prints one JSON line.

Usage: .venv/bin/python benchmarks/bench_sim.py [--worlds 100000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from concurrent.futures import ProcessPoolExecutor

STRATEGIES = ("containment", "moderate-engagement", "dismantle-sanctions")


def _run(args: tuple[str, int, int, int]) -> tuple[str, float, float]:
    from detente.scenario import load_scenario
    from detente.sim import summarize

    strategy, worlds, seed, chunk = args
    s = load_scenario("us-iran-2001")
    t0 = time.perf_counter()
    summarize(s, strategy, worlds, seed, chunk=chunk)
    secs = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return strategy, secs, peak_mb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=4096)
    a = ap.parse_args()
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.jobs) as ex:
        res = list(ex.map(_run, [(s, a.worlds, 0, a.chunk) for s in STRATEGIES]))
    wall = time.perf_counter() - t0
    # peer: the same engine with 256-world chunks on a small run (vectorisation width effect)
    _, small_secs, _ = _run(("moderate-engagement", 2048, 0, 256))
    _, wide_secs, _ = _run(("moderate-engagement", 2048, 0, 2048))
    print(json.dumps({
        "benchmark": "sim-flagship", "worlds": a.worlds, "strategies": len(STRATEGIES),
        "steps": 34, "jobs": a.jobs, "wall_s": round(wall, 2),
        "worlds_per_s_total": round(a.worlds * len(STRATEGIES) / wall),
        "per_strategy_s": {s: round(t, 2) for s, t, _ in res},
        "peak_rss_mb_per_process": round(max(m for _, _, m in res)),
        "ratio_chunk256_over_chunk2048": round(small_secs / wide_secs, 2),
    }))


if __name__ == "__main__":
    main()
