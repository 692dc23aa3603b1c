"""``detente calibrate``: Bayesian calibration of a scenario on its recorded history.

Parses the options, calls :func:`detente.calibration.job.calibrate` and prints what the
data taught: the generations, the observations' probabilities before and after, and the
uncertainties the data moved.
"""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

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
from detente.formatting import number, percent
from detente.runs.directory import dumps

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

UntilOpt = Annotated[
    str,
    typer.Option(
        "--until",
        metavar="DATE",
        help="Cut-off: only observations ending on or before it are used "
        "(2003Q4, 2003, 2003-06 or 2003-12-31).",
    ),
]
StrategyOpt = Annotated[
    str | None,
    typer.Option(
        "--strategy",
        "-s",
        metavar="ID",
        help="Policy replayed (default: the scenario's only history script).",
    ),
]
ParticlesOpt = Annotated[int, typer.Option("--particles", help="SMC particles (states).")]
CalWorldsOpt = Annotated[
    int, typer.Option("--worlds", help="Simulated worlds per particle (common random numbers).")
]
MovesOpt = Annotated[int, typer.Option("--moves", help="pCN moves per particle and generation.")]
SHOWN = 12


def calibrate(
    scenario: ScenarioArg,
    until: UntilOpt,
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
    """Calibrate the scenario's uncertain numbers on its observations up to --until."""
    from detente.calibration.job import calibrate as run_calibration

    with problems_named_after(scenario):
        result = run_calibration(
            scenario, until=until, strategy=strategy, particles=particles, worlds=worlds,
            moves=moves, seed=seed, out=out, db=db, resume=resume,
            scheduler=resolve_scheduler(scheduler, scheduler_file), console=err,
        )
    if as_json:
        typer.echo(dumps(result.payload), nl=False)
        return
    p = result.payload
    console.print(
        f"Calibration {result.run_id}: {result.scenario.id}, policy {result.strategy}, "
        f"{len(p['observations_used'])} observations up to {result.cutoff}, "
        f"{p['uncertainties']} uncertainties, {p['particles']} particles x {p['worlds']} "
        f"worlds; {p['timings']['states_simulated']} states simulated in "
        f"{p['timings']['total_seconds']} s.",
        markup=False,
    )
    gens = narrow_table("Generations")
    add_columns(gens, ["generation", "beta", "ESS", "acceptance", "log evidence"])
    for g in result.generations.to_dict("records"):
        acceptance = float(g["acceptance"])
        gens.add_row(
            str(g["generation"]), number(g["beta"]), f"{float(g['ess']):.0f}",
            "" if math.isnan(acceptance) else percent(acceptance), number(g["log_evidence"]),
        )
    console.print(gens)
    obs = narrow_table("Probability of each record, before and after")
    add_columns(obs, ["observation", "observed", "prior", "posterior"], left=("observation",))
    for row in result.observations.itertuples():
        obs.add_row(escape(str(row.observation)), escape(str(row.observed)),
                    number(row.prior_probability), number(row.posterior_probability))
    console.print(obs)
    moved = result.learned[result.learned["moved"]]
    table = narrow_table(
        f"What the data taught: {len(moved)} of {len(result.learned)} uncertainties moved "
        "beyond resampling noise (90% intervals)"
    )
    add_columns(table, ["uncertainty", "prior", "posterior", "narrower"],
                left=("uncertainty",))
    table.columns[0].overflow = "fold"
    for row in moved.head(SHOWN).itertuples():
        table.add_row(
            escape(str(row.parameter)),
            f"{number(row.prior_low)}-{number(row.prior_high)}",
            f"{number(row.posterior_low)}-{number(row.posterior_high)}",
            percent(row.narrowing),
        )
    console.print(table)
    console.print(
        f"Effective sample size of the last reweighting {p['ess']:.0f} of {p['particles']} "
        f"({p['distinct']} distinct particles); "
        f"log evidence {number(p['log_evidence'])}.",
        markup=False,
    )
    console.print(f"files: {result.run_dir.path}/", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Attach ``calibrate`` to the app."""
    app.command("calibrate", cls=ReadableHelp)(calibrate)
