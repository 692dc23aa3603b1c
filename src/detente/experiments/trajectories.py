"""Trajectory quantiles pooled over sampled states of the world, for fan charts.

A comparison run keeps only per-world summaries. The fan charts of the report should still
show how outcomes evolve *across what we are unsure of*, not only at the nominal values, so
:func:`sampled_trajectory_quantiles` re-simulates a subset of the run's states with every
trajectory kept, pools the worlds of all those states and returns per-step quantiles in the
contract frame ``[strategy, step, date, metric, mean, p05, p25, p50, p75, p95]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from detente.experiments.chunks import state_seed
from detente.scenario.schema import Scenario
from detente.sim import simulate
from detente.sim.api import QUANTILES

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
    frames = []
    for name in strategies:
        pooled: dict[str, list[np.ndarray]] = {}
        dates: list[str] = []
        for state, row in zip(chosen.index.astype(int), chosen.to_dict("records"), strict=True):
            ds = simulate(
                scenario,
                name,
                worlds=n_worlds,
                seed=state_seed(seed, int(state)),
                values={str(k): float(v) for k, v in row.items()},
            )
            dates = [str(d) for d in ds["date"].values]
            for metric, var in ds.data_vars.items():
                if var.dims == ("world", "step"):
                    pooled.setdefault(str(metric), []).append(var.values.astype(np.float64))
        for metric, parts in pooled.items():
            values = np.concatenate(parts)
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
