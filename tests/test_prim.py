"""PRIM recovers a planted box; quasi-p values and resampling tell findings from noise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from detente.experiments.prim import (
    BOX_COLUMNS,
    QUASI_P_MAX,
    STABILITY_MIN,
    STRENGTH_COLUMNS,
    TRAJECTORY_COLUMNS,
    Rule,
    assess_box,
    box_stats,
    prim,
    quasi_p,
    resample_shares,
    resampling_record,
    weak_restrictions,
)


def _planted(n: int = 2000, noise: float = 0.0, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 5)), columns=[f"u{j}" for j in range(5)])
    y = (x["u0"] > 0.6) & (x["u2"] < 0.3)
    flip = rng.random(n) < noise
    return x, np.asarray(y ^ flip)


def test_prim_recovers_planted_box() -> None:
    x, y = _planted()
    res = prim(x, y, threshold=0.95, bounds=np.array([[0.0, 1.0]] * 5))
    box = res.box().set_index("uncertainty")
    assert list(res.box().columns) == BOX_COLUMNS
    assert sorted(box.index) == ["u0", "u2"]
    assert box.loc["u0", "low"] == pytest.approx(0.6, abs=0.03)
    assert box.loc["u0", "high"] == 1.0
    assert box.loc["u2", "high"] == pytest.approx(0.3, abs=0.03)
    assert box.loc["u2", "low"] == 0.0
    s = res.stats()
    assert s["density"] >= 0.95 and s["coverage"] >= 0.9


def test_trajectory_trades_coverage_for_density() -> None:
    x, y = _planted(noise=0.05)
    res = prim(x, y, threshold=0.8)
    traj = res.trajectory
    assert list(traj.columns) == TRAJECTORY_COLUMNS
    assert traj["step"].tolist() == list(range(len(traj)))
    assert traj["mass"].is_monotonic_decreasing
    assert traj["coverage"].is_monotonic_decreasing
    assert traj["density"].iloc[-1] > traj["density"].iloc[0]
    assert traj.iloc[0].to_dict() == pytest.approx(
        {"step": 0, "coverage": 1.0, "density": y.mean(), "mass": 1.0, "n_restricted": 0}
    )
    assert traj["mass"].iloc[-1] >= 0.05
    # The noisy planted box is still found, within a few percent.
    box = res.box().set_index("uncertainty")
    assert {"u0", "u2"} <= set(box.index)
    assert box.loc["u0", "low"] == pytest.approx(0.6, abs=0.06)
    assert box.loc["u2", "high"] == pytest.approx(0.3, abs=0.06)


def test_user_chosen_step_and_pasting() -> None:
    x, y = _planted(noise=0.05)
    res = prim(x, y, step=3)
    assert res.selected == 3
    assert res.box()["uncertainty"].nunique() == res.trajectory["n_restricted"].iloc[3]
    pasted = prim(x, y, threshold=0.8, paste_box=True)
    assert pasted.pasted is not None
    before = box_stats(x.to_numpy(), y, pasted.limits[pasted.selected])
    after = box_stats(x.to_numpy(), y, pasted.pasted)
    assert after["density"] >= before["density"] - 1e-12
    with pytest.raises(IndexError):
        prim(x, y, step=10_000)


@pytest.mark.parametrize("seed", range(5))
def test_few_cases_restrict_the_planted_dimension_not_the_first_columns(seed: int) -> None:
    # 64 states, 20 uncertainties, 5-10 cases planted on u13 alone: exact ties between peels
    # are common, and breaking them by column order used to restrict u0, u1, u2, ... instead.
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((64, 20)), columns=[f"u{i}" for i in range(20)])
    y = (x.u13 > 0.85).to_numpy()
    restricted = list(prim(x, y, threshold=0.8).box().uncertainty)
    assert "u13" in restricted
    assert len(restricted) <= 3, restricted


# ---------------------------------------------------------------------------------------
# quasi-p values and stability under resampling
# ---------------------------------------------------------------------------------------

UNIT = np.array([[0.0, 1.0], [0.0, 1.0]])


def _grid(n: int, u0: tuple[float, float], u1: tuple[float, float]) -> np.ndarray:
    """``n`` distinct points inside the rectangle ``u0 x u1``."""
    t = (np.arange(n) + 0.5) / n
    return np.column_stack([u0[0] + t * (u0[1] - u0[0]), u1[0] + t * (u1[1] - u1[0])])


def test_quasi_p_matches_a_hand_computed_binomial_tail() -> None:
    # The box is u0 >= 0.5 and u1 <= 0.5: 10 states inside, 6 of them cases.
    inside = _grid(10, (0.5, 1.0), (0.0, 0.5))
    only_u0 = _grid(10, (0.0, 0.5), (0.0, 0.5))  # let in when u0's limits go: 2 cases
    only_u1 = _grid(6, (0.5, 1.0), (0.5, 1.0))  # let in when u1's limits go: 3 cases
    neither = _grid(7, (0.0, 0.5), (0.5, 1.0))  # outside both: never counted (all cases)
    x = np.vstack([inside, only_u0, only_u1, neither])
    y = np.array([True] * 6 + [False] * 4 + [True] * 2 + [False] * 8 + [True] * 3 + [False] * 3
                 + [True] * 7)
    limits = np.array([[0.5, 1.0], [0.0, 0.5]])
    qp = quasi_p(x, y, limits, UNIT)
    # Without u0's limits the box holds 8 cases in 20 states: p0 = 0.4, and
    # P[X >= 6 | 10, 0.4] = 210*.4^6*.6^4 + 120*.4^7*.6^3 + 45*.4^8*.6^2 + 10*.4^9*.6 + .4^10
    assert qp[0] == pytest.approx(0.1662386176, abs=1e-10)
    # Without u1's limits: 9 cases in 16 states.
    p0 = 9 / 16
    tail = sum(math.comb(10, k) * p0**k * (1 - p0) ** (10 - k) for k in range(6, 11))
    assert qp[1] == pytest.approx(tail, rel=1e-12)
    # An unrestricted dimension has no quasi-p value.
    assert np.isnan(quasi_p(x, y, np.array([[0.5, 1.0], [0.0, 1.0]]), UNIT)[1])


def _one_decides(seed: int, n: int = 300) -> tuple[pd.DataFrame, np.ndarray]:
    """One uncertainty decides the outcome (above 0.7, 5% of labels flipped); ten are noise."""
    rng = np.random.default_rng(seed)
    cols = ["decides"] + [f"noise{j}" for j in range(10)]
    x = pd.DataFrame(rng.random((n, 11)), columns=cols)
    y = (x["decides"] > 0.7).to_numpy() ^ (rng.random(n) < 0.05)
    return x, y


def test_the_deciding_restriction_is_a_finding_and_the_noise_ones_are_weak() -> None:
    noise_seen = 0
    for seed in range(3):
        x, y = _one_decides(seed)
        res = prim(x, y, threshold=0.8, bounds=np.array([[0.0, 1.0]] * 11))
        box, shares = assess_box(x, y, res, resamples=20, seed=seed)
        assert list(box.columns) == BOX_COLUMNS + STRENGTH_COLUMNS
        rows = box.set_index("uncertainty")
        assert rows.loc["decides", "quasi_p"] < 1e-6
        assert rows.loc["decides", "stability"] >= 0.9
        noise = rows.drop(index="decides")
        noise_seen += len(noise)
        for name, r in noise.iterrows():
            assert r["quasi_p"] > QUASI_P_MAX or r["stability"] < STABILITY_MIN, name
        assert weak_restrictions(box) == list(noise.index)
        assert shares["decides"] == rows.loc["decides", "stability"]
    assert noise_seen >= 3  # PRIM did pick up noise restrictions to judge


def test_resampling_is_deterministic_for_a_seed() -> None:
    x, y = _one_decides(1, n=200)
    res = prim(x, y, threshold=0.9, bounds=np.array([[0.0, 1.0]] * 11))
    first = resample_shares(x, y, res, resamples=8, seed=4)
    again = resample_shares(x, y, res, resamples=8, seed=4)
    other = resample_shares(x, y, res, resamples=8, seed=5)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.all(np.isnan(resample_shares(x, y, res, resamples=0)))


def test_resamples_choose_a_hand_picked_box_by_its_density() -> None:
    x, y = _one_decides(2, n=200)
    res = prim(x, y, step=4)
    assert res.rule.threshold == pytest.approx(res.trajectory["density"].iloc[4])
    assert prim(x, y, threshold=0.7, paste_box=True).rule == Rule(0.05, 0.05, 0.7, True)


def test_resampling_record_counts_the_findings() -> None:
    box = pd.DataFrame(
        {
            "uncertainty": ["a", "b", "c"],
            "low": 0.0,
            "high": 0.5,
            "full_low": 0.0,
            "full_high": 1.0,
            "quasi_p": [0.001, 0.2, 0.01],
            "stability": [0.9, 0.95, 0.3],
        }
    )
    shares = pd.Series([0.9, 0.95, 0.3, 0.6, 0.0], index=["a", "b", "c", "d", "e"])
    record = resampling_record(box, shares, 20)
    assert record["stable"] == 2 and record["restrictions"] == 3
    assert record["weak"] == ["b", "c"]
    assert record["shares"] == {"b": 0.95, "a": 0.9, "d": 0.6, "c": 0.3}
