"""Benchmark of the main job: ``detente run --quick`` (and ``detente run``) end to end.

Times the console command as a user runs it (``python -m detente run --quick --out DIR``,
a fresh output folder each time, so nothing is reused: no finished chunks, no cached
figure), alternately with its peer measured in the same run:

* default: what ``detente run`` does on this machine (its report built in a process forked
  at the start, drawing the scenario's figures during the simulation:
  :mod:`detente.report.background`);
* one_core: the same command with ``DETENTE_REPORT_WORKERS=1``, which draws every figure
  in the command's own process after the simulation (what a one-core machine pays, and
  the way the report was built before it ran in parallel).

Each command's output is checked: the two ways give the same ``comparison.csv`` and
report (byte for byte, up to the run folder's name). Prints one JSON line with every wall
time, the best and median of each, the ratio of the medians (one_core / default), whether
the issue's targets hold (``--quick`` at most 5 s, ``run`` at most 20 s, on the best
time) and the load average (``os.getloadavg()``) before and after each command: on a
shared machine the load says how many cores were really free.

Usage: .venv/bin/python benchmarks/bench_run.py [--repeats 3] [--full]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGETS = {"quick": 5.0, "full": 20.0}
"""The issue's wall-time targets, in seconds, on 2 cores."""


def timed_run(out: Path, quick: bool, one_core: bool) -> dict[str, Any]:
    """Run ``detente run`` into the fresh folder ``out``; its wall time and loads."""
    env = dict(os.environ)
    env.pop("DETENTE_SCHEDULER", None)
    if one_core:
        env["DETENTE_REPORT_WORKERS"] = "1"
    args = [
        sys.executable,
        "-m",
        "detente",
        "run",
        *(["--quick"] if quick else []),
        "--out",
        str(out),
    ]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 3),
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def run_outputs(out: Path) -> tuple[bytes, str]:
    """The run's ``comparison.csv`` and its report with the run id taken out."""
    run_id = (out / "latest").read_text(encoding="utf-8").strip()
    folder = out / "runs" / run_id
    report = (folder / "report.html").read_text(encoding="utf-8").replace(run_id, "RUN")
    return (folder / "comparison.csv").read_bytes(), report


def measure(quick: bool, repeats: int, root: Path) -> dict[str, Any]:
    """Alternate the default and one-core commands ``repeats`` times each."""
    times: dict[str, list[dict[str, Any]]] = {"default": [], "one_core": []}
    outputs: dict[str, tuple[bytes, str]] = {}
    for r in range(repeats):
        for way in ("default", "one_core") if r % 2 == 0 else ("one_core", "default"):
            out = root / f"{'quick' if quick else 'full'}-{way}-{r}"
            times[way].append(timed_run(out, quick, way == "one_core"))
            outputs.setdefault(way, run_outputs(out))
    best = {way: min(t["seconds"] for t in runs) for way, runs in times.items()}
    median = {way: statistics.median(t["seconds"] for t in runs) for way, runs in times.items()}
    target = TARGETS["quick" if quick else "full"]
    return {
        "runs": times,
        "best_seconds": best,
        "median_seconds": median,
        "ratio_one_core_over_default": round(median["one_core"] / median["default"], 3),
        "same_outputs": outputs["default"] == outputs["one_core"],
        "target_seconds": target,
        "target_met": best["default"] <= target,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also time the full detente run")
    args = parser.parse_args()
    result: dict[str, Any] = {
        "benchmark": "run",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        result["quick"] = measure(True, args.repeats, Path(tmp))
        if args.full:
            result["full"] = measure(False, args.repeats, Path(tmp))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
