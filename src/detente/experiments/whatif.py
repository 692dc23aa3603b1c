"""What-if: one state of the world set by hand, run in many worlds.

An analyst asks "what if Iran's hard-liners are stronger than we think?". The question is a
state of the world: every uncertain number at its best estimate except those the question
moves. A :class:`Lever` is one thing the analyst may move:

* a single uncertainty (``parameters.perception_bias_iran``, a strategy's parameter, a
  ``sample_together`` group's shift such as ``stances[iran/conservative].positions.dialogue``);
* a camp's strength (``camp[iran/conservative].clout``): the clout of every actor of one
  camp of one country moved together, as a shift ``s`` in ``[-1, 1]``: each member at its
  best estimate for ``s = 0``, at its high bound for ``s = 1`` and its low bound for
  ``s = -1``, linearly in between (the rule of :func:`detente.scenario.together.member_value`);
  a camp's strength is how the article's "hard-liners are stronger" reads in the model.

:func:`key_levers` picks the few levers shown first: those the scenario names in its
``key_uncertainties`` section; without one, the uncertainties with the largest
total-effect (Sobol ``ST``) indices of a stored sensitivity run when there is one (never
rank correlations, which move from run to run), otherwise the camps' strength and the
largest groups sampled together, with a note saying which rule chose them.
:func:`run_what_if` runs the strategies on that state with :func:`detente.sim.trajectory_quantiles`
(the numbers ``detente simulate --set`` prints for the same state and seed) and summarises
each outcome per world on the same worlds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from detente.errors import InputError, InputProblem, did_you_mean
from detente.metrics import never_value
from detente.scenario import Scenario
from detente.scenario.key_uncertainties import CAMP_PREFIX, camp_id, camp_members
from detente.scenario.together import SHIFT_HIGH, SHIFT_LOW, SHIFT_NOMINAL, Member, member_value
from detente.scenario.uncertainty import UncertainParameter, uncertainties
from detente.sim.parameters import parameter_docs

#: Prefix of a strategy parameter's uncertainty (set with the strategy, not among the key levers).
STRATEGY_PREFIX = "strategies["
#: Levers shown first when nothing else says which matter.
KEY_COUNT = 6
#: Largest total of worlds (worlds x strategies) one what-if may run.
MAX_WHATIF_WORLDS = 40_000


@dataclass(frozen=True)
class Lever:
    """One thing a what-if may move, and the uncertainties it sets.

    Parameters
    ----------
    id : str
        The uncertainty's name, or ``camp[<country>/<camp>].clout`` for a camp's strength.
    label : str
        What an analyst reads beside the slider.
    low, nominal, high : float
        The slider's range and its best-estimate position.
    members : tuple of Member
        The uncertainties it sets (one for a single uncertainty).
    detail : str
        What it moves, in words (members or the number's source).
    shift : bool
        True when the setting is a shift in ``[-1, 1]`` mapped onto each member's range.
    """

    id: str
    label: str
    low: float
    nominal: float
    high: float
    members: tuple[Member, ...]
    detail: str = ""
    shift: bool = False

    def values(self, setting: float) -> dict[str, float]:
        """The uncertainty values this lever gives at ``setting``."""
        if self.shift:
            return {m.name: member_value(m, setting) for m in self.members}
        return {self.members[0].name: float(setting)}


@dataclass
class WhatIf:
    """A what-if's result: the fan-chart quantiles, per-world summaries and its cost."""

    quantiles: pd.DataFrame
    summaries: dict[str, dict[str, NDArray[np.float64]]]
    values: dict[str, float]
    worlds: int
    seed: int
    seconds: float
    outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)


def _group_label(name: str, countries: Mapping[str, str]) -> str:
    """``stances[iran/reformist].positions.dialogue`` -> ``Iran: reformist camp, positions on
    dialogue (one shared error)``; other names unchanged."""
    head, _, rest = name.partition("].")
    _, _, where = head.partition("[")
    country, _, camp = where.partition("/")
    if not camp or not rest:
        return name
    what, _, issue = rest.partition(".")
    words = f"{what} on {issue}" if issue else what
    return f"{countries.get(country, country)}: {camp} camp's {words} (one shared error)"


def _parameter_label(name: str) -> str | None:
    """``parameters.prior_reciprocating_iran`` -> its one-line meaning from
    :class:`~detente.sim.parameters.SimParameters` (``Iranian prior that the U.S. is a
    reciprocating type``); None for any other name."""
    field_name = name.removeprefix("parameters.")
    if field_name == name:
        return None
    entry = parameter_docs().get(field_name)
    if entry is None or not entry[1]:
        return None
    doc = entry[1]
    return doc[0].upper() + doc[1:]


def _plain(
    p: UncertainParameter, label: str | None = None, countries: Mapping[str, str] | None = None
) -> Lever:
    detail = p.provenance
    if p.members:
        actors = [m.split("]", 1)[0].removeprefix("actors[") for m in p.members]
        detail = (f"moves {len(p.members)} numbers together ({', '.join(actors)}): "
                  "-1 each at its low bound, 0 best estimates, +1 each at its high bound")
        label = label or _group_label(p.name, countries or {})
    return Lever(
        id=p.name,
        label=label or _parameter_label(p.name) or p.name,
        low=float(p.low),
        nominal=float(p.nominal),
        high=float(p.high),
        members=(Member(p.name, float(p.low), float(p.nominal), float(p.high)),),
        detail=detail,
    )


def _focal_country(scenario: Scenario) -> str | None:
    options = [s.country for s in scenario.strategies if s.option]
    return options[0] if options else (scenario.strategies[0].country if scenario.strategies
                                       else None)


def camp_levers(scenario: Scenario) -> list[Lever]:
    """One strength lever per (country, camp) with at least two actors of uncertain clout.

    Camps of the country the strategies do not belong to (the other side) come first, then
    by number of members, most first.
    """
    params = {p.name: p for p in uncertainties(scenario)}
    names = {c.id: c.name for c in scenario.countries}
    found = {
        k: [Member(p.name, float(p.low), float(p.nominal), float(p.high))
            for p in (params[f"actors[{a}].clout"] for a in actors)]
        for k, actors in camp_members(scenario).items()
    }
    focal = _focal_country(scenario)
    order = sorted(found, key=lambda k: (k[0] == focal, -len(found[k])))
    levers = []
    for country, camp in order:
        members = tuple(found[(country, camp)])
        actors = [m.name.removeprefix("actors[").removesuffix("].clout") for m in members]
        levers.append(
            Lever(
                id=camp_id(country, camp),
                label=f"{names.get(country, country)}: {camp} camp's strength",
                low=SHIFT_LOW,
                nominal=SHIFT_NOMINAL,
                high=SHIFT_HIGH,
                members=members,
                detail="clout of " + ", ".join(actors) + " moved together "
                "(-1: each at its low bound, 0: best estimates, +1: each at its high bound)",
                shift=True,
            )
        )
    return levers


def all_levers(scenario: Scenario) -> dict[str, Lever]:
    """Every lever of a scenario by id: camps' strength, then every uncertainty."""
    levers = {lv.id: lv for lv in camp_levers(scenario)}
    countries = {c.id: c.name for c in scenario.countries}
    for p in uncertainties(scenario):
        levers[p.name] = _plain(p, countries=countries)
    return levers


def strategy_levers(scenario: Scenario, strategy: str) -> list[Lever]:
    """The uncertain parameters of one of the scenario's strategies, as levers."""
    prefix = f"{STRATEGY_PREFIX}{strategy}].params."
    return [
        _plain(p, label=f"{strategy}: {p.name.removeprefix(prefix)}")
        for p in uncertainties(scenario)
        if p.name.startswith(prefix)
    ]


def key_levers(
    scenario: Scenario,
    sensitivity: pd.DataFrame | None = None,
    source: str = "",
    count: int = KEY_COUNT,
) -> tuple[list[Lever], str]:
    """The levers shown first, and a sentence saying why these.

    The scenario's own ``key_uncertainties`` come first when it names any (each lever's
    detail then starts with the reason the scenario gives); then the largest Sobol ``ST``
    of a stored sensitivity run; else the camps' strength and the largest groups.

    Parameters
    ----------
    scenario : Scenario
    sensitivity : DataFrame, optional
        A stored Sobol run's indices (columns ``parameter`` and ``ST``); its largest
        total-effect indices name the levers. Morris screening or rank correlations are not
        used: they do not measure the share of the outcome's variance.
    source : str
        How to name the sensitivity run in the sentence.
    count : int
        How many levers.
    """
    levers = all_levers(scenario)
    named = [k for k in scenario.key_uncertainties if k.name in levers]
    if named:
        chosen = [replace(levers[k.name], detail=_why(k.source, k.judgment, levers[k.name]))
                  for k in named]
        return chosen, (
            f"The {len(chosen)} key uncertainties the scenario names (its key_uncertainties "
            "section), each with the reason it gives. Add any other uncertainty below."
        )
    usable = sensitivity is not None and {"parameter", "ST"} <= set(sensitivity.columns)
    if usable:
        assert sensitivity is not None
        ranked = sensitivity.sort_values("ST", ascending=False)
        ranked = ranked[ranked["parameter"].isin(levers) & (ranked["ST"] > 0)
                        & ~ranked["parameter"].astype(str).str.startswith(STRATEGY_PREFIX)]
        chosen = [levers[str(n)] for n in ranked["parameter"].head(count)]
        if chosen:
            return chosen, (
                f"The {len(chosen)} uncertainties with the largest total-effect (Sobol ST) "
                f"indices in {source or 'the stored sensitivity run'}."
            )
    camps = camp_levers(scenario)
    grouped = sorted(
        (p for p in uncertainties(scenario) if p.members),
        key=lambda p: -len(p.members),
    )
    chosen = (camps + [levers[p.name] for p in grouped])[:count]
    if not chosen:
        chosen = [lv for lv in levers.values() if not lv.id.startswith(STRATEGY_PREFIX)][:count]
    return chosen, (
        "No Sobol sensitivity run of this scenario is stored, so nothing says which "
        "uncertainties matter most; shown: each camp's strength and the largest groups of "
        "numbers sampled together. Add any other uncertainty below, or run "
        "`detente sensitivity` to rank them."
    )


def _why(source: str | None, judgment: str | None, lever: Lever) -> str:
    """A key uncertainty's reason, then what its lever moves."""
    why = f"Why it matters: {source}" if source else f"Why it matters (judgment): {judgment}"
    return f"{why}. Moves: {lever.detail}" if lever.detail else why


def parse_settings(texts: Sequence[str]) -> dict[str, float]:
    """``["NAME=VALUE", ...]`` (``detente simulate --set``) as a mapping; one problem per
    malformed item."""
    problems: list[InputProblem] = []
    out: dict[str, float] = {}
    for text in texts:
        name, sep, raw = text.rpartition("=")
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not sep or not name.strip() or not math.isfinite(value):
            problems.append(InputProblem("<command line>",
                                         f"--set {text!r}: expected NAME=NUMBER"))
            continue
        out[name.strip()] = value
    if problems:
        raise InputError(problems)
    return out


def check_settings(levers: Mapping[str, Lever], settings: Mapping[str, object]) -> dict[str, float]:
    """Uncertainty values for lever settings, refusing unknown levers and values out of range.

    Raises
    ------
    InputError
        One problem per unknown lever, non-number or value outside the lever's range.
    """
    problems: list[InputProblem] = []
    values: dict[str, float] = {}
    for key, raw in settings.items():
        lever = levers.get(key)
        if lever is None:
            problems.append(InputProblem("values", f"unknown uncertainty {key!r}"
                                         f"{did_you_mean(key, levers)}"))
            continue
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            problems.append(InputProblem("values", f"{key}: expected a number, got {raw!r}"))
            continue
        if not lever.low <= float(raw) <= lever.high:
            problems.append(
                InputProblem("values", f"{key}: {raw} is outside its range "
                             f"[{lever.low:g}, {lever.high:g}]")
            )
            continue
        values.update(lever.values(float(raw)))
    if problems:
        raise InputError(problems)
    return values


def outcome_table(
    scenario: Scenario, summaries: Mapping[str, Mapping[str, NDArray[np.float64]]]
) -> pd.DataFrame:
    """Per strategy and declared outcome: mean over worlds, 5th-95th percentile, and the
    share of worlds meeting the scenario's threshold (``>=`` for a maximised outcome,
    ``<=`` for a minimised one), and for a time-to metric the share of worlds where the
    event never came (value ``horizon + 1``, :func:`detente.metrics.never_value`; ``never``
    holds that value)."""
    horizon = scenario.calendar.horizon if scenario.calendar is not None else None
    rows = []
    for strategy, summary in summaries.items():
        for metric in scenario.metrics:
            if metric.id not in summary:
                continue
            x = np.asarray(summary[metric.id], dtype=float)
            share = float("nan")
            if metric.threshold is not None and metric.direction != "info":
                met = x >= metric.threshold if metric.direction == "maximize" else (
                    x <= metric.threshold)
                share = float(met.mean())
            never = never_value(metric.id, horizon) if horizon is not None else None
            rows.append(
                {
                    "strategy": strategy,
                    "outcome": metric.id,
                    "direction": metric.direction,
                    "unit": metric.unit or "",
                    "mean": float(x.mean()),
                    "p05": float(np.quantile(x, 0.05)),
                    "p95": float(np.quantile(x, 0.95)),
                    "threshold": metric.threshold,
                    "share_meeting": share,
                    "never": never,
                    "share_never": float("nan") if never is None else float(
                        np.mean(np.abs(x - never) < 1e-9)),
                }
            )
    return pd.DataFrame(rows)


def run_what_if(
    scenario: Scenario,
    strategies: Sequence[str],
    values: Mapping[str, float],
    worlds: int,
    seed: int = 0,
    *,
    progress: Callable[[int], None] | None = None,
) -> WhatIf:
    """Run ``strategies`` on the state ``values`` (best estimates elsewhere) in ``worlds`` worlds.

    The quantiles are exactly those of ``trajectory_quantiles(scenario, strategy, worlds,
    seed, values=values)``, i.e. of ``detente simulate --set``; the per-world summaries come
    from the same worlds. ``progress(n)`` is called after each chunk of ``n`` worlds; an
    exception it raises stops the run (a deadline, a cancelled request).

    Raises
    ------
    InputError
        Unknown strategy or uncertainty, too many worlds.
    """
    from detente.sim.api import chunk_summary, trajectory_quantiles

    if worlds < 1 or worlds * max(1, len(strategies)) > MAX_WHATIF_WORLDS:
        raise InputError.single(
            "worlds",
            f"{worlds:,} worlds x {len(strategies)} strategies is outside 1 to "
            f"{MAX_WHATIF_WORLDS:,} worlds per what-if (use detente compare for big runs)",
        )
    parts: dict[str, list[dict[str, NDArray[np.float64]]]] = {s: [] for s in strategies}

    def keep(strategy: str, system: object, res: object) -> None:
        parts[strategy].append(chunk_summary(res, system))  # type: ignore[arg-type]

    started = time.perf_counter()
    frame = trajectory_quantiles(
        scenario, list(strategies), worlds, seed, values=dict(values), progress=progress,
        on_chunk=keep,
    )
    summaries = {
        s: {k: np.concatenate([p[k] for p in chunks]) for k in chunks[0]}
        for s, chunks in parts.items()
    }
    seconds = time.perf_counter() - started
    result = WhatIf(frame, summaries, dict(values), worlds, seed, seconds)
    result.outcomes = outcome_table(scenario, summaries)
    return result


__all__ = [
    "CAMP_PREFIX",
    "MAX_WHATIF_WORLDS",
    "Lever",
    "WhatIf",
    "all_levers",
    "camp_levers",
    "check_settings",
    "key_levers",
    "outcome_table",
    "parse_settings",
    "run_what_if",
    "strategy_levers",
]
