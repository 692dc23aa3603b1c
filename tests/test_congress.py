"""U.S. domestic politics that can reverse policy (docs/model.md 4c; issue 12 item 4).

Unit tests of the pure functions of :mod:`detente.sim.mechanisms.congress`, the scenario
checks of the fields they read, and engine-level tests on the flagship (a few hundred worlds,
stacked states sharing their random numbers, short horizons).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from detente.scenario import load_scenario
from detente.scenario.schema import Instrument, Scenario, reference_problems
from detente.sim import compile_system
from detente.sim.engine import ChunkResult
from detente.sim.mechanisms import congress as cg
from detente.sim.stacked import simulate_states
from detente.sim.system import System

WORLDS = 256
SANCTIONS_TOL = "institutions[congress-body].vetoes[1].tolerance"
CODIFY, TIGHTEN = "us-codify-embargo", "us-tighten-sanctions"
LAPSE, TRADE, RENEW = "us-ilsa-lapse", "us-ilsa-for-support", "us-renew-ilsa"


@pytest.fixture(scope="module")
def flagship() -> Scenario:
    return load_scenario("us-iran-2001")


def _run(sc: Scenario, strategy: str, states: list[dict[str, float]], horizon: int
         ) -> tuple[System, ChunkResult]:
    """The states (columns: uncertainties) stacked in one run, the same seed for each."""
    res = simulate_states(sc, strategy, pd.DataFrame(states), WORLDS, [7] * len(states),
                          record_state=True, horizon=horizon)
    return compile_system(sc, strategy), res


def _rows(res: ChunkResult, s: int) -> slice:
    return slice(s * WORLDS, (s + 1) * WORLDS)


def _force(sy: System, res: ChunkResult, k: str) -> Any:
    """``[rows, steps]``: the focal instrument ``k`` in force after each step."""
    assert res.in_force is not None
    return res.in_force[:, :, sy.focal.instruments.index(k)]


# ------------------------------------------------------------------------- pure functions
def test_initiative_needs_drift_beyond_tolerance_toward_the_floor() -> None:
    # issue 0: floor at 88, start level 85; steps: +6 (toward), -5 (away), 0 on issue 0
    eff = np.array([[6.0, 0.0], [-5.0, 0.0], [0.0, 3.0]])
    start, x0 = np.array([85.0, 50.0]), np.array([88.0, 50.0])
    stake, tol = np.array([True, True]), np.array([25.0, np.nan])
    elig = np.ones((3, 3), dtype=bool)
    judged = np.array([[85.0, 50.0], [60.0, 50.0], [60.0, 90.0]])
    x = np.tile(x0, (3, 1))
    out = cg.initiative_candidates(judged, start, x, x0, stake, tol, eff, elig)
    # at the start nothing; 28 - 3 = 25 is not beyond 25; issue 1 is not its domain (NaN)
    assert not out.any()
    judged[1, 0] = 59.0  # 29 - 3 = 26 > 25: the step toward the floor, not the one away
    out = cg.initiative_candidates(judged, start, x, x0, stake, tol, eff, elig)
    assert out[1].tolist() == [True, False, False] and not out[[0, 2]].any()
    # a floor moved toward the hawks by an election drifts from the same level
    hawk = np.array([[99.0, 50.0]] * 3)
    out = cg.initiative_candidates(np.tile([62.0, 50.0], (3, 1)), start, hawk, x0, stake, tol,
                                   eff, elig)
    assert out[:, 0].all()  # 37 - 3 = 34 > 25
    assert not cg.initiative_candidates(judged, start, x, x0, np.array([False, True]), tol,
                                        eff, elig).any()  # no stake, no initiative
    # per-world effects and tolerances give the same answer as shared ones
    per = cg.initiative_candidates(judged, np.tile(start, (3, 1)), x, np.tile(x0, (3, 1)),
                                   stake, np.tile(tol, (3, 1)), np.broadcast_to(eff, (3, 3, 2)),
                                   elig)
    np.testing.assert_array_equal(per, cg.initiative_candidates(judged, start, x, x0, stake,
                                                                tol, eff, elig))


def test_veto_binds_only_against_the_line_and_override_needs_two_thirds_that_hold() -> None:
    g = np.array([-0.3, 0.4])
    level = np.array([0.1, 0.5, 0.0])
    against = cg.against_executive(g, level, 0.1)
    assert against.tolist() == [[False, False], [True, False], [False, True]]
    passed = np.ones((4, 1), dtype=bool)
    vetoed = np.array([[False], [True], [True], [True]])
    two = np.array([[False], [False], [True], [True]])
    u = np.array([0.9, 0.9, 0.2, 0.8])
    enacted, dead = cg.veto_override(passed, vetoed, two, u, 0.5)
    assert enacted[:, 0].tolist() == [True, False, True, False]
    assert dead[:, 0].tolist() == [False, True, False, True]
    assert not cg.veto_override(passed, vetoed, two, u, 0.0)[0][1:].any()  # last word: veto
    assert cg.veto_override(passed, vetoed, two, u, 1.0)[0][2:].all()  # veto-proof majority
    per_world = cg.veto_override(passed, vetoed, two, u, np.array([0.0, 0.0, 1.0, 0.0]))[0]
    assert per_world[:, 0].tolist() == [True, False, True, False]
    assert not cg.veto_override(~passed, vetoed, two, u, 1.0)[0].any()  # no bill, no law


def test_legislative_initiative_votes_vetoes_and_overrides() -> None:
    # two bills (hostile, conciliatory) in three worlds; the floor's support is given per
    # world, so each threshold decides as the weighted vote would
    support = np.array([[0.9, 0.9], [0.6, 0.6], [0.4, 0.9]])
    seen: list[Any] = []

    def floor_vote(cand: Any, threshold: Any) -> Any:
        seen.append(threshold)
        return cand & (support >= threshold)

    bills = np.array([[True, False], [True, False], [True, True]])
    level = np.array([0.5, 0.5, 0.5])  # the executive conciliates: it vetoes the hostile bill
    enacted, killed = cg.legislative_initiative(bills, np.array([-0.3, 0.2]), level, 0.1,
                                                np.zeros(3), 1.0, 0.5, floor_vote)
    assert seen == [0.5, cg.SUPERMAJORITY]
    assert enacted.tolist() == [[True, False], [False, False], [False, True]]
    assert killed.tolist() == [[False, False], [True, False], [False, False]]
    none = np.zeros((3, 2), dtype=bool)
    out = cg.legislative_initiative(none, np.array([-0.3, 0.2]), level, 0.1, np.zeros(3), 1.0,
                                    0.5, floor_vote)
    assert not out[0].any() and not out[1].any() and len(seen) == 2  # no bill, no vote


def test_statute_lock_catches_steps_undoing_it() -> None:
    eff = np.array([[3.0, 0.0], [-40.0, 5.0], [6.0, -5.0], [0.0, 2.0]])  # codify, lift, ...
    locks = np.array([True, False, False, False])
    active = np.array([[True, False, False, False], [False, False, False, False]])
    out = cg.statute_lock(active, locks, eff)
    assert out.tolist() == [[False, True, False, False], [False] * 4]
    np.testing.assert_array_equal(out, cg.statute_lock(active, locks, np.stack([eff, eff])))


def test_engine_statute_lock_and_clout_kernels_match_the_mechanism_and_numpy() -> None:
    # the engine's statute lock on the candidates only (None: no candidate locked), per
    # state effects rows; its balanced clout, NumPy's maximum of the product and 0
    from detente.sim.native import congress as native

    rng = np.random.default_rng(7)
    n, n_k, n_i = 12, 9, 4
    locks = np.zeros(n_k, dtype=bool)
    locks[[1, 5]] = True
    zero_k = np.zeros((1, n_k))
    for _ in range(20):
        eff = rng.choice([-2.0, -0.5, 0.0, 0.5, 2.0], (3, n_k, n_i))
        active = rng.random((n, n_k)) < 0.3
        cand = rng.random((n, n_k)) < 0.4
        run = native.CongressRun(
            np.zeros(1), zero_k, zero_k, *[np.zeros(n_k, np.uint8)] * 3,
            np.full(n_k, -1, dtype=np.int64), np.zeros((n_k, n_k), np.uint8),
            *[np.zeros(n_k, np.uint8)] * 2, zero_k, np.zeros(1), np.zeros(1), zero_k,
            np.zeros(n_i), np.ones(n_i), np.zeros((1, n_i)), np.zeros((1, n_i)),
            np.zeros(n_i, np.uint8), np.zeros((1, n_i)), eff, np.zeros(n_k, np.uint8),
            locks.view(np.uint8))
        want = cg.statute_lock(active, locks, np.repeat(eff, n // 3, axis=0)) & cand
        got = native.statute_candidates(run, active.view(np.uint8), cand.view(np.uint8))
        assert (got is None) == (not want.any())
        np.testing.assert_array_equal(want, want if got is None else got)
    assert got is not None  # some case had a lock
    clout = rng.choice([-1.0, -0.0, 0.0, 0.5, np.nan, np.inf], (n, 5))
    factor = rng.choice([-2.0, -0.0, 0.0, 1.5, np.nan], (n, 5))
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, as in the engine
        want = np.maximum(clout * factor, 0)
    for f in (factor, np.asfortranarray(factor)):  # C-contiguous, and any strides
        got = native.balanced_clout(clout, f)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
        np.testing.assert_array_equal(got, want)


def test_sunset_lapses_unless_renewed_and_a_later_renewal_reenacts() -> None:
    sunset = np.array([-1, 0, -1])  # instrument 1 is the lapse, due at step 0
    renewed_by = np.zeros((3, 3), dtype=bool)
    renewed_by[1, [0, 2]] = True  # 0 and 2 renew the law
    none = np.zeros((3, 3), dtype=bool)
    committed = np.array([[False] * 3, [True, False, False], [False, False, True]])
    lapse, back = cg.sunset_expiry(0, sunset, renewed_by, committed, none, none)
    assert lapse.tolist() == [[False, True, False], [False] * 3, [False] * 3] and not back.any()
    assert not cg.sunset_expiry(1, sunset, renewed_by, none, none, none)[0].any()
    active = np.array([[False, True, False]] * 3)
    lapse, back = cg.sunset_expiry(3, sunset, renewed_by, committed, committed, active)
    assert not lapse.any() and back[:, 1].tolist() == [False, True, True]
    spent = cg.spent_renewals(committed, renewed_by)
    assert spent.tolist() == [[False] * 3, [True, False, True], [True, False, True]]


def test_renewal_stance_takes_the_least_hostile_renewal_on_the_menu() -> None:
    sunset = np.array([-1, 0, -1])
    renewed_by = np.zeros((3, 3), dtype=bool)
    renewed_by[1, [0, 2]] = True
    gesture = np.array([-0.25, 0.3, -0.1])
    free = np.zeros((2, 3), dtype=bool)
    both = np.ones(3, dtype=bool)
    out = cg.renewal_stance(0, sunset, renewed_by, free, both, gesture)
    assert out.tolist() == [[False, False, True]] * 2  # the trade (-0.1) over as-is (-0.25)
    only_plain = np.array([True, True, False])
    assert cg.renewal_stance(0, sunset, renewed_by, free, only_plain, gesture)[:, 0].all()
    assert not cg.renewal_stance(0, sunset, renewed_by, free, np.zeros(3, bool), gesture).any()
    assert not cg.renewal_stance(1, sunset, renewed_by, free, both, gesture).any()
    renewed = np.array([[True, False, False], [False] * 3])
    assert cg.renewal_stance(0, sunset, renewed_by, renewed, both, gesture).tolist() == [
        [True, False, False], [False, False, True]]  # a committed renewal stays wanted
    assert cg.renewal_stance(5, sunset, renewed_by, renewed, both, gesture).tolist() == [
        [True, False, False], [False] * 3]


def test_retreat_withdraws_one_costliest_step_at_the_sampled_rate() -> None:
    withdrawable = np.array([[True, True, True], [True, False, True], [True, True, True]])
    cost = np.array([0.8, 2.5, 0.8])
    since = np.array([[1, 4, 3], [1, 0, 3], [5, 4, 3]])
    over = np.array([True, True, False])
    u = np.zeros(3)
    out = cg.cost_retreat(withdrawable, cost, since, over, u, 1e9, 0.25)
    # the costliest; among equals the most recent; nothing under the tolerance
    assert out.tolist() == [[False, True, False], [False, False, True], [False] * 3]
    assert not cg.cost_retreat(withdrawable, cost, since, over, u, 0.0, 0.25).any()
    half = 1 - np.exp(-0.25)  # rate 1 per year, a quarter: this probability per step
    fired = cg.cost_retreat(withdrawable, cost, since, over, np.array([half - 1e-9, half, 0]),
                            1.0, 0.25)
    assert fired.sum(axis=1).tolist() == [1, 0, 0]
    np.testing.assert_array_equal(
        out, cg.cost_retreat(withdrawable, np.tile(cost, (3, 1)), since, over, u, 1e9, 0.25))


def test_trade_discount_multiplies_later_conciliatory_costs() -> None:
    conc = np.array([True, True, False, False])
    d = np.array([0.0, 0.0, 0.3, 0.5])  # 2: a trade, 3: another
    ones = cg.trade_discount(np.zeros((1, 4), dtype=bool), d, conc)
    np.testing.assert_array_equal(ones, 1.0)
    one = cg.trade_discount(np.array([[False, False, True, False]]), d, conc)
    np.testing.assert_allclose(one, [[0.7, 0.7, 1.0, 1.0]])
    two = cg.trade_discount(np.array([[False, False, True, True]]), d, conc)
    np.testing.assert_allclose(two, [[0.35, 0.35, 1.0, 1.0]])
    # no support delivered (d = 0): the trade changes no cost, only its own gesture remains
    zero = cg.trade_discount(np.ones((1, 4), dtype=bool), np.zeros(4), conc)
    np.testing.assert_array_equal(zero, 1.0)


@pytest.mark.parametrize("n_k", [5, 20, 300])
def test_trade_discount_adds_many_discounts_in_numpys_order(n_k: int) -> None:
    # the scenarios hold one trade, so the golden digests never add two logs: here many,
    # shared and per world, must give NumPy's sum (pairwise from 8 terms) bit for bit
    rng = np.random.default_rng(n_k)
    in_force = rng.random((64, n_k)) < 0.7
    conc = rng.random(n_k) < 0.5
    for d in (rng.random(n_k) * 0.9, rng.random((64, n_k)) * 0.9):
        numpy_sum = (in_force * np.log1p(-np.atleast_2d(d))).sum(axis=1)
        want = np.where(conc[None, :], np.exp(numpy_sum)[:, None], 1.0)
        assert np.array_equal(cg.trade_discount(in_force, d, conc), want)


def test_trade_factor_leaves_out_started_steps_and_keeps_numpys_nan() -> None:
    # the kernel passes over worlds with fewer than two discounts in force; that shortcut
    # must not hide a discount of 1 (log(0) = -inf: NumPy's 0 * -inf is NaN where it is not
    # in force)
    rng = np.random.default_rng(3)
    in_force = rng.random((40, 6)) < 0.5
    started = rng.random((40, 6)) < 0.3
    for d in (np.array([0.0, 0.3, 0.0, 0.5, 0.0, 0.2]), np.array([0.0, 1.0, 0.0, 0.5, 0, 0])):
        with np.errstate(divide="ignore", invalid="ignore"):
            want = np.exp(((in_force & ~started) * np.log1p(-d)).sum(axis=1))
            got = cg.trade_factor(in_force, d, started=started)
        assert np.array_equal(got, want, equal_nan=True)
    assert np.isnan(got).any()


# ------------------------------------------------------------------------- scenario checks
def _messages(sc: Scenario) -> list[str]:
    return [m for _, m in reference_problems(sc)]


def test_scenario_checks_of_the_politics_fields(flagship: Scenario) -> None:
    assert not reference_problems(flagship)
    mini = load_scenario("tests/data/mini-system.yaml")
    ins = [i.model_copy(update={"initiative": ["legislature"]}) if i.id == "w-tighten" else i
           for i in mini.instruments]
    assert not _messages(mini.model_copy(update={"instruments": ins}))
    roleless = [i.model_copy(update={"role": None}) if i.id == "legislature" else i
                for i in mini.institutions]
    assert any("has no institution with 'role: legislature'" in m for m in _messages(
        mini.model_copy(update={"instruments": ins, "institutions": roleless})))
    bad = [i.model_copy(update={"cost_discount": 1.0}) if i.id == TRADE else i
           for i in flagship.instruments]
    assert any("cost discount must lie in [0, 1)" in m
               for m in _messages(flagship.model_copy(update={"instruments": bad})))
    lapse = flagship.instrument(LAPSE)
    assert lapse.sunset is not None
    wrong = lapse.model_copy(update={"sunset": lapse.sunset.model_copy(
        update={"renewed_by": ["ir-missile-test", "us-renw-ilsa"]})})
    msgs = _messages(flagship.model_copy(update={"instruments": [
        wrong if i.id == LAPSE else i for i in flagship.instruments]}))
    assert any("cannot renew 'us-ilsa-lapse'" in m for m in msgs)
    assert any("unknown instrument 'us-renw-ilsa'" in m and "us-renew-ilsa" in m for m in msgs)
    menu = [s.model_copy(update={"instruments": [*s.instruments, LAPSE]})
            if s.id == "containment" else s for s in flagship.strategies]
    assert any("is a law's lapse" in m
               for m in _messages(flagship.model_copy(update={"strategies": menu})))


def test_instruments_at_the_defaults_dump_as_before() -> None:
    plain = Instrument(id="x", name="X", owner="us", judgment="test")
    assert not {"initiative", "locks", "cost_discount", "sunset"} & plain.model_dump().keys()
    lock = Instrument(id="x", name="X", owner="us", locks=True, judgment="test")
    assert lock.model_dump()["locks"] is True


def test_mechanisms_are_inert_without_a_legislative_role() -> None:
    # the mini scenario declares no step its legislature may propose or lock, no sunset
    sy = compile_system(load_scenario("tests/data/mini-system.yaml"), "bold")
    assert sy.legislative is None and not (sy.focal.sunset_step >= 0).any()


# ------------------------------------------------------------------------- flagship engine
def test_ilsa_lapses_when_nobody_renews_it_and_stays_when_renewed(flagship: Scenario) -> None:
    # Dismantling renews nothing; Congress passes the renewal, the executive vetoes it and
    # the override holds with the sampled probability: a lapse where the veto stands.
    sy, res = _run(flagship, "dismantle-sanctions",
                   [{"parameters.us_veto_override": 0.1}, {"parameters.us_veto_override": 0.9}],
                   horizon=2)
    il = sy.issues.index("ilsa")
    assert res.levels is not None
    lapse, renew = _force(sy, res, LAPSE)[:, 0], _force(sy, res, RENEW)[:, 0]
    assert np.all(lapse ^ renew)  # one or the other, from the first step
    np.testing.assert_array_equal(res.levels[lapse, 0, il], 0.0)
    assert np.all(res.levels[renew, 0, il] >= 60)
    weak, strong = lapse[_rows(res, 0)].mean(), lapse[_rows(res, 1)].mean()
    assert weak > 0.75 and strong < 0.25
    # the lapse is a U.S. concession Iran sees: a path to the ranked 'unreciprocated' metric
    unrec = res.metrics["unreciprocated"][:, 0]
    assert unrec[lapse].mean() > unrec[renew].mean() + 0.1
    # containment renews ILSA as is (its menu has the plain renewal), moderate engagement
    # through the trade (its menu has it): neither lets it lapse
    sy_c, res_c = _run(flagship, "containment", [{}], horizon=2)
    assert _force(sy_c, res_c, RENEW).all() and not _force(sy_c, res_c, LAPSE).any()
    sy_m, res_m = _run(flagship, "moderate-engagement", [{}], horizon=2)
    assert _force(sy_m, res_m, TRADE).all() and not _force(sy_m, res_m, LAPSE).any()


def test_history_script_keeps_its_record(flagship: Scenario) -> None:
    # the replay forces the recorded renewal; no stance, no lapse, no bill of Congress's own
    sy, res = _run(flagship, "us-as-followed", [{SANCTIONS_TOL: 10.0}], horizon=10)
    assert _force(sy, res, RENEW).all()
    for k in (LAPSE, TRADE, CODIFY, TIGHTEN):
        assert not _force(sy, res, k).any(), k


def test_congress_enacts_sanctions_when_hawks_dominate_after_a_bad_term(
    flagship: Scenario,
) -> None:
    # Moderate engagement's modest relief stays within Congress's tolerance (10) unless the
    # 2002 midterm hands the floor to the hawks: with no swing Congress never acts on its
    # own; with a swing it codifies the embargo and tightens sanctions over the veto.
    calm, swung = {SANCTIONS_TOL: 10.0, "parameters.us_election_swing": 0.0}, {
        SANCTIONS_TOL: 10.0, "parameters.us_election_swing": 0.5}
    sy, res = _run(flagship, "moderate-engagement", [calm, swung], horizon=34)
    codify, tighten = _force(sy, res, CODIFY), _force(sy, res, TIGHTEN)
    a, b = _rows(res, 0), _rows(res, 1)
    assert not codify[a].any() and not tighten[a].any()
    acted = codify[b].any(axis=1)
    assert acted.mean() > 0.3
    # one bill day: both pass or neither (the codification may still be pending, delay up to
    # 2 steps, when the tightening starts in the last quarters)
    assert np.all(tighten[b].any(axis=1)[acted])
    assert np.all(acted[tighten[b][:, :-2].any(axis=1)])
    midterm = 5  # November 2002: the new floor legislates from the next step
    assert not codify[b, : midterm + 1].any()
    balance = res.metrics["focal_legislature_balance"][b, midterm]
    assert np.all(balance[acted] < 0)  # only a hawkish floor legislates
    # Congress's acts are hostile U.S. moves Iran sees (same worlds, same random numbers)
    us = res.metrics["focal_level"]
    assert us[b][acted, -1].mean() < us[a][acted, -1].mean() - 0.02
    # the codified embargo: fewer relief steps start afterwards than if it locked nothing
    unlocked = flagship.model_copy(update={"instruments": [
        i.model_copy(update={"locks": False}) if i.id == CODIFY else i
        for i in flagship.instruments]})
    _, free = _run(unlocked, "moderate-engagement", [swung], horizon=34)
    s = sy.issues.index("us-sanctions")
    relief = [k for k, e in enumerate(sy.focal.effects[:, s]) if e < 0]

    def relief_after_codify(r: ChunkResult, rows: slice) -> int:
        assert r.in_force is not None
        f = r.in_force[rows][:, :, relief]
        started = f[:, 1:] & ~f[:, :-1]
        return int((started & _force(sy, r, CODIFY)[rows][:, :-1, None]).sum())

    # (re-proposed after the retreat past the cost tolerance withdrew them)
    assert relief_after_codify(res, b) < 0.7 * relief_after_codify(free, _rows(free, 0))


def test_retreat_withdraws_steps_past_the_cost_tolerance(flagship: Scenario) -> None:
    # Dismantling with a low cost tolerance: without retreat nothing is withdrawn before the
    # strategy's own fallback can act (8 hostile quarters); with it the executive withdraws
    # its costliest reversible concession first, one at a time.
    low = {"parameters.us_cost_tolerance": 2.0}
    sy, res = _run(flagship, "dismantle-sanctions",
                   [{**low, "parameters.us_retreat_rate": 0.0},
                    {**low, "parameters.us_retreat_rate": 4.0}], horizon=7)
    assert res.in_force is not None
    own = np.flatnonzero(sy.focal.by_executive)  # not ILSA's lapse, withdrawn on re-enactment
    f = res.in_force[:, :, own]
    out = f[:, :-1] & ~f[:, 1:]  # withdrawn at step t + 1
    none, some = out[_rows(res, 0)], out[_rows(res, 1)]
    assert not none.any()
    assert some.any(axis=(1, 2)).mean() > 0.5
    assert some.sum(axis=2).max() == 1  # one step at a time
    cost = sy.focal.cost[own]
    rev_conc = (sy.focal.reversible & (sy.focal.gesture > 0))[own]
    fr = f[_rows(res, 1)]
    for w, t, k in zip(*np.nonzero(some), strict=True):
        held = fr[w, t] & rev_conc
        assert cost[k] == cost[held].max()


def test_ilsa_trade_lowers_the_cost_of_what_follows(flagship: Scenario) -> None:
    # Moderate engagement takes the trade at ILSA's sunset; with Congress's support (a
    # discount) its later concessions cost less; without it (0) they cost the full price.
    no_retreat = {"parameters.us_retreat_rate": 0.0}
    sy, res = _run(flagship, "moderate-engagement",
                   [{**no_retreat, f"instruments[{TRADE}].cost_discount": 0.0},
                    {**no_retreat, f"instruments[{TRADE}].cost_discount": 0.6}], horizon=12)
    assert _force(sy, res, TRADE).all() and not _force(sy, res, LAPSE).any()
    cost = res.metrics["focal_domestic_cost"]
    full, cheap = cost[_rows(res, 0)], cost[_rows(res, 1)]
    np.testing.assert_array_equal(full[:, 0], cheap[:, 0])  # the trade's own step: no change
    assert np.all(cheap <= full + 1e-6)
    assert cheap[:, -1].mean() < 0.9 * full[:, -1].mean()
