"""The experiment jobs: ``compare`` (and ``detente run``), ``explore`` and ``sensitivity``.

Each job validates all of its input before it computes anything, runs the experiment into
the results store (so an interrupted job resumes with ``resume=True``), computes everything
the run's readers need (comparison, summary, drivers, discovery, trajectories, indices) and
stores it with the scenario's exact text in the run's own folder
(:class:`detente.runs.RunDir`), then returns a typed result. Nothing here prints results:
the command line and the report read what a job returned or stored.

Where things go: ``out`` is the output folder (default ``detente-out``; ``db`` alone puts
it beside that database); the store is ``db`` or ``<out>/results.duckdb``; the run's files
go to ``<out>/runs/<run_id>/`` and ``<out>/latest`` names the newest run.
"""

from __future__ import annotations

import fnmatch
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

from detente.errors import InputError, InputProblem, did_you_mean
from detente.experiments import analysis, outcome_expr, prim, sensitivity, versus
from detente.experiments.budget import SEED_MAX
from detente.experiments.chunks import Model
from detente.experiments.executors import make_evaluator
from detente.experiments.posterior_states import PosteriorSource, posterior_source
from detente.experiments.robustness import RANK_BY, RankBy, Threshold, parse_threshold, regret
from detente.experiments.runner import (
    DEFAULT_MODEL,
    ExperimentPlan,
    RunResult,
    check_strategies,
    default_strategies,
    load_model,
    run_experiment,
)
from detente.experiments.sampling import SAMPLERS, Sampler, sample_states, to_values, unit_sample
from detente.runs.directory import DB_NAME, DEFAULT_ROOT, SCENARIO_YAML, Artifact, RunDir
from detente.runs.scenario_text import load_scenario_with_text, text_sha256
from detente.scenario import Scenario, UncertainParameter, uncertainties
from detente.store.duckdb import ResultStore

MIN_PRIM_CASES = 20
"""Fewest cases (states of the rarer class) for which `run` attempts scenario discovery."""

Notify = Callable[[str], None]


@dataclass(frozen=True)
class Target:
    """Where a job writes: the output folder (run folders, ``latest``) and the store."""

    out: Path
    store: ResultStore

    @classmethod
    def of(cls, out: str | Path | None, db: str | Path | None) -> Target:
        """``out`` (default: the database's folder, else ``detente-out``) and ``db``
        (default ``<out>/results.duckdb``)."""
        root = Path(out) if out is not None else (Path(db).parent if db else DEFAULT_ROOT)
        return cls(root, ResultStore(Path(db) if db is not None else root / DB_NAME))


@dataclass(frozen=True)
class CompareResult:
    """A finished strategy comparison (``detente compare`` / ``detente run``).

    Attributes
    ----------
    run_id : str
    run_dir : RunDir
        Where every artifact below is stored.
    scenario : Scenario
    spec : OutcomeSpec
        Directions and thresholds the outcomes were judged by.
    strategies : list of str
    comparison : DataFrame
        The comparison frame of ``docs/contracts.md``.
    drivers : DataFrame
        ``[parameter, rho, p_value, significant]`` (may be empty).
    summary : str
        Plain-language summary (Markdown).
    state_means, parameters : DataFrame
        Per (state, strategy) means; the sampled states.
    discovery : dict, optional
        PRIM on where the leader falls short (``discover=True``).
    trajectories : DataFrame, optional
        Fan-chart quantiles (``discover=True`` with the built-in engine).
    payload : dict
        ``run.json``: what ``--json`` prints.
    """

    run_id: str
    run_dir: RunDir
    scenario: Scenario
    spec: analysis.OutcomeSpec
    strategies: list[str]
    comparison: pd.DataFrame
    drivers: pd.DataFrame
    summary: str
    state_means: pd.DataFrame
    parameters: pd.DataFrame
    discovery: dict[str, Any] | None
    trajectories: pd.DataFrame | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class ExploreResult:
    """A finished PRIM scenario discovery (``detente explore``)."""

    run_id: str
    run_dir: RunDir
    strategy: str
    outcome: str
    cases: np.ndarray
    trajectory: pd.DataFrame
    box: pd.DataFrame
    selected_step: int
    box_stats: dict[str, float]
    payload: dict[str, Any]


@dataclass(frozen=True)
class SensitivityResult:
    """A finished global sensitivity analysis (``detente sensitivity``)."""

    run_id: str
    run_dir: RunDir
    strategy: str
    outcome: str
    method: str
    indices: pd.DataFrame
    warnings: list[str]
    payload: dict[str, Any]


# ---------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------


def _cli(message: str) -> InputProblem:
    return InputProblem("<command line>", message)


def check_counts(**counts: int | None) -> None:
    """Each count must be at least 1 (one problem per bad count, named as its option)."""
    problems = [
        _cli(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        for name, value in counts.items()
        if value is not None and value < 1
    ]
    if problems:
        raise InputError(problems)


def check_seed(seed: int) -> None:
    """The seed must lie in ``0 .. 2**63 - 1`` (NumPy needs it non-negative, DuckDB 64-bit)."""
    if not 0 <= seed <= SEED_MAX:
        raise InputError([_cli(f"--seed must lie in 0 .. 2**63-1, got {seed}")])


def check_sampler(name: str | None, posterior: object = None) -> Sampler:
    """``name`` as a sampler (None: ``lhs``), or an InputError listing the samplers.

    A sampler given with a posterior is refused: the states are then the posterior's draws.
    """
    if name is not None and posterior is not None:
        raise InputError.single(
            "<command line>",
            "--sampler does not apply with --posterior: the states are drawn from the "
            "posterior's particles",
        )
    if name is None:
        return "lhs"
    if name not in SAMPLERS:
        raise InputError.single(
            "<command line>", f"--sampler {name!r}: expected one of {', '.join(SAMPLERS)}"
        )
    return name  # type: ignore[return-value]


def check_rank_by(name: str) -> RankBy:
    """``name`` as a ranking criterion, or an InputError listing them."""
    if name not in RANK_BY:
        raise InputError.single(
            "<command line>", f"--rank-by {name!r}: expected one of {', '.join(RANK_BY)}"
        )
    return name  # type: ignore[return-value]


def _probe_outcomes(scenario: Scenario, strategy: str) -> list[str]:
    """Outcome names the model produces (one world at the nominal state)."""
    model, _ = load_model()
    return [str(k) for k in model(scenario, strategy, 1, 0, 0)]


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


# ---------------------------------------------------------------------------------------
# shared steps
# ---------------------------------------------------------------------------------------


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready rows (NaN and infinities become None)."""

    def clean(v: Any) -> Any:
        if isinstance(v, float | np.floating):
            return None if not math.isfinite(float(v)) else float(v)
        if isinstance(v, np.integer | np.bool_):
            return v.item()
        if v is pd.NA:
            return None
        return v

    return [{str(k): clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def uses_default_engine() -> bool:
    """True when runs use detente's own simulation engine (not a ``$DETENTE_MODEL``)."""
    return load_model()[1] == DEFAULT_MODEL


def _execute(
    plan: ExperimentPlan,
    target: Target,
    scheduler: str | None,
    resume: bool,
    progress: bool,
    console: Console | None,
    model: Model | None = None,
    trace: tuple[int, int] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    return run_experiment(
        plan,
        target.store,
        model=model,
        evaluator=make_evaluator(scheduler),
        resume=resume,
        progress=progress,
        console=console or Console(stderr=True, highlight=False),
        trace=trace,
        on_progress=on_progress,
    )


def _run_header(result: RunResult, command: str, scenario: Scenario, text: str) -> dict[str, Any]:
    """The part of ``run.json`` every job shares: identity, provenance, where it is."""
    info = result.store.run_info(result.run_id)
    return {
        "run_id": result.run_id,
        "kind": str(info.get("kind")),
        "command": command,
        "scenario": scenario.id,
        "scenario_title": scenario.title,
        "scenario_sha256": text_sha256(text),
        "database": str(result.store.path),
        "code_version": str(info.get("code_version")),
        "model": str(info.get("model")),
    }


def _posterior(
    scenario: Scenario, ref: str | Path | None, target: Target
) -> PosteriorSource | None:
    """The checked posterior ``--posterior`` names (looked up under the job's output
    folder), or None to sample the prior."""
    return None if ref is None else posterior_source(scenario, ref, target.out)


def _sampling(
    sampler: Sampler, source: PosteriorSource | None, *, full: bool = False
) -> dict[str, Any]:
    """How the states were drawn, for the run's settings (``full``: for ``run.json``, with
    the posterior's cut-off and the sentence saying where the states come from)."""
    if source is None:
        return {"sampler": sampler}
    return {"sampler": "posterior", **(source.record if full else source.settings)}


def _store_run(
    target: Target,
    payload: dict[str, Any],
    scenario_text: str,
    params: pd.DataFrame,
    means: pd.DataFrame,
    tables: Mapping[str, Artifact],
) -> RunDir:
    """Write the run's folder: its scenario, sampled states, cell means, ``tables`` and
    ``run.json``."""
    run_id = str(payload["run_id"])
    payload["run_dir"] = str(target.out / "runs" / run_id)
    artifacts: dict[str, Artifact] = {
        SCENARIO_YAML: scenario_text,
        "parameters.csv": params,
        "state_means.csv": means,
        **tables,
    }
    artifacts["run.json"] = payload
    return RunDir.write(target.out, run_id, artifacts)


# ---------------------------------------------------------------------------------------
# compare / run
# ---------------------------------------------------------------------------------------


def compare(
    scenario: str | Path,
    *,
    strategies: Sequence[str] | None = None,
    states: int = 64,
    worlds: int = 100,
    seed: int = 0,
    sampler: str | None = None,
    thresholds: Sequence[str] | None = None,
    rank_by: str = "max-regret",
    out: str | Path | None = None,
    db: str | Path | None = None,
    resume: bool = False,
    scheduler: str | None = None,
    command: str = "compare",
    discover: bool = False,
    posterior: str | Path | None = None,
    progress: bool = True,
    console: Console | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> CompareResult:
    """Compare strategies over sampled states of the world and store the run.

    Parameters
    ----------
    scenario : str or Path
        Built-in scenario name or YAML file.
    strategies : sequence of str, optional
        Strategy ids (default: :func:`~detente.experiments.runner.default_strategies`).
    states, worlds, seed, sampler
        States sampled (``lhs`` or ``sobol``), stochastic worlds per cell, seed.
    thresholds : sequence of str, optional
        Satisficing thresholds ``METRIC>=VALUE`` overriding the scenario's.
    rank_by : str
        ``max-regret``, ``regret``, ``mean`` or ``satisficing``.
    out, db : path, optional
        Output folder and results store (see the module docstring).
    resume : bool
        Continue an interrupted run with the same settings.
    scheduler : str, optional
        Dask scheduler address or ``local``.
    command : str
        The command recorded with the run (``compare`` or ``run``).
    discover : bool
        Also run PRIM on where the leader falls short and store fan-chart trajectories
        (what ``detente run`` does).
    posterior : str or Path, optional
        A calibrate or hindcast run (id, unique prefix under ``out``, or folder): draw the
        states from its posterior instead of the scenario's ranges (``sampler`` is then
        unused; see :mod:`detente.experiments.posterior_states`).
    progress : bool
        Show a progress bar on ``console`` (default: stderr).
    on_progress : callable, optional
        ``on_progress(done, total)`` chunks as they finish (``detente serve``'s progress);
        an exception it raises stops the run, keeping the finished chunks.

    Returns
    -------
    CompareResult
    """
    t_start = time.perf_counter()
    check_counts(states=states, worlds=worlds)
    check_seed(seed)
    sampler_ = check_sampler(sampler, posterior)
    rank = check_rank_by(rank_by)
    sc, text = load_scenario_with_text(scenario)
    written = {d.id for d in sc.designed}
    if strategies:
        from detente.design.job import designed_strategies

        sc = designed_strategies(sc, strategies, Target.of(out, db).out)
    names = check_strategies(sc, list(strategies) if strategies else default_strategies(sc))
    # designed strategies taken by id (design-<run>:<k>) are not in the stored text: run.json
    # keeps their entries, so whoever reads the run back (report, open_run) plays the same
    added = [d.model_dump(mode="json", exclude_defaults=True) for d in sc.designed
             if d.id not in written]
    produced = _probe_outcomes(sc, names[0])
    spec = analysis.outcome_spec(sc, produced, _thresholds(thresholds, produced))
    make_evaluator(scheduler)  # validates the scheduler before any work
    target = Target.of(out, db)
    source = _posterior(sc, posterior, target)
    plan = ExperimentPlan(
        kind="compare",
        scenario=sc,
        states=(
            source.draw(sc, states, seed)
            if source is not None
            else sample_states(sc, states, sampler_, seed)
        ),
        strategies=tuple(names),
        worlds=worlds,
        seed=seed,
        settings={**_sampling(sampler_, source), "command": command},
    )
    fan_charts = discover and uses_default_engine() and sc.kind == "system"
    trace: tuple[int, int] | None = None
    if fan_charts:
        from detente.experiments.trajectories import traced_run

        trace = traced_run(states, worlds)
    t_sim = time.perf_counter()
    result = _execute(plan, target, scheduler, resume, progress, console, trace=trace,
                      on_progress=on_progress)
    sim_seconds = time.perf_counter() - t_sim
    with result.store.session():
        means = result.state_means()
        params = result.parameters()
        header = _run_header(result, command, sc, text)
    comparison = analysis.comparison_for(means, spec, names, rank)
    summary, drivers = analysis.summary_markdown(
        sc,
        comparison,
        spec,
        means,
        params,
        names,
        states,
        worlds,
        rank,
        states_from=source.record["states_from"] if source is not None else None,
    )
    primary = analysis.primary_outcome(spec, comparison)
    payload: dict[str, Any] = {
        **header,
        "strategies": names,
        "states": states,
        "worlds": worlds,
        "seed": seed,
        **_sampling(sampler_, source, full=True),
        "rank_by": rank,
        "thresholds": {k: str(v) for k, v in spec.thresholds.items()},
        "directions": spec.directions,
        "uncertainties": int(params.shape[1]),
        **({"designed": added} if added else {}),
        "timings": {
            "simulate_seconds": round(sim_seconds, 2),
            "worlds_per_second": round(result.worlds_per_second, 1),
            "chunks_computed": result.computed,
            "chunks_reused": result.reused,
        },
        "comparison": records(comparison),
        "drivers": records(drivers),
        "summary": summary,
    }
    if primary is not None and not drivers.empty:
        leader = comparison[comparison.outcome == primary].sort_values("rank")
        payload["drivers_subject"] = {
            "strategy": str(leader.iloc[0]["strategy"]),
            "outcome": primary,
        }
    tables: dict[str, Artifact] = {
        "comparison.csv": comparison,
        "drivers.csv": drivers,
        "summary.md": summary,
    }
    discovery: dict[str, Any] | None = None
    if discover and len(means) and primary is not None:
        discovery, prim_tables = _discovery(comparison, spec, primary, means, params, names, seed)
        payload["discovery"] = discovery
        tables.update(prim_tables)
    trajectories: pd.DataFrame | None = None
    if fan_charts:
        from detente.experiments import trajectories as fan

        # from the run's own engine runs; a second simulation of the same worlds only for
        # what this call did not compute (chunks reused by --resume)
        trajectories = fan.quantiles_from_traces(result.traces, names, plan.states, worlds)
        if trajectories is None:
            trajectories = fan.sampled_trajectory_quantiles(
                sc, names, plan.states, worlds, seed, max_states=min(states, fan.MAX_STATES)
            )
        target.store.write_trajectories(result.run_id, trajectories)
        tables["trajectories.csv"] = trajectories
        payload["trajectory_states"] = min(states, fan.MAX_STATES)
    payload["timings"]["total_seconds"] = round(time.perf_counter() - t_start, 2)
    run_dir = _store_run(target, payload, text, params, means, tables)
    return CompareResult(
        run_id=result.run_id,
        run_dir=run_dir,
        scenario=sc,
        spec=spec,
        strategies=names,
        comparison=comparison,
        drivers=drivers,
        summary=summary,
        state_means=means,
        parameters=params,
        discovery=discovery,
        trajectories=trajectories,
        payload=payload,
    )


def _discovery(
    comparison: pd.DataFrame,
    spec: analysis.OutcomeSpec,
    primary: str,
    means: pd.DataFrame,
    params: pd.DataFrame,
    names: Sequence[str],
    seed: int,
) -> tuple[dict[str, Any], dict[str, Artifact]]:
    """PRIM on the compare run's own states: where does the leading strategy miss its mark?

    Returns the discovery record for ``run.json`` and the PRIM tables (none when there is
    nothing to discover). Each restriction of the box carries its quasi-p value and its
    stability over :data:`prim.DEFAULT_RESAMPLES` bootstrap resamples seeded by ``seed``.
    """
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
        return {"strategy": leader, "condition": condition, "box": None}, {}
    # PRIM explains the rarer class: when the leader falls short in most states, the
    # informative question is where it succeeds. A box must also be clearly purer than the
    # base rate, else step 0 (the whole space) would be "chosen" and nothing discovered.
    succeeds = bool(fail.mean() > 0.5)
    cases = ~fail if succeeds else fail
    if int(cases.sum()) < MIN_PRIM_CASES:
        return {
            "strategy": leader,
            "condition": condition,
            "share_of_states": float(fail.mean()),
            "box": None,
            "note": f"only {int(cases.sum())} of {len(cases)} states are cases; scenario "
            f"discovery needs at least {MIN_PRIM_CASES} (run `detente explore` with more states)",
        }, {}
    base = float(cases.mean())
    # With a few dozen states, peeling over hundreds of uncertainties finds spurious boxes;
    # the run restricts discovery to the model parameters (`detente explore` takes --include).
    model_params = [c for c in params.columns if str(c).startswith("parameters.")]
    candidates = params[model_params] if model_params else params
    res = prim.prim(candidates, cases, threshold=max(0.6, base + 0.5 * (1.0 - base)))
    box, shares = prim.assess_box(candidates, cases, res, seed=seed)
    record = {
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
        **res.stats(),
        "box": records(box),
        "resampling": prim.resampling_record(box, shares, prim.DEFAULT_RESAMPLES),
    }
    return record, {"prim_trajectory.csv": res.trajectory, "prim_box.csv": box}


# ---------------------------------------------------------------------------------------
# explore
# ---------------------------------------------------------------------------------------


def explore(
    scenario: str | Path,
    *,
    strategy: str,
    outcome: str,
    states: int = 200,
    worlds: int = 50,
    seed: int = 0,
    sampler: str | None = None,
    include: Sequence[str] | None = None,
    alpha: float = 0.05,
    density: float = 0.8,
    box: int | None = None,
    paste: bool = False,
    resamples: int = prim.DEFAULT_RESAMPLES,
    against: Sequence[str] | None = None,
    out: str | Path | None = None,
    db: str | Path | None = None,
    resume: bool = False,
    scheduler: str | None = None,
    posterior: str | Path | None = None,
    progress: bool = True,
    console: Console | None = None,
) -> ExploreResult:
    """Scenario discovery with PRIM: under which conditions does ``outcome`` hold?

    ``outcome`` is a condition on the cell means of ``strategy``
    (:mod:`detente.experiments.outcome_expr`); ``alpha`` is the peeling fraction,
    ``density`` the density the chosen box must reach, ``box`` a peeling step to choose
    instead and ``paste`` re-expands the chosen box. Each restriction of the chosen box gets
    its quasi-p value and its stability over ``resamples`` bootstrap resamples seeded by
    ``seed`` (:func:`prim.assess_box`; 0 skips resampling). With ``posterior`` the states are drawn
    from a calibrated posterior (every uncertainty at once, correlated as the posterior
    has them) and PRIM peels the ``include``d ones within their prior ranges. ``against``
    runs other strategies on the same states so that ``outcome`` may call ``wins('m')``,
    ``loses('m')`` and ``regret('m')`` (:mod:`detente.experiments.versus`). Other
    parameters as in :func:`compare`.
    """
    check_counts(states=states, worlds=worlds)
    check_seed(seed)
    problems = []
    if not 0 < alpha < 0.5:
        problems.append(_cli(f"--alpha must lie in (0, 0.5), got {alpha}"))
    if not 0 <= density <= 1:
        problems.append(_cli(f"--density must lie in [0, 1], got {density}"))
    if not 0 <= resamples <= prim.MAX_RESAMPLES:
        problems.append(_cli(f"--resamples must lie in 0..{prim.MAX_RESAMPLES}, got {resamples}"))
    if problems:
        raise InputError(problems)
    sampler_ = check_sampler(sampler, posterior)
    sc, text = load_scenario_with_text(scenario)
    rivals = list(dict.fromkeys(against or []))
    if strategy in rivals:
        raise InputError.single("<command line>", f"--against repeats --strategy {strategy!r}")
    name, *rivals = check_strategies(sc, [strategy, *rivals])
    params = _select_uncertainties(sc, include)
    produced = _probe_outcomes(sc, name)
    directions = analysis.outcome_spec(sc, produced).directions
    functions = {f: versus.ranked(directions) for f in versus.FUNCTIONS} if rivals else None
    if not rivals and any(f"{f}(" in outcome.replace(" ", "") for f in versus.FUNCTIONS):
        raise InputError.single(
            "<command line>",
            f"--outcome {outcome!r}: wins(), loses() and regret() compare strategies; "
            "name the others with --against",
        )
    tree = outcome_expr.check_expression(outcome, produced, functions)
    if not outcome_expr.is_condition(tree, binary_functions=versus.BINARY):
        raise InputError.single(
            "<command line>",
            f"--outcome {outcome!r} must be a condition (a comparison), e.g. "
            "rapprochement < 0.5"
            + (" or wins('rapprochement')" if rivals else ""),
        )
    make_evaluator(scheduler)
    target = Target.of(out, db)
    source = _posterior(sc, posterior, target)
    drawn = (
        source.draw(sc, states, seed)
        if source is not None
        else to_values(params, unit_sample(states, len(params), sampler_, seed))
    )
    unit = drawn[[p.name for p in params]]
    plan = ExperimentPlan(
        "explore",
        sc,
        drawn,
        (name, *rivals),
        worlds,
        seed,
        {**_sampling(sampler_, source), "outcome": outcome,
         "analysis": {"outcome": outcome, "include": list(include or []), "alpha": alpha,
                      "density": density, "box": box, "paste": paste,
                      "resamples": resamples}},
    )
    result = _execute(plan, target, scheduler, resume, progress, console)
    all_means = result.state_means()
    means = all_means[all_means.strategy == name].set_index("state").loc[unit.index]
    cols = {m: means[m].to_numpy(dtype=float) for m in produced if m in means.columns}
    if rivals:
        cols |= versus.versus_columns(all_means, name, rivals, directions, unit.index)
    y = np.asarray(outcome_expr.evaluate_values(outcome, cols, functions), dtype=bool)
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
    chosen, shares = prim.assess_box(unit, y, res, resamples=resamples, seed=seed)
    stats = prim.box_stats(unit.to_numpy(dtype=float), y, res.box_limits())
    payload: dict[str, Any] = {
        **_run_header(result, "explore", sc, text),
        "strategy": name,
        "against": rivals,
        "outcome": outcome,
        "cases": int(y.sum()),
        "states": states,
        "worlds": worlds,
        "seed": seed,
        **_sampling(sampler_, source, full=True),
        "uncertainties": len(params),
        "analysis": {"include": list(include or []), "alpha": alpha, "density": density,
                     "box": box, "paste": paste, "resamples": resamples},
        "selected_step": res.selected,
        "pasted": paste,
        "box_stats": stats,
        "trajectory": records(res.trajectory),
        "box": records(chosen),
        "resampling": prim.resampling_record(chosen, shares, resamples),
    }
    run_dir = _store_run(
        target,
        payload,
        text,
        result.parameters(),
        all_means,
        {"prim_trajectory.csv": res.trajectory, "prim_box.csv": chosen},
    )
    return ExploreResult(
        run_id=result.run_id,
        run_dir=run_dir,
        strategy=name,
        outcome=outcome,
        cases=y,
        trajectory=res.trajectory,
        box=chosen,
        selected_step=res.selected,
        box_stats=stats,
        payload=payload,
    )


# ---------------------------------------------------------------------------------------
# sensitivity
# ---------------------------------------------------------------------------------------


def sensitivity_analysis(
    scenario: str | Path,
    *,
    strategy: str,
    outcome: str,
    method: str = "sobol",
    n: int | None = None,
    worlds: int = 32,
    seed: int = 0,
    include: Sequence[str] | None = None,
    out: str | Path | None = None,
    db: str | Path | None = None,
    resume: bool = False,
    scheduler: str | None = None,
    progress: bool = True,
    console: Console | None = None,
    notify: Notify | None = None,
) -> SensitivityResult:
    """Global sensitivity of one outcome under one strategy: Sobol indices or Morris.

    ``n`` is the Sobol base sample (default 64) or the Morris trajectories (default 20);
    by default a scenario with over 40 uncertainties samples only its model parameters.
    ``notify`` receives one line describing the design before the run starts. Other
    parameters as in :func:`compare`.
    """
    problems = []
    if method not in ("sobol", "morris"):
        problems.append(_cli(f"--method {method!r}: expected sobol or morris"))
    n_base = (64 if method == "sobol" else 20) if n is None else n
    if n_base < 2:
        problems.append(_cli(f"--n must be at least 2, got {n_base}"))
    if worlds < 1:
        problems.append(_cli(f"--worlds must be at least 1, got {worlds}"))
    if problems:
        raise InputError(problems)
    check_seed(seed)
    sc, text = load_scenario_with_text(scenario)
    (name,) = check_strategies(sc, [strategy])
    params = _select_uncertainties(sc, include, default_max=40)
    produced = _probe_outcomes(sc, name)
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
    if notify is not None:
        which = "selected" if include else "all"
        if not include and d < len(uncertainties(sc)):
            which = "default: the model parameters; use --include to choose others"
        notify(f"{method}: {d} uncertainties ({which}), {len(values)} states x {worlds} worlds")
    plan = ExperimentPlan(
        "sensitivity", sc, values, (name,), worlds, seed,
        {"method": method, "n": n_base, "analysis": {"outcome": outcome}},
    )
    target = Target.of(out, db)
    # Every design point on the same worlds: an input with no path scores exactly zero.
    common = sensitivity.CommonWorlds(*load_model(), seed=seed)
    result = _execute(plan, target, scheduler, resume, progress, console, model=common)
    all_means = result.state_means()
    y = all_means.set_index("state").loc[values.index][outcome].to_numpy(dtype=float)
    if not np.all(np.isfinite(y)):
        raise InputError.single(
            "<command line>", f"--outcome {outcome!r} is undefined in some states; pick another"
        )
    names = [p.name for p in params]
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sensitivity.SensitivityWarning)
        if method == "sobol":
            frame, notes = sensitivity.sobol_analyze(names, y, seed=seed)
            frame = frame.sort_values("ST", ascending=False).reset_index(drop=True)
        else:
            frame = sensitivity.morris_analyze(names, design, y, seed=seed)
            frame = frame.sort_values("mu_star", ascending=False).reset_index(drop=True)
    payload: dict[str, Any] = {
        **_run_header(result, "sensitivity", sc, text),
        "strategy": name,
        "outcome": outcome,
        "method": method,
        "n": n_base,
        "states": len(values),
        "worlds": worlds,
        "seed": seed,
        "uncertainties": d,
        "warnings": notes,
        "indices": records(frame),
    }
    run_dir = _store_run(
        target, payload, text, result.parameters(), all_means, {"sensitivity.csv": frame}
    )
    return SensitivityResult(
        run_id=result.run_id,
        run_dir=run_dir,
        strategy=name,
        outcome=outcome,
        method=method,
        indices=frame,
        warnings=notes,
        payload=payload,
    )
