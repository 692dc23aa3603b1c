"""Sample a scenario's uncertainties into states of the world.

Every number given with a range becomes one *uncertainty* (EMA Workbench vocabulary). An
experiment draws points in the unit hypercube with a space-filling design (Latin hypercube or
scrambled Sobol, :mod:`scipy.stats.qmc`) and maps each coordinate through the inverse CDF of
that number's distribution. Working in the unit cube first keeps the design's balance
whatever the marginals are, and lets SALib designs (also unit-cube) reuse the same mapping.

Distributions (see ``docs/experiments.md``):

- ``uniform`` on ``[low, high]``;
- ``triangular`` with ``low``/``mode``/``high``;
- ``normal`` with ``mean``/``sd``, truncated to ``[low, high]`` (default mean +/- 3 sd);
- ``lognormal``: with ``mean``/``sd`` the lognormal with that mean and standard deviation
  (moment matching); with a range only, the lognormal whose median is the mode (or the
  geometric midpoint) and whose range spans +/- 3 log-sd; always truncated to ``[low, high]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats
from scipy.stats import qmc

from detente.errors import InputError
from detente.experiments.budget import check_sample
from detente.scenario import Scenario, UncertainParameter, uncertainties

Sampler = Literal["lhs", "sobol"]
SAMPLERS: tuple[str, ...] = ("lhs", "sobol")

FloatArray = NDArray[np.float64]


def unit_sample(n: int, d: int, method: Sampler = "lhs", seed: int = 0) -> FloatArray:
    """Draw ``n`` points of a space-filling design in the unit hypercube ``[0, 1)^d``.

    Parameters
    ----------
    n, d : int
        Number of points (states of the world) and of dimensions (uncertainties).
    method : {"lhs", "sobol"}
        Latin hypercube (each margin stratified into ``n`` equal slices) or a scrambled
        Sobol sequence (low discrepancy; balanced when ``n`` is a power of two).
    seed : int
        Seed of the design's randomisation, so the same seed gives the same states.

    Returns
    -------
    ndarray, shape (n, d)

    Raises
    ------
    InputError
        When the design would not fit in the available memory (checked before allocating).
    """
    if n < 1:
        raise ValueError(f"need at least one state, got {n}")
    check_sample(n, d)
    if d == 0:
        return np.zeros((n, 0))
    rng = np.random.default_rng(seed)
    if method == "lhs":
        return np.asarray(qmc.LatinHypercube(d, rng=rng).random(n), dtype=float)
    if method == "sobol":
        engine = qmc.Sobol(d, scramble=True, rng=rng)
        m = math.ceil(math.log2(n))
        # Draw the next power of two (balanced) and keep the first n points.
        return np.asarray(engine.random_base2(m)[:n], dtype=float)
    raise ValueError(f"unknown sampler {method!r}; expected one of {', '.join(SAMPLERS)}")


def _lognormal_params(p: UncertainParameter) -> tuple[float, float]:
    """Log-space mean and sd of a lognormal uncertainty."""
    if p.mean is not None and p.sd is not None and p.mean > 0:
        s2 = math.log1p((p.sd / p.mean) ** 2)
        return math.log(p.mean) - s2 / 2, math.sqrt(s2)
    low, high = max(p.low, 1e-12), max(p.high, 2e-12)
    median = p.mode if p.mode is not None and p.mode > 0 else math.sqrt(low * high)
    sigma = max((math.log(high) - math.log(low)) / 6.0, 1e-12)
    return math.log(median), sigma


def ppf(p: UncertainParameter, u: FloatArray) -> FloatArray:
    """Map unit-interval quantiles ``u`` to values of uncertainty ``p`` (inverse CDF).

    Every distribution is confined to ``[p.low, p.high]``: truncated distributions are
    sampled by mapping ``u`` into the CDF interval of the bounds, which keeps the design's
    stratification intact (no rejection).
    """
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    low, high = p.low, p.high
    if high <= low:
        return np.full_like(u, low)
    if p.distribution == "uniform":
        return low + u * (high - low)
    if p.distribution == "triangular":
        mode = p.mode if p.mode is not None else p.nominal
        c = (min(max(mode, low), high) - low) / (high - low)
        return np.asarray(stats.triang.ppf(u, c, loc=low, scale=high - low), dtype=float)
    if p.distribution == "normal":
        mean = p.mean if p.mean is not None else p.nominal
        sd = p.sd if p.sd is not None and p.sd > 0 else (high - low) / 6.0
        a, b = (low - mean) / sd, (high - mean) / sd
        out = stats.truncnorm.ppf(u, a, b, loc=mean, scale=sd)
        return np.clip(np.asarray(out, dtype=float), low, high)
    if p.distribution == "lognormal":
        mu, sigma = _lognormal_params(p)
        dist = stats.lognorm(s=sigma, scale=math.exp(mu))
        lo_q, hi_q = dist.cdf(max(low, 0.0)), dist.cdf(high)
        out = dist.ppf(lo_q + u * (hi_q - lo_q))
        return np.clip(np.asarray(out, dtype=float), low, high)
    raise ValueError(f"unknown distribution {p.distribution!r} for {p.name}")


def to_values(params: Sequence[UncertainParameter], unit: FloatArray) -> pd.DataFrame:
    """Map a unit-cube design (rows = states) to a frame of parameter values.

    Returns
    -------
    DataFrame
        One row per state (index ``state`` = 0..n-1), one column per uncertainty name.
    """
    unit = np.atleast_2d(np.asarray(unit, dtype=float))
    if unit.shape[1] != len(params):
        raise ValueError(f"design has {unit.shape[1]} columns for {len(params)} uncertainties")
    data = {p.name: ppf(p, unit[:, j]) for j, p in enumerate(params)}
    frame = pd.DataFrame(data, columns=[p.name for p in params])
    frame.index = pd.RangeIndex(len(frame), name="state")
    return frame


def sample_states(
    scenario: Scenario, n: int, method: Sampler = "lhs", seed: int = 0, *, history: bool = False
) -> pd.DataFrame:
    """Sample ``n`` states of the world over every uncertainty of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
    n : int
        Number of states.
    method : {"lhs", "sobol"}
    seed : int
    history : bool
        Also sample the numbers of the ``history`` section (dated events), for a replay of
        history (see :func:`detente.scenario.uncertainties`).

    Returns
    -------
    DataFrame
        ``n`` rows (index ``state``), one column per uncertainty (see :func:`to_values`).

    Raises
    ------
    InputError
        When ``n`` is not positive or ``method`` is unknown.
    """
    if n < 1:
        raise InputError.single("<command line>", f"--states must be at least 1, got {n}")
    if method not in SAMPLERS:
        raise InputError.single(
            "<command line>", f"unknown sampler {method!r}; expected one of {', '.join(SAMPLERS)}"
        )
    params = uncertainties(scenario, history=history)
    return to_values(params, unit_sample(n, len(params), method, seed))


def nominal_state(scenario: Scenario) -> pd.DataFrame:
    """A single state with every uncertainty at its nominal value."""
    params = uncertainties(scenario)
    frame = pd.DataFrame({p.name: [p.nominal] for p in params}, columns=[p.name for p in params])
    frame.index = pd.RangeIndex(1, name="state")
    return frame
