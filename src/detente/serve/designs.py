"""A design run (``detente design``) for the browser: what was searched, the front, verdicts.

Everything is read from the run's folder (``run.json``, ``pareto.csv``, ``fresh.csv``,
``dominance.csv``, ``generations.csv``) through the report's own reader and formatter
(:mod:`detente.report.design_section`), so the page and the HTML report say the same;
nothing is recomputed. A design can be played in the what-if page under the id
``compare`` takes (``design-<run>:<k>``, :func:`detente.design.job.designed_strategies`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from detente.errors import InputError
from detente.report.design_section import design_context, read_design
from detente.runs.directory import RUNS
from detente.scenario import Scenario
from detente.serve import display, svg


def _never_cells(rows: list[dict[str, Any]], frame: pd.DataFrame, metrics: list[str],
                 nevers: dict[str, float]) -> None:
    """Scores equal to a time-to metric's ``horizon + 1`` read "never" (a mean score only)."""
    for row, (_, values) in zip(rows, frame.iterrows(), strict=True):
        for cell, m in zip(row["scores"], metrics, strict=True):
            if display.is_never(values[m], nevers.get(m)):
                cell["text"] = display.NEVER


def design_view(root: Path, run_id: str, scenario: Scenario | None) -> dict[str, Any]:
    """The template context of design run ``run_id`` under ``root`` (stored files only).

    Raises
    ------
    InputError
        The run's files cannot be read.
    """
    d = read_design(root / RUNS / run_id, run_id)
    if d.problem:
        raise InputError.single("run", d.problem)
    ctx = design_context(d, scenario)
    pareto = d.pareto if d.pareto is not None else pd.DataFrame()
    fresh = d.fresh if d.fresh is not None else pd.DataFrame()
    metrics = d.metrics
    if d.settings.get("robustness") == "mean" and scenario is not None:
        nevers = display.never_values(scenario)
        if not pareto.empty:
            _never_cells(ctx["pareto"], pareto, metrics, nevers)
        if not fresh.empty:
            _never_cells(ctx["fresh"], fresh, metrics, nevers)
    for row, ident in zip(ctx["pareto"], pareto.get("id", []), strict=True):
        row["design_id"] = str(ident)
    ranges = [(str(lv[0]), float(lv[1]), float(lv[2])) for lv in d.settings.get("levers", [])]
    objectives = list(zip(metrics, d.directions, strict=True))
    scores = d.settings.get("fixed_scores") or {}
    options = {f: {m: float(v) for m, v in scores.get(f, {}).items() if v is not None}
               for f in d.fixed}
    ctx["chart"] = svg.front_coordinates(pareto, ranges, objectives, options)
    ctx["option_colours"] = [(f, svg.PALETTE[1 + i % (len(svg.PALETTE) - 1)])
                             for i, f in enumerate(d.fixed)]
    ctx["base"] = str(d.settings.get("strategy", ""))
    ctx["scenario_id"] = str(d.settings.get("scenario", ""))
    ctx["scenario_sha256"] = str(d.settings.get("scenario_sha256", ""))
    return ctx


__all__ = ["design_view"]
