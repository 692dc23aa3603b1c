"""Checks that a valid scenario can also *do* something when simulated.

The schema (:mod:`detente.scenario.schema`) accepts any well-formed scenario; a scenario can
still be inert in the simulation engine: a strategy whose cooperation levels never reach a
step of its country's ladder, a step every veto player blocks, an issue role the engine needs
but nobody gave, a metric the engine does not report for this case. Each check here is a pure
function of the scenario returning :class:`~detente.errors.InputProblem` *warnings* (same
one-line form as errors: file, field path, what was found and what to do); ``detente
validate`` prints them as ``warning: ...`` and still exits 0.

The engine-level checks compile the scenario at its nominal values
(:func:`detente.sim.system.compile_system`) and read the same arrays the engine reads: the
instrument ladder (:func:`detente.sim.engine.ladder`), the veto and approval tolerances and
the executive exemption. They judge the *status quo*: positions that move during a run
(the internal side's, a legislature's after an election) can open a step later, which is
why only the focal strategies are checked for vetoes, not the internal side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from detente.errors import InputError, InputProblem, did_you_mean
from detente.metrics import REGISTRY, metric, need_text
from detente.scenario.numbers import Uncertain, nominal
from detente.scenario.schema import Scenario, StrategySpec
from detente.sim.api import summarize
from detente.sim.domestic_bargain import veto_loss
from detente.sim.engine import ladder
from detente.sim.internal import KIND as INTERNAL_KIND
from detente.sim.strategies import get_strategy
from detente.sim.system import (
    System,
    compile_system,
    issue_roles,
    resolve_strategy,
)

FloatArray = NDArray[np.float64]

#: A strategy kind's parameters (low, high) -> the (lowest, highest) level it can play.
LevelRange = Callable[[Mapping[str, tuple[float, float]]], tuple[float, float]]


def _engagement(p: Mapping[str, tuple[float, float]]) -> tuple[float, float]:
    # it opens at ``initial`` (default: ``step``) and climbs to ``max_level``
    return min(p["initial"][0], p["step"][0], p["max_level"][0]), p["max_level"][1]


#: Levels each policy strategy can reach, from its parameters' bounds; the reactive classics
#: (tit for tat, grim, ...) follow the other side and may play any level in [0, 1].
LEVEL_RANGES: dict[str, LevelRange] = {
    # it tightens below its baseline after a provocation, adds its exception after cooperation
    "containment": lambda p: (
        p["baseline"][0] - p["tighten"][1],
        p["baseline"][1] + p["exception"][1],
    ),
    "moderate-engagement": _engagement,
    "dismantle-sanctions": lambda p: (
        min(p["level"][0], p["fallback"][0]),
        max(p["level"][1], p["fallback"][1]),
    ),
    "cooperator": lambda p: (1.0, 1.0),
    "defector": lambda p: (0.0, 0.0),
}


def _bounds(x: float | Uncertain) -> tuple[float, float]:
    if isinstance(x, Uncertain) and x.is_range:
        lo, hi = x.bounds()
        return float(lo), float(hi)
    v = float(nominal(x))
    return v, v


def level_range(spec: StrategySpec) -> tuple[float, float]:
    """The lowest and highest cooperation level ``spec`` can ever play (over its ranges).

    Unknown or reactive kinds give ``(0, 1)``: nothing can be ruled out for them.
    """
    try:
        probe = get_strategy(spec.kind)
    except InputError:
        return 0.0, 1.0
    rule = LEVEL_RANGES.get(type(probe).strategy_id())
    if rule is None:
        return 0.0, 1.0
    params = {k: _bounds(v) for k, v in probe.params().items() if v is not None}
    params.update({k: _bounds(v) for k, v in spec.params.items()})
    lo, hi = rule(params)
    return float(np.clip(lo, 0.0, 1.0)), float(np.clip(hi, 0.0, 1.0))


def role_warnings(s: Scenario, source: str) -> list[InputProblem]:
    """The issue roles the simulation needs (``sanctions``, ``dialogue``) that no issue has."""
    try:
        issue_roles(s)
    except InputError as exc:
        return [InputProblem(source, p.message, path=p.path) for p in exc.problems]
    return []


#: Every registry metric id (declared metrics outside it can never be reported).
REGISTRY_IDS = frozenset(m.id for m in REGISTRY)


def metric_warnings(s: Scenario, source: str, produced: list[str]) -> list[InputProblem]:
    """Declared ``metrics`` the engine does not report for this scenario (never compared).

    Each warning says why, from the registry (:mod:`detente.metrics`): the role the metric
    needs and the scenario lacks, or that no metric of that id exists at all (a declared
    outcome no scenario can get, such as a flagship issue with no role behind it).
    """
    out = []
    for m in s.metrics:
        if m.id in produced:
            continue
        if m.id in REGISTRY_IDS:
            need = need_text(metric(m.id))
            why = f" (it needs {need})" if need else ""
        else:
            why = (
                " (no metric of the registry, detente.metrics, has that id: the engine "
                "reports no issue without a role)"
            )
        out.append(
            InputProblem(
                source,
                f"the simulation does not report {m.id!r} for this scenario{why}"
                f"{did_you_mean(m.id, produced)}, so it is never compared",
                path=f"metrics[{m.id}]",
            )
        )
    return out


def _consent_blocks(system: System, k: int) -> list[str]:
    """Who blocks the focal side's instrument ``k`` at the status quo, one phrase each."""
    side, p = system.focal, system.params
    sq = system.status_quo
    d = np.clip(sq + side.effects[k], system.low, system.high) - sq
    touched = side.effects[k] != 0
    exempt = side.subordinate.copy()
    if side.executive >= 0:
        exempt[side.executive] = True

    def loss(x: FloatArray, on: NDArray[np.bool_]) -> float:
        on = on & ~np.isnan(x)
        return float(veto_loss(sq[on], d[on], x[on]).sum())

    out = []
    for v in range(side.veto_holder.size):
        h = int(side.veto_holder[v])
        on = side.veto_issues[v] & touched
        if on.any() and not exempt[h]:
            lost, tol = loss(side.position[h], on), float(side.veto_tol[v])
            if lost > tol + 1e-9:
                out.append(f"{side.actors[h]}'s veto (loses {lost:.3g} > tolerance {tol:.3g})")
    for a in np.flatnonzero(side.approvals[k] & ~exempt):
        lost, tol = loss(side.position[a], touched), float(side.approval_tol[a])
        if lost > tol + 1e-9:
            out.append(f"{side.actors[a]}'s approval (loses {lost:.3g} > tolerance {tol:.3g})")
    for e in np.flatnonzero(side.ext_approvals[k]) if side.ext_approvals.size else []:
        lost, tol = loss(side.ext_position[e], touched), p.approval_tolerance
        if lost > tol + 1e-9:
            out.append(
                f"{side.ext_actors[e]}'s approval (loses {lost:.3g} > tolerance {tol:.3g})"
            )
    return out


def strategy_warnings(s: Scenario, source: str, spec: StrategySpec) -> list[InputProblem]:
    """Why the focal strategy ``spec`` could never take a step, if it could not.

    Three causes, checked in order: no instrument it may use; no step of its country's
    ladder within the levels it can play (:func:`level_range`); every step it can reach
    blocked at the status quo by a veto player or an approval holder.
    """
    path = f"strategies[{spec.id}]"
    try:
        system = compile_system(s, spec.id)
    except InputError as exc:
        return [InputProblem(source, p.message, path=path) for p in exc.problems]
    side = system.focal
    menu = (
        system.focal_menu
        if system.focal_menu is not None
        else np.ones(side.n_instruments, dtype=bool)
    )
    if not menu.any():
        return [
            InputProblem(
                source,
                f"strategy {spec.id!r} can never act: {side.country} owns no instrument "
                "it could use (add instruments with this owner, or fix its 'instruments' list)",
                path=path,
            )
        ]
    lo, hi = level_range(spec)
    nl = system.params.neutral_level
    reach = (ladder(side, np.array([lo, hi]), nl).any(axis=0)) & menu
    if not reach.any():
        conc = np.flatnonzero(menu & np.isfinite(side.conc_rank))
        host = np.flatnonzero(menu & np.isfinite(side.host_rank))
        needs = []
        if conc.size:
            k = conc[np.argmin(side.conc_rank[conc])]
            need = nl + (1 - nl) * side.conc_rank[k]
            needs.append(f"its first conciliatory step ({side.instruments[k]}) needs {need:.2f}")
        if host.size:
            k = host[np.argmin(side.host_rank[host])]
            need = nl - nl * side.host_rank[k]
            needs.append(f"its first hostile step ({side.instruments[k]}) needs {need:.2f} or less")
        return [
            InputProblem(
                source,
                f"strategy {spec.id!r} never takes a step: it plays cooperation levels "
                f"{lo:.2f}-{hi:.2f} (neutral {nl:g}) but "
                + (" and ".join(needs) or f"{side.country} has no step with a gesture")
                + " (add a smaller step, or widen the strategy's levels)",
                path=path,
            )
        ]
    blocks = {int(k): _consent_blocks(system, int(k)) for k in np.flatnonzero(reach)}
    if all(blocks.values()):
        why = "; ".join(f"{side.instruments[k]} by {', '.join(b)}" for k, b in blocks.items())
        hint = ""
        if side.executive < 0:
            hint = (
                f"; {side.country} has no institution with 'role: presidency' or "
                "'role: leader', whose holder proposes the strategy's steps and does not "
                "veto its own proposals"
            )
        return [
            InputProblem(
                source,
                f"strategy {spec.id!r} can never act: every step it can reach is blocked at "
                f"the status quo: {why}{hint}",
                path=path,
            )
        ]
    return []


def ally_warnings(s: Scenario, source: str) -> list[InputProblem]:
    """Allies (``ally_of``) that take no position on their principal's policy issues (the
    ``role: sanctions`` issue and those with ``policy_of`` it): they add no friction."""
    out = []
    for i, a in enumerate(s.actors):
        if a.ally_of is None:
            continue
        policy = [x.id for x in s.issues if x.role == "sanctions" or x.policy_of == a.ally_of]
        if not any(k in a.positions for k in policy):
            out.append(InputProblem(
                source,
                f"actor {a.id!r} is an ally of {a.ally_of!r} but takes no position on its "
                f"policy issues ({', '.join(policy) or 'none'}), so it adds no friction; give "
                "it positions there or a 'policy_of' to the issues it judges",
                path=f"actors[{i}].ally_of",
            ))
    return out


def scenario_warnings(s: Scenario, source: str) -> list[InputProblem]:
    """Every warning for a valid scenario: roles, strategies, metrics (system scenarios only)."""
    if s.kind != "system" or s.calendar is None:
        return []
    out = role_warnings(s, source)
    if out:
        return out  # nothing below can be compiled without the roles
    out += ally_warnings(s, source)
    focal = [sp for sp in s.strategies if sp.kind != INTERNAL_KIND]
    for spec in focal:
        out += strategy_warnings(s, source, spec)
    if focal and not any(w.path == f"strategies[{focal[0].id}]" for w in out):
        produced = list(summarize(s, focal[0].id, 1))
        out += metric_warnings(s, source, produced)
    return out


def check_scripts(scenario: Scenario, source: str) -> None:
    """Refuse a history script whose hand-over (``then``) the engine does not know.

    The schema cannot see the engine's strategy registry, so ``validate`` asks the engine;
    each problem names ``source`` (the file) and the script's field path.
    """
    scripts = scenario.history.scripts if scenario.history is not None else []
    problems: list[InputProblem] = []
    for script in scripts:
        try:
            resolve_strategy(scenario, script.id)
        except InputError as exc:
            problems.extend(replace(p, source=source) for p in exc.problems)
    if problems:
        raise InputError(problems)


__all__ = [
    "LEVEL_RANGES",
    "ally_warnings",
    "check_scripts",
    "level_range",
    "metric_warnings",
    "role_warnings",
    "scenario_warnings",
    "strategy_warnings",
]
