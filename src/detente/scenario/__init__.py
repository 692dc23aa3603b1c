"""Scenarios: the validated model of a system, its loaders and its uncertainties."""

from __future__ import annotations

from pathlib import Path

from detente.errors import InputError, did_you_mean
from detente.scenario.builtins import builtin_names, builtin_path
from detente.scenario.numbers import Number, Provenance, Uncertain, nominal, span
from detente.scenario.schema import Scenario, issue_positions, reference_problems
from detente.scenario.table import ActorTable
from detente.scenario.uncertainty import UncertainParameter, resolve, uncertainties
from detente.scenario.yaml_loader import load_scenario_file


def scenario_source(name_or_path: str | Path) -> Path:
    """Resolve a built-in scenario name or a file path to a path, or raise InputError."""
    text = str(name_or_path)
    builtin = builtin_path(text)
    if builtin is not None:
        return builtin
    path = Path(text)
    if path.exists():
        return path
    names = builtin_names()
    raise InputError.single(
        text,
        f"no such file or built-in scenario{did_you_mean(text, names)}; "
        f"built-ins: {', '.join(names) or 'none'}",
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a scenario by built-in name (``us-iran-2001``) or path, validated."""
    return load_scenario_file(scenario_source(name_or_path))


__all__ = [
    "ActorTable",
    "InputError",
    "Number",
    "Provenance",
    "Scenario",
    "Uncertain",
    "UncertainParameter",
    "builtin_names",
    "issue_positions",
    "load_scenario",
    "nominal",
    "reference_problems",
    "resolve",
    "scenario_source",
    "span",
    "uncertainties",
]
