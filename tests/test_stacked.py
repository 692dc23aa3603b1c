"""Stacked states (issue 11 item 2): many sampled states in one engine run give exactly the
numbers of one run per state (every metric, step, in-force record and level), and
``observe_states`` gives exactly what ``observe`` gives per state."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detente.errors import InputError
from detente.experiments.sampling import sample_states
from detente.history import observe, observe_states
from detente.scenario import Scenario, load_scenario
from detente.sim.api import iter_chunks
from detente.sim.engine import ChunkResult, chunk_plans
from detente.sim.rng import StackedRNG, WorldRNG, name_key
from detente.sim.stacked import simulate_states, structure_key
from detente.sim.strategies import ModerateEngagement
from detente.sim.system import compile_system

DATA = Path(__file__).parent / "data"
WORLDS = 40
FIELDS = ("time_to_reciprocation", "backlash_events", "veto_excess", "active_focal",
          "active_internal", "in_force", "levels")


@cache
def _flagship() -> tuple[Scenario, pd.DataFrame]:
    sc = load_scenario("us-iran-2001")
    return sc, sample_states(sc, 6, seed=1, history=True)


def _seeds(n: int) -> list[int]:
    return [5 + 13 * s for s in range(n)]


def _alone(sc: Scenario, strategy: str, row: pd.Series, worlds: int, seed: int) -> ChunkResult:
    (res,) = [r for _, _, r in iter_chunks(sc, strategy, worlds, seed, values=row.to_dict(),
                                           record_state=True)]
    return res


def _assert_identical(sc: Scenario, strategy: str, states: pd.DataFrame, worlds: int) -> None:
    seeds = _seeds(len(states))
    res = simulate_states(sc, strategy, states, worlds, seeds, record_state=True)
    for s, (_, row) in enumerate(states.iterrows()):
        one = _alone(sc, strategy, row, worlds, seeds[s])
        rows = slice(s * worlds, (s + 1) * worlds)
        for f in FIELDS:
            assert np.array_equal(getattr(one, f), getattr(res, f)[rows]), (strategy, s, f)
        for m, a in one.metrics.items():
            assert np.array_equal(a, res.metrics[m][rows]), (strategy, s, m)


@pytest.mark.parametrize("strategy", ["containment", "moderate-engagement", "us-as-followed"])
def test_flagship_states_stacked_identical_to_one_run_per_state(strategy: str) -> None:
    sc, states = _flagship()
    _assert_identical(sc, strategy, states, WORLDS)


def test_flagship_states_vary_in_every_kind_of_number() -> None:
    """The identity above means something: the states differ in the numbers the engine reads
    per world (parameters, positions, gestures and hence the ladder's order...)."""
    sc, states = _flagship()
    a, b = (compile_system(sc, "us-as-followed", states.iloc[i].to_dict()) for i in (0, 1))
    assert a.params.public_reform_support != b.params.public_reform_support
    assert not np.array_equal(a.focal.order, b.focal.order)
    assert not np.array_equal(a.internal.salience, b.internal.salience)
    assert not np.array_equal(a.focal.effects, b.focal.effects)


def _keys(sc: Scenario, strategy: str, states: pd.DataFrame) -> set[bytes]:
    return {
        structure_key(sy, chunk_plans(sy))
        for sy in (compile_system(sc, strategy, r.to_dict()) for _, r in states.iterrows())
    }


def test_sampled_strategy_parameters_are_per_world_so_the_states_share_one_run() -> None:
    """Moderate engagement's parameters are sampled per state; its class takes them per
    world (``per_world``), so its states share one structure, like containment's."""
    sc, states = _flagship()
    assert len(_keys(sc, "moderate-engagement", states)) == 1
    assert len(_keys(sc, "containment", states)) == 1
    assert len({compile_system(sc, "moderate-engagement", r.to_dict()).focal_params["step"]
                for _, r in states.iterrows()}) == len(states)


def test_states_of_different_structure_run_in_groups_with_the_same_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A strategy class taking scalar parameters only: states whose sampled parameters differ
    cannot share it, so every state is its own group (with the numbers of one run each)."""
    sc, states = _flagship()
    monkeypatch.setattr(ModerateEngagement, "per_world", ())
    assert len(_keys(sc, "moderate-engagement", states)) == len(states)
    _assert_identical(sc, "moderate-engagement", states.iloc[:3], 24)


@pytest.mark.parametrize(
    ("path", "strategy"), [("mini-history.yaml", "west-as-followed"), ("mini-system.yaml", None)]
)
def test_other_scenarios_stacked_identical(path: str, strategy: str | None) -> None:
    sc = load_scenario(DATA / path)
    strategy = strategy or next(x.id for x in sc.strategies if x.kind != "internal-bargaining")
    states = sample_states(sc, 4, seed=3, history=sc.history is not None)
    _assert_identical(sc, strategy, states, 37)  # not a multiple of the SIMD widths


def test_horizon_stops_early_with_the_same_numbers() -> None:
    sc, states = _flagship()
    full = simulate_states(sc, "containment", states.iloc[:2], 24, [1, 2], record_state=True)
    early = simulate_states(sc, "containment", states.iloc[:2], 24, [1, 2], record_state=True,
                            horizon=9)
    assert early.metrics["reform_share"].shape == (48, 9)
    for m, a in early.metrics.items():
        assert np.array_equal(a, full.metrics[m][:, :9]), m
    assert early.levels is not None and full.levels is not None
    assert np.array_equal(early.levels, full.levels[:, :9])


def test_observe_states_equals_observe_per_state() -> None:
    sc, states = _flagship()
    seeds = _seeds(len(states))
    ds = observe_states(sc, "us-as-followed", states, WORLDS, seeds)
    assert ds.value.dims == ("state", "world", "observation")
    assert int(ds.last_step.max()) + 1 < sc.calendar.horizon  # type: ignore[union-attr]
    for s, (_, row) in enumerate(states.iterrows()):
        one = observe(sc, "us-as-followed", WORLDS, seeds[s], values=row.to_dict())
        assert np.array_equal(one.value.values, ds.value.values[s]), s
    assert list(ds.seed.values) == seeds


def test_stacked_rng_rows_are_each_seed_alone() -> None:
    key = name_key("sim", "support")
    stacked = StackedRNG([4, 9], key, 0, 30).standard_normal(3)
    assert np.array_equal(stacked[:30], WorldRNG(4, key, 0, 30).standard_normal(3))
    assert np.array_equal(stacked[30:], WorldRNG(9, key, 0, 30).standard_normal(3))


def test_one_seed_per_state_is_required() -> None:
    sc, states = _flagship()
    with pytest.raises(InputError, match="one seed per state"):
        simulate_states(sc, "containment", states, 8, [1, 2])


def test_per_state_products_are_each_states_own_product_bit_for_bit() -> None:
    """``engine._dot`` with per-world matrices (one batched matmul) gives, state by state,
    the bits of that state's rows multiplied by its own matrix, as a run of it alone does."""
    from detente.sim.engine import Layout, _dot

    rng = np.random.default_rng(7)
    for _ in range(60):
        n_s, m = int(rng.integers(1, 40)), int(rng.integers(1, 120))
        k, n_i = int(rng.integers(1, 30)), int(rng.integers(1, 12))
        a = rng.random((n_s * m, k)) * (rng.random((n_s * m, k)) < 0.5)
        lay = Layout(tuple(range(n_s)), 0, m)
        for b in (np.repeat(rng.normal(size=(n_s, k, n_i)), m, axis=0),
                  np.repeat(rng.normal(size=(n_s, k)), m, axis=0)):
            got = _dot(a, b, lay, b.ndim - 1)
            for s, sl in enumerate(lay.slices):
                assert np.array_equal(got[sl], a[sl] @ b[s * m]), (n_s, m, k, b.ndim)
