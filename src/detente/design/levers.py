"""Levers: the strategy parameters ``detente design`` may choose, and their ranges.

A scenario declares them in its ``levers:`` section (docs/scenario-format.md, section 11e),
one entry per strategy; ``--lever PARAM=LOW:HIGH`` (``LOW:HIGH:int`` for whole numbers,
``A,B,C`` for choices) adds or replaces one on the command line. Every lever must be a
parameter of the strategy's registered class that takes a number, and every value of its
range must be one the class accepts (checked by building the strategy at the range's ends
and at each choice).

The search works in the unit cube: :meth:`Lever.decode` maps a coordinate in ``[0, 1]``
to the lever's value (a range linearly; whole numbers and choices in equal slices, so each
is as likely under the initial design).
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from detente.errors import InputError, InputProblem, did_you_mean
from detente.scenario.numbers import Uncertain
from detente.scenario.schema import DesignedStrategy, LeverRange, Scenario
from detente.sim.strategies import get_strategy

FloatArray = NDArray[np.float64]
CANDIDATE = "candidate"
"""The designed-strategy id under which the search moves its candidates."""


@dataclass(frozen=True)
class Lever:
    """One free parameter: a range (``integer`` for whole numbers) or a list of choices."""

    param: str
    low: float
    high: float
    integer: bool = False
    choices: tuple[float, ...] = ()

    def decode(self, u: FloatArray) -> FloatArray:
        """Values for unit coordinates ``u`` (clipped to ``[0, 1]``)."""
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        if self.choices:
            idx = np.minimum((u * len(self.choices)).astype(np.int64), len(self.choices) - 1)
            return np.asarray(self.choices, dtype=np.float64)[idx]
        if self.integer:
            n = int(self.high - self.low) + 1
            return self.low + np.minimum(np.floor(u * n), n - 1)
        return self.low + u * (self.high - self.low)

    @property
    def values(self) -> tuple[float, ...]:
        """The values that must be accepted: the range's ends or every choice."""
        return self.choices or (self.low, self.high)

    def text(self) -> str:
        """``0.05-0.3``, ``0-8 (whole)``, ``1 | 2 | 3``."""
        if self.choices:
            return " | ".join(f"{c:g}" for c in self.choices)
        return f"{self.low:g}-{self.high:g}" + (" (whole)" if self.integer else "")


def from_range(param: str, r: LeverRange) -> Lever:
    """A :class:`Lever` from the scenario's (validated) ``LeverRange``."""
    if r.choices is not None:
        return Lever(param, min(r.choices), max(r.choices), False, tuple(dict.fromkeys(r.choices)))
    assert r.low is not None and r.high is not None  # the schema checks it
    return Lever(param, float(r.low), float(r.high), r.integer)


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_CLI = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$")


def parse_lever(text: str) -> Lever:
    """A ``--lever`` option: ``PARAM=LOW:HIGH``, ``PARAM=LOW:HIGH:int`` or ``PARAM=A,B,C``.

    Raises
    ------
    InputError
        One line naming the option when the text has another form.
    """
    m = _CLI.match(text)
    form = "expected PARAM=LOW:HIGH, PARAM=LOW:HIGH:int or PARAM=A,B,C"
    if m is None:
        raise InputError.single(f"--lever {text!r}", form)
    param, spec = m.group(1), m.group(2)
    parts = [p.strip() for p in spec.split(":")]
    try:
        if len(parts) == 1:
            choices = [float(c) for c in parts[0].split(",")]
            if not all(re.fullmatch(_NUMBER, c.strip()) for c in parts[0].split(",")):
                raise ValueError
            return from_range(param, LeverRange(choices=choices))
        if len(parts) in (2, 3) and all(re.fullmatch(_NUMBER, p) for p in parts[:2]):
            if len(parts) == 3 and parts[2] not in ("int", "integer"):
                raise ValueError
            r = LeverRange(low=float(parts[0]), high=float(parts[1]), integer=len(parts) == 3)
            return from_range(param, r)
    except ValidationError as exc:
        detail = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise InputError.single(f"--lever {text!r}", detail) from None
    except ValueError:
        raise InputError.single(f"--lever {text!r}", form) from None
    raise InputError.single(f"--lever {text!r}", form)


def strategy_kind(scenario: Scenario, strategy: str) -> str:
    """The registered kind a strategy id (or kind) plays."""
    from detente.sim.system import resolve_strategy

    return resolve_strategy(scenario, strategy)[1]


def lever_problems(
    scenario: Scenario, strategy: str, levers: Sequence[Lever], where: Sequence[str]
) -> list[InputProblem]:
    """What is wrong with ``levers`` for ``strategy`` (``where``: each lever's field path or
    option, for the messages); empty when they are fine."""
    kind = strategy_kind(scenario, strategy)
    cls = type(get_strategy(kind))
    sig = inspect.signature(cls.__init__)
    names = [p for p in sig.parameters if p != "self"]
    problems: list[InputProblem] = []
    for lever, place in zip(levers, where, strict=True):
        src, path = (place, None) if place.startswith("--") else (f"scenario {scenario.id}", place)
        if lever.param not in names:
            problems.append(InputProblem(
                src, f"strategy kind {kind!r} has no parameter {lever.param!r}"
                f"{did_you_mean(lever.param, names)}; its parameters: {', '.join(names) or 'none'}",
                path=path))
            continue
        for value in lever.values:
            try:
                cls(**{lever.param: int(value) if lever.integer else value})
            except (InputError, TypeError, ValueError) as exc:
                text = exc.problems[0].message if isinstance(exc, InputError) else str(exc)
                problems.append(InputProblem(
                    src, f"{lever.param} = {value:g} is not a value strategy kind {kind!r} "
                    f"accepts: {text}", path=path))
                break
    return problems


def find_levers(
    scenario: Scenario, strategy: str, cli: Sequence[str] = ()
) -> list[Lever]:
    """The levers of ``strategy``: the scenario's ``levers`` entry for it (by id, or by
    kind), then each ``--lever`` (replacing a scenario lever of the same parameter).

    Raises
    ------
    InputError
        No lever anywhere, a malformed ``--lever``, a parameter the strategy's class lacks
        or a value it refuses, a ``ceiling`` lever on a strategy whose ceiling comes from its
        ``after_reciprocation`` steps when that list... (see docs/experiments.md).
    """
    kind = strategy_kind(scenario, strategy)
    chosen: dict[str, tuple[Lever, str]] = {}
    for i, entry in enumerate(scenario.levers):
        if entry.strategy not in (strategy, kind):
            continue
        for param, r in entry.params.items():
            chosen[param] = (from_range(param, r), f"levers[{i}].params.{param}")
    for text in cli:
        lever = parse_lever(text)
        chosen[lever.param] = (lever, f"--lever {text}")
    if not chosen:
        raise InputError.single(
            "<command line>",
            f"no levers for strategy {strategy!r}: declare its free parameters in the "
            "scenario's 'levers:' section or give --lever PARAM=LOW:HIGH",
        )
    levers = [lv for lv, _ in chosen.values()]
    problems = lever_problems(scenario, strategy, levers, [w for _, w in chosen.values()])
    if problems:
        raise InputError(problems)
    return levers


def designed_entry(
    strategy: str, levers: Sequence[Lever], values: Sequence[float] | None = None,
    id_: str = CANDIDATE, description: str = "",
) -> DesignedStrategy:
    """A ``designed:`` entry of ``strategy``: the levers fixed to ``values``, or (no values)
    open over their ranges, so a state's values for ``designed[<id>].params.<param>`` move
    them (how the search runs many candidates in one stacked engine run)."""
    params: dict[str, float | Uncertain] = {}
    for i, lever in enumerate(levers):
        if values is not None:
            params[lever.param] = float(values[i])
        else:
            params[lever.param] = Uncertain(low=lever.low, high=lever.high)
    return DesignedStrategy(id=id_, strategy=strategy, params=params, description=description)


def lever_column(param: str, id_: str = CANDIDATE) -> str:
    """The value name of a candidate's lever (``designed[candidate].params.step``)."""
    return f"designed[{id_}].params.{param}"


def with_designed(scenario: Scenario, entries: Sequence[DesignedStrategy]) -> Scenario:
    """The scenario with these designed strategies added (an existing id is replaced)."""
    ids = {e.id for e in entries}
    kept = [d for d in scenario.designed if d.id not in ids]
    return scenario.model_copy(update={"designed": [*kept, *entries]})


def finite(values: Sequence[float]) -> bool:
    """Whether every value is a finite number."""
    return all(math.isfinite(v) for v in values)


__all__ = [
    "CANDIDATE",
    "Lever",
    "designed_entry",
    "find_levers",
    "from_range",
    "lever_column",
    "lever_problems",
    "parse_lever",
    "with_designed",
]
