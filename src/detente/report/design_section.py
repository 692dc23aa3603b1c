"""The report's section "Strategies designed for robustness", read from a design run.

A ``detente design`` run (``runs/des-<id>/``) stores what its report needs
(:mod:`detente.design.job`): ``run.json`` (levers, objectives and their directions, the
robustness measure, states, worlds, fresh states, generations, population, the fixed
options' scores on the search states), ``pareto.csv`` (the front: levers and scores on the
search states), ``fresh.csv`` (options and designs re-scored on fresh states),
``dominance.csv`` (each option's verdict) and ``generations.csv`` (candidates simulated per
generation). This module reads them and formats them for the template; nothing is
recomputed.

The report of the design run shows the whole section. The report of a ``compare`` or
``run`` that took designed strategies by id (``design-<run>:<k>``, recorded under
``designed`` in its ``run.json``) shows a short version read from that design run's folder.
A design run that merely shares the output folder is not shown: the report of a run would
then change whenever an unrelated run is added next to it (docs/reports.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from detente.errors import InputError
from detente.formatting import metric_value, number
from detente.runs.directory import RUN_JSON, RUNS, RunDir
from detente.scenario.schema import Scenario

DESIGN_KIND = "design"
DESIGN_PREFIX = "design-"
"""How ``compare`` names a designed strategy: ``design-<design run id>:<row>``."""
MEASURES = {
    "mean": "the mean over the search states",
    "regret": "the largest regret over the search states against the best fixed option in "
    "each state (lower is better)",
    "satisficing": "the share of search states meeting the metric's threshold (a metric "
    "without a threshold: its mean)",
}


@dataclass(frozen=True)
class DesignInputs:
    """What the design section shows, as a design run stored it.

    Attributes
    ----------
    run_id : str
        The design run.
    problem : str
        One line saying why the section cannot be shown; empty when it can.
    settings : dict
        The design run's ``run.json``.
    pareto, fresh, dominance, generations : DataFrame, optional
        The run's tables.
    used : tuple of str
        The designs a compare run took from this run (its short section); empty for the
        design run's own report.
    """

    run_id: str
    problem: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    pareto: pd.DataFrame | None = None
    fresh: pd.DataFrame | None = None
    dominance: pd.DataFrame | None = None
    generations: pd.DataFrame | None = None
    used: tuple[str, ...] = ()

    @property
    def levers(self) -> list[str]:
        """The levers' parameter names, in the run's order."""
        return [str(lv[0]) for lv in self.settings.get("levers", [])]

    @property
    def metrics(self) -> list[str]:
        """The objectives (metric ids)."""
        return [str(m) for m in self.settings.get("metrics", [])]

    @property
    def directions(self) -> list[str]:
        """The scores' directions (regret is minimised, a satisficing share maximised)."""
        return [str(d) for d in self.settings.get("score_directions", [])]

    @property
    def fixed(self) -> list[str]:
        """The fixed options the designs are compared with."""
        return [str(f) for f in self.settings.get("fixed", [])]

    def fixed_scores(self) -> np.ndarray:
        """The fixed options' scores on the search states ``[options, objectives]``."""
        scores = self.settings.get("fixed_scores") or {}
        return np.array([[np.nan if scores.get(f, {}).get(m) is None else float(scores[f][m])
                          for m in self.metrics] for f in self.fixed], dtype=np.float64)


def read_design(folder: Path, run_id: str, used: Sequence[str] = ()) -> DesignInputs:
    """The section's inputs from a design run's folder (a problem line when it is gone or
    unreadable)."""
    if not (folder / RUN_JSON).is_file():
        return DesignInputs(run_id, problem=f"The folder of design run {run_id} ({folder}) is no "
                            "longer there, so this report cannot show how its designs were "
                            "found.", used=tuple(used))
    run = RunDir(folder)
    try:
        info = run.info()
        if info.get("kind") != DESIGN_KIND:
            raise InputError.single(str(folder), "is not a design run")
        return DesignInputs(run_id, settings=info, pareto=run.table("pareto.csv"),
                            fresh=run.table("fresh.csv"), dominance=run.table("dominance.csv"),
                            generations=run.table("generations.csv"), used=tuple(used))
    except (InputError, OSError) as exc:
        return DesignInputs(run_id, problem=f"The files of design run {run_id} cannot be read: "
                            f"{exc}", used=tuple(used))


def designs_of(info: Mapping[str, Any], run_dir: RunDir) -> list[DesignInputs]:
    """The design sections of a stored run: its own for a design run; for a compare run, one
    short section per design run it took designed strategies from (none otherwise)."""
    if info.get("kind") == DESIGN_KIND:
        return [read_design(run_dir.path, run_dir.run_id)]
    used: dict[str, list[str]] = {}
    for entry in info.get("designed") or []:
        name = str(entry.get("id", "")) if isinstance(entry, Mapping) else ""
        if name.startswith(DESIGN_PREFIX) and ":" in name:
            used.setdefault(name[len(DESIGN_PREFIX):].rpartition(":")[0], []).append(name)
    return [read_design(run_dir.root / RUNS / rid, rid, names) for rid, names in used.items()]


# ---------------------------------------------------------------------------------------
# for the template
# ---------------------------------------------------------------------------------------


def label_for(strategy: str, names: Mapping[str, str]) -> str:
    """A strategy's display name (its id humanized when the scenario gives none)."""
    from detente.report.figures.style import label_for as label

    return label(strategy, names)


def _label(metric: str, scenario: Scenario | None) -> str:
    from detente.report.figures.fan import metric_label

    return metric_label(metric, scenario, width=200)


def _row_label(design_id: str) -> str:
    """``design-des-x:3`` -> ``3`` (the row of pareto.csv, as the tables show it)."""
    return design_id.rpartition(":")[2]


def _units(d: DesignInputs, scenario: Scenario | None) -> list[str | None]:
    """How each score reads: the metric's unit (``0/1``: a share, shown in percent), or a
    share of states for a satisficing score with a threshold."""
    units = {m.id: m.unit for m in scenario.metrics} if scenario is not None else {}
    limits = list(d.settings.get("thresholds") or [])
    limits += [None] * (len(d.metrics) - len(limits))
    satisficing = d.settings.get("robustness") == "satisficing"
    return ["0/1" if satisficing and limit is not None else units.get(m)
            for m, limit in zip(d.metrics, limits, strict=True)]


def _scores(frame: pd.DataFrame, metrics: Sequence[str], directions: Sequence[str],
            units: Sequence[str | None], bold_best: bool) -> list[list[dict[str, Any]]]:
    """Each row's scores as cells ``{"text", "best"}`` (``best``: the column's best value)."""
    best: dict[str, float] = {}
    if bold_best:
        for m, d in zip(metrics, directions, strict=True):
            col = frame[m].astype(float)
            if col.notna().any():
                best[m] = float(col.max() if d == "maximize" else col.min())
    return [[{"text": metric_value(r[m], u, short=True) or "–",
              "best": m in best and float(r[m]) == best[m]}
             for m, u in zip(metrics, units, strict=True)] for _, r in frame.iterrows()]


def _short(metric: str) -> str:
    """A metric's short name in the tables and the figure (its id, spaced)."""
    return metric.replace("_", " ")


def _objectives_text(metrics: Sequence[str], directions: Sequence[str],
                     scenario: Scenario | None) -> str:
    """``9: dialogue ↑ (Dialogue level (0-100)); ...``: the tables' short names explained."""
    return f"{len(metrics)}: " + "; ".join(
        f"{_short(m)} {'↑' if d == 'maximize' else '↓'} ({_label(m, scenario)})"
        for m, d in zip(metrics, directions, strict=True))


def _verdicts(dominance: pd.DataFrame | None, fixed: Sequence[str],
              names: Mapping[str, str], short: bool) -> list[dict[str, str]]:
    if dominance is None or dominance.empty:
        return []
    rows = []
    for option in fixed:
        cells = {}
        for states in ("search", "fresh"):
            sub = dominance[(dominance["option"] == option) & (dominance["states"] == states)]
            if sub.empty:
                cells[states] = "–"
                continue
            r = sub.iloc[0]
            designs = "" if pd.isna(r["designs"]) else str(r["designs"])
            rows_of = [_row_label(d) for d in designs.split(", ") if d]
            which = (f"rows {', '.join(rows_of)} of its front" if short
                     else f"designs {', '.join(rows_of)}")
            tail = f" (by {which})" if r["status"] == "dominated" else (
                f" ({which})" if rows_of else "")
            cells[states] = f"{r['status']}{tail}"
        rows.append({"option": label_for(option, names), "search": cells["search"],
                     "fresh": cells["fresh"]})
    return rows


def meaning(d: DesignInputs, names: Mapping[str, str] | None = None) -> str:
    """What the verdicts on the fresh states mean, in one or two sentences (``names``: the
    options' display names)."""
    names = names or {}

    def said(options: Sequence[str]) -> str:
        shown = [label_for(o, names) for o in options]
        return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]

    dom = d.dominance
    if dom is None or dom.empty:
        return ""
    fresh = dom[dom["states"] == "fresh"]
    search = dom[dom["states"] == "search"]
    status = dict(zip(fresh["option"], fresh["status"], strict=True))
    before = dict(zip(search["option"], search["status"], strict=True))
    beaten = [o for o in d.fixed if status.get(o) == "dominated"]
    lost = [o for o in d.fixed if before.get(o) == "dominated" and status.get(o) != "dominated"]
    beyond = [o for o in d.fixed if status.get(o) == "dominates designs"]
    n_front = 0 if d.pareto is None else len(d.pareto)
    population = int(d.settings.get("population") or 0)
    parts = []
    if beaten:
        parts.append(f"On states the search never saw, {said(beaten)} "
                     f"{'is' if len(beaten) == 1 else 'are'} dominated: a design does at least "
                     "as well on every objective and better on one.")
    if lost:
        parts.append(f"{said(lost)} {'was' if len(lost) == 1 else 'were'} dominated on the "
                     "search states but not on fresh ones: that edge did not carry over to new "
                     "states.")
    if beyond:
        parts.append(f"{said(beyond)} dominate{'s' if len(beyond) == 1 else ''} some "
                     "designs on the fresh states: those designs did well on the search states "
                     "only.")
    on_front = [o for o in d.fixed if status.get(o) == "on the front"]
    if on_front:
        weak = population and n_front >= population
        text = (f"{said(on_front)} {'is' if len(on_front) == 1 else 'are'} on the front: "
                "no design beats "
                f"{'it' if len(on_front) == 1 else 'them'} on every objective at once.")
        if weak:
            text += (f" With {len(d.metrics)} objectives every one of the {population} "
                     "candidates of the last generation is non-dominated, so this is a weak "
                     "verdict: it does not say the options are as good as the designs. Read the "
                     "table objective by objective, or design again with fewer objectives "
                     "(--objectives).")
        parts.append(text)
    return " ".join(parts)


def design_context(d: DesignInputs, scenario: Scenario | None) -> dict[str, Any]:
    """The section's template context (tables formatted; nothing recomputed)."""
    from detente.report.figures.fan import strategy_names

    if d.problem:
        return {"run_id": d.run_id, "problem": d.problem, "short": bool(d.used)}
    s = d.settings
    names = strategy_names(scenario)
    metrics, directions, levers = d.metrics, d.directions, d.levers
    evaluated = (int(d.generations["evaluated"].sum())
                 if d.generations is not None and "evaluated" in d.generations else None)
    states, worlds = int(s.get("states", 0)), int(s.get("worlds", 0))
    measure = str(s.get("robustness"))
    from_text = s.get("states_from") or "sampled from the scenario's ranges (Latin hypercube)"
    searched = [
        ("Strategy searched", label_for(str(s.get("strategy")), names)),
        ("Levers and their ranges",
         "; ".join(f"{k} {v}" for k, v in (s.get("levers_text") or {}).items())),
        ("Objectives", _objectives_text(metrics, [str(x) for x in s.get("directions", [])],
                                        scenario)),
        ("Robustness measure", f"{measure}: {MEASURES.get(measure, '')}"),
        ("States", f"{states} search states x {worlds} worlds, {from_text}; "
                   f"{s.get('fresh')} fresh states for the re-scoring"),
        ("Search", f"{s.get('algorithm', 'NSGA-II')}: {s.get('generations')} generations x "
                   f"{s.get('population')} candidates"),
    ]
    if evaluated is not None:
        searched.append(("Evaluations", f"{evaluated:,} distinct candidates simulated, each on "
                         f"every search state ({evaluated * states:,} candidate-states, "
                         f"{evaluated * states * worlds:,} worlds); repeats of a lever vector "
                         "reuse its scores"))
    pareto = d.pareto if d.pareto is not None else pd.DataFrame()
    fresh = d.fresh if d.fresh is not None else pd.DataFrame()
    units = _units(d, scenario)
    arrows = ["↑" if x == "maximize" else "↓" for x in directions]
    heads = [f"{_short(m)} {a}" for m, a in zip(metrics, arrows, strict=True)]
    used_rows = {_row_label(u) for u in d.used}
    pareto_rows = [
        {"id": _row_label(str(r["id"])), "levers": [number(r[lv]) or "–" for lv in levers],
         "scores": cells, "used": _row_label(str(r["id"])) in used_rows}
        for (_, r), cells in zip(pareto.iterrows(),
                                 _scores(pareto, metrics, directions, units, False), strict=True)
    ] if not pareto.empty else []
    fresh_rows = [
        {"name": label_for(str(r["strategy"]), names) if r["kind"] == "option"
         else str(r["strategy"]) if d.used else f"design {_row_label(str(r['strategy']))}",
         "option": r["kind"] == "option", "scores": cells,
         "used": r["kind"] != "option" and _row_label(str(r["strategy"])) in used_rows}
        for (_, r), cells in zip(fresh.iterrows(),
                                 _scores(fresh, metrics, directions, units, True), strict=True)
    ] if not fresh.empty else []
    if d.used:
        fresh_rows = [r for r in fresh_rows if r["option"] or r["used"]]
    return {
        "run_id": d.run_id,
        "problem": "",
        "short": bool(d.used),
        "used": list(d.used),
        "strategy": label_for(str(s.get("strategy")), names),
        "searched": searched,
        "levers": levers,
        "heads": heads,
        "pareto": pareto_rows,
        "fresh": fresh_rows,
        "fresh_states": s.get("fresh"),
        "verdicts": _verdicts(d.dominance, d.fixed, names, bool(d.used)),
        "meaning": meaning(d, names),
        "n_front": len(pareto_rows),
        "levers_text": searched[1][1],
        "n_objectives": len(metrics),
        "states_text": f"{states} states x {worlds} worlds",
        "measure": s.get("robustness"),
    }


__all__ = ["DesignInputs", "design_context", "designs_of", "meaning", "read_design"]
