"""Benchmark of ``detente design`` in process against a two-worker Dask cluster on this machine.

Starts ``dask scheduler`` and two ``dask worker --nthreads 1`` processes on 127.0.0.1, warms
the workers up (a small design: their first task imports and compiles the engine), then runs
the same design of us-iran-2001's ``moderate-engagement`` at ``--quick`` settings (12 states
x 16 worlds, 20 candidates x 8 generations, 12 fresh states; ``--states``/``--worlds``/...
change them) in process and on the cluster, alternated ``--repeat`` times, a fresh output
folder each time.

For each run: candidate-states and worlds scored per second during the search (the search's
seconds, from ``run.json``), the whole run's seconds, the client's and the workers' CPU
seconds, and the tasks a full generation makes each way
(:func:`detente.design.evaluate.candidates_per_batch`).
Checks that every run wrote the same ``pareto.csv``. Prints one JSON line, with ``uptime``'s
load before and after.

Usage: .venv/bin/python benchmarks/bench_design.py [--repeat 2] [--states 12] [--worlds 16]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cluster_support import free_port, load_text, workers_cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--states", type=int, default=12)
    parser.add_argument("--worlds", type=int, default=16)
    parser.add_argument("--population", type=int, default=20)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--fresh", type=int, default=12)
    args = parser.parse_args()

    import pandas as pd

    import detente
    from detente.design.evaluate import StateSet, candidates_per_batch
    from detente.design.job import design

    os.environ.pop("DETENTE_MODEL", None)
    os.environ.pop("DETENTE_SCHEDULER", None)
    settings = {"states": args.states, "worlds": args.worlds, "population": args.population,
                "generations": args.generations, "fresh": args.fresh}
    stateset = StateSet(pd.DataFrame(index=range(args.states)), 0, args.worlds)
    tasks = {name: math.ceil(args.population / candidates_per_batch(stateset, args.population,
                                                                    slots))
             for name, slots in (("in-process", 1), ("cluster", 2))}
    src = str(Path(detente.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    dask = str(Path(sys.executable).with_name("dask"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-design-"))
    port = free_port()
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard", "--scheduler-file", str(tmp / "s.json")],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    address = f"tcp://127.0.0.1:{port}"
    procs += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard",
                                "--host", "127.0.0.1"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL) for _ in range(2)]
    figures: dict[str, list[dict[str, float]]] = {}
    fronts: list[str] = []
    load_before = load_text()
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        small = {"states": 3, "worlds": 8, "population": 8, "generations": 2, "fresh": 3}
        for where in (address, None):
            design("us-iran-2001", strategy="moderate-engagement", out=tmp / "warm",
                   progress=False, scheduler=where, **small)  # type: ignore[arg-type]
        modes = {"in-process": None, "cluster": address}
        for rep in range(args.repeat):
            for name, where in modes.items():
                workers0 = workers_cpu(address)
                cpu0, t0 = time.process_time(), time.perf_counter()
                res = design("us-iran-2001", strategy="moderate-engagement",
                             out=tmp / f"{name}-{rep}", progress=False, scheduler=where,
                             **settings)  # type: ignore[arg-type]
                wall = time.perf_counter() - t0
                cpu = time.process_time() - cpu0
                workers = workers_cpu(address) - workers0
                ev = res.payload["evaluations"]
                search = float(ev["search_seconds"])
                cells = int(ev["candidate_states_now"])
                figures.setdefault(name, []).append({
                    "seconds": round(wall, 2), "search_seconds": round(search, 2),
                    "candidates": int(ev["candidates_scored_now"]),
                    "candidate_states_per_second": round(cells / search, 1),
                    "worlds_per_second": round(cells * args.worlds / search),
                    "client_cpu_seconds": round(cpu, 2),
                    "workers_cpu_seconds": round(workers, 2)})
                fronts.append((res.run_dir.path / "pareto.csv").read_text())
    finally:
        for proc in procs[1:] + procs[:1]:  # workers first (see tests/dask_cluster_fixtures.py)
            proc.terminate()
            proc.wait(20)
    print(json.dumps({**settings, "tasks_per_generation": tasks,
                      "figures": figures, "same_front": all(f == fronts[0] for f in fronts),
                      "load_before": load_before, "load_after": load_text()}))


if __name__ == "__main__":
    main()
