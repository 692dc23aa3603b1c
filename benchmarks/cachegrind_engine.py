"""Run the flagship's engine for ``valgrind --tool=cachegrind``: instructions per world-step.

Cachegrind counts the instructions and data references a process executes and simulates
its caches; the count of a run with N worlds per option minus that of a run with none
(the imports and a 64-world warm-up, the same in both) is the engine's own work. Used for
docs/performance.md, "Physical limit of a world-step":

    for n in 0 512 2048; do
      OPENBLAS_NUM_THREADS=1 valgrind --tool=cachegrind --cache-sim=yes \\
        --cachegrind-out-file=/tmp/cg.$n .venv/bin/python benchmarks/cachegrind_engine.py $n \\
        2> /tmp/cg.$n.log
    done

then ``(I refs of n - I refs of 0) / (n * 34 quarters * 3 options)``, and the same for
``D refs`` and ``D1 misses``. About 10 minutes on one core. (Valgrind reports no AVX-512,
so NumPy takes its AVX2 loops under it.)
"""

from __future__ import annotations

import sys

from detente.scenario import load_scenario
from detente.sim.api import build_strategy
from detente.sim.engine import run_chunk
from detente.sim.system import compile_system

STRATEGIES = ("containment", "moderate-engagement", "dismantle-sanctions")


def main() -> None:
    worlds = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    scenario = load_scenario("us-iran-2001")
    systems = [compile_system(scenario, k) for k in STRATEGIES]
    for sy in systems:
        run_chunk(sy, build_strategy(sy), 0, 0, 64)
    if worlds:
        for sy in systems:
            run_chunk(sy, build_strategy(sy), 0, 256, worlds)


if __name__ == "__main__":
    main()
