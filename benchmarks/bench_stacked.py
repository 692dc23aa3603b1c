"""Benchmark of the stacked engine: many sampled states in one run against one run per state.

Three workloads on us-iran-2001, each measured both ways in the same process (best of
``--repeat``), the ratio being the stacked engine's gain:

* history: 64 LHS states x 64 worlds, every recorded observation under the script
  ``us-as-followed`` - ``observe_states`` against 64 ``observe`` calls (calibration's call);
* summaries: 64 states x 100 worlds x 1 strategy (``containment``) - ``simulate_states`` and
  the per-world summaries against 64 ``summarize`` calls (what ``compare`` does per strategy);
* compare: ``run_experiment`` of ``compare`` (64 LHS states x the 3 options x 100 worlds, in
  process, into a fresh results database) as it runs now (stacked tasks, ``resolve`` without
  a pydantic round trip) against the former path (one ``summarize`` call per chunk, each
  state resolved by a pydantic dump and validate), kept callable here only; the stored
  summaries of the two runs are checked equal.

Both ways compile every state (the stacked engine's memo of compiled states is emptied
before each stacked call). Prints one JSON line.

Usage: .venv/bin/python benchmarks/bench_stacked.py [--states 64] [--repeat 2] [--skip-compare]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

OPTIONS = ("containment", "moderate-engagement", "dismantle-sanctions")


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _forget_compiled_states() -> None:
    """Empty the stacked engine's memo of compiled states (absent before it existed), so
    every timed stacked call compiles its states, as a fresh process does."""
    import detente.sim.stacked as stacked

    memo = getattr(stacked, "_compiled_states", None)
    if memo is not None:
        memo.clear()


def _round_trip_resolve(scenario: Any, values: Mapping[str, float] | None = None) -> Any:
    """The former ``resolve``: dump the scenario, set the numbers, validate it again. A
    group sampled together (``sample_together``) sets its members from its shift, as
    ``resolve`` does (without this the peer ran other states: ``stored_summaries_identical``
    was false)."""
    from detente.scenario import Scenario
    from detente.scenario.together import member_value
    from detente.scenario.uncertainty import sample_groups, uncertain_numbers

    values = dict(values or {})
    for group in sample_groups(scenario):
        if group.name in values:
            shift = float(values.pop(group.name))
            for member in group.members:
                values.setdefault(member.name, member_value(member, shift))
    tree = scenario.model_dump(mode="python")
    for loc, name, u in uncertain_numbers(scenario):
        node = tree
        for key in loc[:-1]:
            node = node[key]
        node[loc[-1]] = float((values or {}).get(name, u.nominal))
    return Scenario.model_validate(tree)


def _compare(n: int, strategies: Sequence[str], repeat: int) -> dict[str, Any]:
    """``compare`` now against the former per-chunk path, best of ``repeat`` each."""
    import detente.sim.system as system_module
    from detente.experiments.runner import ExperimentPlan, run_experiment
    from detente.experiments.sampling import sample_states
    from detente.scenario import load_scenario
    from detente.sim import summarize
    from detente.store.duckdb import ResultStore

    sc = load_scenario("us-iran-2001")
    plan = ExperimentPlan("compare", sc, sample_states(sc, n, "lhs", 1), tuple(strategies),
                          100, 1)

    def per_chunk(*args: Any, **kwargs: Any) -> Any:  # not the default engine: per state
        return summarize(*args, **kwargs)

    frames: dict[str, Any] = {}

    def run(label: str) -> None:
        _forget_compiled_states()
        with tempfile.TemporaryDirectory() as tmp:
            store = ResultStore(Path(tmp) / "r.duckdb")
            old = label == "former"
            fast_resolve = system_module.resolve
            if old:
                system_module.resolve = _round_trip_resolve
            try:
                res = run_experiment(plan, store, model=per_chunk if old else summarize,
                                     progress=False)
            finally:
                system_module.resolve = fast_resolve
            frames[label] = (store.summaries(res.run_id)
                             .drop(columns=["run_id"], errors="ignore")
                             .sort_values(["state", "strategy", "world"])
                             .reset_index(drop=True))

    t_now = _best(lambda: run("now"), repeat)
    t_old = _best(lambda: run("former"), repeat)
    same = frames["now"].equals(frames["former"])
    return {
        "states": n, "strategies": list(strategies), "worlds": 100,
        "now_s": round(t_now, 2), "former_s": round(t_old, 2),
        "speedup": round(t_old / t_now, 2), "stored_summaries_identical": same,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--states", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-compare", action="store_true", help="only the engine workloads")
    ap.add_argument("--only-compare", action="store_true", help="only the compare workload")
    args = ap.parse_args()
    if args.only_compare:
        print(json.dumps({"compare": _compare(args.states, OPTIONS, args.repeat),
                          "load_average": os.getloadavg()}))
        return

    from detente.experiments.sampling import sample_states
    from detente.history import observe, observe_states
    from detente.scenario import load_scenario
    from detente.sim import summarize
    from detente.sim.api import chunk_summary
    from detente.sim.stacked import run_states

    sc = load_scenario("us-iran-2001")
    n = args.states
    hist = sample_states(sc, n, seed=0, history=True)
    opts = sample_states(sc, n, seed=0)
    seeds = list(range(n))
    rows_h = [r.to_dict() for _, r in hist.iterrows()]
    rows_o = [r.to_dict() for _, r in opts.iterrows()]

    def obs_stacked() -> object:
        _forget_compiled_states()
        return observe_states(sc, "us-as-followed", hist, 64, seeds)

    def obs_each() -> object:
        return [observe(sc, "us-as-followed", 64, s, values=r)
                for s, r in zip(seeds, rows_h, strict=True)]

    def sum_stacked() -> object:
        _forget_compiled_states()
        system, res = run_states(sc, "containment", opts, 100, seeds)
        return chunk_summary(res, system)

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
        **({} if args.skip_compare else {"compare": _compare(n, OPTIONS, args.repeat)}),
        "load_average": os.getloadavg(),
    }))


if __name__ == "__main__":
    main()
