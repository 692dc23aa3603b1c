"""Benchmark of the simulation engine: worlds per second, peak memory and a same-process peer.

Runs the three options of us-iran-2001 (100,000 worlds each by default, summaries streamed
chunk by chunk) in parallel processes and reports the wall time, world-runs per second and
the peak resident memory of each process. Each strategy's worlds are split into ``jobs``
consecutive ranges (``summarize(..., start_world=...)``, the same numbers as one call), so the
processes get equal work.

Peer (measured in one process, in the same run): the same engine run world by world (``n = 1``
per call, the cost an unvectorised per-world loop over the same model pays) against the
vectorised engine on one chunk, both per world-step. The ratio is the vectorisation gain.

Small runs: milliseconds per ``summarize`` call of 100 worlds (the three options at 4 LHS
states, best of 3), the call ``detente run`` makes for every state and strategy.

Each process keeps its freed memory mapped for the next chunk, as ``detente``'s own processes
do (:func:`detente.allocator.retain_freed_memory`); ``--plain-malloc`` leaves glibc's default.

Usage: .venv/bin/python benchmarks/bench_sim.py [--worlds 100000] [--jobs 2] [--chunk CHUNK]
       [--plain-malloc]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core per process
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import resource
import time
from concurrent.futures import ProcessPoolExecutor

STRATEGIES = ("containment", "moderate-engagement", "dismantle-sanctions")


def _run(args: tuple[str, int, int, int | None, int, bool]) -> tuple[str, float, float]:
    from detente.allocator import retain_freed_memory
    from detente.scenario import load_scenario
    from detente.sim import CHUNK, summarize

    strategy, worlds, seed, chunk, start, retain = args
    chunk = chunk or CHUNK
    if retain:
        retain_freed_memory()
    s = load_scenario("us-iran-2001")
    t0 = time.perf_counter()
    summarize(s, strategy, worlds, seed, start, chunk=chunk)
    secs = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return strategy, secs, peak_mb


def _peer(strategy: str, chunk: int, singles: int) -> dict[str, float]:
    """Seconds per world-step: vectorised chunk vs the same engine one world per call."""
    from detente.scenario import load_scenario
    from detente.sim.api import build_strategy
    from detente.sim.engine import run_chunk
    from detente.sim.rng import BLOCK
    from detente.sim.system import compile_system

    sy = compile_system(load_scenario("us-iran-2001"), strategy)
    steps = sy.horizon
    run_chunk(sy, build_strategy(sy), 0, 0, BLOCK)  # warm up
    t0 = time.perf_counter()
    run_chunk(sy, build_strategy(sy), 0, 0, chunk)
    vec = (time.perf_counter() - t0) / (chunk * steps)
    t0 = time.perf_counter()
    for i in range(singles):
        run_chunk(sy, build_strategy(sy), 0, i * BLOCK, 1)
    one = (time.perf_counter() - t0) / (singles * steps)
    return {"vectorised_us_per_world_step": vec * 1e6, "world_by_world_us_per_world_step": one * 1e6}


def _small_calls(states: int = 4) -> float:
    """Milliseconds per ``summarize`` call of 100 worlds, as ``detente run`` makes them.

    The three options at ``states`` LHS states (``values`` = each sampled row): the per-call
    cost of small runs, where per-step overhead and compiling dominate.
    """
    from detente.experiments.sampling import sample_states
    from detente.scenario import load_scenario
    from detente.sim import summarize

    s = load_scenario("us-iran-2001")
    sampled = sample_states(s, states, "lhs", 0)
    rows = [{k: float(v) for k, v in r.items()} for _, r in sampled.iterrows()]
    summarize(s, STRATEGIES[0], 100, 0)  # warm up
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for values in rows:
            for strategy in STRATEGIES:
                summarize(s, strategy, 100, 0, values=values)
        best = min(best, (time.perf_counter() - t0) / (len(rows) * len(STRATEGIES)))
    return best * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=None,
                    help="worlds per chunk (default: the engine's, detente.sim.api.CHUNK)")
    ap.add_argument("--singles", type=int, default=32, help="worlds run one by one (peer)")
    ap.add_argument("--plain-malloc", action="store_true",
                    help="do not keep freed memory mapped between chunks (glibc's default)")
    a = ap.parse_args()
    from detente.sim.rng import BLOCK

    per = -(-a.worlds // (a.jobs * BLOCK)) * BLOCK  # worlds per task, whole blocks
    tasks = [
        (s, min(per, a.worlds - lo), 0, a.chunk, lo, not a.plain_malloc)
        for s in STRATEGIES
        for lo in range(0, a.worlds, per)
    ]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.jobs) as ex:
        res = list(ex.map(_run, tasks))
    wall = time.perf_counter() - t0
    cpu = {s: round(sum(t for n, t, _ in res if n == s), 2) for s in STRATEGIES}
    from detente.sim import CHUNK  # (imported here: the workers import detente themselves)

    chunk = a.chunk or CHUNK
    peer = _peer("moderate-engagement", chunk, a.singles)
    ratio = peer["world_by_world_us_per_world_step"] / peer["vectorised_us_per_world_step"]
    small_ms = _small_calls()
    print(
        json.dumps(
            {
                "benchmark": "sim-flagship",
                "worlds": a.worlds,
                "strategies": len(STRATEGIES),
                "steps": 34,
                "jobs": a.jobs,
                "chunk": chunk,
                "retain_freed_memory": not a.plain_malloc,
                "wall_s": round(wall, 2),
                "world_runs_per_s_total": round(a.worlds * len(STRATEGIES) / wall),
                "per_strategy_cpu_s": cpu,
                "peak_rss_mb_per_process": round(max(m for _, _, m in res)),
                "peer": {k: round(v, 2) for k, v in peer.items()},
                "ratio_world_by_world_over_vectorised": round(ratio, 1),
                "summarize_100_worlds_ms_per_call": round(small_ms, 1),
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
