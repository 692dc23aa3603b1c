"""Edge cases of the compiled positions kernel (detente.sim.native.positions) that the golden
digests do not reach: no golden scenario has an instrument that requires another, the
flagship's demanded issues leave NumPy's pairwise sum and a sequential one equal, and no
actor holds two elected institutions. NumPy's formulation is the oracle, bit for bit."""

from __future__ import annotations

import copy
from functools import cache
from types import SimpleNamespace

import numpy as np

from detente.scenario import load_scenario
from detente.sim import compile_system
from detente.sim.engine import chunk_plans, requires_met
from detente.sim.mechanisms.iran_response import (
    IranDrivers,
    condition_fulfilment,
    iran_positions,
)
from detente.sim.native import positions as native
from detente.sim.system import System


@cache
def _system() -> System:
    return compile_system(load_scenario("us-iran-2001"), "containment")


def test_requires_met_is_every_required_instrument_in_force() -> None:
    rng = np.random.default_rng(4)
    requires = rng.random((12, 12)) < 0.2
    active = rng.random((300, 12)) < 0.6
    missing = (~active).astype(np.float64) @ requires.T.astype(np.float64)
    got = requires_met(SimpleNamespace(requires=requires), active)  # type: ignore[arg-type]
    np.testing.assert_array_equal(got, missing == 0)
    assert got.any() and not got.all()  # the case is not trivial
    none = requires_met(SimpleNamespace(requires=requires & False), active)  # type: ignore[arg-type]
    assert none.all()


def test_fulfilment_sums_the_issues_as_numpy_does() -> None:
    # NumPy sums 8 or more issues pairwise (8 accumulators, blocks of 128): another order
    # would change the last bits
    rng = np.random.default_rng(5)
    for n_i in (3, 8, 11, 29, 200):
        level = rng.uniform(-10, 110, (64, n_i))
        start = rng.uniform(0, 100, n_i)
        demand = np.where(rng.random(n_i) < 0.8, rng.uniform(0, 100, n_i), np.nan)
        gap = start - demand
        valid = np.abs(gap) > 1e-9
        share = np.clip((start - level) / np.where(valid, gap, 1.0), 0.0, 1.0) * valid
        expected = share.sum(axis=1) / np.maximum(valid.sum(), 1)
        np.testing.assert_array_equal(condition_fulfilment(level, start, demand), expected)


def test_an_actor_holding_two_lost_institutions_takes_both_shifts_in_order() -> None:
    sy = copy.copy(_system())
    pl = chunk_plans(sy)
    h = int(sy.elected[0])
    object.__setattr__(sy, "elected", np.array([h, h]))
    n, i = 4, sy.issues.index("dialogue")
    zero = np.zeros(n)
    drivers = IranDrivers(zero, zero, zero, zero, zero, zero, zero)  # nothing has changed
    alt = np.stack([pl.o_pos32[h] - 7.3, pl.o_pos32[h] + 2.9]).astype(np.float32)
    held = sy.internal.reform[h]
    control = np.array([[held, held], [not held, held], [held, not held],
                        [not held, not held]])
    reform = np.broadcast_to(sy.internal.reform, (n, sy.internal.n_actors))
    got = iran_positions(pl.o_pos32, alt, control, reform, drivers, pl.camp_span32,
                         pl.dict_span32, sy.params, sy, pl.o_used)[i][:, h]
    base = pl.o_pos32[h, i]
    step = [alt[0, i] - base, alt[1, i] - base]
    f32 = np.float32
    expected = [base, base + step[0], base + f32(0) + step[1], base + step[0] + step[1]]
    low, high = f32(sy.low[i]), f32(sy.high[i])
    np.testing.assert_array_equal(got, np.clip(np.array(expected, dtype=f32), low, high))


def test_positions_are_nan_exactly_on_the_issues_no_instrument_moves() -> None:
    # the engine skips this fill (fill_unused=False): it reads only the used issues
    sy = _system()
    pl = chunk_plans(sy)
    n = 5
    zero = np.zeros(n)
    drivers = IranDrivers(zero, zero, zero, zero, zero, zero, zero)
    control = np.broadcast_to(sy.internal.reform[sy.elected], (n, sy.elected.size))
    reform = np.broadcast_to(sy.internal.reform, (n, sy.internal.n_actors))
    got = iran_positions(pl.o_pos32, pl.alt_pos32, control, reform, drivers, pl.camp_span32,
                         pl.dict_span32, sy.params, sy, pl.o_used)
    unused = np.setdiff1d(np.arange(len(sy.issues)), pl.o_used)
    assert unused.size and np.isnan(got[unused]).all()
    assert not np.isnan(got[pl.o_used]).any()


def test_a_holder_at_minus_zero_takes_plus_zero_where_its_camp_lost_elsewhere() -> None:
    # where its camp kept the institution, a holder's position is v + 0.0 (the institutions
    # lost in some world add zero), which is +0.0 where v is -0.0: the kernel's blocks
    # compute those holders one by one only where the scenario position is -0.0
    sy = _system()
    pl = chunk_plans(sy)
    n, i = 40, sy.roles["terror"]  # a national-interest issue: v0 = -0.0 with no settlement
    h, other = int(sy.elected[0]), int(np.flatnonzero(~np.isin(np.arange(17), sy.elected))[0])
    base = pl.o_pos32.copy()
    base[[h, other], i] = np.float32(-0.0)
    zero = np.zeros(n)
    drivers = IranDrivers(zero, zero, zero, zero, zero, zero, zero)
    control = np.broadcast_to(sy.internal.reform[sy.elected], (n, sy.elected.size)).copy()
    control[n - 1, 0] = ~control[n - 1, 0]  # the last world's holder lost its institution
    reform = np.broadcast_to(sy.internal.reform, (n, sy.internal.n_actors))
    got = iran_positions(base, pl.alt_pos32, control, reform, drivers, pl.camp_span32,
                         pl.dict_span32, sy.params, sy, pl.o_used)[i]
    assert not np.signbit(got[: n - 1, h]).any() and (got[: n - 1, h] == 0).all()
    assert np.signbit(got[:, other]).all() and (got[:, other] == 0).all()
    f32 = np.float32
    lost = (f32(-0.0) + f32(-0.0)) + (pl.alt_pos32[0, i] - f32(-0.0))
    assert got[n - 1, h] == np.clip(lost, f32(sy.low[i]), f32(sy.high[i]))


def test_the_drivers_fulfilment_is_nan_where_an_undemanded_issue_is() -> None:
    # the drivers compute only the demanded issues' terms unless another issue's way is
    # NaN (its term is then NaN, not a zero): the same numbers as every term computed
    rng = np.random.default_rng(6)
    n, n_i = 50, 11
    level = rng.uniform(-10, 110, (n, n_i))
    level[::7, 5] = np.nan  # an undemanded issue
    level[3::11, 1] = np.nan  # a demanded one
    level[::5, 6] = -np.inf
    start = rng.uniform(0, 100, (1, n_i))
    start[0, 6] = -np.inf  # -inf - -inf: a NaN way
    demand = np.where(np.arange(n_i) < 3, rng.uniform(0, 100, n_i), np.nan)[None]
    ones = np.ones(1)
    drivers = native.drivers(ones * 0.7, ones * 0.5, np.zeros(n), ones * 0, level, -1, 0.0,
                             1.0, ones, ones * 0, start, demand, np.zeros(n), np.zeros(n),
                             np.zeros(n), ones * 0)
    expected = native.fulfilment(level, start, demand)
    np.testing.assert_array_equal(drivers[3], expected)
    assert np.isnan(expected[::7]).all() and np.isnan(expected[::5]).all()
    assert not np.isnan(expected).all()


def test_the_drivers_fulfilment_adds_the_demanded_terms_as_numpy_does() -> None:
    # where NumPy's pairwise sum adds the demanded terms one by one (the flagship's demands,
    # few of them, ...) and every level is finite, the drivers add just those; elsewhere
    # (two in one of its eight accumulators, in two halves of a long row, a NaN level) every
    # term: the same numbers either way
    rng = np.random.default_rng(7)
    n = 40
    for n_i in (3, 8, 11, 17, 29, 200):
        for k in range(6):
            demanded = rng.random(n_i) < (0.1, 0.3, 0.6, 0.9, 1.0, 0.0)[k]
            level = rng.uniform(-10, 110, (n, n_i))
            if k % 2:
                level[::9, rng.integers(n_i)] = np.nan
            start = rng.uniform(0, 100, (1, n_i))
            demand = np.where(demanded, rng.uniform(0, 100, n_i), np.nan)[None]
            ones = np.ones(1)
            drivers = native.drivers(ones * 0.7, ones * 0.5, np.zeros(n), ones * 0, level, -1,
                                     0.0, 1.0, ones, ones * 0, start, demand, np.zeros(n),
                                     np.zeros(n), np.zeros(n), ones * 0)
            np.testing.assert_array_equal(drivers[3], native.fulfilment(level, start, demand))
