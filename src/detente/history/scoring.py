"""How probable each observation is under simulated worlds (docs/history.md, scoring).

* binary, with flip probability ``e``: ``P = (1 - e) p + e (1 - p)`` for a record of true,
  ``(1 - e)(1 - p) + e p`` for false, where ``p`` is the share of worlds where it holds;
* a point value ``y`` with sd ``s``: the mean over worlds of the normal density
  ``N(y; x_w, s)`` (a kernel estimate of the predictive density);
* an interval ``[low, high]`` with sd ``s``: the mean over worlds of
  ``Phi((high - x_w)/s) - Phi((low - x_w)/s)`` (``s = 0``: the share of worlds inside).

A probability of zero gives a log of ``-inf``: the data rule the state out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray
from scipy import stats

from detente.scenario.schema import Interval, Observation


def _binary(x: NDArray[np.float64], observed: bool, error: float) -> float:
    p = float(np.mean(x > 0.5))
    q = p if observed else 1.0 - p
    return (1.0 - error) * q + error * (1.0 - q)


def _value(x: NDArray[np.float64], observed: float | Interval, sd: float) -> float:
    if isinstance(observed, Interval):
        if sd == 0:
            return float(np.mean((x >= observed.low) & (x <= observed.high)))
        cdf = stats.norm.cdf
        return float(np.mean(cdf((observed.high - x) / sd) - cdf((observed.low - x) / sd)))
    return float(np.mean(stats.norm.pdf(observed, loc=x, scale=sd)))


def observation_log_probabilities(
    simulated: xr.Dataset, observations: Sequence[Observation]
) -> pd.Series:
    """Log probability (log density for point values) of each observation, by id.

    ``simulated`` is :func:`~detente.history.observe`'s result for these observations
    (matched by id, so their order does not matter).
    """
    out = {}
    for ob in observations:
        x = simulated["value"].sel(observation=ob.id).to_numpy().astype(np.float64)
        if simulated["kind"].sel(observation=ob.id).item() == "binary":
            assert isinstance(ob.observed, bool)  # checked when the observation was loaded
            prob = _binary(x, ob.observed, ob.error)
        else:
            assert not isinstance(ob.observed, bool)
            prob = _value(x, ob.observed, ob.error)
        with np.errstate(divide="ignore"):
            out[ob.id] = float(np.log(prob))
    return pd.Series(out, name="log_probability", dtype=np.float64)


def log_likelihood(simulated: xr.Dataset, observations: Sequence[Observation]) -> float:
    """Sum of the observations' log probabilities (observations independent given a state)."""
    return float(observation_log_probabilities(simulated, observations).sum())


__all__ = ["log_likelihood", "observation_log_probabilities"]
