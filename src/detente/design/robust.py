"""Robustness measures that turn a strategy's cell means over states into one score per metric.

``values[n, s, m]``: the mean of metric ``m`` over the worlds of state ``s`` under strategy
``n`` (candidates or fixed options, on the same states). Per metric, by its direction:

- ``mean``: the mean over states (the expected value of ``compare``);
- ``regret``: the largest regret over states against the *fixed* options, ``max_s max(0,
  best_fixed[s] - v[s])`` for a maximised metric (``v[s] - best_fixed[s]`` minimised): how
  far the strategy can fall short of the best of the options under debate, in the worst
  state (Savage's minimax regret, ``compare``'s default ranking); a fixed option's own regret
  is the same formula, so options and designs are judged alike;
- ``satisficing``: the share of states whose cell mean meets the metric's threshold (a
  metric without a threshold is scored by its mean).

:func:`minimised` turns scores into the objectives pymoo minimises (maximised ones negated).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from detente.errors import InputError

FloatArray = NDArray[np.float64]
Measure = Literal["mean", "regret", "satisficing"]
MEASURES: tuple[str, ...] = get_args(Measure)


def check_measure(name: str) -> Measure:
    """The measure ``--robustness`` names; one line otherwise."""
    if name not in MEASURES:
        raise InputError.single(
            "<command line>", f"--robustness {name!r}: expected one of {', '.join(MEASURES)}"
        )
    return name  # type: ignore[return-value]


def _nanmean(x: FloatArray, axis: int) -> FloatArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmean(x, axis=axis), dtype=np.float64)


def scores(
    values: FloatArray,
    directions: Sequence[str],
    measure: Measure,
    fixed: FloatArray | None = None,
    thresholds: Sequence[float | None] = (),
) -> FloatArray:
    """Scores ``[n, m]`` of ``values`` ``[n, s, m]`` (``fixed``: the fixed options' ``[k, s, m]``,
    needed for ``regret``; ``thresholds`` one per metric, for ``satisficing``)."""
    values = np.asarray(values, dtype=np.float64)
    maximise = np.array([d == "maximize" for d in directions])
    if measure == "mean":
        return _nanmean(values, axis=1)
    if measure == "regret":
        if fixed is None or len(fixed) == 0:
            raise InputError.single(
                "<command line>", "--robustness regret needs fixed options to compare with; "
                "the scenario marks none (option: true)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            best = np.where(maximise, np.nanmax(fixed, axis=0), np.nanmin(fixed, axis=0))
        short = np.where(maximise, best[None] - values, values - best[None])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(np.nanmax(np.maximum(short, 0.0), axis=1), dtype=np.float64)
    limits = list(thresholds) + [None] * (values.shape[2] - len(thresholds))
    out = _nanmean(values, axis=1)
    for j, limit in enumerate(limits):
        if limit is None:
            continue
        met = values[:, :, j] >= limit if maximise[j] else values[:, :, j] <= limit
        out[:, j] = met.mean(axis=1)
    return out


def score_directions(
    directions: Sequence[str], measure: Measure, thresholds: Sequence[float | None] = ()
) -> list[str]:
    """The direction of each score: regret is minimised, a satisficing share maximised."""
    if measure == "regret":
        return ["minimize"] * len(directions)
    if measure == "satisficing":
        limits = list(thresholds) + [None] * (len(directions) - len(thresholds))
        return ["maximize" if t is not None else d for d, t in zip(directions, limits, strict=True)]
    return list(directions)


def minimised(scored: FloatArray, directions: Sequence[str]) -> FloatArray:
    """Objectives to minimise: maximised scores negated; NaN (no defined world) as +inf."""
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    out = np.asarray(scored, dtype=np.float64) * sign
    return np.where(np.isnan(out), np.inf, out)


def dominates(a: FloatArray, b: FloatArray) -> bool:
    """Whether objectives ``a`` Pareto-dominate ``b`` (both minimised)."""
    return bool(np.all(a <= b) and np.any(a < b))


__all__ = [
    "MEASURES",
    "Measure",
    "check_measure",
    "dominates",
    "minimised",
    "score_directions",
    "scores",
]
