"""A calibrated posterior: weighted particles over a scenario's uncertainties.

Particles are states of the world (one value per uncertainty, in the scenario's own units)
with weights summing to one. :meth:`Posterior.sample_states` draws the states an experiment
runs (``compare``/``explore``/``run --posterior``); :func:`learned` says, per uncertainty,
what the data taught: the prior and posterior central intervals and how much narrower and
how far the posterior moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from detente.calibration.smc import effective_sample_size, systematic_resample
from detente.experiments.sampling import ppf
from detente.scenario.uncertainty import HISTORY_PREFIX, UncertainParameter

FloatArray = NDArray[np.float64]


def values_from_z(params: Sequence[UncertainParameter], z: FloatArray) -> pd.DataFrame:
    """Map standard-normal coordinates ([N, D]) to the uncertainties' values (one column each)."""
    u = stats.norm.cdf(np.atleast_2d(z))
    frame = pd.DataFrame(
        {p.name: ppf(p, u[:, j]) for j, p in enumerate(params)}, columns=[p.name for p in params]
    )
    frame.index = pd.RangeIndex(len(frame), name="particle")
    return frame


def weighted_quantiles(x: FloatArray, weights: FloatArray, qs: Sequence[float]) -> FloatArray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF, midpoint rule)."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], weights[order]
    cdf = np.cumsum(ws) - 0.5 * ws
    return np.interp(np.asarray(qs, dtype=float), cdf / cdf[-1] if cdf[-1] > 0 else cdf, xs)


@dataclass(frozen=True)
class Posterior:
    """Weighted states of the world after calibration.

    Attributes
    ----------
    scenario_id : str
    values : DataFrame
        One row per particle (index ``particle``), one column per uncertainty.
    weights : ndarray
        Normalised particle weights.
    run_id : str
        The calibration (or hindcast) run the posterior comes from ("" if not stored).
    content_sha256 : str
        Hash of the stored particles, recorded by runs that sample from it.
    until : str
        The last date whose observations the calibration used.
    """

    scenario_id: str
    values: pd.DataFrame
    weights: FloatArray
    run_id: str = ""
    content_sha256: str = ""
    until: str = ""

    @property
    def ess(self) -> float:
        """Kish effective sample size of the weights."""
        return effective_sample_size(self.weights)

    def sample_states(self, n: int, seed: int, *, history: bool = False) -> pd.DataFrame:
        """``n`` states drawn from the posterior (systematic resampling, then shuffled).

        The draw depends only on ``seed``; columns of the ``history`` section's numbers
        are dropped unless ``history`` (experiments on the options do not sample them).
        """
        rng = np.random.default_rng([seed, 0x70057])
        reps = -(-n // len(self.weights))
        idx = np.concatenate(
            [systematic_resample(self.weights, float(rng.random())) for _ in range(reps)]
        )
        idx = rng.permutation(idx)[:n]
        cols = [c for c in self.values.columns if history or not c.startswith(HISTORY_PREFIX)]
        out = self.values.iloc[idx][cols].reset_index(drop=True)
        out.index = pd.RangeIndex(n, name="state")
        return out


def _summary(x: FloatArray, weights: FloatArray, lo: float, hi: float) -> FloatArray:
    return weighted_quantiles(x, weights, [lo, 0.5, hi])


def resampling_noise(
    params: Sequence[UncertainParameter], effective: float, level: float = 0.9,
    replicates: int = 20, seed: int = 0,
) -> tuple[float, float]:
    """How much narrowing and shift a sample of ``effective`` prior draws shows by chance.

    Draws ``replicates`` samples of ``effective`` states from the prior of every
    uncertainty and measures the narrowing and the shift (:func:`learned`) of their
    intervals against the prior's; returns the largest of each over all uncertainties and
    replicates: a family-wise bar (with hundreds of uncertainties, a per-number 99th
    percentile would flag several by chance alone) that a posterior must clear before the
    data can be said to have moved a number.
    """
    m = max(2, round(effective))
    rng = np.random.default_rng([seed, 0x1EA2])
    lo, hi = (1 - level) / 2, (1 + level) / 2
    narrow, shift = [], []
    eq = np.full(m, 1.0 / m)
    for p in params:
        prior = ppf(p, np.array([lo, 0.5, hi]))
        width = prior[2] - prior[0]
        if width <= 0:
            continue
        for _ in range(replicates):
            q = _summary(ppf(p, rng.random(m)), eq, lo, hi)
            narrow.append(1.0 - (q[2] - q[0]) / width)
            shift.append(abs(q[1] - prior[1]) / width)
    if not narrow:
        return 0.0, 0.0
    return float(np.max(narrow)), float(np.max(shift))


def learned(
    params: Sequence[UncertainParameter],
    posterior: Posterior,
    level: float = 0.9,
    effective: float | None = None,
) -> pd.DataFrame:
    """Per uncertainty: prior and posterior central intervals, narrowing, shift, moved.

    Parameters
    ----------
    params : sequence of UncertainParameter
    posterior : Posterior
    level : float
        Central interval compared (0.9: the 5th to 95th percentiles).
    effective : float, optional
        Effective number of independent particles (default: the weights' ESS); sets the
        resampling-noise bar of :func:`resampling_noise`.

    Returns
    -------
    DataFrame
        ``parameter``, ``prior_low``, ``prior_high``, ``posterior_low``,
        ``posterior_high``, ``prior_median``, ``posterior_median``, ``narrowing``
        (1 - posterior width / prior width), ``shift`` (posterior median minus prior
        median, in prior interval widths) and ``moved`` (narrowing or shift beyond what
        ``effective`` prior draws show by chance), sorted by how far the data moved it
        (``max(narrowing, |shift|)``, largest first). ``attrs`` holds the two noise bars.
    """
    lo, hi = (1 - level) / 2, (1 + level) / 2
    rows = []
    for p in params:
        prior = ppf(p, np.array([lo, 0.5, hi]))
        post = _summary(posterior.values[p.name].to_numpy(dtype=float), posterior.weights, lo, hi)
        width = prior[2] - prior[0]
        rows.append(
            {
                "parameter": p.name,
                "prior_low": prior[0],
                "prior_high": prior[2],
                "posterior_low": post[0],
                "posterior_high": post[2],
                "prior_median": prior[1],
                "posterior_median": post[1],
                "narrowing": 1.0 - (post[2] - post[0]) / width if width > 0 else 0.0,
                "shift": (post[1] - prior[1]) / width if width > 0 else 0.0,
            }
        )
    frame = pd.DataFrame(rows)
    bar_narrow, bar_shift = resampling_noise(
        params, posterior.ess if effective is None else effective, level
    )
    frame["moved"] = (frame["narrowing"] > bar_narrow) | (frame["shift"].abs() > bar_shift)
    moved = np.maximum(frame["narrowing"].to_numpy(), frame["shift"].abs().to_numpy())
    frame = frame.iloc[np.argsort(-moved, kind="stable")].reset_index(drop=True)
    frame.attrs = {"noise_narrowing": bar_narrow, "noise_shift": bar_shift}
    return frame


__all__ = ["Posterior", "learned", "resampling_noise", "values_from_z", "weighted_quantiles"]
