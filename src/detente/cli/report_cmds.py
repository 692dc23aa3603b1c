"""Commands about reports and figures: ``report`` and ``figures``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from detente.cli.output import ReadableHelp
from detente.fileio import check_output_dir

console = Console(highlight=False, soft_wrap=True)


def report(
    target: Annotated[
        str | None,
        typer.Argument(
            help="Output directory of a run (default detente-out; its latest run), one run's "
            "folder OUT/runs/<run id>, a .duckdb file (its folder), or a run id in detente-out/.",
            metavar="[RUN_DIR|DB|RUN_ID]",
            show_default=False,
        ),
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run",
            metavar="ID",
            help="The run to report (a unique prefix of its id is enough; default: latest).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="HTML file to write (default: report.html in the run's folder).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Write the self-contained HTML report of a stored run and print its path."""
    from detente.report.html import build_report

    path = build_report(target, out, run_id=run_id)
    console.print(str(path), markup=False)


def figures(
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or path to a YAML file.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="DIR", help="Directory to write the figures to.", file_okay=False
        ),
    ] = Path("detente-out/figures"),
    rounds: Annotated[
        int,
        typer.Option(
            metavar="N", help="Rounds of the expected-utility model.", min=0, max=100
        ),
    ] = 8,
) -> None:
    """Write a scenario's structure and bargaining figures as PNG and SVG."""
    from detente.report.bargaining_inputs import scenario_forecasts
    from detente.report.figures import (
        eum_rounds_chart,
        save_figure,
        scenario_position_map,
        structure_chart,
    )
    from detente.scenario import load_scenario

    s = load_scenario(scenario)
    check_output_dir(out)
    written = save_figure(structure_chart(s), out, "structure")
    forecasts, traces = scenario_forecasts(s, rounds=rounds)
    for issue_id, fc in forecasts.items():
        written += save_figure(scenario_position_map(s, issue_id, fc), out, f"positions-{issue_id}")
        written += save_figure(
            eum_rounds_chart(traces[issue_id], s.issue(issue_id), forecasts=fc),
            out,
            f"eum-{issue_id}",
        )
    console.print(f"wrote {len(written)} files to {out}", markup=False)


def register(app: typer.Typer) -> None:
    """Attach the report commands to the app."""
    app.command("report", cls=ReadableHelp)(report)
    app.command("figures", cls=ReadableHelp)(figures)
