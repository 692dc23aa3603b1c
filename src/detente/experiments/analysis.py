"""From stored runs to the comparison frame, its drivers and a plain-language summary."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from detente.experiments.robustness import (
    Direction,
    RankBy,
    Threshold,
    compare,
    default_threshold,
    drivers,
    regret,
)
from detente.scenario import Scenario


@dataclass(frozen=True)
class OutcomeSpec:
    """How each outcome is judged: direction and satisficing threshold."""

    outcomes: list[str]
    directions: dict[str, Direction]
    thresholds: dict[str, Threshold]


def outcome_spec(
    scenario: Scenario, produced: Sequence[str], overrides: Mapping[str, Threshold] | None = None
) -> OutcomeSpec:
    """Directions and thresholds from the scenario's ``metrics``, overridden by the user's.

    Outcomes the model produces but the scenario does not declare are reported for
    information only (no regret or rank), since nothing says whether more is better.
    Declared metrics come first, in the scenario's order.
    """
    declared = {m.id: m for m in scenario.metrics}
    outcomes = [m for m in declared if m in produced] + [m for m in produced if m not in declared]
    directions: dict[str, Direction] = {
        m: (declared[m].direction if m in declared else "info") for m in outcomes
    }
    thresholds: dict[str, Threshold] = {}
    for m in outcomes:
        t = declared[m].threshold if m in declared else None
        if t is not None:
            thresholds[m] = default_threshold(m, directions[m], t)
    thresholds.update(dict(overrides or {}))
    return OutcomeSpec(outcomes, directions, thresholds)


def primary_outcome(spec: OutcomeSpec, comparison: pd.DataFrame | None = None) -> str | None:
    """The outcome the summary leads with.

    The first declared outcome that is not ``info`` -- skipping, when a comparison is
    given, outcomes on which every strategy has zero regret in every state (a tie that
    says nothing about which to choose).
    """
    ranked = [m for m in spec.outcomes if spec.directions[m] != "info"]
    if comparison is not None:
        for m in ranked:
            rows = comparison[comparison.outcome == m]
            if (rows["regret_max"].fillna(0) > 1e-12).any():
                return m
    return ranked[0] if ranked else None


def tied_outcomes(spec: OutcomeSpec, comparison: pd.DataFrame) -> list[str]:
    """Ranked outcomes on which all strategies tie in every state."""
    out = []
    for m in spec.outcomes:
        if spec.directions[m] == "info":
            continue
        rows = comparison[comparison.outcome == m]
        if not (rows["regret_max"].fillna(0) > 1e-12).any():
            out.append(m)
    return out


def best_share(
    state_means: pd.DataFrame, outcome: str, direction: Direction, strategies: Sequence[str]
) -> pd.Series:
    """Share of states in which each strategy is the best (ties split evenly)."""
    wide = state_means.pivot(index="state", columns="strategy", values=outcome)[list(strategies)]
    reg = regret(wide.to_numpy(dtype=float), direction)
    best = np.isclose(reg, 0.0)
    weights = best / np.maximum(best.sum(axis=1, keepdims=True), 1)
    return pd.Series(weights.mean(axis=0), index=list(strategies))


def leader_advantage(
    state_means: pd.DataFrame,
    outcome: str,
    direction: Direction,
    leader: str,
    strategies: Sequence[str],
) -> pd.Series:
    """Per state, how far the leader is ahead of the best other strategy (negative: behind).

    Oriented so that positive always means better for the leader, whatever the direction.
    """
    wide = state_means.pivot(index="state", columns="strategy", values=outcome)[list(strategies)]
    sign = -1.0 if direction == "minimize" else 1.0
    lead = sign * wide[leader]
    others = [s for s in strategies if s != leader]
    if not others:
        return lead * 0.0
    return lead - (sign * wide[others]).max(axis=1)


def leader_drivers(
    state_means: pd.DataFrame,
    parameters: pd.DataFrame,
    outcome: str,
    direction: Direction,
    leader: str,
    strategies: Sequence[str],
    top: int = 5,
) -> pd.DataFrame:
    """Uncertainties most rank-correlated with the leader's advantage on ``outcome``.

    The advantage is :func:`leader_advantage` (leader minus best other strategy, per state);
    a negative correlation means higher values of the uncertainty erode the lead.

    Returns ``[parameter, rho, p_value, significant]``; ``significant`` applies a Bonferroni
    correction over all uncertainties (with hundreds of them, some correlate by chance).
    """
    adv = leader_advantage(state_means, outcome, direction, leader, strategies)
    params = parameters.loc[adv.index]
    frame = drivers(params, adv.to_numpy(dtype=float))
    n = max(params.shape[1], 1)
    frame["significant"] = frame["p_value"] < 0.05 / n
    return frame.head(top).reset_index(drop=True)


def tied_with_best(rows: pd.DataFrame) -> list[str]:
    """Strategies of one outcome's comparison rows tied with the first-ranked one.

    Read from the frame's ``tied_with_best`` column (:func:`detente.experiments.robustness.
    paired_lead`); a frame without it (an older run) counts only rank 1 as first.
    """
    rows = rows.sort_values("rank")
    if "tied_with_best" in rows.columns:
        flags = zip(rows["strategy"], rows["tied_with_best"], strict=True)
        return [str(s) for s, t in flags if not pd.isna(t) and t]
    return [str(s) for s in rows[rows["rank"] == 1]["strategy"]]


def _names(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def _lead_phrase(leader: str, row: pd.Series) -> str:
    """``"X leads it by 0.12 (95% CI 0.05 to 0.2, paired over the same states)"`` or a tie."""
    if "lead" not in row.index or pd.isna(row["lead"]):
        return f"behind {leader} by rank"
    verdict = "a tie" if bool(row["tied_with_best"]) else "a clear gap"
    return (
        f"{leader}'s lead over it is {_fmt(float(row['lead']))} (95% CI "
        f"{_fmt(float(row['lead_lo']))} to {_fmt(float(row['lead_hi']))}, paired over the "
        f"same states): {verdict}"
    )


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    if x != 0 and (abs(x) >= 1000 or abs(x) < 0.01):
        return f"{x:.3g}"
    return f"{x:.3g}" if abs(x) >= 1 else f"{x:.2f}"


def summary_markdown(
    scenario: Scenario,
    comparison: pd.DataFrame,
    spec: OutcomeSpec,
    state_means: pd.DataFrame,
    parameters: pd.DataFrame,
    strategies: Sequence[str],
    n_states: int,
    worlds: int,
    rank_by: RankBy = "max-regret",
) -> tuple[str, pd.DataFrame]:
    """A plain-language summary of a comparison, and the drivers behind it.

    Says which strategy ranks first on which outcomes and by how much, in how many states it
    is the best choice, and which uncertainties move its regret most.

    Returns
    -------
    (markdown, drivers)
    """
    lines = [f"# {scenario.title}: which strategy holds up?", ""]
    lines.append(
        f"{n_states} sampled states of the world x {len(strategies)} strategies x "
        f"{worlds} stochastic worlds each; strategies ranked by {rank_by.replace('-', ' ')} "
        "(ties broken on expected value)."
    )
    lines.append("")
    primary = primary_outcome(spec, comparison)
    drv = pd.DataFrame(columns=["parameter", "rho", "p_value", "significant"])
    if primary is None:
        lines.append("No outcome has a direction (maximize/minimize): nothing to rank.")
        return "\n".join(lines) + "\n", drv
    exact = tied_outcomes(spec, comparison)
    if exact:
        lines.append(
            "All strategies tie in every state on: " + ", ".join(exact) + " (nothing to choose "
            "between them there)."
        )
        lines.append("")
    rows = comparison[comparison.outcome == primary].sort_values("rank")
    lead = rows.iloc[0]
    leader = str(lead["strategy"])
    direction = spec.directions[primary]
    share = best_share(state_means, primary, direction, strategies)
    tied = tied_with_best(rows)
    ev = (
        f"expected {_fmt(lead['mean'])} (95% CI {_fmt(lead['lo'])} to {_fmt(lead['hi'])}), "
        f"worst-case regret {_fmt(lead['regret_max'])}, mean regret {_fmt(lead['regret_mean'])}; "
        f"it is the best strategy in {share[leader]:.0%} of states"
    )
    if len(tied) > 1:
        lines.append(
            f"No strategy is clearly first on **{primary}** ({direction}): "
            f"{_names(tied)} are tied (the 95% interval of each one's per-state difference "
            f"from {leader}, paired over the same {n_states} states, covers 0). {leader} is "
            f"ranked first by {rank_by.replace('-', ' ')}: {ev}."
        )
    else:
        lines.append(
            f"**{leader}** ranks first on **{primary}** ({direction}): {ev}; paired over the "
            "same states, it is ahead of every other strategy (95% interval of the difference "
            "excludes 0)."
        )
    if len(rows) > 1:
        second = rows.iloc[1]
        wide = state_means.pivot(index="state", columns="strategy", values=primary)
        same = [
            str(s)
            for s in rows["strategy"].iloc[1:]
            if np.allclose(wide[s], wide[second["strategy"]], rtol=0, atol=1e-12)
        ]
        label = f"Runner-up, tied in every state: {_names(same)}" if len(same) > 1 else (
            f"Runner-up: {second['strategy']}"
        )
        lines.append(
            f"{label} (expected {_fmt(second['mean'])}, worst-case "
            f"regret {_fmt(second['regret_max'])}); {_lead_phrase(leader, second)}."
        )
        last = rows.iloc[-1]
        if len(rows) > 2 and str(last["strategy"]) not in tied + same:
            lines.append(
                f"Last: {last['strategy']} (expected {_fmt(last['mean'])}, worst-case regret "
                f"{_fmt(last['regret_max'])}); {_lead_phrase(leader, last)}."
            )
    if primary in spec.thresholds:
        t = spec.thresholds[primary]
        sat = rows.set_index("strategy")["satisficing"]
        lines.append(
            f"Meeting {t}: "
            + ", ".join(f"{s} {sat[s]:.0%}" for s in rows["strategy"])
            + " of states."
        )
    lines.append("")
    lines.append("## First place by outcome")
    lines.append("")
    firsts: dict[str, int] = {}
    for outcome in spec.outcomes:
        if spec.directions[outcome] == "info" or outcome in exact:
            continue
        r = comparison[(comparison.outcome == outcome)].sort_values("rank")
        top = r.iloc[0]
        level = tied_with_best(r)
        if len(level) > 1:
            lines.append(
                f"- {outcome} ({spec.directions[outcome]}): no clear first, tie between "
                f"{_names(level)}"
            )
            continue
        firsts[str(top["strategy"])] = firsts.get(str(top["strategy"]), 0) + 1
        lines.append(
            f"- {outcome} ({spec.directions[outcome]}): **{top['strategy']}** "
            f"(expected {_fmt(top['mean'])}, worst-case regret {_fmt(top['regret_max'])})"
        )
    lines.append("")
    if firsts:
        lines.append(
            "Clearly first on the most outcomes: "
            + ", ".join(f"{s} ({n})" for s, n in sorted(firsts.items(), key=lambda x: -x[1]))
            + "."
        )
    else:
        lines.append("No strategy is clearly first on any outcome.")
    lines.append("")
    lines.append("## What drives the result")
    lines.append("")
    if n_states >= 5 and parameters.shape[1] > 0:
        drv = leader_drivers(state_means, parameters, primary, direction, leader, strategies)
    if drv.empty:
        lines.append(
            f"{leader}'s lead on {primary} does not vary across the states sampled; "
            "no uncertainty stands out."
        )
    else:
        lines.append(
            f"Uncertainties most associated with {leader}'s lead on {primary} over the "
            "next-best strategy (Spearman rank correlation across states; negative: higher "
            "values erode the lead):"
        )
        lines.append("")
        for _, d in drv.iterrows():
            flag = "" if d["significant"] else " (not significant after Bonferroni)"
            lines.append(f"- `{d['parameter']}`: rho = {d['rho']:+.2f}{flag}")
        if not drv["significant"].any():
            lines.append("")
            lines.append(
                f"With {n_states} states and {parameters.shape[1]} uncertainties none of these "
                "correlations survives a multiple-comparison correction: treat them as leads, "
                "and run `detente explore` or `detente sensitivity` (or more states) to confirm."
            )
    return "\n".join(lines) + "\n", drv


def comparison_for(
    state_means: pd.DataFrame,
    spec: OutcomeSpec,
    strategies: Sequence[str],
    rank_by: RankBy = "max-regret",
) -> pd.DataFrame:
    """The contract's comparison frame for a run's state means."""
    return compare(
        state_means,
        spec.outcomes,
        spec.directions,
        spec.thresholds,
        rank_by=rank_by,
        strategies=strategies,
    )
