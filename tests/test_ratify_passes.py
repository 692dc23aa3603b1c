"""One kernel call per side's ratification (``consent.vote_and_ratify``, docs/model.md 2)
against the vote and the consent checks called one after the other (``engine.voted``, then
``engine.ratify``), on random states of the flagship: every pass (the focal side's given
candidates, Iran's new steps with and without requirements, its reversals) must give the
same approvals and veto excess, bit for bit. The golden digests never reach a requirement
(no flagship step requires another)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest

from consent_fixtures import side_of_width
from detente.scenario import load_scenario
from detente.sim import engine
from detente.sim.native import NO_MASK, leaf, mask
from detente.sim.native import consent as native_consent
from detente.sim.system import System, compile_system

WORLDS = 64


@cache
def _run() -> tuple[System, Any, Any]:
    sy = compile_system(load_scenario("us-iran-2001"), "moderate-engagement")
    ctx = engine.step_context(sy, engine.chunk_plans(sy), engine.Layout((0,), 0, WORLDS), False)
    return sy, ctx, engine._ratify_constants(ctx)


def _state(rng: np.random.Generator, sy: System, n_k: int, n_a: int) -> dict[str, Any]:
    low, high = sy.low, sy.high
    return {
        "level": rng.uniform(low, high, (WORLDS, low.size)),
        "prospective": rng.uniform(low, high, (WORLDS, low.size)),
        "active": rng.random((WORLDS, n_k)) < 0.4,
        "pending": rng.random((WORLDS, n_k)) < 0.2,
        "clout": rng.uniform(0.0, 2.0, (WORLDS, n_a)),
        "belief": rng.uniform(0.0, 1.0, WORLDS),
        "excess": np.where(rng.random(WORLDS) < 0.5, -np.inf, rng.normal(0, 1, WORLDS)),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_internal_passes_match_vote_then_consent(seed: int) -> None:
    sy, ctx, k = _run()
    so, p, pl = sy.internal, sy.params, ctx.plans
    rng = np.random.default_rng(seed)
    s = _state(rng, sy, so.n_instruments, so.n_actors)
    pos = rng.uniform(sy.low[:, None, None], sy.high[:, None, None],
                      (sy.low.size, WORLDS, so.n_actors)).astype(np.float32)
    req = rng.random(s["active"].shape) < 0.7
    for req_ok in (None, req):
        cand = ~s["active"] & ~s["pending"] & (True if req_ok is None else req_ok)
        cand = engine.voted(so, pl.vote_o, cand, s["level"], pos, s["clout"], sy.span, 1.0,
                            p.majority_threshold,
                            trust=(pl.o_gate, s["belief"], p.reciprocity_threshold_iran,
                                   ctx.rows(pl.rel_o, 1)))
        app, ex = engine.ratify(so, cand, s["prospective"], pos, pl.o_stake, s["belief"],
                                p.reciprocity_threshold_iran, pl.o_gate, 1.0, sy.low, sy.high,
                                p.approval_tolerance, so.subordinate, pl.ratify_o)
        rev = engine.voted(so, pl.vote_o, s["active"] & so.reversible[None, :], s["level"], pos,
                           s["clout"], sy.span, -1.0, p.majority_threshold + p.revocation_margin)
        drop, ex_r = engine.ratify(so, rev, s["prospective"], pos, pl.o_stake, s["belief"], 0.0,
                                   np.zeros(so.n_instruments, dtype=bool), -1.0, sy.low, sy.high,
                                   p.approval_tolerance, so.subordinate, pl.ratify_o)
        excess = s["excess"].copy()
        got, got_drop = native_consent.vote_and_ratify(
            k.internal, k.reversal, NO_MASK, mask(s["active"]), mask(s["pending"]),
            NO_MASK if req_ok is None else mask(req_ok), s["level"], pos, s["clout"],
            s["belief"], s["prospective"], excess)
        np.testing.assert_array_equal(got, app)
        np.testing.assert_array_equal(got_drop, drop)
        want = np.maximum(np.maximum(s["excess"], ex), ex_r)
        assert excess.tobytes() == want.tobytes()
        assert app.any() and (cand & ~app).any()  # the case decides something


def test_focal_pass_matches_vote_then_consent() -> None:
    sy, ctx, k = _run()
    sf, p, pl = sy.focal, sy.params, ctx.plans
    rng = np.random.default_rng(3)
    s = _state(rng, sy, sf.n_instruments, sf.n_actors)
    cand = rng.random(s["active"].shape) < 0.5
    for f_pos in (pl.f_pos0, np.ascontiguousarray(np.broadcast_to(
            pl.f_pos0.T[:, None, :], (sy.low.size, WORLDS, sf.n_actors)))):
        voted = engine.voted(sf, pl.vote_f, cand, s["level"], f_pos, s["clout"], sy.span, 1.0,
                             p.majority_threshold - p.agenda_power, sf.executive,
                             trust=(pl.f_gate, s["belief"], p.reciprocity_threshold_us,
                                    ctx.rows(pl.rel_f, 1)))
        app, ex = engine.ratify(sf, voted, s["prospective"], f_pos, pl.f_stake, s["belief"],
                                p.reciprocity_threshold_us, pl.f_gate, 1.0, sy.low, sy.high,
                                p.approval_tolerance, pl.f_exempt, pl.ratify_f)
        excess = s["excess"].copy()
        got, none = native_consent.vote_and_ratify(
            k.focal, None, mask(cand), NO_MASK, NO_MASK, NO_MASK,
            s["level"], engine._issue_major(k.f_pos, f_pos), s["clout"], s["belief"],
            s["prospective"], excess)
        assert none is None
        np.testing.assert_array_equal(got, app)
        assert excess.tobytes() == np.maximum(s["excess"], ex).tobytes()
        assert app.any() and (cand & ~app).any()


@pytest.mark.parametrize("width", [5, 11])
def test_a_pass_with_wide_checks_matches_vote_then_consent(width: int) -> None:
    """Checks of up to five issues (the kernel's world-by-world pass, summing three or more
    terms one by one) and of up to eleven (eight and more: its vote then consent over all
    the worlds, NumPy's pairwise sums); the flagship's checks span one or two issues."""
    sy, ctx, _ = _run()
    sf, p, pl = sy.focal, sy.params, ctx.plans
    rng = np.random.default_rng(width)
    n_k = sf.effects.shape[0]
    side = side_of_width(sf, rng, width)
    plan = engine.ratify_plan(side, pl.f_stake, p.approval_tolerance, pl.f_exempt)
    assert int(np.diff(plan.pair_start).max()) == width
    v_plan = engine.vote_plan(side, sy.span)
    low, high = (np.ascontiguousarray(x, dtype=np.float64)[None] for x in (sy.low, sy.high))
    run = native_consent.Ratification(
        engine._vote_tables(v_plan),
        native_consent.ConsentTables(*engine._consent_laid(side, plan, ctx.rows)), 1.0,
        leaf(p.majority_threshold - p.agenda_power), sf.executive, mask(pl.f_gate),
        leaf(p.reciprocity_threshold_us), engine._rows(ctx.rows(pl.rel_f, 1), 1),
        mask(pl.f_gate), low, high, 0, np.zeros(0, dtype=np.uint8))
    s = _state(rng, sy, n_k, sf.n_actors)
    s["clout"] = s["clout"] * 0.2  # (a wider spread of votes either way)
    cand = rng.random(s["active"].shape) < 0.7
    voted = engine.voted(side, v_plan, cand, s["level"], pl.f_pos0, s["clout"], sy.span, 1.0,
                         p.majority_threshold - p.agenda_power, sf.executive,
                         trust=(pl.f_gate, s["belief"], p.reciprocity_threshold_us,
                                ctx.rows(pl.rel_f, 1)))
    app, ex = engine.ratify(side, voted, s["prospective"], pl.f_pos0, pl.f_stake, s["belief"],
                            p.reciprocity_threshold_us, pl.f_gate, 1.0, sy.low, sy.high,
                            p.approval_tolerance, pl.f_exempt, plan)
    excess = s["excess"].copy()
    got, _ = native_consent.vote_and_ratify(
        run, None, mask(cand), NO_MASK, NO_MASK, NO_MASK, s["level"],
        engine._issue_major({}, pl.f_pos0), s["clout"], s["belief"], s["prospective"], excess)
    np.testing.assert_array_equal(got, app)
    assert excess.tobytes() == np.maximum(s["excess"], ex).tobytes()
    assert app.any() and (voted & ~app).any()  # the checks decide something
