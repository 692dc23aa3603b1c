"""A 2-worker Dask LocalCluster gives exactly the in-process results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detente.errors import InputError
from detente.experiments.executors import (
    DaskEvaluator,
    InProcessEvaluator,
    make_evaluator,
)
from detente.experiments.runner import ExperimentPlan, run_experiment
from detente.experiments.sampling import sample_states
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML, synthetic_model
from detente.scenario import load_scenario


def test_dask_local_cluster_matches_in_process(tmp_path: Path) -> None:
    path = tmp_path / "synthetic.yaml"
    path.write_text(SYNTHETIC_SCENARIO_YAML)
    scenario = load_scenario(path)
    plan = ExperimentPlan(
        "compare",
        scenario,
        sample_states(scenario, 8, "sobol", 11),
        ("containment", "engagement", "dismantle"),
        600,
        11,
    )
    from detente.store.duckdb import ResultStore

    local = run_experiment(
        plan, ResultStore(tmp_path / "a.duckdb"), model=synthetic_model, progress=False
    )
    dask = run_experiment(
        plan,
        ResultStore(tmp_path / "b.duckdb"),
        model=synthetic_model,
        evaluator=DaskEvaluator("local", n_workers=2, processes=False),
        chunk_worlds=256,
        progress=False,
    )
    assert local.run_id == dask.run_id
    pd.testing.assert_frame_equal(
        local.store.summaries(local.run_id), dask.store.summaries(dask.run_id)
    )


def test_make_evaluator_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DETENTE_SCHEDULER", raising=False)
    assert isinstance(make_evaluator(None), InProcessEvaluator)
    assert isinstance(make_evaluator("local"), DaskEvaluator)
    assert make_evaluator("tcp://10.0.0.1:8786").scheduler == "tcp://10.0.0.1:8786"  # type: ignore[union-attr]
    monkeypatch.setenv("DETENTE_SCHEDULER", "local")
    assert isinstance(make_evaluator(None), DaskEvaluator)
    with pytest.raises(InputError, match="expected 'local' or a scheduler address"):
        make_evaluator("nonsense")


def _sum_task(item: int, *, data: np.ndarray) -> tuple[int, float]:
    return item, float(data.sum()) + item


def test_repeated_calls_with_the_same_shared_data_all_finish() -> None:
    """Calibration and hindcast call the evaluator many times with the same scenario. With
    content-hashed scatter keys, a call could re-scatter a key the scheduler was still
    releasing from the call before, and its tasks were cancelled ("lost dependencies")."""
    data = np.arange(200_000.0)
    with DaskEvaluator("local", n_workers=2) as ev:
        for _ in range(20):
            out = dict(ev.imap_unordered(_sum_task, list(range(8)), data=data))
            assert out == {i: float(data.sum()) + i for i in range(8)}
