"""Benchmark of the engine's step loop: the frozen NumPy engine against the current one.

Both engines run in this process, on the same worlds, alternately (best of ``--repeats``):

* ``numpy``: ``benchmarks/frozen_numpy_engine.py``, the engine as it was before its hot steps
  were compiled (a frozen copy, importing the mechanisms from the package);
* ``current``: ``detente.sim.engine``, whose mechanisms run as compiled loops over worlds
  (the Cython kernels of :mod:`detente.sim.native`, built when detente is installed;
  docs/performance.md, "Compiled engine").

Flagship us-iran-2001, the three options (containment, moderate engagement, dismantle
sanctions), one chunk of ``--chunk`` worlds each (``run_layout``); and the stacked path,
``simulate_states`` with ``--states`` sampled states x ``--state-worlds`` worlds (the frozen
engine is swapped into :mod:`detente.sim.stacked` for its run, nothing else changes). The
outputs of the two engines are compared (``identical``).

First calls, in fresh processes: the first and second ``run_chunk`` (256 worlds) with an
empty numba cache directory (``cold``), then in a second process (``warm``), each with its
import time. The engine's kernels are compiled at install time, so cold and warm should
match; the numba cache only matters to the IPD kernels, which this benchmark does not run.

Prints one JSON line: microseconds per world-step of each engine, their ratio, world-steps
per second per core (one thread), peak resident memory, first-call times, load average.

Every run of the current engine draws its random numbers, as the frozen engine's do: the
engine's memo of draws shared by runs on the same layout (``shared_step_numbers``: the
strategies of one comparison draw the same numbers) is bypassed here, so the figures are
the engine's whole work per world-step (``bench_states.py`` shows what the sharing saves).

By default this process keeps glibc's ``malloc`` defaults; ``--retain-freed-memory`` makes the
setting ``detente``'s own processes make (:mod:`detente.allocator`), for both engines.

Usage: .venv/bin/python benchmarks/bench_engine.py [--chunk CHUNK] [--repeats 3]
       [--retain-freed-memory]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
STRATEGIES = ("containment", "moderate-engagement", "dismantle-sanctions")

_FIRST_CALL = """
import time
t0 = time.perf_counter()
from detente.scenario import load_scenario
from detente.sim.api import build_strategy
from detente.sim.engine import run_chunk
from detente.sim.system import compile_system
sy = compile_system(load_scenario("us-iran-2001"), "moderate-engagement")
t1 = time.perf_counter()
run_chunk(sy, build_strategy(sy), 0, 0, 256)
t2 = time.perf_counter()
run_chunk(sy, build_strategy(sy), 0, 0, 256)
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def _first_calls() -> dict[str, float]:
    """Seconds of the first and second ``run_chunk`` in fresh processes: cold, then warm."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold", "warm"):
            res = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, check=True,
                                 capture_output=True, text=True)
            imp, first, second = (float(x) for x in res.stdout.split())
            out[f"{label}_import_s"] = round(imp, 2)
            out[f"{label}_first_call_s"] = round(first, 2)
            out[f"{label}_second_call_s"] = round(second, 3)
    return out


def _same(a: Any, b: Any) -> bool:
    fields = ("time_to_reciprocation", "backlash_events", "veto_excess", "active_focal",
              "active_internal")
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in fields) and all(
        np.array_equal(a.metrics[m], b.metrics[m]) for m in a.metrics
    )


def _flagship(chunk: int, repeats: int) -> dict[str, Any]:
    import frozen_numpy_engine as frozen

    from detente.scenario import load_scenario
    from detente.sim import engine
    from detente.sim.api import build_strategy
    from detente.sim.system import compile_system

    sc = load_scenario("us-iran-2001")
    systems = [compile_system(sc, s) for s in STRATEGIES]
    steps = systems[0].horizon
    best = {"numpy": float("inf"), "current": float("inf")}
    results: dict[str, list[Any]] = {"numpy": [], "current": []}
    for _ in range(repeats):
        for label, mod in (("numpy", frozen), ("current", engine)):
            res = []
            t0 = time.perf_counter()
            for sy in systems:
                layout = mod.Layout((0,), 0, chunk)
                res.append(mod.run_layout(sy, mod.chunk_plans(sy), build_strategy(sy), layout))
            best[label] = min(best[label], time.perf_counter() - t0)
            results[label] = res
    world_steps = chunk * steps * len(systems)
    return {
        **{f"{k}_us_per_world_step": best[k] / world_steps * 1e6 for k in best},
        "identical": all(
            _same(a, b) for a, b in zip(results["numpy"], results["current"], strict=True)
        ),
    }


def _stacked(states: int, worlds: int, repeats: int) -> dict[str, Any]:
    import frozen_numpy_engine as frozen

    from detente.experiments.sampling import sample_states
    from detente.scenario import load_scenario
    from detente.sim import engine, stacked

    sc = load_scenario("us-iran-2001")
    sampled = sample_states(sc, states, seed=1)
    seeds = list(range(states))
    steps = 34
    best = {"numpy": float("inf"), "current": float("inf")}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for label, mod in (("numpy", frozen), ("current", engine)):
            stacked.run_layout, stacked.chunk_plans = mod.run_layout, mod.chunk_plans
            for entry in stacked._compiled_states.values():  # the compiled states are shared,
                entry.plans.clear()  # each engine's plans are its own (their layouts differ)
            t0 = time.perf_counter()
            results[label] = [stacked.simulate_states(sc, s, sampled, worlds, seeds)
                              for s in STRATEGIES]
            best[label] = min(best[label], time.perf_counter() - t0)
    stacked.run_layout, stacked.chunk_plans = engine.run_layout, engine.chunk_plans
    world_steps = states * worlds * steps * len(STRATEGIES)
    return {
        **{f"{k}_us_per_world_step": best[k] / world_steps * 1e6 for k in best},
        "identical": all(
            _same(a, b) for a, b in zip(results["numpy"], results["current"], strict=True)
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    from detente.sim.api import CHUNK

    ap.add_argument("--chunk", type=int, default=CHUNK, help="worlds per chunk (the engine's)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--states", type=int, default=64)
    ap.add_argument("--state-worlds", type=int, default=100)
    ap.add_argument("--retain-freed-memory", action="store_true",
                    help="keep freed memory mapped (as detente's own processes do), for both")
    a = ap.parse_args()
    if a.retain_freed_memory:
        from detente.allocator import retain_freed_memory

        retain_freed_memory()
    from detente.sim import engine
    from detente.sim.world_state import draw_step_numbers

    engine.shared_step_numbers = draw_step_numbers  # every run draws (see the docstring)
    load = [os.getloadavg()[0]]
    first = _first_calls()
    load.append(os.getloadavg()[0])
    flag = _flagship(a.chunk, a.repeats)
    load.append(os.getloadavg()[0])
    stack = _stacked(a.states, a.state_worlds, a.repeats)
    load.append(os.getloadavg()[0])

    def figures(x: dict[str, Any]) -> dict[str, Any]:
        return {
            "numpy_us_per_world_step": round(x["numpy_us_per_world_step"], 3),
            "current_us_per_world_step": round(x["current_us_per_world_step"], 3),
            "ratio_numpy_over_current": round(
                x["numpy_us_per_world_step"] / x["current_us_per_world_step"], 2),
            "current_world_steps_per_s_per_core": round(1e6 / x["current_us_per_world_step"]),
            "identical": x["identical"],
        }

    print(json.dumps({
        "benchmark": "engine-numpy-vs-current",
        "scenario": "us-iran-2001",
        "strategies": list(STRATEGIES),
        "flagship_chunk": a.chunk,
        "flagship": figures(flag),
        "stacked": {"states": a.states, "worlds_per_state": a.state_worlds, **figures(stack)},
        "repeats_best_of": a.repeats,
        "threads": 1,
        "retain_freed_memory": a.retain_freed_memory,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "first_call": first,
        "load_average_1min": [round(x, 2) for x in load],
        "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
