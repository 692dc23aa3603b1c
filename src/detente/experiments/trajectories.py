"""Trajectory quantiles pooled over sampled states of the world, for fan charts.

A comparison run keeps only per-world summaries. The fan charts of the report should still
show how outcomes evolve *across what we are unsure of*, not only at the nominal values, so
:func:`sampled_trajectory_quantiles` re-simulates a subset of the run's states with every
trajectory kept (one stacked engine run per strategy, :mod:`detente.sim.stacked`), pools the
worlds of all those states and returns per-step quantiles in the contract frame
``[strategy, step, date, metric, mean, p05, p25, p50, p75, p95]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

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
        dates = list(system.dates)
        for metric in reported_metrics(system):
            values = res.metrics[metric].astype(np.float64)
            qs = np.quantile(values, QUANTILES, axis=0)
            frames.append(
                pd.DataFrame(
                    {
                        "strategy": name,
                        "step": np.arange(values.shape[1]),
                        "date": dates,
                        "metric": metric,
                        "mean": values.mean(axis=0),
                        **{f"p{round(q * 100):02d}": qs[i] for i, q in enumerate(QUANTILES)},
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
