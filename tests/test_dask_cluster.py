"""A real cluster: ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, one of
them killed with SIGKILL after the first shards are written. The run still completes with
every chunk stored once and the numbers of an in-process run with the same seed.

The default run is small (the synthetic model, about 15 s); ``DETENTE_CLUSTER=long`` runs
the flagship scenario on detente's own engine instead (a few minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from dask_cluster_fixtures import cluster_env, detente_command, running_cluster
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML
from detente.store.duckdb import ResultStore

pytest.importorskip("distributed")

LONG = os.environ.get("DETENTE_CLUSTER", "").lower() == "long"


def _kill_after_first_shard(out: Path, worker: subprocess.Popen[bytes],
                            client: subprocess.Popen[bytes]) -> dict[str, float]:
    """Watch the run's shard folder; SIGKILL ``worker`` once a shard is there."""
    said: dict[str, float] = {}

    def watch() -> None:
        while client.poll() is None:
            if any((out / "shards").glob("*/*.parquet")):
                os.kill(worker.pid, signal.SIGKILL)
                said["killed"] = time.monotonic()
                return
            time.sleep(0.005)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return said


def _compare(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        detente_command("compare", *args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _stored(db: Path) -> tuple[str, pd.DataFrame, int]:
    store = ResultStore(db)
    run_id = str(store.runs()["run_id"].iloc[0])
    with store.connect() as con:
        row = con.execute("SELECT count(*) FROM chunks WHERE run_id = ?", [run_id]).fetchone()
    return run_id, store.summaries(run_id), int(row[0]) if row else 0


def test_a_killed_worker_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    if LONG:
        scenario = "us-iran-2001"
        states, worlds, n_strategies = 48, 512, 6
        model_env: dict[str, str] = {}
    else:
        scenario = str(tmp_path / "mine.yaml")
        Path(scenario).write_text(SYNTHETIC_SCENARIO_YAML)
        states, worlds, n_strategies = 16, 300, 3
        model_env = {"DETENTE_MODEL": "detente.experiments.testing:slow_synthetic_model",
                     "DETENTE_TEST_MODEL_DELAY": "0.1"}
    common = [scenario, "--states", str(states), "--worlds", str(worlds), "--seed", "5"]
    env = cluster_env(**model_env)
    out = tmp_path / "cluster"
    with running_cluster(tmp_path, env) as cluster:
        workers = cluster.workers
        client = _compare([*common, "--out", str(out), "--scheduler-file",
                           str(cluster.scheduler_file)], env)
        said = _kill_after_first_shard(out, workers[0], client)
        _, stderr = client.communicate(timeout=900)
        finished = time.monotonic()
    assert client.returncode == 0, stderr.decode()[-2000:]
    assert "killed" in said and said["killed"] < finished
    assert workers[0].poll() == -signal.SIGKILL
    assert not (out / "shards").exists()  # loaded, then removed

    # The same run in-process (no model delay: the model's name, so the run's id, is the same).
    here = tmp_path / "here"
    ref = _compare([*common, "--out", str(here)], cluster_env(**{**model_env,
                                                          "DETENTE_TEST_MODEL_DELAY": "0"}))
    _, ref_err = ref.communicate(timeout=900)
    assert ref.returncode == 0, ref_err.decode()[-2000:]

    run_id, got, n_chunks = _stored(out / "results.duckdb")
    ref_id, want, _ = _stored(here / "results.duckdb")
    assert run_id == ref_id
    assert n_chunks == states * n_strategies  # one chunk per cell (worlds <= 1024)
    assert len(got) == states * n_strategies * worlds
    assert not got.duplicated(["state", "strategy", "world"]).any()
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert json.loads((out / "runs" / run_id / "run.json").read_text())["run_id"] == run_id
