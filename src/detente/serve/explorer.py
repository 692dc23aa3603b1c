"""Stored runs for the browser: the list, a run's comparison, and PRIM boxes on demand.

Everything is read from the run folders next to the results database
(:mod:`detente.runs.directory`), the same files the CLI writes, so the page and the CLI see
the same runs. PRIM is re-run from a run's stored states and cell means (no simulation):
choosing another box or another condition costs a peel (milliseconds) and the box's
resampling (under a second for 50 resamples), not a rerun of ``detente explore``.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from detente.errors import InputError
from detente.experiments import analysis, outcome_expr, prim, versus
from detente.runs.directory import REPORT_HTML, RUN_JSON, RUNS
from detente.runs.run import Run, open_run
from detente.scenario.uncertainty import uncertainties

#: A run id as the jobs make them (no path separators, no dots at the start).
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,120}")
#: Resamples behind a box's stability on the page (the CLI's default).
PAGE_RESAMPLES = prim.DEFAULT_RESAMPLES
#: PRIM set-ups kept in memory (one per run, strategy and condition).
CACHE_SIZE = 16


def list_runs(root: Path) -> list[dict[str, Any]]:
    """Every readable run under ``root/runs``, newest first, with what identifies it."""
    folder = root / RUNS
    if not folder.is_dir():
        return []
    found = []
    for run_dir in folder.iterdir():
        info_path = run_dir / RUN_JSON
        if not RUN_ID.fullmatch(run_dir.name) or not info_path.is_file():
            continue
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(info, dict):
            continue
        strategies = info.get("strategies") or [info.get("strategy")]
        found.append(
            {
                "run_id": run_dir.name,
                "kind": str(info.get("kind", "compare")),
                "scenario": str(info.get("scenario", "")),
                "strategies": [str(s) for s in strategies if s],
                "states": info.get("states"),
                "worlds": info.get("worlds"),
                "outcome": info.get("outcome"),
                "report": (run_dir / REPORT_HTML).is_file(),
                "modified": info_path.stat().st_mtime,
            }
        )
    return sorted(found, key=lambda r: -float(r["modified"]))


def _run_folder(root: Path, run_id: str) -> Path:
    """The folder of stored run ``run_id`` under ``root``; InputError if the id is malformed
    (an exact id, never a path) or names no run."""
    if not RUN_ID.fullmatch(run_id) or not (root / RUNS / run_id / RUN_JSON).is_file():
        raise InputError.single("run", f"no stored run {run_id!r} under {root}")
    return root / RUNS / run_id


def load_run(root: Path, run_id: str) -> Run:
    """The stored run ``run_id`` under ``root`` (an exact id; never a path).

    Raises
    ------
    InputError
        The id is malformed or names no run.
    """
    return open_run(_run_folder(root, run_id))


def report_html(root: Path, run_id: str) -> bytes | None:
    """The HTML report stored in run ``run_id``'s folder (``report.html``), or None.

    Raises
    ------
    InputError
        The id is malformed or names no run.
    """
    path = _run_folder(root, run_id) / REPORT_HTML
    return path.read_bytes() if path.is_file() else None


def comparison_rows(run: Run) -> list[dict[str, Any]]:
    """The run's comparison table as records (empty when it has none)."""
    frame = run.comparison
    if frame is None:
        return []
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    return rows


@dataclass
class PrimSetup:
    """What PRIM runs on for one run, strategy and condition."""

    run_id: str
    strategy: str
    outcome: str
    x: pd.DataFrame
    y: np.ndarray
    bounds: np.ndarray
    alpha: float
    density: float
    paste: bool
    seed: int
    chosen: int
    trajectory: pd.DataFrame
    note: str = ""


def default_question(run: Run) -> tuple[str | None, str | None, list[str], str]:
    """The strategy, condition and include globs PRIM ran on when the run was made.

    For a ``compare`` run, the run's own discovery (where its leader misses or meets its
    threshold) when that condition can be evaluated; the note says what it is.
    """
    info = run.info
    analysis_ = info.get("analysis") if isinstance(info.get("analysis"), dict) else {}
    assert isinstance(analysis_, dict)
    if run.kind == "explore":
        include = [str(p) for p in analysis_.get("include") or []]
        return info.get("strategy"), info.get("outcome"), include, "the run's own question"
    found = run.discovery or {}
    strategy = found.get("strategy")
    condition = found.get("condition")
    outcome = found.get("outcome") if found.get("cases") == "succeeds" else condition
    note = (
        f"where {strategy} {found.get('cases', 'falls short')} (the run's discovery)"
        if strategy
        else ""
    )
    return strategy, outcome, ["parameters.*"], note


def suggested_condition(run: Run) -> tuple[str, str]:
    """A condition to start from when the run names none: the scenario's first goal."""
    for metric in run.scenario.metrics:
        if metric.direction != "info" and metric.threshold is not None:
            sign = ">=" if metric.direction == "maximize" else "<="
            return (f"{metric.id} {sign} {metric.threshold:g}",
                    f"suggested: the states where the strategy meets the scenario's goal "
                    f"for {metric.id}")
    return "", ""


def _strategies(run: Run) -> list[str]:
    means = run.summaries
    if means is None:
        return []
    return [str(s) for s in pd.unique(means["strategy"])]


def prim_setup(
    run: Run,
    strategy: str | None = None,
    outcome: str | None = None,
    include: list[str] | None = None,
) -> PrimSetup:
    """PRIM's states, cases and trajectory for a stored run and a condition on its outcomes.

    Raises
    ------
    InputError
        The run has no states, the strategy is not in it, the condition is not a
        comparison over its outcomes, or it holds in all states or none.
    """
    means, params = run.summaries, run.parameters
    if means is None or params is None:
        raise InputError.single("run", f"{run.run_id} stores no sampled states to explore")
    d_strategy, d_outcome, d_include, _ = default_question(run)
    strategy = strategy or d_strategy or _strategies(run)[0]
    outcome = (outcome or d_outcome or "").strip()
    include = include if include is not None else d_include
    names = _strategies(run)
    if strategy not in names:
        raise InputError.single("strategy", f"{strategy!r} is not in this run ({', '.join(names)})")
    if not outcome:
        raise InputError.single("outcome", "type a condition on the outcomes, e.g. dialogue < 20")
    if len(outcome) > 300:
        raise InputError.single("outcome", "the condition is longer than 300 characters")
    scenario = run.scenario
    produced = [c for c in means.columns if c not in ("state", "strategy", "worlds")]
    directions = analysis.outcome_spec(scenario, produced).directions
    rivals = [s for s in names if s != strategy]
    functions = {f: versus.ranked(directions) for f in versus.FUNCTIONS}
    tree = outcome_expr.check_expression(outcome, produced, functions, label="condition")
    if not outcome_expr.is_condition(tree, binary_functions=versus.BINARY):
        raise InputError.single(
            "condition", f"{outcome!r} must be a comparison, e.g. dialogue < 20"
        )
    cols_all = [c for c in params.columns if not include
                or any(fnmatch.fnmatchcase(str(c), g) for g in include)]
    if not cols_all:
        raise InputError.single("include", f"{include} matches no sampled uncertainty of the run")
    x = params[cols_all]
    cell = means[means.strategy == strategy].set_index("state").loc[x.index]
    cols = {m: cell[m].to_numpy(dtype=float) for m in produced}
    if rivals:
        cols |= versus.versus_columns(means, strategy, rivals, directions, x.index)
    y = np.asarray(outcome_expr.evaluate_values(outcome, cols, functions, label="condition"),
                   dtype=bool)
    if not y.any() or y.all():
        raise InputError.single(
            "condition",
            f"{outcome!r} holds in {int(y.sum())} of {len(y)} states: PRIM needs states "
            "both with and without it",
        )
    ranges = {p.name: (p.low, p.high) for p in uncertainties(scenario)}
    xa = x.to_numpy(dtype=float)
    bounds = np.array(
        [ranges.get(str(c), (float(xa[:, j].min()), float(xa[:, j].max())))
         for j, c in enumerate(x.columns)], dtype=float
    )
    bounds[:, 0] = np.minimum(bounds[:, 0], xa.min(axis=0))
    bounds[:, 1] = np.maximum(bounds[:, 1], xa.max(axis=0))
    info = run.info
    settings = info.get("analysis") if isinstance(info.get("analysis"), dict) else {}
    assert isinstance(settings, dict)
    alpha = float(settings.get("alpha", 0.05))
    paste = bool(settings.get("paste", False))
    if run.kind == "explore":
        density = float(settings.get("density", 0.8))
    else:  # the rule of a compare run's own discovery: clearly purer than the base rate
        base = float(y.mean())
        density = max(0.6, base + 0.5 * (1.0 - base))
    result = prim.prim(x, y, alpha=alpha, threshold=density, bounds=bounds)
    chosen = result.selected
    step = settings.get("box")
    same = strategy == d_strategy and outcome == d_outcome
    if same and isinstance(step, int) and 0 <= step < len(result.trajectory):
        chosen = step  # the run's --box
    return PrimSetup(
        run_id=run.run_id, strategy=strategy, outcome=outcome, x=x, y=y, bounds=bounds,
        alpha=alpha, density=density, paste=paste, seed=int(info.get("seed", 0)),
        chosen=chosen, trajectory=result.trajectory,
    )


def box_at(setup: PrimSetup, step: int, resamples: int = PAGE_RESAMPLES) -> dict[str, Any]:
    """The box of peeling step ``step`` with each restriction's quasi-p value and stability.

    Raises
    ------
    InputError
        ``step`` is outside the trajectory.
    """
    last = len(setup.trajectory) - 1
    if not 0 <= step <= last:
        raise InputError.single("step", f"{step} is outside the trajectory 0..{last}")
    result = prim.prim(setup.x, setup.y, alpha=setup.alpha, threshold=setup.density,
                       step=step, paste_box=setup.paste, bounds=setup.bounds)
    box, _ = prim.assess_box(setup.x, setup.y, result, resamples=resamples, seed=setup.seed)
    stats = prim.box_stats(setup.x.to_numpy(dtype=float), setup.y, result.box_limits())
    rows = json.loads(box.to_json(orient="records"))
    weak = set(prim.weak_restrictions(box))
    for row in rows:
        row["weak"] = row["uncertainty"] in weak
    return {
        "step": step,
        "chosen": step == setup.chosen,
        "coverage": stats["coverage"],
        "density": stats["density"],
        "mass": stats["mass"],
        "cases": int(setup.y.sum()),
        "states": len(setup.y),
        "resamples": resamples,
        "restrictions": rows,
        "limits": result.box_limits().tolist(),
    }


class PrimCache:
    """The last :data:`CACHE_SIZE` PRIM set-ups, shared by the server's threads."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str, str, str], PrimSetup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run: Run, strategy: str | None, outcome: str | None) -> PrimSetup:
        """The set-up for this question, computed once."""
        key = (run.run_id, str(run.path), strategy or "", outcome or "")
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        setup = prim_setup(run, strategy, outcome)
        with self._lock:
            self._items[key] = setup
            while len(self._items) > CACHE_SIZE:
                self._items.popitem(last=False)
        return setup


def sensitivity_indices(root: Path, scenario_id: str) -> tuple[pd.DataFrame | None, str]:
    """The newest stored Sobol run of ``scenario_id``: its indices and how to name it."""
    for row in list_runs(root):
        if row["kind"] != "sensitivity" or row["scenario"] != scenario_id:
            continue
        try:
            run = load_run(root, row["run_id"])
        except InputError:
            continue
        if run.info.get("method") != "sobol" or run.sensitivity is None:
            continue
        outcome = run.info.get("outcome", "")
        return run.sensitivity, f"sensitivity run {row['run_id']} (outcome {outcome})"
    return None, ""


__all__ = [
    "PrimCache",
    "PrimSetup",
    "box_at",
    "comparison_rows",
    "default_question",
    "list_runs",
    "load_run",
    "prim_setup",
    "report_html",
    "sensitivity_indices",
    "suggested_condition",
]
