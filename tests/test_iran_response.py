"""Iran's response per issue and per camp (issue 12 items 1, 3, 7; docs/model.md section 2,
"Internal side"): the pure functions of detente.sim.mechanisms.iran_response, the issues'
``demand`` field, and the mechanism at work in the flagship (a few hundred worlds)."""

from __future__ import annotations

import copy
import datetime as dt
from functools import cache
from typing import Any

import numpy as np
import pytest

import detente.sim.engine as eng
from detente.scenario import Scenario, load_scenario
from detente.scenario.schema import Demand, History, Script, ScriptStep, reference_problems
from detente.sim import compile_system, simulate
from detente.sim.engine import chunk_plans
from detente.sim.mechanisms.iran_response import (
    IranDrivers,
    Saturation,
    condition_fulfilment,
    conservative_willingness,
    dictation_pressure,
    iran_positions,
    reformist_goodwill,
    response_spans,
    saturation,
)
from detente.sim.system import System

WORLDS = 256
FORMS = (-1.0, -0.5, 0.0, 0.5, 1.0)


@cache
def _flagship() -> Scenario:
    return load_scenario("us-iran-2001")


@cache
def _system() -> System:
    return compile_system(_flagship(), "containment")


def _drivers(n: int = 3, **given: float) -> IranDrivers:
    """Drivers all at their starting value (0) except those given."""
    names = ("gesture", "belief", "sanctions", "fulfilment", "pressure", "threat", "settlement")
    return IranDrivers(**{k: np.full(n, given.get(k, 0.0)) for k in names})


def _params(**given: float) -> Any:
    """The flagship's nominal parameters with some set (no checks: values may be arrays)."""
    p = copy.copy(_system().params)
    for k, v in given.items():
        object.__setattr__(p, k, v)
    return p


def _positions(drivers: IranDrivers, p: Any | None = None) -> np.ndarray:
    sy = _system()
    pl = chunk_plans(sy)
    n = drivers.gesture.size
    control = np.broadcast_to(sy.internal.reform[sy.elected], (n, sy.elected.size))
    reform = np.broadcast_to(sy.internal.reform, (n, sy.internal.n_actors))
    return iran_positions(pl.o_pos32, pl.alt_pos32, control, reform, drivers, pl.camp_span32,
                          pl.dict_span32, p if p is not None else sy.params, sy, pl.o_used)


# ------------------------------------------------------------------ conditions and their form
def test_fulfilment_is_the_share_of_the_way_from_the_start_to_the_demand() -> None:
    start = np.array([80.0, 10.0, 50.0, 30.0])
    demand = np.array([0.0, 50.0, np.nan, 30.0])  # the last starts at its demand: left out
    level = np.array(
        [
            start,  # at the start: 0
            [0.0, 50.0, 90.0, 0.0],  # at both demands: 1 (the undemanded issue is ignored)
            [40.0, 30.0, 50.0, 30.0],  # half way on both
            [90.0, 0.0, 50.0, 30.0],  # moved away from both: 0, not negative
            [-10.0, 70.0, 50.0, 30.0],  # beyond both: 1, not more
            [0.0, 10.0, 50.0, 30.0],  # one met, the other not: the mean
        ]
    )
    np.testing.assert_allclose(condition_fulfilment(level, start, demand),
                               [0.0, 1.0, 0.5, 0.0, 1.0, 0.5])
    # per world start and demand (stacked states) give the same numbers row by row
    rows = condition_fulfilment(level, np.tile(start, (6, 1)), np.tile(demand, (6, 1)))
    np.testing.assert_array_equal(rows, condition_fulfilment(level, start, demand))
    # no demand anywhere, or none stated: 0
    assert not condition_fulfilment(level, start, np.full(4, np.nan)).any()
    assert not condition_fulfilment(level, start, np.zeros(0)).any()


@pytest.mark.parametrize("form", FORMS)
def test_every_form_maps_none_met_to_0_all_met_to_1_and_rises(form: float) -> None:
    k = np.linspace(0.0, 1.0, 101)
    for a in (1.0, 3.0, 6.0):
        s = saturation(k, form, a)
        assert s[0] == 0.0  # nothing met, no shift: positions at the start stay the scenario's
        assert s[-1] == pytest.approx(1.0)
        assert np.all(np.diff(s) > 0)


def test_forms_differ_in_what_partial_fulfilment_is_worth() -> None:
    k = np.array([0.25, 0.5, 0.75])
    np.testing.assert_allclose(saturation(k, 0.0, 3.0), k)  # linear
    assert np.all(saturation(k, 1.0, 3.0) > k)  # saturating: first steps count most
    assert np.all(saturation(k, -1.0, 3.0) < k)  # accelerating: only near-full counts
    assert np.all(saturation(k, 1.0, 6.0) > saturation(k, 1.0, 3.0))  # curvature sharpens
    assert np.all(saturation(k, -1.0, 6.0) < saturation(k, -1.0, 3.0))
    # per world form and curvature (stacked states): elementwise
    per = saturation(k, np.array([1.0, 0.0, -1.0]), np.array([3.0, 3.0, 3.0]))
    np.testing.assert_allclose(per, [saturation(k[j:j + 1], c, 3.0)[0]
                                     for j, c in enumerate((1.0, 0.0, -1.0))])


@pytest.mark.parametrize("form", (*FORMS, -0.3, 0.7, -7.0, 3.0))
def test_a_shared_form_evaluates_its_branch_only_with_the_numbers_of_both(form: float) -> None:
    # Saturation, whose constants a run computes once, against the formula of both branches
    # (np.where, as for one form per world): the same numbers, bit for bit
    k = np.random.default_rng(7).uniform(-0.2, 1.2, 300)
    for curvature in (1e-9, 0.5, 3.0, 80.0):
        a, c = np.clip(curvature, 1e-6, 50.0), np.clip(form, -1.0, 1.0)
        both = np.where(c >= 0, np.expm1(-a * k) / np.expm1(-a), np.expm1(a * k) / np.expm1(a))
        want = (1.0 - np.abs(c)) * k + np.abs(c) * both
        assert np.array_equal(Saturation.of(form, curvature)(k), want)
        assert np.array_equal(saturation(k, form, curvature), want)


# ------------------------------------------------------------------ the camps' terms
def test_pocketing_lowers_conservative_willingness_under_pressure() -> None:
    p = _params(pocketing_gain=0.5)
    free = conservative_willingness(_drivers(gesture=0.6, pressure=0.0), p)
    pressed = conservative_willingness(_drivers(gesture=0.6, pressure=1.0), p)
    np.testing.assert_allclose(pressed, free - 0.5 * 0.6 * 1.0)
    # a hostile U.S. (negative gesture) makes no concession to pocket
    hostile = _drivers(gesture=-0.1, pressure=1.0)
    np.testing.assert_array_equal(conservative_willingness(hostile, p), 0.0)
    # the reformists do not pocket: their goodwill ignores pressure
    np.testing.assert_array_equal(reformist_goodwill(_drivers(gesture=0.6, pressure=1.0), p),
                                  reformist_goodwill(_drivers(gesture=0.6), p))
    assert dictation_pressure(np.array([0.7]), np.array([0.5]), np.array([0.2]))[0] == 1.0


@pytest.mark.parametrize("gain", [-0.3, 0.0, 0.3])
def test_the_threat_moves_conservatives_with_the_sign_of_its_gain(gain: float) -> None:
    w = conservative_willingness(_drivers(threat=0.5), _params(threat_gain=gain))
    assert np.all(np.sign(w) == np.sign(gain))
    # the reformist camp's goodwill does not read the threat
    assert not reformist_goodwill(_drivers(threat=0.5), _params(threat_gain=gain)).any()


def test_conservatives_answer_conditions_reformists_answer_gestures() -> None:
    p = _params()
    met = _drivers(fulfilment=1.0)
    gestured = _drivers(gesture=1.0)
    assert np.all(conservative_willingness(met, p) == p.conditions_gain)
    assert not reformist_goodwill(met, p).any()
    assert np.all(reformist_goodwill(gestured, p) == p.goodwill_gain)
    assert not conservative_willingness(gestured, p).any()  # no pressure: nothing pocketed


# ------------------------------------------------------------------ positions per issue
def test_positions_equal_the_scenarios_when_nothing_has_changed() -> None:
    sy, pl = _system(), chunk_plans(_system())
    pos = _positions(_drivers())
    for i in pl.o_used:
        stake = ~np.isnan(sy.internal.position[:, i])
        np.testing.assert_array_equal(
            pos[i][:, stake], np.broadcast_to(sy.internal.position[stake, i], (3, stake.sum()))
        )


def test_response_issues_exclude_terror_and_wmd() -> None:
    sy = _system()
    camp, dictation = response_spans(sy.internal.direction, sy.span, sy.roles)
    issues = np.array(sy.issues)
    assert set(issues[camp != 0]) == {"dialogue", "people-contact", "narcotics-refugees",
                                      "iran-integration"}
    assert set(issues[dictation != 0]) == {"dialogue"}


def test_terror_support_ignores_gestures_without_its_gain_and_follows_a_settlement() -> None:
    sy = _system()
    i = sy.roles["terror"]
    base = _positions(_drivers())[i]
    gestured = _drivers(gesture=1.0)
    np.testing.assert_array_equal(_positions(gestured, _params(terror_goodwill_gain=0.0))[i],
                                  base)
    moved = _positions(gestured, _params(terror_goodwill_gain=0.1))[i]
    np.testing.assert_allclose(moved, np.clip(base - 10.0, 0, 100), atol=1e-4)
    settled = _positions(_drivers(settlement=1.0), _params(settlement_gain=0.3))[i]
    np.testing.assert_allclose(settled, np.clip(base - 30.0, 0, 100), atol=1e-4)


def test_wmd_effort_rises_with_the_threat() -> None:
    sy = _system()
    i = sy.roles["wmd"]
    base = _positions(_drivers())[i]
    threatened = _positions(_drivers(threat=0.5), _params(wmd_threat_gain=0.4))[i]
    np.testing.assert_allclose(threatened, np.clip(base + 20.0, 0, 100), atol=1e-4)
    safer = _positions(_drivers(threat=-0.5), _params(wmd_threat_gain=0.4))[i]
    np.testing.assert_allclose(safer, np.clip(base - 20.0, 0, 100), atol=1e-4)


# ------------------------------------------------------------------ the demand field
def test_flagship_states_irans_three_conditions() -> None:
    sy = _system()
    demanded = {sy.issues[j]: sy.demand[j] for j in np.flatnonzero(~np.isnan(sy.demand))}
    assert demanded == {"us-sanctions": 0.0, "ilsa": 0.0, "caspian-transit": 50.0,
                        "legal-claims": 100.0}


def _with_demand(demand: Demand, issue: str = "caspian-transit") -> Scenario:
    sc = _flagship()
    issues = [i.model_copy(update={"demand": demand}) if i.id == issue else i
              for i in sc.issues]
    return sc.model_copy(update={"issues": issues})


def test_demand_problems_are_one_line_each() -> None:
    bad = _with_demand(Demand(country="irann", level=120.0))
    problems = [(loc, msg) for loc, msg in reference_problems(bad) if "demand" in loc]
    j = [i.id for i in bad.issues].index("caspian-transit")
    assert problems == [
        (("issues", j, "demand", "country"),
         "unknown country 'irann' (did you mean \"iran\"?); expected one of the country ids"),
        (("issues", j, "demand", "level"),
         "demanded level 120..120 lies outside issue 'caspian-transit''s bounds [0, 100]"),
        (("issues", j, "demand"), "a demand needs a 'source' (or a 'judgment' with its reason)"),
    ]


def test_a_demand_of_the_focal_side_does_not_drive_irans_response() -> None:
    sc = _with_demand(Demand(country="us", level=0.0, judgment="test"))
    sy = compile_system(sc, "containment")
    assert np.isnan(sy.demand[sy.issues.index("caspian-transit")])


# ------------------------------------------------------------------ in the flagship's engine
LEADER, GUARDS, PRESIDENT = "supreme-leader", "revolutionary-guards", "president"
HOSTILE = ["us-tighten-sanctions", "us-reimpose-exceptions"]
# ILSA renewed as in 2001 (else it lapses at its sunset, section 4c, and meets one of Iran's
# conditions): small gestures only
SMALL = ["us-renew-ilsa", "us-narcotics-undcp", "us-ngo-refugee-aid", "us-end-fingerprinting",
         "us-drop-wb-opposition", "us-allow-wto-talks", "us-dialogue-offer"]
CONDITIONS = ["us-lift-trade-ban", "us-oppose-ilsa-renewal", "us-accept-caspian-transit",
              "us-settle-claims", "us-oil-swaps"]
DISMANTLING = ["us-lift-trade-ban", "us-contracts-pending", "us-oil-swaps",
               "us-drop-wb-opposition", "us-allow-wto-talks", "us-ofac-ngo-licence",
               "us-dialogue-offer"]
PARTIAL = ["us-oil-swaps", "us-contracts-pending"]


def _forced(instruments: list[str]) -> Scenario:
    """The flagship with one history script: these U.S. steps in force from the start, every
    world, to the horizon (no ratification or delay), and no dated events."""
    steps = [ScriptStep(date=dt.date(2001, 7, 1), instrument=k, action="on", judgment="test")
             for k in instruments]
    script = Script(id="steps", country="us", then="containment", until=dt.date(2009, 12, 31),
                    steps=steps, judgment="test")
    return _flagship().model_copy(update={"history": History(scripts=[script])})


def _run(monkeypatch: pytest.MonkeyPatch, instruments: list[str],
         values: dict[str, float] | None = None) -> tuple[dict[str, float], float]:
    """Mean effective dialogue positions at the last step (by actor) and the mean final
    dialogue level (a ranked metric) under the forced steps, nominal values unless given."""
    sc = _forced(instruments)
    sy = compile_system(sc, "steps")
    i = sy.issues.index("dialogue")
    seen: list[np.ndarray] = []
    real = eng.iran_positions

    def spy(*args: Any, **kwargs: Any) -> np.ndarray:
        out = real(*args, **kwargs)
        seen.append(out[i].mean(axis=0))
        return out

    monkeypatch.setattr(eng, "iran_positions", spy)
    ds = simulate(sc, "steps", WORLDS, seed=3, values=values)
    last = dict(zip(sy.internal.actors, seen[-1].tolist(), strict=True))
    assert seen[0][sy.internal.actors.index(LEADER)] == sy.internal.position[
        sy.internal.actors.index(LEADER), i]  # the first step: the scenario's own position
    return last, float(ds["dialogue"].isel(step=-1).mean())


def test_leader_answers_irans_conditions_not_small_gestures(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    start_leader, start_president = 5.0, 70.0  # the flagship's dialogue positions (modes)
    small, _ = _run(monkeypatch, SMALL)
    met, _ = _run(monkeypatch, CONDITIONS)
    # small gestures move the Leader only through trust (belief_gain: consistent steps raise
    # Iran's belief that the U.S. reciprocates) and sanctions' dictation, a few points at most
    assert small[LEADER] <= start_leader + 5
    assert small[PRESIDENT] >= start_president + 5  # the reformists take them as goodwill
    assert met[LEADER] >= small[LEADER] + 15  # the conditions met move him much further
    assert met[LEADER] >= start_leader + 20  # the conditions met: he comes a long way


def test_concessions_under_pressure_are_pocketed(monkeypatch: pytest.MonkeyPatch) -> None:
    # U.S. hostile steps in force alongside dismantling steps: the same gestures raise the
    # conservatives' willingness less, and the dialogue reached falls, when hard-liners pocket
    # them (a path against engagement to a ranked metric)
    free, dialogue_free = _run(monkeypatch, HOSTILE + DISMANTLING,
                               {"parameters.pocketing_gain": 0.0})
    pocketed, dialogue_pocketed = _run(monkeypatch, HOSTILE + DISMANTLING,
                                       {"parameters.pocketing_gain": 0.6})
    for actor in (LEADER, GUARDS):
        assert pocketed[actor] <= free[actor] - 4
    assert dialogue_pocketed <= dialogue_free - 5


def test_the_form_decides_what_partial_steps_are_worth(monkeypatch: pytest.MonkeyPatch) -> None:
    # oil swaps and contracts pending the lifting of sanctions meet a fifth of the conditions:
    # worth much under the saturating form, little under the accelerating one (item 7)
    accelerating, dialogue_acc = _run(monkeypatch, PARTIAL,
                                      {"parameters.condition_saturation": -1.0})
    saturating, dialogue_sat = _run(monkeypatch, PARTIAL,
                                    {"parameters.condition_saturation": 1.0})
    assert saturating[LEADER] >= accelerating[LEADER] + 4
    assert dialogue_sat >= dialogue_acc + 2
