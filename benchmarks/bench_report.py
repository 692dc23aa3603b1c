"""Benchmark of the report's figures: a quick flagship run's report, drawn cold and warm.

Makes two quick runs of the flagship (``detente run --quick --seed 1`` then ``--seed 0``,
into one temporary output folder, in a child process; or reports an existing run: ``--run
DIR``), then times the drawing of its report's figures (the figure step of
``render_report``: every figure to PNG, or taken from the cache) in this process,
alternately:

* serial: no cache, drawn in this process (the peer: what a one-core machine pays);
* cold: no cache, the default pool (one forked worker per CPU);
* warm: the run's figure cache filled by the cold render (``detente report`` run again);
* next_run: an empty cache whose peer holds the figures of another run of the flagship
  (seed 1; or ``--peer RUN_DIR``): what the report of a second ``detente run`` in one
  output folder pays, its figures that depend on the scenario alone being copied.

Each figure is also drawn alone in this process to give its cost. The report's HTML is
checked to be the same bytes whichever way its figures came. Prints one JSON line with
the best and every time of each, the figure count, the per-figure seconds and the load
average (``os.getloadavg()``) before and after: on a shared machine the load says how many
cores were really free.

Usage: .venv/bin/python benchmarks/bench_report.py [--repeat 3] [--run RUN_DIR [--peer DIR]]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RUN_QUICK = "import sys; from detente.cli import main; sys.exit(main())"


def quick_run(out: Path, seed: int = 0) -> Path:
    """The folder of a fresh ``detente run --quick --seed SEED`` in ``out``."""
    subprocess.run(
        [sys.executable, "-c", RUN_QUICK, "run", "--quick", "--seed", str(seed), "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run_id = (out / "latest").read_text(encoding="utf-8").strip()
    return out / "runs" / run_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--run", type=Path, help="report this run's folder (default: a new run)")
    parser.add_argument(
        "--peer", type=Path, help="with --run: a run of the same scenario for next_run"
    )
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        if args.run is not None:
            run_dir, peer_dir = args.run, args.peer
        else:  # two runs of the flagship with different seeds, reported one after the other
            peer_dir = quick_run(Path(tmp) / "out", seed=1)
            run_dir = quick_run(Path(tmp) / "out", seed=0)
        load_start = os.getloadavg()

        from detente.report import html
        from detente.report.figure_pool import default_workers, png_of
        from detente.report.rundir import load_run

        peer_cache = Path(tmp) / "peer-figures"
        if peer_dir is not None:  # the peer run's report, drawn once: its figures are stored
            peer_inputs, _ = load_run(peer_dir)
            peer_inputs.figure_cache = peer_cache
            html.render_report(peer_inputs)
        inputs, _ = load_run(run_dir)
        cache = Path(tmp) / "figures"
        seconds: dict[str, float] = {}
        queued: list[Any] = []
        render = html._Figures.render

        def timed(self: Any, *a: Any, **k: Any) -> None:
            queued[:] = list(self.pending)
            start = time.perf_counter()
            render(self, *a, **k)
            seconds["figures"] = time.perf_counter() - start

        html._Figures.render = timed  # type: ignore[method-assign]
        workers = default_workers()
        fresh = Path(tmp) / "next-run-figures"
        ways = {
            "serial": (1, None),
            "cold": (workers, cache),
            "warm": (workers, cache),
        }
        if peer_dir is not None:
            ways["next_run"] = (workers, fresh)
        times: dict[str, list[float]] = {w: [] for w in ways}
        pages: dict[str, str] = {}
        for _ in range(args.repeat):
            for way, (n, folder) in ways.items():
                if way == "cold":  # fills the cache the warm render reads
                    shutil.rmtree(cache, ignore_errors=True)
                shutil.rmtree(fresh, ignore_errors=True)
                inputs.figure_cache = folder
                inputs.figure_peers = [peer_cache] if way == "next_run" else []
                inputs.workers = n
                pages[way] = html.render_report(inputs)
                times[way].append(round(seconds["figures"], 3))
        html._Figures.render = render  # type: ignore[method-assign]
        per_figure = {}
        for job in queued:
            start = time.perf_counter()
            png_of(job.make)
            per_figure[job.id] = round(time.perf_counter() - start, 3)

    same = len(set(pages.values())) == 1
    print(
        json.dumps(
            {
                "figures": len(queued),
                "workers": workers,
                "serial_s": min(times["serial"]),
                "cold_s": min(times["cold"]),
                "warm_s": min(times["warm"]),
                "next_run_s": min(times["next_run"]) if "next_run" in times else None,
                "serial_over_cold": round(min(times["serial"]) / min(times["cold"]), 2),
                "all_s": times,
                "per_figure_s": per_figure,
                "same_bytes": same,
                "load_before_run": [round(x, 2) for x in load_before],
                "load_start": [round(x, 2) for x in load_start],
                "load_end": [round(x, 2) for x in os.getloadavg()],
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
