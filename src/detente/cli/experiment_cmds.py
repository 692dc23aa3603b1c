"""Experiment commands: ``compare``, ``explore``, ``sensitivity``, ``run`` and ``export``.

Every command validates all of its input before it computes anything (strategies,
thresholds, outcome expressions, sample sizes), writes its results to the DuckDB store as
it goes (so ``--resume`` continues an interrupted run) and writes its output files under
temporary names that are renamed only when complete.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from detente.errors import InputError, InputProblem, did_you_mean
from detente.experiments import analysis, outcome_expr, prim, sensitivity
from detente.experiments.executors import make_evaluator
from detente.experiments.robustness import RANK_BY, RankBy, Threshold, parse_threshold, regret
from detente.experiments.runner import (
    DEFAULT_MODEL,
    EngineUnavailableError,
    ExperimentPlan,
    RunResult,
    check_strategies,
    default_strategies,
    load_model,
    run_experiment,
)
from detente.experiments.sampling import SAMPLERS, Sampler, sample_states, to_values, unit_sample
from detente.scenario import Scenario, UncertainParameter, load_scenario, uncertainties
from detente.store.duckdb import ResultStore

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

FLAGSHIP = "us-iran-2001"
DEFAULT_OUT = Path("detente-out")

ScenarioArg = Annotated[str, typer.Argument(help="Built-in scenario name or path to a YAML file.")]
StatesOpt = Annotated[int | None, typer.Option("--states", help="States of the world sampled.")]
WorldsOpt = Annotated[
    int | None, typer.Option("--worlds", help="Stochastic worlds per state and strategy.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed: same seed, same numbers.")]
SamplerOpt = Annotated[str, typer.Option("--sampler", help="lhs (Latin hypercube) or sobol.")]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Directory for result files (CSV/JSON/Markdown).")
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
        help="Dask scheduler tcp://HOST:PORT, or 'local' for a LocalCluster "
        "(default: $DETENTE_SCHEDULER, else in-process).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ThresholdOpt = Annotated[
    list[str] | None,
    typer.Option("--threshold", help="Satisficing threshold METRIC>=VALUE (repeatable)."),
]
IncludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--include",
        help="Only sample uncertainties matching this glob, e.g. 'parameters.*' (repeatable).",
    ),
]


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _cli(message: str) -> InputProblem:
    return InputProblem("<command line>", message)


def _check_counts(**counts: int | None) -> None:
    problems = [
        _cli(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        for name, value in counts.items()
        if value is not None and value < 1
    ]
    if problems:
        raise InputError(problems)


def _sampler(name: str) -> Sampler:
    if name not in SAMPLERS:
        raise InputError.single(
            "<command line>", f"--sampler {name!r}: expected one of {', '.join(SAMPLERS)}"
        )
    return name  # type: ignore[return-value]


def _rank_by(name: str) -> RankBy:
    if name not in RANK_BY:
        raise InputError.single(
            "<command line>", f"--rank-by {name!r}: expected one of {', '.join(RANK_BY)}"
        )
    return name  # type: ignore[return-value]


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [s.strip() for s in text.split(",") if s.strip()]


def _probe_outcomes(scenario: Scenario, strategy: str) -> list[str]:
    """Outcome names the model produces (one world at the nominal state)."""
    model, _ = load_model()
    return [str(k) for k in model(scenario, strategy, 1, 0, 0)]


def _store(out: Path | None, db: Path | None) -> ResultStore:
    if db is not None:
        return ResultStore(db)
    return ResultStore((out or DEFAULT_OUT) / "results.duckdb")


def _thresholds(texts: Sequence[str] | None, outcomes: Sequence[str]) -> dict[str, Threshold]:
    problems: list[InputProblem] = []
    out: dict[str, Threshold] = {}
    for text in texts or []:
        try:
            t = parse_threshold(text, outcomes)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        out[t.metric] = t
    if problems:
        raise InputError(problems)
    return out


def _select_uncertainties(
    scenario: Scenario, include: Sequence[str] | None, default_max: int | None = None
) -> list[UncertainParameter]:
    """Uncertainties matching the include globs (default: all, or the model parameters when
    there are more than ``default_max``)."""
    params = uncertainties(scenario)
    if not params:
        raise InputError.single(
            f"<scenario {scenario.id}>", "has no uncertain numbers (ranges) to sample"
        )
    if not include:
        if default_max is not None and len(params) > default_max:
            chosen = [p for p in params if p.name.startswith("parameters.")]
            return chosen or params[:default_max]
        return params
    names = [p.name for p in params]
    problems = [
        _cli(f"--include {pat!r} matches no uncertainty{did_you_mean(pat, names)}")
        for pat in include
        if not any(fnmatch.fnmatchcase(n, pat) for n in names)
    ]
    if problems:
        raise InputError(problems)
    return [p for p in params if any(fnmatch.fnmatchcase(p.name, pat) for pat in include)]


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _csv(frame: pd.DataFrame) -> str:
    return str(frame.to_csv(index=False))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    def clean(v: Any) -> Any:
        if isinstance(v, float | np.floating):
            return None if not math.isfinite(float(v)) else float(v)
        if isinstance(v, np.integer | np.bool_):
            return v.item()
        if v is pd.NA:
            return None
        return v

    return [{str(k): clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _dumps(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, indent=2, allow_nan=False, default=str) + "\n"


def _engine_guard(exc: EngineUnavailableError) -> typer.Exit:
    err.print(f"error: {exc}", markup=False)
    return typer.Exit(1)


def _uses_default_engine() -> bool:
    """True when runs use detente's own simulation engine (not a ``$DETENTE_MODEL``)."""
    return load_model()[1] == DEFAULT_MODEL


def _run(
    plan: ExperimentPlan,
    store: ResultStore,
    scheduler: str | None,
    resume: bool,
    show_progress: bool,
) -> RunResult:
    evaluator = make_evaluator(scheduler)
    try:
        return run_experiment(
            plan, store, evaluator=evaluator, resume=resume, progress=show_progress, console=err
        )
    except EngineUnavailableError as exc:
        raise _engine_guard(exc) from None


def _fmt(x: Any) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    x = float(x)
    if x != 0 and (abs(x) >= 1000 or abs(x) < 0.01):
        return f"{x:.3g}"
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"


def comparison_tables(
    comparison: pd.DataFrame, spec: analysis.OutcomeSpec, show_info: bool = False
) -> list[Table]:
    """One Rich table per outcome (scenario order), strategies by rank."""
    tables = []
    for outcome in spec.outcomes:
        direction = spec.directions[outcome]
        if direction == "info" and not show_info:
            continue
        threshold = spec.thresholds.get(outcome)
        title = f"[bold]{outcome}[/bold] ({direction}"
        title += f"; satisficing: {threshold.op} {threshold.value:g})" if threshold else ")"
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("#", "strategy", "expected [95% CI]", "mean regret", "max regret"):
            table.add_column(
                col,
                justify="left" if col == "strategy" else "right",
                no_wrap=col in ("strategy", "expected [95% CI]"),
            )
        if threshold is not None:
            table.add_column("satisficing", justify="right")
        rows = comparison[comparison.outcome == outcome].sort_values("rank", na_position="last")
        for _, r in rows.iterrows():
            rank = "" if pd.isna(r["rank"]) else str(int(r["rank"]))
            cells = [
                rank,
                f"[bold]{escape(str(r['strategy']))}[/bold]"
                if rank == "1"
                else escape(str(r["strategy"])),
                f"{_fmt(r['mean'])} [{_fmt(r['lo'])}, {_fmt(r['hi'])}]",
                _fmt(r["regret_mean"]),
                _fmt(r["regret_max"]),
            ]
            if threshold is not None:
                cells.append(f"{r['satisficing']:.0%}")
            table.add_row(*cells)
        tables.append(table)
    return tables


# ---------------------------------------------------------------------------------------
# compare / run
# ---------------------------------------------------------------------------------------


def _compare_job(
    scenario_name: str,
    strategies: str | None,
    states: int,
    worlds: int,
    seed: int,
    sampler: str,
    thresholds: Sequence[str] | None,
    rank_by: str,
    out: Path | None,
    db: Path | None,
    resume: bool,
    scheduler: str | None,
    as_json: bool,
    show_info: bool,
    kind: str,
    discover: bool,
) -> dict[str, Any]:
    t_start = time.perf_counter()
    _check_counts(states=states, worlds=worlds)
    sampler_ = _sampler(sampler)
    rank = _rank_by(rank_by)
    scenario = load_scenario(scenario_name)
    chosen = _split(strategies) if strategies else None
    names = check_strategies(scenario, chosen or default_strategies(scenario))
    try:
        produced = _probe_outcomes(scenario, names[0])
    except EngineUnavailableError as exc:
        raise _engine_guard(exc) from None
    spec = analysis.outcome_spec(scenario, produced, _thresholds(thresholds, produced))
    make_evaluator(scheduler)  # validates --scheduler before any work
    plan = ExperimentPlan(
        kind="compare",
        scenario=scenario,
        states=sample_states(scenario, states, sampler_, seed),
        strategies=tuple(names),
        worlds=worlds,
        seed=seed,
        settings={"sampler": sampler_, "command": kind},
    )
    store = _store(out, db)
    t_sim = time.perf_counter()
    result = _run(plan, store, scheduler, resume, show_progress=True)
    sim_seconds = time.perf_counter() - t_sim
    means = result.state_means()
    params = result.parameters()
    comparison = analysis.comparison_for(means, spec, names, rank)
    summary, drivers = analysis.summary_markdown(
        scenario, comparison, spec, means, params, names, states, worlds, rank
    )
    payload: dict[str, Any] = {
        "run_id": result.run_id,
        "scenario": scenario.id,
        "database": str(store.path),
        "strategies": names,
        "states": states,
        "worlds": worlds,
        "seed": seed,
        "sampler": sampler_,
        "rank_by": rank,
        "thresholds": {k: str(v) for k, v in spec.thresholds.items()},
        "directions": spec.directions,
        "timings": {
            "simulate_seconds": round(sim_seconds, 2),
            "worlds_per_second": round(result.worlds_per_second, 1),
            "chunks_computed": result.computed,
            "chunks_reused": result.reused,
        },
        "comparison": _records(comparison),
        "drivers": _records(drivers),
        "summary": summary,
    }
    files: dict[str, str] = {}
    if discover and len(means) and analysis.primary_outcome(spec, comparison) is not None:
        files.update(_discovery_files(comparison, spec, means, params, names, payload))
    if discover and _uses_default_engine() and scenario.kind == "system":
        from detente.experiments.trajectories import MAX_STATES, sampled_trajectory_quantiles

        trajectories = sampled_trajectory_quantiles(
            scenario, names, plan.states, worlds, seed, max_states=min(states, MAX_STATES)
        )
        store.write_trajectories(result.run_id, trajectories)
        files["trajectories.csv"] = _csv(trajectories)
    payload["timings"]["total_seconds"] = round(time.perf_counter() - t_start, 2)
    if out is not None:
        files.update(
            {
                "comparison.csv": _csv(comparison),
                "drivers.csv": _csv(drivers),
                "summary.md": summary,
                "parameters.csv": str(params.reset_index().to_csv(index=False)),
                "state_means.csv": _csv(means),
            }
        )
        files["comparison.json"] = _dumps(payload)
        for name, text in files.items():
            _write_atomic(out / name, text)
        if discover and not (out / "prim.json").exists():
            # a rerun without a discovery box must not leave an older run's box behind
            for stale in ("prim_trajectory.csv", "prim_box.csv"):
                if stale not in files:
                    (out / stale).unlink(missing_ok=True)
    if as_json:
        typer.echo(_dumps(payload), nl=False)
    else:
        for table in comparison_tables(comparison, spec, show_info):
            console.print(table)
        console.print()
        console.print(summary, markup=False)
        t = payload["timings"]
        console.print(
            f"run {result.run_id}: {len(names)} strategies x {states} states x {worlds} worlds "
            f"in {t['simulate_seconds']:.1f} s ({t['worlds_per_second']:,.0f} worlds/s; "
            f"{t['chunks_computed']} chunks computed, {t['chunks_reused']} reused); "
            f"database {store.path}" + (f"; files in {out}/" if out is not None else ""),
            markup=False,
        )
    return payload


MIN_PRIM_CASES = 20
"""Fewest cases (states of the rarer class) for which `run` attempts scenario discovery."""


def _discovery_files(
    comparison: pd.DataFrame,
    spec: analysis.OutcomeSpec,
    means: pd.DataFrame,
    params: pd.DataFrame,
    names: Sequence[str],
    payload: dict[str, Any],
) -> dict[str, str]:
    """PRIM on the compare run's own states: where does the leading strategy miss its mark?"""
    primary = analysis.primary_outcome(spec, comparison)
    assert primary is not None
    rows = comparison[comparison.outcome == primary].sort_values("rank")
    leader = str(rows.iloc[0]["strategy"])
    cell = means[means.strategy == leader].set_index("state").loc[params.index]
    threshold = spec.thresholds.get(primary)
    values = cell[primary].to_numpy(dtype=float)
    if threshold is not None:
        fail = ~threshold.met(values)
        condition = f"not ({threshold})"
    else:
        reg = regret(
            means.pivot(index="state", columns="strategy", values=primary)[list(names)].to_numpy(),
            spec.directions[primary],
        )[:, list(names).index(leader)]
        fail = reg > 0
        condition = f"{leader} is not the best on {primary}"
    if fail.all() or not fail.any() or len(fail) < 10:
        payload["discovery"] = {"strategy": leader, "condition": condition, "box": None}
        return {}
    # PRIM explains the rarer class: when the leader falls short in most states, the
    # informative question is where it succeeds. A box must also be clearly purer than the
    # base rate, else step 0 (the whole space) would be "chosen" and nothing discovered.
    succeeds = bool(fail.mean() > 0.5)
    cases = ~fail if succeeds else fail
    if int(cases.sum()) < MIN_PRIM_CASES:
        payload["discovery"] = {
            "strategy": leader,
            "condition": condition,
            "share_of_states": float(fail.mean()),
            "box": None,
            "note": f"only {int(cases.sum())} of {len(cases)} states are cases; scenario "
            f"discovery needs at least {MIN_PRIM_CASES} (run `detente explore` with more states)",
        }
        return {}
    base = float(cases.mean())
    # With a few dozen states, peeling over hundreds of uncertainties finds spurious boxes;
    # the run restricts discovery to the model parameters (`detente explore` takes --include).
    model_params = [c for c in params.columns if str(c).startswith("parameters.")]
    candidates = params[model_params] if model_params else params
    res = prim.prim(candidates, cases, threshold=max(0.6, base + 0.5 * (1.0 - base)))
    box = res.box()
    stats = res.stats()
    payload["discovery"] = {
        "strategy": leader,
        "condition": condition,
        "share_of_states": float(fail.mean()),
        "cases": "succeeds" if succeeds else "falls short",
        "selected_step": res.selected,
        **(
            {"outcome": str(threshold) if threshold is not None else f"the best {primary}"}
            if succeeds
            else {}
        ),
        **stats,
        "box": _records(box),
    }
    return {"prim_trajectory.csv": _csv(res.trajectory), "prim_box.csv": _csv(box)}


def compare(
    scenario: ScenarioArg,
    strategies: Annotated[
        str | None,
        typer.Option(
            "--strategies",
            help="Comma-separated strategy ids (default: the options "
            "and reference strategies of the deciding country).",
        ),
    ] = None,
    states: StatesOpt = None,
    worlds: WorldsOpt = None,
    seed: SeedOpt = 0,
    sampler: SamplerOpt = "lhs",
    threshold: ThresholdOpt = None,
    rank_by: Annotated[
        str, typer.Option("--rank-by", help="max-regret, regret, mean or satisficing.")
    ] = "max-regret",
    out: OutOpt = None,
    db: DbOpt = None,
    resume: ResumeOpt = False,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
    all_outcomes: Annotated[
        bool, typer.Option("--all-outcomes", help="Also show info-only outcomes in the table.")
    ] = False,
) -> None:
    """Compare strategies: expected value, regret, satisficing share and rank per outcome."""
    _compare_job(
        scenario,
        strategies,
        64 if states is None else states,
        100 if worlds is None else worlds,
        seed,
        sampler,
        threshold,
        rank_by,
        out,
        db,
        resume,
        scheduler,
        as_json,
        all_outcomes,
        kind="compare",
        discover=False,
    )


def run(
    scenario: Annotated[
        str, typer.Argument(help="Scenario (default: the flagship us-iran-2001).")
    ] = FLAGSHIP,
    quick: Annotated[
        bool, typer.Option("--quick", help="A seconds-long smoke run (few states and worlds).")
    ] = False,
    states: StatesOpt = None,
    worlds: WorldsOpt = None,
    seed: SeedOpt = 0,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = DEFAULT_OUT,
    resume: ResumeOpt = False,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The main job: compare the options over sampled states, summarise, write detente-out/."""
    n_states = (12 if quick else 64) if states is None else states
    n_worlds = (32 if quick else 100) if worlds is None else worlds
    payload = _compare_job(
        scenario,
        None,
        n_states,
        n_worlds,
        seed,
        "lhs",
        None,
        "max-regret",
        out,
        None,
        resume,
        scheduler,
        as_json,
        False,
        kind="run",
        discover=True,
    )
    if not as_json:
        disc = payload.get("discovery")
        if disc and disc.get("note"):
            console.print(f"Scenario discovery skipped: {disc['note']}.", markup=False)
        if disc and disc.get("box"):
            where = (
                f"Where {disc['strategy']} succeeds ({disc['outcome']}; it falls short in "
                f"{disc['share_of_states']:.0%} of states)"
                if disc.get("cases") == "succeeds"
                else f"Where {disc['strategy']} falls short ({disc['condition']}, "
                f"{disc['share_of_states']:.0%} of states)"
            )
            console.print(
                f"{where}: PRIM box with coverage {disc['coverage']:.0%}, "
                f"density {disc['density']:.0%}:",
                markup=False,
            )
            for b in disc["box"]:
                console.print(
                    f"  {b['uncertainty']} in [{_fmt(b['low'])}, {_fmt(b['high'])}] "
                    f"(full range [{_fmt(b['full_low'])}, {_fmt(b['full_high'])}])",
                    markup=False,
                )
    report = _build_report(out)
    if report is not None and not as_json:
        console.print(f"HTML report: {report}", markup=False)


def _build_report(out: Path) -> Path | None:
    """Build the HTML report when the report package is installed (guarded import)."""
    build = None
    for module in ("detente.report", "detente.report.html"):
        try:
            build = getattr(__import__(module, fromlist=["build_report"]), "build_report", None)
        except ImportError:
            continue
        if build is not None:
            break
    if build is None:
        return None
    try:
        return Path(build(out))
    except InputError:
        raise
    except Exception as exc:  # the report is a bonus; never lose the run over it
        err.print(f"warning: the HTML report could not be built: {exc}", markup=False)
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
    states: StatesOpt = None,
    worlds: WorldsOpt = None,
    seed: SeedOpt = 0,
    sampler: SamplerOpt = "lhs",
    include: IncludeOpt = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Peeling fraction.")] = 0.05,
    density: Annotated[
        float, typer.Option("--density", help="Density the chosen box must reach.")
    ] = 0.8,
    box: Annotated[
        int | None, typer.Option("--box", help="Choose this peeling step instead.")
    ] = None,
    paste: Annotated[bool, typer.Option("--paste", help="Paste the chosen box.")] = False,
    out: OutOpt = None,
    db: DbOpt = None,
    resume: ResumeOpt = False,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Scenario discovery with PRIM: under which conditions does the outcome occur?"""
    n_states = 200 if states is None else states
    n_worlds = 50 if worlds is None else worlds
    _check_counts(states=n_states, worlds=n_worlds)
    problems = []
    if not 0 < alpha < 0.5:
        problems.append(_cli(f"--alpha must lie in (0, 0.5), got {alpha}"))
    if not 0 <= density <= 1:
        problems.append(_cli(f"--density must lie in [0, 1], got {density}"))
    if problems:
        raise InputError(problems)
    sampler_ = _sampler(sampler)
    sc = load_scenario(scenario)
    (name,) = check_strategies(sc, [strategy])
    params = _select_uncertainties(sc, include)
    try:
        produced = _probe_outcomes(sc, name)
    except EngineUnavailableError as exc:
        raise _engine_guard(exc) from None
    outcome_expr.check_expression(outcome, produced)
    make_evaluator(scheduler)
    unit = to_values(params, unit_sample(n_states, len(params), sampler_, seed))
    plan = ExperimentPlan(
        "explore", sc, unit, (name,), n_worlds, seed, {"sampler": sampler_, "outcome": outcome}
    )
    store = _store(out, db)
    result = _run(plan, store, scheduler, resume, show_progress=True)
    means = result.state_means().set_index("state").loc[unit.index]
    cols = {m: means[m].to_numpy(dtype=float) for m in produced if m in means.columns}
    y = outcome_expr.evaluate(outcome, cols)
    if not y.any() or y.all():
        raise InputError.single(
            "<command line>",
            f"--outcome {outcome!r} holds in {int(y.sum())} of {len(y)} states: "
            "PRIM needs states both with and without it; try another condition",
        )
    bounds = np.array([[p.low, p.high] for p in params])
    try:
        res = prim.prim(
            unit, y, alpha=alpha, threshold=density, step=box, paste_box=paste, bounds=bounds
        )
    except IndexError as exc:
        raise InputError.single("<command line>", f"--box: {exc}") from None
    chosen = res.box()
    stats = prim.box_stats(unit.to_numpy(dtype=float), y, res.box_limits())
    payload = {
        "run_id": result.run_id,
        "scenario": sc.id,
        "strategy": name,
        "outcome": outcome,
        "cases": int(y.sum()),
        "states": n_states,
        "worlds": n_worlds,
        "selected_step": res.selected,
        "box_stats": stats,
        "trajectory": _records(res.trajectory),
        "box": _records(chosen),
    }
    if out is not None:
        _write_atomic(out / "prim_trajectory.csv", _csv(res.trajectory))
        _write_atomic(out / "prim_box.csv", _csv(chosen))
        _write_atomic(out / "prim.json", _dumps(payload))
    if as_json:
        typer.echo(_dumps(payload), nl=False)
        return
    console.print(
        f"{int(y.sum())} of {n_states} states meet '{outcome}' under {name} "
        f"(base rate {y.mean():.0%}).",
        markup=False,
    )
    traj = Table(title="Peeling trajectory (coverage/density trade-off)")
    for c in ("step", "coverage", "density", "mass", "restricted"):
        traj.add_column(c, justify="right")
    for _, r in res.trajectory.iterrows():
        mark = " <" if int(r["step"]) == res.selected else ""
        traj.add_row(
            f"{int(r['step'])}{mark}",
            f"{r['coverage']:.2f}",
            f"{r['density']:.2f}",
            f"{r['mass']:.2f}",
            str(int(r["n_restricted"])),
        )
    console.print(traj)
    tbl = Table(
        title=f"Chosen box (step {res.selected}{', pasted' if paste else ''}): coverage "
        f"{stats['coverage']:.0%}, density {stats['density']:.0%}, mass {stats['mass']:.0%}"
    )
    for c in ("uncertainty", "low", "high", "full range"):
        tbl.add_column(c)
    for _, r in chosen.iterrows():
        tbl.add_row(
            escape(str(r["uncertainty"])),
            _fmt(r["low"]),
            _fmt(r["high"]),
            f"{_fmt(r['full_low'])} - {_fmt(r['full_high'])}",
        )
    console.print(tbl)


# ---------------------------------------------------------------------------------------
# sensitivity
# ---------------------------------------------------------------------------------------


def sensitivity_cmd(
    scenario: ScenarioArg,
    strategy: Annotated[str, typer.Option("--strategy", help="Strategy to analyse.")],
    outcome: Annotated[str, typer.Option("--outcome", help="Outcome (metric) to decompose.")],
    method: Annotated[str, typer.Option("--method", help="sobol or morris.")] = "sobol",
    n: Annotated[
        int | None,
        typer.Option("--n", help="Sobol base sample (power of two) or Morris trajectories."),
    ] = None,
    worlds: WorldsOpt = None,
    seed: SeedOpt = 0,
    include: IncludeOpt = None,
    out: OutOpt = None,
    db: DbOpt = None,
    resume: ResumeOpt = False,
    scheduler: SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Global sensitivity of one outcome: Sobol indices or Morris screening (SALib)."""
    problems = []
    if method not in ("sobol", "morris"):
        problems.append(_cli(f"--method {method!r}: expected sobol or morris"))
    n_base = (64 if method == "sobol" else 20) if n is None else n
    n_worlds = 32 if worlds is None else worlds
    if n_base < 2:
        problems.append(_cli(f"--n must be at least 2, got {n_base}"))
    if n_worlds < 1:
        problems.append(_cli(f"--worlds must be at least 1, got {n_worlds}"))
    if problems:
        raise InputError(problems)
    sc = load_scenario(scenario)
    (name,) = check_strategies(sc, [strategy])
    params = _select_uncertainties(sc, include, default_max=40)
    try:
        produced = _probe_outcomes(sc, name)
    except EngineUnavailableError as exc:
        raise _engine_guard(exc) from None
    if outcome not in produced:
        raise InputError.single(
            "<command line>",
            f"--outcome {outcome!r}: unknown outcome{did_you_mean(outcome, produced)}; "
            f"outcomes: {', '.join(produced)}",
        )
    make_evaluator(scheduler)
    d = len(params)
    design = (
        sensitivity.sobol_sample(d, n_base, seed)
        if method == "sobol"
        else sensitivity.morris_sample(d, n_base, seed)
    )
    values = to_values(params, design)
    if not as_json:
        which = "selected" if include else "all"
        if not include and d < len(uncertainties(sc)):
            which = "default: the model parameters; use --include to choose others"
        err.print(
            f"{method}: {d} uncertainties ({which}), {len(values)} states x {n_worlds} worlds",
            markup=False,
        )
    plan = ExperimentPlan(
        "sensitivity", sc, values, (name,), n_worlds, seed, {"method": method, "n": n_base}
    )
    store = _store(out, db)
    result = _run(plan, store, scheduler, resume, show_progress=True)
    means = result.state_means().set_index("state").loc[values.index]
    y = means[outcome].to_numpy(dtype=float)
    notes: list[str] = []
    if not np.all(np.isfinite(y)):
        raise InputError.single(
            "<command line>", f"--outcome {outcome!r} is undefined in some states; pick another"
        )
    names = [p.name for p in params]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sensitivity.SensitivityWarning)
        if method == "sobol":
            frame, notes = sensitivity.sobol_analyze(names, y, seed=seed)
            frame = frame.sort_values("ST", ascending=False).reset_index(drop=True)
        else:
            frame = sensitivity.morris_analyze(names, design, y, seed=seed)
            frame = frame.sort_values("mu_star", ascending=False).reset_index(drop=True)
    payload = {
        "run_id": result.run_id,
        "scenario": sc.id,
        "strategy": name,
        "outcome": outcome,
        "method": method,
        "n": n_base,
        "states": len(values),
        "worlds": n_worlds,
        "warnings": notes,
        "indices": _records(frame),
    }
    if out is not None:
        _write_atomic(out / "sensitivity.csv", _csv(frame))
        _write_atomic(out / "sensitivity.json", _dumps(payload))
    if as_json:
        typer.echo(_dumps(payload), nl=False)
        return
    tbl = Table(title=f"{method.title()} sensitivity of {outcome} under {name}")
    for c in frame.columns:
        tbl.add_column(c, justify="left" if c == "parameter" else "right")
    for _, r in frame.head(25).iterrows():
        tbl.add_row(escape(str(r["parameter"])), *[_fmt(r[c]) for c in frame.columns[1:]])
    console.print(tbl)
    if len(frame) > 25:
        console.print(f"({len(frame) - 25} more in --json / --out)")
    for note in notes:
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
    if not db.exists():
        raise InputError.single(str(db), "no such results database; run an experiment first")
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
    app.command("compare")(compare)
    app.command("explore")(explore)
    app.command("sensitivity")(sensitivity_cmd)
    app.command("run")(run)
    app.command("export")(export)
