"""Sampling uncertainties into states of the world."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detente.errors import InputError
from detente.experiments.sampling import ppf, sample_states, unit_sample
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML
from detente.scenario import Scenario, load_scenario, uncertainties


@pytest.fixture()
def scenario(tmp_path: Path) -> Scenario:
    path = tmp_path / "synthetic.yaml"
    path.write_text(SYNTHETIC_SCENARIO_YAML)
    return load_scenario(path)


def test_lhs_stratifies_every_margin() -> None:
    u = unit_sample(50, 4, "lhs", seed=3)
    for j in range(4):
        assert sorted(np.floor(u[:, j] * 50).astype(int)) == list(range(50))


def test_sobol_and_lhs_are_seeded() -> None:
    np.testing.assert_array_equal(unit_sample(16, 3, "sobol", 1), unit_sample(16, 3, "sobol", 1))
    assert not np.array_equal(unit_sample(16, 3, "lhs", 1), unit_sample(16, 3, "lhs", 2))
    assert unit_sample(10, 3, "sobol", 1).shape == (10, 3)


def test_distributions_map_through_inverse_cdf(scenario: Scenario) -> None:
    params = {p.name: p for p in uncertainties(scenario)}
    u = (np.arange(20_000) + 0.5) / 20_000
    tri = ppf(params["actors[hardliners].clout"], u)
    assert tri.mean() == pytest.approx((20 + 60 + 90) / 3, abs=0.05)
    uni = ppf(params["parameters.reciprocity"], u)
    assert uni.min() >= 0 and uni.max() <= 1 and uni.mean() == pytest.approx(0.5, abs=1e-3)
    norm = ppf(params["parameters.signal_noise"], u)
    assert norm.min() >= 0.05 and norm.max() <= 0.35
    assert np.median(norm) == pytest.approx(0.2, abs=1e-3)
    assert norm.std() == pytest.approx(0.05, rel=0.05)
    logn = ppf(params["parameters.backlash"], u)
    assert logn.min() >= 0.05 and logn.max() <= 2.0
    assert np.median(logn) == pytest.approx(0.5, rel=0.02)  # median at the mode given


def test_sample_states_frame(scenario: Scenario) -> None:
    states = sample_states(scenario, 32, "sobol", seed=4)
    assert states.shape == (32, 5)
    assert states.index.name == "state"
    assert list(states.columns) == [p.name for p in uncertainties(scenario)]
    for p in uncertainties(scenario):
        assert states[p.name].between(p.low, p.high).all()
    with pytest.raises(InputError, match="--states"):
        sample_states(scenario, 0)
    with pytest.raises(InputError, match="unknown sampler"):
        sample_states(scenario, 4, "grid")  # type: ignore[arg-type]
