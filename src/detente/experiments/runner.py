"""Run an experiment: plan chunks, evaluate what is missing, store it, show progress.

A run is identified by a hash of everything that determines its numbers -- the scenario's
content, the sampled states, the strategies, worlds per cell, seed, model and code version
-- so rerunning with ``resume=True`` finds the same run and computes only the chunks that
have no done marker. With detente's own engine, the chunks of a group of states under one
strategy are evaluated in one stacked engine run (:mod:`detente.experiments.chunks`), with the
same numbers as one call per chunk. Chunks are written in batches (about once a second),
each batch in one transaction; an interrupted run loses at most the batch in flight, never
half a chunk.

On an evaluator that runs several tasks at once (a Dask cluster: ``slots``), the work is
cut into at least :data:`TASKS_PER_SLOT` tasks per slot, and when the evaluator allows it
(``shards``) the tasks write their rows to Parquet shard files beside the database, which
the client loads with their done markers (:mod:`detente.store.shards`): nothing computed
is lost when a worker or the client dies, and nothing is stored twice.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, cast

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

import detente
from detente.errors import InputError, InputProblem, did_you_mean
from detente.experiments.budget import check_disk, check_plan
from detente.experiments.chunks import (
    Model,
    group_stacked_tasks,
    group_tasks,
    is_default_engine,
    plan_chunks,
    run_stacked_task,
    run_task,
    shard_task,
)
from detente.experiments.executors import Evaluator, InProcessEvaluator
from detente.scenario import Scenario
from detente.sim.rng import BLOCK
from detente.source_digest import source_digest
from detente.store import shards
from detente.store.duckdb import ChunkResult, ResultStore, RunInfo

MODEL_ENV = "DETENTE_MODEL"
DEFAULT_MODEL = "detente.sim:summarize"
#: Tasks per slot of a parallel evaluator (at least): enough that workers finishing early
#: find more work, few enough that each task still stacks many states.
TASKS_PER_SLOT = 4
#: Packages whose source determines the numbers a run produces.
_CODE_PACKAGES = (
    "detente.sim",
    "detente.bargaining",
    "detente.scenario",
    "detente.metrics",
    "detente.experiments.chunks",
)
"""The code a run's numbers come from (its code version, so its run id): the engine, the
bargaining models, the scenario's reading, the outcomes' definitions and the evaluation of
a chunk of worlds into per-world summaries."""


class EngineUnavailableError(RuntimeError):
    """The simulation engine (or the model named by ``$DETENTE_MODEL``) cannot be loaded."""


def load_model(spec: str | None = None) -> tuple[Model, str]:
    """The model to run and its name: ``spec``, ``$DETENTE_MODEL`` or ``detente.sim:summarize``.

    ``spec`` is ``module:function``.
    """
    spec = spec or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
    candidates = [spec] + (["detente.sim.api:summarize"] if spec == DEFAULT_MODEL else [])
    problem: Exception | None = None
    for candidate in candidates:
        module_name, _, func = candidate.partition(":")
        try:
            fn = getattr(importlib.import_module(module_name), func or "summarize")
        except (ImportError, AttributeError) as exc:
            problem = problem or exc
            continue
        # The default engine is named by its public path whichever module provides it.
        return cast(Model, fn), spec if spec == DEFAULT_MODEL else candidate
    raise EngineUnavailableError(f"cannot load the model {spec!r}: {problem}")


def model_name(model: Any) -> str:
    """A stable name for a model function (``module:qualname``)."""
    return f"{getattr(model, '__module__', '?')}:{getattr(model, '__qualname__', repr(model))}"


@lru_cache(maxsize=1)
def code_version() -> str:
    """Package version plus a hash of the source that determines results."""
    return f"{detente.__version__}+{source_digest(_CODE_PACKAGES)}"


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's validated content (formatting and comments do not count)."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


def default_strategies(scenario: Scenario) -> list[str]:
    """The strategies compared by default: every strategy of the countries with options.

    For the flagship that is the three options (containment, moderate engagement,
    dismantling sanctions) and the U.S. reference strategies (tit-for-tat, grim); the
    other side's strategy is part of the system, not a lever.
    """
    countries = {s.country for s in scenario.strategies if s.option}
    if not countries:
        return [s.id for s in scenario.strategies]
    return [s.id for s in scenario.strategies if s.country in countries]


def check_strategies(scenario: Scenario, names: Sequence[str]) -> list[str]:
    """Validate strategy names against the scenario; one problem per unknown name.

    A system scenario accepts what ``simulate`` accepts: its own strategy ids and every
    registered strategy kind (``tit-for-tat``, ``grit``, ...), which then play for the
    country of the scenario's options; other scenarios accept their strategy ids.
    """
    if not names:
        raise InputError.single("<command line>", "the scenario defines no strategies to compare")
    known = [s.id for s in scenario.strategies]
    problems: list[InputProblem] = []
    for name in names:
        if scenario.kind == "system" and scenario.calendar is not None:
            from detente.sim.system import resolve_strategy

            try:
                resolve_strategy(scenario, name)
            except InputError as exc:
                problems.extend(replace(p, source="<command line>") for p in exc.problems)
        elif name not in known:
            problems.append(
                InputProblem(
                    "<command line>",
                    f"unknown strategy {name!r}{did_you_mean(name, known)}; "
                    f"strategies: {', '.join(known) or 'none'}",
                )
            )
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class ExperimentPlan:
    """What to run: states of the world x strategies x worlds.

    Attributes
    ----------
    kind : str
        ``compare``, ``explore``, ``sensitivity`` (recorded with the run).
    scenario : Scenario
    states : DataFrame
        One row per state, one column per uncertainty (values to :func:`resolve`).
    strategies : tuple of str
    worlds : int
        Stochastic worlds per (state, strategy) cell.
    seed : int
    settings : mapping
        Settings stored with the run (sampler, thresholds, ...); informational, except
        ``posterior_sha256`` (the posterior the states were drawn from), which enters the
        run's id.
    """

    kind: str
    scenario: Scenario
    states: pd.DataFrame
    strategies: tuple[str, ...]
    worlds: int
    seed: int
    settings: Mapping[str, Any] = field(default_factory=dict)

    def run_id(self, model: str, version: str) -> str:
        """Hash of everything that determines the run's numbers."""
        h = hashlib.sha256()
        h.update(scenario_hash(self.scenario).encode())
        h.update(json.dumps(list(self.states.columns)).encode())
        h.update(self.states.to_numpy(dtype=float).tobytes())
        head = [self.kind, list(self.strategies), self.worlds, self.seed, model, version]
        if self.settings.get("posterior_sha256"):
            # States drawn from a posterior name it, so the id says which one (a run on the
            # prior keeps the id it always had).
            head.append(str(self.settings["posterior_sha256"]))
        if self.settings.get("analysis"):
            # An analysis of the runs (explore's outcome and PRIM settings) writes files of
            # its own into the run's folder: two analyses are two runs, not one overwritten.
            head.append(self.settings["analysis"])
        h.update(json.dumps(head).encode())
        return f"{self.kind}-{self.scenario.id}-{h.hexdigest()[:16]}"


@dataclass(frozen=True)
class RunResult:
    """A finished run in the store."""

    run_id: str
    store: ResultStore
    computed: int
    reused: int
    seconds: float
    worlds_per_second: float
    traces: Mapping[tuple[str, int], tuple[tuple[str, ...], Mapping[str, Any]]] = field(
        default_factory=dict
    )
    """Per (strategy, state): the dates and metrics per step the run was asked to trace
    (``trace`` of :func:`run_experiment`); only what this call computed."""

    def state_means(self) -> pd.DataFrame:
        """Per (state, strategy) means over worlds."""
        return self.store.state_means(self.run_id)

    def parameters(self) -> pd.DataFrame:
        """The sampled states."""
        return self.store.parameters(self.run_id)


def _progress(console: Console | None, enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chunks"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def _store_as_they_finish(
    finishing: Iterator[list[ChunkResult]],
    store: ResultStore,
    run_id: str,
    bar: Progress,
    task_id: TaskID,
    traces: dict[tuple[str, int], tuple[tuple[str, ...], Mapping[str, Any]]],
    flush_seconds: float,
    on_progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> tuple[int, int]:
    """Store the chunks of tasks as they finish, in a batch about every ``flush_seconds``,
    and the rest when the iteration ends (also on Ctrl-C or a failure); collect their
    traces into ``traces``; call ``on_progress(finished, total)`` after each task's chunks
    (it may raise to stop the run). Returns (chunks stored, worlds received)."""
    pending: list[ChunkResult] = []
    stored = worlds = finished = 0
    started = last = time.monotonic()
    try:
        for results in finishing:
            pending.extend(results)
            traces.update(((r.strategy, r.state), r.steps) for r in results if r.steps is not None)
            worlds += sum(r.world_count for r in results)
            elapsed = max(time.monotonic() - started, 1e-9)
            bar.update(task_id, advance=len(results), rate=f"{worlds / elapsed:,.0f} worlds/s")
            finished += len(results)
            if on_progress is not None:
                on_progress(finished, total)
            if time.monotonic() - last >= flush_seconds:
                stored += store.write_chunks(run_id, pending)
                pending = []
                last = time.monotonic()
    finally:
        close = getattr(finishing, "close", None)
        if close is not None:  # stop the evaluator's tasks now, while it is still open
            close()
        # Keep what finished, also on Ctrl-C.
        stored += store.write_chunks(run_id, pending)
    return stored, worlds


def run_experiment(
    plan: ExperimentPlan,
    store: ResultStore,
    *,
    model: Model | None = None,
    evaluator: Evaluator | None = None,
    resume: bool = False,
    chunk_worlds: int = 4 * BLOCK,
    progress: bool = True,
    console: Console | None = None,
    flush_seconds: float = 1.0,
    description: str | None = None,
    trace: tuple[int, int] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Evaluate every missing chunk of ``plan`` and store the results.

    Parameters
    ----------
    plan : ExperimentPlan
    store : ResultStore
    model : callable, optional
        Engine protocol function (default: :func:`load_model`).
    evaluator : Evaluator, optional
        In-process by default; entered and exited here.
    resume : bool
        Keep the finished chunks of an earlier run with the same id (else start afresh).
    chunk_worlds : int
        Largest chunk of worlds (multiple of ``BLOCK``); does not change the numbers.
    progress : bool
        Show a Rich progress bar (chunks, worlds per second, ETA) on stderr.
    flush_seconds : float
        How often finished chunks are committed.
    trace : (int, int), optional
        ``(n_states, n_worlds)``: also hand back the metrics per step of worlds
        ``[0, n_worlds)`` of states ``0 .. n_states - 1`` under every strategy
        (``RunResult.traces``), from the run's own engine runs; detente's engine only, and
        only for the chunks this call computes.
    on_progress : callable, optional
        ``on_progress(done, total)`` after each batch of finished chunks (of those this
        call computes). An exception it raises stops the run as Ctrl-C does: the chunks
        finished so far are stored first (``--resume`` continues).

    Returns
    -------
    RunResult

    Raises
    ------
    InputError
        When the plan would not fit in memory or its results on the store's disk (checked
        before anything runs), or a cell asks for more than
        :data:`~detente.experiments.budget.MAX_WORLDS` worlds.
    """
    check_plan(len(plan.states), len(plan.strategies), plan.worlds, chunk_worlds)
    check_disk(store.path.parent, len(plan.states), len(plan.strategies), plan.worlds)
    if model is None:
        model, mname = load_model()
    else:
        mname = model_name(model)
    version = code_version()
    run_id = plan.run_id(mname, version)
    info = RunInfo(
        run_id=run_id,
        kind=plan.kind,
        scenario_id=plan.scenario.id,
        scenario_hash=scenario_hash(plan.scenario),
        code_version=version,
        model=mname,
        seed=plan.seed,
        n_states=len(plan.states),
        worlds=plan.worlds,
        strategies=plan.strategies,
        settings={**plan.settings, "chunk_worlds": chunk_worlds},
    )
    t0 = time.perf_counter()
    evaluator = evaluator or InProcessEvaluator()
    # Connect (a cluster checks its workers) before anything is written.
    with evaluator:
        with store.session():
            if resume and store.run_status(run_id) is not None:
                # Resume with the chunking the run started with, so done markers line up.
                stored = store.run_info(run_id)["settings"].get("chunk_worlds")
                if stored:
                    chunk_worlds = int(stored)
                    info = replace(info, settings={**info.settings, "chunk_worlds": chunk_worlds})
            store.start_run(info, plan.states, resume=resume)
        chunks = plan_chunks(len(plan.states), plan.strategies, plan.worlds, chunk_worlds)
        names = [str(c) for c in plan.states.columns]
        records = [dict(zip(names, map(float, row), strict=True)) for row in plan.states.to_numpy()]
        # detente's own engine runs a group of states in one stacked call; any other model keeps
        # the per-state protocol. The numbers of every chunk are the same either way.
        stacked = is_default_engine(model)
        task_fn = run_stacked_task if stacked else run_task
        shared: dict[str, Any] = {"scenario": plan.scenario, "seed": plan.seed}
        if not stacked:
            shared["model"] = model
        folder = shards.shard_folder(store.path, run_id)
        if not resume:
            shards.clear(folder)  # shards of an earlier run of the same id started afresh
        computed = reused = 0
        worlds_done = 0
        traces: dict[tuple[str, int], tuple[tuple[str, ...], Mapping[str, Any]]] = {}
        with _progress(console, progress) as bar:
            slots = int(getattr(evaluator, "slots", 1))
            min_tasks = TASKS_PER_SLOT * slots if slots > 1 else 1
            token = shards.prepare(folder) if getattr(evaluator, "shards", False) else None
            for attempt in range(3):
                # Shards an interrupted client (or an earlier attempt) did not load yet.
                with store.session():
                    loaded = store.load_shards(run_id, folder)
                    done = store.done_chunks(run_id)
                todo = [c for c in chunks if c.key not in done]
                if attempt == 0:
                    reused = len(chunks) - len(todo)  # with the shards of an earlier call
                else:
                    computed += loaded
                if not todo:
                    break
                tasks: list[Any] = (
                    group_stacked_tasks(todo, records, trace, min_tasks) if stacked
                    else group_tasks(todo, records, min_tasks)
                )
                task_id = bar.add_task(
                    description or f"{plan.kind} {plan.scenario.id}",
                    total=len(todo),
                    rate="",
                )
                fn: Any = task_fn
                kwargs = dict(shared)
                if token is not None:
                    fn = shard_task
                    kwargs.update(task_fn=task_fn, shard_dir=str(folder), token=token)
                results = evaluator.imap_unordered(fn, tasks, **kwargs)
                stored, worlds = _store_as_they_finish(
                    results, store, run_id, bar, task_id, traces, flush_seconds,
                    on_progress, len(todo),
                )
                computed += stored
                worlds_done += worlds
    with store.session():
        finished = store.done_chunks(run_id)
        missing = sum(1 for c in chunks if c.key not in finished)
        if missing:
            raise RuntimeError(f"run {run_id}: {missing} chunks still missing after 3 attempts")
        store.finish_run(run_id)
    shards.clear(folder)
    seconds = time.perf_counter() - t0
    return RunResult(
        run_id=run_id,
        store=store,
        computed=computed,
        reused=reused,
        seconds=seconds,
        worlds_per_second=worlds_done / seconds if seconds > 0 else 0.0,
        traces=traces,
    )
