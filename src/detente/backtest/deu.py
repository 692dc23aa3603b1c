"""Backtest of the bargaining models on DEU III (EU legislative decisions, 353 issues).

Every model forecasts every issue that has an observed outcome; models are compared by
mean absolute error (MAE, on the 0-100 scale), its cluster-bootstrap interval (resampling
proposals) and the paired bootstrap difference to the compromise model. Models with fitted
parameters are scored out of sample: their parameters are chosen on K-1 folds of proposals
and applied to the held-out fold (grouped K-fold cross-validation), never on the data they
were fitted on.

Models
------
Fixed (no parameters fitted to DEU):

- ``compromise``: salience-weighted mean, equal capabilities (the benchmark, MAE 23.68);
- ``median``: salience-weighted median (28.36);
- ``nash``: Nash bargaining solution over the reference point when given;
- ``eum``: expected-utility model (Scholz et al. defaults, 8 rounds), median voter forecast;
- ``eum-mean``: the same run, weighted mean position after the last round;
- ``compromise-gdp``: weighted mean with GDP x salience weights (line 2 of the file; the
  Commission and Parliament carry the largest member's figure there);
- ``reference``: the reference point itself, on the issues that have one;
- ``compromise-council-k1``: weighted mean with Council QMV weights of the treaty period
  (inferred from who holds positions, see :mod:`detente.backtest.council`) as member
  states' capabilities and the Commission and Parliament each weighing like an average
  member state (``institution_weight`` fixed at 1, the equal-capability model's choice).

Fitted by cross-validation (``*`` in reports):

- ``blend-median``: ``a * compromise + (1 - a) * median``;
- ``blend-eum``: ``a * compromise + (1 - a) * eum-mean``;
- ``rp-rule``: ``compromise + b_rule (rp - compromise)`` with one ``b`` per Council voting
  rule (QMV, unanimity), applied where a reference point exists: the status quo pulls
  harder when one member can veto;
- ``compromise-council``: Council QMV weights as capabilities, ``institution_weight`` ``k``
  of the Commission and Parliament (in mean member-state weights) fitted on ``K_GRID``;
- ``compromise-council-rule``: the same, but member states weigh equally on unanimity
  issues (a veto makes every member as strong as any other) and by QMV weight otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from detente.backtest.council import CouncilParts, council_parts, infer_periods
from detente.backtest.scoring import (
    FloatArray,
    IntArray,
    bootstrap_mae,
    bootstrap_weights,
    group_codes,
    grouped_folds,
    paired_bootstrap,
)
from detente.bargaining import compromise, median, nash, run
from detente.scenario.table import ActorTable
from detente.scenario.tables import load_deu

NDArrayBool = NDArray[np.bool_]

GRID = np.round(np.linspace(0.0, 1.0, 51), 4)
"""Candidate values of every fitted weight (steps of 0.02)."""

K_GRID = np.round(np.linspace(0.0, 10.0, 101), 4)
"""Candidate institution weights ``k`` of the Council-weighted models (steps of 0.1)."""


@dataclass(frozen=True)
class ModelScore:
    """One row of the backtest table."""

    model: str
    description: str
    n: int
    mae: float
    mae_low: float
    mae_high: float
    diff: float
    diff_low: float
    diff_high: float
    p_better: float
    fitted: bool = False
    params: str = ""


@dataclass(frozen=True)
class BacktestResult:
    """Scores of every model plus the settings that produced them."""

    scores: list[ModelScore]
    n_issues: int
    n_proposals: int
    folds: int
    seed: int
    n_boot: int
    predictions: dict[str, FloatArray] = field(repr=False, default_factory=dict)
    periods: dict[str, int] = field(default_factory=dict)
    """Issues scored per inferred treaty period (``EU15``, ``NICE``)."""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (without per-issue predictions)."""
        return {
            "n_issues": self.n_issues,
            "n_proposals": self.n_proposals,
            "folds": self.folds,
            "seed": self.seed,
            "n_boot": self.n_boot,
            "periods": self.periods,
            "models": [asdict(s) for s in self.scores],
        }


@dataclass(frozen=True)
class Features:
    """Per-issue forecasts of the fixed models and the covariates fitted models use."""

    outcome: FloatArray
    fixed: dict[str, FloatArray]
    reference: FloatArray  # NaN where missing
    unanimity: NDArrayBool
    groups: IntArray
    council: dict[str, CouncilParts] = field(default_factory=dict)
    periods: list[str] = field(default_factory=list)


def features(tables: list[ActorTable], gdp_tables: list[ActorTable] | None = None) -> Features:
    """Forecast every issue with every fixed model (issues without an outcome are dropped)."""
    keep = [i for i, t in enumerate(tables) if t.outcome is not None]
    ts = [tables[i] for i in keep]
    fixed: dict[str, list[float]] = {
        "compromise": [],
        "median": [],
        "nash": [],
        "eum": [],
        "eum-mean": [],
    }
    for t in ts:
        fixed["compromise"].append(compromise(t))
        fixed["median"].append(median(t))
        fixed["nash"].append(nash(t))
        trace = run(t, rounds=8)
        fixed["eum"].append(trace.forecast)
        fixed["eum-mean"].append(float(trace.mean[-1]))
    out: dict[str, FloatArray] = {k: np.array(v) for k, v in fixed.items()}
    if gdp_tables is not None:
        out["compromise-gdp"] = np.array([compromise(gdp_tables[i]) for i in keep])
    period_of = infer_periods(tables)  # every issue of a proposal, with outcome or not
    council = {
        "qmv": council_parts(ts, period_of, rule_aware=False),
        "rule": council_parts(ts, period_of, rule_aware=True),
    }
    out["compromise-council-k1"] = council["qmv"].forecast(1.0)
    return Features(
        outcome=np.array([t.outcome for t in ts], dtype=np.float64),
        fixed=out,
        reference=np.array([np.nan if t.reference is None else t.reference for t in ts]),
        unanimity=np.array([t.meta.get("voting", "").lower().startswith("unan") for t in ts]),
        groups=group_codes([t.meta.get("proposal", t.issue) for t in ts]),
        council=council,
        periods=[period_of[t.meta.get("proposal", t.issue)] for t in ts],
    )


# -- fitted models: fit(features, train_mask) -> params; predict(features, params) -> preds --

Fit = Callable[[Features, NDArrayBool], tuple[float, ...]]
Predict = Callable[[Features, tuple[float, ...]], FloatArray]


def _blend(other: str) -> tuple[Fit, Predict]:
    def predict(f: Features, p: tuple[float, ...]) -> FloatArray:
        return np.asarray(p[0] * f.fixed["compromise"] + (1 - p[0]) * f.fixed[other])

    def fit(f: Features, train: NDArrayBool) -> tuple[float, ...]:
        err = [np.mean(np.abs(predict(f, (a,))[train] - f.outcome[train])) for a in GRID]
        return (float(GRID[int(np.argmin(err))]),)

    return fit, predict


def _rp_predict(f: Features, p: tuple[float, ...]) -> FloatArray:
    base = f.fixed["compromise"]
    b = np.where(f.unanimity, p[1], p[0])
    has = np.isfinite(f.reference)
    return np.where(has, base + b * (np.where(has, f.reference, 0.0) - base), base)


def _rp_fit(f: Features, train: NDArrayBool) -> tuple[float, ...]:
    params = []
    base = f.fixed["compromise"]
    has = np.isfinite(f.reference)
    for rule in (False, True):
        sel = train & has & (f.unanimity == rule)
        if not sel.any():
            params.append(0.0)
            continue
        rp = f.reference[sel]
        err = [np.mean(np.abs(base[sel] + b * (rp - base[sel]) - f.outcome[sel])) for b in GRID]
        params.append(float(GRID[int(np.argmin(err))]))
    return tuple(params)


def _council(variant: str) -> tuple[Fit, Predict]:
    def predict(f: Features, p: tuple[float, ...]) -> FloatArray:
        return f.council[variant].forecast(p[0])

    def fit(f: Features, train: NDArrayBool) -> tuple[float, ...]:
        err = [np.mean(np.abs(predict(f, (k,))[train] - f.outcome[train])) for k in K_GRID]
        return (float(K_GRID[int(np.argmin(err))]),)

    return fit, predict


FITTED: dict[str, tuple[str, Fit, Predict]] = {
    "blend-median": ("a*compromise + (1-a)*median", *_blend("median")),
    "blend-eum": ("a*compromise + (1-a)*eum-mean", *_blend("eum-mean")),
    "rp-rule": (
        "compromise + b[rule]*(rp - compromise), b per QMV/unanimity",
        _rp_fit,
        _rp_predict,
    ),
    "compromise-council": (
        "weighted mean, Council QMV weight x salience; Commission, EP k x mean member",
        *_council("qmv"),
    ),
    "compromise-council-rule": (
        "as compromise-council, equal member weights on unanimity issues",
        *_council("rule"),
    ),
}

DESCRIPTIONS = {
    "compromise": "salience-weighted mean, equal capability",
    "median": "salience-weighted median (lower on ties)",
    "nash": "Nash bargaining over the reference point",
    "eum": "expected-utility model, median after 8 rounds",
    "eum-mean": "expected-utility model, mean after 8 rounds",
    "compromise-gdp": "weighted mean, GDP x salience",
    "reference": "reference point (issues with one)",
    "compromise-council-k1": "weighted mean, Council QMV weight x salience, Commission/EP k = 1",
}


def cross_validate(
    f: Features, fit: Fit, predict: Predict, folds: IntArray, k: int
) -> tuple[FloatArray, list[tuple[float, ...]]]:
    """Out-of-fold predictions: fit on every fold but one, predict the held-out fold."""
    pred = np.full(f.outcome.shape, np.nan)
    params = []
    for fold in range(k):
        test = folds == fold
        p = fit(f, ~test)
        params.append(p)
        pred[test] = predict(f, p)[test]
    return pred, params


def backtest_deu(
    path: str | Path,
    folds: int = 5,
    seed: int = 0,
    n_boot: int = 2000,
    progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Score every model on the DEU III issues with an outcome.

    Parameters
    ----------
    path : str or Path
        The DEU III TSV.
    folds : int
        K of the grouped K-fold cross-validation of fitted models (groups = proposals).
    seed : int
        Seeds both the fold assignment and the bootstrap; same seed, same numbers.
    n_boot : int
        Cluster-bootstrap resamples for the intervals.
    progress : callable, optional
        Called with a short message before each stage (for the CLI).

    Returns
    -------
    BacktestResult
        One :class:`ModelScore` per model, fixed models first.
    """
    say = progress or (lambda _msg: None)
    say("loading")
    tables = load_deu(path)
    gdp_tables = load_deu(path, capability="gdp")
    say("forecasting fixed models")
    f = features(tables, gdp_tables)
    w = bootstrap_weights(f.groups, n_boot, seed)
    fold_of = grouped_folds(f.groups, folds, seed)
    base_err = f.fixed["compromise"] - f.outcome
    scores: list[ModelScore] = []
    preds: dict[str, FloatArray] = {}

    def score(name: str, pred: FloatArray, desc: str, fitted: bool, params: str) -> None:
        sel = np.isfinite(pred)
        err = pred[sel] - f.outcome[sel]
        mae, lo, hi = bootstrap_mae(err, w[:, sel])
        diff, dlo, dhi, pb = paired_bootstrap(err, base_err[sel], w[:, sel])
        scores.append(
            ModelScore(name, desc, int(sel.sum()), mae, lo, hi, diff, dlo, dhi, pb, fitted, params)
        )
        preds[name] = pred

    for name, pred in f.fixed.items():
        score(name, pred, DESCRIPTIONS[name], False, "")
    score("reference", f.reference, DESCRIPTIONS["reference"], False, "")
    say("cross-validating fitted models")
    for name, (desc, fit, predict) in FITTED.items():
        pred, params = cross_validate(f, fit, predict, fold_of, folds)
        per_fold = np.array(params)
        text = ", ".join(
            f"{m:.2f} ({lo:.2f}-{hi:.2f})"
            for m, lo, hi in zip(per_fold.mean(0), per_fold.min(0), per_fold.max(0), strict=True)
        )
        score(name, pred, desc, True, text)
    periods = {p: f.periods.count(p) for p in sorted(set(f.periods))}
    return BacktestResult(
        scores, int(f.outcome.size), int(f.groups.max()) + 1, folds, seed, n_boot, preds, periods
    )
