"""The report's section "How well this model knows history", read from a stored run.

A run whose states were drawn from a posterior (``--posterior``) records the calibration or
hindcast run it used (``posterior_run_id``, ``posterior_sha256``, ``posterior_run_dir``);
a ``calibrate`` or ``hindcast`` run is its own posterior run. This module reads that run's
folder, and only what it stored there:

- ``run.json``: kind, cut-off (``until`` or ``cutoff``), particles, worlds, moves, seed;
- ``generations.csv``: per tempering generation, beta, effective sample size, acceptance;
- ``learned.csv``: per uncertainty, prior and posterior intervals (the report shows the
  :data:`LEARNED_ROWS` the data moved most, in the stored order);
- ``observations.csv``: per observation used, its prior and posterior probability;
- a hindcast's ``hindcast_scores.csv`` (the model against the three references, with paired
  differences and their intervals), ``hindcast_forecasts.csv`` and ``reliability.csv``
  (drawn as a reliability diagram by :mod:`detente.report.figures.reliability`).

Nothing is recomputed. When the folder is gone, or ``posterior.csv`` no longer has the hash
the run recorded, the section says so in one line instead of failing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from detente.errors import InputError
from detente.formatting import number, percent
from detente.runs.directory import RUN_JSON, RunDir

POSTERIOR_KINDS = ("calibrate", "hindcast")
"""Run kinds that hold a posterior."""
LEARNED_ROWS = 12
"""Uncertainties of ``learned.csv`` the section lists (those the data moved most)."""
POSTERIOR_CSV = "posterior.csv"


@dataclass(frozen=True)
class HistoryInputs:
    """What the history section shows, as stored by a calibrate or hindcast run.

    Attributes
    ----------
    run_id : str
        The calibrate or hindcast run.
    kind : str
        ``calibrate`` or ``hindcast`` (empty when the folder could not be read).
    until : str
        The last date whose observations the calibration used.
    problem : str
        One line saying why the section cannot be shown (folder gone, files changed);
        empty when it can.
    settings : dict
        Particles, worlds, moves, seed, ... from the run's ``run.json``.
    generations, learned, observations, scores, forecasts, reliability : DataFrame, optional
        The run's tables (None when it did not store one).
    """

    run_id: str
    kind: str = ""
    until: str = ""
    problem: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    generations: pd.DataFrame | None = None
    learned: pd.DataFrame | None = None
    observations: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    forecasts: pd.DataFrame | None = None
    reliability: pd.DataFrame | None = None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (how a posterior's content is identified)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cutoff(info: dict[str, Any]) -> str:
    return str(info.get("until") or info.get("cutoff") or "")


def read_history(folder: Path | None, run_id: str, expected_sha256: str = "") -> HistoryInputs:
    """The history section's inputs from a calibrate or hindcast run's folder.

    Parameters
    ----------
    folder : Path, optional
        The run's folder (None: not known, reported like a missing folder).
    run_id : str
        The run's id, as the run using it recorded it.
    expected_sha256 : str
        The hash of ``posterior.csv`` the using run recorded ('' for the run itself).
    """
    if folder is None or not (folder / RUN_JSON).is_file():
        where = f" ({folder})" if folder is not None else ""
        return HistoryInputs(
            run_id,
            problem=f"The folder of calibration run {run_id}{where} is no longer there, so "
            "this report cannot show how well the model knows history.",
        )
    run = RunDir(folder)
    try:
        info = run.info()
        posterior = folder / POSTERIOR_CSV
        if expected_sha256 and posterior.is_file() and file_sha256(posterior) != expected_sha256:
            return HistoryInputs(
                run_id,
                str(info.get("kind", "")),
                _cutoff(info),
                problem=f"The {POSTERIOR_CSV} of calibration run {run_id} ({folder}) is not "
                "the one this run drew its states from (its SHA-256 differs), so its history "
                "section is not shown.",
            )
        return HistoryInputs(
            run_id=run_id,
            kind=str(info.get("kind", "")),
            until=_cutoff(info),
            settings={
                k: info[k]
                for k in ("particles", "worlds", "moves", "seed", "strategy", "ess")
                if k in info
            },
            generations=run.table("generations.csv"),
            learned=run.table("learned.csv"),
            observations=run.table("observations.csv"),
            scores=run.table("hindcast_scores.csv"),
            forecasts=run.table("hindcast_forecasts.csv"),
            reliability=run.table("reliability.csv"),
        )
    except (InputError, OSError) as exc:
        return HistoryInputs(
            run_id, problem=f"The files of calibration run {run_id} cannot be read: {exc}"
        )


def history_of(info: dict[str, Any], run_dir: RunDir) -> HistoryInputs | None:
    """The history section of a stored run: its posterior run's, its own for a calibrate
    or hindcast run, None for a run on the prior."""
    if info.get("kind") in POSTERIOR_KINDS:
        return read_history(run_dir.path, run_dir.run_id)
    used = info.get("posterior_run_id")
    if not used:
        return None
    recorded = info.get("posterior_run_dir")
    candidates = [Path(str(recorded))] if recorded else []
    candidates.append(run_dir.root / "runs" / str(used))
    folder = next((c for c in candidates if (c / RUN_JSON).is_file()), None)
    return read_history(folder, str(used), str(info.get("posterior_sha256") or ""))


# ---------------------------------------------------------------------------------------
# for the template
# ---------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return number(value) or "–"


def _header(column: str) -> str:
    text = str(column).replace("_", " ")
    return text[:1].upper() + text[1:]


def table(frame: pd.DataFrame | None, columns: list[str] | None = None) -> dict[str, Any]:
    """``{"headers", "rows", "numeric"}`` of a stored table in the house number format
    (every column, or those of ``columns`` it has)."""
    if frame is None or frame.empty:
        return {"headers": [], "rows": [], "numeric": []}
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in cols]
    rows = [[_cell(v) for v in row] for row in frame[cols].itertuples(index=False)]
    return {"headers": [_header(c) for c in cols], "rows": rows, "numeric": numeric}


def learned_rows(frame: pd.DataFrame | None, top: int = LEARNED_ROWS) -> list[dict[str, str]]:
    """The uncertainties the data moved most: prior and posterior 90% intervals, narrowing
    and shift (in prior interval widths) and whether that is beyond resampling noise
    (``moved``); those beyond it first, then in the stored order (largest change first)."""
    if frame is None or frame.empty:
        return []
    if "moved" in frame.columns:
        moved = frame["moved"].astype(str).str.lower().eq("true")
        frame = pd.concat([frame[moved], frame[~moved]])
    return [
        {
            "parameter": str(r["parameter"]),
            "prior": f"[{number(r['prior_low'])}, {number(r['prior_high'])}]",
            "posterior": f"[{number(r['posterior_low'])}, {number(r['posterior_high'])}]",
            "narrowing": percent(r.get("narrowing")) or "–",
            "shift": _cell(r.get("shift")),
            "moved": _moved(r.get("moved")),
        }
        for _, r in frame.head(top).iterrows()
    ]


def _moved(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return "yes" if str(value).lower() == "true" else "no"


def _moved_count(frame: pd.DataFrame | None) -> int | None:
    if frame is None or "moved" not in frame.columns:
        return None
    return int(frame["moved"].astype(str).str.lower().eq("true").sum())


SETTING_LABELS = {
    "particles": "Particles (states) in the posterior",
    "worlds": "Worlds per particle",
    "moves": "Moves per generation",
    "seed": "Seed",
    "strategy": "History script (the path followed)",
    "ess": "Effective sample size (last reweighting)",
}


GENERATION_COLUMNS = ["generation", "beta", "ess", "acceptance", "evaluations", "seconds"]
OBSERVATION_COLUMNS = [
    "observation",
    "date",
    "kind",
    "observed",
    "prior_probability",
    "posterior_probability",
]


def history_context(history: HistoryInputs) -> dict[str, Any]:
    """The history section's template context (tables formatted, nothing computed)."""
    hindcast = history.scores is not None and not history.scores.empty
    return {
        "run_id": history.run_id,
        "kind": history.kind,
        "until": history.until,
        "problem": history.problem,
        "settings": [
            (SETTING_LABELS.get(k, _header(k)), _cell(v)) for k, v in history.settings.items()
        ],
        "scores": table(history.scores),
        "forecasts": table(history.forecasts),
        "hindcast": hindcast,
        "learned": learned_rows(history.learned),
        "learned_total": 0 if history.learned is None else len(history.learned),
        "learned_moved": _moved_count(history.learned),
        "generations": table(history.generations, GENERATION_COLUMNS),
        "observations": table(history.observations, OBSERVATION_COLUMNS),
    }


__all__ = [
    "HistoryInputs",
    "file_sha256",
    "history_context",
    "history_of",
    "read_history",
]
