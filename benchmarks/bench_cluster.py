"""Benchmark of a compare job in process against a two-worker Dask cluster on this machine.

Starts ``dask scheduler`` and two ``dask worker --nthreads 1`` processes on 127.0.0.1 (as a
cluster launcher would, the address passed by scheduler file), warms the workers up (their
first task imports and compiles the engine), then runs the same ``run_experiment`` of
``compare`` on us-iran-2001 (``--states`` LHS states x the default strategies x
``--worlds`` worlds, a fresh database each time) three ways, alternated ``--repeat`` times:

* ``in-process``: the default evaluator;
* ``cluster``: the cluster, workers writing Parquet shards the client loads;
* ``cluster-rows``: the cluster, every row sent back to the client (``shards=False``).

For each: evaluations (world-runs) per second over the whole run, the client's CPU seconds
(``time.process_time``: what the one writer costs), the workers' CPU seconds, and
evaluations per CPU second of client and workers together (what a contended machine does
not change much). Also checks that all runs
stored the same numbers. Prints one JSON line, with ``uptime``'s load before and after.

Usage: .venv/bin/python benchmarks/bench_cluster.py [--states 64] [--worlds 256] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cluster_support import free_port, load_text, workers_cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--states", type=int, default=64)
    parser.add_argument("--worlds", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import detente
    from detente.experiments.executors import DaskEvaluator, InProcessEvaluator
    from detente.experiments.runner import ExperimentPlan, default_strategies, run_experiment
    from detente.experiments.sampling import sample_states
    from detente.scenario import load_scenario
    from detente.store.duckdb import ResultStore

    sc = load_scenario("us-iran-2001")
    plan = ExperimentPlan("compare", sc, sample_states(sc, args.states, "lhs", 1),
                          tuple(default_strategies(sc)), args.worlds, 1)
    src = str(Path(detente.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    dask = str(Path(sys.executable).with_name("dask"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    port = free_port()
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard", "--scheduler-file", str(tmp / "s.json")],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    address = f"tcp://127.0.0.1:{port}"
    procs += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard",
                                "--host", "127.0.0.1"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL) for _ in range(2)]
    figures: dict[str, list[dict[str, float]]] = {}
    frames: list[Any] = []
    load_before = load_text()
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        warm = ExperimentPlan("compare", sc, sample_states(sc, 4, "lhs", 2),
                              plan.strategies, 32, 2)
        run_experiment(warm, ResultStore(tmp / "warm.duckdb"), progress=False,
                       evaluator=DaskEvaluator(address))
        run_experiment(warm, ResultStore(tmp / "warm2.duckdb"), progress=False)
        modes: dict[str, Any] = {
            "in-process": InProcessEvaluator,
            "cluster": lambda: DaskEvaluator(address),
            "cluster-rows": lambda: DaskEvaluator(address, shards=False),
        }
        for rep in range(args.repeat):
            for name, make in modes.items():
                store = ResultStore(tmp / f"{name}-{rep}.duckdb")
                workers0 = workers_cpu(address)
                cpu0, t0 = time.process_time(), time.perf_counter()
                result = run_experiment(plan, store, progress=False, evaluator=make())
                wall = time.perf_counter() - t0
                cpu = time.process_time() - cpu0
                workers = workers_cpu(address) - workers0
                worlds = len(plan.states) * len(plan.strategies) * plan.worlds
                figures.setdefault(name, []).append(
                    {"seconds": round(wall, 2), "worlds_per_second": round(worlds / wall),
                     "client_cpu_seconds": round(cpu, 2),
                     "workers_cpu_seconds": round(workers, 2),
                     "worlds_per_cpu_second": round(worlds / (cpu + workers))})
                frames.append(store.summaries(result.run_id))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(20)
    same = all(f.equals(frames[0]) for f in frames[1:])
    print(json.dumps({"states": args.states, "worlds": args.worlds,
                      "strategies": len(plan.strategies), "figures": figures,
                      "same_numbers": same, "load_before": load_before,
                      "load_after": load_text()}))


if __name__ == "__main__":
    main()
