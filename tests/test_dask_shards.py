"""Distributed runs without a real cluster: finer tasks give the same numbers, shards are
written once, loaded once and never half, workers with another detente are refused, and
``--scheduler-file`` / ``--scheduler local`` say what they do."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import invoke_cli
from detente.errors import InputError
from detente.experiments import executors
from detente.experiments.chunks import (
    Task,
    group_stacked_tasks,
    group_tasks,
    plan_chunks,
    run_task,
    shard_task,
    task_keys,
)
from detente.experiments.executors import (
    DaskEvaluator,
    InProcessEvaluator,
    make_evaluator,
    resolve_scheduler,
    scheduler_file_address,
    usable_cpus,
)
from detente.experiments.runner import ExperimentPlan, run_experiment
from detente.experiments.sampling import sample_states
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML, synthetic_model
from detente.scenario import Scenario, load_scenario
from detente.sim import summarize
from detente.store import shards
from detente.store.duckdb import ChunkResult, ResultStore


class ParallelLike(InProcessEvaluator):
    """In-process, but says it has ``slots`` slots and lets tasks write shards, and hands
    results back in reverse order; records the tasks it was given."""

    shards = True

    def __init__(self, slots: int, stop_after: int | None = None) -> None:
        self.slots = slots
        self.stop_after = stop_after
        self.calls: list[int] = []

    def imap_unordered(self, fn: Callable[..., Any], items: Sequence[Any],
                       **shared: Any) -> Iterator[Any]:
        self.calls.append(len(items))
        done = [fn(item, **shared) for item in reversed(items)]
        if self.stop_after is not None:
            # The workers wrote their shards, but the client died before hearing of them.
            raise KeyboardInterrupt
        yield from done


@pytest.fixture(scope="module")
def synthetic() -> Scenario:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.yaml"
        path.write_text(SYNTHETIC_SCENARIO_YAML)
        return load_scenario(path)


def _plan(scenario: Scenario, states: int, strategies: tuple[str, ...], worlds: int,
          seed: int = 7) -> ExperimentPlan:
    return ExperimentPlan("compare", scenario, sample_states(scenario, states, "lhs", seed),
                          strategies, worlds, seed)


SYN = ("containment", "engagement", "dismantle")


def test_finer_tasks_and_shards_give_the_in_process_numbers(
    synthetic: Scenario, tmp_path: Path
) -> None:
    plan = _plan(synthetic, 5, SYN, 600)
    plain = run_experiment(plan, ResultStore(tmp_path / "a.duckdb"), model=synthetic_model,
                           chunk_worlds=256, progress=False)
    evaluator = ParallelLike(slots=7)
    sharded = run_experiment(plan, ResultStore(tmp_path / "b.duckdb"), model=synthetic_model,
                             evaluator=evaluator, chunk_worlds=256, progress=False)
    # 5 states x 3 strategies x 3 world ranges = 45 chunks; 28 tasks wanted: 6 per state
    # would be more chunks than a state has (9), so 5 states x 6 tasks.
    assert evaluator.calls == [30]
    assert (sharded.computed, sharded.reused) == (45, 0)
    a = plain.store.summaries(plain.run_id)
    b = sharded.store.summaries(sharded.run_id)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not (tmp_path / shards.SHARDS_DIR).exists()


def test_stacked_tasks_down_to_one_state_give_the_same_numbers(tmp_path: Path) -> None:
    sc = load_scenario("us-iran-2001")
    plan = ExperimentPlan("compare", sc, sample_states(sc, 4, "lhs", 3),
                          ("containment", "dismantle-sanctions"), 40, 17)
    plain = run_experiment(plan, ResultStore(tmp_path / "a.duckdb"), model=summarize,
                           progress=False)
    evaluator = ParallelLike(slots=3)  # 12 tasks wanted, 8 chunks: one state a task
    fine = run_experiment(plan, ResultStore(tmp_path / "b.duckdb"), model=summarize,
                          evaluator=evaluator, progress=False)
    assert evaluator.calls == [8]
    pd.testing.assert_frame_equal(plain.store.summaries(plain.run_id),
                                  fine.store.summaries(fine.run_id), check_exact=True)


def test_finer_grouping_keeps_every_chunk_once() -> None:
    records = [{"x": float(s)} for s in range(10)]
    chunks = plan_chunks(10, ("a", "b"), 700, 256)  # 60 chunks
    for min_tasks in (1, 7, 25, 1000):
        tasks = group_tasks(chunks, records, min_tasks)
        keys = [k for t in tasks for k in task_keys(t)]
        assert sorted(keys) == sorted(c.key for c in chunks)
        assert len(tasks) == min(max(10, -(-min_tasks // 10) * 10), 60)
        stacked = group_stacked_tasks(chunks, records, min_tasks=min_tasks)
        keys = [k for t in stacked for k in task_keys(t)]
        assert sorted(keys) == sorted(c.key for c in chunks)
        assert len(stacked) >= min(min_tasks, 60)
        assert all(len(t.states) <= 10 for t in stacked)


def _task(scenario: Scenario) -> Task:
    chunks = plan_chunks(2, ("containment", "engagement"), 300, 256)
    return group_tasks([c for c in chunks if c.state == 1], [{}, {}])[0]


def test_a_retried_task_reads_its_shard_instead_of_computing(
    synthetic: Scenario, tmp_path: Path
) -> None:
    token = shards.prepare(tmp_path)
    assert token is not None
    calls: list[int] = []

    def counted(task: Task, **shared: Any) -> list[ChunkResult]:
        calls.append(1)
        return run_task(task, **shared)

    task = _task(synthetic)
    kw: dict[str, Any] = {"task_fn": counted, "shard_dir": str(tmp_path), "token": token,
                          "model": synthetic_model, "scenario": synthetic, "seed": 3}
    first = shard_task(task, **kw)
    again = shard_task(task, **kw)
    assert len(calls) == 1
    assert [r.key for r in first] == [r.key for r in again] == [c.key for c in task.chunks]
    assert all(r.shard and not r.outcomes for r in first + again)
    assert [p.name for p in shards.leftovers(tmp_path)] == [Path(first[0].shard or "").name]
    # No half files: only the shard and the token file are in the folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [shards.TOKEN_FILE, Path(first[0].shard or "").name])


def test_a_worker_that_cannot_see_or_write_the_folder_sends_rows_back(
    synthetic: Scenario, tmp_path: Path
) -> None:
    token = shards.prepare(tmp_path)
    assert token is not None
    task = _task(synthetic)
    kw: dict[str, Any] = {"task_fn": run_task, "model": synthetic_model,
                          "scenario": synthetic, "seed": 3}
    other_machine = shard_task(task, shard_dir=str(tmp_path / "elsewhere"), token=token, **kw)
    (tmp_path / shards.shard_name(task_keys(task))).mkdir()  # the shard's name is taken
    unwritable = shard_task(task, shard_dir=str(tmp_path), token=token, **kw)
    for results in (other_machine, unwritable):
        assert all(r.shard is None and set(r.outcomes) for r in results)
    assert not (tmp_path / "elsewhere").exists()


def _chunk_results(scenario: Scenario) -> list[ChunkResult]:
    return run_task(_task(scenario), model=synthetic_model, scenario=scenario, seed=3)


def _store(tmp_path: Path, run_id: str = "r") -> ResultStore:
    from detente.store.duckdb import RunInfo

    store = ResultStore(tmp_path / "db" / "results.duckdb")
    store.start_run(RunInfo(run_id, "compare", "s", "h", "v", "m", 3, 2, 300, SYN),
                    pd.DataFrame({"x": [0.0, 1.0]}), resume=False)
    return store


def test_a_chunk_in_a_shard_and_in_rows_is_stored_once(
    synthetic: Scenario, tmp_path: Path
) -> None:
    store = _store(tmp_path)
    folder = shards.shard_folder(store.path, "r")
    results = _chunk_results(synthetic)
    path = folder / "x.parquet"
    folder.mkdir(parents=True)
    shards.write(path, [(r.state, r.strategy, r.world_start, r.world_count, r.seconds)
                        for r in results], [dict(r.outcomes) for r in results])
    from dataclasses import replace

    in_shard = [replace(r, outcomes={}, shard=str(path)) for r in results]
    assert store.write_chunks("r", [results[0]]) == 1  # stored before its shard came
    assert store.write_chunks("r", [*in_shard, results[-1]]) == len(results) - 1
    assert store.write_chunks("r", results) == 0
    frame = store.summaries("r")
    assert len(frame) == sum(r.world_count for r in results)
    assert not frame.duplicated(["state", "strategy", "world"]).any()
    assert not path.exists()  # loaded, then deleted
    want = np.concatenate([r.outcomes["cost"] for r in results])
    assert np.array_equal(frame["cost"].to_numpy(), want)


def test_leftover_shards_are_loaded_and_broken_ones_dropped(
    synthetic: Scenario, tmp_path: Path
) -> None:
    store = _store(tmp_path)
    folder = shards.shard_folder(store.path, "r")
    folder.mkdir(parents=True)
    results = _chunk_results(synthetic)
    shards.write(folder / "good.parquet",
                 [(r.state, r.strategy, r.world_start, r.world_count, r.seconds)
                  for r in results[:2]], [dict(r.outcomes) for r in results[:2]])
    (folder / "broken.parquet").write_bytes(b"PAR1 half a file")
    (folder / ".good.parquet.abc.tmp").write_bytes(b"a writer killed mid-way")
    assert store.load_shards("r", folder) == 2
    assert store.done_chunks("r") == {r.key for r in results[:2]}
    assert store.count_summaries("r") == sum(r.world_count for r in results[:2])
    assert not (folder / "broken.parquet").exists() and not (folder / "good.parquet").exists()


def test_shards_of_a_client_that_died_are_kept_when_the_run_resumes(
    synthetic: Scenario, tmp_path: Path
) -> None:
    plan = _plan(synthetic, 4, SYN, 300)
    store = ResultStore(tmp_path / "b.duckdb")
    with pytest.raises(KeyboardInterrupt):
        run_experiment(plan, store, model=synthetic_model, chunk_worlds=256, progress=False,
                       evaluator=ParallelLike(slots=2, stop_after=0))
    left = list((tmp_path / shards.SHARDS_DIR).glob("*/*.parquet"))
    assert len(left) == 8  # 4 states x 2 tasks each (8 wanted), none loaded
    calls: list[int] = []
    resumed_by = ParallelLike(slots=2)
    resumed = run_experiment(plan, store, model=synthetic_model, chunk_worlds=256,
                             progress=False, resume=True, evaluator=resumed_by)
    calls = resumed_by.calls
    assert calls == [] and (resumed.reused, resumed.computed) == (24, 0)
    plain = run_experiment(plan, ResultStore(tmp_path / "a.duckdb"), model=synthetic_model,
                           chunk_worlds=256, progress=False)
    pd.testing.assert_frame_equal(plain.store.summaries(plain.run_id),
                                  store.summaries(resumed.run_id), check_exact=True)
    assert not (tmp_path / shards.SHARDS_DIR).exists()


# -- scheduler files, local clusters, worker checks ------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "no such file"),
        ("not json", "holds no scheduler address"),
        ('{"type": "Scheduler"}', "holds no scheduler address"),
        ('{"address": "ucx://10.0.0.1:8786"}', "its address 'ucx://10.0.0.1:8786': the ucx://"),
    ],
)
def test_bad_scheduler_files_are_refused_in_one_line(
    tmp_path: Path, content: str | None, words: str
) -> None:
    path = tmp_path / "scheduler.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError) as info:
        make_evaluator(scheduler_file=path)
    message = str(info.value)
    assert f"--scheduler-file '{path}': " in message and words in message
    assert "\n" not in message


def test_a_scheduler_file_gives_its_address(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "scheduler.json"
    path.write_text(json.dumps({"type": "Scheduler", "address": "tcp://10.1.2.3:8786",
                                "services": {}}))
    assert scheduler_file_address(path) == "tcp://10.1.2.3:8786"
    monkeypatch.setenv("DETENTE_SCHEDULER", "local")
    evaluator = make_evaluator(None, path)  # the file wins over the environment
    assert isinstance(evaluator, DaskEvaluator) and evaluator.scheduler == "tcp://10.1.2.3:8786"
    with pytest.raises(InputError, match="give one of them"):
        resolve_scheduler("local", path)


def test_cli_refuses_a_missing_scheduler_file_with_exit_2(
    synthetic_scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    result = invoke_cli(["compare", synthetic_scenario, "--states", "2", "--worlds", "8",
                         "--scheduler-file", str(tmp_path / "nope.json")], capsys, monkeypatch)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "no such file" in result.stderr
    assert not (tmp_path / "detente-out").exists()


def test_local_cluster_has_a_worker_per_usable_cpu() -> None:
    pytest.importorskip("distributed")
    assert usable_cpus() == len(os.sched_getaffinity(0))
    with DaskEvaluator("local", processes=False) as ev:
        assert ev.slots == usable_cpus()
        assert ev._client is not None
        assert set(ev._client.nthreads().values()) == {1}


def _task_sum(item: int) -> int:
    return item * 2


def test_a_worker_with_another_detente_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(executors, "_identity_probe", lambda: "detente 0.0.1 (source abc)")
    with pytest.raises(InputError) as info, DaskEvaluator("local", n_workers=1,
                                                          processes=False):
        pass
    message = str(info.value)
    assert "Dask worker inproc://" in message and "runs detente 0.0.1 (source abc)" in message
    assert "but this client runs detente" in message and "\n" not in message


def test_a_worker_that_changes_mid_run_is_named_by_its_task(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    with DaskEvaluator("local", n_workers=1, processes=False) as ev:
        assert sorted(ev.imap_unordered(_task_sum, [1, 2])) == [2, 4]
        monkeypatch.setattr(executors, "_identity_probe", lambda: "detente 0.0.2 (source d)")
        with pytest.raises(InputError, match=r"Dask worker inproc://\S+ runs detente 0.0.2"):
            list(ev.imap_unordered(_task_sum, [1, 2]))


def test_cluster_faults_are_one_line_each() -> None:
    pytest.importorskip("distributed")
    from distributed.client import FutureCancelledError
    from distributed.comm import CommClosedError
    from distributed.scheduler import KilledWorker

    ev = DaskEvaluator("tcp://10.0.0.1:8786")
    cases = [
        (KilledWorker("task-1", "tcp://10.0.0.2:1", 3), "Dask gave up on task task-1: the "
         "workers running it died 3 times"),
        (FutureCancelledError("k", "scheduler-connection-lost"), "lost the Dask scheduler;"),
        (FutureCancelledError("k", "already forgotten"), "Dask cancelled the run's tasks "
         "(already forgotten): every worker holding"),
        (CommClosedError("Stream is closed"), "the Dask cluster failed under the run "
         "(Stream is closed)"),
    ]
    for exc, words in cases:
        message = str(ev._fault(exc))
        assert words in message, message
        assert message.endswith("what finished is kept: rerun with --resume")
        assert "--scheduler 'tcp://10.0.0.1:8786'" in message and "\n" not in message
