"""Where the speed targets stand on this machine: every benchmark run, one verdict a target.

The speed issue ("the whole flagship study in seconds") set its targets as ratios against
peers measured in the same run, and as wall times on 2 cores. Both depend on the machine:
the same code met the engine's 5x on a Xeon with AVX-512 and not on an AMD EPYC with AVX2
(docs/performance.md, "Ninth pass"). This script runs the benchmarks that measure the
targets, each in a process of its own and one after the other (so they do not compete for
the cores), reads the JSON line each prints, and prints:

* one JSON line describing the machine (CPU model, the SIMD extensions NumPy found, Python,
  NumPy, CPUs, the load average before the first benchmark);
* one JSON line per target: its name, the goal, the figure measured, whether it is met, the
  benchmark that measured it and the load average when that benchmark ended;
* one JSON line with the count of targets met (of those with a goal).

``--from FILE`` reads the benchmarks' lines from a file (``NAME<TAB>JSON`` per line, as
``--save FILE`` writes them) instead of running them: the verdicts of an earlier
measurement, or of another machine's, again. A benchmark that fails is one line
``{"benchmark": NAME, "error": ...}`` and its targets count as not measured.

Usage: .venv/bin/python benchmarks/targets.py [--only engine,states,...] [--save FILE]
[--from FILE]. All of them take 8-12 minutes on 2 cores (``bench_states.py``'s frozen peer
alone takes about a minute per repeat there).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: Each benchmark's command line (after the interpreter), in the order they run.
BENCHMARKS: dict[str, list[str]] = {
    "engine": [str(HERE / "bench_engine.py")],
    "states": [str(HERE / "bench_states.py")],
    "sim": [str(HERE / "bench_sim.py")],
    "run": [str(HERE / "bench_run.py"), "--full"],
    "report": [str(HERE / "bench_report.py")],
    "ipd": [str(HERE / "bench_ipd.py")],
}


@dataclass(frozen=True)
class Target:
    """One of the issue's targets: a figure read from a benchmark's line and its goal."""

    name: str
    benchmark: str
    figure: Callable[[Mapping[str, Any]], float]
    goal: float | None  # None: a figure the issue asks to report, with no goal
    at_least: bool  # met when figure >= goal (else when figure <= goal)
    what: str

    def verdict(self, line: Mapping[str, Any]) -> dict[str, Any]:
        """The target's JSON line for a benchmark's output line (``met`` None: no goal)."""
        value = float(self.figure(line))
        met = None
        if self.goal is not None:
            met = value >= self.goal if self.at_least else value <= self.goal
        return {
            "target": self.name,
            "what": self.what,
            "goal": "reported" if self.goal is None else
                    f"{'>=' if self.at_least else '<='} {self.goal:g}",
            "measured": round(value, 3),
            "met": met,
            "benchmark": self.benchmark,
        }


TARGETS: tuple[Target, ...] = (
    Target("engine_flagship_ratio", "engine",
           lambda x: x["flagship"]["ratio_numpy_over_current"], 5.0, True,
           "flagship (3 options x 4096 worlds): frozen NumPy engine's us per world-step "
           "over ours"),
    Target("engine_world_steps_per_s_per_core", "engine",
           lambda x: x["flagship"]["current_world_steps_per_s_per_core"], None, True,
           "flagship world-steps per second per core (reported; no goal)"),
    Target("states_ratio_to_frozen_per_state_calls", "states",
           lambda x: x["ratio_to_frozen_numpy_per_state"], 20.0, True,
           "64 states x 5 strategies x 100 worlds: the frozen engine's per-state calls "
           "over one stacked call per strategy"),
    Target("sim_100000_worlds_wall_s", "sim", lambda x: x["wall_s"], 5.0, False,
           "100,000 worlds x 3 options x 34 quarters on 2 processes, wall seconds (an aim)"),
    Target("sim_peak_memory_mb", "sim",
           lambda x: x["peak_rss_mb_per_process"] * x["jobs"], 2048.0, False,
           "the same, peak resident memory of all processes, MB"),
    Target("run_quick_s", "run", lambda x: x["quick"]["best_seconds"]["default"], 5.0, False,
           "detente run --quick, report included, best wall seconds"),
    Target("run_s", "run", lambda x: x["full"]["best_seconds"]["default"], 20.0, False,
           "detente run, report included, best wall seconds"),
    Target("report_figures_cold_s", "report", lambda x: x["cold_s"], 3.0, False,
           "the report's 10 figures, no cache, default workers, best seconds"),
    Target("ipd_ratio_to_axelrod", "ipd", lambda x: x["ratio"], 1000.0, True,
           "noisy TFT vs GTFT turns per second over axelrod.Match.play's"),
)


def machine() -> dict[str, Any]:
    """What the figures depend on: the CPU, its SIMD extensions as NumPy sees them, Python."""
    import numpy as np

    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for row in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if row.startswith("model name"):
                model = row.split(":", 1)[1].strip()
                break
    from numpy._core._multiarray_umath import __cpu_features__ as features

    levels = [f for f in ("X86_V2", "X86_V3", "X86_V4", "AVX512F", "AVX2", "ASIMD", "SVE")
              if features.get(f)]
    return {
        "machine": platform.machine(),
        "cpu_model": model,
        "simd": levels,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def run_benchmark(name: str) -> dict[str, Any]:
    """Run one benchmark in a process of its own; its last JSON line, or an error line."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, *BENCHMARKS[name]], capture_output=True, text=True)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"benchmark": name, "error": f"exit {proc.returncode}: {last}"}
    out: dict[str, Any] = json.loads(lines[-1])
    out["_seconds"] = round(time.perf_counter() - started, 1)
    out["_load_1min_at_end"] = round(os.getloadavg()[0], 2)
    return out


class SavedLinesError(Exception):
    """A file given to ``--from`` that cannot be read as saved lines (one line: where, what)."""


def read_saved(path: Path) -> dict[str, dict[str, Any]]:
    """Benchmark lines saved by ``--save`` (``NAME<TAB>JSON`` per line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SavedLinesError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    saved: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(text.splitlines(), 1):
        if not row.strip():
            continue
        name, sep, line = row.partition("\t")
        if not sep or name not in BENCHMARKS:
            raise SavedLinesError(f"{path}:{number}: expected a benchmark name "
                                  f"({', '.join(BENCHMARKS)}), a tab and its JSON line")
        try:
            saved[name] = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SavedLinesError(f"{path}:{number}: not a JSON line ({exc.msg})") from None
    return saved


def verdicts(lines: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One line per target whose benchmark gave a line (an error line: not measured)."""
    out = []
    for target in TARGETS:
        line = lines.get(target.benchmark)
        if line is None:
            continue
        if "error" in line:
            out.append({"target": target.name, "benchmark": target.benchmark,
                        "met": None, "error": line["error"]})
            continue
        try:
            row = target.verdict(line)
        except (KeyError, TypeError, ValueError) as exc:
            row = {"target": target.name, "benchmark": target.benchmark, "met": None,
                   "error": f"no such figure in the benchmark's line: {exc!r}"}
        row["load_1min_at_end"] = line.get("_load_1min_at_end")
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(BENCHMARKS),
                    help=f"benchmarks to run, comma-separated ({', '.join(BENCHMARKS)})")
    ap.add_argument("--save", type=Path, help="also write each benchmark's line here")
    ap.add_argument("--from", dest="source", type=Path,
                    help="read the benchmarks' lines from this file instead of running them")
    a = ap.parse_args(argv)
    chosen = [x.strip() for x in a.only.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in BENCHMARKS]
    if unknown:
        print(f"--only: unknown benchmark {unknown[0]!r}; expected some of "
              f"{', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    if a.source is not None:
        try:
            lines = {k: v for k, v in read_saved(a.source).items() if k in chosen}
        except SavedLinesError as exc:
            print(exc, file=sys.stderr)
            return 2
    else:
        print(json.dumps(machine()), flush=True)
        lines = {}
        for name in chosen:
            lines[name] = run_benchmark(name)
            if a.save is not None:
                with a.save.open("a", encoding="utf-8") as f:
                    f.write(f"{name}\t{json.dumps(lines[name])}\n")
    rows = verdicts(lines)
    for row in rows:
        print(json.dumps(row), flush=True)
    goals = [r for r in rows if r.get("goal") != "reported"]
    met = sum(1 for r in goals if r.get("met") is True)
    measured = sum(1 for r in goals if r.get("met") is not None)
    print(json.dumps({"targets_met": met, "targets_measured": measured, "of": len(goals)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
