"""Ablations: the comparison rerun with mechanisms switched off or numbers fixed.

An ablation answers "which mechanism decides the ranking?". Each :class:`Variant` fixes
some uncertainties of the scenario in every sampled state (a gain at 0 switches its
mechanism off; a strategy's cap at 1 lifts it). Everything else is shared with the baseline:
the same sampled states (the fixed columns aside) and the same seed per state, hence the same
random numbers in every world (common random numbers). A difference between a variant and the
baseline is then the variant's effect, and its interval comes from the states' paired
differences, not from two independent samples.

Variants come from the scenario (``ablations:``, docs/scenario-format.md) or from the command
line (``--variant "id: name=value, name=value"``). The engine is the stacked one
(:func:`detente.sim.stacked.summarize_states`): one run per strategy and variant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from detente.errors import InputError, InputProblem, did_you_mean
from detente.experiments.chunks import state_seed
from detente.experiments.sampling import sample_states
from detente.scenario import Scenario
from detente.scenario.uncertainty import uncertainties
from detente.sim.stacked import summarize_states

#: z of the two-sided 90% interval of a paired mean difference (normal approximation).
Z90 = 1.6448536269514722
CLI = "<command line>"


@dataclass(frozen=True)
class Variant:
    """A named set of uncertainties fixed to values in every state."""

    id: str
    fix: Mapping[str, float] = field(default_factory=dict)
    description: str = ""


BASELINE = Variant("baseline", {}, "every number sampled from its range")


def scenario_variants(scenario: Scenario) -> list[Variant]:
    """The ablations the scenario declares, in its order."""
    return [
        Variant(a.id, dict(a.fix), a.name or a.description or a.provenance_text)
        for a in scenario.ablations
    ]


def parse_variant(text: str) -> Variant:
    """Parse ``"id: name=value, name=value"`` (the ``--variant`` option).

    Raises
    ------
    InputError
        One line naming what is malformed.
    """
    head, sep, body = text.partition(":")
    vid = head.strip()
    if not sep or not vid or not body.strip():
        raise InputError.single(
            CLI, f"--variant {text!r}: expected 'ID: NAME=VALUE[, NAME=VALUE...]'"
        )
    fix: dict[str, float] = {}
    for part in body.split(","):
        name, eq, value = part.partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not eq or not name or not math.isfinite(number):
            raise InputError.single(
                CLI, f"--variant {vid}: {part.strip()!r} is not NAME=VALUE with a finite number"
            )
        fix[name] = number
    return Variant(vid, fix, ", ".join(f"{k} = {v:g}" for k, v in fix.items()))


def check_variants(scenario: Scenario, variants: Sequence[Variant]) -> None:
    """Every fixed name must be an uncertainty of the scenario; ids must be unique."""
    names = {p.name for p in uncertainties(scenario)}
    problems: list[InputProblem] = []
    seen: set[str] = {BASELINE.id}
    for v in variants:
        if v.id in seen:
            problems.append(InputProblem(CLI, f"variant id {v.id!r} is used twice"))
        seen.add(v.id)
        problems += [
            InputProblem(
                CLI,
                f"variant {v.id}: unknown uncertainty {k!r}{did_you_mean(k, names)}",
            )
            for k in v.fix
            if k not in names
        ]
    if problems:
        raise InputError(problems)


def fixed_states(states: pd.DataFrame, variant: Variant) -> pd.DataFrame:
    """The sampled states with the variant's uncertainties set to its values."""
    out = states.copy()
    for name, value in variant.fix.items():
        out[name] = float(value)
    return out


def state_means(
    scenario: Scenario,
    strategy: str,
    states: pd.DataFrame,
    worlds: int,
    seed: int,
    metric: str,
) -> np.ndarray:
    """Each state's mean of ``metric`` over its worlds (a share of worlds for a 0/1 metric)."""
    seeds = [state_seed(seed, s) for s in range(len(states))]
    summaries = summarize_states(scenario, strategy, states, worlds, seeds)
    return np.array([float(np.mean(s[metric])) for s in summaries])


def ablation_table(
    scenario: Scenario,
    strategies: Sequence[str],
    variants: Sequence[Variant],
    metric: str,
    *,
    states: int = 32,
    worlds: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """The metric's mean per variant and strategy on common states and worlds.

    Parameters
    ----------
    scenario : Scenario
    strategies : sequence of str
        Strategy ids (validated by the caller).
    variants : sequence of Variant
        The baseline (every number sampled) is always the first row; these follow.
    metric : str
        A metric the engine records (its per-world summary, as ``compare`` stores it).
    states, worlds, seed
        Latin-hypercube states shared by every variant, worlds per state, seed.

    Returns
    -------
    DataFrame
        One row per (variant, strategy): ``mean`` over states, ``diff`` from the baseline
        (same strategy) with its 90% interval ``diff_lo``..``diff_hi`` from the paired
        per-state differences, ``fixed`` (what the variant fixes).
    """
    check_variants(scenario, variants)
    sampled = sample_states(scenario, states, "lhs", seed)
    rows: list[dict[str, object]] = []
    base: dict[str, np.ndarray] = {}
    for variant in [BASELINE, *variants]:
        here = fixed_states(sampled, variant)
        for strategy in strategies:
            means = state_means(scenario, strategy, here, worlds, seed, metric)
            if variant is BASELINE:
                base[strategy] = means
            d = means - base[strategy]
            half = Z90 * float(np.std(d, ddof=1)) / math.sqrt(len(d)) if len(d) > 1 else 0.0
            rows.append(
                {
                    "variant": variant.id,
                    "strategy": strategy,
                    "mean": float(np.mean(means)),
                    "diff": float(np.mean(d)),
                    "diff_lo": float(np.mean(d)) - half,
                    "diff_hi": float(np.mean(d)) + half,
                    "fixed": variant.description,
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class AblationResult:
    """What ``detente ablate`` prints: the table, the metric, its direction, the leaders."""

    table: pd.DataFrame
    metric: str
    direction: str
    leaders: pd.Series
    payload: dict[str, object]


def ablate(
    scenario: str | Path,
    *,
    strategies: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    metric: str | None = None,
    states: int = 32,
    worlds: int = 100,
    seed: int = 0,
) -> AblationResult:
    """Load and check everything, then run :func:`ablation_table` (``detente ablate``).

    ``variants`` are ``--variant`` texts; without them the scenario's ``ablations:`` run.
    The strategies default to the scenario's options, the metric to its first ranked one.
    """
    from detente.experiments.analysis import outcome_spec, primary_outcome
    from detente.experiments.jobs import _probe_outcomes, check_counts, check_seed
    from detente.experiments.runner import check_strategies
    from detente.runs.scenario_text import load_scenario_with_text

    check_counts(states=states, worlds=worlds)
    check_seed(seed)
    sc, _ = load_scenario_with_text(scenario)
    chosen = list(variants or [])
    parsed = [parse_variant(t) for t in chosen] if chosen else scenario_variants(sc)
    if not parsed:
        raise InputError.single(
            CLI, f"scenario {sc.id!r} declares no ablations; give one with --variant"
        )
    options = [s.id for s in sc.strategies if s.option] or [s.id for s in sc.strategies]
    names = check_strategies(sc, list(strategies) if strategies else options)
    produced = _probe_outcomes(sc, names[0])
    spec = outcome_spec(sc, produced)
    target = metric or primary_outcome(spec)
    if target is None:
        raise InputError.single(CLI, "the scenario ranks no metric; give one with --metric")
    if target not in produced:
        raise InputError.single(
            CLI,
            f"unknown metric {target!r}{did_you_mean(target, produced)}; "
            f"the engine records: {', '.join(produced)}",
        )
    table = ablation_table(sc, names, parsed, target, states=states, worlds=worlds, seed=seed)
    direction = spec.directions.get(target, "info")
    lead = leaders(table, direction)
    payload: dict[str, object] = {
        "scenario": sc.id,
        "metric": target,
        "direction": direction,
        "states": states,
        "worlds": worlds,
        "seed": seed,
        "rows": table.to_dict(orient="records"),
        "leaders": lead.to_dict(),
    }
    return AblationResult(table, target, direction, lead, payload)


def leaders(table: pd.DataFrame, direction: str) -> pd.Series:
    """The strategy with the best mean under each variant (ties: all of them, joined).

    Empty for an ``info`` metric, which has no better direction.
    """
    if direction not in ("maximize", "minimize"):
        return pd.Series("", index=list(dict.fromkeys(table["variant"])), dtype=object)
    best = table.groupby("variant", sort=False)["mean"].transform(
        "min" if direction == "minimize" else "max"
    )
    top = table[np.isclose(table["mean"], best, rtol=0, atol=1e-12)]
    return top.groupby("variant", sort=False)["strategy"].agg(", ".join)


__all__ = [
    "BASELINE",
    "AblationResult",
    "Variant",
    "ablate",
    "ablation_table",
    "check_variants",
    "fixed_states",
    "leaders",
    "parse_variant",
    "scenario_variants",
    "state_means",
]
