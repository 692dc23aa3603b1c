"""Read one stored run (:func:`detente.open_run`) into :class:`~detente.report.html.ReportInputs`.

The report reads only what the run stored in its own folder (``runs/<run_id>/``, see
:mod:`detente.runs.directory`) and recomputes none of it:

- the scenario from the run's ``scenario.yaml`` (its exact text, checked against the
  SHA-256 in ``run.json``), never reloaded by id;
- the method (settings, seed, sampler, code version) from ``run.json``;
- the comparison, drivers (with whose lead they explain), trajectory quantiles, PRIM
  trajectory and box, and sensitivity indices from the run's tables;
- a table the run did not store leaves its section out, and a caveat says why.

Only the static bargaining forecasts, which depend on the scenario alone and not on the
run, are computed here from the stored scenario.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from detente.report.design_section import DESIGN_KIND, designs_of
from detente.report.history_section import POSTERIOR_KINDS, history_of
from detente.report.html import ReportInputs
from detente.runs import Run, open_run
from detente.scenario.schema import Scenario

RANK_LABELS = {
    "max-regret": "maximum regret, then expected value",
    "regret": "mean regret",
    "mean": "expected value",
    "satisficing": "satisficing",
}


def metric_label(metric: str, scenario: Scenario | None, width: int = 200) -> str:
    """The metric's display label (see :func:`detente.report.figures.fan.metric_label`)."""
    from detente.report.figures.fan import metric_label as label

    return label(metric, scenario, width)


def _strategy_name(strategy: str, scenario: Scenario | None) -> str:
    from detente.report.figures.fan import strategy_names

    return strategy_names(scenario).get(strategy, strategy)


def _drivers_label(subject: Mapping[str, str] | None, scenario: Scenario | None) -> str:
    """What the run's drivers were correlated with, as the run recorded it."""
    if not subject:
        return "the result"
    return (
        f"{_strategy_name(subject['strategy'], scenario)}'s lead on "
        f"{metric_label(subject['outcome'], scenario)} over the next-best strategy"
    )


def _sensitivity_label(info: Mapping[str, Any], scenario: Scenario | None) -> str:
    """``"Dialogue level (0-100) under Moderate engagement"`` from the run's settings."""
    outcome = info.get("outcome")
    if not outcome:
        return "the outcome"
    text = metric_label(str(outcome), scenario)
    if info.get("strategy"):
        text += f" under {_strategy_name(str(info['strategy']), scenario)}"
    return text


def _prim_label(discovery: Mapping[str, Any] | None, scenario: Scenario | None) -> str:
    """What PRIM's cases are: an explore run's condition, or where `run`'s leader falls short."""
    if discovery and discovery.get("strategy"):
        name = _strategy_name(str(discovery["strategy"]), scenario)
        if discovery.get("outcome"):  # the condition marks the cases themselves
            return f"cases ({name} gives {discovery['outcome']})"
        condition = discovery.get("condition")
        return f"cases ({name} falls short" + (f": {condition})" if condition else ")")
    return "cases of interest"


def _missing_notes(run: Run, info: Mapping[str, Any]) -> list[str]:
    """One caveat per section left out because the run did not store what it needs."""
    notes = []
    if run.kind == "compare":
        if run.trajectories is None:
            notes.append(
                "This run stored no trajectories (only `detente run` with the built-in "
                "engine stores them), so the report has no fan charts."
            )
        drivers = run.drivers
        if drivers is None or drivers.empty:
            notes.append(
                "This run stored no drivers (no uncertainty varied with the leading "
                "strategy's lead), so the drivers figure is left out."
            )
        discovery = info.get("discovery")
        if isinstance(discovery, Mapping) and discovery.get("note"):
            notes.append(f"Scenario discovery was skipped: {discovery['note']}.")
    return notes


def load_run(target: Path | str | None, run_id: str | None = None) -> tuple[ReportInputs, Path]:
    """Report inputs of a stored run and the default report path.

    Parameters
    ----------
    target : Path or str, optional
        An output folder (default ``detente-out``), one run's folder, a ``.duckdb`` store
        (its folder), or a run id (a unique prefix is enough) under ``detente-out/``.
    run_id : str, optional
        The run within ``target`` (default: the latest).

    Returns
    -------
    inputs : ReportInputs
    default_out : Path
        ``report.html`` in the run's folder.

    Raises
    ------
    InputError
        When the target is missing, is not a run folder, or names no run.
    """
    run = open_run(target, run_id)
    info = run.info
    scenario = run.scenario
    stored = info.get("thresholds")  # a design run keeps one per objective, as a list
    thresholds = {str(k): str(v) for k, v in stored.items()} if isinstance(stored, Mapping) else {}
    rank_by = str(info.get("rank_by", "max-regret"))
    parameters = run.parameters
    history = history_of(info, run.directory)
    history_only = run.kind in POSTERIOR_KINDS
    design_only = run.kind == DESIGN_KIND
    method: dict[str, Any] = (
        _calibration_method(info)
        if history_only
        else _design_method(info, parameters)
        if design_only
        else {
            "scenario": info.get("scenario"),
            "sampling": info.get("states_from") or info.get("sampler") or info.get("method"),
            "states": info.get("states"),
            "worlds": info.get("worlds"),
            "seed": info.get("seed"),
            "strategies": info.get("strategies") or [info.get("strategy")],
            "uncertainties": info.get("uncertainties")
            or (parameters.shape[1] if parameters is not None else None),
            "thresholds": "; ".join(thresholds.values()) if thresholds else None,
            "rank_by": RANK_LABELS.get(rank_by, rank_by) if run.kind == "compare" else None,
            "code_version": info.get("code_version"),
            "run_id": run.run_id,
        }
    )
    quantiles = run.trajectories
    fan_note = ""
    if quantiles is not None:
        fan_note = (
            "The bands pool the simulated worlds of the run's first sampled states of the "
            f"world (up to {info.get('trajectory_states', 16)} states, up to 64 worlds each, "
            "per strategy), so they show the spread across what we are unsure of as well as "
            "chance within each state."
        )
    discovery = run.discovery
    from detente.report.bargaining_inputs import scenario_forecasts

    forecasts, eum_rounds = scenario_forecasts(scenario)
    inputs = ReportInputs(
        scenario=scenario,
        run_id=run.run_id,
        method=method,
        comparison=run.comparison,
        rank_by=RANK_LABELS.get(rank_by, rank_by),
        thresholds=thresholds,
        quantiles=quantiles,
        fan_note=fan_note,
        prim_trajectory=run.prim_trajectory,
        prim_box=run.prim_box,
        prim_step=_prim_step(discovery),
        prim_resamples=_prim_resamples(discovery),
        prim_label=_prim_label(discovery, scenario),
        sensitivity=run.sensitivity,
        sensitivity_outcome=_sensitivity_label(info, scenario),
        drivers=run.drivers,
        drivers_label=_drivers_label(run.drivers_subject, scenario),
        forecasts=forecasts,
        eum_rounds=eum_rounds,
        caveats=_missing_notes(run, info),
        history=history,
        states_from=str(info.get("states_from") or ""),
        history_only=history_only,
        designs=designs_of(info, run.directory),
        design_only=design_only,
    )
    return inputs, run.path / "report.html"


def _calibration_method(info: Mapping[str, Any]) -> dict[str, Any]:
    """The method rows of a calibrate or hindcast run, from its ``run.json``."""
    used = info.get("observations_used")
    return {
        "scenario": info.get("scenario"),
        "history_script": info.get("strategy"),
        "cutoff": info.get("until") or info.get("cutoff"),
        "observations_used": len(used) if isinstance(used, list) else used,
        "particles": info.get("particles"),
        "worlds": info.get("worlds"),
        "moves": info.get("moves"),
        "seed": info.get("seed"),
        "code_version": info.get("code_version"),
        "run_id": info.get("run_id"),
    }


def _design_method(info: Mapping[str, Any], parameters: Any) -> dict[str, Any]:
    """The method rows of a design run, from its ``run.json`` (the search itself is
    described in its own section)."""
    return {
        "scenario": info.get("scenario"),
        "sampling": info.get("states_from") or info.get("sampler"),
        "states": info.get("states"),
        "worlds": info.get("worlds"),
        "fresh": info.get("fresh"),
        "seed": info.get("seed"),
        "uncertainties": parameters.shape[1] if parameters is not None else None,
        "code_version": info.get("code_version"),
        "run_id": info.get("run_id"),
    }


def _prim_resamples(discovery: Mapping[str, Any] | None) -> int | None:
    """Bootstrap resamples behind the stored box's stability column, as the run recorded."""
    count = ((discovery or {}).get("resampling") or {}).get("resamples")
    return int(count) if isinstance(count, int) else None


def _prim_step(discovery: Mapping[str, Any] | None) -> int | None:
    step = (discovery or {}).get("selected_step")
    return int(step) if isinstance(step, (int, float)) else None
