"""Proper scores of forecasts of held-out observations, against three references.

A hindcast (docs/history.md, "Hindcast") forecasts every observation after a cut-off with
four forecasters, each an ensemble of simulated values per observation
(:mod:`detente.history.forecasts`):

* ``model``: worlds of states drawn from the posterior calibrated up to the cut-off;
* ``prior``: worlds of states drawn from the scenario's ranges (the uncalibrated model);
* ``persistence``: the posterior's worlds, each observation's expression read at the
  cut-off's step (the state at the cut-off continues, nothing changes after it);
* ``climatology``: 0.5 for an event; for a value, the midpoint of the range the prior's
  worlds give the expression (:func:`climatology`).

Scores (``scoringrules``; all negatively oriented, lower is better):

* **events** (binary observations): with ``p`` the share of members where the expression
  holds and ``e`` the observation's flip probability, the forecast probability that the
  record says *true* is ``q = (1 - e) p + e (1 - p)``; scored with the Brier score
  ``(q - y)^2`` and the log score ``-log(q)`` if ``y = 1``, ``-log(1 - q)`` if ``y = 0``.
* **values**: the continuous ranked probability score (CRPS) of the members plus normal
  noise of the observation's sd (the predictive distribution of the *recorded* number).
  A value observed as an interval ``[low, high]`` is scored against its midpoint, with the
  noise sd ``sqrt(error^2 + h^2 / 3)`` where ``h`` is the half-width: the interval's
  spread, taken as uniform, joins the recording error (:func:`value_target`). The noise
  draws are seeded and common to all forecasters of an observation.

:func:`paired_differences` gives, per reference and score, the mean of ``model -
reference`` over the observations with a seeded paired bootstrap interval (negative: the
model forecasts better); :func:`reliability` bins the event forecasts. Everything here is
a pure function of its arguments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scoringrules as sr
from numpy.typing import NDArray
from scipy import stats

from detente.scenario.schema import Interval, Observation

FloatArray = NDArray[np.float64]

FORECASTERS = ("model", "prior", "persistence", "climatology")
REFERENCES = FORECASTERS[1:]
SCORES = ("brier", "log", "crps", "crps_scaled")
EVENT_SCORES = ("brier", "log")
CONFIDENCE = 0.9
RESAMPLES = 2000
BINS = 5


def record_probability(share: float, error: float) -> float:
    """Probability that the record says *true*: ``(1 - e) p + e (1 - p)``."""
    return (1.0 - error) * share + error * (1.0 - share)


def value_target(ob: Observation) -> tuple[float, float]:
    """The number a value observation is scored against, and the sd of its noise.

    A point ``y`` with sd ``s``: ``(y, s)``. An interval: its midpoint, and
    ``sqrt(s^2 + h^2 / 3)`` with ``h`` the half-width (the sd of a uniform spread over
    the interval, combined with the recording error).
    """
    if isinstance(ob.observed, Interval):
        half = (ob.observed.high - ob.observed.low) / 2
        return ob.observed.low + half, math.sqrt(ob.error**2 + half**2 / 3)
    return float(ob.observed), float(ob.error)


def climatology(kinds: Sequence[str], prior: FloatArray) -> FloatArray:
    """The climatology forecast as a one-member ensemble ``[1, observations]``.

    0.5 for an event (the member's value is the share that holds); for a value, the
    midpoint of the lowest and highest value the prior's members give the expression.
    """
    mid = (np.min(prior, axis=0) + np.max(prior, axis=0)) / 2
    return np.array([[0.5 if k == "binary" else m for k, m in zip(kinds, mid, strict=True)]])


def _noise(seed: int, position: int, members: int) -> FloatArray:
    return np.random.default_rng([seed, position, 0x5C0]).standard_normal(members)


def score_forecasts(
    observations: Sequence[Observation],
    kinds: Sequence[str],
    ensembles: Mapping[str, FloatArray],
    seed: int,
) -> pd.DataFrame:
    """Each forecaster's forecast of each observation, and its scores.

    Parameters
    ----------
    observations : sequence of Observation
    kinds : sequence of str
        ``"binary"`` or ``"value"`` per observation (:func:`~detente.history.observe`).
    ensembles : mapping
        Forecaster name -> members x observations (conditions as 0/1; any number of
        members, one for a point forecast such as :func:`climatology`).
    seed : int
        Seeds the observation noise added to value forecasts.

    Returns
    -------
    DataFrame
        One row per observation and forecaster: ``observation``, ``date``, ``kind``,
        ``forecaster``, ``observed`` (as recorded), ``target`` (0/1, the point, or the
        interval's midpoint), ``noise_sd``; ``probability`` (events: ``q``); ``mean``,
        ``low``, ``high`` (values: mean and 5%-95% of the predictive members); ``brier``,
        ``log`` (events), ``crps`` and ``crps_scaled`` (values), NaN where a score does not
        apply. ``crps_scaled`` divides the CRPS by the range of the expression under the
        prior (the ``prior`` forecaster's members, else every forecaster's): a mean of
        plain CRPS is dominated by the observations on 0-100 scales, the scaled one weighs
        a share and a level alike.
    """
    members = max(len(e) for e in ensembles.values())
    pooled = ensembles["prior"] if "prior" in ensembles else np.concatenate(
        list(ensembles.values())
    )
    scales = np.ptp(np.asarray(pooled, dtype=np.float64), axis=0)
    rows = []
    for j, (ob, kind) in enumerate(zip(observations, kinds, strict=True)):
        noise = _noise(seed, j, members)
        for name, ensemble in ensembles.items():
            x = np.asarray(ensemble[:, j], dtype=np.float64)
            row: dict[str, object] = {
                "observation": ob.id,
                "date": observation_when(ob),
                "kind": kind,
                "forecaster": name,
                "observed": observed_text(ob),
            }
            if kind == "binary":
                y = float(bool(ob.observed))
                q = record_probability(float(np.mean(x)), ob.error)
                row |= {"target": y, "noise_sd": np.nan, "probability": q,
                        "mean": np.nan, "low": np.nan, "high": np.nan,
                        "brier": float(sr.brier_score(y, q)),
                        "log": _log_score(y, q), "crps": np.nan, "crps_scaled": np.nan}
            else:
                y, sd = value_target(ob)
                predictive = np.resize(x, members) + sd * noise
                lo, hi = np.quantile(predictive, [0.05, 0.95])
                crps = float(sr.crps_ensemble(y, predictive))
                row |= {"target": y, "noise_sd": sd, "probability": np.nan,
                        "mean": float(predictive.mean()), "low": float(lo), "high": float(hi),
                        "brier": np.nan, "log": np.nan, "crps": crps,
                        "crps_scaled": crps / scales[j] if scales[j] > 0 else np.nan}
            rows.append(row)
    return pd.DataFrame(rows)


def _log_score(y: float, q: float) -> float:
    """``-log`` of the probability given to what was recorded (``inf`` for 0, honestly)."""
    p = q if y == 1.0 else 1.0 - q
    return math.inf if p <= 0 else -math.log(p)


def observed_text(ob: Observation) -> str:
    """What was recorded, as tables show it: ``true``/``false``, ``70 to 90`` or ``0.3``."""
    if isinstance(ob.observed, bool):
        return str(ob.observed).lower()
    if isinstance(ob.observed, Interval):
        return f"{ob.observed.low:g} to {ob.observed.high:g}"
    return f"{float(ob.observed):g}"


def observation_when(ob: Observation) -> str:
    """The observation's date, or its window as ``FROM to TO``."""
    if ob.window is not None:
        return f"{ob.window.start} to {ob.window.stop}"
    return str(ob.date)


def _mean_difference(a: FloatArray, b: FloatArray, axis: int = -1) -> FloatArray:
    return np.asarray(np.mean(a - b, axis=axis))


def paired_differences(
    table: pd.DataFrame,
    seed: int,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
) -> pd.DataFrame:
    """Mean scores, and the model's paired differences with each reference.

    For each score, the observations it applies to are resampled with replacement
    (:func:`scipy.stats.bootstrap`, ``paired=True``, percentile interval) and the mean of
    ``model - reference`` recomputed; every interval of one score uses a generator seeded
    by ``seed`` alone, so each reference meets the same resampled observations.

    Returns
    -------
    DataFrame
        One row per forecaster and score: ``forecaster``, ``score``, ``observations``,
        ``mean`` and, for the references, ``difference`` (mean of model minus reference;
        negative: the model is better) with ``low``/``high`` (the ``confidence``
        bootstrap interval; NaN with fewer than two observations).
    """
    rows = []
    for score in SCORES:
        scored = table[table[score].notna()]
        if scored.empty:
            continue
        wide = scored.pivot(index="observation", columns="forecaster", values=score)
        model = wide["model"].to_numpy(dtype=float)
        for name in [f for f in FORECASTERS if f in wide.columns]:
            ref = wide[name].to_numpy(dtype=float)
            row: dict[str, object] = {
                "forecaster": name, "score": score, "observations": len(ref),
                "mean": float(np.mean(ref)), "difference": np.nan, "low": np.nan, "high": np.nan,
            }
            if name != "model":
                row["difference"] = float(np.mean(model - ref))
                row["low"], row["high"] = _interval(model, ref, seed, confidence, resamples)
            rows.append(row)
    return pd.DataFrame(rows)


def _interval(
    model: FloatArray, ref: FloatArray, seed: int, confidence: float, resamples: int
) -> tuple[float, float]:
    diff = model - ref
    if len(diff) < 2 or not np.all(np.isfinite(diff)):
        return math.nan, math.nan
    if np.all(diff == diff[0]):
        return float(diff[0]), float(diff[0])
    res = stats.bootstrap(
        (model, ref), _mean_difference, paired=True, vectorized=True,
        confidence_level=confidence, n_resamples=resamples, method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def reliability(table: pd.DataFrame, bins: int = BINS) -> pd.DataFrame:
    """Event forecasts in ``bins`` equal bins of ``q``: mean forecast, observed frequency.

    Returns
    -------
    DataFrame
        One row per forecaster and non-empty bin: ``forecaster``, ``bin``, ``low``,
        ``high``, ``count``, ``mean_forecast``, ``observed_frequency``.
    """
    events = table[table["kind"] == "binary"]
    rows = []
    for name in [f for f in FORECASTERS if f in set(events["forecaster"])]:
        own = events[events["forecaster"] == name]
        q = own["probability"].to_numpy(dtype=float)
        which = np.clip(np.floor(q * bins).astype(int), 0, bins - 1)
        for b in range(bins):
            inside = which == b
            if inside.any():
                rows.append({
                    "forecaster": name, "bin": b, "low": b / bins, "high": (b + 1) / bins,
                    "count": int(inside.sum()), "mean_forecast": float(q[inside].mean()),
                    "observed_frequency": float(own["target"].to_numpy(dtype=float)[inside].mean()),
                })
    columns = ["forecaster", "bin", "low", "high", "count", "mean_forecast", "observed_frequency"]
    return pd.DataFrame(rows, columns=columns)


__all__ = [
    "FORECASTERS",
    "REFERENCES",
    "SCORES",
    "climatology",
    "observation_when",
    "observed_text",
    "paired_differences",
    "record_probability",
    "reliability",
    "score_forecasts",
    "value_target",
]
