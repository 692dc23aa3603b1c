"""The DuckDB results store: chunk invariance, resumption, no duplicates, Parquet export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from detente.experiments.runner import ExperimentPlan, run_experiment
from detente.experiments.sampling import sample_states
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML, synthetic_model
from detente.scenario import Scenario, load_scenario
from detente.store.duckdb import ResultStore


@pytest.fixture()
def scenario(tmp_path: Path) -> Scenario:
    path = tmp_path / "synthetic.yaml"
    path.write_text(SYNTHETIC_SCENARIO_YAML)
    return load_scenario(path)


def _plan(scenario: Scenario, states: int = 6, worlds: int = 600, seed: int = 3) -> ExperimentPlan:
    return ExperimentPlan(
        kind="compare",
        scenario=scenario,
        states=sample_states(scenario, states, "lhs", seed),
        strategies=("containment", "engagement", "dismantle"),
        worlds=worlds,
        seed=seed,
    )


def test_results_do_not_depend_on_chunking(scenario: Scenario, tmp_path: Path) -> None:
    plan = _plan(scenario)
    a = run_experiment(
        plan,
        ResultStore(tmp_path / "a.duckdb"),
        model=synthetic_model,
        chunk_worlds=256,
        progress=False,
    )
    b = run_experiment(
        plan,
        ResultStore(tmp_path / "b.duckdb"),
        model=synthetic_model,
        chunk_worlds=1024,
        progress=False,
    )
    assert a.run_id == b.run_id
    sa, sb = a.store.summaries(a.run_id), b.store.summaries(b.run_id)
    assert len(sa) == 6 * 3 * 600
    pd.testing.assert_frame_equal(sa, sb)
    assert not sa.duplicated(["state", "strategy", "world"]).any()
    assert list(sa.columns) == [
        "state",
        "strategy",
        "world",
        "rapprochement",
        "cost",
        "reformist_share",
    ]


def test_store_round_trips_parameters_and_runs(scenario: Scenario, tmp_path: Path) -> None:
    plan = _plan(scenario, states=4, worlds=50)
    res = run_experiment(
        plan, ResultStore(tmp_path / "r.duckdb"), model=synthetic_model, progress=False
    )
    params = res.parameters()
    pd.testing.assert_frame_equal(params, plan.states, check_names=False, check_dtype=False)
    info = res.store.run_info(res.run_id)
    assert info["status"] == "done" and info["seed"] == 3 and info["worlds"] == 50
    assert info["strategies"] == ["containment", "engagement", "dismantle"]
    means = res.state_means()
    assert len(means) == 12 and (means["worlds"] == 50).all()


def test_resume_computes_only_missing_chunks(scenario: Scenario, tmp_path: Path) -> None:
    plan = _plan(scenario, states=5, worlds=300)
    store = ResultStore(tmp_path / "r.duckdb")
    full = run_experiment(plan, store, model=synthetic_model, chunk_worlds=256, progress=False)
    assert full.computed == 5 * 3 * 2 and full.reused == 0
    reference = store.summaries(full.run_id)
    # Simulate an interrupted run: drop some chunks together with their rows.
    with store.transaction() as con:
        con.execute("DELETE FROM chunks WHERE state >= 3")
        con.execute("DELETE FROM summaries WHERE state >= 3")
        con.execute("UPDATE runs SET status = 'running'")
    again = run_experiment(
        plan, store, model=synthetic_model, chunk_worlds=256, resume=True, progress=False
    )
    assert again.reused == 18 and again.computed == 12
    pd.testing.assert_frame_equal(store.summaries(full.run_id), reference)
    # Resuming a finished run computes nothing; a fresh (non-resume) run recomputes.
    assert (
        run_experiment(plan, store, model=synthetic_model, resume=True, progress=False).computed
        == 0
    )
    fresh = run_experiment(plan, store, model=synthetic_model, progress=False)
    assert fresh.reused == 0
    assert store.count_summaries(full.run_id) == len(reference)


def test_writing_a_chunk_twice_is_ignored(scenario: Scenario, tmp_path: Path) -> None:
    plan = _plan(scenario, states=2, worlds=10)
    store = ResultStore(tmp_path / "r.duckdb")
    res = run_experiment(plan, store, model=synthetic_model, progress=False)
    from detente.store.duckdb import ChunkResult

    dup = ChunkResult(0, "containment", 0, 10, {"rapprochement": np.zeros(10)})
    assert store.write_chunks(res.run_id, [dup]) == 0
    assert store.count_summaries(res.run_id) == 2 * 3 * 10


def test_parquet_export(scenario: Scenario, tmp_path: Path) -> None:
    plan = _plan(scenario, states=2, worlds=10)
    store = ResultStore(tmp_path / "r.duckdb")
    res = run_experiment(plan, store, model=synthetic_model, progress=False)
    files = store.export_parquet(tmp_path / "pq", res.run_id)
    names = sorted(p.name for p in files)
    assert names == sorted(
        f"{t}.parquet"
        for t in (
            "runs", "parameters", "summaries", "chunks", "trajectories",
            "calibration_generations", "calibration_particles",
            "design_generations", "design_candidates",
        )
    )
    table = pq.read_table(tmp_path / "pq" / "summaries.parquet").to_pandas()
    assert len(table) == 60 and "rapprochement" in table.columns
    assert not list((tmp_path / "pq").glob(".*tmp"))


def test_a_session_opens_the_database_once_and_keeps_each_transaction_apart(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    run = run_experiment(_plan(scenario, states=2, worlds=200), ResultStore(tmp_path / "s.duckdb"),
                         model=synthetic_model, progress=False)
    store = ResultStore(tmp_path / "s.duckdb")
    opened: list[str] = []
    real_connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: opened.append("x") or real_connect(*a, **k))
    with store.session():
        means = store.state_means(run.run_id)
        with pytest.raises(duckdb.Error), store.transaction() as con:  # rolled back alone
            con.execute("DELETE FROM runs")
            con.execute("SELECT * FROM no_such_table")
        with store.session():  # nested: the same connection
            assert store.run_info(run.run_id)["run_id"] == run.run_id
    assert len(opened) == 1
    pd.testing.assert_frame_equal(means, store.state_means(run.run_id))
    assert len(opened) == 3  # outside a session every access opens its own
