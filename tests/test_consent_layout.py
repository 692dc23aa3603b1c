"""The consent checks' layout (``engine.consent_layout``) is shared by sampled states of one
structure, and their plans (``engine.ratify_plan``) still carry each state's own numbers:
a state's tolerances, third-party positions and gesture weights, never another's."""

from __future__ import annotations

import dataclasses

import numpy as np

from detente.experiments.sampling import sample_states
from detente.scenario import load_scenario
from detente.sim import engine
from detente.sim.system import Side, compile_system


def _sides(n: int) -> list[Side]:
    sc = load_scenario("us-iran-2001")
    states = sample_states(sc, n, "lhs", 11)
    return [compile_system(sc, "moderate-engagement", row.to_dict()).focal
            for _, row in states.iterrows()]


def _plan(side: Side) -> engine.RatifyPlan:
    stake = np.ones((side.n_actors, side.effects.shape[1]), dtype=bool)
    return engine._ratify_plan(side, stake, 0.07, np.zeros(side.n_actors, dtype=bool))


def test_states_of_one_structure_share_the_layout_but_not_the_numbers() -> None:
    a, b = _sides(2)
    stake = np.ones((a.n_actors, a.effects.shape[1]), dtype=bool)
    none = np.zeros(a.n_actors, dtype=bool)
    assert engine.consent_layout(a, stake, none) is engine.consent_layout(b, stake, none)
    pa, pb = _plan(a), _plan(b)
    assert np.array_equal(pa.issue, pb.issue) and np.array_equal(pa.holder, pb.holder)
    # the sampled tolerances differ, and each check has its own holder's in its own side
    assert not np.array_equal(pa.tol, pb.tol)
    for side, plan in ((a, pa), (b, pb)):
        for c in range(plan.veto.size):
            holder = int(plan.holder[plan.pair_start[c]])
            if holder < 0:
                assert plan.tol[c] == 0.07  # a third party: the default tolerance
            elif plan.veto[c]:
                assert plan.tol[c] in set(side.veto_tol[side.veto_holder == holder].astype(float))
            else:
                assert plan.tol[c] == float(side.approval_tol[holder])
        assert np.array_equal(plan.limit, plan.tol + 1e-9)


def test_a_third_partys_position_is_read_from_its_own_row() -> None:
    (side,) = _sides(1)
    plan = _plan(side)
    lay = engine.consent_layout(side, np.ones((side.n_actors, side.effects.shape[1]), bool),
                                np.zeros(side.n_actors, dtype=bool))
    third = lay.ext_row >= 0
    assert third.any()
    assert np.array_equal(plan.ext_x[third], side.ext_position[lay.ext_row[third],
                                                               plan.issue[third]])
    assert not plan.ext_x[~third].any()


def test_a_changed_structure_gets_a_layout_of_its_own() -> None:
    (side,) = _sides(1)
    k = int(np.flatnonzero((side.effects != 0).any(axis=1))[0])
    effects = side.effects.copy()
    effects[k] = 0.0  # instrument k now moves no issue: no approval holder checks it
    moved = dataclasses.replace(side, effects=effects)
    plan, plan_moved = _plan(side), _plan(moved)
    assert plan_moved.check_start[k + 1] - plan_moved.check_start[k] == 0
    assert plan.check_start[k + 1] - plan.check_start[k] > 0
