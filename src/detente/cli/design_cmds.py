"""``detente design``: many-objective search for robust strategy parameters.

Parses the options, calls :func:`detente.design.job.design` and prints the Pareto set, the
fixed options against the designs on fresh states, and whether each option is dominated.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape

from detente.cli.experiment_cmds import (
    DbOpt,
    JsonOpt,
    OutOpt,
    PosteriorOpt,
    ResumeOpt,
    ScenarioArg,
    SchedulerOpt,
    _build_report,
)
from detente.cli.options import SeedOpt
from detente.cli.output import ReadableHelp, add_columns, narrow_table
from detente.errors import problems_named_after
from detente.formatting import number
from detente.runs.directory import dumps

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

StrategyOpt = Annotated[
    str,
    typer.Option("--strategy", "-s", metavar="ID", help="The strategy whose levers are searched."),
]
LeverOpt = Annotated[
    list[str] | None,
    typer.Option("--lever", metavar="PARAM=LOW:HIGH",
                 help="A free parameter (LOW:HIGH, LOW:HIGH:int or A,B,C); adds to or replaces "
                 "the scenario's levers. Repeatable."),
]
QuickOpt = Annotated[bool, typer.Option("--quick", help="Small search: 12 states x 16 worlds, "
                                        "20 candidates x 8 generations.")]
GenOpt = Annotated[int | None, typer.Option("--generations", metavar="N",
                                            help="NSGA-II generations (default 30; --quick 8).")]
PopOpt = Annotated[int | None, typer.Option("--population", metavar="N",
                                            help="Candidates per generation (40; --quick 20).")]
DStatesOpt = Annotated[int | None, typer.Option("--states", metavar="N",
                                                help="Search states (32; --quick 12).")]
DWorldsOpt = Annotated[int | None, typer.Option("--worlds", metavar="N",
                                                help="Worlds per state (32; --quick 16).")]
FreshOpt = Annotated[int | None, typer.Option("--fresh", metavar="N",
                                              help="Fresh states for the re-scoring (64; "
                                              "--quick 12).")]
RobustOpt = Annotated[str, typer.Option("--robustness", metavar="mean|regret|satisficing",
                                        help="How a candidate's states make one score.")]
ObjectivesOpt = Annotated[
    str | None,
    typer.Option("--objectives", metavar="M,M", help="Ranked metrics to design for, comma "
                 "separated (default: every metric with a direction)."),
]
SHOWN = 12


def design(
    scenario: ScenarioArg,
    strategy: StrategyOpt,
    lever: LeverOpt = None,
    quick: QuickOpt = False,
    seed: SeedOpt = 0,
    generations: GenOpt = None,
    population: PopOpt = None,
    states: DStatesOpt = None,
    worlds: DWorldsOpt = None,
    fresh: FreshOpt = None,
    robustness: RobustOpt = "mean",
    objectives: ObjectivesOpt = None,
    posterior: PosteriorOpt = None,
    out: OutOpt = None,
    db: DbOpt = None,
    resume: ResumeOpt = False,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search a strategy's levers for designs that hold up across the sampled states."""
    from detente.design.job import design as run_design

    with problems_named_after(scenario):
        result = run_design(
            scenario, strategy=strategy, lever_options=lever or [], quick=quick, seed=seed,
            generations=generations, population=population, states=states, worlds=worlds,
            fresh=fresh, robustness=robustness,
            objective_metrics=[o.strip() for o in (objectives or "").split(",") if o.strip()],
            posterior=posterior, out=out, db=db,
            resume=resume, scheduler=scheduler, console=err,
        )
    if as_json:
        typer.echo(dumps(result.payload), nl=False)
        _build_report(result.run_dir, publish=False)
        return
    p = result.payload
    console.print(
        f"Design {result.run_id}: {result.scenario.id}, strategy {result.strategy}, "
        f"{p['robustness']} over {p['states']} states x {p['worlds']} worlds, "
        f"{p['generations']} generations x {p['population']} candidates; "
        f"{p['timings']['total_seconds']} s.",
        markup=False,
    )
    levers = [lv.param for lv in result.levers]
    front = narrow_table(f"Pareto set ({len(result.pareto)} designs; scores on the search states)")
    add_columns(front, ["id", *levers, *result.metrics], left=("id",))
    for row in result.pareto.head(SHOWN).to_dict("records"):
        front.add_row(escape(str(row["id"]).split(":")[-1]),
                      *[number(row[c]) for c in [*levers, *result.metrics]])
    console.print(front)
    if len(result.pareto) > SHOWN:
        console.print(f"... {len(result.pareto) - SHOWN} more in pareto.csv", markup=False)
    side = narrow_table("Options against designs on fresh states")
    add_columns(side, ["strategy", *result.metrics], left=("strategy",))
    shown = pd.concat([result.fresh[result.fresh["kind"] == "option"],
                       result.fresh[result.fresh["kind"] == "designed"].head(SHOWN)])
    for row in shown.to_dict("records"):
        label = str(row["strategy"])
        label = "design " + label.split(":")[-1] if row["kind"] == "designed" else label
        side.add_row(escape(label), *[number(row[m]) for m in result.metrics])
    console.print(side)
    for row in result.dominance.to_dict("records"):
        where = "search" if row["states"] == "search" else "fresh"
        which = f" by {len(str(row['designs']).split(', '))} designs" if row["status"] == \
            "dominated" else ""
        console.print(f"{row['option']} ({where} states): {row['status']}{which}", markup=False)
    console.print(f"designs: {result.run_id}:<row> as design-{result.run_id}:<row> in compare; "
                  f"files: {result.run_dir.path}/", markup=False, soft_wrap=True)
    report = _build_report(result.run_dir, publish=False)
    if report is not None:
        console.print(f"HTML report: {report}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Attach ``design`` to the app."""
    app.command("design", cls=ReadableHelp)(design)
