"""Evaluate observations' expressions on simulated worlds (docs/history.md).

:func:`observe` runs a scenario under a strategy for a state (``values``) with the engine's
per-step record of instruments in force and issue levels, and returns, per world, the value
of each observation's expression at its date, or over its window (a condition: true at some
step of the window; a value: its mean over the window's steps). Pure: the same arguments
give the same numbers, whatever the chunk size. :func:`observe_states` does the same for many
states in one stacked engine run (:mod:`detente.sim.stacked`), with the same numbers.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from detente.errors import InputError
from detente.experiments.outcome_expr import (
    call_key,
    called,
    check_expression,
    evaluate_values,
    is_condition,
)
from detente.scenario.schema import (
    BINARY_FUNCTIONS,
    BINARY_METRICS,
    OBSERVATION_FUNCTIONS,
    SIMULATED_METRICS,
    Observation,
    Scenario,
)
from detente.sim.api import CHUNK, iter_chunks
from detente.sim.engine import ChunkResult, reported_metrics
from detente.sim.stacked import run_states
from detente.sim.system import System

Kind = Literal["binary", "value"]


def _functions(scenario: Scenario) -> dict[str, list[str]]:
    ids = {
        "instruments": [i.id for i in scenario.instruments],
        "issues": [i.id for i in scenario.issues],
    }
    return {fn: ids[what] for fn, what in OBSERVATION_FUNCTIONS.items()}


def _tree(scenario: Scenario, ob: Observation) -> ast.Expression:
    return check_expression(ob.expression, SIMULATED_METRICS, _functions(scenario), "expression")


def observation_kind(scenario: Scenario, ob: Observation) -> Kind:
    """``"binary"`` for a condition, ``"value"`` otherwise (the observed value's kind)."""
    tree = _tree(scenario, ob)
    return "binary" if is_condition(tree, BINARY_METRICS, BINARY_FUNCTIONS) else "value"


def _observations(
    scenario: Scenario, observations: Sequence[Observation] | None
) -> list[Observation]:
    if observations is not None:
        return list(observations)
    return list(scenario.history.observations) if scenario.history is not None else []


def _check_simulated(system: System, ob: Observation, tree: ast.Expression) -> None:
    """One line per term the engine does not simulate for this scenario."""
    src = f"observation {ob.id!r}"
    reported = reported_metrics(system)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in SIMULATED_METRICS and node.id not in reported:
            problems.append(
                f"metric {node.id!r} is not simulated for this scenario (it needs an issue or "
                "institution role the scenario does not give); simulated: " + ", ".join(reported)
            )
    simulated = {*system.focal.instruments, *system.internal.instruments}
    for fn, arg in called(tree):
        if OBSERVATION_FUNCTIONS.get(fn) == "instruments" and arg not in simulated:
            problems.append(
                f"{fn}({arg!r}): the instrument belongs to neither principal, and the engine "
                "simulates only the principals' instruments"
            )
    if problems:
        raise InputError.single(src, "; ".join(problems))


def _values_in_chunk(
    system: System, res: ChunkResult, ob: Observation, tree: ast.Expression, kind: Kind,
    first: int, last: int,
) -> NDArray[np.float64]:
    """The observation's value per world of one chunk (binary as 0/1)."""
    assert res.in_force is not None and res.levels is not None
    instruments = [*system.focal.instruments, *system.internal.instruments]
    calls = called(tree)
    since = first if ob.window is not None else 0  # taken(): within the window, else ever
    prev = np.concatenate([np.zeros_like(res.in_force[:, :1]), res.in_force[:, :-1]], axis=1)
    started = res.in_force & ~prev
    per_step = []
    for t in range(first, last + 1):
        cols: dict[str, NDArray[np.float64]] = {
            m: res.metrics[m][:, t].astype(np.float64) for m in reported_metrics(system)
        }
        for fn, arg in calls:
            col: NDArray[Any]
            if fn == "level":
                col = res.levels[:, t, system.issues.index(arg)]
            elif fn == "in_force":
                col = res.in_force[:, t, instruments.index(arg)]
            else:  # taken
                col = started[:, since : t + 1, instruments.index(arg)].any(axis=1)
            cols[call_key(fn, arg)] = np.asarray(col, dtype=np.float64)
        v = evaluate_values(ob.expression, cols, _functions_for(calls), "expression")
        per_step.append(v > 0.5 if kind == "binary" and v.dtype != bool else v)
    stacked = np.stack(per_step, axis=1)
    if kind == "binary":
        return np.asarray(stacked.any(axis=1), dtype=np.float64)
    return np.asarray(stacked.astype(np.float64).mean(axis=1), dtype=np.float64)


def _functions_for(calls: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for fn, arg in calls:
        out.setdefault(fn, []).append(arg)
    return out


class _Plan:
    """The observations of one evaluation: parsed, classified, and their steps."""

    def __init__(self, scenario: Scenario, observations: Sequence[Observation] | None) -> None:
        obs = _observations(scenario, observations)
        if not obs:
            raise InputError.single(
                f"scenario {scenario.id}", "there are no observations to evaluate"
            )
        cal = scenario.calendar
        if cal is None:
            raise InputError.single(f"scenario {scenario.id}", "observations need a calendar")
        self.obs = obs
        self.trees = [_tree(scenario, ob) for ob in obs]
        self.kinds: list[Kind] = [
            "binary" if is_condition(tr, BINARY_METRICS, BINARY_FUNCTIONS) else "value"
            for tr in self.trees
        ]
        self.spans = [(cal.step_of(ob.first), cal.step_of(ob.last)) for ob in obs]

    @property
    def last_step(self) -> int:
        """The last step any observation reads."""
        return max(b for _, b in self.spans)

    def check(self, system: System) -> None:
        """One line per term the engine does not simulate for this scenario."""
        for ob, tr in zip(self.obs, self.trees, strict=True):
            _check_simulated(system, ob, tr)

    def values(self, system: System, res: ChunkResult) -> NDArray[np.float64]:
        """Each observation's value per world of ``res`` (``[n, O]``)."""
        return np.stack(
            [
                _values_in_chunk(system, res, ob, tr, kd, a, b)
                for ob, tr, kd, (a, b) in zip(self.obs, self.trees, self.kinds, self.spans,
                                              strict=True)
            ],
            axis=1,
        )

    def coords(self) -> dict[str, Any]:
        """The observation coordinates of a result."""
        return {
            "observation": [ob.id for ob in self.obs],
            "kind": ("observation", self.kinds),
            "first_step": ("observation", [a for a, _ in self.spans]),
            "last_step": ("observation", [b for _, b in self.spans]),
        }


def observe(
    scenario: Scenario,
    strategy: str,
    worlds: int,
    seed: int = 0,
    *,
    values: Mapping[str, float] | None = None,
    observations: Sequence[Observation] | None = None,
    chunk: int = CHUNK,
) -> xr.Dataset:
    """The value of each observation's expression in each simulated world.

    Parameters
    ----------
    scenario : Scenario
        A system scenario (its scripts and events are run by the engine).
    strategy : str
        Any strategy id ``simulate`` accepts; for history, usually a script id.
    worlds, seed : int
    values : mapping, optional
        The state: values of some of the scenario's uncertainties.
    observations : sequence of Observation, optional
        Default: the scenario's own ``history.observations``; pass a held-out file's
        (:func:`~detente.history.load_observations`) to forecast those.
    chunk : int
        Worlds per chunk; does not change the numbers.

    Returns
    -------
    xarray.Dataset
        ``value`` (world x observation, float64; conditions as 0/1) with coordinates
        ``observation`` (ids), ``kind`` ("binary"/"value"), ``first_step`` and ``last_step``.

    Raises
    ------
    InputError
        No observations; a term the engine does not simulate for this scenario; anything
        ``simulate`` refuses.
    """
    plan = _Plan(scenario, observations)
    parts: list[NDArray[np.float64]] = []
    checked = False
    for system, _, res in iter_chunks(
        scenario, strategy, worlds, seed, values=values, chunk=chunk, record_state=True
    ):
        if not checked:
            plan.check(system)
            checked = True
        parts.append(plan.values(system, res))
    return xr.Dataset(
        {"value": (("world", "observation"), np.concatenate(parts))},
        coords={"world": np.arange(worlds), **plan.coords()},
        attrs={"scenario": scenario.id, "strategy": strategy, "seed": seed},
    )


def observe_states(
    scenario: Scenario,
    strategy: str,
    states: pd.DataFrame,
    worlds: int,
    seeds: Sequence[int],
    observations: Sequence[Observation] | None = None,
) -> xr.Dataset:
    """:func:`observe` for many states at once, in one stacked engine run.

    The engine (:func:`~detente.sim.stacked.run_states`) stops after the last step any
    observation reads; the numbers are those of :func:`observe` for each state
    (``observe(scenario, strategy, worlds, seeds[s], values=row)``).

    Parameters
    ----------
    states : DataFrame
        One row per state (as from :func:`~detente.experiments.sampling.sample_states`).
    seeds : sequence of int
        One seed per state.

    Returns
    -------
    xarray.Dataset
        ``value`` (state x world x observation) with the coordinates of :func:`observe` and
        ``state`` (the frame's index) and ``seed`` along ``state``.

    Raises
    ------
    InputError
        As :func:`observe`; one seed per state is needed.
    """
    plan = _Plan(scenario, observations)
    system, res = run_states(
        scenario, strategy, states, worlds, seeds, record_state=True,
        horizon=plan.last_step + 1,
    )
    plan.check(system)
    value = plan.values(system, res).reshape(len(states), worlds, len(plan.obs))
    return xr.Dataset(
        {"value": (("state", "world", "observation"), value)},
        coords={
            "state": np.asarray(states.index),
            "seed": ("state", [int(s) for s in seeds]),
            "world": np.arange(worlds),
            **plan.coords(),
        },
        attrs={"scenario": scenario.id, "strategy": strategy},
    )


__all__ = ["observation_kind", "observe", "observe_states"]
