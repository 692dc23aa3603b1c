"""The ``ablate`` command: the options compared with mechanisms switched off.

Parses the options, calls :func:`detente.experiments.ablation.ablate` and prints one row per
variant: each strategy's mean of the metric, its change from the baseline on the same states
and worlds (with the 90% interval of the paired differences), and the leader.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from detente.cli.experiment_cmds import JsonOpt, ScenarioArg, WorldsOpt, _engine_guard, _split
from detente.cli.options import SeedOpt
from detente.cli.output import ReadableHelp, add_columns, narrow_table
from detente.formatting import number
from detente.runs.directory import dumps

console = Console(highlight=False)


def ablate(
    scenario: ScenarioArg,
    variant: Annotated[
        list[str] | None,
        typer.Option(
            "--variant",
            metavar="'ID: NAME=VALUE, ...'",
            help="A variant fixing uncertainties, e.g. 'no-cap: strategies[moderate-engagement]"
            ".params.max_level=1' (repeatable; default: the scenario's ablations).",
        ),
    ] = None,
    strategies: Annotated[
        str | None,
        typer.Option("--strategies", metavar="IDS",
                     help="Comma-separated strategy ids (default: the scenario's options)."),
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option("--metric", help="Metric to compare (default: the first ranked one)."),
    ] = None,
    states: Annotated[
        int, typer.Option("--states", help="States sampled, shared by every variant.")
    ] = 32,
    worlds: WorldsOpt = 100,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Ablations: the options compared again with mechanisms switched off, on common states."""
    from detente.experiments import ablation

    with _engine_guard(scenario):
        result = ablation.ablate(
            scenario,
            strategies=_split(strategies),
            variants=variant,
            metric=metric,
            states=states,
            worlds=worlds,
            seed=seed,
        )
    if as_json:
        typer.echo(dumps(result.payload), nl=False)
        return
    tbl = narrow_table(
        f"{result.metric} ({result.direction}) by variant: mean over {states} states x "
        f"{worlds} worlds; change from the baseline on the same states and worlds"
    )
    add_columns(tbl, ["variant", "strategy", "mean", "change", "90% interval", "leads"],
                left=("variant", "strategy"))
    for _, r in result.table.iterrows():
        base = r["variant"] == ablation.BASELINE.id
        leads = r["strategy"] in str(result.leaders[r["variant"]]).split(", ")
        tbl.add_row(
            escape(str(r["variant"])),
            escape(str(r["strategy"])),
            number(r["mean"]),
            "" if base else f"{r['diff']:+.3g}",
            "" if base else f"{r['diff_lo']:+.3g} to {r['diff_hi']:+.3g}",
            "yes" if leads else "",
        )
    console.print(tbl)
    for vid, rows in result.table.groupby("variant", sort=False):
        console.print(f"{vid}: {rows['fixed'].iloc[0]}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``ablate`` to the CLI."""
    app.command("ablate", cls=ReadableHelp)(ablate)
