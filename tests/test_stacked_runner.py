"""Experiments on detente's own engine run groups of states in one stacked engine call
(issue 11 item 2): the stored numbers are those of one ``summarize`` call per chunk, also
across chunk boundaries, after an interrupted task and on a Dask cluster; and the cheaper
per-state compile (``resolve`` without a pydantic round trip) gives the same scenario."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import detente.sim.stacked as stacked
import detente.sim.system as system_module
from detente.errors import InputError
from detente.experiments.chunks import (
    group_stacked_tasks,
    group_tasks,
    plan_chunks,
    run_task,
    state_seed,
    states_per_task,
)
from detente.experiments.executors import DaskEvaluator
from detente.experiments.runner import ExperimentPlan, RunResult, run_experiment
from detente.experiments.sampling import sample_states
from detente.experiments.trajectories import sampled_trajectory_quantiles
from detente.scenario import Scenario, load_scenario
from detente.scenario.together import member_value
from detente.scenario.uncertainty import resolve, sample_groups, uncertain_numbers
from detente.sim import simulate, summarize
from detente.sim.engine import chunk_plans
from detente.sim.stacked import summarize_states
from detente.sim.system import compile_system
from detente.store.duckdb import ResultStore

STRATEGIES = ("containment", "moderate-engagement", "dismantle-sanctions")


@cache
def _flagship() -> tuple[Scenario, pd.DataFrame]:
    sc = load_scenario("us-iran-2001")
    return sc, sample_states(sc, 6, "lhs", 3)


def _plan(states: pd.DataFrame, strategies: tuple[str, ...], worlds: int) -> ExperimentPlan:
    return ExperimentPlan("compare", _flagship()[0], states, strategies, worlds, 17)


def _stored(result: RunResult) -> pd.DataFrame:
    frame = result.store.summaries(result.run_id)
    return frame.sort_values(["state", "strategy", "world"]).reset_index(drop=True)


def _per_state(plan: ExperimentPlan, chunk_worlds: int) -> pd.DataFrame:
    """What one ``summarize`` call per chunk gives (the runner's per-state protocol)."""
    records = [dict(zip(plan.states.columns, map(float, r), strict=True))
               for r in plan.states.to_numpy()]
    chunks = plan_chunks(len(plan.states), plan.strategies, plan.worlds, chunk_worlds)
    rows = []
    for task in group_tasks(chunks, records):
        for r in run_task(task, model=summarize, scenario=plan.scenario, seed=plan.seed):
            rows.append(pd.DataFrame({"state": r.state, "strategy": r.strategy,
                                      "world": np.arange(r.world_start,
                                                         r.world_start + r.world_count),
                                      **r.outcomes}))
    frame = pd.concat(rows, ignore_index=True)
    return frame.sort_values(["state", "strategy", "world"]).reset_index(drop=True)


def _assert_same_numbers(stored: pd.DataFrame, reference: pd.DataFrame) -> None:
    cols = ["state", "strategy", "world", *sorted(c for c in reference.columns
                                                  if c not in ("state", "strategy", "world"))]
    got = stored[cols].astype({"state": "int64", "world": "int64"})
    pd.testing.assert_frame_equal(got, reference[cols].astype({"state": "int64",
                                                               "world": "int64"}),
                                  check_exact=True, check_dtype=False)


def test_compare_stores_the_numbers_of_one_call_per_chunk_from_few_engine_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """6 states x 3 strategies x 40 worlds: every stored number equals the per-state call's,
    and each strategy's 6 states run in one engine run (moderate engagement too: its sampled
    parameters are per world)."""
    _, states = _flagship()
    plan = _plan(states, STRATEGIES, 40)
    runs: list[int] = []
    real = stacked.run_layout

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(kwargs.get("layout", args[3]).n)
        return real(*args, **kwargs)

    monkeypatch.setattr(stacked, "run_layout", counted)
    result = run_experiment(plan, ResultStore(tmp_path / "r.duckdb"), model=summarize,
                            progress=False)
    assert result.computed == 18
    assert runs == [6 * 40] * 3
    monkeypatch.undo()
    _assert_same_numbers(_stored(result), _per_state(plan, 4 * 256))


def test_summarize_states_from_a_later_world_equals_summarize() -> None:
    """A stacked task of a later chunk (``start_world`` 256) draws that chunk's worlds."""
    sc, states = _flagship()
    seeds = [11, 12]
    got = summarize_states(sc, "containment", states.iloc[:2], 44, seeds, start_world=256)
    for s, (_, row) in enumerate(states.iloc[:2].iterrows()):
        want = summarize(sc, "containment", 44, seeds[s], 256, values=row.to_dict())
        assert got[s].keys() == want.keys()
        for k, v in want.items():
            assert np.array_equal(got[s][k], v), (s, k)
    with pytest.raises(InputError, match="start_world must be a non-negative multiple"):
        summarize_states(sc, "containment", states.iloc[:1], 4, [1], start_world=100)


def test_chunk_ranges_and_group_sizes_of_stacked_tasks() -> None:
    """Tasks never mix strategies or world ranges; groups are bounded and of equal size."""
    records = [{"x": float(s)} for s in range(100)]
    chunks = plan_chunks(100, ("a", "b"), 300, 256)
    tasks = group_stacked_tasks(chunks, records)
    assert sum(len(t.states) for t in tasks) == len(chunks)
    assert {(t.world_start, t.world_count) for t in tasks} == {(0, 256), (256, 44)}
    for t in tasks:
        assert len(t.states) <= states_per_task(t.world_count)
        assert [r["x"] for r in t.values] == [float(s) for s in t.states]
    sizes = sorted({len(t.states) for t in tasks if t.world_count == 256})
    assert sizes == [14, 15], sizes  # at most 4096 rows / 256 worlds = 16: 7 groups for 100
    assert max(len(t.states) for t in group_stacked_tasks(plan_chunks(200, ("a",), 1), records
                                                          * 2)) <= 64


def test_interrupted_stacked_run_resumes_to_the_same_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after the first stacked task: its chunks are kept (several markers in one
    transaction), the resumed run computes only the rest and stores what an uninterrupted
    run stores; two world ranges per state (260 worlds, chunks of 256)."""
    states = _flagship()[1]
    plan = _plan(states.iloc[:2], ("containment",), 260)
    calls = 0
    real = stacked.summaries_and_steps

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    store = ResultStore(tmp_path / "r.duckdb")
    monkeypatch.setattr(stacked, "summaries_and_steps", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(plan, store, model=summarize, progress=False, chunk_worlds=256,
                       flush_seconds=math.inf)
    monkeypatch.undo()
    resumed = run_experiment(plan, store, model=summarize, progress=False, chunk_worlds=256,
                             resume=True)
    assert (resumed.reused, resumed.computed) == (2, 2)
    _assert_same_numbers(_stored(resumed), _per_state(plan, 256))


def test_dask_cluster_stores_what_the_stacked_in_process_run_stores(tmp_path: Path) -> None:
    _, states = _flagship()
    plan = _plan(states.iloc[:3], ("containment", "dismantle-sanctions"), 40)
    local = run_experiment(plan, ResultStore(tmp_path / "a.duckdb"), model=summarize,
                           progress=False)
    dask = run_experiment(plan, ResultStore(tmp_path / "b.duckdb"), model=summarize,
                          evaluator=DaskEvaluator("local", n_workers=2, processes=False),
                          progress=False)
    assert local.run_id == dask.run_id
    pd.testing.assert_frame_equal(_stored(local), _stored(dask), check_exact=True)


# ---------------------------------------------------------------------------- resolve
def _validated_copy(sc: Scenario, values: Mapping[str, float]) -> Scenario:
    """The former ``resolve``: a full pydantic round trip (dump, set, validate); a group's
    shift set on its members as ``detente.scenario.together`` says."""
    values = dict(values)
    for group in sample_groups(sc):
        if group.name in values:
            shift = values.pop(group.name)
            for member in group.members:
                values.setdefault(member.name, member_value(member, shift))
    tree = sc.model_dump(mode="python")
    for loc, name, u in uncertain_numbers(sc):
        node = tree
        for key in loc[:-1]:
            node = node[key]
        node[loc[-1]] = float(values.get(name, u.nominal))
    return Scenario.model_validate(tree)


def _leaves_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(_leaves_equal(getattr(a, f), getattr(b, f))
                                          for f in a.__dataclass_fields__)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_leaves_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_leaves_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and (a == b or (a != a and b != b))


def test_resolve_gives_the_validated_copy_and_the_same_systems(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On sampled flagship states (history numbers too): the same scenario as the round
    trip, and the same compiled system and engine plans, leaf by leaf."""
    sc = load_scenario("us-iran-2001")
    states = sample_states(sc, 4, "lhs", 5, history=True)

    def compiled(strategy: str, values: Mapping[str, float], resolver: Any) -> Any:
        monkeypatch.setattr(system_module, "resolve", resolver)
        out = compile_system(sc, strategy, values)
        return out, chunk_plans(out)

    for values in [{}, *(r.to_dict() for _, r in states.iterrows())]:
        fast, slow = resolve(sc, values), _validated_copy(sc, values)
        assert fast.model_dump() == slow.model_dump()
        assert fast.model_dump_json() == slow.model_dump_json()
        for strategy in ("moderate-engagement", "us-as-followed"):
            assert _leaves_equal(compiled(strategy, values, resolve),
                                 compiled(strategy, values, _validated_copy))
    a = compile_system(sc, "containment", states.iloc[0].to_dict())
    b = compile_system(sc, "containment", states.iloc[1].to_dict())
    assert not _leaves_equal(a, b)  # the comparison sees a sampled difference


def test_resolve_refuses_a_non_finite_value_in_one_line() -> None:
    sc = load_scenario("us-iran-2001")
    name = uncertain_numbers(sc)[0][1]
    with pytest.raises(InputError) as err:
        resolve(sc, {name: float("nan"), "nonsense": 1.0})
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and any(f"{name}: expected a finite number" in x for x in lines)


def test_fan_chart_trajectories_come_from_one_stacked_run_per_strategy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``detente run``'s fan charts: one engine run per strategy for all the chosen states,
    the exact quantiles of the states' own ``simulate`` runs pooled."""
    sc, states = _flagship()
    runs: list[int] = []
    real = stacked.run_layout

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(stacked, "run_layout", counted)
    frame = sampled_trajectory_quantiles(sc, ["moderate-engagement"], states, 16, 7,
                                         max_states=3)
    monkeypatch.undo()
    assert len(runs) == 1
    pooled = np.concatenate([
        simulate(sc, "moderate-engagement", 16, state_seed(7, s),
                 values=states.iloc[s].to_dict())["reform_share"].values.astype(np.float64)
        for s in range(3)
    ])
    got = frame[frame.metric == "reform_share"].sort_values("step")
    assert np.array_equal(got["mean"].to_numpy(), pooled.mean(axis=0))
    assert np.array_equal(got["p95"].to_numpy(), np.quantile(pooled, 0.95, axis=0))


def test_a_state_compiled_for_one_strategy_is_reused_for_the_next_with_the_same_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stacked engine resolves and lays out a state once for all strategies (its
    memo of compiled states); each strategy's system and engine plans still equal a fresh
    ``compile_system`` and ``chunk_plans``, leaf by leaf (a history script too)."""
    sc = load_scenario("us-iran-2001")
    states = sample_states(sc, 3, "lhs", 8, history=True)
    values = [r.to_dict() for _, r in states.iterrows()]
    monkeypatch.setattr(stacked, "_compiled_states", type(stacked._compiled_states)())
    resolved: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        resolved.append(1)
        return resolve(*args, **kwargs)

    monkeypatch.setattr(stacked, "resolve", counted)
    order = ("containment", "us-as-followed", "tit-for-tat", "moderate-engagement")
    for strategy in order:
        systems, plans = stacked._compiled(sc, strategy, values, states)
        for s, v in enumerate(values):
            fresh = compile_system(sc, strategy, v)
            assert _leaves_equal((systems[s], plans[s]), (fresh, chunk_plans(fresh)))
    assert len(resolved) == len(values)  # once per state, not per state and strategy
    assert not _leaves_equal(stacked._compiled(sc, "grim", values[:1], states[:1]),
                             stacked._compiled(sc, "grim", values[1:2], states[1:2]))


def test_run_fan_charts_come_from_the_runs_own_engine_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run``'s fan-chart trajectories are taken from the worlds the run simulated (no
    second engine run) and equal the re-simulated ones number for number; a resumed run
    whose chunks are all reused re-simulates them, with the same frame."""
    from detente.experiments import jobs
    from detente.experiments.trajectories import sampled_trajectory_quantiles

    sc = load_scenario("us-iran-2001")
    runs: list[int] = []
    real = stacked.run_layout

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(stacked, "run_layout", counted)
    kwargs: dict[str, Any] = dict(strategies=["containment", "moderate-engagement"], states=3,
                                  worlds=20, seed=4, command="run", discover=True,
                                  out=tmp_path / "out", progress=False)
    first = jobs.compare("us-iran-2001", **kwargs)
    assert len(runs) == 2  # one stacked run per strategy, nothing re-simulated
    again = jobs.compare("us-iran-2001", resume=True, **kwargs)
    assert len(runs) == 4  # every chunk reused: the fan charts are simulated again
    monkeypatch.undo()
    direct = sampled_trajectory_quantiles(sc, ["containment", "moderate-engagement"],
                                          first.parameters, 20, 4, max_states=3)
    assert first.trajectories is not None and again.trajectories is not None
    pd.testing.assert_frame_equal(first.trajectories, direct, check_exact=True)
    pd.testing.assert_frame_equal(again.trajectories, direct, check_exact=True)


def test_the_states_leaves_are_stacked_once_for_every_strategy() -> None:
    """The states compiled once serve every strategy, and so do their stacked leaves: a
    second strategy reuses the repeated arrays (read-only), which equal a fresh stacking."""
    sc = load_scenario("us-iran-2001")
    states = sample_states(sc, 3, seed=4)
    values = stacked._state_values(states)
    stacked._compiled_states.clear()
    stacked._stacked_leaves.clear()
    first = [stacked.stack_leaves(x, 5)
             for x in stacked._compiled(sc, "containment", values, states)]
    second = [stacked.stack_leaves(x, 5)
              for x in stacked._compiled(sc, "moderate-engagement", values, states)]
    assert second[1].gp_f is first[1].gp_f and second[0].focal.effects is first[0].focal.effects
    assert first[1].gp_f.shape[0] == 15 and not first[1].gp_f.flags.writeable
    stacked._stacked_leaves.clear()
    fresh = stacked.stack_leaves(stacked._compiled(sc, "moderate-engagement", values, states)[1], 5)
    assert fresh.gp_f is not first[1].gp_f
    np.testing.assert_array_equal(fresh.gp_f, first[1].gp_f)
