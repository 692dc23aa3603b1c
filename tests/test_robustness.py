"""Robustness measures against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detente.errors import InputError
from detente.experiments.robustness import (
    COMPARISON_COLUMNS,
    PAIRED_COLUMNS,
    Threshold,
    compare,
    drivers,
    mean_interval,
    parse_threshold,
    rank_strategies,
    regret,
    satisficing,
    spearman_columns,
)

# 3 states x 3 strategies (A, B, C); worked out by hand in the comments below.
VALUES = np.array(
    [
        [1.0, 3.0, 2.0],  # best 3 (B)
        [4.0, 1.0, 2.0],  # best 4 (A)
        [2.0, 2.0, 5.0],  # best 5 (C)
    ]
)


def test_regret_maximize_hand_computed() -> None:
    r = regret(VALUES, "maximize")
    np.testing.assert_array_equal(r, [[2, 0, 1], [0, 3, 2], [3, 3, 0]])
    np.testing.assert_allclose(r.mean(axis=0), [5 / 3, 2.0, 1.0])
    np.testing.assert_array_equal(r.max(axis=0), [3, 3, 2])


def test_regret_minimize_hand_computed() -> None:
    r = regret(VALUES, "minimize")
    np.testing.assert_array_equal(r, [[0, 2, 1], [3, 0, 1], [0, 0, 3]])


def test_regret_info_is_nan() -> None:
    assert np.isnan(regret(VALUES, "info")).all()


def test_satisficing_hand_computed() -> None:
    share = satisficing(VALUES, Threshold("x", ">=", 2.0))
    np.testing.assert_allclose(share, [2 / 3, 2 / 3, 1.0])
    share = satisficing(VALUES, Threshold("x", "<", 2.0))
    np.testing.assert_allclose(share, [1 / 3, 1 / 3, 0.0])
    assert np.isnan(satisficing(VALUES, None)).all()


def test_mean_interval_matches_t_by_hand() -> None:
    x = [1.0, 4.0, 2.0, 3.0, 2.5, 3.5]
    m, lo, hi = mean_interval(np.array(x))
    mean = sum(x) / 6
    sd = math.sqrt(sum((v - mean) ** 2 for v in x) / 5)
    half = 2.570581835636314 * sd / math.sqrt(6)  # t(0.975, df=5)
    assert m == pytest.approx(mean)
    assert lo == pytest.approx(mean - half)
    assert hi == pytest.approx(mean + half)
    assert mean_interval(np.array([2.0])) == (2.0, 2.0, 2.0)


def test_mean_interval_stays_inside_the_observed_range() -> None:
    # a share that is 0 in most states: the raw t-interval would dip below 0
    x = np.array([0.0] * 9 + [0.9])
    m, lo, hi = mean_interval(x)
    raw_half = float(stats.t.ppf(0.975, df=9)) * x.std(ddof=1) / math.sqrt(10)
    assert m - raw_half < 0
    assert lo == 0.0 and hi == m + raw_half
    assert all(math.isnan(v) for v in mean_interval(np.array([])))


def test_rank_max_regret_breaks_ties_on_expected_value() -> None:
    r = regret(VALUES, "maximize")
    ranks = rank_strategies(
        VALUES.mean(axis=0), r.mean(axis=0), r.max(axis=0), np.full(3, np.nan), "maximize"
    )
    # C has the smallest max regret (2); A and B tie at 3, A has the higher mean (7/3 > 2).
    assert ranks is not None
    assert ranks.tolist() == [2, 3, 1]


def test_rank_minimize_and_other_criteria() -> None:
    r = regret(VALUES, "minimize")
    means = VALUES.mean(axis=0)
    ranks = rank_strategies(means, r.mean(axis=0), r.max(axis=0), np.full(3, np.nan), "minimize")
    # B: max regret 2; A and C tie at 3, A has the lower (better) mean 7/3 < 3.
    assert ranks is not None and ranks.tolist() == [2, 1, 3]
    by_mean = rank_strategies(means, r.mean(axis=0), r.max(axis=0), np.zeros(3), "minimize", "mean")
    assert by_mean is not None and by_mean.tolist() == [2, 1, 3]
    sat = np.array([0.2, 0.9, 0.5])
    by_sat = rank_strategies(means, r.mean(axis=0), r.max(axis=0), sat, "minimize", "satisficing")
    assert by_sat is not None and by_sat.tolist() == [3, 1, 2]
    assert rank_strategies(means, means, means, sat, "info") is None


def _state_means() -> pd.DataFrame:
    rows = []
    for state in range(3):
        for j, strategy in enumerate("ABC"):
            rows.append(
                {"state": state, "strategy": strategy, "x": VALUES[state, j], "y": VALUES[state, j]}
            )
    return pd.DataFrame(rows)


def test_compare_frame_matches_contract_and_hand_values() -> None:
    frame = compare(
        _state_means(),
        ["x", "y"],
        {"x": "maximize", "y": "info"},
        {"x": Threshold("x", ">=", 2.0)},
    )
    assert list(frame.columns) == COMPARISON_COLUMNS + PAIRED_COLUMNS
    x = frame[frame.outcome == "x"].set_index("strategy")
    np.testing.assert_allclose(x["mean"], [7 / 3, 2.0, 3.0])
    np.testing.assert_allclose(x["regret_mean"], [5 / 3, 2.0, 1.0])
    np.testing.assert_allclose(x["regret_max"], [3, 3, 2])
    np.testing.assert_allclose(x["satisficing"], [2 / 3, 2 / 3, 1.0])
    assert x["rank"].tolist() == [2, 3, 1]
    y = frame[frame.outcome == "y"]
    assert y["rank"].isna().all() and y["regret_mean"].isna().all()
    assert y["satisficing"].isna().all()


def test_parse_threshold() -> None:
    assert parse_threshold("rapprochement>=0.5") == Threshold("rapprochement", ">=", 0.5)
    assert parse_threshold(" cost <= 1e-1 ", ["cost"]) == Threshold("cost", "<=", 0.1)
    with pytest.raises(InputError, match="expected METRIC>=VALUE"):
        parse_threshold("rapprochement=0.5")
    with pytest.raises(InputError, match=r"unknown outcome 'rapprochment'.*did you mean"):
        parse_threshold("rapprochment>=0.5", ["rapprochement", "cost"])


def test_drivers_finds_the_parameter_that_moves_the_target() -> None:
    rng = np.random.default_rng(0)
    params = pd.DataFrame({"a": rng.random(200), "b": rng.random(200), "c": np.ones(200)})
    target = 3 * params["b"].to_numpy() + 0.1 * rng.random(200)
    d = drivers(params, target)
    assert d["parameter"].iloc[0] == "b"
    assert d["rho"].iloc[0] > 0.9
    assert "c" not in d["parameter"].tolist()


@pytest.mark.parametrize("n", [3, 5, 64])
def test_spearman_columns_equals_scipy_column_by_column(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.normal(size=(n, 12))
    values[:, :4] = np.round(values[:, :4])  # ties
    values[:, 5] = -values[:, 6]  # rho -1 with its neighbour's target below
    target = values[:, 6].copy()
    target[0] = target[1]  # a tie in the target
    rho, p = spearman_columns(values, target)
    for k in range(values.shape[1]):
        if np.ptp(values[:, k]) == 0:
            assert math.isnan(rho[k]) and math.isnan(p[k])
            continue
        expected = stats.spearmanr(values[:, k], target)
        assert rho[k] == pytest.approx(expected.statistic, abs=1e-12)
        assert p[k] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)


def test_drivers_omits_missing_values_like_scipy() -> None:
    rng = np.random.default_rng(4)
    params = pd.DataFrame({"a": rng.random(40), "b": rng.random(40)})
    params.loc[3, "a"] = np.nan
    target = params["b"].to_numpy() + rng.random(40)
    d = drivers(params, target).set_index("parameter")
    for name in ("a", "b"):
        expected = stats.spearmanr(params[name], target, nan_policy="omit")
        assert d.loc[name, "rho"] == pytest.approx(expected.statistic, abs=1e-12)
        assert d.loc[name, "p_value"] == pytest.approx(expected.pvalue, rel=1e-9)
