"""Split an experiment into chunks of (state, strategy, worlds) and evaluate them.

A chunk is the unit of storage and resumption: its per-world results are written together
with its done marker. Chunks are evaluated in *tasks*: with a model of the per-state protocol
(:class:`Model`, e.g. a ``$DETENTE_MODEL``), a task is one state's chunks, one model call per
chunk (:func:`group_tasks`, :func:`run_task`); with detente's own engine, a task is a group of
states x one strategy x one world range, evaluated in one stacked engine run
(:func:`group_stacked_tasks`, :func:`run_stacked_task`; :mod:`detente.sim.stacked`). Both give
the same numbers for every chunk. On a cluster, tasks are cut finer (``min_tasks``: down to
one chunk, i.e. one state x strategy x world range, per task) so that every worker has work;
there a task may write its rows to a shard file instead of sending them back
(:func:`shard_task`, :mod:`detente.store.shards`).

Seeds never depend on the chunking: every cell (state, strategy) of an experiment draws its
worlds from the engine's block streams under the seed :func:`state_seed` ``(run seed,
state)``; a chunk covering worlds ``[a, a + n)`` of that cell (``a`` a multiple of
:data:`detente.sim.rng.BLOCK`) asks the engine for exactly those worlds.

All strategies of a state share its seed (*common random numbers*): they meet the same
shocks and noise draws wherever the model lets them, which makes the differences between
strategies -- and so regret -- far less noisy than independent streams, and keeps a
strategy's numbers unchanged when other strategies are added to or dropped from a run.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from detente.errors import InputError
from detente.scenario import Scenario
from detente.sim.rng import BLOCK
from detente.store import shards
from detente.store.duckdb import ChunkResult

FloatArray = NDArray[np.float64]


class Model(Protocol):
    """The engine protocol experiments run: per-world outcome summaries of one strategy.

    ``(scenario, strategy, worlds, seed, start_world, *, values) -> {metric: array[worlds]}``,
    with ``start_world`` a multiple of :data:`~detente.sim.rng.BLOCK`; the same
    ``(seed, world)`` must give the same outcome whatever ``start_world``/``worlds`` window
    contains it. The model receives the scenario *as written* and the state's ``values`` and
    resolves them itself (:func:`detente.scenario.resolve`): resolving happens in one place,
    the model's entry, because a resolved copy no longer knows which numbers were ranges (the
    engine reads the shape of a delay's distribution from its range).
    """

    def __call__(
        self,
        scenario: Scenario,
        strategy: str,
        worlds: int,
        seed: int,
        start_world: int,
        *,
        values: Mapping[str, float] | None = None,
    ) -> Mapping[str, FloatArray]: ...


@dataclass(frozen=True, order=True)
class Chunk:
    """Worlds ``[world_start, world_start + world_count)`` of one strategy in one state."""

    state: int
    strategy: str
    world_start: int
    world_count: int

    @property
    def key(self) -> tuple[int, str, int]:
        """``(state, strategy, world_start)``, as stored in the ``chunks`` table."""
        return self.state, self.strategy, self.world_start


@dataclass(frozen=True)
class Task:
    """Chunks of one state, evaluated together (the engine resolves the state's scenario once
    and shares it between the chunks and strategies)."""

    state: int
    values: Mapping[str, float]
    chunks: tuple[Chunk, ...]

    @property
    def worlds(self) -> int:
        """Worlds simulated by the task (for progress rates)."""
        return sum(c.world_count for c in self.chunks)


def state_seed(seed: int, state: int) -> int:
    """The engine seed of a state's worlds: a 63-bit hash of ``(run seed, state)``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(state),))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def plan_chunks(
    n_states: int, strategies: Sequence[str], worlds: int, chunk_worlds: int = 4 * BLOCK
) -> list[Chunk]:
    """Every chunk of an experiment, ordered by state then strategy then worlds.

    Parameters
    ----------
    n_states : int
    strategies : sequence of str
    worlds : int
        Worlds per (state, strategy) cell.
    chunk_worlds : int
        Largest chunk, a positive multiple of ``BLOCK`` (so chunks start on block bounds).
    """
    if worlds < 1:
        raise ValueError(f"worlds must be at least 1, got {worlds}")
    if chunk_worlds < BLOCK or chunk_worlds % BLOCK:
        raise ValueError(f"chunk_worlds must be a positive multiple of {BLOCK}, got {chunk_worlds}")
    return [
        Chunk(state, strategy, start, min(chunk_worlds, worlds - start))
        for state in range(n_states)
        for strategy in strategies
        for start in range(0, worlds, chunk_worlds)
    ]


def group_tasks(
    chunks: Sequence[Chunk], states: Sequence[Mapping[str, float]], min_tasks: int = 1
) -> list[Task]:
    """Group chunks by state into tasks, keeping the chunks' order.

    With ``min_tasks`` more than the states, each state's chunks are split into about
    ``min_tasks / states`` tasks of consecutive chunks (at most one chunk each), so a
    cluster gets enough tasks; the numbers do not change.
    """
    by_state: dict[int, list[Chunk]] = {}
    for c in chunks:
        by_state.setdefault(c.state, []).append(c)
    parts = -(-max(min_tasks, 1) // max(len(by_state), 1))
    tasks: list[Task] = []
    for s, cs in by_state.items():
        for part in _split(len(cs), parts):
            tasks.append(Task(s, dict(states[s]), tuple(cs[part])))
    return tasks


def _split(n: int, parts: int) -> list[slice]:
    """``range(n)`` in ``min(parts, n)`` consecutive slices whose sizes differ by at most 1."""
    parts = max(1, min(parts, n))
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def run_task(task: Task, *, model: Model, scenario: Scenario, seed: int) -> list[ChunkResult]:
    """Evaluate a task's chunks: each chunk runs the model on the scenario and the state's values.

    Raises
    ------
    ValueError
        When the model returns arrays of the wrong length.
    """
    wseed = state_seed(seed, task.state)
    out: list[ChunkResult] = []
    for c in task.chunks:
        t0 = time.perf_counter()
        raw = model(
            scenario, c.strategy, c.world_count, wseed, c.world_start, values=task.values
        )
        outcomes = {str(k): np.asarray(v, dtype=float).reshape(-1) for k, v in raw.items()}
        for k, v in outcomes.items():
            if v.shape != (c.world_count,):
                raise ValueError(
                    f"model returned {v.shape[0]} values of {k!r} for {c.world_count} worlds"
                )
        out.append(
            ChunkResult(
                c.state,
                c.strategy,
                c.world_start,
                c.world_count,
                outcomes,
                time.perf_counter() - t0,
            )
        )
    return out


@dataclass(frozen=True)
class StackedTask:
    """One strategy's chunk ``[world_start, world_start + world_count)`` in a group of states,
    evaluated in one stacked engine run (:func:`run_stacked_task`)."""

    strategy: str
    world_start: int
    world_count: int
    states: tuple[int, ...]
    values: tuple[Mapping[str, float], ...]
    traced: tuple[int, ...] = ()
    """States of the task whose first ``traced_worlds`` worlds come back per step too."""
    traced_worlds: int = 0

    @property
    def worlds(self) -> int:
        """Worlds simulated by the task (for progress rates)."""
        return self.world_count * len(self.states)


#: Most states in one stacked task: bounds the compiled systems a task holds (each state's
#: arrays and engine plans: about 50 KB for the flagship, so 3 MB a task) whatever the worlds
#: per chunk.
MAX_STATES_PER_TASK = 64


def states_per_task(world_count: int) -> int:
    """How many states a stacked task of ``world_count`` worlds per state takes.

    As many as fill one engine run (:data:`~detente.sim.stacked.MAX_ROWS` rows: the engine's
    arrays stay the size of one large chunk), at most :data:`MAX_STATES_PER_TASK`.
    """
    from detente.sim.stacked import MAX_ROWS

    return max(1, min(MAX_STATES_PER_TASK, MAX_ROWS // max(world_count, 1)))


def group_stacked_tasks(
    chunks: Sequence[Chunk],
    states: Sequence[Mapping[str, float]],
    trace: tuple[int, int] | None = None,
    min_tasks: int = 1,
) -> list[StackedTask]:
    """Group chunks of the same strategy and world range into stacked tasks.

    Each (strategy, world range) is split into as few groups as :func:`states_per_task`
    allows -- or more, when that gives fewer than ``min_tasks`` tasks in all (down to one
    state a task: a cluster's workers all get work, at the price of smaller engine runs) --
    their sizes differing by at most one (so Dask workers get tasks of similar cost); tasks
    come in the order of their first chunk. With ``trace = (n_states,
    n_worlds)``, the tasks of the first world range hand back the metrics per step of
    worlds ``[0, n_worlds)`` of states ``0 .. n_states - 1`` (:func:`run_stacked_task`).
    """
    by_range: dict[tuple[str, int, int], list[int]] = {}
    for c in chunks:
        by_range.setdefault((c.strategy, c.world_start, c.world_count), []).append(c.state)
    tasks: list[StackedTask] = []
    per_range = -(-max(min_tasks, 1) // max(len(by_range), 1))
    for (strategy, start, count), members in by_range.items():
        n_groups = min(len(members), max(-(-len(members) // states_per_task(count)), per_range))
        for part in np.array_split(np.asarray(members), n_groups):
            group = tuple(int(s) for s in part)
            traced = (
                tuple(s for s in group if s < trace[0])
                if trace is not None and start == 0
                else ()
            )
            tasks.append(
                StackedTask(strategy, start, count, group, tuple(dict(states[s]) for s in group),
                            traced, min(trace[1], count) if traced and trace else 0)
            )
    return tasks


def run_stacked_task(task: StackedTask, *, scenario: Scenario, seed: int) -> list[ChunkResult]:
    """Evaluate a stacked task: one engine run for all its states, one result per chunk.

    Each state draws from :func:`state_seed` as in :func:`run_task`, so every chunk's numbers
    are those of the per-state call of :func:`detente.sim.summarize`.
    """
    from detente.sim.stacked import summaries_and_steps

    t0 = time.perf_counter()
    summaries, (dates, steps) = summaries_and_steps(
        scenario,
        task.strategy,
        pd.DataFrame(list(task.values)),
        task.world_count,
        [state_seed(seed, s) for s in task.states],
        start_world=task.world_start,
        traced=[task.states.index(s) for s in task.traced],
        traced_worlds=task.traced_worlds,
    )
    traces = dict(zip(task.traced, steps, strict=True))
    seconds = (time.perf_counter() - t0) / len(task.states)
    return [
        ChunkResult(s, task.strategy, task.world_start, task.world_count, outcomes, seconds,
                    (dates, traces[s]) if s in traces else None)
        for s, outcomes in zip(task.states, summaries, strict=True)
    ]


def is_default_engine(model: Model) -> bool:
    """True when ``model`` is detente's own engine, which experiments run stacked."""
    try:
        from detente.sim.api import summarize
    except ImportError:
        return False
    return model is summarize


TaskFn = Callable[..., list[ChunkResult]]


def task_keys(task: Task | StackedTask) -> list[tuple[int, str, int]]:
    """The chunk keys ``(state, strategy, world_start)`` a task computes."""
    if isinstance(task, StackedTask):
        return [(s, task.strategy, task.world_start) for s in task.states]
    return [c.key for c in task.chunks]


def shard_task(
    task: Task | StackedTask,
    *,
    task_fn: TaskFn,
    shard_dir: str,
    token: str,
    **shared: object,
) -> list[ChunkResult]:
    """Run ``task_fn(task, **shared)`` and write its rows to a shard instead of returning them.

    The shard's name comes from the task's chunks, so a retried task whose first attempt
    wrote it returns it without computing again. Returns the task's chunks with empty
    ``outcomes`` and their ``shard``; their rows themselves when this process does not see
    the client's shard folder (``token``) or cannot write there -- the numbers are the
    same either way (:mod:`detente.store.shards`).
    """
    folder = Path(shard_dir)
    if not shards.sees(folder, token):
        return task_fn(task, **shared)
    path = folder / shards.shard_name(task_keys(task))
    if path.exists():
        held = shards.read_chunks(path)
        if held is not None and {c[:3] for c in held} == set(task_keys(task)):
            return [ChunkResult(a, b, c, d, {}, e, shard=str(path)) for a, b, c, d, e in held]
    results = task_fn(task, **shared)
    try:
        shards.write(
            path,
            [(r.state, r.strategy, r.world_start, r.world_count, r.seconds) for r in results],
            [dict(r.outcomes) for r in results],
        )
    except (InputError, OSError):
        return results
    return [replace(r, outcomes={}, shard=str(path)) for r in results]
