"""From stored runs to the comparison frame, its drivers and a plain-language summary.

Drivers are the uncertainties most rank-correlated (Spearman) with the leading strategy's
lead over the next-best one, across the sampled states. With hundreds of uncertainties
some correlate by chance, so each is tested against a Bonferroni-corrected level
``alpha / m`` (``m`` uncertainties sampled). When none passes, they are *leads*, not drivers,
and :func:`states_needed` says how many states a test of the same correction would need to
confirm a correlation of the size observed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
from detente.formatting import interval, metric_value, number, percent
from detente.scenario import Scenario

#: Family-wise error rate of the drivers' Bonferroni correction.
DRIVERS_ALPHA = 0.05
#: Power at which :func:`states_needed` would confirm a correlation of the observed size.
DRIVERS_POWER = 0.8


@dataclass(frozen=True)
class OutcomeSpec:
    """How each outcome is judged: direction and satisficing threshold."""

    outcomes: list[str]
    directions: dict[str, Direction]
    thresholds: dict[str, Threshold]
    units: dict[str, str] = field(default_factory=dict)
    """Each declared outcome's unit (``"0/1"``: its mean is a share of worlds)."""


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
    units = {m: declared[m].unit for m in outcomes if m in declared}
    return OutcomeSpec(outcomes, directions, thresholds, units)


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

    Returns ``[parameter, rho, p_value, significant, states_needed]``; ``significant``
    applies a Bonferroni correction over all uncertainties (with hundreds of them, some
    correlate by chance) and ``states_needed`` is :func:`states_needed` for the observed
    ``rho`` under that correction.
    """
    adv = leader_advantage(state_means, outcome, direction, leader, strategies)
    params = parameters.loc[adv.index]
    frame = drivers(params, adv.to_numpy(dtype=float))
    n = max(params.shape[1], 1)
    frame["significant"] = frame["p_value"] < DRIVERS_ALPHA / n
    frame = frame.head(top).reset_index(drop=True)
    frame["states_needed"] = [states_needed(r, n) for r in frame["rho"]]
    return frame


def states_needed(
    rho: float, tests: int, alpha: float = DRIVERS_ALPHA, power: float = DRIVERS_POWER
) -> float:
    """States needed to confirm a rank correlation of size ``|rho|`` after the correction.

    The usual Fisher-z sample size for a correlation, two-sided at the Bonferroni level
    ``alpha / tests``::

        n = ((z[1 - alpha / (2 tests)] + z[power]) / atanh|rho|) ** 2 + 3

    rounded up. It treats Spearman's rho like Pearson's r (a close approximation for the
    sizes that matter here) and takes the observed ``rho`` as the true one, which flatters
    leads picked as the strongest of many: read it as a lower bound.

    >>> states_needed(0.5, 1), states_needed(0.5, 871)
    (30.0, 82.0)
    >>> states_needed(0.0, 10)
    inf

    Returns
    -------
    float
        The number of states (``inf`` when ``rho`` is 0 or not finite).
    """
    from scipy import stats

    r = abs(float(rho))
    if not math.isfinite(r) or r == 0:
        return math.inf
    z = stats.norm.ppf(1 - alpha / (2 * max(tests, 1))) + stats.norm.ppf(power)
    effect = math.atanh(min(r, 1 - 1e-12))
    return float(math.ceil((z / effect) ** 2 + 3))


def drivers_note(drivers: pd.DataFrame, n_states: int, n_uncertainties: int) -> str:
    """What the drivers are worth, in one paragraph shared by the summary and the report.

    When none survives the Bonferroni correction they are called *leads* and the note says
    how many states would confirm the strongest one (:func:`states_needed`, stored with the
    run as ``drivers.csv``'s ``states_needed``). An empty string when there are no drivers.
    """
    if drivers.empty:
        return ""
    if "significant" in drivers.columns and drivers["significant"].fillna(False).astype(bool).any():
        kept = int(drivers["significant"].fillna(False).astype(bool).sum())
        return (
            f"{kept} of these correlations survive a Bonferroni correction over the "
            f"{n_uncertainties} uncertainties sampled (family-wise level "
            f"{percent(DRIVERS_ALPHA)}); the others are leads only."
        )
    text = (
        f"These are leads, not findings: with {n_states} states and {n_uncertainties} "
        "uncertainties none of these correlations survives a Bonferroni correction "
        f"(family-wise level {percent(DRIVERS_ALPHA)}), and a different sample of states may "
        "put other uncertainties on top."
    )
    if "states_needed" in drivers.columns and len(drivers):
        strongest = drivers.iloc[int(np.argmax(drivers["rho"].abs().to_numpy()))]
        needed = float(strongest["states_needed"])
        if math.isfinite(needed):
            text += (
                f" Confirming a correlation as strong as the strongest one (|rho| = "
                f"{abs(float(strongest['rho'])):.2f}) at that level with "
                f"{percent(DRIVERS_POWER)} power would take about {number(needed)} states "
                "(Fisher z; see docs/reports.md)."
            )
    return text + " Run detente explore or detente sensitivity to test one directly."


CORRELATED_INPUTS_NOTE = (
    "The states come from a calibrated posterior, where the uncertainties are correlated "
    "(the data tie some of them together): an uncertainty may rank high here because it "
    "moves with another one that does the work."
)
"""What the summary and the report add under the drivers of a run on posterior states."""


def drivers_are_leads(drivers: pd.DataFrame) -> bool:
    """True when no driver survives the correction (an older run without the flag: True)."""
    if drivers.empty or "significant" not in drivers.columns:
        return True
    return not bool(drivers["significant"].fillna(False).astype(bool).any())


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


def _lead_phrase(leader: str, row: pd.Series, unit: str | None = None) -> str:
    """``"X's lead over it is 12 (95% CI [5, 20], paired over the same states): a tie"``."""
    if "lead" not in row.index or pd.isna(row["lead"]):
        return f"behind {leader} by rank"
    verdict = "a tie" if bool(row["tied_with_best"]) else "a clear gap"
    return (
        f"{leader}'s lead over it is {metric_value(row['lead'], unit)} (95% CI "
        f"{interval(row['lead_lo'], row['lead_hi'], unit)}, paired over the same states): "
        f"{verdict}"
    )


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
    *,
    states_from: str | None = None,
) -> tuple[str, pd.DataFrame]:
    """A plain-language summary of a comparison, and the drivers behind it.

    Says which strategy ranks first on which outcomes and by how much, in how many states it
    is the best choice, and which uncertainties move its regret most. ``states_from`` says
    where the states come from when not from the scenario's ranges (a calibrated
    posterior): the summary says so, and warns that the drivers are then correlations
    between correlated inputs.

    Returns
    -------
    (markdown, drivers)
    """
    lines = [f"# {scenario.title}: which strategy holds up?", ""]
    lines.append(
        f"{n_states} sampled states of the world x {len(strategies)} strategies x "
        f"{worlds} stochastic worlds each; strategies ranked by {rank_by.replace('-', ' ')} "
        "(ties broken on expected value)."
        + (f" These are {states_from}, not from the scenario's ranges." if states_from else "")
    )
    lines.append("")
    primary = primary_outcome(spec, comparison)
    drv = pd.DataFrame(columns=["parameter", "rho", "p_value", "significant", "states_needed"])
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
    unit = spec.units.get(primary)
    ev = (
        f"expected {metric_value(lead['mean'], unit)} (95% CI "
        f"{interval(lead['lo'], lead['hi'], unit)}), worst-case regret "
        f"{metric_value(lead['regret_max'], unit)}, mean regret "
        f"{metric_value(lead['regret_mean'], unit)}; it is the best strategy in "
        f"{percent(share[leader])} of states"
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
        label = (
            f"Runner-up, tied in every state: {_names(same)}"
            if len(same) > 1
            else (f"Runner-up: {second['strategy']}")
        )
        lines.append(
            f"{label} (expected {metric_value(second['mean'], unit)}, worst-case "
            f"regret {metric_value(second['regret_max'], unit)}); "
            f"{_lead_phrase(leader, second, unit)}."
        )
        last = rows.iloc[-1]
        if len(rows) > 2 and str(last["strategy"]) not in tied + same:
            lines.append(
                f"Last: {last['strategy']} (expected {metric_value(last['mean'], unit)}, "
                f"worst-case regret {metric_value(last['regret_max'], unit)}); "
                f"{_lead_phrase(leader, last, unit)}."
            )
    if primary in spec.thresholds:
        t = spec.thresholds[primary]
        sat = rows.set_index("strategy")["satisficing"]
        lines.append(
            f"Meeting {t}: "
            + ", ".join(f"{s} {percent(sat[s])}" for s in rows["strategy"])
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
        u = spec.units.get(outcome)
        lines.append(
            f"- {outcome} ({spec.directions[outcome]}): **{top['strategy']}** "
            f"(expected {metric_value(top['mean'], u)}, worst-case regret "
            f"{metric_value(top['regret_max'], u)})"
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
    if n_states >= 5 and parameters.shape[1] > 0:
        drv = leader_drivers(state_means, parameters, primary, direction, leader, strategies)
    leads = not drv.empty and drivers_are_leads(drv)
    lines.append("## Leads: what may drive the result" if leads else "## What drives the result")
    lines.append("")
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
            flag = "" if d["significant"] else " (a lead: not significant after Bonferroni)"
            lines.append(f"- `{d['parameter']}`: rho = {d['rho']:+.2f}{flag}")
        lines.append("")
        lines.append(drivers_note(drv, n_states, parameters.shape[1]))
        if states_from:
            lines.append("")
            lines.append(CORRELATED_INPUTS_NOTE)
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
