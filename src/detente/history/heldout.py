"""Read a held-out observation file: ``scenario: ID`` and ``observations: [...]``.

Held-out observations (those a hindcast forecasts, docs/history.md) live apart from the
scenario so that nothing fitted to the scenario can read them. The file gets the scenario
loader's protections and one line per problem (file:line:column: field path: what was
expected), with the same checks as the scenario's own observations.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError

from detente.errors import InputError
from detente.scenario.numbers import Strict
from detente.scenario.schema import (
    Identifier,
    Loc,
    Observation,
    Scenario,
    observation_problems,
)
from detente.scenario.yaml_loader import _problem, parse_yaml, read_text, validation_problems


class HeldOutFile(Strict):
    """The held-out file: the scenario it belongs to and its observations."""

    scenario: Identifier
    observations: list[Observation] = Field(min_length=1)


def load_observations(path: str | Path, scenario: Scenario) -> list[Observation]:
    """The observations of a held-out file, validated against ``scenario``.

    Raises
    ------
    InputError
        One problem per line: unreadable file, schema errors, a file for another scenario,
        ids that repeat the scenario's observations, and every check of
        :func:`~detente.scenario.schema.observation_problems`.
    """
    src = str(path)
    data, node = parse_yaml(read_text(Path(path)), src)
    if not isinstance(data, dict):
        raise InputError([_problem(src, node, (), "expected a mapping with 'scenario' and "
                                   "'observations' at the top level")])
    try:
        held = HeldOutFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, data, node, src)) from None
    problems: list[tuple[Loc, str]] = []
    if held.scenario != scenario.id:
        problems.append((("scenario",), f"the file is for scenario {held.scenario!r}, "
                         f"not {scenario.id!r}"))
    own = {ob.id for ob in scenario.history.observations} if scenario.history else set()
    for i, ob in enumerate(held.observations):
        if ob.id in own:
            problems.append((("observations", i, "id"), f"id {ob.id!r} is already an "
                             "observation of the scenario; held-out ids must be new"))
    problems += observation_problems(scenario, held.observations, ("observations",))
    if problems:
        raise InputError([_problem(src, node, loc, msg) for loc, msg in problems])
    return list(held.observations)


__all__ = ["HeldOutFile", "load_observations"]
