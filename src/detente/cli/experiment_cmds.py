"""Experiment commands: ``compare``, ``explore``, ``sensitivity``, ``run`` and ``export``.

The commands parse their options, call the jobs of :mod:`detente.experiments.jobs` (which
validate every input before computing, store results as they go so ``--resume`` continues
an interrupted run, and write each run's files to ``OUT/runs/<run id>/``) and print what
the job returned.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from detente.cli.options import SeedOpt
from detente.cli.output import ReadableHelp, add_columns, narrow_table, print_markdown
from detente.errors import InputError, did_you_mean, problems_named_after
from detente.experiments.executors import resolve_scheduler
from detente.fileio import check_path_length
from detente.formatting import interval, is_share, metric_value, number, p_value, percent
from detente.runs import DEFAULT_ROOT, RunDir
from detente.runs.directory import dumps

if TYPE_CHECKING:
    from types import ModuleType

    import pandas as pd

    from detente.experiments import analysis, jobs
    from detente.report.background import BackgroundReport
    from detente.report.cores import ReportProgress

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

FLAGSHIP = "us-iran-2001"
DEFAULT_OUT = DEFAULT_ROOT

ScenarioArg = Annotated[str, typer.Argument(help="Built-in scenario name or path to a YAML file.")]
StatesOpt = Annotated[int, typer.Option("--states", help="States of the world sampled.")]
WorldsOpt = Annotated[
    int, typer.Option("--worlds", help="Stochastic worlds per state and strategy.")
]
SamplerOpt = Annotated[
    str | None,
    typer.Option(
        "--sampler",
        metavar="lhs|sobol",
        show_default=False,
        help="lhs (Latin hypercube, the default) or sobol; not with --posterior.",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Output directory: the run's files go to OUT/runs/<run id>/, OUT/latest names "
        "the newest run (default: the --db folder, else detente-out/).",
    ),
]
DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="Results database (default: OUT/results.duckdb or detente-out/)."),
]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue an interrupted run with the same settings.")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler tcp://HOST:PORT, or 'local' for a LocalCluster "
        "(default: $DETENTE_SCHEDULER, else in-process).",
    ),
]
SchedulerFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--scheduler-file",
        metavar="PATH",
        help="The scheduler's address from the JSON file 'dask scheduler --scheduler-file "
        "PATH' (or dask-jobqueue, dask-mpi) writes; instead of --scheduler.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ThresholdOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--threshold",
        metavar="METRIC>=VALUE",
        help="Satisficing threshold METRIC>=VALUE (repeatable).",
    ),
]
IncludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--include",
        metavar="GLOB",
        help="Only sample uncertainties matching this glob, e.g. 'parameters.*' (repeatable).",
    ),
]
PosteriorOpt = Annotated[
    str | None,
    typer.Option(
        "--posterior",
        metavar="RUN",
        help="Draw the states from the posterior of a calibrate or hindcast run (its id, a "
        "unique prefix under OUT, or its folder) instead of the scenario's ranges.",
    ),
]

SENSITIVITY_REFUSES_POSTERIOR = (
    "sensitivity cannot use a posterior: Sobol and Morris indices need independent inputs "
    "drawn on their own design, and posterior particles are weighted and correlated; use "
    "compare, explore or run --posterior, or sensitivity on the scenario's ranges"
)


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------



def _jobs() -> ModuleType:
    """The experiment jobs, imported when a command runs (they pull SciPy, DuckDB and the
    engine: about a second that ``--help`` and usage errors should not pay)."""
    from detente.experiments import jobs

    return jobs


def _analysis() -> ModuleType:
    """The analysis module, imported when a command runs (see :func:`_jobs`)."""
    from detente.experiments import analysis

    return analysis

def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [s.strip() for s in text.split(",") if s.strip()]


@contextlib.contextmanager
def _engine_guard(scenario: str) -> Iterator[None]:
    """The engine failing to load: one line; exit 2 when ``$DETENTE_MODEL`` names it (bad
    input), 1 when detente's own engine is missing (a broken install). Problems the engine
    places in ``scenario <id>`` name the file the user gave instead."""
    from detente.experiments.runner import MODEL_ENV, EngineUnavailableError

    try:
        with problems_named_after(scenario):
            yield
    except EngineUnavailableError as exc:
        if os.environ.get(MODEL_ENV):
            raise InputError.single(f"${MODEL_ENV}", str(exc)) from None
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None


def _rank_cell(rank: Any, strategy: str, tied: list[str]) -> str:
    """``"1"``, or ``"=1"`` for each strategy tied with the first; empty when unranked."""
    import pandas as pd

    if pd.isna(rank):
        return ""
    return "=1" if len(tied) > 1 and strategy in tied else str(int(rank))


def _lead_cell(r: pd.Series, unit: str | None) -> str:
    """The first strategy's lead over this one, over its paired 95% interval."""
    import pandas as pd

    if "lead" not in r.index or pd.isna(r["lead"]) or r["rank"] == 1:
        return ""
    return _over_interval(r["lead"], r["lead_lo"], r["lead_hi"], unit)


def _over_interval(x: Any, lo: Any, hi: Any, unit: str | None) -> str:
    """A value above its interval (two lines keep the table inside 80 columns)."""
    return f"{metric_value(x, unit, short=True)}\n{interval(lo, hi, unit)}"


def _outcome_title(outcome: str, spec: analysis.OutcomeSpec) -> str:
    """``"rapprochement (0/1: % of worlds; maximize; satisficing >= 50%)"``."""
    unit = spec.units.get(outcome) or ""
    parts = [f"{unit}: % of worlds" if is_share(unit) else unit] if unit else []
    parts.append(spec.directions[outcome])
    threshold = spec.thresholds.get(outcome)
    if threshold is not None:
        value = metric_value(threshold.value, unit, short=True)
        parts.append(f"satisficing {threshold.op} {value}")
    return f"[bold]{escape(outcome)}[/bold] ({escape('; '.join(parts))})"


def comparison_tables(
    comparison: pd.DataFrame, spec: analysis.OutcomeSpec, show_info: bool = False
) -> list[Table]:
    """One Rich table per outcome (scenario order), strategies by rank, fitting 80 columns.

    A strategy tied with the first (the 95% interval of the first's paired lead over it
    covers 0) is ranked ``=1``; the first is in bold only when its first place is decisive.
    The ``lead of #1`` column is the first strategy's lead over each other one with that
    interval. Values of a ``0/1`` metric are shares of worlds, printed as percentages.
    """
    tables = []
    for outcome in spec.outcomes:
        if spec.directions[outcome] == "info" and not show_info:
            continue
        unit = spec.units.get(outcome)
        table = narrow_table(_outcome_title(outcome, spec))
        columns = ["#", "strategy", "expected\n[95% CI]", "lead of #1\n[95% CI]"]
        columns += ["regret\nmean", "regret\nmax"]
        if outcome in spec.thresholds:
            columns.append("share\nmeeting")
        add_columns(table, columns, left=("strategy",))
        rows = comparison[comparison.outcome == outcome].sort_values("rank", na_position="last")
        ranked = rows["rank"].notna().any()
        tied = _analysis().tied_with_best(rows) if ranked else []
        decisive = len(tied) == 1
        for _, r in rows.iterrows():
            name = escape(str(r["strategy"]))
            cells = [
                _rank_cell(r["rank"], str(r["strategy"]), tied),
                f"[bold]{name}[/bold]" if decisive and r["rank"] == 1 else name,
                _over_interval(r["mean"], r["lo"], r["hi"], unit),
                _lead_cell(r, unit),
                metric_value(r["regret_mean"], unit, short=True),
                metric_value(r["regret_max"], unit, short=True),
            ]
            if outcome in spec.thresholds:
                cells.append(percent(r["satisficing"]))
            table.add_row(*cells)
        tables.append(table)
    return tables


# ---------------------------------------------------------------------------------------
# compare / run
# ---------------------------------------------------------------------------------------


def _print_comparison(result: jobs.CompareResult, show_info: bool) -> None:
    for table in comparison_tables(result.comparison, result.spec, show_info):
        console.print(table)
    console.print()
    print_markdown(console, result.summary)
    console.print()
    p = result.payload
    t = p["timings"]
    _print_states_from(p)
    console.print(
        f"run {result.run_id}: {len(result.strategies)} strategies x {p['states']} states x "
        f"{p['worlds']} worlds in {number(t['simulate_seconds'])} s "
        f"({number(t['worlds_per_second'])} worlds/s; {t['chunks_computed']} chunks computed, "
        f"{t['chunks_reused']} reused)",
        markup=False,
    )
    # paths on lines of their own, whole, so they can be copied
    console.print(f"database: {p['database']}", markup=False, soft_wrap=True)
    console.print(f"files: {result.run_dir.path}/", markup=False, soft_wrap=True)


def _print_states_from(payload: Mapping[str, Any]) -> None:
    """One line saying the states come from a posterior (nothing for the prior)."""
    if payload.get("states_from"):
        text = str(payload["states_from"])
        console.print(text[0].upper() + text[1:] + ".", markup=False, soft_wrap=True)


def compare(
    scenario: ScenarioArg,
    strategies: Annotated[
        str | None,
        typer.Option(
            "--strategies",
            metavar="IDS",
            help="Comma-separated strategy ids (default: the options "
            "and reference strategies of the deciding country).",
        ),
    ] = None,
    states: StatesOpt = 64,
    worlds: WorldsOpt = 100,
    seed: SeedOpt = 0,
    sampler: SamplerOpt = None,
    threshold: ThresholdOpt = None,
    rank_by: Annotated[
        str,
        typer.Option(
            "--rank-by", metavar="CRITERION", help="max-regret, regret, mean or satisficing."
        ),
    ] = "max-regret",
    out: OutOpt = None,
    db: DbOpt = None,
    resume: ResumeOpt = False,
    scheduler: SchedulerOpt = None,
    scheduler_file: SchedulerFileOpt = None,
    posterior: PosteriorOpt = None,
    as_json: JsonOpt = False,
    all_outcomes: Annotated[
        bool, typer.Option("--all-outcomes", help="Also show info-only outcomes in the table.")
    ] = False,
) -> None:
    """Compare strategies: expected value, regret, satisficing share and rank per outcome."""
    with _engine_guard(scenario):
        result = _jobs().compare(
            scenario,
            strategies=_split(strategies),
            states=states,
            worlds=worlds,
            seed=seed,
            sampler=sampler,
            thresholds=threshold,
            rank_by=rank_by,
            out=out,
            db=db,
            resume=resume,
            scheduler=resolve_scheduler(scheduler, scheduler_file),
            posterior=posterior,
            console=err,
        )
    if as_json:
        typer.echo(dumps(result.payload), nl=False)
    else:
        _print_comparison(result, all_outcomes)


def _print_discovery(disc: Mapping[str, Any] | None) -> None:
    if disc and disc.get("note"):
        console.print(f"Scenario discovery skipped: {disc['note']}.", markup=False)
    if not disc or not disc.get("box"):
        return
    where = (
        f"Where {disc['strategy']} succeeds ({disc['outcome']}; it falls short in "
        f"{percent(disc['share_of_states'])} of states)"
        if disc.get("cases") == "succeeds"
        else f"Where {disc['strategy']} falls short ({disc['condition']}, "
        f"{percent(disc['share_of_states'])} of states)"
    )
    console.print(
        f"{where}: PRIM box with coverage {percent(disc['coverage'])}, "
        f"density {percent(disc['density'])}:",
        markup=False,
    )
    for b in disc["box"]:
        strength = (
            f"; quasi-p {p_value(b['quasi_p'])}, kept by {percent(b['stability'])} of resamples"
            if "stability" in b
            else ""
        )
        mark = " - weak" if b["uncertainty"] in disc.get("resampling", {}).get("weak", []) else ""
        console.print(
            f"  {b['uncertainty']} in {interval(b['low'], b['high'])} "
            f"(full range {interval(b['full_low'], b['full_high'])}{strength}){mark}",
            markup=False,
        )
    for line in _strength_lines(disc.get("resampling")):
        console.print(line, markup=False)


def _strength_lines(resampling: Mapping[str, Any] | None) -> list[str]:
    """How many of a PRIM box's restrictions are findings, which are weak, and what the
    resamples restrict that the box does not (from the job's ``resampling`` record)."""
    if not resampling or not resampling.get("restrictions"):
        return []
    from detente.experiments.prim import QUASI_P_MAX, STABILITY_MIN

    n, b = resampling["restrictions"], resampling["resamples"]
    lines = []
    if resampling.get("stable") is not None:
        lines.append(
            f"{resampling['stable']} of {n} restrictions are kept by at least "
            f"{percent(STABILITY_MIN)} of {b} bootstrap resamples."
        )
    weak = resampling.get("weak") or []
    if weak:
        lines.append(
            f"Weak (quasi-p > {QUASI_P_MAX} or kept by under {percent(STABILITY_MIN)}), "
            f"may be noise: {', '.join(weak)}."
        )
    elif b:
        lines.append("No restriction is weak.")
    boxed = set(resampling.get("box_uncertainties") or [])
    often = [
        f"{u} ({percent(share)})"
        for u, share in (resampling.get("shares") or {}).items()
        if share >= STABILITY_MIN and u not in boxed
    ]
    if often:
        lines.append(
            f"Not in this box but restricted by most resamples: {', '.join(often[:5])}"
            + (f" and {len(often) - 5} more." if len(often) > 5 else ".")
        )
    return lines


def run(
    scenario: Annotated[
        str, typer.Argument(help="Scenario (default: the flagship us-iran-2001).")
    ] = FLAGSHIP,
    quick: Annotated[
        bool,
        typer.Option("--quick", help="A quick smoke run: 12 states x 32 worlds (under a minute)."),
    ] = False,
    states: Annotated[
        int | None,
        typer.Option(
            "--states", show_default=False, help="States of the world sampled (64; --quick: 12)."
        ),
    ] = None,
    worlds: Annotated[
        int | None,
        typer.Option(
            "--worlds",
            show_default=False,
            help="Stochastic worlds per state and strategy (100; --quick: 32).",
        ),
    ] = None,
    seed: SeedOpt = 0,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Output directory (the run goes to OUT/runs/<run id>/, OUT/latest)."
        ),
    ] = DEFAULT_OUT,
    resume: ResumeOpt = False,
    scheduler: SchedulerOpt = None,
    scheduler_file: SchedulerFileOpt = None,
    posterior: PosteriorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The main job: compare the options over sampled states, summarise, write detente-out/."""
    with contextlib.ExitStack() as stack:
        background = _background_report(scenario, scheduler, scheduler_file)
        if background is not None:
            stack.enter_context(background)
        with _engine_guard(scenario):
            result = _jobs().compare(
                scenario,
                states=(12 if quick else 64) if states is None else states,
                worlds=(32 if quick else 100) if worlds is None else worlds,
                seed=seed,
                out=out,
                resume=resume,
                scheduler=resolve_scheduler(scheduler, scheduler_file),
                command="run",
                discover=True,
                posterior=posterior,
                console=err,
            )
        if as_json:
            typer.echo(dumps(result.payload), nl=False)
        else:
            _print_comparison(result, False)
            _print_discovery(result.discovery)
        report = _build_report(result.run_dir, background=background)
    if report is not None and not as_json:
        console.print(f"HTML report: {report}", markup=False, soft_wrap=True)
        console.print(f"(also copied to {out / 'report.html'})", markup=False, soft_wrap=True)


def _background_report(
    scenario: str, scheduler: str | None, scheduler_file: Path | None
) -> BackgroundReport | None:
    """A process that draws the report's scenario-only figures during an in-process run's
    simulation, which leaves a core free, and then builds the report
    (:mod:`detente.report.background`); None for a run on a Dask cluster, whose workers
    take every core."""
    from detente.experiments.executors import IN_PROCESS, SCHEDULER_ENV

    choice = scheduler or os.environ.get(SCHEDULER_ENV, "")
    if scheduler_file is not None or choice.strip().lower() not in IN_PROCESS:
        return None
    from detente.report.background import BackgroundReport

    return BackgroundReport.start(scenario)


def _build_report(
    run_dir: RunDir, publish: bool = True, background: BackgroundReport | None = None
) -> Path | None:
    """Build the run's HTML report into its folder (in ``background`` when given) and
    (``publish``) copy it to ``<out>/report.html``."""
    columns = (TextColumn("report: {task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("drawing figures", total=None)

            def drawn(figure: str, total: int) -> None:
                bar.update(task, total=total, advance=1, description=f"drew {figure}")

            path = _report_in(background, run_dir, drawn)
            if path is None:
                from detente.report.html import build_report

                path = build_report(run_dir.path, progress=drawn)
    except InputError:
        raise
    except Exception as exc:  # the report is a bonus; never lose the run over it
        err.print(f"warning: the HTML report could not be built: {exc}", markup=False)
        return None
    if publish:
        run_dir.publish_report()
    return path


def _report_in(
    background: BackgroundReport | None, run_dir: RunDir, progress: ReportProgress
) -> Path | None:
    """The report built by ``background``, or None when there is none or it ended without
    an answer (then built here)."""
    from detente.report.background import BackgroundGoneError

    if background is None:
        return None
    try:
        return background.build(run_dir.path, progress)
    except BackgroundGoneError:
        return None


# ---------------------------------------------------------------------------------------
# explore
# ---------------------------------------------------------------------------------------


def explore(
    scenario: ScenarioArg,
    strategy: Annotated[str, typer.Option("--strategy", help="Strategy to examine.")],
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome", help="Condition marking states of interest, e.g. 'rapprochement < 0.5'."
        ),
    ],
    states: StatesOpt = 200,
    worlds: WorldsOpt = 50,
    seed: SeedOpt = 0,
    sampler: SamplerOpt = None,
    include: IncludeOpt = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Peeling fraction.")] = 0.05,
    density: Annotated[
        float, typer.Option("--density", help="Density the chosen box must reach.")
    ] = 0.8,
    box: Annotated[
        int | None, typer.Option("--box", help="Choose this peeling step instead.")
    ] = None,
    paste: Annotated[bool, typer.Option("--paste", help="Paste the chosen box.")] = False,
    resamples: Annotated[
        int,
        typer.Option(
            "--resamples",
            help="Bootstrap resamples for each restriction's stability (0: skip).",
        ),
    ] = 50,
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            metavar="IDS",
            help="Also run these strategies on the same states; the outcome may then use "
            "wins('M'), loses('M') and regret('M') for a ranked metric M.",
        ),
    ] = None,
    out: OutOpt = None,
    db: DbOpt = None,
    resume: ResumeOpt = False,
    scheduler: SchedulerOpt = None,
    scheduler_file: SchedulerFileOpt = None,
    posterior: PosteriorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Scenario discovery with PRIM: under which conditions does the outcome occur?"""
    with _engine_guard(scenario):
        result = _jobs().explore(
            scenario,
            strategy=strategy,
            outcome=outcome,
            states=states,
            worlds=worlds,
            seed=seed,
            sampler=sampler,
            include=include,
            alpha=alpha,
            density=density,
            box=box,
            paste=paste,
            against=_split(against),
            resamples=resamples,
            out=out,
            db=db,
            resume=resume,
            scheduler=resolve_scheduler(scheduler, scheduler_file),
            posterior=posterior,
            console=err,
        )
    if as_json:
        typer.echo(dumps(result.payload), nl=False)
        return
    _print_states_from(result.payload)
    y, stats = result.cases, result.box_stats
    console.print(
        f"{int(y.sum())} of {len(y)} states meet '{result.outcome}' under {result.strategy}"
        + (f" against {', '.join(result.payload['against'])}" if result.payload["against"]
           else "")
        + f" (base rate {percent(y.mean())}).",
        markup=False,
    )
    traj = narrow_table("Peeling trajectory (coverage/density trade-off)")
    add_columns(traj, ["step", "coverage", "density", "mass", "restricted"])
    for _, r in result.trajectory.iterrows():
        mark = " <" if int(r["step"]) == result.selected_step else ""
        traj.add_row(
            f"{int(r['step'])}{mark}",
            percent(r["coverage"]),
            percent(r["density"]),
            percent(r["mass"]),
            str(int(r["n_restricted"])),
        )
    console.print(traj)
    tbl = narrow_table(
        f"Chosen box (step {result.selected_step}{', pasted' if paste else ''}): coverage "
        f"{percent(stats['coverage'])}, density {percent(stats['density'])}, "
        f"mass {percent(stats['mass'])}"
    )
    add_columns(
        tbl,
        ["uncertainty", "low", "high", "full range", "quasi-p", "stability", ""],
        left=("uncertainty", ""),
    )
    weak = set(result.payload["resampling"]["weak"])
    for _, r in result.box.iterrows():
        tbl.add_row(
            escape(str(r["uncertainty"])),
            number(r["low"]),
            number(r["high"]),
            interval(r["full_low"], r["full_high"]),
            p_value(r["quasi_p"]),
            percent(r["stability"]),
            "weak" if r["uncertainty"] in weak else "",
        )
    console.print(tbl)
    for line in _strength_lines(result.payload["resampling"]):
        console.print(line, markup=False)
    console.print(
        f"run {result.run_id}: files in {result.run_dir.path}/", markup=False, soft_wrap=True
    )


# ---------------------------------------------------------------------------------------
# sensitivity
# ---------------------------------------------------------------------------------------


def sensitivity_cmd(
    scenario: ScenarioArg,
    strategy: Annotated[str, typer.Option("--strategy", help="Strategy to analyse.")],
    outcome: Annotated[str, typer.Option("--outcome", help="Outcome (metric) to decompose.")],
    method: Annotated[
        str, typer.Option("--method", metavar="sobol|morris", help="sobol or morris.")
    ] = "sobol",
    n: Annotated[
        int | None,
        typer.Option(
            "--n",
            show_default=False,
            help="Sobol base sample, a power of two (64), or Morris trajectories (20).",
        ),
    ] = None,
    worlds: WorldsOpt = 32,
    seed: SeedOpt = 0,
    include: IncludeOpt = None,
    out: OutOpt = None,
    db: DbOpt = None,
    resume: ResumeOpt = False,
    scheduler: SchedulerOpt = None,
    scheduler_file: SchedulerFileOpt = None,
    posterior: Annotated[
        str | None,
        typer.Option(
            "--posterior",
            metavar="RUN",
            help="Not accepted: Sobol and Morris need independent inputs, posterior states "
            "are weighted and correlated (use it with compare, explore or run).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Global sensitivity of one outcome: Sobol indices or Morris screening (SALib)."""
    if posterior is not None:
        raise InputError.single("--posterior", SENSITIVITY_REFUSES_POSTERIOR)

    def notify(line: str) -> None:
        if not as_json:
            err.print(line, markup=False)

    with _engine_guard(scenario):
        result = _jobs().sensitivity_analysis(
            scenario,
            strategy=strategy,
            outcome=outcome,
            method=method,
            n=n,
            worlds=worlds,
            seed=seed,
            include=include,
            out=out,
            db=db,
            resume=resume,
            scheduler=resolve_scheduler(scheduler, scheduler_file),
            console=err,
            notify=notify,
        )
    if as_json:
        typer.echo(dumps(result.payload), nl=False)
        return
    frame = result.indices
    tbl = narrow_table(
        f"{result.method.title()} sensitivity of {result.outcome} under {result.strategy}"
    )
    add_columns(tbl, [str(c) for c in frame.columns], left=("parameter",))
    for _, r in frame.head(25).iterrows():
        tbl.add_row(escape(str(r["parameter"])), *[number(r[c]) for c in frame.columns[1:]])
    console.print(tbl)
    if len(frame) > 25:
        console.print(f"({len(frame) - 25} more in --json and {result.run_dir.path}/)")
    for note in result.warnings:
        err.print(f"warning: {note}", markup=False)


# ---------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------


def export(
    out: Annotated[Path, typer.Option("--out", help="Directory for the Parquet files.")],
    db: Annotated[Path, typer.Option("--db", help="Results database.")] = DEFAULT_OUT
    / "results.duckdb",
    run_id: Annotated[
        str | None, typer.Option("--run", help="Export only this run (default: all).")
    ] = None,
) -> None:
    """Export the results database (or one run) to Parquet files."""
    check_path_length(db)
    if not db.exists():
        raise InputError.single(str(db), "no such results database; run an experiment first")
    from detente.store.duckdb import ResultStore

    store = ResultStore(db)
    if run_id is not None:
        runs = store.runs()
        known = [str(r) for r in runs["run_id"]] if not runs.empty else []
        if run_id not in known:
            raise InputError.single(str(db), f"no run {run_id!r}{did_you_mean(run_id, known)}")
    files = store.export_parquet(out, run_id)
    for f in files:
        console.print(str(f), markup=False)


def register(app: typer.Typer) -> None:
    """Attach the experiment commands to the app."""
    app.command("compare", cls=ReadableHelp)(compare)
    app.command("explore", cls=ReadableHelp)(explore)
    app.command("sensitivity", cls=ReadableHelp)(sensitivity_cmd)
    app.command("run", cls=ReadableHelp)(run)
    app.command("export", cls=ReadableHelp)(export)
