"""`explore --against`: one strategy against others on the same states (wins/loses/regret)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import invoke_cli
from detente.experiments.outcome_expr import call_key
from detente.experiments.versus import versus_columns
from detente.store.duckdb import ResultStore


def test_versus_columns_follow_direction_and_count_ties_as_neither() -> None:
    means = pd.DataFrame(
        {
            "state": [0, 0, 0, 1, 1, 1, 2, 2, 2],
            "strategy": ["s", "a", "b"] * 3,
            "good": [0.5, 0.4, 0.3, 0.2, 0.6, 0.1, 0.4, 0.4, 0.1],
            "bad": [1.0, 2.0, 3.0, 5.0, 4.0, 6.0, 1.0, 1.0, 1.0],
            "note": [0.0] * 9,
        }
    )
    cols = versus_columns(means, "s", ["a", "b"],
                          {"good": "maximize", "bad": "minimize", "note": "info"},
                          pd.Index([0, 1, 2]))
    assert cols[call_key("wins", "good")].tolist() == [1, 0, 0]
    assert cols[call_key("loses", "good")].tolist() == [0, 1, 0]  # state 2: a tie
    assert cols[call_key("regret", "good")] == pytest.approx([0.0, 0.4, 0.0])
    assert cols[call_key("wins", "bad")].tolist() == [1, 0, 0]
    assert cols[call_key("loses", "bad")].tolist() == [0, 1, 0]
    assert cols[call_key("regret", "bad")] == pytest.approx([0.0, 1.0, 0.0])
    assert call_key("wins", "note") not in cols


@pytest.fixture()
def scenario(synthetic_scenario: str) -> str:
    return synthetic_scenario


def test_explore_against_finds_where_engagement_beats_both(
    scenario: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    out = tmp_path / "x"
    res = invoke_cli(
        ["explore", scenario, "--strategy", "engagement", "--against", "containment,dismantle",
         "--outcome", "wins('rapprochement')", "--states", "200", "--worlds", "64",
         "--resamples", "5", "--json", "--out", str(out)],
        capsys, monkeypatch,
    )
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["against"] == ["containment", "dismantle"]
    # the cases are exactly the states where engagement's stored mean beats both others'
    means = ResultStore(out / "results.duckdb").state_means(payload["run_id"])
    table = means.pivot(index="state", columns="strategy", values="rapprochement")
    wins = (table["engagement"] > table[["containment", "dismantle"]].max(axis=1) + 1e-9)
    assert payload["cases"] == int(wins.sum()) > 0
    # in the toy model engagement beats dismantling only when reciprocity is low
    box = {b["uncertainty"]: b for b in payload["box"]}
    assert box["parameters.reciprocity"]["high"] < 0.6


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--against", "engagement", "--outcome", "wins('rapprochement')"], "repeats"),
        (["--against", "dismantle", "--outcome", "wins('reformist_share')"], "unknown id"),
        (["--outcome", "wins('rapprochement')"], "--against"),
        (["--against", "dismantle", "--outcome", "regret('cost')"], "must be a condition"),
        (["--against", "nope", "--outcome", "wins('cost')"], "nope"),
    ],
)
def test_explore_against_refuses_bad_input_in_one_line(
    scenario: str, args: list[str], words: str, capsys, monkeypatch
) -> None:
    res = invoke_cli(["explore", scenario, "--strategy", "engagement", "--states", "20", *args],
                     capsys, monkeypatch)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], lines
