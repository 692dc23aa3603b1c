"""``compare`` accepts every strategy name ``simulate`` accepts, and refuses the same ones."""

from __future__ import annotations

import pytest

from detente.errors import InputError
from detente.experiments.runner import check_strategies
from detente.scenario import load_scenario


def test_registered_kinds_are_accepted_like_in_simulate() -> None:
    scenario = load_scenario("us-iran-2001")
    assert check_strategies(scenario, ["containment", "generous-tit-for-tat", "grit"]) == [
        "containment",
        "generous-tit-for-tat",
        "grit",
    ]


def test_unknown_and_internal_names_are_one_problem_each() -> None:
    scenario = load_scenario("us-iran-2001")
    with pytest.raises(InputError) as info:
        check_strategies(scenario, ["containmnet", "internal-bargaining"])
    problems = info.value.problems
    assert len(problems) == 2
    assert all(p.source == "<command line>" for p in problems)
    assert 'did you mean "containment"' in problems[0].message
    assert "decision rule" in problems[1].message


def test_compare_runs_a_registered_kind(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "compare", "us-iran-2001", "--strategies", "containment,generous-tit-for-tat",
        "--states", "2", "--worlds", "4", "--db", str(tmp_path / "r.duckdb"), "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert "generous-tit-for-tat" in result.stdout
