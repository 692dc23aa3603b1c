"""The self-contained HTML report.

:func:`render_report` turns in-memory inputs (:class:`ReportInputs`: the scenario, the run's
method and the experiment result frames of ``docs/contracts.md``) into one HTML string built
from the Jinja2 templates in ``report/templates``: the question, the scenario with the
provenance of its judgments, the method, the results, what drives them, and caveats. Every
figure is embedded as a base64 PNG, the CSS is inline, and there is no script and no
external URL, so the file opens offline. Nothing time-dependent enters the output: the same
inputs give the same bytes.

:func:`build_report` reads what a run stored in its folder (see
:mod:`detente.report.rundir`) and writes the file.
"""

from __future__ import annotations

import base64
import functools
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import jinja2
import pandas as pd

import detente
from detente.experiments.analysis import (
    CORRELATED_INPUTS_NOTE,
    drivers_are_leads,
    drivers_note,
    tied_with_best,
)
from detente.experiments.prim import QUASI_P_MAX, STABILITY_MIN, weak_restrictions
from detente.formatting import interval, metric_value, p_value, percent
from detente.report.bargaining_notes import (
    EUM_WINDOW,
    eum_note,
    eum_oscillation,
    nash_at_reference,
    nash_note,
)
from detente.report.cores import ReportProgress
from detente.report.design_section import DesignInputs, design_context, meaning
from detente.report.figure_cache import CACHE_DIR, FigureCache, figure_key
from detente.report.figure_pool import FigureMaker, default_workers, render_pngs
from detente.report.figures import (
    comparison_chart,
    discovery_chart,
    drivers_chart,
    eum_rounds_chart,
    eum_rounds_grid,
    fan_chart,
    scenario_position_map,
    sensitivity_chart,
    structure_chart,
)
from detente.report.figures.bargaining import scenario_table
from detente.report.figures.fan import metric_label, strategy_names
from detente.report.figures.reliability import reliability_chart, reliability_columns
from detente.report.figures.style import label_for
from detente.report.history_section import HistoryInputs, history_context
from detente.scenario.numbers import Provenance
from detente.scenario.schema import Scenario
from detente.scenario.uncertainty import uncertainties

if TYPE_CHECKING:
    from detente.report.predraw import Predrawn

TEMPLATE_DIR = Path(__file__).parent / "templates"

@dataclass
class ReportInputs:
    """Everything a report can show; every part except the title is optional.

    Attributes
    ----------
    scenario : Scenario, optional
        The scenario the run used (question, summary, judgments, structure figure).
    title : str, optional
        Report title (default: the scenario's title).
    run_id : str, optional
        The run's identifier, shown in the header and footer.
    method : mapping of str -> object
        How the run was made, e.g. ``sampling``, ``states``, ``worlds``, ``seed``,
        ``code_version``; shown in order as a table (keys are humanized).
    comparison : DataFrame, optional
        ``strategy, outcome, mean, lo, hi, regret_mean, regret_max, satisficing, rank``.
    interval_label : str
        What ``[lo, hi]`` of the comparison is.
    rank_by : str
        The ranking criterion of the comparison.
    thresholds : mapping of outcome -> text
        Satisficing thresholds used, as text (``"rapprochement >= 0.5"``).
    quantiles : DataFrame, optional
        ``trajectory_quantiles``: ``strategy, step, date, metric, mean, p05 .. p95``.
    fan_metrics : sequence of str, optional
        Metrics of the fan chart (default: up to four, the scenario's order).
    fan_note : str
        Added to the fan chart's caption (e.g. how the trajectories were obtained).
    prim_trajectory, prim_box : DataFrame, optional
        PRIM trajectory and chosen box (with ``quasi_p`` and ``stability`` per restriction
        when the run assessed them).
    prim_resamples : int, optional
        Bootstrap resamples behind the box's ``stability`` column.
    prim_step : int, optional
        The chosen trajectory step.
    prim_label : str
        What PRIM's cases of interest are (e.g. ``"worlds where engagement fails"``).
    sensitivity : DataFrame, optional
        Sobol or Morris indices.
    sensitivity_outcome : str
        The outcome the sensitivity analysis is about.
    drivers : DataFrame, optional
        ``parameter, rho, p_value`` rank correlations.
    drivers_label : str
        What the drivers are correlated with.
    forecasts : mapping of issue -> (mapping of model -> position)
        Static bargaining forecasts per issue (position maps are drawn for these issues).
    eum_rounds : mapping of issue -> DataFrame
        Expected-utility model rounds (``round, median, mean``) per issue.
    caveats : sequence of str
        Run-specific caveats, listed before the standard ones.
    history : HistoryInputs, optional
        The calibration behind the run's states (``--posterior``), or the run's own for a
        calibrate or hindcast run: the section "How well this model knows history".
    states_from : str
        Where the states come from when not from the scenario's ranges (the sentence the
        run recorded); empty for the prior.
    history_only : bool
        The run is a calibration or hindcast: the history section is the report's content
        (no results or drivers sections).
    designs : sequence of DesignInputs
        The section "Strategies designed for robustness": a design run's own (whole), or,
        for a compare run that took designed strategies by id, the design runs they came
        from (short).
    design_only : bool
        The run is a design run: the design section is the report's content (no results
        or drivers sections).
    workers : int
        How to render, not what to show: processes drawing the figures (see
        :mod:`detente.report.figure_pool`); the bytes are the same whatever the number.
    progress : callable, optional
        Called as ``progress(figure_id, total)`` as each figure is drawn.
    figure_cache : Path, optional
        How to render: a folder keeping each figure's PNG under a key of its inputs and
        drawing code (:mod:`detente.report.figure_cache`), reused while they are unchanged;
        the bytes are the same with or without it.
    figure_peers : sequence of Path
        Other runs' figure folders, searched for a figure missing from ``figure_cache``.
    predrawn : Predrawn, optional
        How to render: figures another process is drawing (``detente run`` draws those of
        the scenario alone during its simulation, :mod:`detente.report.predraw`), taken by
        cache key after the others are drawn; the bytes are the same with or without it.
    """

    scenario: Scenario | None = None
    title: str | None = None
    run_id: str | None = None
    method: Mapping[str, Any] = field(default_factory=dict)
    comparison: pd.DataFrame | None = None
    interval_label: str = "95% confidence interval of the mean over states"
    rank_by: str = "maximum regret, then expected value"
    thresholds: Mapping[str, str] = field(default_factory=dict)
    quantiles: pd.DataFrame | None = None
    fan_metrics: Sequence[str] | None = None
    fan_note: str = ""
    prim_trajectory: pd.DataFrame | None = None
    prim_box: pd.DataFrame | None = None
    prim_step: int | None = None
    prim_resamples: int | None = None
    prim_label: str = "cases of interest"
    sensitivity: pd.DataFrame | None = None
    sensitivity_outcome: str = "the outcome"
    drivers: pd.DataFrame | None = None
    drivers_label: str = "the result"
    forecasts: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    eum_rounds: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    caveats: Sequence[str] = ()
    history: HistoryInputs | None = None
    states_from: str = ""
    history_only: bool = False
    designs: Sequence[DesignInputs] = ()
    design_only: bool = False
    workers: int = 1
    progress: ReportProgress | None = None
    figure_cache: Path | None = None
    figure_peers: Sequence[Path] = ()
    predrawn: Predrawn | None = None


@dataclass(frozen=True)
class EmbeddedFigure:
    """A rendered figure ready for the template."""

    id: str
    number: int
    caption: str
    alt: str
    png: str
    width: int
    height: int


# ---------------------------------------------------------------------------------------
# formatting helpers
# ---------------------------------------------------------------------------------------


def fmt(x: object, unit: str | None = None, short: bool = False) -> str:
    """A value in the house format (:mod:`detente.formatting`) for the metric's ``unit``;
    ``"–"`` for missing values, text as it is. ``short`` drops "of worlds" (table cells)."""
    if isinstance(x, str):
        return x
    return metric_value(x, unit, short=short) or "–"


def _pct(x: object) -> str:
    return percent(x) or "–"


def _unit(s: Scenario | None, outcome: str) -> str | None:
    """The unit the scenario declares for ``outcome`` (``"0/1"``: a share of worlds)."""
    if s is not None:
        for m in s.metrics:
            if m.id == outcome:
                return m.unit
    return None


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


# ---------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------


def _counts(s: Scenario, compared: Sequence[str] | None = None) -> list[tuple[str, str]]:
    third = {c.id for c in s.countries if c.role == "third-party"}
    rows = [
        ("Countries and parties", f"{len(s.countries)} ({len(third)} third parties)"),
        ("Actors", str(len(s.actors))),
        ("Issues", f"{len(s.issues)}: " + "; ".join(i.name for i in s.issues)),
        (
            "Institutions (with vetoes)",
            f"{len(s.institutions)} ({sum(1 for i in s.institutions if i.vetoes)})",
        ),
        ("Policy instruments", str(len(s.instruments))),
        _strategy_count(s, compared),
        ("Exogenous shocks", str(len(s.shocks))),
        ("Outcome metrics", str(len(s.metrics))),
    ]
    if s.calendar is not None:
        c = s.calendar
        rows.append(
            (
                "Calendar",
                f"from {c.start.isoformat()}, {c.horizon} {c.step}s, "
                f"{len(c.elections)} scheduled elections",
            )
        )
    return rows


def _strategy_count(s: Scenario, compared: Sequence[str] | None) -> tuple[str, str]:
    """The strategies the run compared (the scenario may define more, e.g. internal ones)."""
    if compared is None:
        options = sum(1 for st in s.strategies if st.option)
        return ("Strategies (options)", str(options))
    extra = len(s.strategies) - len(compared)
    more = f" (the scenario defines {len(s.strategies)})" if extra > 0 else ""
    return ("Strategies compared", f"{len(compared)}{more}")


def _inherited_provenance(s: Scenario, loc: tuple[str | int, ...], own: str) -> str:
    """The number's own provenance, else that of the nearest element holding it."""
    if own != "no provenance":
        return own
    found = own
    node: Any = s
    for key in loc:
        try:
            if isinstance(node, list):
                node = node[int(key)]
            elif isinstance(node, dict):
                node = node[key]
            else:
                node = getattr(node, str(key))
        except (KeyError, IndexError, AttributeError, TypeError):
            break
        if isinstance(node, Provenance) and node.has_provenance:
            found = node.provenance_text
    return found


def _judgments(s: Scenario, drivers: pd.DataFrame | None = None) -> list[dict[str, str]]:
    rows = []
    for p in uncertainties(s):
        prov = _inherited_provenance(s, p.loc, p.provenance)
        if prov.startswith("source:"):
            kind = "source"
        elif prov.startswith("analyst judgment:"):
            kind = "judgment"
        else:
            kind, prov = "missing-provenance", "none given"
        nominal, span = fmt(p.nominal), f"{fmt(p.low)} – {fmt(p.high)}"
        if p.members:  # a group sampled together: its value is a shift of its members
            nominal, span = "each at its own", f"shift {span} of {len(p.members)} numbers"
            prov = f"{prov}. Members: {', '.join(_member_label(m) for m in p.members)}"
        rows.append(
            {
                "name": p.name,
                "nominal": nominal,
                "range": span,
                "distribution": p.distribution,
                "provenance": prov,
                "kind": kind,
                "group": "yes" if p.members else "",
            }
        )
    if drivers is not None and not drivers.empty and "parameter" in drivers.columns:
        rank = {str(n): k for k, n in enumerate(drivers["parameter"])}
        rows.sort(key=lambda r: rank.get(r["name"], len(rank)))
    return rows


def _member_label(name: str) -> str:
    """A group member's short label: the id in its first brackets (``actors[x]...`` -> x)."""
    return name.split("[", 1)[1].split("]", 1)[0] if "[" in name else name


def _judgment_summary(rows: Sequence[Mapping[str, str]]) -> str:
    n = len(rows)
    src = sum(1 for r in rows if r["kind"] == "source")
    judg = sum(1 for r in rows if r["kind"] == "judgment")
    missing = n - src - judg
    groups = sum(1 for r in rows if r.get("group"))
    together = f" ({groups} of them groups of numbers sampled together)" if groups else ""
    text = (f"{n} sampled inputs{together}: {src} traced to the source text, {judg} analyst "
            "judgments")
    return text + (f", {missing} without provenance." if missing else ".")


def _strategies(s: Scenario, ids: Sequence[str] | None) -> list[dict[str, str]]:
    countries = {c.id: c.name for c in s.countries}
    chosen = [st for st in s.strategies if (st.id in ids if ids is not None else st.option)]
    rows = [
        {
            "name": st.name or label_for(st.id),
            "country": countries.get(st.country, st.country),
            "kind": st.kind,
            "description": st.description,
        }
        for st in chosen
    ]
    by_id = {st.id: st for st in s.strategies}
    for d in s.designed:
        if ids is None or d.id not in ids:
            continue
        base = by_id.get(d.strategy)
        params = ", ".join(f"{k} {fmt(v) if isinstance(v, int | float) else v}"
                           for k, v in d.params.items())
        rows.append({
            "name": d.id,
            "country": countries.get(base.country, base.country) if base else "",
            "kind": base.kind if base else d.strategy,
            "description": (f"{d.description}: " if d.description else "")
            + f"{label_for(d.strategy, strategy_names(s))} with {params}",
        })
    return rows


_METHOD_LABELS = {
    "scenario": "Scenario",
    "sampling": "Sampling of the uncertainties",
    "states": "States of the world sampled",
    "fresh": "Fresh states (re-scoring the designs)",
    "worlds": "Stochastic worlds per state",
    "seed": "Random seed",
    "strategies": "Strategies compared",
    "outcomes": "Outcomes compared",
    "thresholds": "Satisficing thresholds",
    "rank_by": "Ranking criterion",
    "uncertainties": "Uncertain numbers sampled",
    "executor": "Executor",
    "code_version": "Code version",
    "run_id": "Run",
    "history_script": "History script (the path followed)",
    "cutoff": "Observations used up to",
    "observations_used": "Observations used",
    "particles": "Particles (states) in the posterior",
    "moves": "Moves per generation",
}


def _method_rows(method: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, value in method.items():
        if value is None or value == "" or value == [] or value == {}:
            continue
        if isinstance(value, Mapping):
            text = "; ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, float):
            text = fmt(value)
        else:
            text = str(value)
        rows.append((_METHOD_LABELS.get(key, label_for(key)), text))
    return rows


def _direction(s: Scenario | None, outcome: str) -> str:
    if s is not None:
        for m in s.metrics:
            if m.id == outcome:
                return m.direction
    return "maximize"


def _split_outcomes(frame: pd.DataFrame | None) -> tuple[list[str], list[str]]:
    """Outcomes the strategies are ranked on, and information-only ones (no rank)."""
    if frame is None or frame.empty:
        return [], []
    ranked: list[str] = []
    info: list[str] = []
    for outcome in dict.fromkeys(frame["outcome"]):
        sub = frame[frame["outcome"] == outcome]
        is_info = "rank" in sub.columns and bool(sub["rank"].isna().all())
        (info if is_info else ranked).append(str(outcome))
    return ranked, info


def _decisive(rows: pd.DataFrame) -> bool:
    """Whether one outcome's first place is clear (paired lead excludes 0 for every other).

    Read from the comparison's ``decisive`` column; a run without it is treated as decisive
    only when a single strategy holds rank 1.
    """
    if "decisive" in rows.columns and rows["decisive"].notna().any():
        return bool(rows["decisive"].dropna().iloc[0])
    return int((rows["rank"] == rows["rank"].min()).sum()) == 1


def _rank_text(r: pd.Series, tied: Sequence[str]) -> str:
    """``"1"``, ``"=1"`` for a strategy tied with the first, ``"–"`` for unranked."""
    if pd.isna(r.get("rank")):
        return "–"
    return "=1" if len(tied) > 1 and str(r["strategy"]) in tied else str(int(r["rank"]))


def _lead_text(r: pd.Series, unit: str | None) -> str:
    """The first strategy's lead over this one with its paired interval (``"–"`` if none)."""
    if "lead" not in r.index or pd.isna(r["lead"]) or r.get("rank") == 1:
        return "–"
    return f"{fmt(r['lead'], unit, True)} {interval(r['lead_lo'], r['lead_hi'], unit)}"


def _comparison_rows(
    frame: pd.DataFrame, s: Scenario | None, outcomes: Sequence[str]
) -> list[dict[str, Any]]:
    names = strategy_names(s)
    rows = []
    for outcome in outcomes:
        sub = frame[frame["outcome"] == outcome]
        unit = _unit(s, str(outcome))
        ranked = "rank" in sub.columns and sub["rank"].notna().any()
        if ranked:
            sub = sub.sort_values(["rank", "strategy"], na_position="last")
        tied = tied_with_best(sub) if ranked else []
        decisive = ranked and _decisive(sub)
        for k, (_, r) in enumerate(sub.iterrows()):
            rows.append(
                {
                    "first": k == 0,
                    "outcome": metric_label(str(outcome), s, width=200),
                    "strategy": label_for(str(r["strategy"]), names),
                    "winner": decisive and k == 0,
                    "rank": _rank_text(r, tied) if ranked else "–",
                    "mean": fmt(r["mean"], unit, True),
                    "interval": interval(r["lo"], r["hi"], unit),
                    "lead": _lead_text(r, unit) if ranked else "–",
                    "regret_mean": fmt(r["regret_mean"], unit, True),
                    "regret_max": fmt(r["regret_max"], unit, True),
                    "satisficing": _pct(r["satisficing"]),
                }
            )
    return rows


def _ranked_groups(inputs: ReportInputs) -> list[tuple[str, pd.DataFrame]]:
    """Each ranked outcome that separates the strategies, with its rows in rank order."""
    frame, s = inputs.comparison, inputs.scenario
    if frame is None or frame.empty or "rank" not in frame.columns:
        return []
    out = []
    for outcome in dict.fromkeys(frame["outcome"]):
        sub = frame[(frame["outcome"] == outcome) & frame["rank"].notna()]
        if sub.empty or _direction(s, str(outcome)) == "info":
            continue
        out.append((str(outcome), sub.sort_values(["rank", "strategy"])))
    return out


def _no_difference(rows: pd.DataFrame) -> bool:
    return bool(rows["mean"].nunique() <= 1 and rows["regret_max"].fillna(0).max() == 0)


def _findings(inputs: ReportInputs) -> list[str]:
    """One line per ranked outcome: the clear first (or the tie), its interval, the others."""
    s = inputs.scenario
    names = strategy_names(s)
    out = []
    for outcome, ordered in _ranked_groups(inputs):
        label = metric_label(outcome, s, width=200)
        unit = _unit(s, outcome)
        if _no_difference(ordered):
            out.append(
                f"{label}: no difference between the strategies "
                f"(all {fmt(ordered['mean'].iloc[0], unit)})."
            )
            continue
        best = ordered.iloc[0]
        tied = tied_with_best(ordered) if not _decisive(ordered) else [str(best["strategy"])]
        if len(tied) > 1:
            who = " and ".join(label_for(t, names) for t in tied)
            text = (
                f"{label}: no clear first, {who} are tied (the 95% interval of the paired "
                f"difference covers 0); {label_for(str(best['strategy']), names)} has mean "
                f"{fmt(best['mean'], unit)}, interval {interval(best['lo'], best['hi'], unit)}"
            )
        else:
            text = (
                f"{label}: {label_for(str(best['strategy']), names)} does best (mean "
                f"{fmt(best['mean'], unit)}, interval {interval(best['lo'], best['hi'], unit)}"
            )
        text += f", worst-case regret {fmt(best['regret_max'], unit)}"
        if pd.notna(best["satisficing"]):
            text += f", threshold met in {_pct(best['satisficing'])} of states"
        text += ")"
        rest = ordered[~ordered["strategy"].astype(str).isin(tied)]
        if not rest.empty:
            text += "; then " + ", ".join(
                f"{label_for(str(o['strategy']), names)} {fmt(o['mean'], unit)}"
                for _, o in rest.iterrows()
            )
        out.append(text + ".")
    return out


def _design_findings(inputs: ReportInputs) -> list[str]:
    """A design run's bottom line: the front's size and what the verdicts on the fresh
    states mean (read from the run; see :mod:`detente.report.design_section`)."""
    if not inputs.design_only:
        return []
    out = []
    names = strategy_names(inputs.scenario)
    for d in inputs.designs:
        if d.problem or d.pareto is None:
            continue
        st = d.settings
        out.append(
            f"{len(d.pareto)} designed strategies of "
            f"{label_for(str(st.get('strategy')), names)}'s levers are on the front of "
            f"{len(d.metrics)} objectives, each scored by its {st.get('robustness')} over "
            f"{st.get('states')} states x {st.get('worlds')} worlds."
        )
        text = meaning(d, names)
        if text:
            out.append(text)
    return out


def _synthesis(inputs: ReportInputs) -> str:
    """One sentence on the trade-off: which strategy is clearly first on which outcomes.

    A decision-maker reads this before the per-outcome lines; it says whether one strategy
    dominates, the choice is a trade-off between outcomes, or the run cannot tell them
    apart. Only decisive first places count (see :func:`_decisive`): a tie names no winner.
    """
    s = inputs.scenario
    names = strategy_names(s)
    firsts: dict[str, list[str]] = {}
    unclear: list[str] = []
    ranked = 0
    for outcome, rows in _ranked_groups(inputs):
        if _no_difference(rows):
            continue
        ranked += 1
        label = metric_label(outcome, s, width=200).split(" (")[0]
        if not _decisive(rows):
            unclear.append(label)
            continue
        firsts.setdefault(str(rows.iloc[0]["strategy"]), []).append(label)
    if not ranked:
        return ""
    tie_text = (
        f"No strategy is clearly first on {len(unclear)} of the {ranked} outcomes that "
        f"separate them ({', '.join(unclear)}): the leaders there are tied within the "
        "run's paired intervals."
        if unclear
        else ""
    )
    if not firsts:
        return (
            f"No strategy is clearly first on any of the {ranked} outcomes that separate "
            "them: on each, the leaders are tied within the run's paired intervals."
        )
    order = sorted(firsts, key=lambda k: (-len(firsts[k]), k))
    if len(order) == 1 and not unclear:
        return (
            f"{label_for(order[0], names)} ranks first on every outcome that separates "
            f"the strategies ({ranked})."
        )
    parts = [f"{label_for(k, names)} on {len(firsts[k])} ({', '.join(firsts[k])})" for k in order]
    text = "Clear first places: " + "; ".join(parts) + "."
    if len(order) > 1:
        text = "The choice is a trade-off. " + text
    return (text + " " + tie_text).strip()


PRIOR_WEIGHTS_CAVEAT = (
    "Outcomes are compared across sampled states of the world, each weighing the same. "
    "They are not probabilities of events: no state was weighted by how likely it is."
)
"""True of states sampled from the scenario's ranges; a run on a posterior replaces it."""

SMALL_RUN_CAVEAT = (
    "Intervals reflect the number of states and worlds run. Small runs give wide intervals "
    "and unstable rankings; rerun with more states before relying on close calls."
)
COMPARISON_CAVEATS = (PRIOR_WEIGHTS_CAVEAT, SMALL_RUN_CAVEAT)
"""Standard caveats about comparing strategies (left out of a calibration's report)."""
CALIBRATION_CAVEAT = (
    "A calibration learns only what its few dated observations, each with its observation "
    "error, can tell apart: most numbers keep their prior range, and a posterior resting on "
    "a small effective sample of states is itself uncertain. It fits the model's structure "
    "to history; it cannot correct that structure."
)

DESIGN_CAVEAT = (
    "The designs were chosen for how they scored on the search states, so those scores "
    "flatter them; only the scores on the fresh states, which the search never saw, judge "
    "them fairly against the options. A design is a set of parameter values for the model's "
    "strategy, as good as the model and the levers' ranges."
)

STANDARD_CAVEATS: tuple[str, ...] = (
    "The model encodes one reading of the source text. Its structure (who bargains with whom, "
    "who can veto what, how beliefs update) is a judgment as much as its numbers are; the "
    "ranges sampled cover uncertainty about the numbers, not about the structure.",
    PRIOR_WEIGHTS_CAVEAT,
    SMALL_RUN_CAVEAT,
    "Static bargaining forecasts use the actors' nominal numbers and take no account of the "
    "dynamics (backlash, elections, perception) that the simulation models.",
)


def _caveats(inputs: ReportInputs, judgments: Sequence[Mapping[str, str]]) -> list[str]:
    out = list(inputs.caveats)
    missing = sum(1 for j in judgments if j["kind"] == "missing-provenance")
    if missing:
        out.append(f"{missing} uncertain numbers carry no provenance; treat them as placeholders.")
    judg = sum(1 for j in judgments if j["kind"] == "judgment")
    if judgments and judg > len(judgments) / 2:
        out.append(
            f"Most uncertain numbers ({judg} of {len(judgments)}) are analyst "
            "judgments rather than claims of the source text."
        )
    states = inputs.method.get("states")
    if isinstance(states, int) and states < 100:
        out.append(
            f"Only {states} states of the world were sampled; rankings may change with more."
        )
    comp = inputs.comparison
    if comp is not None and "satisficing" in comp and comp["satisficing"].isna().all():
        out.append("No satisficing thresholds were set, so satisficing is not reported.")
    if inputs.states_from:
        out.append(
            f"The {inputs.states_from}: in proportion to how well each fits the history up to "
            "the cut-off, not uniformly over the scenario's ranges. They are correlated and "
            "as good as the calibration; see how well this model knows history."
        )
    if inputs.design_only:
        out.append(DESIGN_CAVEAT)
    if inputs.history_only:
        out.append(CALIBRATION_CAVEAT)
        out.extend(c for c in STANDARD_CAVEATS if c not in COMPARISON_CAVEATS)
        return out
    prior_only = () if not inputs.states_from else (PRIOR_WEIGHTS_CAVEAT,)
    out.extend(c for c in STANDARD_CAVEATS if c not in prior_only)
    return out


def _prim_summary(inputs: ReportInputs) -> str:
    traj, box = inputs.prim_trajectory, inputs.prim_box
    if traj is None or traj.empty:
        return ""
    step = inputs.prim_step if inputs.prim_step is not None else int(traj["step"].iloc[-1])
    row = traj[traj["step"] == step]
    if row.empty:
        return ""
    r = row.iloc[0]
    text = (
        f"Scenario discovery (PRIM) looked for the conditions under which the "
        f"{inputs.prim_label} occur. The chosen box (step {step}) holds "
        f"{_pct(r['coverage'])} of them (coverage), and {_pct(r['density'])} of the states "
        "inside it are such cases (density)"
    )
    if box is not None and not box.empty:
        limits = "; ".join(
            f"{u} in [{fmt(lo)}, {fmt(hi)}]"
            for u, lo, hi in zip(box["uncertainty"], box["low"], box["high"], strict=True)
        )
        text += f". It is defined by: {limits}."
        text += _strength_sentence(box, inputs.prim_resamples)
    else:
        text += "."
    return text


def _assessed(box: pd.DataFrame | None) -> bool:
    return box is not None and not box.empty and {"quasi_p", "stability"} <= set(box.columns)


def _strength_sentence(box: pd.DataFrame, resamples: int | None) -> str:
    """How many of the box's restrictions are findings and which are weak (stored columns)."""
    if not _assessed(box):
        return ""
    weak = weak_restrictions(box)
    n = len(box)
    resampled = f"{resamples} bootstrap resamples" if resamples else "bootstrap resamples"
    text = (
        f" A restriction counts as a finding when its quasi-p value is at most {QUASI_P_MAX} "
        f"and at least {percent(STABILITY_MIN)} of {resampled} restrict the same "
        f"uncertainty; {n - len(weak)} of its {n} restrictions do."
    )
    if weak:
        text += f" Weak, and possibly noise: {', '.join(weak)}."
    return text


def _prim_restrictions(box: pd.DataFrame | None) -> dict[str, Any] | None:
    """The chosen box's restrictions with their quasi-p value and stability, as stored."""
    if box is None or not _assessed(box):
        return None
    weak = set(weak_restrictions(box))
    rows = [
        [
            str(r["uncertainty"]),
            interval(r["low"], r["high"]),
            interval(r["full_low"], r["full_high"]),
            p_value(r["quasi_p"]) or "–",
            percent(r["stability"]) or "–",
            "weak" if r["uncertainty"] in weak else "finding",
        ]
        for _, r in box.iterrows()
    ]
    headers = ["Uncertainty", "Inside the box", "Sampled range", "Quasi-p", "Kept by resamples", ""]
    return {"headers": headers, "rows": rows, "numeric": [False, True, True, True, True, False]}


# ---------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _mapped_issues(scenario: Scenario) -> set[str]:
    """Issues that get a position map in the report.

    A system scenario's issues with an engine role (sanctions, dialogue, ...) carry the
    argument; maps of all issues are one ``detente figures SCENARIO`` away. Scenarios
    without roles (bargaining cases) get a map of every issue.
    """
    keyed = {i.id for i in scenario.issues if i.role not in (None, "other")}
    return keyed or {i.id for i in scenario.issues}


def _drivers_note(inputs: ReportInputs) -> str:
    """The run's verdict on its drivers, in the words of the console summary."""
    drivers = inputs.drivers
    if drivers is None or drivers.empty:
        return ""
    states = inputs.method.get("states")
    tests = inputs.method.get("uncertainties")
    if not isinstance(states, int) or not isinstance(tests, int):
        return ""
    return drivers_note(drivers, states, tests)


def _nash_at_status_quo(s: Scenario, forecasts: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Names of the issues whose Nash forecast is the status quo (a documented degenerate case)."""
    out = []
    for issue_id, fc in forecasts.items():
        if "nash" not in fc:
            continue
        table = scenario_table(s, issue_id)[0]
        if nash_at_reference(fc["nash"], table.reference, table.scale[1] - table.scale[0]):
            out.append(s.issue(issue_id).name)
    return out


def _eum_swings(
    rounds: Mapping[str, pd.DataFrame], s: Scenario | None
) -> dict[str, tuple[float, float]]:
    """Issues whose expected-utility median oscillates over the last rounds, with its range."""
    out = {}
    for issue_id, frame in rounds.items():
        swing = eum_oscillation(frame["median"].tolist(), EUM_WINDOW)
        if swing is not None:
            out[s.issue(issue_id).name if s is not None else issue_id] = swing
    return out


def _bargaining_notes(inputs: ReportInputs) -> list[str]:
    """Notes under the bargaining section: Nash at the status quo, EUM oscillation."""
    s = inputs.scenario
    if s is None:
        return []
    mapped = {k: v for k, v in inputs.forecasts.items() if k in _mapped_issues(s)}
    notes = [nash_note(_nash_at_status_quo(s, mapped), len(mapped))]
    notes.append(eum_note(_eum_swings(inputs.eum_rounds, s)))
    return [n for n in notes if n]


@dataclass(frozen=True)
class _PendingFigure:
    section: str
    id: str
    make: FigureMaker
    caption: str
    alt: str
    cost: float


class _Figures:
    """Collects figures in report order, then draws them all (in parallel if asked)."""

    def __init__(self) -> None:
        self.pending: list[_PendingFigure] = []
        self.by_section: dict[str, list[EmbeddedFigure]] = {}

    def add(
        self, section: str, fid: str, make: FigureMaker, caption: str, alt: str, cost: float = 1.0
    ) -> None:
        """Queue a figure; ``make`` is a ``functools.partial`` of a figure function (the
        cache keys it). ``cost``: its rough drawing time, relative (the pool starts the
        costliest first)."""
        self.pending.append(_PendingFigure(section, fid, make, caption, alt, cost))

    def render(
        self,
        workers: int = 1,
        progress: ReportProgress | None = None,
        cache: FigureCache | None = None,
        predrawn: Predrawn | None = None,
    ) -> None:
        """Draw every queued figure (or take it from ``cache``, or from ``predrawn`` after
        drawing the others: those ``predrawn`` has not started are taken back and drawn
        here with them) and number them in the order they were added."""
        jobs = self.pending
        keyed = cache is not None or predrawn is not None
        keys = [figure_key(j.make) if keyed else None for j in jobs]
        pngs = [cache.get(key) if cache is not None else None for key in keys]
        promised = predrawn.keys() if predrawn is not None else frozenset()
        # what the drawer has not started is drawn here, with the rest: no core waits idle
        released = predrawn.release() if predrawn is not None else frozenset()
        promised = promised - released
        todo = [k for k, png in enumerate(pngs) if png is None and keys[k] not in promised]
        waiting = [k for k, png in enumerate(pngs) if png is None and keys[k] in promised]

        def done(k: int) -> None:
            if progress is not None:
                progress(jobs[k].id, len(jobs))

        def draw(indices: list[int]) -> None:
            drawn = render_pngs(
                [jobs[k].make for k in indices],
                workers,
                lambda i: done(indices[i]),
                costs=[jobs[k].cost for k in indices],
            )
            for k, png in zip(indices, drawn, strict=True):
                pngs[k] = png

        for k, png in enumerate(pngs):
            if png is not None:
                done(k)
        draw(todo)
        if waiting and predrawn is not None:
            ready = predrawn.collect()
            for k in waiting:
                pngs[k] = ready.get(str(keys[k]))
                if pngs[k] is not None:
                    done(k)
            draw([k for k in waiting if pngs[k] is None])  # the drawer failed: drawn here
        if cache is not None:
            for k in [*todo, *waiting]:
                cache.put(keys[k], cast(bytes, pngs[k]))
            cache.keep_only(keys)
        every = [cast(bytes, png) for png in pngs]  # each drawn or taken above
        for number, (job, png) in enumerate(zip(jobs, every, strict=True), start=1):
            width, height = _png_size(png)
            self.by_section.setdefault(job.section, []).append(
                EmbeddedFigure(
                    id=job.id,
                    number=number,
                    caption=job.caption,
                    alt=job.alt,
                    png=base64.b64encode(png).decode("ascii"),
                    width=width,
                    height=height,
                )
            )
        self.pending = []

    def section(self, name: str) -> list[EmbeddedFigure]:
        return self.by_section.get(name, [])


def _add_reliability(figs: _Figures, history: HistoryInputs | None) -> str:
    """Queue the reliability diagram of a hindcast; a one-line reason when it cannot be
    drawn from the stored table ('' when drawn or when there is none)."""
    if history is None or history.reliability is None or history.reliability.empty:
        return ""
    try:
        reliability_columns(history.reliability)
    except ValueError as exc:
        return f"The stored reliability.csv cannot be drawn: {exc}."
    figs.add(
        "history",
        "reliability",
        functools.partial(reliability_chart, history.reliability),
        "Reliability of the hindcast's event forecasts: events grouped by forecast "
        "probability, the mean forecast of each group (horizontal) against the share of "
        "its events that happened (vertical). On the dashed diagonal a forecaster is "
        "reliable; below it, too confident that events happen, above it, too doubtful.",
        "Reliability diagram of the hindcast's event forecasts",
    )
    return ""


def _add_design_figure(figs: _Figures, d: DesignInputs, s: Scenario | None) -> None:
    """Queue the parallel-coordinates figure of a design run's own report."""
    if d.used or d.problem or d.pareto is None or d.pareto.empty:
        return
    from detente.design.figure import parallel_coordinates

    figs.add(
        f"design-{d.run_id}",
        f"pareto-{d.run_id}",
        functools.partial(parallel_coordinates, d.pareto, tuple(d.levers), tuple(d.metrics),
                          tuple(d.directions), fixed_scores=d.fixed_scores(),
                          fixed_names=tuple(d.fixed)),
        "Each line is one designed strategy of the front, through its lever values (left, "
        "unshaded) and its scores on the search states (shaded); its colour is its value of "
        f"the first lever, {d.levers[0] if d.levers else ''} (colour bar). Every axis runs "
        "from its smallest to its largest value (the numbers at its ends); score axes point "
        "up for better, so a lower-is-better score has its smallest value on top. The fixed "
        "options, which have no lever values, are the dashed lines on the score axes.",
        "Parallel coordinates of the designed strategies: levers and scores",
        cost=1.0,
    )


def _queue_figures(inputs: ReportInputs) -> tuple[_Figures, str]:
    """The report's figures, queued in report order, and the reliability diagram's problem
    ('' when it is drawn or there is none)."""
    s = inputs.scenario
    figs = _Figures()
    if s is not None:
        figs.add(
            "structure",
            "structure",
            functools.partial(structure_chart, s),
            "The actors of the scenario grouped by country and camp, the issues they "
            "bargain over, and who holds a veto on which issue.",
            "Diagram of actors by country and camp with veto links to issues",
        )
    ranked_outcomes = _split_outcomes(inputs.comparison)[0]
    if inputs.comparison is not None and not inputs.comparison.empty:
        comparison = inputs.comparison
        figs.add(
            "comparison",
            "comparison",
            functools.partial(
                comparison_chart,
                comparison,
                s,
                interval_label=inputs.interval_label,
                thresholds=dict(inputs.thresholds),
                outcomes=ranked_outcomes or None,
            ),
            "For each outcome: the expected value of each strategy over the sampled "
            f"states with its {inputs.interval_label} (left), the regret against the "
            "best strategy in each state, mean and worst case (middle), and the share of "
            "states meeting the satisficing threshold (right).",
            "Strategy comparison: expected value, regret and satisficing per outcome",
            cost=3.0,
        )
    if inputs.quantiles is not None and not inputs.quantiles.empty:
        quantiles = inputs.quantiles
        figs.add(
            "fan",
            "fan",
            functools.partial(fan_chart, quantiles, s, metrics=inputs.fan_metrics),
            "Each row is an outcome, each column a strategy. The line is the median over "
            "all simulated worlds, the dark band holds the middle 50% of worlds and the "
            "light band 90%. Dotted vertical lines mark scheduled elections."
            + (f" {inputs.fan_note}" if inputs.fan_note else ""),
            "Fan charts of the key outcomes over time for each strategy",
            cost=2.5,
        )
    if inputs.drivers is not None and not inputs.drivers.empty:
        drivers = inputs.drivers
        leads = drivers_are_leads(drivers)
        figs.add(
            "drivers",
            "drivers",
            functools.partial(
                drivers_chart,
                drivers,
                inputs.drivers_label,
                title=(
                    f"Leads, none significant: what may drive {inputs.drivers_label}"
                    if leads
                    else None
                ),
            ),
            "Rank correlation between each sampled uncertainty and "
            f"{inputs.drivers_label}, strongest first. "
            + (
                "None of these survives the multiple-comparison correction: long bars are "
                "leads to check, not the judgments the result hinges on."
                if leads
                else "Long bars that survive the multiple-comparison correction mark the "
                "judgments the result hinges on; the others are leads."
            ),
            "Bar chart of rank correlations of uncertainties with the result",
            cost=0.3,
        )
    if inputs.sensitivity is not None and not inputs.sensitivity.empty:
        sens = inputs.sensitivity
        figs.add(
            "sensitivity",
            "sensitivity",
            functools.partial(sensitivity_chart, sens, inputs.sensitivity_outcome),
            f"Global sensitivity of {inputs.sensitivity_outcome} to the uncertain inputs "
            "(whiskers: 95% confidence intervals). Inputs with small indices can be fixed "
            "at their nominal value without changing the conclusion.",
            "Sensitivity indices of the uncertain inputs",
        )
    if inputs.prim_trajectory is not None or inputs.prim_box is not None:
        figs.add(
            "discovery",
            "discovery",
            functools.partial(
                discovery_chart,
                inputs.prim_trajectory,
                inputs.prim_box,
                chosen_step=inputs.prim_step,
                outcome_label=inputs.prim_label,
            ),
            "Left: PRIM's peeling trajectory, trading coverage (how many of the cases the "
            "box catches) for density (how pure the box is); the circled box is the one "
            "chosen. Right: the ranges of the restricted uncertainties inside that box, "
            "against the range sampled"
            + (
                "; hatched: weak restrictions, which may be noise (see the table)."
                if _assessed(inputs.prim_box)
                else "."
            ),
            "PRIM trade-off curve and box limits",
        )
    reliability_problem = _add_reliability(figs, inputs.history)
    for design in inputs.designs:
        _add_design_figure(figs, design, s)
    if s is not None:
        for issue_id, fc in inputs.forecasts.items():
            if issue_id not in _mapped_issues(s):
                continue
            at_sq = _nash_at_status_quo(s, {issue_id: fc})
            figs.add(
                "bargaining",
                f"positions-{issue_id}",
                functools.partial(scenario_position_map, s, issue_id, fc),
                f"Actors on {s.issue(issue_id).name}: position (horizontal) against clout "
                "(vertical); marker area shows salience. Vertical lines mark each model's "
                "forecast and the status quo." + (" " + nash_note(at_sq, 1) if at_sq else ""),
                f"Position map of the actors on {s.issue(issue_id).name}",
            )
    eum_caption = (
        "The expected-utility model round by round: the weighted median and mean of the "
        "actors' positions after each round of challenges; the median after the last round "
        "is the model's forecast."
    )
    swings = _eum_swings(inputs.eum_rounds, s)
    if swings:
        eum_caption += " " + eum_note(swings)
    if len(inputs.eum_rounds) > 1:
        figs.add(
            "bargaining",
            "eum",
            functools.partial(eum_rounds_grid, dict(inputs.eum_rounds), s),
            eum_caption,
            "Expected-utility model positions by round, one panel per issue",
            cost=1.5,
        )
    for issue_id, rounds in inputs.eum_rounds.items() if len(inputs.eum_rounds) == 1 else ():
        issue = s.issue(issue_id) if s is not None else None
        figs.add(
            "bargaining",
            f"eum-{issue_id}",
            functools.partial(
                eum_rounds_chart, rounds, issue, forecasts=inputs.forecasts.get(issue_id)
            ),
            eum_caption,
            "Expected-utility model positions by round",
        )
    return figs, reliability_problem


def scenario_figures(scenario: Scenario) -> list[FigureMaker]:
    """The figures of a report that depend on its scenario alone (the structure, the position
    maps and the expected-utility rounds), as the report of any run of it queues them: the
    same callables, so the same cache keys (:func:`~detente.report.figure_cache.figure_key`).
    """
    from detente.report.bargaining_inputs import scenario_forecasts

    forecasts, eum_rounds = scenario_forecasts(scenario)
    figs, _ = _queue_figures(
        ReportInputs(scenario=scenario, forecasts=forecasts, eum_rounds=eum_rounds)
    )
    return [job.make for job in figs.pending]


def render_report(inputs: ReportInputs) -> str:
    """Render the report as one self-contained HTML string.

    Parameters
    ----------
    inputs : ReportInputs
        The scenario, method and result frames; absent parts are left out of the report.

    Returns
    -------
    str
        The HTML document (no external URLs, no scripts; figures as data URIs).
    """
    s = inputs.scenario
    figs, reliability_problem = _queue_figures(inputs)
    ranked_outcomes, info_outcomes = _split_outcomes(inputs.comparison)
    cache = (
        FigureCache(inputs.figure_cache, tuple(inputs.figure_peers))
        if inputs.figure_cache is not None
        else None
    )
    figs.render(inputs.workers, inputs.progress, cache, inputs.predrawn)
    judgments = _judgments(s, inputs.drivers) if s is not None else []
    findings = _findings(inputs) or _design_findings(inputs)
    sections = [("findings", "Bottom line")] if findings else []
    if s is not None:
        sections.append(("scenario", "The scenario"))
    sections.append(("method", "Method"))
    if inputs.history is not None:
        sections.append(("history", "How well this model knows history"))
    if not inputs.history_only and not inputs.design_only:
        sections += [("results", "Results"), ("drivers", "What drives the results")]
    if inputs.designs:
        sections.append(("design", "Strategies designed for robustness"))
    if figs.section("bargaining"):
        sections.append(("bargaining", "Bargaining"))
    sections.append(("caveats", "Caveats"))

    method = dict(inputs.method)
    method.setdefault("code_version", f"detente {detente.__version__}")
    comparison_ids = (
        list(dict.fromkeys(inputs.comparison["strategy"]))
        if inputs.comparison is not None and not inputs.comparison.empty
        else None
    )
    css = (TEMPLATE_DIR / "report.css").read_text(encoding="utf-8")
    context = {
        "version": detente.__version__,
        "title": inputs.title or (s.title if s is not None else "detente report"),
        "question": s.question if s is not None else "",
        "run_id": inputs.run_id,
        "scenario": s,
        "sections": [{"id": i, "title": t} for i, t in sections],
        "findings": findings,
        "synthesis": _synthesis(inputs),
        "counts": _counts(s, comparison_ids) if s is not None else [],
        "strategies": _strategies(s, comparison_ids) if s is not None else [],
        "judgments": judgments,
        "judgment_rows": 30,
        "judgments_by_drivers": inputs.drivers is not None and not inputs.drivers.empty,
        "judgment_summary": _judgment_summary(judgments) if judgments else "",
        "method": _method_rows(method),
        "comparison_table": (
            _comparison_rows(inputs.comparison, s, ranked_outcomes)
            if inputs.comparison is not None and ranked_outcomes
            else []
        ),
        "info_table": (
            _comparison_rows(inputs.comparison, s, info_outcomes)
            if inputs.comparison is not None and info_outcomes
            else []
        ),
        "rank_by": inputs.rank_by,
        "prim_summary": _prim_summary(inputs),
        "prim_restrictions": _prim_restrictions(inputs.prim_box),
        "drivers_note": _drivers_note(inputs),
        "bargaining_notes": _bargaining_notes(inputs),
        "history": (
            {**history_context(inputs.history), "figure_problem": reliability_problem}
            if inputs.history is not None
            else None
        ),
        "states_from": inputs.states_from,
        "history_only": inputs.history_only,
        "design_only": inputs.design_only,
        "designs": [design_context(d, s) for d in inputs.designs],
        "correlated_note": CORRELATED_INPUTS_NOTE if inputs.states_from else "",
        "caveats": _caveats(inputs, judgments),
        "figures": {
            name: figs.section(name)
            for name in (
                "structure",
                "comparison",
                "fan",
                "drivers",
                "sensitivity",
                "discovery",
                "bargaining",
                "history",
            )
        }
        | {f"design-{d.run_id}": figs.section(f"design-{d.run_id}") for d in inputs.designs},
        "css": css,
    }
    return _environment().get_template("report.html.j2").render(context)


def write_report(inputs: ReportInputs, out: Path) -> Path:
    """Render the report and write it to ``out`` atomically (UTF-8); return ``out``.

    Raises
    ------
    InputError
        When ``out`` cannot be written (see :func:`detente.fileio.atomic_target`): nothing
        is left behind, not even a temporary file.
    """
    from detente.fileio import check_output_file, write_text_atomic

    check_output_file(out)  # before the rendering, which takes a while
    return write_text_atomic(out, render_report(inputs))


def _peer_figure_folders(run_path: Path) -> list[Path]:
    """The figure folders of the other runs next to ``run_path`` (newest first)."""
    try:
        peers = [p / CACHE_DIR for p in run_path.parent.iterdir() if p != run_path]
        found = [(p.stat().st_mtime, p) for p in peers if p.is_dir()]
    except OSError:
        return []
    return [p for _, p in sorted(found, key=lambda t: (-t[0], str(t[1])))]


def build_report(
    run_dir: Path | str | None = None,
    out: Path | None = None,
    run_id: str | None = None,
    workers: int | None = None,
    progress: ReportProgress | None = None,
    predrawn: Predrawn | None = None,
) -> Path:
    """Build the report of a stored run from its artifacts only.

    Parameters
    ----------
    run_dir : Path, optional
        An output folder (default ``detente-out``; its latest run unless ``run_id`` is
        given), one run's folder ``runs/<run_id>``, or a run id (see
        :func:`detente.open_run`).
    out : Path, optional
        Where to write the HTML (default: ``report.html`` in the run's folder).
    run_id : str, optional
        The run to report within ``run_dir`` (a unique prefix is enough).
    workers : int, optional
        Processes drawing the figures (default: :func:`~detente.report.figure_pool.
        default_workers`); the report's bytes do not depend on it.
    progress : callable, optional
        ``progress(figure_id, total)`` as each figure is drawn.
    predrawn : Predrawn, optional
        Figures being drawn elsewhere (:mod:`detente.report.predraw`), taken by key.

    Returns
    -------
    Path
        The file written. The figures' PNGs are kept in the run's ``figures/`` folder and
        reused while their inputs and drawing code are unchanged; one missing there is
        taken from another run's folder that holds it under the same key
        (:mod:`detente.report.figure_cache`).

    Raises
    ------
    InputError
        When ``run_dir`` does not exist or holds no such run.
    """
    from detente.report.rundir import load_run

    inputs, default_out = load_run(run_dir, run_id)
    inputs.workers = default_workers() if workers is None else workers
    inputs.progress = progress
    inputs.figure_cache = default_out.parent / CACHE_DIR
    inputs.figure_peers = _peer_figure_folders(default_out.parent)
    inputs.predrawn = predrawn
    return write_report(inputs, out if out is not None else default_out)
