"""``detente calibrate``: calibrate a scenario's uncertainties on its recorded history.

The job reads the scenario's observations up to a cut-off, replays the history script
(the policy actually followed) over states drawn from the scenario's ranges (the priors)
and runs the tempered SMC sampler of :mod:`detente.calibration.smc`. Each generation is
stored as it finishes (:mod:`detente.store.calibration`), so ``--resume`` continues an
interrupted calibration with the same numbers; the finished posterior is written to the
run's folder (``posterior.csv`` and the tables listed in docs/history.md).

The run id hashes everything that determines the numbers, and the scenario enters it with
only the observations up to the cut-off: an observation after the cut-off can change
neither the posterior nor the run it is stored under.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from scipy import stats

from detente.calibration.cutoff import observations_until, parse_cutoff
from detente.calibration.likelihood import HistoryLikelihood
from detente.calibration.posterior import Posterior, learned, values_from_z
from detente.calibration.smc import Generation, SMCSettings, tempered_smc
from detente.errors import InputError, InputProblem
from detente.experiments.executors import make_evaluator
from detente.experiments.jobs import Target, check_counts, check_seed, records
from detente.experiments.runner import check_strategies, code_version, scenario_hash
from detente.experiments.sampling import unit_sample
from detente.history.hindcast import observation_when, observed_text
from detente.history.observe import observation_kind
from detente.runs.directory import SCENARIO_YAML, Artifact, RunDir
from detente.runs.scenario_text import load_scenario_with_text, text_sha256
from detente.scenario.schema import Observation, Scenario
from detente.scenario.uncertainty import UncertainParameter, uncertainties
from detente.store import calibration as stored
from detente.store.duckdb import RunInfo

MIN_PARTICLES = 8
KIND = "calibrate"


@dataclass(frozen=True)
class CalibrationResult:
    """A finished calibration (see docs/history.md for the stored files)."""

    run_id: str
    run_dir: RunDir
    scenario: Scenario
    strategy: str
    cutoff: dt.date
    posterior: Posterior
    prior: Posterior
    generations: pd.DataFrame
    learned: pd.DataFrame
    observations: pd.DataFrame
    payload: dict[str, Any]


def _cli(message: str) -> InputError:
    return InputError([InputProblem("<command line>", message)])


def history_script(scenario: Scenario, strategy: str | None) -> str:
    """The strategy a calibration replays: ``strategy``, else the scenario's only script."""
    scripts = [s.id for s in scenario.history.scripts] if scenario.history is not None else []
    if strategy is not None:
        return check_strategies(scenario, [strategy])[0]
    if len(scripts) == 1:
        return scripts[0]
    if not scripts:
        raise InputError.single(
            f"scenario {scenario.id}",
            "has no history script (history.scripts); calibration replays the policy actually "
            "followed, so give one or name a strategy with --strategy",
        )
    raise _cli(f"the scenario has {len(scripts)} history scripts ({', '.join(scripts)}); "
               "choose one with --strategy")


def used_observations(scenario: Scenario, cutoff: dt.date) -> list[Observation]:
    """The scenario's observations up to ``cutoff``; an error when there are none."""
    if scenario.kind != "system" or scenario.calendar is None:
        raise InputError.single(f"scenario {scenario.id}", "calibration needs a system "
                                "scenario with a calendar")
    every = list(scenario.history.observations) if scenario.history is not None else []
    if not every:
        raise InputError.single(f"scenario {scenario.id}", "has no observations "
                                "(history.observations) to calibrate on")
    used = observations_until(every, cutoff)
    if not used:
        first = min(ob.last for ob in every)
        raise _cli(f"--until {cutoff}: no observation ends on or before it (the first ends "
                   f"on {first})")
    return used


def _identity(scenario: Scenario, used: list[Observation], settings: dict[str, Any]) -> str:
    assert scenario.history is not None
    seen = scenario.model_copy(
        update={"history": scenario.history.model_copy(update={"observations": used})}
    )
    blob = json.dumps(
        {"kind": KIND, "scenario": scenario_hash(seen), "code": code_version(), **settings},
        sort_keys=True,
        default=str,
    )
    return "cal-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def prior_design(n: int, d: int, seed: int) -> np.ndarray:
    """Generation 0: a Latin hypercube in standard-normal coordinates."""
    u = unit_sample(n, d, "lhs", seed)
    return np.asarray(stats.norm.ppf(np.clip(u, 1e-12, 1 - 1e-12)), dtype=np.float64)


def _check_reachable(used: Sequence[Observation], logp: np.ndarray) -> None:
    never = [ob.id for ob, col in zip(used, logp.T, strict=True) if not np.isfinite(col).any()]
    if never:
        raise InputError.single(
            "calibration",
            "no state drawn from the priors gives these observations a non-zero probability: "
            + ", ".join(never)
            + " (give them an observation error, or widen the ranges that rule them out)",
        )


def _observation_table(
    scenario: Scenario, used: list[Observation], prior_logp: np.ndarray, post: Generation,
    post_logp: np.ndarray,
) -> pd.DataFrame:
    rows = []
    for j, ob in enumerate(used):
        rows.append(
            {
                "observation": ob.id,
                "date": observation_when(ob),
                "kind": observation_kind(scenario, ob),
                "observed": observed_text(ob),
                "prior_probability": float(np.mean(np.exp(prior_logp[:, j]))),
                "posterior_probability": float(np.sum(post.weights * np.exp(post_logp[:, j]))),
            }
        )
    return pd.DataFrame(rows)


def _generation_row(gen: Generation, seconds: float) -> dict[str, Any]:
    return {
        "generation": gen.index,
        "beta": gen.beta,
        "ess": gen.ess,
        "acceptance": gen.acceptance,
        "step": gen.step,
        "log_evidence": gen.log_evidence,
        "evaluations": gen.evaluations,
        "seconds": seconds,
    }


def _say(console: Console | None, progress: bool, gen: Generation, n: int, seconds: float) -> None:
    if console is None or not progress:
        return
    acc = "" if math.isnan(gen.acceptance) else f", acceptance {gen.acceptance:.2f}"
    console.print(
        f"generation {gen.index}: beta {gen.beta:.3g}, ESS {gen.ess:.0f}/{n}{acc}, "
        f"{gen.evaluations} states simulated ({seconds:.1f} s)",
        highlight=False,
    )


def fit(
    lik: HistoryLikelihood,
    z0: np.ndarray,
    settings: SMCSettings,
    seed: int,
    stored_generations: Sequence[tuple[Generation, np.ndarray]] = (),
    on_generation: Callable[[Generation, np.ndarray, float], None] | None = None,
) -> Generation:
    """Run the sampler to the posterior; returns the final generation.

    ``stored_generations`` (generation 0 and the latest, as stored) resume a calibration:
    their particles' log probabilities are remembered and the sampler continues after the
    latest. ``on_generation(gen, log_probabilities, seconds)`` is called as each finishes.
    """
    for gen_, logp in stored_generations:
        lik.remember(gen_.z, logp)
    last = stored_generations[-1][0] if stored_generations else None
    gen = last
    tick = time.perf_counter()
    for gen in tempered_smc(lik, z0, settings, seed, resume_from=last):
        logp = lik.log_probabilities(gen.z)
        if gen.index == 0:
            _check_reachable(lik.observations, logp)
        if on_generation is not None:
            on_generation(gen, logp, time.perf_counter() - tick)
        tick = time.perf_counter()
    assert gen is not None
    return gen


def calibrate(
    scenario: str | Path,
    *,
    until: str,
    strategy: str | None = None,
    particles: int = 256,
    worlds: int = 32,
    moves: int = 3,
    seed: int = 0,
    out: str | Path | None = None,
    db: str | Path | None = None,
    resume: bool = False,
    scheduler: str | None = None,
    progress: bool = True,
    console: Console | None = None,
    command: str = KIND,
) -> CalibrationResult:
    """Calibrate ``scenario`` on its observations up to ``until`` and store the posterior.

    Parameters
    ----------
    scenario : str or Path
        Built-in scenario name or YAML file, with a ``history`` section.
    until : str
        The cut-off (``2003Q4``, ``2003``, ``2003-06`` or an ISO date): observations ending
        after it are never read.
    strategy : str, optional
        The policy replayed (default: the scenario's only history script).
    particles, worlds, moves : int
        SMC particles; simulated worlds per particle (common random numbers); pCN moves
        per generation.
    seed : int
    out, db, resume, scheduler, progress, console
        As for :func:`detente.experiments.jobs.compare`.

    Returns
    -------
    CalibrationResult
    """
    t_start = time.perf_counter()
    check_counts(worlds=worlds, moves=moves)
    if particles < MIN_PARTICLES:
        raise _cli(f"--particles must be at least {MIN_PARTICLES}, got {particles}")
    check_seed(seed)
    cutoff = parse_cutoff(until, "--until")
    sc, text = load_scenario_with_text(scenario)
    used = used_observations(sc, cutoff)
    script = history_script(sc, strategy)
    params: list[UncertainParameter] = uncertainties(sc, history=True)
    if not params:
        raise InputError.single(f"scenario {sc.id}", "has no uncertain numbers to calibrate")
    make_evaluator(scheduler)  # validates the scheduler before any work
    settings = SMCSettings(particles=particles, moves=moves)
    identity = {
        "strategy": script, "until": cutoff.isoformat(), "particles": particles,
        "worlds": worlds, "moves": moves, "seed": seed, "target_ess": settings.target_ess,
        "max_generations": settings.max_generations, "initial_step": settings.initial_step,
    }
    run_id = _identity(sc, used, identity)
    target = Target.of(out, db)
    store = target.store
    z0 = prior_design(particles, len(params), seed)
    info = RunInfo(
        run_id=run_id, kind=KIND, scenario_id=sc.id, scenario_hash=scenario_hash(sc),
        code_version=code_version(), model="detente.sim", seed=seed, n_states=particles,
        worlds=worlds, strategies=(script,),
        settings={**identity, "observations": [ob.id for ob in used],
                  "parameters": [p.name for p in params]},
    )
    store.start_run(info, values_from_z(params, z0).rename_axis("state"), resume)
    last = stored.load_generation(store, run_id) if resume else None
    if console is None:
        console = Console(stderr=True, highlight=False)

    def keep(gen: Generation, logp: np.ndarray, seconds: float) -> None:
        stored.save_generation(store, run_id, gen, logp, seconds)
        _say(console, progress, gen, particles, seconds)

    stored_gens: list[tuple[Generation, np.ndarray]] = []
    if last is not None:
        first = stored.load_generation(store, run_id, 0)
        stored_gens = [g for g in (first, last) if g is not None]
        if progress:
            console.print(f"resuming after generation {last[0].index}", highlight=False)
    with make_evaluator(scheduler) as evaluator:
        lik = HistoryLikelihood(sc, script, used, params, worlds, seed, evaluator)
        gen = fit(lik, z0, settings, seed, stored_gens, keep)
        prior_logp = lik.log_probabilities(z0)
        post_logp = lik.log_probabilities(gen.z)
    if not gen.done:
        console.print(
            f"warning: calibration stopped at generation {gen.index} with beta {gen.beta:.3g} "
            "< 1: the particles are not yet the posterior (more particles or moves help)",
            highlight=False,
        )
    posterior = Posterior(sc.id, values_from_z(params, gen.z), gen.weights, run_id,
                          until=cutoff.isoformat())
    prior = Posterior(sc.id, values_from_z(params, z0), np.full(particles, 1.0 / particles),
                      run_id, until=cutoff.isoformat())
    gens = stored.generations(store, run_id)
    distinct = int(np.unique(gen.z, axis=0).shape[0])
    taught = learned(params, posterior, effective=min(gen.ess, distinct))
    obs_table = _observation_table(sc, used, prior_logp, gen, post_logp)
    tables = _tables(posterior, prior, gen.loglik, prior_logp.sum(axis=1), gens, taught, obs_table)
    payload: dict[str, Any] = {
        "run_id": run_id,
        "kind": KIND,
        "command": command,
        "scenario": sc.id,
        "scenario_title": sc.title,
        "scenario_sha256": text_sha256(text),
        "database": str(store.path),
        "code_version": info.code_version,
        **identity,
        "until_label": until,
        "observations_used": [ob.id for ob in used],
        "uncertainties": len(params),
        "beta": gen.beta,
        "ess": gen.ess,
        "distinct": distinct,
        "log_evidence": gen.log_evidence,
        "moved": int(taught["moved"].sum()),
        "noise_bars": taught.attrs,
        "generations": records(gens),
        "timings": {"total_seconds": round(time.perf_counter() - t_start, 2),
                    "states_simulated": int(gen.evaluations)},
    }
    payload["run_dir"] = str(target.out / "runs" / run_id)
    run_dir = RunDir.write(target.out, run_id, {SCENARIO_YAML: text, **tables, "run.json": payload})
    store.finish_run(run_id)
    sha = hashlib.sha256((run_dir.path / "posterior.csv").read_bytes()).hexdigest()
    posterior = Posterior(sc.id, posterior.values, posterior.weights, run_id, sha,
                          cutoff.isoformat())
    return CalibrationResult(run_id, run_dir, sc, script, cutoff, posterior, prior, gens, taught,
                             obs_table, payload)


def _tables(
    posterior: Posterior, prior: Posterior, post_loglik: np.ndarray, prior_loglik: np.ndarray,
    gens: pd.DataFrame, taught: pd.DataFrame, obs_table: pd.DataFrame,
) -> dict[str, Artifact]:
    def particles(p: Posterior, loglik: np.ndarray) -> pd.DataFrame:
        head = pd.DataFrame({"weight": p.weights, "loglik": loglik}, index=p.values.index)
        return pd.concat([head, p.values], axis=1)

    return {
        "posterior.csv": particles(posterior, post_loglik),
        "prior.csv": particles(prior, prior_loglik),
        "generations.csv": gens,
        "learned.csv": taught,
        "observations.csv": obs_table,
    }


__all__ = [
    "CalibrationResult",
    "calibrate",
    "fit",
    "history_script",
    "prior_design",
    "used_observations",
]
