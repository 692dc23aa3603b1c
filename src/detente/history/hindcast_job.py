"""The hindcast job: calibrate up to a cut-off, forecast every later observation, score.

:func:`hindcast` checks all of its input first (scenario, cut-off, held-out file), then
calls :func:`detente.calibration.job.calibrate` with ``until=cutoff`` (a finished
calibration with the same settings is reused, not recomputed: calibrate resumes by run
id), so no observation after the cut-off can reach the posterior: calibrate itself keeps
only :func:`~detente.calibration.cutoff.observations_until` the cut-off. It then forecasts
every observation after the cut-off (the scenario's own and the held-out file's) with the
model and the three references (:mod:`detente.history.forecasts`), scores them
(:mod:`detente.history.hindcast`) and stores a run folder of kind ``hindcast``:

``run.json``
    settings, ``calibration_run_id``, ``cutoff``, the observations forecast, the score
    summary and any warnings;
``posterior.csv``, ``prior.csv``, ``generations.csv``, ``learned.csv``, ``observations.csv``
    the calibration's files, copied (so ``--posterior <hindcast id>`` works);
``hindcast_forecasts.csv``, ``hindcast_scores.csv``, ``reliability.csv``
    the tables of :func:`~detente.history.hindcast.score_forecasts`,
    :func:`~detente.history.hindcast.paired_differences` and
    :func:`~detente.history.hindcast.reliability`;
``reliability.png``
    the reliability diagram, drawn from ``reliability.csv``.

Nothing here prints results; the command line reads what the job returned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

import detente.data
from detente.calibration.cutoff import observations_after, parse_cutoff
from detente.calibration.job import CalibrationResult, calibrate, history_script
from detente.errors import InputError
from detente.experiments.executors import make_evaluator
from detente.experiments.jobs import check_counts, check_seed
from detente.experiments.runner import code_version
from detente.experiments.sampling import sample_states
from detente.history.forecasts import hindcast_ensembles
from detente.history.heldout import load_observations
from detente.history.hindcast import paired_differences, reliability, score_forecasts
from detente.history.observe import observe
from detente.report.figures.reliability import reliability_chart
from detente.report.figures.style import save_figure
from detente.runs.directory import RUN_JSON, SCENARIO_YAML, Artifact, RunDir
from detente.runs.scenario_text import load_scenario_with_text, text_sha256
from detente.scenario.schema import Observation, Scenario

MIN_HELD_OUT = 15
"""Fewer observations after the cut-off than this get a warning: a few events decide nothing."""

CALIBRATION_FILES = (
    "posterior.csv",
    "prior.csv",
    "generations.csv",
    "learned.csv",
    "observations.csv",
)
FORECASTS_CSV = "hindcast_forecasts.csv"
SCORES_CSV = "hindcast_scores.csv"
RELIABILITY_CSV = "reliability.csv"
RELIABILITY_STEM = "reliability"


@dataclass(frozen=True)
class HindcastResult:
    """A finished hindcast.

    Attributes
    ----------
    run_id : str
    run_dir : RunDir
        Where every table below is stored, with the calibration's files.
    calibration : CalibrationResult
        The calibration up to the cut-off the forecasts come from.
    observations : list of Observation
        The observations forecast (all after the cut-off), in table order.
    forecasts, scores, reliability : DataFrame
        ``hindcast_forecasts.csv``, ``hindcast_scores.csv``, ``reliability.csv``.
    figure : Path
        ``reliability.png``.
    warnings : list of str
    payload : dict
        ``run.json``.
    """

    run_id: str
    run_dir: RunDir
    calibration: CalibrationResult
    observations: list[Observation]
    forecasts: pd.DataFrame
    scores: pd.DataFrame
    reliability: pd.DataFrame
    figure: Path
    warnings: list[str]
    payload: dict[str, Any]


def default_heldout(scenario_id: str) -> Path:
    """Where a built-in scenario's held-out file lives: ``data/history/<id>-heldout.yaml``."""
    return Path(detente.data.__file__).parent / "history" / f"{scenario_id}-heldout.yaml"


def forecast_targets(
    sc: Scenario, cutoff: dt.date, heldout: str | Path | None
) -> tuple[list[Observation], str, str]:
    """The observations after the cut-off, and the held-out file used (path, SHA-256).

    The scenario's own observations after the cut-off come first, then the held-out
    file's (``heldout``, else the scenario's default file when there is one); held-out
    observations on or before the cut-off are not forecast.
    """
    own = list(sc.history.observations) if sc.history is not None else []
    path = Path(heldout) if heldout is not None else default_heldout(sc.id)
    held: list[Observation] = []
    shown, digest = "", ""
    if heldout is not None or path.is_file():
        held = load_observations(path, sc)
        shown, digest = str(path), hashlib.sha256(path.read_bytes()).hexdigest()
    return observations_after([*own, *held], cutoff), shown, digest


def _run_id(sc_id: str, parts: Sequence[Any]) -> str:
    h = hashlib.sha256(json.dumps(list(parts), default=str).encode())
    return f"hindcast-{sc_id}-{h.hexdigest()[:16]}"


def _json_number(value: Any) -> Any:
    """A JSON-safe number: NaN and infinities become None (strict JSON has neither)."""
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return value


def hindcast(
    scenario: str | Path,
    *,
    cutoff: str,
    heldout: str | Path | None = None,
    strategy: str | None = None,
    particles: int = 256,
    worlds: int = 32,
    moves: int = 3,
    seed: int = 0,
    out: str | Path | None = None,
    db: str | Path | None = None,
    resume: bool = False,
    scheduler: str | None = None,
    progress: bool = True,
    console: Console | None = None,
    command: str = "hindcast",
) -> HindcastResult:
    """Calibrate up to ``cutoff``, forecast every later observation and score the forecasts.

    Parameters
    ----------
    scenario : str or Path
        Built-in scenario name or YAML file (with a ``history`` section).
    cutoff : str
        Last day whose observations calibrate (``2003Q4``, ``2003``, ``2003-06``, an ISO
        date; :func:`~detente.calibration.cutoff.parse_cutoff`).
    heldout : path, optional
        A held-out observation file (default: the scenario's own, if it has one).
    strategy : str, optional
        The history script (default: calibrate's choice, the scenario's script).
    particles, worlds, moves, seed
        Calibration settings; the forecasts draw ``particles`` states from the posterior
        and from the prior, ``worlds`` worlds each, seeded by ``seed``.
    out, db, resume, scheduler, progress, console
        As for :func:`~detente.calibration.job.calibrate` (the scheduler spreads the
        calibration's batches and the forecasts' batches).
    command : str
        Recorded in ``run.json``.

    Raises
    ------
    InputError
        A bad cut-off, held-out file or setting (one line each), or no observation after
        the cut-off to forecast.
    """
    t_start = time.perf_counter()
    check_counts(particles=particles, worlds=worlds, moves=moves)
    check_seed(seed)
    day = parse_cutoff(cutoff, "--cutoff")
    sc, text = load_scenario_with_text(scenario)
    targets, heldout_path, heldout_sha = forecast_targets(sc, day, heldout)
    if not targets:
        raise InputError.single(
            f"scenario {sc.id}",
            f"no observation after the cut-off {day} to forecast; give an earlier --cutoff "
            "or a held-out file with later observations (--heldout FILE)",
        )
    # Refuse an observation the engine cannot evaluate now, not after the calibration.
    observe(sc, history_script(sc, strategy), 1, seed, observations=targets)
    warnings = []
    if len(targets) < MIN_HELD_OUT:
        warnings.append(
            f"only {len(targets)} observations after the cut-off {day}; a hindcast needs at "
            f"least {MIN_HELD_OUT} for its scores to say much (a few events decide nothing)"
        )
    # A calibration with these settings already in the database is reused (its id hashes
    # everything that determines it, so resuming it cannot change a number); ``resume``
    # only continues an interrupted one, which resuming does anyway.
    del resume
    cal = calibrate(
        scenario, until=cutoff, strategy=strategy, particles=particles, worlds=worlds,
        moves=moves, seed=seed, out=out, db=db, resume=True, scheduler=scheduler,
        progress=progress, console=console,
    )
    if progress:
        (console or Console(stderr=True, highlight=False)).print(
            f"forecasting {len(targets)} observations after {day} "
            f"({particles} posterior and {particles} prior states x {worlds} worlds)",
            markup=False,
        )
    t_forecast = time.perf_counter()
    with make_evaluator(scheduler) as evaluator:
        kinds, ensembles = hindcast_ensembles(
            sc, cal.strategy, targets, day,
            cal.posterior.sample_states(particles, seed, history=True),
            sample_states(sc, particles, seed=seed, history=True),
            worlds, seed, evaluator,
        )
    forecasts = score_forecasts(targets, kinds, ensembles, seed)
    scores = paired_differences(forecasts, seed)
    table = reliability(forecasts)
    forecast_seconds = time.perf_counter() - t_forecast

    run_id = _run_id(sc.id, [
        cal.run_id, [ob.model_dump(mode="json") for ob in targets], particles, worlds, seed,
        str(day), cal.strategy, code_version(),
    ])
    root = cal.run_dir.root
    payload: dict[str, Any] = {
        "run_id": run_id,
        "kind": "hindcast",
        "command": command,
        "scenario": sc.id,
        "scenario_sha256": text_sha256(text),
        "strategy": cal.strategy,
        "cutoff": str(day),
        "until": str(day),
        "calibration_run_id": cal.run_id,
        "heldout": heldout_path,
        "heldout_sha256": heldout_sha,
        "particles": particles,
        "worlds": worlds,
        "moves": moves,
        "seed": seed,
        "observations_forecast": [ob.id for ob in targets],
        "scores": [
            {k: _json_number(v) for k, v in row.items()}
            for row in scores.to_dict("records")
        ],
        "warnings": warnings,
        "run_dir": str(root / "runs" / run_id),
        "figure": str(root / "runs" / run_id / f"{RELIABILITY_STEM}.png"),
        "code_version": code_version(),
        "timings": {"forecast_seconds": round(forecast_seconds, 2)},
    }
    artifacts: dict[str, Artifact] = {SCENARIO_YAML: text}
    for name in CALIBRATION_FILES:
        copied = cal.run_dir.text(name)
        if copied is not None:
            artifacts[name] = copied
    artifacts |= {FORECASTS_CSV: forecasts, SCORES_CSV: scores, RELIABILITY_CSV: table}
    payload["timings"]["total_seconds"] = round(time.perf_counter() - t_start, 2)
    artifacts[RUN_JSON] = payload
    run_dir = RunDir.write(root, run_id, artifacts)
    (figure,) = save_figure(reliability_chart(table), run_dir.path, RELIABILITY_STEM, ("png",))
    return HindcastResult(
        run_id=run_id,
        run_dir=run_dir,
        calibration=cal,
        observations=targets,
        forecasts=forecasts,
        scores=scores,
        reliability=table,
        figure=figure,
        warnings=warnings,
        payload=payload,
    )


__all__ = ["MIN_HELD_OUT", "HindcastResult", "default_heldout", "forecast_targets", "hindcast"]
