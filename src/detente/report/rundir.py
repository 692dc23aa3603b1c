"""Read what ``detente run`` wrote and turn it into :class:`~detente.report.html.ReportInputs`.

A run lives in the DuckDB results store (``detente-out/results.duckdb``, see
:mod:`detente.store.duckdb`); ``detente run`` also writes files beside it. The report takes
what it finds and leaves out what is absent:

- the run's row (scenario, seed, states, worlds, strategies, settings) and its sampled
  states come from the store; the scenario is reloaded by its id (or the path recorded in
  the settings);
- the comparison frame from ``comparison.csv`` when present, else computed from the stored
  per-state means with the scenario's metric directions and thresholds;
- trajectory quantiles from the store's ``trajectories`` table or ``trajectories.csv``;
- PRIM (``prim_trajectory.csv``, ``prim_box.csv``), sensitivity (``sensitivity.csv``) and
  drivers (``drivers.csv``) from files when present; drivers are otherwise computed as the
  rank correlation of each sampled uncertainty with the leading strategy's regret;
- static bargaining forecasts are computed from the scenario.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from detente.errors import InputError
from detente.report.html import ReportInputs
from detente.scenario.schema import Scenario

DB_NAME = "results.duckdb"
DEFAULT_DIR = Path("detente-out")
RANK_LABELS = {
    "max-regret": "maximum regret, then expected value",
    "regret": "mean regret",
    "mean": "expected value",
    "satisficing": "satisficing",
}


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError.single(str(path), f"cannot read the JSON file: {exc}") from None
    return data if isinstance(data, dict) else {}


def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError.single(str(path), f"cannot read the CSV file: {exc}") from None


def _locate(target: Path) -> tuple[Path, str | None]:
    """The database file and the run id (None: the newest run) that ``target`` names."""
    if target.is_file() and target.suffix == ".duckdb":
        return target, None
    if target.is_dir():
        db = target / DB_NAME
        if db.is_file():
            return db, None
        raise InputError.single(
            str(target),
            f"not a run directory: it holds no {DB_NAME}; "
            "expected the output directory of 'detente run' (default detente-out/)",
        )
    if target.exists():
        raise InputError.single(
            str(target),
            "not a run directory or a results database; "
            "expected the output directory of 'detente run'",
        )
    db = DEFAULT_DIR / DB_NAME
    if not db.is_file():
        raise InputError.single(
            str(target),
            f"no such run directory, and no results store at {db} to look the name up as a run id",
        )
    return db, str(target)


def _pick_run(runs: pd.DataFrame, wanted: str | None, source: str) -> str:
    if runs.empty:
        raise InputError.single(source, "the results store holds no runs")
    ids = [str(r) for r in runs["run_id"]]
    if wanted is None:
        # the newest finished strategy comparison; sensitivity or explore runs written to
        # the same store only add their files to the report
        pool = runs
        if "kind" in runs.columns and (runs["kind"] == "compare").any():
            pool = runs[runs["kind"] == "compare"]
        done = pool[pool["status"] == "done"] if "status" in pool.columns else pool
        return str((done if not done.empty else pool)["run_id"].iloc[0])
    if wanted in ids:
        return wanted
    matches = [r for r in ids if r.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    from detente.errors import did_you_mean

    what = "is ambiguous" if matches else "is not a run in the store"
    raise InputError.single(
        source,
        f"run {wanted!r} {what}{did_you_mean(wanted, ids)}; "
        f"runs: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}",
    )


def _scenario(info: Mapping[str, Any], settings: Mapping[str, Any]) -> Scenario | None:
    from detente.scenario import load_scenario

    for candidate in (
        settings.get("scenario_path"),
        settings.get("scenario"),
        info.get("scenario_id"),
    ):
        if not candidate:
            continue
        try:
            return load_scenario(str(candidate))
        except InputError:
            continue
    return None


def _thresholds(settings: Mapping[str, Any], scenario: Scenario | None) -> dict[str, str]:
    raw = settings.get("thresholds")
    out: dict[str, str] = {}
    if isinstance(raw, Mapping):
        out.update({str(k): str(v) for k, v in raw.items()})
    elif isinstance(raw, list):
        for item in raw:
            text = str(item)
            for op in (">=", "<=", ">", "<"):
                if op in text:
                    out[text.split(op)[0].strip()] = text
                    break
    if not out and scenario is not None:
        for m in scenario.metrics:
            if m.threshold is not None and m.direction != "info":
                op = "<=" if m.direction == "minimize" else ">="
                out[m.id] = f"{m.id} {op} {m.threshold:g}"
    return out


def _compute_comparison(
    state_means: pd.DataFrame,
    scenario: Scenario | None,
    thresholds: Mapping[str, str],
    strategies: list[str],
    rank_by: str,
) -> pd.DataFrame | None:
    from detente.experiments.robustness import compare, parse_threshold

    skip = {"state", "strategy", "worlds"}
    outcomes = [c for c in state_means.columns if c not in skip]
    if scenario is not None and scenario.metrics:
        known = [m.id for m in scenario.metrics if m.id in outcomes]
        outcomes = known or outcomes
    if not outcomes or state_means.empty:
        return None
    directions: dict[str, Any] = {}
    if scenario is not None:
        directions = {m.id: m.direction for m in scenario.metrics}
    parsed = {}
    for key, text in thresholds.items():
        if key in outcomes:
            try:
                parsed[key] = parse_threshold(text, outcomes)
            except InputError:
                continue
    order = [s for s in strategies if s in set(state_means["strategy"])] or None
    return compare(
        state_means,
        outcomes,
        directions,
        parsed,
        rank_by=rank_by,  # type: ignore[arg-type]
        strategies=order,
    )


def _drivers(
    parameters: pd.DataFrame,
    state_means: pd.DataFrame,
    comparison: pd.DataFrame | None,
    scenario: Scenario | None,
) -> tuple[pd.DataFrame | None, str]:
    from detente.experiments.robustness import drivers, regret

    if comparison is None or comparison.empty or parameters.empty:
        return None, ""
    ranked = comparison.dropna(subset=["rank"])
    params = parameters
    for outcome in dict.fromkeys(ranked["outcome"]):
        sub = ranked[ranked["outcome"] == outcome].sort_values(["rank", "strategy"])
        best = str(sub["strategy"].iloc[0])
        wide = state_means.pivot(index="state", columns="strategy", values=outcome)
        if best not in wide.columns:
            continue
        direction = "maximize"
        if scenario is not None:
            direction = next((m.direction for m in scenario.metrics if m.id == outcome), direction)
        reg = regret(wide.to_numpy(dtype=float), direction)  # type: ignore[arg-type]
        target = np.asarray(reg[:, list(wide.columns).index(best)], dtype=np.float64)
        if not np.nanstd(target) > 0:
            continue
        params = parameters.reindex(wide.index)
        frame = drivers(params, target, top=15)
        if not frame.empty:
            name = metric_label(str(outcome), scenario, width=200)
            label = f"the regret of {_strategy_name(best, scenario)} on {name}"
            return frame, label
    return None, ""


def metric_label(metric: str, scenario: Scenario | None, width: int = 200) -> str:
    """The metric's display label (see :func:`detente.report.figures.fan.metric_label`)."""
    from detente.report.figures.fan import metric_label as label

    return label(metric, scenario, width)


def _strategy_name(strategy: str, scenario: Scenario | None) -> str:
    from detente.report.figures.fan import strategy_names

    return strategy_names(scenario).get(strategy, strategy)


NOMINAL_WORLDS = 256


def _nominal_quantiles(scenario: Scenario, strategies: list[str], seed: int) -> pd.DataFrame | None:
    """Trajectory quantiles at nominal values, when the run stored none."""
    try:
        from detente.sim import trajectory_quantiles
    except ImportError:  # pragma: no cover - the engine is part of the package
        return None
    try:
        return trajectory_quantiles(scenario, strategies, worlds=NOMINAL_WORLDS, seed=seed)
    except InputError:
        return None


def _lead_label(comparison: pd.DataFrame | None, scenario: Scenario | None) -> str:
    """What ``detente run``'s drivers are correlated with: the leader's lead on the primary
    outcome (the first ranked outcome on which the strategies do not all tie)."""
    if comparison is None or comparison.empty:
        return "the result"
    ranked = comparison.dropna(subset=["rank"])
    for outcome in dict.fromkeys(ranked["outcome"]):
        rows = ranked[ranked["outcome"] == outcome]
        if (rows["regret_max"].fillna(0) > 1e-12).any():
            leader = str(rows.sort_values(["rank", "strategy"])["strategy"].iloc[0])
            return (
                f"{_strategy_name(leader, scenario)}'s lead on "
                f"{metric_label(str(outcome), scenario)} over the next-best strategy"
            )
    return "the result"


def _sensitivity_label(meta: Mapping[str, Any], scenario: Scenario | None) -> str:
    """``"Dialogue level (0-100) under Moderate engagement"`` from ``sensitivity.json``."""
    outcome = meta.get("outcome")
    if not outcome:
        return "the outcome"
    text = metric_label(str(outcome), scenario)
    if meta.get("strategy"):
        text += f" under {_strategy_name(str(meta['strategy']), scenario)}"
    return text


def _prim_step(meta: Mapping[str, Any]) -> int | None:
    step = meta.get("selected_step")
    return int(step) if isinstance(step, (int, float)) else None


def _prim_label(discovery: object, scenario: Scenario | None) -> str:
    """What PRIM's cases are: from ``prim.json`` (explore) or ``comparison.json`` (run)."""
    if isinstance(discovery, Mapping) and discovery.get("strategy"):
        name = _strategy_name(str(discovery["strategy"]), scenario)
        if discovery.get("outcome"):  # explore: the condition marks the cases themselves
            return f"cases ({name} gives {discovery['outcome']})"
        condition = discovery.get("condition")
        return f"cases ({name} falls short" + (f": {condition})" if condition else ")")
    return "cases of interest"


def load_run(target: Path) -> tuple[ReportInputs, Path]:
    """Report inputs of a run and the default report path.

    Parameters
    ----------
    target : Path
        A run directory (holding ``results.duckdb``), a ``.duckdb`` file, or a run id (looked
        up in ``detente-out/results.duckdb``; a unique prefix is enough).

    Returns
    -------
    inputs : ReportInputs
    default_out : Path
        ``report.html`` beside the results store.

    Raises
    ------
    InputError
        When the target is missing, is not a run directory, or names no run.
    """
    from detente.store.duckdb import ResultStore

    db, wanted = _locate(target)
    run_dir = db.parent
    store = ResultStore(db)
    try:
        runs = store.runs()
    except Exception as exc:  # a corrupt or foreign file
        raise InputError.single(str(db), f"cannot read the results store: {exc}") from None
    run_id = _pick_run(runs, wanted, str(target))
    info = store.run_info(run_id)
    settings = info.get("settings") or {}
    if isinstance(settings, str):
        settings = json.loads(settings)
    payload = _read_json(run_dir / "comparison.json")
    prim_meta = _read_json(run_dir / "prim.json")
    settings = {
        **{k: payload[k] for k in ("sampler", "rank_by", "thresholds") if k in payload},
        **settings,
    }
    scenario = _scenario(info, settings)
    strategies = [str(s) for s in info.get("strategies") or []]
    thresholds = _thresholds(settings, scenario)
    rank_by = str(settings.get("rank_by", "max-regret"))

    state_means = store.state_means(run_id)
    parameters = store.parameters(run_id)
    comparison = _read_csv(run_dir / "comparison.csv")
    if comparison is None:
        comparison = _compute_comparison(state_means, scenario, thresholds, strategies, rank_by)

    with store.connect() as con:
        traj = con.execute(
            "SELECT strategy, step, date, metric, mean, p05, p25, p50, p75, p95 "
            "FROM trajectories WHERE run_id = ? ORDER BY strategy, metric, step",
            [run_id],
        ).df()
    quantiles = traj if not traj.empty else _read_csv(run_dir / "trajectories.csv")
    fan_note = ""
    if quantiles is not None:
        fan_note = (
            "The bands pool the simulated worlds of the run's first sampled states of the "
            "world (up to 16 states, 64 worlds each, per strategy), so they show the spread "
            "across what we are unsure of as well as chance within each state."
        )
    nominal_fans = False
    if quantiles is None and scenario is not None and scenario.kind == "system" and strategies:
        quantiles = _nominal_quantiles(scenario, strategies, int(info.get("seed") or 0))
        if quantiles is not None:
            nominal_fans = True
            fan_note = (
                f"The run stored no trajectories, so these were simulated for the "
                f"report at the nominal value of every uncertain number "
                f"({NOMINAL_WORLDS} worlds per strategy, seed {info.get('seed')})."
            )

    drivers_frame = _read_csv(run_dir / "drivers.csv")
    drivers_label = _lead_label(comparison, scenario)
    if drivers_frame is None:
        drivers_frame, drivers_label = _drivers(parameters, state_means, comparison, scenario)

    forecasts: dict[str, dict[str, float]] = {}
    eum_rounds: dict[str, pd.DataFrame] = {}
    if scenario is not None:
        from detente.report.bargaining_inputs import scenario_forecasts

        forecasts, eum_rounds = scenario_forecasts(scenario)

    method: dict[str, Any] = {
        "scenario": info.get("scenario_id"),
        "sampling": settings.get("sampler") or settings.get("sampling"),
        "states": int(info["n_states"]) if info.get("n_states") is not None else None,
        "worlds": int(info["worlds"]) if info.get("worlds") is not None else None,
        "seed": int(info["seed"]) if info.get("seed") is not None else None,
        "strategies": strategies,
        "uncertainties": len(parameters.columns) if not parameters.empty else None,
        "thresholds": "; ".join(thresholds.values()) if thresholds else None,
        "rank_by": RANK_LABELS.get(rank_by, rank_by),
        "code_version": info.get("code_version"),
        "run_id": run_id,
    }
    caveats = []
    if scenario is None:
        caveats.append(
            f"The scenario {info.get('scenario_id')!r} could not be reloaded, so "
            "its summary and provenance are missing from this report."
        )
    if nominal_fans:
        caveats.append(
            "The run stored no trajectories: the fan charts show the strategies at the "
            "nominal value of every uncertain number, not across the sampled states."
        )
    if info.get("status") != "done":
        caveats.append(
            f"The run is not finished (status: {info.get('status')}); results "
            "cover only the chunks computed so far."
        )
    inputs = ReportInputs(
        scenario=scenario,
        run_id=run_id,
        method=method,
        comparison=comparison,
        rank_by={
            "max-regret": "maximum regret, then expected value",
            "regret": "mean regret",
            "mean": "expected value",
            "satisficing": "satisficing",
        }.get(rank_by, rank_by),
        thresholds=thresholds,
        quantiles=quantiles,
        fan_note=fan_note,
        prim_trajectory=_read_csv(run_dir / "prim_trajectory.csv"),
        prim_box=_read_csv(run_dir / "prim_box.csv"),
        prim_step=_prim_step(prim_meta or payload.get("discovery") or {}),
        prim_label=_prim_label(prim_meta or payload.get("discovery"), scenario),
        sensitivity=_read_csv(run_dir / "sensitivity.csv"),
        sensitivity_outcome=_sensitivity_label(_read_json(run_dir / "sensitivity.json"), scenario),
        drivers=drivers_frame,
        drivers_label=drivers_label,
        forecasts=forecasts,
        eum_rounds=eum_rounds,
        caveats=caveats,
    )
    return inputs, run_dir / "report.html"
