"""Robustness measures for comparing strategies across states of the world.

Pure functions over arrays and frames. The input of a comparison is a *state-means* frame:
one row per (state, strategy) holding each outcome averaged over that cell's stochastic
worlds. From it:

- **expected value**: the mean over states (each state weighs the same, as every state ran
  the same number of worlds), with a Student-t interval over the state means;
- **regret**: in each state, how far a strategy falls short of the best strategy *in that
  state* (respecting whether the outcome is maximised or minimised); reported as the mean
  and the maximum over states (Savage's minimax regret);
- **satisficing**: the share of states whose expected outcome meets the user's threshold;
- **rank**: strategies ordered per outcome by a chosen criterion (default: max regret, then
  expected value);
- **paired lead and ties**: the first-ranked strategy's lead over each other strategy, as
  the mean of their per-state differences with a paired Student-t interval (both ran in the
  same states, so state-to-state variation cancels). A strategy whose interval covers 0 is
  *tied with the best*; an outcome's first place is *decisive* only when no other strategy
  is tied with it. A gap between two means (73.6 vs 73.7) is not a win.

See ``docs/experiments.md`` for definitions and a worked example.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from detente.errors import InputError, InputProblem, did_you_mean

Direction = Literal["maximize", "minimize", "info"]
RankBy = Literal["max-regret", "regret", "mean", "satisficing"]
RANK_BY: tuple[str, ...] = ("max-regret", "regret", "mean", "satisficing")

COMPARISON_COLUMNS = [
    "strategy",
    "outcome",
    "mean",
    "lo",
    "hi",
    "regret_mean",
    "regret_max",
    "satisficing",
    "rank",
]
#: Columns :func:`compare` adds after the contract's :data:`COMPARISON_COLUMNS`.
PAIRED_COLUMNS = ["lead", "lead_lo", "lead_hi", "tied_with_best", "decisive"]

FloatArray = NDArray[np.float64]

_OPS: dict[str, Callable[[FloatArray, float], NDArray[np.bool_]]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Threshold:
    """A satisficing requirement on one outcome, e.g. ``rapprochement >= 0.5``."""

    metric: str
    op: str
    value: float

    def met(self, x: FloatArray) -> NDArray[np.bool_]:
        """Which values meet the requirement (NaN never does)."""
        x = np.asarray(x, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.asarray(_OPS[self.op](x, self.value) & np.isfinite(x))

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


_THRESHOLD_RE = re.compile(r"^\s*([A-Za-z0-9_.\-]+?)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*$")


def parse_threshold(text: str, metrics: Sequence[str] | None = None) -> Threshold:
    """Parse ``metric>=value`` (also ``<=``, ``>``, ``<``).

    Raises
    ------
    InputError
        When the text is malformed or names an unknown metric.
    """
    m = _THRESHOLD_RE.match(text)
    if m is None:
        raise InputError.single(
            "<command line>",
            f"--threshold {text!r}: expected METRIC>=VALUE (or <=, >, <), e.g. rapprochement>=0.5",
        )
    name, op, raw = m.groups()
    try:
        value = float(raw)
    except ValueError:
        raise InputError.single(
            "<command line>", f"--threshold {text!r}: {raw!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise InputError.single(
            "<command line>", f"--threshold {text!r}: {raw!r} is beyond the float range"
        )
    if metrics is not None and name not in metrics:
        raise InputError.single(
            "<command line>",
            f"--threshold {text!r}: unknown outcome {name!r}{did_you_mean(name, metrics)}; "
            f"outcomes: {', '.join(metrics)}",
        )
    return Threshold(name, op, value)


def default_threshold(metric: str, direction: Direction, value: float) -> Threshold:
    """The requirement a scenario's ``metrics[].threshold`` implies (``>=`` unless minimised)."""
    return Threshold(metric, "<=" if direction == "minimize" else ">=", value)


def mean_interval(
    x: FloatArray, level: float = 0.95, clip: bool = True
) -> tuple[float, float, float]:
    """Mean with a Student-t confidence interval.

    Parameters
    ----------
    x : array
        Independent observations (here: state means). NaNs are dropped.
    level : float
        Confidence level.
    clip : bool
        Clip the interval to the observations' range (see below); ``False`` for paired
        differences, whose sign is the question.

    Returns
    -------
    (mean, lo, hi)
        ``lo == hi == mean`` for a single observation or no spread; NaN for none. The
        interval is clipped to the range of the observations: outcomes such as shares and
        levels are bounded, and a t-interval on a few skewed state means (a share that is 0
        in most states) would otherwise reach impossible values below 0.
    """
    from scipy import stats

    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if x.size == 1:
        return m, m, m
    se = float(x.std(ddof=1)) / math.sqrt(x.size)
    half = float(stats.t.ppf(0.5 + level / 2, df=x.size - 1)) * se
    if not clip:
        return m, m - half, m + half
    return m, max(m - half, float(x.min())), min(m + half, float(x.max()))


def paired_lead(
    values: FloatArray, best: int, direction: Direction, level: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    """The lead of strategy ``best`` over each strategy, paired over the same states.

    Parameters
    ----------
    values : array, shape (states, strategies)
        Expected outcome of each strategy in each state.
    best : int
        Column of the first-ranked strategy.
    direction : {"maximize", "minimize"}
    level : float
        Confidence level of the paired Student-t interval.

    Returns
    -------
    (lead, lo, hi, tied) : arrays, shape (strategies,)
        Mean per-state difference oriented so that positive means ``best`` does better,
        its interval, and whether the interval covers 0 (always True for ``best`` itself).
        Differences below 1e-12 are float noise and count as 0; with a single state the
        interval is the difference itself.
    """
    values = np.asarray(values, dtype=float)
    sign = -1.0 if direction == "minimize" else 1.0
    diff = np.round(sign * (values[:, [best]] - values), 12)
    out = np.array([mean_interval(diff[:, j], level, clip=False) for j in range(diff.shape[1])])
    lead, lo, hi = out[:, 0], out[:, 1], out[:, 2]
    with np.errstate(invalid="ignore"):
        tied = ~((lo > 0) | (hi < 0))
    tied[best] = True
    return lead, lo, hi, np.asarray(tied)


def regret(values: FloatArray, direction: Direction) -> FloatArray:
    """Regret of each strategy in each state against the best strategy in that state.

    Parameters
    ----------
    values : array, shape (states, strategies)
        Expected outcome of each strategy in each state.
    direction : {"maximize", "minimize", "info"}

    Returns
    -------
    array, shape (states, strategies)
        Non-negative shortfall from the state's best value; all NaN for ``info`` outcomes.
    """
    values = np.asarray(values, dtype=float)
    if direction == "info":
        return np.full_like(values, np.nan)
    with np.errstate(all="ignore"):
        if direction == "maximize":
            best = np.nanmax(values, axis=1, keepdims=True)
            return np.asarray(best - values)
        best = np.nanmin(values, axis=1, keepdims=True)
        return np.asarray(values - best)


def satisficing(values: FloatArray, threshold: Threshold | None) -> FloatArray:
    """Share of states in which each strategy meets the threshold.

    Parameters
    ----------
    values : array, shape (states, strategies)
    threshold : Threshold or None
        ``None`` gives NaN (no requirement set).

    Returns
    -------
    array, shape (strategies,)
    """
    values = np.atleast_2d(np.asarray(values, dtype=float))
    if threshold is None:
        return np.full(values.shape[1], np.nan)
    return np.asarray(threshold.met(values).mean(axis=0), dtype=float)


def rank_strategies(
    mean: FloatArray,
    regret_mean: FloatArray,
    regret_max: FloatArray,
    satisficing_share: FloatArray,
    direction: Direction,
    rank_by: RankBy = "max-regret",
) -> NDArray[np.int64] | None:
    """Dense 1-based ranks of strategies for one outcome (1 = best); None for ``info``.

    The primary key is ``rank_by``; ties break on expected value, then mean regret. With
    ``rank_by="satisficing"`` and no threshold (all NaN) the ranking falls back to max regret.
    """
    if direction == "info":
        return None
    sign = -1.0 if direction == "maximize" else 1.0
    ev_key = sign * np.asarray(mean, dtype=float)  # smaller is better
    keys: list[FloatArray]
    if rank_by == "satisficing" and np.all(np.isnan(satisficing_share)):
        rank_by = "max-regret"
    if rank_by == "max-regret":
        keys = [np.asarray(regret_max, float), ev_key, np.asarray(regret_mean, float)]
    elif rank_by == "regret":
        keys = [np.asarray(regret_mean, float), np.asarray(regret_max, float)]
    elif rank_by == "mean":
        keys = [ev_key, np.asarray(regret_max, float)]
    elif rank_by == "satisficing":
        keys = [-np.asarray(satisficing_share, float), np.asarray(regret_max, float), ev_key]
    else:
        raise ValueError(f"unknown ranking criterion {rank_by!r}")
    # Round so that float noise does not split genuine ties.
    rounded = [np.nan_to_num(np.round(k, 12), nan=np.inf) for k in keys]
    order = np.lexsort(tuple(reversed(rounded)))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def compare(
    state_means: pd.DataFrame,
    outcomes: Sequence[str],
    directions: Mapping[str, Direction],
    thresholds: Mapping[str, Threshold] | None = None,
    rank_by: RankBy = "max-regret",
    level: float = 0.95,
    strategies: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The comparison frame: per strategy and outcome, EV with interval, regret, satisficing, rank.

    Parameters
    ----------
    state_means : DataFrame
        Columns ``state``, ``strategy`` and one per outcome: each cell's mean over worlds.
        Every strategy must appear in every state.
    outcomes : sequence of str
        Outcome columns to compare.
    directions : mapping
        ``maximize``/``minimize``/``info`` per outcome (missing: ``maximize``).
    thresholds : mapping, optional
        Satisficing requirement per outcome.
    rank_by : {"max-regret", "regret", "mean", "satisficing"}
    level : float
        Confidence level of the expected-value interval.
    strategies : sequence of str, optional
        Order of the strategies in the output (default: order of first appearance).

    Returns
    -------
    DataFrame
        Columns ``[strategy, outcome, mean, lo, hi, regret_mean, regret_max, satisficing,
        rank]`` (the contract's *comparison* frame); ``rank`` is a nullable integer, missing
        for ``info`` outcomes. Then :data:`PAIRED_COLUMNS` (:func:`paired_lead`, missing for
        ``info`` outcomes): ``lead``, ``lead_lo``, ``lead_hi`` (the first-ranked strategy's
        lead over this one and its interval), ``tied_with_best`` (the interval covers 0) and
        ``decisive`` (per outcome: no other strategy is tied with the first).
    """
    thresholds = dict(thresholds or {})
    order = (
        list(strategies)
        if strategies is not None
        else list(dict.fromkeys(state_means["strategy"].tolist()))
    )
    rows: list[dict[str, object]] = []
    for outcome in outcomes:
        wide = state_means.pivot(index="state", columns="strategy", values=outcome)
        missing = [s for s in order if s not in wide.columns]
        if missing:
            raise ValueError(f"strategies {missing} have no results")
        values = wide[order].to_numpy(dtype=float)
        direction = directions.get(outcome, "maximize")
        reg = regret(values, direction)
        with np.errstate(all="ignore"):
            reg_mean = np.nanmean(reg, axis=0) if direction != "info" else reg[0]
            reg_max = np.nanmax(reg, axis=0) if direction != "info" else reg[0]
        sat = satisficing(values, thresholds.get(outcome))
        intervals = [mean_interval(values[:, j], level) for j in range(len(order))]
        means = np.array([iv[0] for iv in intervals])
        ranks = rank_strategies(means, reg_mean, reg_max, sat, direction, rank_by)
        paired: tuple[FloatArray, FloatArray, FloatArray, NDArray[np.bool_]] | None = None
        if ranks is not None:
            paired = paired_lead(values, int(np.argmin(ranks)), direction, level)
        decisive = None if paired is None else bool(paired[3].sum() == 1)
        for j, strategy in enumerate(order):
            rows.append(
                {
                    "strategy": strategy,
                    "outcome": outcome,
                    "mean": intervals[j][0],
                    "lo": intervals[j][1],
                    "hi": intervals[j][2],
                    "regret_mean": float(reg_mean[j]),
                    "regret_max": float(reg_max[j]),
                    "satisficing": float(sat[j]),
                    "rank": None if ranks is None else int(ranks[j]),
                    "lead": math.nan if paired is None else float(paired[0][j]),
                    "lead_lo": math.nan if paired is None else float(paired[1][j]),
                    "lead_hi": math.nan if paired is None else float(paired[2][j]),
                    "tied_with_best": None if paired is None else bool(paired[3][j]),
                    "decisive": decisive,
                }
            )
    frame = pd.DataFrame(rows, columns=COMPARISON_COLUMNS + PAIRED_COLUMNS)
    frame["rank"] = frame["rank"].astype("Int64")
    for col in ("tied_with_best", "decisive"):
        frame[col] = frame[col].astype("boolean")
    return frame


def drivers(parameters: pd.DataFrame, target: FloatArray, top: int | None = None) -> pd.DataFrame:
    """Which uncertainties move a per-state quantity most: Spearman rank correlations.

    Parameters
    ----------
    parameters : DataFrame
        One row per state, one column per uncertainty (sampled values).
    target : array, shape (states,)
        E.g. the leading strategy's regret, or its advantage over the runner-up.
    top : int, optional
        Keep only the ``top`` strongest.

    Returns
    -------
    DataFrame
        Columns ``[parameter, rho, p_value]`` sorted by ``|rho|`` descending; constant
        parameters and targets give no rows.
    """
    from scipy import stats

    target = np.asarray(target, dtype=float)
    rows = []
    if np.nanstd(target) > 0 and len(target) >= 3:
        names = [str(c) for c in parameters.columns]
        values = parameters.to_numpy(dtype=float)
        varies = np.nanstd(values, axis=0) > 0
        complete = varies & ~np.isnan(values).any(axis=0) & ~np.isnan(target).any()
        rho_all, p_all = spearman_columns(values[:, complete], target)
        found = dict(zip(np.flatnonzero(complete).tolist(),
                         zip(rho_all.tolist(), p_all.tolist(), strict=True), strict=True))
        for k in np.flatnonzero(varies & ~complete).tolist():  # NaNs: scipy omits them
            res = stats.spearmanr(values[:, k], target, nan_policy="omit")
            found[k] = (float(res.statistic), float(res.pvalue))
        for k in sorted(found):
            rho, p = found[k]
            if math.isfinite(rho):
                rows.append({"parameter": names[k], "rho": rho, "p_value": p})
    frame = pd.DataFrame(rows, columns=["parameter", "rho", "p_value"])
    if not frame.empty:
        frame = frame.reindex(frame["rho"].abs().sort_values(ascending=False).index)
        frame = frame.reset_index(drop=True)
    return frame.head(top) if top is not None else frame


def spearman_columns(values: FloatArray, target: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Spearman's rho and its two-sided p-value between each column of ``values`` and
    ``target``, all columns at once (``scipy.stats.spearmanr`` column by column took a
    tenth of a second of ``detente run --quick`` for the flagship's 390 uncertainties).

    The same statistic as ``scipy.stats.spearmanr`` without NaNs (to rounding): Pearson's
    correlation of the average ranks, and the p-value of ``t = rho * sqrt((n - 2) /
    ((1 + rho) (1 - rho)))`` under Student's t with ``n - 2`` degrees of freedom. A
    constant column or target gives NaN.
    """
    from scipy import stats

    n = len(target)
    ranks = stats.rankdata(values, axis=0) - (n + 1) / 2.0
    target_ranks = stats.rankdata(target) - (n + 1) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (target_ranks @ ranks) / np.sqrt(
            (ranks * ranks).sum(axis=0) * (target_ranks @ target_ranks)
        )
        rho = np.clip(rho, -1.0, 1.0)
        dof = n - 2
        t = rho * np.sqrt((dof / ((rho + 1.0) * (1.0 - rho))).clip(0))
    p = 2.0 * stats.t.sf(np.abs(t), dof)
    return rho, np.where(np.isnan(rho), np.nan, p)


def threshold_problems(
    thresholds: Mapping[str, Threshold], metrics: Sequence[str]
) -> list[InputProblem]:
    """One problem per threshold naming an outcome the model does not produce."""
    return [
        InputProblem(
            "<command line>",
            f"threshold on unknown outcome {t.metric!r}{did_you_mean(t.metric, metrics)}",
        )
        for t in thresholds.values()
        if t.metric not in metrics
    ]
