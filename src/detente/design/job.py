"""``detente design``: search a strategy's levers for designs that hold up across states.

The job validates its input, samples the search states (the scenario's ranges, or a
calibration's posterior), scores the fixed options on them once, runs the search
(:mod:`detente.design.search`; each generation stored as it finishes), then re-scores the
final non-dominated designs and the fixed options on *fresh* states the search never saw,
and writes the run's folder: ``pareto.csv``, ``fresh.csv``, ``dominance.csv``,
``generations.csv``, ``summary.md``, ``run.json``, ``scenario.yaml`` and the
parallel-coordinates figure ``pareto.png``.

A designed strategy is named ``design-<run id>:<k>`` (``k``: its row in ``pareto.csv``);
``compare`` takes that name (:func:`designed_strategies`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

from detente.design.evaluate import StateSet, score
from detente.design.levers import (
    CANDIDATE,
    Lever,
    designed_entry,
    find_levers,
    with_designed,
)
from detente.design.robust import (
    Measure,
    check_measure,
    dominates,
    minimised,
    score_directions,
    scores,
)
from detente.design.search import SearchResult, search
from detente.errors import InputError, InputProblem
from detente.experiments.executors import make_evaluator
from detente.experiments.jobs import Target, check_counts, check_seed, records
from detente.experiments.posterior_states import PosteriorSource, posterior_source
from detente.experiments.runner import check_strategies, code_version, load_model, scenario_hash
from detente.experiments.sampling import sample_states
from detente.runs.directory import SCENARIO_YAML, RunDir
from detente.runs.scenario_text import load_scenario_with_text, text_sha256
from detente.scenario import Scenario
from detente.sim.rng import name_key
from detente.store import design as stored
from detente.store.duckdb import RunInfo

KIND = "design"
PREFIX = "design-"
QUICK = {"states": 12, "worlds": 16, "population": 20, "generations": 8, "fresh": 12}
FULL = {"states": 32, "worlds": 32, "population": 40, "generations": 30, "fresh": 64}
MIN_POPULATION = 4


@dataclass(frozen=True)
class DesignResult:
    """A finished design run (the files: module docstring; docs/experiments.md)."""

    run_id: str
    run_dir: RunDir
    scenario: Scenario
    strategy: str
    levers: list[Lever]
    metrics: list[str]
    pareto: pd.DataFrame
    fresh: pd.DataFrame
    dominance: pd.DataFrame
    generations: pd.DataFrame
    payload: dict[str, Any]


def _cli(message: str) -> InputError:
    return InputError([InputProblem("<command line>", message)])


def fresh_seed(seed: int) -> int:
    """The seed of the fresh states (and their worlds): the run seed's ``design-fresh``
    stream, so they share nothing with the search's states."""
    ss = np.random.SeedSequence(int(seed), spawn_key=name_key("design-fresh"))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def objectives(
    scenario: Scenario, chosen: Sequence[str] = ()
) -> tuple[list[str], list[str], list[float | None]]:
    """The scenario's ranked metrics (maximised or minimised), directions and thresholds;
    ``chosen`` (``--objectives``) keeps some of them, in the scenario's order."""
    ranked = [m for m in scenario.metrics if m.direction in ("maximize", "minimize")]
    if not ranked:
        raise InputError.single(f"scenario {scenario.id}", "declares no metric with a direction "
                                "(maximize or minimize), so there is nothing to design for",
                                path="metrics")
    ids = [m.id for m in ranked]
    unknown = [c for c in chosen if c not in ids]
    if unknown:
        raise _cli(f"--objectives: {', '.join(repr(u) for u in unknown)} "
                   f"{'is not a' if len(unknown) == 1 else 'are not'} ranked metric"
                   f"{'' if len(unknown) == 1 else 's'} of the scenario; ranked metrics: "
                   f"{', '.join(ids)}")
    if chosen:
        ranked = [m for m in ranked if m.id in chosen]
    return ([m.id for m in ranked], [m.direction for m in ranked],
            [None if m.threshold is None else float(m.threshold) for m in ranked])


def fixed_options(scenario: Scenario, strategy: str) -> list[str]:
    """The options the designs are compared with: the scenario's ``option: true`` strategies
    (the designed strategy's own spec included: there its parameters are sampled, not set)."""
    return [s.id for s in scenario.strategies if s.option]


def _states(
    sc: Scenario, n: int, seed: int, source: PosteriorSource | None
) -> pd.DataFrame:
    return source.draw(sc, n, seed) if source is not None else sample_states(sc, n, "lhs", seed)


def _run_id(sc: Scenario, identity: dict[str, Any], states: pd.DataFrame) -> str:
    from importlib.metadata import version

    h = hashlib.sha256()
    h.update(json.dumps({"kind": KIND, "scenario": scenario_hash(sc), "code": code_version(),
                         "pymoo": version("pymoo"), **identity},
                        sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(states.to_numpy(dtype=np.float64)).tobytes())
    return "des-" + h.hexdigest()[:12]


def design_id(run_id: str, k: int) -> str:
    """The name ``compare`` takes for row ``k`` of a design run's ``pareto.csv``."""
    return f"{PREFIX}{run_id}:{k}"


def _status(option: np.ndarray, front: np.ndarray, names: Sequence[str]) -> tuple[str, str]:
    """``dominated`` (by the listed designs), ``on the front`` or ``dominates`` (designs)."""
    by = [names[i] for i, f in enumerate(front) if dominates(f, option)]
    if by:
        return "dominated", ", ".join(by)
    over = [names[i] for i, f in enumerate(front) if dominates(option, f)]
    if over:
        return "dominates designs", ", ".join(over)
    return "on the front", ""


def _dominance(
    fixed_names: Sequence[str], fixed_obj: np.ndarray, front_obj: np.ndarray,
    front_names: Sequence[str], states: str,
) -> list[dict[str, Any]]:
    rows = []
    for name, obj in zip(fixed_names, fixed_obj, strict=True):
        status, which = _status(obj, front_obj, front_names)
        rows.append({"option": name, "states": states, "status": status, "designs": which})
    return rows


def design(
    scenario: str | Path,
    *,
    strategy: str,
    lever_options: Sequence[str] = (),
    quick: bool = False,
    seed: int = 0,
    generations: int | None = None,
    population: int | None = None,
    states: int | None = None,
    worlds: int | None = None,
    fresh: int | None = None,
    robustness: str = "mean",
    objective_metrics: Sequence[str] = (),
    posterior: str | Path | None = None,
    out: str | Path | None = None,
    db: str | Path | None = None,
    resume: bool = False,
    scheduler: str | None = None,
    progress: bool = True,
    console: Console | None = None,
    command: str = KIND,
) -> DesignResult:
    """Search ``strategy``'s levers and store the run (see the module docstring).

    Parameters
    ----------
    scenario : str or Path
    strategy : str
        The scenario strategy (or registered kind) whose levers are searched.
    lever_options : sequence of str
        ``--lever`` texts (:func:`detente.design.levers.parse_lever`).
    quick : bool
        Small defaults (:data:`QUICK`) instead of :data:`FULL`.
    seed, generations, population, states, worlds, fresh : int
        The run seed; NSGA-II's generations and population; search states, worlds per
        state, fresh states for the re-scoring (``None``: the defaults).
    robustness : {"mean", "regret", "satisficing"}
    objective_metrics : sequence of str
        The ranked metrics to design for (default: all of them).
    posterior, out, db, resume, scheduler, progress, console
        As for :func:`detente.experiments.jobs.compare`.
    """
    t_start = time.perf_counter()
    base = QUICK if quick else FULL
    n_states = states if states is not None else base["states"]
    n_worlds = worlds if worlds is not None else base["worlds"]
    n_pop = population if population is not None else base["population"]
    n_gen = generations if generations is not None else base["generations"]
    n_fresh = fresh if fresh is not None else base["fresh"]
    check_counts(states=n_states, worlds=n_worlds, generations=n_gen, fresh=n_fresh)
    if n_pop < MIN_POPULATION:
        raise _cli(f"--population must be at least {MIN_POPULATION}, got {n_pop}")
    check_seed(seed)
    measure: Measure = check_measure(robustness)
    sc, text = load_scenario_with_text(scenario)
    if sc.kind != "system" or sc.calendar is None:
        raise InputError.single(f"scenario {sc.id}", "design needs a 'kind: system' scenario "
                                "with a calendar")
    strategy = check_strategies(sc, [strategy])[0]
    levers = find_levers(sc, strategy, lever_options)
    metrics, directions, thresholds = objectives(sc, objective_metrics)
    fixed = fixed_options(sc, strategy)
    if measure == "regret" and not fixed:
        raise InputError.single(f"scenario {sc.id}", "--robustness regret needs fixed options "
                                "(strategies with option: true) to measure regret against")
    target = Target.of(out, db)
    source = posterior_source(sc, posterior, target.out) if posterior is not None else None
    make_evaluator(scheduler)  # validates the scheduler before any work
    model, model_label = load_model()
    search_states = _states(sc, n_states, seed, source)
    seed_fresh = fresh_seed(seed)
    fresh_states = _states(sc, n_fresh, seed_fresh, source)
    dsc = with_designed(sc, [designed_entry(strategy, levers)])
    identity: dict[str, Any] = {
        "strategy": strategy,
        "levers": [[lv.param, lv.low, lv.high, lv.integer, list(lv.choices)] for lv in levers],
        "robustness": measure, "objectives": metrics, "states": n_states, "worlds": n_worlds,
        "population": n_pop,
        "generations": n_gen, "fresh": n_fresh, "seed": seed, "model": model_label,
        **(source.settings if source is not None else {"sampler": "lhs"}),
    }
    run_id = _run_id(sc, identity, search_states)
    store = target.store
    info = RunInfo(
        run_id=run_id, kind=KIND, scenario_id=sc.id, scenario_hash=scenario_hash(sc),
        code_version=code_version(), model=model_label, seed=seed, n_states=n_states,
        worlds=n_worlds, strategies=(strategy, *fixed), settings=identity,
    )
    store.start_run(info, search_states.reset_index(drop=True).rename_axis("state"), resume)
    done = stored.load_generations(store, run_id) if resume else []
    say = console or Console(stderr=True, highlight=False)
    if done and progress:
        say.print(f"resuming after generation {done[-1].generation}", highlight=False)
    seconds = {"fixed": 0.0, "search": 0.0, "fresh": 0.0}
    evaluated = [0]
    sdirs = score_directions(directions, measure, thresholds)
    with make_evaluator(scheduler) as evaluator:
        on_search = StateSet(search_states, seed, n_worlds)
        tick = time.perf_counter()
        fixed_means = score(evaluator, dsc, on_search, levers, metrics, model, strategies=fixed)
        seconds["fixed"] = time.perf_counter() - tick

        def scorer(values: np.ndarray) -> np.ndarray:
            evaluated[0] += len(values)
            means = score(evaluator, dsc, on_search, levers, metrics, model, candidates=values)
            return scores(means, directions, measure, fixed_means, thresholds)

        def keep(gen: stored.StoredGeneration) -> None:
            stored.save_generation(store, run_id, gen)
            if progress:
                say.print(f"generation {gen.generation + 1}/{n_gen}: {gen.evaluated} new "
                          f"candidates scored ({gen.seconds:.1f} s)", highlight=False)

        tick = time.perf_counter()
        result: SearchResult = search(levers, sdirs, scorer, population=n_pop,
                                      generations=n_gen, seed=seed, stored=done,
                                      on_generation=keep)
        seconds["search"] = time.perf_counter() - tick
        tick = time.perf_counter()
        on_fresh = StateSet(fresh_states, seed_fresh, n_worlds)
        fresh_fixed = score(evaluator, dsc, on_fresh, levers, metrics, model, strategies=fixed)
        fresh_front = score(evaluator, dsc, on_fresh, levers, metrics, model,
                            candidates=result.front_levers)
        seconds["fresh"] = time.perf_counter() - tick
    names = [design_id(run_id, k) for k in range(len(result.front_levers))]
    fixed_scores = scores(fixed_means, directions, measure, fixed_means, thresholds)
    fresh_fixed_scores = scores(fresh_fixed, directions, measure, fresh_fixed, thresholds)
    fresh_front_scores = scores(fresh_front, directions, measure, fresh_fixed, thresholds)
    pareto = pd.DataFrame({"id": names})
    for j, lv in enumerate(levers):
        pareto[lv.param] = result.front_levers[:, j]
    for j, m in enumerate(metrics):
        pareto[m] = result.front_scores[:, j]
    fresh_rows = pd.DataFrame({"strategy": list(fixed) + names,
                               "kind": ["option"] * len(fixed) + ["designed"] * len(names)})
    both = np.vstack([fresh_fixed_scores, fresh_front_scores]) if len(fixed) else fresh_front_scores
    for j, m in enumerate(metrics):
        fresh_rows[m] = both[:, j]
    dominance = pd.DataFrame(
        _dominance(fixed, minimised(fixed_scores, sdirs), minimised(result.front_scores, sdirs),
                   names, "search")
        + _dominance(fixed, minimised(fresh_fixed_scores, sdirs),
                     minimised(fresh_front_scores, sdirs), names, "fresh"),
        columns=["option", "states", "status", "designs"],
    )
    gens = pd.DataFrame([{"generation": g.generation, "candidates": len(g.x),
                          "evaluated": g.evaluated, "seconds": g.seconds}
                         for g in result.generations])
    total = time.perf_counter() - t_start
    cells = evaluated[0] * n_states
    payload: dict[str, Any] = {
        "run_id": run_id, "kind": KIND, "command": command, "scenario": sc.id,
        "scenario_title": sc.title, "scenario_sha256": text_sha256(text),
        "database": str(store.path), "code_version": info.code_version, **identity,
        "levers_text": {lv.param: lv.text() for lv in levers},
        "metrics": metrics, "directions": directions, "score_directions": sdirs,
        "thresholds": thresholds, "fixed": fixed, "fresh_seed": seed_fresh,
        "algorithm": "NSGA-II (pymoo), Latin hypercube initial population",
        "pareto": records(pareto), "fresh_scores": records(fresh_rows),
        "fixed_scores": {name: dict(zip(metrics, map(float, row), strict=True))
                         for name, row in zip(fixed, fixed_scores, strict=True)},
        "dominance": records(dominance), "generations_run": records(gens),
        "evaluations": {"candidates_scored_now": evaluated[0],
                        "candidate_states_now": cells,
                        "search_seconds": round(seconds["search"], 2)},
        "timings": {k: round(v, 2) for k, v in seconds.items()} | {
            "total_seconds": round(total, 2)},
        **({} if source is None else source.record),
    }
    payload["run_dir"] = str(target.out / "runs" / run_id)
    summary = summary_text(payload)
    run_dir = RunDir.write(target.out, run_id, {
        SCENARIO_YAML: text, "pareto.csv": pareto, "fresh.csv": fresh_rows,
        "dominance.csv": dominance, "generations.csv": gens,
        "parameters.csv": search_states.reset_index(drop=True).rename_axis("state"),
        "summary.md": summary, "run.json": payload,
    })
    from detente.design.figure import parallel_coordinates
    from detente.report.figures.style import save_figure

    fig = parallel_coordinates(pareto, [lv.param for lv in levers], metrics, sdirs,
                               fixed_scores=fixed_scores, fixed_names=fixed)
    save_figure(fig, run_dir.path, "pareto", formats=("png",))
    store.finish_run(run_id)
    return DesignResult(run_id, run_dir, sc, strategy, list(levers), metrics, pareto,
                        fresh_rows, dominance, gens, payload)


def summary_text(p: dict[str, Any]) -> str:
    """The run's plain-language summary (Markdown)."""
    lines = [
        f"# Strategies designed for robustness: {p['strategy']}",
        "",
        f"{len(p['pareto'])} designs on the front after {p['generations']} generations of "
        f"{p['population']} candidates (NSGA-II), each scored by its {p['robustness']} over "
        f"the same {p['states']} states x {p['worlds']} worlds; re-scored on {p['fresh']} "
        "fresh states the search never saw.",
        "",
        "Levers: " + ", ".join(f"{k} {v}" for k, v in p["levers_text"].items()) + ".",
        "",
    ]
    for row in p["dominance"]:
        where = "search states" if row["states"] == "search" else "fresh states"
        tail = f" ({row['designs']})" if row["designs"] else ""
        lines.append(f"- {row['option']} on the {where}: {row['status']}{tail}")
    return "\n".join(lines) + "\n"


def designed_strategies(
    scenario: Scenario, names: Sequence[str], out: str | Path | None
) -> Scenario:
    """``scenario`` with the designed strategies ``names`` asks for (``design-<run>:<k>``)
    added as ``designed:`` entries, read from each run's ``pareto.csv`` under ``out``.

    Raises
    ------
    InputError
        An unknown run or row, a design of another scenario or strategy.
    """
    from detente.runs.directory import DEFAULT_ROOT, RUNS

    entries = []
    for name in names:
        if not name.startswith(PREFIX) or name in {d.id for d in scenario.designed}:
            continue
        run_id, _, row = name[len(PREFIX):].rpartition(":")
        folder = Path(out or DEFAULT_ROOT) / RUNS / run_id
        if not run_id or not row.isdigit():
            raise _cli(f"designed strategy {name!r}: expected design-<run id>:<row>")
        if not (folder / "pareto.csv").is_file():
            raise _cli(f"designed strategy {name!r}: no design run {run_id} under {folder.parent}")
        info = RunDir(folder).info()
        if info.get("scenario") != scenario.id:
            raise _cli(f"designed strategy {name!r} was designed for scenario "
                       f"{info.get('scenario')!r}, not {scenario.id!r}")
        pareto = pd.read_csv(folder / "pareto.csv")
        k = int(row)
        if k >= len(pareto):
            raise _cli(f"designed strategy {name!r}: run {run_id} has {len(pareto)} designs "
                       f"(0 to {len(pareto) - 1})")
        params = [lv[0] for lv in info["levers"]]
        values = [float(pareto.loc[k, p]) for p in params]
        levers = [Lever(p, 0.0, 1.0) for p in params]
        entries.append(designed_entry(str(info["strategy"]), levers, values, id_=name,
                                      description=f"row {k} of design run {run_id}"))
    return with_designed(scenario, entries) if entries else scenario


__all__ = [
    "CANDIDATE",
    "DesignResult",
    "design",
    "design_id",
    "designed_strategies",
    "fresh_seed",
    "objectives",
]
