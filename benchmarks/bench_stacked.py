"""Benchmark of the stacked engine: many sampled states in one run against one run per state.

Two workloads on us-iran-2001, each measured both ways in the same process (best of
``--repeat``), the ratio being the stacked engine's gain:

* history: 64 LHS states x 64 worlds, every recorded observation under the script
  ``us-as-followed`` - ``observe_states`` against 64 ``observe`` calls (calibration's call);
* summaries: 64 states x 100 worlds x 1 strategy (``containment``) - ``simulate_states`` and
  the per-world summaries against 64 ``summarize`` calls (what ``compare`` does per strategy).

Both ways compile every state (the resolve cache holds fewer states than are run). Prints one
JSON line.

Usage: .venv/bin/python benchmarks/bench_stacked.py [--states 64] [--repeat 2]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import time
from collections.abc import Callable


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--states", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    from detente.experiments.sampling import sample_states
    from detente.history import observe, observe_states
    from detente.scenario import load_scenario
    from detente.sim import summarize
    from detente.sim.api import _chunk_summary
    from detente.sim.stacked import run_states

    sc = load_scenario("us-iran-2001")
    n = args.states
    hist = sample_states(sc, n, seed=0, history=True)
    opts = sample_states(sc, n, seed=0)
    seeds = list(range(n))
    rows_h = [r.to_dict() for _, r in hist.iterrows()]
    rows_o = [r.to_dict() for _, r in opts.iterrows()]

    def obs_stacked() -> object:
        return observe_states(sc, "us-as-followed", hist, 64, seeds)

    def obs_each() -> object:
        return [observe(sc, "us-as-followed", 64, s, values=r)
                for s, r in zip(seeds, rows_h, strict=True)]

    def sum_stacked() -> object:
        system, res = run_states(sc, "containment", opts, 100, seeds)
        return _chunk_summary(res, system)

    def sum_each() -> object:
        return [summarize(sc, "containment", 100, s, values=r)
                for s, r in zip(seeds, rows_o, strict=True)]

    obs_stacked()  # warm up (imports, caches)
    t_os, t_oe = _best(obs_stacked, args.repeat), _best(obs_each, args.repeat)
    t_ss, t_se = _best(sum_stacked, args.repeat), _best(sum_each, args.repeat)
    print(json.dumps({
        "states": n,
        "observe_64_worlds": {
            "stacked_s": round(t_os, 3), "per_state_s": round(t_oe, 3),
            "ms_per_state_stacked": round(1000 * t_os / n, 1),
            "ms_per_state_per_state": round(1000 * t_oe / n, 1),
            "speedup": round(t_oe / t_os, 2),
        },
        "summaries_100_worlds_1_strategy": {
            "stacked_s": round(t_ss, 3), "per_state_s": round(t_se, 3),
            "ms_per_state_stacked": round(1000 * t_ss / n, 1),
            "ms_per_state_per_state": round(1000 * t_se / n, 1),
            "speedup": round(t_se / t_ss, 2),
        },
    }))


if __name__ == "__main__":
    main()
