"""Evaluate observations' expressions on simulated worlds (docs/history.md).

:func:`observe` runs a scenario under a strategy for a state (``values``) with the engine's
per-step record of instruments in force and issue levels, and returns, per world, the value
of each observation's expression at its date, or over its window (a condition: true at some
step of the window; a value: its mean over the window's steps). Pure: the same arguments
give the same numbers, whatever the chunk size.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
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
    obs = _observations(scenario, observations)
    if not obs:
        raise InputError.single(f"scenario {scenario.id}", "there are no observations to evaluate")
    cal = scenario.calendar
    if cal is None:
        raise InputError.single(f"scenario {scenario.id}", "observations need a calendar")
    trees = [_tree(scenario, ob) for ob in obs]
    kinds: list[Kind] = [
        "binary" if is_condition(tr, BINARY_METRICS, BINARY_FUNCTIONS) else "value" for tr in trees
    ]
    spans = [(cal.step_of(ob.first), cal.step_of(ob.last)) for ob in obs]
    parts: list[NDArray[np.float64]] = []
    checked = False
    for system, _, res in iter_chunks(
        scenario, strategy, worlds, seed, values=values, chunk=chunk, record_state=True
    ):
        if not checked:
            for ob, tr in zip(obs, trees, strict=True):
                _check_simulated(system, ob, tr)
            checked = True
        parts.append(
            np.stack(
                [
                    _values_in_chunk(system, res, ob, tr, kd, a, b)
                    for ob, tr, kd, (a, b) in zip(obs, trees, kinds, spans, strict=True)
                ],
                axis=1,
            )
        )
    return xr.Dataset(
        {"value": (("world", "observation"), np.concatenate(parts))},
        coords={
            "world": np.arange(worlds),
            "observation": [ob.id for ob in obs],
            "kind": ("observation", kinds),
            "first_step": ("observation", [a for a, _ in spans]),
            "last_step": ("observation", [b for _, b in spans]),
        },
        attrs={"scenario": scenario.id, "strategy": strategy, "seed": seed},
    )


__all__ = ["observation_kind", "observe"]
