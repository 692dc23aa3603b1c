"""``consent.vote_and_ratify_states`` (stacked states: each state's leaves found once per
state) against ``consent.vote_and_ratify`` (a leaf's row found world by world): the same
approvals and veto excess, bit for bit, for leaves of one row per state and for checks of
eight issues and more (the pass over all worlds that both share). The stacked golden
digests reach only the flagship's checks of one or two issues."""

from __future__ import annotations

import numpy as np
import pytest

from consent_fixtures import side_of_width
from detente.scenario import load_scenario
from detente.sim import engine
from detente.sim.native import NO_MASK, leaf, mask
from detente.sim.native import consent as native_consent
from detente.sim.system import compile_system

STATES, EACH = 4, 16


@pytest.mark.parametrize("width", [2, 11])
def test_state_by_state_passes_match_world_by_world(width: int) -> None:
    sy = compile_system(load_scenario("us-iran-2001"), "moderate-engagement")
    n = STATES * EACH
    ctx = engine.step_context(sy, engine.chunk_plans(sy), engine.Layout((0,), 0, n), False)
    sf, p, pl = sy.focal, sy.params, ctx.plans
    rng = np.random.default_rng(width)
    n_k, n_i = sf.effects.shape
    side = side_of_width(sf, rng, width)
    plan = engine.ratify_plan(side, pl.f_stake, p.approval_tolerance, pl.f_exempt)
    v_plan = engine.vote_plan(side, sy.span)
    low, high = (np.ascontiguousarray(x, dtype=np.float64)[None] for x in (sy.low, sy.high))
    # thresholds, trust and the trust gate's relations of one row per state
    threshold = rng.uniform(0.3, 0.7, STATES)
    trust = rng.uniform(0.0, 1.0, STATES)
    rel = np.ascontiguousarray(rng.uniform(0.0, 1.5, (STATES, n_k)))
    gate = mask(rng.random(n_k) < 0.5)
    run = native_consent.Ratification(
        engine._vote_tables(v_plan),
        native_consent.ConsentTables(*engine._consent_laid(side, plan, ctx.rows)), 1.0,
        leaf(threshold), sf.executive, gate, leaf(trust), rel, gate, low, high, 0,
        np.zeros(0, dtype=np.uint8))
    cand = mask(rng.random((n, n_k)) < 0.7)
    level = rng.uniform(sy.low, sy.high, (n, n_i))
    prospective = rng.uniform(sy.low, sy.high, (n, n_i))
    position = engine._issue_major({}, pl.f_pos0)
    clout = rng.uniform(0.0, 0.4, (n, sf.n_actors))
    belief = rng.uniform(0.0, 1.0, n)
    excess = np.where(rng.random(n) < 0.5, -np.inf, rng.normal(0, 1, n))
    args = (run, None, cand, NO_MASK, NO_MASK, NO_MASK, level, position, clout, belief,
            prospective)
    want_excess, got_excess = excess.copy(), excess.copy()
    want, _ = native_consent.vote_and_ratify(*args, want_excess)
    got, none = native_consent.vote_and_ratify_states(*args, got_excess, STATES)
    assert none is None
    np.testing.assert_array_equal(got, want)
    assert got_excess.tobytes() == want_excess.tobytes()
    # the case decides something, and differently from state to state
    assert want.any() and (cand.view(bool) & ~want).any()
    assert len({want[s * EACH:(s + 1) * EACH].tobytes() for s in range(STATES)}) > 1
