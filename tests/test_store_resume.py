"""A run killed with SIGKILL resumes, computing only what is missing, with no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd

from detente.experiments.runner import ExperimentPlan, run_experiment
from detente.experiments.sampling import sample_states
from detente.experiments.testing import (
    SYNTHETIC_SCENARIO_YAML,
    slow_synthetic_model,
    synthetic_model,
)
from detente.scenario import load_scenario
from detente.store.duckdb import ResultStore

SCRIPT = textwrap.dedent(
    """
    import sys
    from detente.experiments.runner import ExperimentPlan, run_experiment
    from detente.experiments.sampling import sample_states
    from detente.experiments.testing import slow_synthetic_model
    from detente.scenario import load_scenario
    from detente.store.duckdb import ResultStore

    scenario = load_scenario(sys.argv[1])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    plan = ExperimentPlan("compare", scenario, sample_states(scenario, 12, "lhs", seed),
                          ("containment", "engagement", "dismantle"), 300, seed)
    run_experiment(plan, ResultStore(sys.argv[2]), model=slow_synthetic_model,
                   chunk_worlds=256, progress=False, flush_seconds=0.0)
    """
)


def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path: Path) -> None:
    scenario_path = tmp_path / "synthetic.yaml"
    scenario_path.write_text(SYNTHETIC_SCENARIO_YAML)
    db = tmp_path / "killed.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(scenario_path), str(db)],
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    store = ResultStore(db)
    deadline = time.monotonic() + 60
    done = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                done = len(store.done_chunks(next(iter(store.runs()["run_id"]), "")))
                if done >= 12:
                    break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert 12 <= done < 72, f"the run should be killed mid-way, had {done} of 72 chunks"
    run_id = str(store.runs()["run_id"].iloc[0])
    assert store.run_info(run_id)["status"] == "running"
    before = len(store.done_chunks(run_id))

    scenario = load_scenario(scenario_path)
    plan = ExperimentPlan(
        "compare",
        scenario,
        sample_states(scenario, 12, "lhs", 5),
        ("containment", "engagement", "dismantle"),
        300,
        5,
    )
    resumed = run_experiment(plan, store, model=slow_synthetic_model, resume=True, progress=False)
    assert resumed.run_id == run_id
    assert resumed.reused == before and resumed.computed == 72 - before
    got = store.summaries(run_id)
    assert not got.duplicated(["state", "strategy", "world"]).any()

    reference_store = ResultStore(tmp_path / "reference.duckdb")
    ref = run_experiment(plan, reference_store, model=synthetic_model, progress=False)
    expected = reference_store.summaries(ref.run_id)
    pd.testing.assert_frame_equal(got, expected)


def test_concurrent_runs_share_one_database(tmp_path: Path) -> None:
    scenario_path = tmp_path / "synthetic.yaml"
    scenario_path.write_text(SYNTHETIC_SCENARIO_YAML)
    db = tmp_path / "shared.duckdb"
    procs = [
        subprocess.Popen([sys.executable, "-c", SCRIPT, str(scenario_path), str(db), str(seed)])
        for seed in (1, 2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    store = ResultStore(db)
    runs = store.runs()
    assert len(runs) == 2 and set(runs["status"]) == {"done"}
    for run_id in runs["run_id"]:
        got = store.summaries(run_id)
        assert len(got) == 12 * 3 * 300
        assert not got.duplicated(["state", "strategy", "world"]).any()
