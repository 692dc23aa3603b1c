"""Scoring helpers: mean absolute error, cluster bootstrap intervals, grouped K-fold splits.

Issues of the same legislative proposal are not independent (same actors, same moment,
often linked outcomes), so both the bootstrap and the cross-validation resample or hold out
whole proposals rather than single issues.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def group_codes(groups: list[str]) -> IntArray:
    """Integer codes ``0..G-1`` for group labels, in order of first appearance."""
    seen: dict[str, int] = {}
    return np.array([seen.setdefault(g, len(seen)) for g in groups], dtype=np.int64)


def bootstrap_weights(codes: IntArray, n_boot: int, seed: int) -> FloatArray:
    """Issue weights of ``n_boot`` cluster-bootstrap resamples, shape (n_boot, n_issues).

    Each resample draws as many groups as there are, with replacement; an issue's weight is
    how often its group was drawn. The same seed gives the same resamples, and every model
    is scored on the same resamples, which makes the differences paired.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    n_groups = int(codes.max()) + 1
    draws = rng.integers(0, n_groups, size=(n_boot, n_groups))
    counts = np.zeros((n_boot, n_groups))
    np.add.at(counts, (np.arange(n_boot)[:, None], draws), 1.0)
    return counts[:, codes]


def weighted_mae(errors: FloatArray, w: FloatArray) -> FloatArray:
    """Mean absolute error under each row of issue weights ``w`` (shape (B, n))."""
    return np.asarray((w @ np.abs(errors)) / w.sum(axis=1))


def bootstrap_mae(
    errors: FloatArray, w: FloatArray, level: float = 0.95
) -> tuple[float, float, float]:
    """MAE and its percentile bootstrap interval: ``(mae, low, high)``."""
    boot = weighted_mae(errors, w)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(boot, [a, 1.0 - a])
    return float(np.mean(np.abs(errors))), float(lo), float(hi)


def paired_bootstrap(
    errors: FloatArray, baseline: FloatArray, w: FloatArray, level: float = 0.95
) -> tuple[float, float, float, float]:
    """Difference of MAE to a baseline on the same resamples: ``(diff, low, high, p_better)``.

    ``diff`` is ``MAE(model) - MAE(baseline)`` (negative: the model is better);
    ``p_better`` is the share of resamples in which the model has the lower MAE.
    """
    boot = weighted_mae(errors, w) - weighted_mae(baseline, w)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(boot, [a, 1.0 - a])
    diff = float(np.mean(np.abs(errors)) - np.mean(np.abs(baseline)))
    return diff, float(lo), float(hi), float(np.mean(boot < 0))


def grouped_folds(codes: IntArray, k: int, seed: int) -> IntArray:
    """Fold number ``0..k-1`` of every issue; all issues of a group share a fold.

    Groups are shuffled with the seed and dealt round-robin into ``k`` folds, so folds hold
    nearly equal numbers of groups.
    """
    n_groups = int(codes.max()) + 1
    if not 2 <= k <= n_groups:
        raise ValueError(f"folds must be between 2 and the number of groups ({n_groups})")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    perm = rng.permutation(n_groups)
    fold_of_group = np.empty(n_groups, dtype=np.int64)
    fold_of_group[perm] = np.arange(n_groups) % k
    return fold_of_group[codes]
