"""Command ``simulate``: run a system scenario under a strategy in many Monte Carlo worlds."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from detente.cli.options import SeedOpt
from detente.cli.output import ReadableHelp, add_columns, narrow_table
from detente.errors import InputError, problems_named_after
from detente.experiments.budget import check_worlds
from detente.formatting import is_share, number, percent
from detente.metrics import binary_metrics
from detente.scenario import load_scenario

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

#: Metrics shown in the table when the scenario reports them (the JSON has all it reports).
TABLE_METRICS = (
    "rapprochement",
    "reform_share",
    "legislature_reform_majority",
    "presidency_reform",
    "sanctions",
    "dialogue",
    "terror_support",
    "wmd",
    "allied_support",
    "focal_domestic_cost",
    "unreciprocated",
    "focal_legislature_balance",
)
#: Table metrics that are 0/1 per world when the scenario does not declare their unit.
SHARE_METRICS = binary_metrics()


def key_dates(dates: list[str], count: int = 4) -> list[str]:
    """Dates shown in the table: ``count`` evenly spaced steps from the first to the last."""
    if len(dates) <= count:
        return list(dates)
    idx = np.unique(np.round(np.linspace(0, len(dates) - 1, count)).astype(int))
    return [dates[i] for i in idx]


def simulate_cmd(
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or path to a YAML file.")],
    strategy: Annotated[
        str,
        typer.Option("--strategy", "-s", help="Scenario strategy id or registered strategy name."),
    ],
    worlds: Annotated[
        int, typer.Option("--worlds", "-n", help="Number of Monte Carlo worlds.")
    ] = 2000,
    seed: SeedOpt = 0,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=X",
            help="Set an uncertainty (or a camp's strength, camp[COUNTRY/CAMP].clout, -1 to 1) "
            "to a value inside its range; repeatable. Others stay at their best estimates.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print dates and per-metric mean/p05/p50/p95 per step as JSON."
        ),
    ] = False,
) -> None:
    """Run SCENARIO under STRATEGY and print metrics at key dates (mean, p05-p95)."""
    from detente.sim import run_summary_json, trajectory_quantiles

    if worlds < 1:
        raise InputError.single("<command line>", f"--worlds must be >= 1 (got {worlds})")
    check_worlds(worlds)
    sc = load_scenario(scenario)
    values = None
    if settings:
        from detente.experiments.whatif import all_levers, check_settings, parse_settings

        try:
            values = check_settings(all_levers(sc), parse_settings(settings))
        except InputError as exc:
            raise InputError(
                [replace(p, source="<command line>", message=f"--set {p.message}")
                 if p.source == "values" else p for p in exc.problems]
            ) from None
    with Progress(
        TextColumn("simulating {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} worlds"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=as_json or worlds < 5000,
    ) as prog:
        task = prog.add_task(strategy, total=worlds)
        with problems_named_after(scenario):
            frame = trajectory_quantiles(
                sc, strategy, worlds, seed, values=values,
                progress=lambda k: prog.advance(task, k),
            )
    if as_json:
        doc = run_summary_json(frame)[strategy]
        head: dict[str, object] = {
            "scenario": sc.id, "strategy": strategy, "worlds": worlds, "seed": seed
        }
        if values:
            head["values"] = values
        doc = {**head, **doc}
        console.print_json(json.dumps(doc))
        return
    shown = [m for m in TABLE_METRICS if m in set(frame.metric)]
    dates = list(frame[frame.metric == shown[0]].sort_values("step")["date"])
    show = key_dates(dates)
    units = {m.id: m.unit for m in sc.metrics}
    shares = [m for m in shown if is_share(units.get(m)) or (m not in units and m in SHARE_METRICS)]
    table = narrow_table(
        f"{sc.id} under {strategy}: {worlds} worlds, seed {seed} "
        "(mean, and below it the 5th to 95th percentile over worlds)"
    )
    add_columns(table, ["metric", *show], left=("metric",))
    for m in shown:
        g = frame[(frame.metric == m) & frame.date.isin(show)].set_index("date")
        cells = []
        for d in show:
            row = g.loc[d]
            if m in shares:
                cells.append(percent(float(np.asarray(row["mean"]))))
            else:
                cells.append(f"{number(row['mean'])}\n{number(row['p05'])}–{number(row['p95'])}")
        table.add_row(m, *cells)
    console.print(table)
    if shares:
        console.print(", ".join(shares) + ": % of worlds (0/1 per world).")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the app."""
    app.command("simulate", cls=ReadableHelp)(simulate_cmd)
