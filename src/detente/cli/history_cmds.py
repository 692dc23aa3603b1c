"""History commands: ``hindcast`` (calibrate up to a cut-off, score the later forecasts).

Parses the options, calls :func:`detente.history.hindcast_job.hindcast` and prints what it
returned: each observation's forecasts, the scores with the model's paired differences
against each reference, the reliability figure's path and the run folder.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from detente.cli.calibrate_cmds import CalWorldsOpt, MovesOpt, ParticlesOpt, StrategyOpt
from detente.cli.experiment_cmds import (
    DbOpt,
    JsonOpt,
    OutOpt,
    ResumeOpt,
    ScenarioArg,
    SchedulerFileOpt,
    SchedulerOpt,
)
from detente.cli.options import SeedOpt
from detente.cli.output import ReadableHelp, add_columns, narrow_table
from detente.errors import problems_named_after
from detente.experiments.executors import resolve_scheduler
from detente.formatting import number
from detente.runs.directory import dumps

if TYPE_CHECKING:
    import pandas as pd

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

CutoffOpt = Annotated[
    str,
    typer.Option(
        "--cutoff",
        metavar="DATE",
        help="Calibrate on observations ending on or before it, forecast the later ones "
        "(2003Q4, 2003, 2003-06 or 2003-12-31).",
    ),
]
HeldoutOpt = Annotated[
    Path | None,
    typer.Option(
        "--heldout",
        metavar="FILE",
        help="Held-out observation file (default: the scenario's own, e.g. "
        "data/history/us-iran-2001-heldout.yaml for the flagship).",
    ),
]


def _cell(value: Any) -> str:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return "" if missing else number(value)


def _forecast_cell(row: pd.Series) -> str:
    return number(row["probability"] if row["kind"] == "binary" else row["mean"])


def _forecast_table(forecasts: pd.DataFrame) -> None:
    order = list(dict.fromkeys(forecasts["observation"]))
    table = narrow_table(
        "Forecasts after the cut-off (events: probability the record says true; values: "
        "the forecast mean; dates and 5-95% ranges in hindcast_forecasts.csv)"
    )
    add_columns(table, ["observation", "observed", "model", "prior", "persist.", "clim."],
                left=("observation",))
    table.columns[0].min_width = 28
    for ob in order:
        rows = {f: forecasts[(forecasts.observation == ob) & (forecasts.forecaster == f)].iloc[0]
                for f in ("model", "prior", "persistence", "climatology")}
        first = rows["model"]
        table.add_row(
            escape(str(ob)), escape(str(first["observed"])),
            *(_forecast_cell(rows[f]) for f in ("model", "prior", "persistence", "climatology")),
        )
    console.print(table)


def _scores_table(scores: pd.DataFrame) -> None:
    table = narrow_table(
        "Scores (lower is better); difference = model minus reference, negative: the model "
        "is better (90% paired bootstrap interval)"
    )
    add_columns(table, ["score", "forecaster", "n", "mean", "difference", "interval"],
                left=("score", "forecaster"))
    for row in scores.to_dict("records"):
        interval = (
            "" if row["forecaster"] == "model" or math.isnan(float(row["low"]))
            else f"{number(row['low'])} to {number(row['high'])}"
        )
        table.add_row(str(row["score"]), str(row["forecaster"]), str(row["observations"]),
                      _cell(row["mean"]), _cell(row["difference"]), interval)
    console.print(table)


def hindcast(
    scenario: ScenarioArg,
    cutoff: CutoffOpt,
    heldout: HeldoutOpt = None,
    strategy: StrategyOpt = None,
    particles: ParticlesOpt = 256,
    worlds: CalWorldsOpt = 32,
    moves: MovesOpt = 3,
    seed: SeedOpt = 0,
    out: OutOpt = None,
    db: DbOpt = None,
    resume: ResumeOpt = False,
    scheduler: SchedulerOpt = None,
    scheduler_file: SchedulerFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Calibrate up to --cutoff, then score the forecasts of every later observation."""
    from detente.history.hindcast_job import hindcast as run_hindcast

    with problems_named_after(scenario):
        result = run_hindcast(
            scenario, cutoff=cutoff, heldout=heldout, strategy=strategy, particles=particles,
            worlds=worlds, moves=moves, seed=seed, out=out, db=db, resume=resume,
            scheduler=resolve_scheduler(scheduler, scheduler_file), console=err,
        )
    for warning in result.warnings:
        err.print(f"warning: {warning}", markup=False)
    if as_json:
        typer.echo(dumps(result.payload), nl=False)
        return
    p = result.payload
    console.print(
        f"Hindcast {result.run_id}: {p['scenario']}, policy {p['strategy']}, calibrated up to "
        f"{p['cutoff']} (calibration {p['calibration_run_id']}), "
        f"{len(result.observations)} observations forecast; {p['particles']} states x "
        f"{p['worlds']} worlds per forecaster.",
        markup=False,
    )
    _forecast_table(result.forecasts)
    _scores_table(result.scores)
    console.print(f"reliability diagram: {result.figure}", markup=False, soft_wrap=True)
    console.print(f"files: {result.run_dir.path}/", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Attach ``hindcast`` to the app."""
    app.command("hindcast", cls=ReadableHelp)(hindcast)
