"""``benchmarks/targets.py``: the speed targets' verdicts from the benchmarks' own lines.

The benchmarks themselves take minutes (run them with ``benchmarks/targets.py``); these
tests read lines that script saved on a real run (``tests/data/bench-targets-amd-epyc.tsv``,
an AMD EPYC with AVX2, 2 vCPUs) and check each verdict against the figure read here by its
own path in the line, so a benchmark that renames a figure, or a verdict that compares
the wrong way, fails here.
"""

from __future__ import annotations

import importlib
import json
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).parents[1] / "benchmarks"
SAVED = Path(__file__).parent / "data" / "bench-targets-amd-epyc.tsv"

#: Each target's figure, by its path in its benchmark's line, and its goal.
EXPECTED: dict[str, tuple[str, tuple[str, ...], str, float | None]] = {
    "engine_flagship_ratio": ("engine", ("flagship", "ratio_numpy_over_current"), ">=", 5),
    "engine_world_steps_per_s_per_core": (
        "engine", ("flagship", "current_world_steps_per_s_per_core"), ">=", None),
    "states_ratio_to_frozen_per_state_calls": (
        "states", ("ratio_to_frozen_numpy_per_state",), ">=", 20),
    "sim_100000_worlds_wall_s": ("sim", ("wall_s",), "<=", 5),
    "run_quick_s": ("run", ("quick", "best_seconds", "default"), "<=", 5),
    "run_s": ("run", ("full", "best_seconds", "default"), "<=", 20),
    "report_figures_cold_s": ("report", ("cold_s",), "<=", 3),
    "ipd_ratio_to_axelrod": ("ipd", ("ratio",), ">=", 1000),
}


@cache
def _targets() -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))
    return importlib.import_module("targets")


def _saved_lines() -> dict[str, dict[str, Any]]:
    return {name: json.loads(text) for name, _, text in
            (row.partition("\t") for row in SAVED.read_text(encoding="utf-8").splitlines())}


def _dig(line: dict[str, Any], path: tuple[str, ...]) -> float:
    value: Any = line
    for key in path:
        value = value[key]
    return float(value)


def test_every_benchmark_of_the_script_was_saved_and_every_target_judged() -> None:
    lines = _saved_lines()
    assert set(lines) == set(_targets().BENCHMARKS)
    rows = {r["target"]: r for r in _targets().verdicts(lines)}
    assert set(EXPECTED) <= set(rows)
    assert all("error" not in r for r in rows.values()), rows


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_verdict_reads_its_figure_and_compares_it_the_right_way(name: str) -> None:
    benchmark, path, sense, goal = EXPECTED[name]
    line = _saved_lines()[benchmark]
    row = {r["target"]: r for r in _targets().verdicts({benchmark: line})}[name]
    value = _dig(line, path)
    assert row["measured"] == pytest.approx(value, abs=5e-4)
    if goal is None:
        assert row["met"] is None and row["goal"] == "reported"
    else:
        assert row["goal"] == f"{sense} {goal:g}"
        assert row["met"] is (value >= goal if sense == ">=" else value <= goal)


def test_the_memory_target_counts_every_process() -> None:
    line = _saved_lines()["sim"]
    row = {r["target"]: r for r in _targets().verdicts({"sim": line})}["sim_peak_memory_mb"]
    assert row["measured"] == line["peak_rss_mb_per_process"] * line["jobs"]
    assert row["met"] is (row["measured"] <= 2048)


def test_a_failed_benchmark_or_a_missing_figure_is_not_measured() -> None:
    rows = _targets().verdicts({
        "engine": {"benchmark": "engine", "error": "exit 1: boom"},
        "sim": {"wall_s": 4.0},  # no peak memory in the line
    })
    by = {r["target"]: r for r in rows}
    assert by["engine_flagship_ratio"]["met"] is None
    assert by["engine_flagship_ratio"]["error"] == "exit 1: boom"
    assert by["sim_100000_worlds_wall_s"]["met"] is True
    assert by["sim_peak_memory_mb"]["met"] is None
    assert "peak_rss_mb_per_process" in by["sim_peak_memory_mb"]["error"]


def test_from_a_saved_file_prints_the_verdicts_and_their_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _targets().main(["--from", str(SAVED), "--only", "engine,sim"]) == 0
    printed = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    names = [r.get("target") for r in printed[:-1]]
    assert names == ["engine_flagship_ratio", "engine_world_steps_per_s_per_core",
                     "sim_100000_worlds_wall_s", "sim_peak_memory_mb"]
    goals = [r for r in printed[:-1] if r["goal"] != "reported"]
    assert printed[-1] == {"targets_met": sum(r["met"] for r in goals),
                           "targets_measured": 3, "of": 3}


@pytest.mark.parametrize(("text", "said"), [
    ('engine\t{"flagship": {}}\nsims\t{}\n', "lines.tsv:2: expected a benchmark name"),
    ("engine\t{not json\n", "lines.tsv:1: not a JSON line"),
    (None, "lines.tsv: cannot be read (FileNotFoundError)"),
])
def test_a_bad_saved_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None, said: str,
) -> None:
    bad = tmp_path / "lines.tsv"
    if text is not None:
        bad.write_text(text, encoding="utf-8")
    assert _targets().main(["--from", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith(f"{bad.parent}/{said}")


def test_an_unknown_benchmark_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert _targets().main(["--only", "engine,nope"]) == 2
    assert "unknown benchmark 'nope'" in capsys.readouterr().err
