"""The compiled domestic politics of section 4 (:mod:`detente.sim.native.domestic`).

The golden digests check the one-pass kernel the step loop calls; these check what they do
not: the engine's five section-4 functions called one by one (the ``first``/``last`` ranges
of the kernel and its ``hit``/``share`` hand-over) and NumPy's summation order for actor
counts the flagship lacks.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from detente.scenario import load_scenario
from detente.sim import compile_system
from detente.sim.engine import (
    Layout,
    backlash,
    chunk_plans,
    clout_drift,
    domestic_politics,
    internal_elections,
    public_support,
    sanctions_bite,
    step_context,
    vetting_and_disillusion,
)
from detente.sim.native import domestic as native
from detente.sim.world_state import draw_step_numbers, initial_state

WORLDS = 256


def test_the_five_mechanisms_in_turn_give_the_one_pass_numbers() -> None:
    sy = compile_system(load_scenario("us-iran-2001"), "moderate-engagement")
    params = dataclasses.replace(
        sy.params, backlash_hazard=3.0, vetting_threat_rate=4.0, vetting_backlash_jump=0.25,
        disillusion_rate=5.0, disillusion_backlash_jump=0.15, turnout_sensitivity=0.9,
    )
    sy = dataclasses.replace(sy, params=params)
    layout = Layout((3,), 0, WORLDS)
    ctx = step_context(sy, chunk_plans(sy), layout, False)
    st = initial_state(sy, ctx.plans, layout)
    draws = draw_step_numbers(sy, layout)
    rng = np.random.default_rng(0)
    st.f_active[:] = rng.random(st.f_active.shape) < 0.4
    st.level[:] += rng.normal(0.0, 5.0, st.level.shape)
    st.support = rng.uniform(0.2, 0.8, WORLDS)
    st.o_clout *= rng.uniform(0.5, 1.5, st.o_clout.shape)  # reform shares off their start
    t = int(sy.elections.step[0])
    bite = sanctions_bite(st.allied, sy.params.allied_support_initial,
                          sy.params.allied_sanctions_share)
    one, apart = copy.deepcopy(st), copy.deepcopy(st)
    domestic_politics(ctx, one, t, bite, draws)
    public_support(ctx, apart, t, bite, draws)
    hit, share = backlash(ctx, apart, t, draws)
    vetting_and_disillusion(ctx, apart, hit, share)
    clout_drift(ctx, apart)
    internal_elections(ctx, apart, t)
    assert 0 < hit.sum() < WORLDS  # both branches of the event ran
    for f in dataclasses.fields(st):
        a, b = getattr(one, f.name), getattr(apart, f.name)
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b, equal_nan=True), f.name
    assert not np.array_equal(one.o_control, st.o_control)  # the election counted


@pytest.mark.parametrize("actors", [0, 1, 7, 8, 9, 17, 129, 300])
def test_the_reform_share_sums_actors_in_numpys_order(actors: int) -> None:
    rng = np.random.default_rng(actors)
    clout = rng.uniform(0.0, 1.0, (64, actors)) * 10.0 ** rng.integers(-3, 4, (64, actors))
    clout[0] = 0.0
    reform = rng.random((64, actors)) < 0.5
    tot = clout.sum(axis=1)
    want = (clout * reform).sum(axis=1) / np.where(tot > 0, tot, 1)
    got = native.reform_share(clout, reform.view(np.uint8))
    assert np.array_equal(got, want)


def test_the_multilateral_share_is_summed_in_the_kernel_only_up_to_two_steps() -> None:
    rng = np.random.default_rng(3)
    weight = np.array([[0.15, 0.0, 0.15, 0.2, 0.0, 0.25], [0.3, 0.1, 0.0, 0.0, 0.2, 0.25]])
    active = rng.random((64, 6)) < 0.5
    for w in range(64):  # at most two weighted steps in force in each world
        on = np.flatnonzero(active[w] & (weight[w // 32] != 0))
        active[w, on[2:]] = False
    run = native.MultilateralRun(64, weight, weight.sum(axis=1).repeat(32))
    got = native.multilateral_share(run, active.view(np.uint8))
    steps = active.astype(np.float64)
    want = np.concatenate([steps[:32] @ weight[0] / weight[0].sum(),
                           steps[32:] @ weight[1] / weight[1].sum()])
    assert got is not None and np.array_equal(got, want)
    assert (active & (weight.repeat(32, axis=0) != 0)).sum(axis=1).max() == 2
    active[40, [0, 4, 5]] = True  # three terms: their order matters, NumPy's product sums them
    assert native.multilateral_share(run, active.view(np.uint8)) is None
    infinite = native.MultilateralRun(64, np.where(weight == 0, np.inf, weight), np.ones(1))
    assert native.multilateral_share(infinite, np.zeros((64, 6), dtype=np.uint8)) is None
