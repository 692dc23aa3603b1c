"""PRIM recovers a planted box."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detente.experiments.prim import BOX_COLUMNS, TRAJECTORY_COLUMNS, box_stats, prim


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
