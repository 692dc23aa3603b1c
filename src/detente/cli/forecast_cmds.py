"""Commands ``forecast`` (static bargaining forecasts) and ``backtest deu``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, get_args

import typer
from rich.console import Console
from rich.table import Table

from detente.bargaining import MODELS, forecast, run
from detente.bargaining.eum import size_problem
from detente.cli.output import ReadableHelp, add_columns, narrow_table
from detente.errors import InputError, InputProblem, did_you_mean
from detente.formatting import number
from detente.report.bargaining_notes import eum_note, eum_oscillation, nash_at_reference, nash_note
from detente.scenario.table import ActorTable
from detente.scenario.tables import SalienceScale, load_tables, salience_note

console = Console(highlight=False, markup=False)
"""Markup is off: issue and actor names such as ``[/x]`` are printed as written."""
err_console = Console(stderr=True, highlight=False, markup=False)


def _models(choice: str) -> list[str]:
    if choice == "all":
        return list(MODELS)
    if choice not in MODELS:
        raise InputError.single(
            "<command line>",
            f"--model {choice!r} is unknown{did_you_mean(choice, [*MODELS, 'all'])}; "
            f"expected one of {', '.join(MODELS)}, all",
        )
    return [choice]


def _salience_scale(choice: str) -> SalienceScale:
    for known in get_args(SalienceScale):
        if choice == known:
            return known
    choices = get_args(SalienceScale)
    raise InputError.single(
        "<command line>",
        f"--salience-scale {choice!r} is unknown{did_you_mean(choice, choices)}; "
        f"expected one of {', '.join(choices)}",
    )


def _select(tables: list[ActorTable], issue: str | None) -> list[ActorTable]:
    if issue is None:
        return tables
    chosen = [t for t in tables if t.issue == issue]
    if not chosen:
        ids = [t.issue for t in tables]
        shown = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
        raise InputError.single(
            "<command line>",
            f"--issue {issue!r} not found{did_you_mean(issue, ids)}; issues: {shown}",
        )
    return chosen


def forecast_issues(
    tables: list[ActorTable], models: list[str], rounds: int
) -> list[dict[str, object]]:
    """Forecast every table with every model; EUM rounds are included when EUM is asked for.

    All problems of all tables are collected before raising, so one run reports them all.
    """
    out: list[dict[str, object]] = []
    problems: list[InputProblem] = []
    if "eum" in models:  # refuse what cannot run before spending minutes on the rest
        for t in tables:
            too_big = size_problem(t.n, rounds)
            if too_big is not None:
                problems.append(InputProblem(t.source, too_big, path=f"issue {t.issue}"))
        if problems:
            raise InputError(problems)
    for t in tables:
        try:
            trace = run(t, rounds) if "eum" in models else None
            values: dict[str, float] = {
                m: trace.forecast if trace is not None and m == "eum" else forecast(t, m)
                for m in models
            }
            problems.extend(
                InputProblem(
                    t.source,
                    f"the {m} model gave {v}, not a finite forecast; check the table's magnitudes",
                    path=f"issue {t.issue}",
                )
                for m, v in values.items()
                if not math.isfinite(v)
            )
            entry: dict[str, object] = {"id": t.issue, "forecasts": values}
            if trace is not None:
                entry["rounds"] = [
                    {"round": k, "median": float(trace.median[k]), "mean": float(trace.mean[k])}
                    for k in range(trace.median.size)
                ]
            if t.outcome is not None:
                entry["outcome"] = t.outcome
            out.append(entry)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:  # never emit NaN
        raise InputError(problems)
    return out


def forecast_cmd(
    source: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="Built-in scenario name, scenario YAML, actor CSV, KTAB CSV or DEU TSV.",
        ),
    ],
    model: Annotated[
        str, typer.Option("--model", "-m", help="compromise, median, nash, eum or all.")
    ] = "all",
    issue: Annotated[
        str | None, typer.Option("--issue", help="Only this issue / dimension.")
    ] = None,
    rounds: Annotated[
        int, typer.Option("--rounds", min=0, max=1000, help="Rounds of the expected-utility model.")
    ] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
    salience_scale: Annotated[
        str,
        typer.Option(
            "--salience-scale",
            help="Saliences on 0-1 (unit) or 0-100 (percent); auto reads a file whose "
            "saliences are all <= 1 as 0-1 and says so.",
        ),
    ] = "auto",
) -> None:
    """Forecast the outcome of each issue with the static bargaining models."""
    models = _models(model)
    tables = _select(load_tables(source, _salience_scale(salience_scale)), issue)
    note = salience_note(tables)
    if note is not None:
        err_console.print(f"note: {note}", soft_wrap=True)
    issues = forecast_issues(tables, models, rounds)
    if as_json:
        typer.echo(json.dumps({"issues": issues}, indent=2, allow_nan=False))
        return
    table = narrow_table(f"Forecasts: {source}")
    has_outcome = any("outcome" in e for e in issues)
    add_columns(
        table, ["issue", "actors", *models, *(["outcome"] if has_outcome else [])], ("issue",)
    )
    for t, e in zip(tables, issues, strict=True):
        vals: dict[str, float] = e["forecasts"]  # type: ignore[assignment]
        row = [t.issue, str(t.n), *(number(vals[m]) for m in models)]
        if has_outcome:
            row.append(number(e["outcome"]) if "outcome" in e else "")
        table.add_row(*row)
    console.print(table)
    for note in forecast_notes(tables, issues):
        console.print(f"note: {note}")
    if "eum" in models and len(issues) <= 10:
        for e in issues:
            rt = narrow_table(f"Expected-utility model, issue {e['id']}: median and mean by round")
            add_columns(rt, ["round", "median", "mean"])
            for r in e["rounds"]:  # type: ignore[attr-defined]
                rt.add_row(str(r["round"]), number(r["median"]), number(r["mean"]))
            console.print(rt)


def forecast_notes(tables: list[ActorTable], issues: list[dict[str, object]]) -> list[str]:
    """Notes under the forecast table: Nash at the status quo, an oscillating EUM median."""
    at_reference = []
    swings: dict[str, tuple[float, float]] = {}
    for t, e in zip(tables, issues, strict=True):
        vals: dict[str, float] = e["forecasts"]  # type: ignore[assignment]
        if "nash" in vals and nash_at_reference(vals["nash"], t.reference, t.scale[1] - t.scale[0]):
            at_reference.append(t.issue)
        if "rounds" in e:
            medians = [float(r["median"]) for r in e["rounds"]]  # type: ignore[attr-defined]
            swing = eum_oscillation(medians)
            if swing is not None:
                swings[t.issue] = swing
    notes = [nash_note(at_reference, len(tables)), eum_note(swings)]
    return [n for n in notes if n]


backtest_app = typer.Typer(
    help="Score the bargaining models against real decisions.", no_args_is_help=True
)


@backtest_app.command("deu", cls=ReadableHelp)
def backtest_deu_cmd(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="DEU III TSV (default: the copy shipped with detente, CC BY 4.0; "
            "see detente/data/reference/README.md).",
            show_default=False,
        ),
    ] = None,
    folds: Annotated[
        int,
        typer.Option("--folds", min=2, max=50, help="K of grouped K-fold CV (groups = proposals)."),
    ] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of folds and bootstrap.")] = 0,
    boot: Annotated[
        int, typer.Option("--boot", min=100, max=100_000, help="Bootstrap resamples.")
    ] = 2000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Score every model on the DEU III issues with an outcome (MAE, bootstrap intervals)."""
    from detente.backtest import backtest_deu
    from detente.data import deu3_path

    path = deu3_path() if path is None else path
    if as_json:
        result = backtest_deu(path, folds=folds, seed=seed, n_boot=boot)
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    with err_console.status("backtest") as status:
        result = backtest_deu(
            path, folds=folds, seed=seed, n_boot=boot, progress=lambda msg: status.update(msg)
        )
    table = Table(
        title=(
            f"DEU III backtest: {result.n_issues} issues, {result.n_proposals} "
            f"proposals; {folds}-fold CV by proposal; {boot} cluster-bootstrap "
            f"resamples, seed {seed}"
        )
    )
    for col in (
        "model",
        "n",
        "MAE",
        "95% CI",
        "minus compromise",
        "95% CI",
        "P(better)",
        "fitted: mean (min-max) over folds",
    ):
        table.add_column(col, justify="left" if col in ("model",) else "right")
    for s in result.scores:
        table.add_row(
            s.model + (" *" if s.fitted else ""),
            str(s.n),
            f"{s.mae:.2f}",
            f"{s.mae_low:.2f}-{s.mae_high:.2f}",
            f"{s.diff:+.2f}",
            f"{s.diff_low:+.2f} to {s.diff_high:+.2f}",
            f"{s.p_better:.2f}",
            s.params,
        )
    wide = Console(highlight=False, markup=False, width=max(console.width, 150))
    wide.print(table)
    wide.print("* parameters fitted on the other folds only (out-of-sample scores).")


def register(app: typer.Typer) -> None:
    """Attach ``forecast`` and ``backtest`` to the app."""
    app.command("forecast", cls=ReadableHelp)(forecast_cmd)
    app.add_typer(backtest_app, name="backtest")
