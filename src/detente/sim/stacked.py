"""Many states of the world in one engine run ("stacked states").

:func:`simulate_states` runs a scenario under one strategy for many sampled states at once:
state ``s`` occupies worlds ``[s * worlds, (s + 1) * worlds)`` of the result and gives
exactly the numbers of ``iter_chunks(scenario, strategy, worlds, seeds[s], values=row)``
(same floating-point operations on the same inputs; ``tests/test_stacked.py`` checks it).
The Python cost of a step (some fifty NumPy calls) is then paid once for all the states
instead of once per state.

How: each state's :class:`~detente.sim.system.System` is compiled as usual, with the
engine's derived quantities (:func:`~detente.sim.engine.chunk_plans`). The states' leaves
are then stacked (:func:`stack_leaves`): a number that differs across states becomes
per world (a leading axis of one row per world, each state's value repeated over its
worlds), a number equal in all states stays shared (the one-state run is unchanged). Only
the leaves in :data:`PER_WORLD` may differ: the engine reads each of them in both forms.
Anything else that differs (the instruments an actor can veto, a gesture changing sign, the
focal strategy's parameters, ...) splits the states into groups of the same structure,
each group stacked and run on its own (:func:`structure_key`, computed only for a batch
whose states do not stack); the numbers never depend on the grouping.

A state is resolved and laid out once for all strategies: the compiled states of the last
:data:`STATE_CACHE` (scenario, values) pairs are kept, and another strategy sets only its
own fields (:func:`_compiled`).

Random numbers: each state's rows draw from its own seed (:class:`~detente.sim.rng.StackedRNG`),
worlds ``0 .. worlds - 1`` of that seed, as a run of the state alone.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from detente.errors import InputError, InputProblem
from detente.scenario import Scenario, nominal
from detente.scenario.memo import Lru
from detente.scenario.uncertainty import resolve
from detente.sim.api import CHUNK, ScenarioLike, as_scenario, build_strategy, chunk_summary
from detente.sim.engine import (
    ChunkResult,
    Layout,
    Plans,
    chunk_plans,
    reported_metrics,
    run_layout,
)
from detente.sim.rng import BLOCK
from detente.sim.strategies import get_strategy
from detente.sim.system import System, compile_system

#: ``(class, field)`` leaves that may differ across the states of one run: every one is read
#: by the engine per world when it carries a leading world axis. ``SimParameters`` fields
#: may all differ (``("SimParameters", "*")``).
PER_WORLD: frozenset[tuple[str, str]] = frozenset(
    {
        ("SimParameters", "*"),
        *(
            ("System", f)
            for f in ("status_quo", "alt_position", "shock_rate", "shock_effects",
                      "shock_clout_focal", "shock_clout_internal", "shock_clout_third",
                      "shock_threat", "shock_settlement", "demand")
        ),
        *(("Environment", f) for f in ("clout", "position", "friction_weight")),
        *(
            ("Side", f)
            for f in ("position", "salience", "clout", "effects", "gesture", "cost",
                      "delay_low", "delay_mode", "delay_high", "order", "conc_rank",
                      "host_rank", "veto_tol", "approval_tol", "ext_position", "discount")
        ),
        ("ElectionPlan", "vetting"),
        ("Side", "reform_backing"),
        ("FocalElections", "hawk_position"),
        ("FocalElections", "engager_position"),
        ("EventPlan", "effects"),
        ("EventPlan", "clout_focal"),
        ("EventPlan", "clout_internal"),
        ("EventPlan", "clout_third"),
        ("EventPlan", "threat"),
        ("EventPlan", "settlement"),
        *(
            ("Plans", f)
            for f in ("f_pos0", "o_pos32", "alt_pos32", "rel_f", "rel_o", "f_multi",
                      "f_multi_sum", "gp_f", "gn_f", "gp_f_sum", "gn_f_sum", "gp_o", "gn_o",
                      "gp_o_sum", "gn_o_sum", "prior_f", "prior_o", "b_o0", "sanc0", "sanc_n0",
                      "shock_menace", "event_menace", "leg_tol")
        ),
        # VotePlan's other fields serve the frozen NumPy engine's vote (as CheckBatch below)
        *(
            ("VotePlan", f)
            for f in ("single_d", "single_w", "pair_d", "multi_w", "sal_k", "sal_kt", "usal_pad",
                      "effects")
        ),
        *(("RatifyPlan", f) for f in ("rel", "tol", "limit", "ext_x")),
        # the frozen NumPy engine's consent plan (benchmarks/frozen_numpy_engine.py), so the
        # engine benchmark stacks its states as before
        *(("CheckBatch", f) for f in ("ext_x", "limit", "tol")),
        ("Check", "tol"),
        ("Check", "position"),
    }
)

#: At most this many rows (states x worlds) per engine run; bigger batches are split.
MAX_ROWS = 16 * BLOCK


Leaves = frozenset[tuple[str, str]]


def strategy_leaves(system: System) -> Leaves:
    """The focal strategy's parameters that may differ across states (``focal_params[p]``
    for each ``p`` of its class's :attr:`~detente.sim.strategies.Strategy.per_world`)."""
    cls = type(get_strategy(system.focal_strategy))
    return frozenset(("System", f"focal_params[{p}]") for p in cls.per_world)


@lru_cache(maxsize=4096)
def _may_differ(owner: str, name: str, extra: Leaves) -> bool:
    field_name = name.split("[", 1)[0]  # a dict's entries count as their field
    return any(
        key in PER_WORLD or key in extra
        for key in ((owner, name), (owner, field_name), (owner, "*"))
    )


def _walk(
    obj: Any, owner: str, name: str, visit: Callable[[Any, bool], Any], extra: Leaves
) -> Any:
    """Rebuild ``obj`` with ``visit(leaf, may_differ)`` applied to every leaf.

    ``obj`` is the list of one value per state; dataclasses, tuples, lists and dicts are
    walked field by field (a dict's entry ``k`` of field ``f`` is named ``f[k]``), anything
    else is a leaf. A leaf may differ if :data:`PER_WORLD` or ``extra`` names it.
    """
    first = obj[0]
    if dataclasses.is_dataclass(first) and not isinstance(first, type):
        kind = type(first).__name__
        out = copy.copy(first)  # set field by field: no __post_init__ checks of scalars
        for f in dataclasses.fields(first):
            value = _walk([getattr(x, f.name) for x in obj], kind, f.name, visit, extra)
            object.__setattr__(out, f.name, value)
        return out
    if isinstance(first, (tuple, list)) and all(len(x) == len(first) for x in obj):
        items = [_walk([x[i] for x in obj], owner, name, visit, extra)
                 for i in range(len(first))]
        return type(first)(items)
    if isinstance(first, dict) and all(x.keys() == first.keys() for x in obj):
        return {k: _walk([x[k] for x in obj], owner, f"{name}[{k}]", visit, extra)
                for k in first}
    return visit(obj, _may_differ(owner, name, extra))


def _same(values: list[Any]) -> bool:
    a = values[0]
    if isinstance(a, np.ndarray):
        return all(
            isinstance(b, np.ndarray) and b.shape == a.shape and b.dtype == a.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
            for b in values[1:]
        )
    return all(type(b) is type(a) and (b == a or (a != a and b != b)) for b in values[1:])


def _stacked_array(values: list[Any]) -> NDArray[Any] | None:
    """``np.stack(values)`` when its rows differ, None when they are all equal (as
    :func:`_same`: same shape and dtype, NaN equal to NaN), in one comparison for all states."""
    a = values[0]
    if not all(
        isinstance(b, np.ndarray) and b.shape == a.shape and b.dtype == a.dtype for b in values
    ):
        raise ValueError("the states differ in their structure; group them first")
    rows = np.stack(values)
    equal = rows == rows[:1]
    if a.dtype.kind in "fc":
        equal |= np.isnan(rows) & np.isnan(rows[:1])
    return None if bool(equal.all()) else rows


def structure_key(system: System, plans: Plans) -> bytes:
    """What must be equal for states to share one run: every leaf not in :data:`PER_WORLD`
    (nor among the focal strategy's per-world parameters, :func:`strategy_leaves`).

    Per-world leaves count by shape and type only.
    """
    parts: list[bytes] = []

    def visit(obj: list[Any], may_differ: bool) -> None:
        (x,) = obj
        if isinstance(x, np.ndarray):
            parts.append(repr((x.shape, x.dtype.str)).encode())
            if not may_differ:
                parts.append(np.ascontiguousarray(x).tobytes())
        else:
            parts.append(repr((type(x).__name__, None if may_differ else x)).encode())

    _walk([(system, plans)], "", "", visit, strategy_leaves(system))
    return b"\x00".join(parts)


STACKED_LEAVES = 512
"""How many stacked leaves :func:`stack_leaves` keeps (the most recently used), by the
identity of the states' values: the states of a run compiled once serve every strategy
(:func:`_compiled`), so their leaves are stacked once, not once per strategy. About
100 MB for a batch of 4,096 rows of the flagship (its repeated parameters)."""

_stacked_leaves: Lru[tuple[tuple[int, ...], int], tuple[list[Any], NDArray[Any] | None]] = (
    Lru(STACKED_LEAVES))


def _stacked_rows(values: list[Any], n_each: int) -> NDArray[Any] | None:
    """:func:`_stacked_array` of ``values`` with each row repeated ``n_each`` times, or None
    when all are equal; kept for the same value objects (read-only, as leaves are)."""

    def compute() -> tuple[list[Any], NDArray[Any] | None]:
        rows = _stacked_array(values)
        if rows is None:
            return values, None
        repeated = np.repeat(rows, n_each, axis=0)
        repeated.flags.writeable = False
        return values, repeated

    return _stacked_leaves.get(
        (tuple(id(v) for v in values), n_each), compute,
        lambda hit: all(a is b for a, b in zip(hit[0], values, strict=True)))[1]


def stack_leaves(objs: Sequence[Any], n_each: int) -> Any:
    """One object whose leaves that differ across ``objs`` carry one row per world.

    ``objs`` are one state's :class:`System` (or :class:`Plans`) each, states laid end to
    end with ``n_each`` worlds each. A leaf equal in all of them is kept as it is. A
    system's focal strategy parameters become per world where its class allows it
    (:func:`strategy_leaves`); the stacked system then builds a strategy of per-world
    parameters (:func:`~detente.sim.api.build_strategy`).

    Raises
    ------
    ValueError
        A leaf outside :data:`PER_WORLD` differs (group by :func:`structure_key` first).
    """

    def visit(values: list[Any], may_differ: bool) -> Any:
        if isinstance(values[0], np.ndarray) and values[0].dtype.kind in "biufc":
            rows = _stacked_rows(values, n_each) if len(values) > 1 else None
            if rows is None:
                return values[0]
            if not may_differ:
                raise ValueError("the states differ in their structure; group them first")
            return rows
        if _same(values):
            return values[0]
        if not may_differ:
            raise ValueError("the states differ in their structure; group them first")
        if isinstance(values[0], np.ndarray):
            return np.repeat(np.stack(values), n_each, axis=0)
        return np.repeat(np.asarray(values, dtype=np.float64), n_each)

    extra = strategy_leaves(objs[0]) if isinstance(objs[0], System) else frozenset()
    return _walk(list(objs), "", "", visit, extra)


def _check(n_states: int, worlds: int, seeds: Sequence[int], start_world: int = 0) -> None:
    problems = []
    if start_world < 0 or start_world % BLOCK:
        problems.append(
            f"start_world must be a non-negative multiple of {BLOCK} (got {start_world})"
        )
    if n_states < 1:
        problems.append("there must be at least one state")
    if worlds < 1:
        problems.append(f"worlds must be >= 1 (got {worlds})")
    if len(seeds) != n_states:
        problems.append(f"one seed per state is needed: {n_states} states, {len(seeds)} seeds")
    if any(int(s) < 0 for s in seeds):
        problems.append("seeds must be >= 0")
    if problems:
        raise InputError([InputProblem("<arguments>", m) for m in problems])


def _state_values(states: pd.DataFrame) -> list[dict[str, float]]:
    names = [str(k) for k in states.columns]
    return [
        dict(zip(names, map(float, row), strict=True))
        for row in states.to_numpy(dtype=np.float64)
    ]


#: How many states' compiles :func:`_compiled` keeps (a flagship state: about 60 KB of
#: arrays and plans besides its resolved scenario, which shares what no number changes).
STATE_CACHE = 128


@dataclasses.dataclass(eq=False)
class _CompiledState:
    """What compiling one state (scenario and values) shares between strategies."""

    scenario: Scenario  # kept alive, so its id is not reused while cached
    resolved: Scenario
    bases: dict[str, System]  # by focal country (compile_system's memo)
    plans: dict[str, Plans]  # engine plans of each base (equal to a strategy's without events)


_compiled_states: OrderedDict[tuple[Any, ...], _CompiledState] = OrderedDict()
_compiled_lock = threading.Lock()


def _compiled(
    sc: Scenario, strategy: str, values: list[dict[str, float]], states: pd.DataFrame
) -> tuple[list[System], list[Plans]]:
    """Each state's compiled system and engine plans under ``strategy``.

    A state compiled before (same scenario object, same uncertainties and values) under any
    strategy is not resolved or laid out again: only the strategy's own fields are set
    (:func:`~detente.sim.system.compile_system`'s ``bases``), and its engine plans are
    reused when the strategy brings no scheduled events (the plans read no other strategy
    field). The results equal fresh compiles leaf by leaf (``tests/test_stacked_runner.py``).
    """
    names = tuple(str(c) for c in states.columns)
    own = [i for i, n in enumerate(names) if n.startswith(DESIGNED_PREFIX)]
    world = [i for i in range(len(names)) if i not in own]
    rows = states.to_numpy(dtype=np.float64)
    world_names = tuple(names[i] for i in world)
    systems: list[System] = []
    plans: list[Plans] = []
    for row, v in zip(rows, values, strict=True):
        # a designed strategy's parameters (``designed[...]``) set only the strategy: the
        # state is compiled once for all of them, as for several strategies
        key = (id(sc), world_names, row[world].tobytes())
        with _compiled_lock:
            entry = _compiled_states.get(key)
            if entry is not None and entry.scenario is sc:
                _compiled_states.move_to_end(key)
            else:
                entry = None
        if entry is None:
            entry = _CompiledState(sc, resolve(sc, {n: v[n] for n in world_names}), {}, {})
        resolved = entry.resolved
        if own:
            resolved = _designed_values(resolved, {names[i]: v[names[i]] for i in own})
        system = compile_system(sc, strategy, v, resolved=resolved, bases=entry.bases)
        country = system.focal.country
        if system.events is not None:
            plan = chunk_plans(system)
        else:
            known = entry.plans.get(country)
            plan = known if known is not None else chunk_plans(system)
            entry.plans[country] = plan
        systems.append(system)
        plans.append(plan)
        with _compiled_lock:
            _compiled_states[key] = entry
            while len(_compiled_states) > STATE_CACHE:
                _compiled_states.popitem(last=False)
    return systems, plans


#: Value names of designed strategies' parameters (:mod:`detente.design`).
DESIGNED_PREFIX = "designed["


def _designed_values(resolved: Scenario, values: dict[str, float]) -> Scenario:
    """``resolved`` with its designed strategies' parameters set from ``values`` (what
    :func:`~detente.scenario.uncertainty.resolve` does to them; nothing else reads them)."""
    entries = []
    for d in resolved.designed:
        prefix = f"designed[{d.id}].params."
        params = {k: float(values.get(prefix + k, nominal(x))) for k, x in d.params.items()}
        entries.append(d.model_copy(update={"params": params}))
    return resolved.model_copy(update={"designed": entries})


def _concat(parts: list[ChunkResult]) -> ChunkResult:
    """The results of consecutive rows as one (state order kept by the caller)."""
    if len(parts) == 1:
        return parts[0]
    res = ChunkResult(
        {m: np.concatenate([r.metrics[m] for r in parts]) for m in parts[0].metrics},
        np.concatenate([r.time_to_reciprocation for r in parts]),
        np.concatenate([r.backlash_events for r in parts]),
        np.concatenate([r.veto_excess for r in parts]),
        np.concatenate([r.active_focal for r in parts]),
        np.concatenate([r.active_internal for r in parts]),
    )
    if parts[0].in_force is not None:
        res.in_force = np.concatenate([r.in_force for r in parts])
        res.levels = np.concatenate([r.levels for r in parts])
    return res


def _stacks(
    systems: list[System], plans: list[Plans], n_each: int
) -> Iterator[tuple[list[int], System, Plans]]:
    """Consecutive states in batches of at most :data:`MAX_ROWS` rows, each batch stacked.

    A batch whose states differ in structure is split into groups of the same structure
    (:func:`structure_key`, computed only then), each stacked on its own.
    """
    per_batch = max(1, MAX_ROWS // n_each)
    for i in range(0, len(systems), per_batch):
        batch = list(range(i, min(len(systems), i + per_batch)))
        try:
            stacked = (
                stack_leaves([systems[s] for s in batch], n_each),
                stack_leaves([plans[s] for s in batch], n_each),
            )
        except ValueError:
            groups: dict[bytes, list[int]] = {}
            for s in batch:
                groups.setdefault(structure_key(systems[s], plans[s]), []).append(s)
            for members in groups.values():
                yield (
                    members,
                    stack_leaves([systems[s] for s in members], n_each),
                    stack_leaves([plans[s] for s in members], n_each),
                )
            continue
        yield batch, *stacked


def run_states(
    scenario: ScenarioLike,
    strategy: str,
    states: pd.DataFrame,
    worlds: int,
    seeds: Sequence[int],
    *,
    record_state: bool = False,
    horizon: int | None = None,
    chunk: int = CHUNK,
    start_world: int = 0,
) -> tuple[System, ChunkResult]:
    """:func:`simulate_states`, with the first state's compiled system (names, dates, roles).

    ``start_world`` (a multiple of ``BLOCK``) is the first world of every state: the rows
    then hold worlds ``[start_world, start_world + worlds)`` of each state's seed.
    """
    sc: Scenario = as_scenario(scenario)
    values = _state_values(states)
    _check(len(values), worlds, seeds, start_world)
    systems, plans = _compiled(sc, strategy, values, states)
    chunk = max(BLOCK, (chunk // BLOCK) * BLOCK)
    # rows of each state, per world range (chunks of whole blocks, as iter_chunks runs them)
    pieces: list[list[ChunkResult]] = [[] for _ in values]
    whole: ChunkResult | None = None  # one run of every state in order: its rows are the result
    for first in range(0, worlds, chunk):
        n_each = min(chunk, worlds - first)
        for batch, system, plan in _stacks(systems, plans, n_each):
            layout = Layout(tuple(int(seeds[s]) for s in batch), start_world + first, n_each)
            res = run_layout(system, plan, build_strategy(system), layout,
                             record_state=record_state, horizon=horizon)
            if n_each == worlds and batch == list(range(len(values))):
                whole = res
                continue
            for j, s in enumerate(batch):
                pieces[s].append(_rows_of(res, slice(j * n_each, (j + 1) * n_each)))
    if whole is not None:
        return systems[0], whole
    return systems[0], _concat([_concat(p) for p in pieces])


def _rows_of(res: ChunkResult, rows: slice) -> ChunkResult:
    out = ChunkResult(
        {m: a[rows] for m, a in res.metrics.items()},
        res.time_to_reciprocation[rows],
        res.backlash_events[rows],
        res.veto_excess[rows],
        res.active_focal[rows],
        res.active_internal[rows],
    )
    if res.in_force is not None and res.levels is not None:
        out.in_force, out.levels = res.in_force[rows], res.levels[rows]
    return out


def simulate_states(
    scenario: ScenarioLike,
    strategy: str,
    states: pd.DataFrame,
    worlds: int,
    seeds: Sequence[int],
    *,
    record_state: bool = False,
    horizon: int | None = None,
) -> ChunkResult:
    """Simulate many states of the world under one strategy in one engine run.

    Parameters
    ----------
    scenario : Scenario or str
    strategy : str
        Any strategy id ``simulate`` accepts (a history script too).
    states : DataFrame
        One row per state, one column per uncertainty (as from
        :func:`~detente.experiments.sampling.sample_states`).
    worlds : int
        Worlds per state.
    seeds : sequence of int
        One seed per state.
    record_state : bool
        Also keep the instruments in force and issue levels per step.
    horizon : int, optional
        Stop stepping after this many steps (the random numbers are those of the full
        horizon, so the steps run give the same numbers); the result covers those steps.

    Returns
    -------
    ChunkResult
        State ``s`` in rows ``[s * worlds, (s + 1) * worlds)``: the same numbers as
        ``iter_chunks(scenario, strategy, worlds, seeds[s], values=row)``.

    Raises
    ------
    InputError
        No state, a seed count that does not match, bad counts, or anything ``simulate``
        refuses.
    """
    return run_states(scenario, strategy, states, worlds, seeds, record_state=record_state,
                      horizon=horizon)[1]


def summarize_states(
    scenario: ScenarioLike,
    strategy: str,
    states: pd.DataFrame,
    worlds: int,
    seeds: Sequence[int],
    *,
    start_world: int = 0,
) -> list[dict[str, NDArray[np.float64]]]:
    """Per-world outcome summaries of many states under one strategy, from one engine run.

    State ``s``'s entry is exactly ``summarize(scenario, strategy, worlds, seeds[s],
    start_world, values=row)`` (every summary is taken row by row, so all states' rows are
    summarised in one pass and each state gets its slice).
    Experiments evaluate their chunks with it (:func:`detente.experiments.chunks.run_stacked_task`).

    Returns
    -------
    list of dict of str to ndarray [worlds]
        One summary per state, in the order of ``states``.
    """
    return summaries_and_steps(scenario, strategy, states, worlds, seeds,
                               start_world=start_world)[0]


def summaries_and_steps(
    scenario: ScenarioLike,
    strategy: str,
    states: pd.DataFrame,
    worlds: int,
    seeds: Sequence[int],
    *,
    start_world: int = 0,
    traced: Sequence[int] = (),
    traced_worlds: int = 0,
) -> tuple[list[dict[str, NDArray[np.float64]]], StepTraces]:
    """:func:`summarize_states`, plus the per-step metrics of some of the states' worlds.

    ``traced`` are positions in ``states``; each gets every reported metric
    (:func:`~detente.sim.engine.reported_metrics`, in that order) per step for its first
    ``traced_worlds`` worlds: the rows a run of those worlds alone would give (fan charts
    of a run, :mod:`detente.experiments.trajectories`, come from them without a second
    simulation).

    Returns
    -------
    (summaries, traces)
        ``traces``: the dates and, per traced state (in the order of ``traced``), a dict of
        metric to float32 array ``[traced_worlds, steps]``.
    """
    system, res = run_states(scenario, strategy, states, worlds, seeds, start_world=start_world)
    # every summary is a reduction over a world's own row, so summarising all rows at once
    # gives each state's numbers exactly
    every = chunk_summary(res, system)
    summaries = [
        {k: v[s * worlds : (s + 1) * worlds] for k, v in every.items()}
        for s in range(len(states))
    ]
    n = min(traced_worlds, worlds)
    steps = [
        {m: res.metrics[m][s * worlds : s * worlds + n].copy() for m in reported_metrics(system)}
        for s in traced
    ]
    return summaries, (tuple(system.dates), steps)


#: The dates of the steps and, per traced state, its metrics per world and step.
StepTraces = tuple[tuple[str, ...], list[dict[str, NDArray[np.float32]]]]


__all__ = [
    "PER_WORLD",
    "run_states",
    "simulate_states",
    "stack_leaves",
    "strategy_leaves",
    "structure_key",
    "summaries_and_steps",
    "summarize_states",
]
