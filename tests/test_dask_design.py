"""Same seed, same front, whatever the executor: ``detente design`` in-process and on a real
two-worker cluster (``dask scheduler`` + two ``dask worker`` on 127.0.0.1), reached through
``--scheduler-file`` and through ``--scheduler tcp://...``, writes the same ``pareto.csv``
and ``fresh.csv``, byte for byte.

The synthetic ZDT1 design problem (``detente.experiments.testing.design_model``) is scored on
8 states x 128 worlds, so in process a batch holds 4 candidates and a generation of 20 is 5
tasks; on the two workers it is 7 tasks of at most 3, finished in any order. About 10 s, most of it starting Python processes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dask_cluster_fixtures import Cluster, cluster_env, detente_command, running_cluster
from detente.design.evaluate import StateSet, candidates_per_batch
from detente.design.job import design
from detente.experiments.testing import DESIGN_SCENARIO_YAML

pytest.importorskip("distributed")

MODEL = "detente.experiments.testing:design_model"
SETTINGS = {"states": 8, "worlds": 128, "population": 20, "generations": 4, "fresh": 8,
            "seed": 3}
FILES = ("pareto.csv", "fresh.csv")


def _executed(cluster: Cluster) -> dict[str, int]:
    """Tasks each worker has run so far."""
    from distributed import Client

    with Client(cluster.address, timeout=30) as client:
        counts = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return {str(k): int(v) for k, v in counts.items()}


def test_design_front_is_the_same_in_process_and_on_a_two_worker_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    scenario = tmp_path / "zdt.yaml"
    scenario.write_text(DESIGN_SCENARIO_YAML)
    # several tasks per generation (or the order the workers finish in would not matter),
    # cut differently on the cluster (two slots) than in process
    states = StateSet(pd.DataFrame(index=range(SETTINGS["states"])), 0, SETTINGS["worlds"])
    here_per, there_per = (candidates_per_batch(states, SETTINGS["population"], slots)
                           for slots in (1, 2))
    assert SETTINGS["population"] // here_per >= 4 and there_per != here_per

    monkeypatch.setenv("DETENTE_MODEL", MODEL)
    monkeypatch.delenv("DETENTE_SCHEDULER", raising=False)
    here = design(scenario, strategy="tuned", out=tmp_path / "here", progress=False,
                  **SETTINGS)  # type: ignore[arg-type]

    args = ["design", str(scenario), "--strategy", "tuned"]
    for key, value in SETTINGS.items():
        args += [f"--{key}", str(value)]
    env = cluster_env(DETENTE_MODEL=MODEL)
    with running_cluster(tmp_path, env) as cluster:
        before = _executed(cluster)
        how = {"file": ["--scheduler-file", str(cluster.scheduler_file)],
               "address": ["--scheduler", cluster.address]}
        clients = {name: subprocess.Popen(  # two clients on the cluster at once
            detente_command(*args, *where, "--out", str(tmp_path / name)),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name, where in how.items()}
        for name, proc in clients.items():
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, f"{name}: {err.decode()[-2000:]}"
        after = _executed(cluster)
    ran = {w: after[w] - before.get(w, 0) for w in after}
    # every generation of both runs went through the cluster, and both workers took part
    assert sum(ran.values()) >= 2 * SETTINGS["generations"] and min(ran.values()) > 0, ran
    for name in how:
        folder = tmp_path / name / "runs" / here.run_id
        for file in FILES:
            assert (folder / file).read_bytes() == \
                (tmp_path / "here" / "runs" / here.run_id / file).read_bytes(), (name, file)
