"""Trajectory quantiles pooled over sampled states of the world, for fan charts.

A comparison run keeps only per-world summaries. The fan charts of the report should still
show how outcomes evolve *across what we are unsure of*, not only at the nominal values, so
:func:`sampled_trajectory_quantiles` re-simulates a subset of the run's states with every
trajectory kept (one stacked engine run per strategy, :mod:`detente.sim.stacked`), pools the
worlds of all those states and returns per-step quantiles in the contract frame
``[strategy, step, date, metric, mean, p05, p25, p50, p75, p95]``. A run can hand back
those worlds per step from its own engine runs (``run_experiment``'s ``trace``):
:func:`quantiles_from_traces` then gives the same frame without simulating them again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from detente.experiments.chunks import state_seed
from detente.scenario.schema import Scenario
from detente.sim.api import QUANTILES
from detente.sim.engine import reported_metrics
from detente.sim.stacked import run_states

MAX_STATES = 16
"""States re-simulated for the fan charts (the first ones of the run's sample)."""

MAX_WORLDS = 64
"""Worlds per state re-simulated for the fan charts."""


def sampled_trajectory_quantiles(
    scenario: Scenario,
    strategies: Sequence[str],
    states: pd.DataFrame,
    worlds: int,
    seed: int,
    max_states: int = MAX_STATES,
) -> pd.DataFrame:
    """Per-step mean and quantiles of every metric, pooling worlds across sampled states.

    Parameters
    ----------
    scenario : Scenario
        The (unresolved) system scenario of the run.
    strategies : sequence of str
    states : DataFrame
        The run's sampled states: one row per state, one column per uncertainty.
    worlds : int
        Worlds per state (capped at :data:`MAX_WORLDS`).
    seed : int
        The run's seed; each state uses the same engine seed as in the run, so the pooled
        worlds are exactly worlds of the run.
    max_states : int
        How many of the run's states to re-simulate.

    Returns
    -------
    DataFrame
        ``[strategy, step, date, metric, mean, p05, p25, p50, p75, p95]``.
    """
    chosen = states.iloc[:max_states]
    n_worlds = max(1, min(worlds, MAX_WORLDS))
    seeds = [state_seed(seed, int(state)) for state in chosen.index.astype(int)]
    frames = []
    for name in strategies:
        # one stacked engine run: state s in rows [s * n_worlds, (s + 1) * n_worlds), the
        # numbers of a run of that state alone (detente.sim.stacked)
        system, res = run_states(scenario, name, chosen, n_worlds, seeds)
        frames.append(_quantiles(name, tuple(system.dates),
                                 {m: res.metrics[m] for m in reported_metrics(system)}))
    return pd.concat(frames, ignore_index=True)


def traced_run(states: int, worlds: int, max_states: int = MAX_STATES) -> tuple[int, int]:
    """What a run of ``states`` x ``worlds`` traces for :func:`quantiles_from_traces`
    (``run_experiment``'s ``trace``): the states and worlds :func:`sampled_trajectory_quantiles`
    would re-simulate."""
    return min(states, max_states), max(1, min(worlds, MAX_WORLDS))


def quantiles_from_traces(
    traces: Mapping[tuple[str, int], tuple[tuple[str, ...], Mapping[str, NDArray[np.float32]]]],
    strategies: Sequence[str],
    states: pd.DataFrame,
    worlds: int,
    max_states: int = MAX_STATES,
) -> pd.DataFrame | None:
    """:func:`sampled_trajectory_quantiles` from the worlds a run traced (``RunResult.traces``)
    instead of a second simulation: the same frame, number for number, or None when a traced
    state is missing (its chunks were reused by ``--resume``, or another model ran them).
    """
    chosen = [int(s) for s in states.index[:max_states]]
    n_worlds = traced_run(len(states), worlds, max_states)[1]
    if chosen != list(range(len(chosen))):  # a run's states are numbered by position
        return None
    if any((name, s) not in traces for name in strategies for s in chosen):
        return None
    frames = []
    for name in strategies:
        dates = traces[(name, chosen[0])][0]
        parts = [traces[(name, s)][1] for s in chosen]
        if any(len(p) and next(iter(p.values())).shape[0] != n_worlds for p in parts):
            return None
        frames.append(_quantiles(name, dates, {
            m: np.concatenate([p[m] for p in parts]) for m in parts[0]
        }))
    return pd.concat(frames, ignore_index=True)


def _quantiles(
    name: str, dates: tuple[str, ...], metrics: Mapping[str, NDArray[np.float32]]
) -> pd.DataFrame:
    """The contract frame of one strategy from its pooled worlds (rows) per metric."""
    frames = []
    for metric, rows in metrics.items():
        values = rows.astype(np.float64)
        qs = np.quantile(values, QUANTILES, axis=0)
        frames.append(
            pd.DataFrame(
                {
                    "strategy": name,
                    "step": np.arange(values.shape[1]),
                    "date": list(dates),
                    "metric": metric,
                    "mean": values.mean(axis=0),
                    **{f"p{round(q * 100):02d}": qs[i] for i, q in enumerate(QUANTILES)},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
