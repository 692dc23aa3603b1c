"""Find every uncertain number of a scenario and fix them to chosen values.

Experiments call :func:`uncertainties` to learn what to sample (each number with a range
becomes one named uncertainty, e.g. ``actors[supreme-leader].clout``) and :func:`resolve` to
build one state of the world: a scenario whose numbers are all plain floats.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel

from detente.errors import InputError, InputProblem, did_you_mean
from detente.scenario.memo import ScenarioMemo
from detente.scenario.numbers import Distribution, Uncertain
from detente.scenario.patterns import name_pattern
from detente.scenario.schema import Loc, Scenario
from detente.scenario.together import (
    SHIFT_HIGH,
    SHIFT_LOW,
    SHIFT_NOMINAL,
    Group,
    groups,
    member_value,
)


@dataclass(frozen=True)
class UncertainParameter:
    """One sampled dimension of an experiment (an EMA-Workbench-style *uncertainty*)."""

    name: str
    loc: Loc
    low: float
    high: float
    nominal: float
    distribution: Distribution
    mode: float | None
    mean: float | None
    sd: float | None
    provenance: str
    members: tuple[str, ...] = ()
    """For a group of numbers sampled together: their names (the group's value is a shift,
    :mod:`detente.scenario.together`); empty for a single number."""


def _label(parts: list[str]) -> str:
    out = ""
    for p in parts:
        out += p if p.startswith("[") or not out else "." + p
    return out


def _walk(obj: Any, loc: Loc, label: list[str]) -> Iterator[tuple[Loc, str, Uncertain]]:
    if isinstance(obj, Uncertain):
        yield loc, _label(label), obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _walk(getattr(obj, name), (*loc, name), [*label, name])
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            key = getattr(item, "id", None)
            yield from _walk(item, (*loc, i), [*label, f"[{key if key is not None else i}]"])
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _walk(value, (*loc, key), [*label, str(key)])


def uncertain_numbers(scenario: Scenario) -> list[tuple[Loc, str, Uncertain]]:
    """Every :class:`Uncertain` number in the scenario with its location and label."""
    return list(_walk(scenario, (), []))


HISTORY_PREFIX = "history."
"""Names of the numbers of a scenario's ``history`` section (its dated events)."""


@dataclass(frozen=True)
class _Rules:
    """The scenario's ``not_sampled`` patterns as one regular expression, an alternative (a
    named group) per pattern in file order: the first pattern matching a whole name wins,
    in one match instead of one per pattern (names x patterns matches took half the time
    of parsing the flagship)."""

    pattern: re.Pattern[str]
    reasons: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.reasons)


def _not_sampled_rules(scenario: Scenario) -> _Rules:
    """The scenario's ``not_sampled`` patterns, compiled, each with its reason."""
    rules = [(name_pattern(p), e.reason) for e in scenario.not_sampled for p in e.inputs]
    return _Rules(
        re.compile("|".join(f"(?P<r{k}>{rx.pattern})" for k, (rx, _) in enumerate(rules))),
        tuple(reason for _, reason in rules),
    )


def _reason(rules: _Rules, name: str) -> str | None:
    """Why ``name`` is not sampled (the first rule matching it), or None."""
    if not rules:
        return None
    match = rules.pattern.fullmatch(name)
    return rules.reasons[int(match.lastgroup[1:])] if match and match.lastgroup else None


def not_sampled(scenario: Scenario) -> dict[str, str]:
    """Uncertain numbers the scenario's ``not_sampled`` leaves at nominal, with the reason."""
    rules = _not_sampled_rules(scenario)
    if not rules:
        return {}
    found = ((name, _reason(rules, name)) for _, name, u in uncertain_numbers(scenario)
             if u.is_range)
    return {name: reason for name, reason in found if reason is not None}


def groupable_numbers(
    scenario: Scenario, numbers: list[tuple[Loc, str, Uncertain]] | None = None
) -> list[tuple[Loc, str, Uncertain]]:
    """The numbers ``sample_together`` may group: ranges, sampled (not ``not_sampled``),
    outside the ``history`` section; among ``numbers`` when the caller has walked the
    scenario already (:func:`uncertain_numbers`)."""
    rules = _not_sampled_rules(scenario)
    return [
        (loc, name, u)
        for loc, name, u in (uncertain_numbers(scenario) if numbers is None else numbers)
        if u.is_range and not name.startswith(HISTORY_PREFIX)
        and not (rules and _reason(rules, name) is not None)
    ]


def sample_groups(scenario: Scenario) -> list[Group]:
    """The scenario's groups of numbers sampled together (:mod:`detente.scenario.together`)."""
    if not scenario.sample_together:
        return []
    return groups(scenario, groupable_numbers(scenario))[0]


def _parameter(name: str, loc: Loc, u: Uncertain) -> UncertainParameter:
    low, high = u.bounds()
    dist = u.distribution
    if dist is None:  # is_range guarantees a distribution
        raise ValueError(f"{name}: a range without a distribution")
    return UncertainParameter(
        name=name, loc=loc, low=low, high=high, nominal=u.nominal, distribution=dist,
        mode=u.mode, mean=u.mean, sd=u.sd, provenance=u.provenance_text,
    )


def _group_parameter(scenario: Scenario, group: Group) -> UncertainParameter:
    entry = scenario.sample_together[group.entry]
    return UncertainParameter(
        name=group.name, loc=(), low=SHIFT_LOW, high=SHIFT_HIGH, nominal=SHIFT_NOMINAL,
        distribution="triangular", mode=SHIFT_NOMINAL, mean=None, sd=None,
        provenance=f"{entry.provenance_text}; sampled together: {entry.reason}",
        members=tuple(m.name for m in group.members),
    )


def uncertainties(scenario: Scenario, *, history: bool = False) -> list[UncertainParameter]:
    """The scenario's uncertainties: every number given with a range or a spread.

    Parameters
    ----------
    scenario : Scenario
    history : bool
        Also list the numbers of the ``history`` section (the effects of dated events).
        They act only in a replay of history (a script), so experiments that compare the
        scenario's strategies leave them out: sampled there, they would be inert.

    Numbers the scenario's ``not_sampled`` names (:func:`not_sampled`) are left out too:
    no mechanism reads them, and they keep their nominal value in every state. Numbers a
    ``sample_together`` entry groups are one uncertainty per group (its shift,
    :mod:`detente.scenario.together`), listed where its first member would be.
    Memoised per scenario (a walk of the flagship takes 0.03 s, and a run asks several
    times); each call returns a new list.
    """
    return list(_uncertainties.get(scenario, history, lambda: _uncertainties_of(scenario, history)))


def _uncertainties_of(scenario: Scenario, history: bool) -> tuple[UncertainParameter, ...]:
    params = []
    rules = _not_sampled_rules(scenario)
    numbers = uncertain_numbers(scenario)
    found, group_of = (
        groups(scenario, groupable_numbers(scenario, numbers))
        if scenario.sample_together else ([], {})
    )
    by_name = {g.name: g for g in found}
    listed: set[str] = set()
    for loc, name, u in numbers:
        if not u.is_range or (not history and name.startswith(HISTORY_PREFIX)):
            continue
        if rules and _reason(rules, name) is not None:
            continue
        group = group_of.get(name)
        if group is None:
            params.append(_parameter(name, loc, u))
        elif group not in listed:
            listed.add(group)
            params.append(_group_parameter(scenario, by_name[group]))
    return tuple(params)


@dataclass(frozen=True)
class _Leaf:
    """One uncertain number in :class:`_ResolvePlan`'s tree: its name and nominal value."""

    name: str
    nominal: float


_Tree = dict[Any, "_Tree | _Leaf"]


@dataclass(frozen=True)
class _ResolvePlan:
    """Where a scenario's uncertain numbers are: a tree of the locations that lead to one."""

    names: frozenset[str]
    tree: _Tree
    groups: dict[str, Group]
    """Groups sampled together, by name: a value for one sets its members."""


def _plan_of(scenario: Scenario) -> _ResolvePlan:
    tree: _Tree = {}
    names = set()
    for loc, name, u in uncertain_numbers(scenario):
        node = tree
        for key in loc[:-1]:
            node = cast(_Tree, node.setdefault(key, {}))
        node[loc[-1]] = _Leaf(name, u.nominal)
        names.add(name)
    by_name = {g.name: g for g in sample_groups(scenario)}
    return _ResolvePlan(frozenset(names | set(by_name)), tree, by_name)


_plans: ScenarioMemo[_ResolvePlan] = ScenarioMemo()
_uncertainties: ScenarioMemo[tuple[UncertainParameter, ...]] = ScenarioMemo()


def _plan(scenario: Scenario) -> _ResolvePlan:
    """The scenario's :class:`_ResolvePlan`, memoised."""
    return _plans.get(scenario, None, lambda: _plan_of(scenario))


def _rebuild(obj: Any, tree: _Tree, values: Mapping[str, float]) -> Any:
    """A copy of ``obj`` with the numbers under ``tree`` fixed; what no number is under is
    shared with ``obj`` (models are frozen, and nothing downstream mutates a container)."""
    changed = {
        key: float(values.get(sub.name, sub.nominal)) if isinstance(sub, _Leaf)
        else _rebuild(_child(obj, key), sub, values)
        for key, sub in tree.items()
    }
    if isinstance(obj, BaseModel):
        return obj.model_copy(update=changed)
    if isinstance(obj, list):
        out = list(obj)
        for i, v in changed.items():
            out[i] = v
        return out
    return {**obj, **changed}


def _child(obj: Any, key: Any) -> Any:
    return getattr(obj, key) if isinstance(obj, BaseModel) else obj[key]


def resolve(scenario: Scenario, values: Mapping[str, float] | None = None) -> Scenario:
    """A copy of the scenario with every uncertain number fixed.

    The copy is built by replacing the uncertain numbers in place of a full pydantic round
    trip (dump and validate): the only field type that changes is an uncertain number becoming
    a float, which :data:`~detente.scenario.numbers.Number` accepts without further checks
    (other than being a finite number, checked here), so the result equals the validated copy
    (``tests/test_stacked_runner.py``) at a tenth of the cost -- the round trip was most of
    compiling a sampled state.

    Parameters
    ----------
    scenario : Scenario
    values : mapping of uncertainty name to value, optional
        Values for some uncertainties; all others take their nominal value. A group's
        value (its shift) sets each of its members (:func:`member_value`) unless the
        member is given a value of its own.

    Raises
    ------
    InputError
        When a name is not an uncertainty of the scenario, or a value is not a finite number.
    """
    values = dict(values or {})
    plan = _plan(scenario)
    problems = [
        InputProblem("<values>", f"unknown uncertainty {k!r}{did_you_mean(k, plan.names)}")
        for k in values
        if k not in plan.names
    ]
    problems += [
        InputProblem("<values>", f"{k}: expected a finite number, got {v!r}")
        for k, v in values.items()
        if k in plan.names and not _finite(v)
    ]
    if problems:
        raise InputError(problems)
    for name in [k for k in values if k in plan.groups]:
        shift = float(values.pop(name))
        for member in plan.groups[name].members:
            values.setdefault(member.name, member_value(member, shift))
    return cast(Scenario, _rebuild(scenario, plan.tree, values))


def _finite(value: object) -> bool:
    if isinstance(value, bool):  # as the schema: a boolean is not a number
        return False
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
