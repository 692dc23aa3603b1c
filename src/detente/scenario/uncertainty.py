"""Find every uncertain number of a scenario and fix them to chosen values.

Experiments call :func:`uncertainties` to learn what to sample (each number with a range
becomes one named uncertainty, e.g. ``actors[supreme-leader].clout``) and :func:`resolve` to
build one state of the world: a scenario whose numbers are all plain floats.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from detente.errors import InputError, InputProblem, did_you_mean
from detente.scenario.numbers import Distribution, Uncertain
from detente.scenario.schema import Loc, Scenario


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


def uncertainties(scenario: Scenario, *, history: bool = False) -> list[UncertainParameter]:
    """The scenario's uncertainties: every number given with a range or a spread.

    Parameters
    ----------
    scenario : Scenario
    history : bool
        Also list the numbers of the ``history`` section (the effects of dated events).
        They act only in a replay of history (a script), so experiments that compare the
        scenario's strategies leave them out: sampled there, they would be inert.
    """
    params = []
    for loc, name, u in uncertain_numbers(scenario):
        if not u.is_range or (not history and name.startswith(HISTORY_PREFIX)):
            continue
        low, high = u.bounds()
        dist = u.distribution
        assert dist is not None
        params.append(
            UncertainParameter(
                name=name,
                loc=loc,
                low=low,
                high=high,
                nominal=u.nominal,
                distribution=dist,
                mode=u.mode,
                mean=u.mean,
                sd=u.sd,
                provenance=u.provenance_text,
            )
        )
    return params


def _set(tree: Any, loc: Loc, value: float) -> None:
    for key in loc[:-1]:
        tree = tree[key]
    tree[loc[-1]] = value


def resolve(scenario: Scenario, values: Mapping[str, float] | None = None) -> Scenario:
    """A copy of the scenario with every uncertain number fixed.

    Parameters
    ----------
    scenario : Scenario
    values : mapping of uncertainty name to value, optional
        Values for some uncertainties; all others take their nominal value.

    Raises
    ------
    InputError
        When a name is not an uncertainty of the scenario.
    """
    values = dict(values or {})
    numbers = uncertain_numbers(scenario)
    names = {name for _, name, _ in numbers}
    unknown = [k for k in values if k not in names]
    if unknown:
        raise InputError(
            [
                InputProblem("<values>", f"unknown uncertainty {k!r}{did_you_mean(k, names)}")
                for k in unknown
            ]
        )
    tree = scenario.model_dump(mode="python")
    for loc, name, u in numbers:
        _set(tree, loc, float(values.get(name, u.nominal)))
    return Scenario.model_validate(tree)
