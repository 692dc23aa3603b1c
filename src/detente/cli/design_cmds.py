"""``detente design``: many-objective search for robust strategy parameters.

Parses the options, calls :func:`detente.design.job.design` and prints the Pareto set, the
fixed options against the designs on fresh states, and whether each option is dominated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np
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
    SchedulerFileOpt,
    SchedulerOpt,
    _build_report,
)
from detente.cli.options import SeedOpt
from detente.cli.output import ReadableHelp, add_columns, narrow_table
from detente.errors import problems_named_after
from detente.formatting import number
from detente.runs.directory import dumps

if TYPE_CHECKING:
    from detente.design.job import DesignResult

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
"""At most this many designs are printed (all are in pareto.csv and the report)."""
CELL = 7
"""Width of a design's column in the transposed Pareto table."""


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
    scheduler_file: SchedulerFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search a strategy's levers for designs that hold up across the sampled states."""
    from detente.design.job import design as run_design
    from detente.experiments.executors import resolve_scheduler

    with problems_named_after(scenario):
        result = run_design(
            scenario, strategy=strategy, lever_options=lever or [], quick=quick, seed=seed,
            generations=generations, population=population, states=states, worlds=worlds,
            fresh=fresh, robustness=robustness,
            objective_metrics=[o.strip() for o in (objectives or "").split(",") if o.strip()],
            posterior=posterior, out=out, db=db,
            resume=resume, scheduler=resolve_scheduler(scheduler, scheduler_file),
            console=err,
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
    print_front(result, console.width)
    print_fresh(result)
    print_verdicts(result)
    example = f"design-{result.run_id}:{shown_designs(result, 1)[0]}" if len(result.pareto) \
        else f"design-{result.run_id}:<row>"
    fixed = p.get("fixed") or []
    with_options = ",".join([*fixed[:1], example])
    console.print(f"Files: {result.run_dir.path}/ (pareto.csv has every design)",
                  markup=False, soft_wrap=True)
    console.print("To compare a design (a column of the Pareto set) with the options:",
                  markup=False)
    console.print(f"  detente compare {scenario} --strategies {with_options}", markup=False,
                  soft_wrap=True)
    report = _build_report(result.run_dir, publish=False)
    if report is not None:
        console.print(f"HTML report: {report}", markup=False, soft_wrap=True)


def _arrow(direction: str) -> str:
    return "↑" if direction == "maximize" else "↓"


def shown_designs(result: DesignResult, n: int) -> list[int]:
    """Rows of up to ``n`` designs to print: first the best design on each objective (the
    ends of the front), then the others in row order; returned in row order."""
    p = result.payload
    scores = result.pareto[result.metrics].to_numpy(dtype=float)
    chosen: list[int] = []
    for j, d in enumerate(p["score_directions"]):
        col = scores[:, j]
        if len(col) and not np.isnan(col).all():
            chosen.append(int(np.nanargmax(col) if d == "maximize" else np.nanargmin(col)))
    chosen += list(range(len(result.pareto)))
    return sorted(list(dict.fromkeys(chosen))[:n])


def print_front(result: DesignResult, width: int) -> None:
    """The Pareto set transposed (one row per lever and objective, one column per design) so
    it reads at 80 columns; as many designs as fit, the rest in pareto.csv."""
    levers = [lv.param for lv in result.levers]
    dirs = result.payload["score_directions"]
    labels = [*levers, *[f"{m} {_arrow(d)}" for m, d in zip(result.metrics, dirs, strict=True)]]
    label_w = max(len(x) for x in labels)
    fits = max(1, min(SHOWN, (width - label_w - 1) // (CELL + 1)))
    rows = shown_designs(result, fits)
    n = len(result.pareto)
    more = f"{len(rows)} of {n}: the best on each objective first" if len(rows) < n else str(n)
    front = narrow_table(f"Pareto set ({more}; columns: design row; scores on the search "
                         "states, ↑ higher / ↓ lower is better)")
    add_columns(front, ["", *[str(r) for r in rows]], left=("",))
    records = result.pareto.to_dict("records")
    for label, column in zip(labels, [*levers, *result.metrics], strict=True):
        front.add_row(escape(label), *[number(records[r][column]) for r in rows],
                      end_section=column == levers[-1])
    console.print(front)


def print_fresh(result: DesignResult) -> None:
    """The options against the designs on the fresh states, one row per objective: each
    option's score and the best design's (with its row)."""
    fresh = result.fresh
    options = fresh[fresh["kind"] == "option"]
    designs = fresh[fresh["kind"] == "designed"].reset_index(drop=True)
    dirs = result.payload["score_directions"]
    side = narrow_table("On fresh states the search never saw: the options and the best design")
    heads = [str(o).replace("-", "-\n") for o in options["strategy"]]
    add_columns(side, ["", *heads, "best design", "row"], left=("",))
    for m, d in zip(result.metrics, dirs, strict=True):
        cells = [number(v) for v in options[m]]
        col = designs[m].to_numpy(dtype=float)
        if len(col) and not np.isnan(col).all():
            k = int(np.nanargmax(col) if d == "maximize" else np.nanargmin(col))
            best, row = number(col[k]), str(designs["strategy"].iloc[k]).rpartition(":")[2]
        else:
            best, row = "–", "–"
        side.add_row(escape(f"{m} {_arrow(d)}"), *cells, best, row)
    console.print(side)


def print_verdicts(result: DesignResult) -> None:
    """Each option's verdict on the search and the fresh states, and what they mean."""
    from detente.report.design_section import DesignInputs, meaning

    dom = result.dominance
    for option in dict.fromkeys(dom["option"]):
        parts = []
        for where in ("search", "fresh"):
            row = dom[(dom["option"] == option) & (dom["states"] == where)]
            if row.empty:
                continue
            r = row.iloc[0]
            count = len(str(r["designs"]).split(", ")) if r["status"] == "dominated" else 0
            parts.append(f"{r['status']}{f' by {count} designs' if count else ''} "
                         f"({where} states)")
        console.print(f"{option}: {'; '.join(parts)}", markup=False, soft_wrap=False)
    from detente.report.figures.fan import strategy_names

    text = meaning(DesignInputs(result.run_id, settings=result.payload, pareto=result.pareto,
                                dominance=result.dominance), strategy_names(result.scenario))
    if text:
        console.print(text, markup=False)


def register(app: typer.Typer) -> None:
    """Attach ``design`` to the app."""
    app.command("design", cls=ReadableHelp)(design)
