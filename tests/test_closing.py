"""Backlash and the closing of the Iranian system (docs/model.md section 4, issue 12 item 2).

Unit tests of :mod:`detente.sim.mechanisms.closing` and engine-level tests on the flagship
(a few hundred worlds, common random numbers: only the changed input differs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detente.errors import InputError
from detente.experiments.sampling import sample_states
from detente.scenario import Scenario, load_scenario
from detente.scenario.schema import StrategySpec
from detente.sim import compile_system, summarize
from detente.sim.engine import chunk_plans
from detente.sim.mechanisms.closing import (
    backlash_hazard,
    disillusion_update,
    election_vote_share,
    reform_blocked,
    vetting_update,
    visible_backing,
)
from detente.sim.parameters import SimParameters
from detente.sim.stacked import structure_key

DATA = Path(__file__).parent / "data"
WORLDS = 256
#: Every new parameter at the top of its flagship range: the mechanisms at their strongest.
CLOSING = {
    "vetting_threat_rate": 4.0, "vetting_backlash_jump": 0.25, "disillusion_rate": 5.0,
    "disillusion_backlash_jump": 0.15, "turnout_sensitivity": 0.9,
}


@pytest.fixture(scope="module")
def flagship() -> Scenario:
    return load_scenario("us-iran-2001")


def _with(s: Scenario, **params: float) -> Scenario:
    return s.model_copy(update={"parameters": {**s.parameters, **params}})


def _backing(s: Scenario, instrument: str, value: float) -> Scenario:
    ins = [i.model_copy(update={"reform_backing": value}) if i.id == instrument else i
           for i in s.instruments]
    return s.model_copy(update={"instruments": ins})


# ------------------------------------------------------------------------- unit tests
def test_visible_backing_is_the_chance_some_step_in_force_backs_the_reformers() -> None:
    active = np.array([[False, False], [True, False], [False, True], [True, True]])
    v = visible_backing(active, np.array([1.0, 0.5]))
    np.testing.assert_allclose(v, [0.0, 1.0, 0.5, 1.0])
    # per world: each world its own visibilities
    per_world = np.array([[0.2, 0.5]] * 4)
    np.testing.assert_allclose(visible_backing(active, per_world), [0.0, 0.2, 0.5, 0.6])
    assert visible_backing(np.zeros((3, 0), dtype=bool), np.zeros(0)).tolist() == [0.0] * 3


def test_hazard_rises_with_backing_and_threat_and_is_the_former_rate_without_backing() -> None:
    r = np.array([0.3, 0.5, 0.7])
    lam0 = backlash_hazard(r, np.zeros(3), 0.8, 2.0, 1.5)
    assert np.all(np.diff(lam0) > 0)  # the reformist threat
    np.testing.assert_array_equal(lam0, 0.8 * np.exp(2.0 * (r - 0.5)))  # former model
    lam1 = backlash_hazard(r, np.ones(3), 0.8, 2.0, 1.5)
    assert np.all(lam1 > lam0)  # visible backing
    # the protective reading: a negative elasticity lowers the hazard
    assert np.all(backlash_hazard(r, np.ones(3), 0.8, 2.0, -0.5) < lam0)


def test_vetting_rises_with_threat_and_after_backlash_and_relaxes_to_its_base() -> None:
    kw: dict[str, Any] = {"base": 0.15, "threat_rate": 2.0, "backlash_jump": 0.2,
                          "decay": 0.2, "dt": 0.25}
    v = np.full(3, 0.15)
    share0 = np.full(3, 0.4)
    hit = np.array([False, True, False])
    out = vetting_update(v, np.array([0.4, 0.4, 0.55]), share0, hit, **kw)
    assert out[0] == pytest.approx(0.15)  # at base, no threat, no event: unchanged
    assert out[1] == pytest.approx(0.15 + 0.2 * 0.85)  # a backlash event
    assert out[2] > 0.15  # reformists above their starting share
    # relaxes toward the base, never below it, and any step length stays in [0, 1]
    high = vetting_update(np.full(3, 0.9), share0, share0, np.zeros(3, bool), **kw)
    assert np.all((high < 0.9) & (high > 0.15))
    huge = vetting_update(v, np.ones(3), share0, np.ones(3, bool), **{**kw, "dt": 100.0,
                                                                      "threat_rate": 50.0})
    assert np.all((huge >= 0) & (huge <= 1))
    # every rate 0: the state does not move (the former fixed vetting)
    zero = {**kw, "threat_rate": 0.0, "backlash_jump": 0.0, "decay": 0.0}
    np.testing.assert_array_equal(vetting_update(v, np.ones(3), share0, hit, **zero), v)


def test_disillusion_grows_while_reform_is_rolled_back_and_fades_otherwise() -> None:
    kw: dict[str, Any] = {"rate": 2.0, "backlash_jump": 0.1, "decay": 0.3, "dt": 0.25}
    blocked = reform_blocked(np.array([40.0, 30.0, 50.0]), np.array([40.0, 40.0, 40.0]), 100.0)
    np.testing.assert_allclose(blocked, [0.0, 0.1, 0.0])
    d = disillusion_update(np.full(3, 0.2), blocked, np.array([False, False, True]), **kw)
    assert d[0] < 0.2 < d[1]  # fades when reform holds, grows when rolled back
    assert d[2] > d[0]  # a backlash event
    # repression that mobilises (negative jump) lowers it, never below 0
    mob = disillusion_update(np.full(3, 0.01), np.zeros(3), np.ones(3, bool),
                             **{**kw, "backlash_jump": -0.5})
    assert np.all((mob >= 0) & (mob < 0.01))


def test_turnout_loss_flips_an_election_at_unchanged_support() -> None:
    s = np.array([0.6])
    won = election_vote_share(s, np.array([0.2]), 0.0, np.array([0.0]), 0.5)
    lost = election_vote_share(s, np.array([0.2]), 0.0, np.array([0.6]), 0.5)
    assert won[0] > 0.5 > lost[0]
    # no vetting state and no disillusion: the former formula, bit for bit
    sup = np.linspace(0.05, 0.95, 19)
    vet = 0.3
    np.testing.assert_array_equal(
        election_vote_share(sup, np.zeros(19), vet, np.zeros(19), 0.7),
        sup * (1 - vet) / (sup * (1 - vet) + (1 - sup)),
    )
    # the vetting state and the election's own screening compound
    both = election_vote_share(s, np.array([0.5]), 0.5, np.array([0.0]), 0.0)
    assert both[0] == pytest.approx(0.6 * 0.25 / (0.6 * 0.25 + 0.4))


def test_new_parameters_default_to_the_former_model() -> None:
    p = SimParameters()
    for name in ("backlash_backing_elasticity", "vetting_base", "vetting_threat_rate",
                 "vetting_backlash_jump", "vetting_decay", "disillusion_rate",
                 "disillusion_backlash_jump", "disillusion_decay", "turnout_sensitivity"):
        assert getattr(p, name) == 0.0, name


# ----------------------------------------------------------------------- the scenario
def test_reform_backing_out_of_range_is_one_located_line(tmp_path: Path) -> None:
    text = (DATA / "minimal-system.yaml").read_text()
    needle = "    gesture: 0.4\n"
    assert needle in text
    bad = text.replace(needle, needle + "    reform_backing: {low: 0.5, mode: 1, high: 1.4}\n", 1)
    path = tmp_path / "s.yaml"
    path.write_text(bad)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    (problem,) = [str(p) for p in info.value.problems]
    line = bad.splitlines().index("    reform_backing: {low: 0.5, mode: 1, high: 1.4}") + 1
    assert problem.startswith(f"{path}:{line}:")
    assert "instruments[0].reform_backing: reform_backing must lie in [0, 1], got 0.5..1.4" in (
        problem
    )


def test_flagship_elections_of_2008_and_2009_fall_inside_the_horizon(flagship: Scenario) -> None:
    sy = compile_system(flagship, "containment")
    el = sy.elections
    steps = {(inst, int(step)) for inst, step in zip(el.institution, el.step, strict=True)}
    assert steps == {("majlis", 10), ("iran-presidency", 15),  # 2004Q1, 2005Q2
                     ("majlis", 26), ("iran-presidency", 31)}  # 2008Q1, 2009Q2
    assert max(s for _, s in steps) < sy.horizon
    k = sy.focal.instruments.index("us-democracy-promotion")
    assert sy.focal.reform_backing[k] == pytest.approx(0.9)


# -------------------------------------------------------------------------- the engine
def test_democracy_promotion_raises_backlash_and_lowers_the_reform_share(
    flagship: Scenario,
) -> None:
    spec = StrategySpec(id="promote-democracy", country="us", kind="defector",
                        instruments=["us-democracy-promotion"], judgment="test")
    s = flagship.model_copy(update={"strategies": [*flagship.strategies, spec]})
    on = summarize(s, "promote-democracy", WORLDS, seed=11)
    off = summarize(_backing(s, "us-democracy-promotion", 0.0), "promote-democracy",
                    WORLDS, seed=11)
    assert on["backlash_events"].mean() > off["backlash_events"].mean() + 0.3
    assert on["reform_share"].mean() < off["reform_share"].mean()  # a ranked metric
    assert on["mean_reform_share"].mean() < off["mean_reform_share"].mean()
    # the protective reading turns the sign
    protect = summarize(_with(s, backlash_backing_elasticity=-0.5), "promote-democracy",
                        WORLDS, seed=11)
    assert protect["backlash_events"].mean() < off["backlash_events"].mean()


def test_backing_in_engagement_can_cost_or_protect(flagship: Scenario) -> None:
    s = _backing(flagship, "us-ofac-ngo-licence", 0.3)
    events = {
        e: summarize(_with(s, backlash_backing_elasticity=e), "dismantle-sanctions", WORLDS,
                     seed=5)["backlash_events"].mean()
        for e in (-0.5, 0.0, 2.5)
    }
    assert events[-0.5] < events[0.0] < events[2.5]


def test_heavier_disillusion_and_vetting_lose_the_majlis(flagship: Scenario) -> None:
    strat = "containment"
    base = summarize(_with(flagship, turnout_sensitivity=0.0, vetting_threat_rate=0.0,
                           vetting_backlash_jump=0.0), strat, WORLDS, seed=2)
    closed = summarize(_with(flagship, **CLOSING), strat, WORLDS, seed=2)
    assert closed["legislature_reform_majority"].mean() < base["legislature_reform_majority"].mean()
    assert closed["reform_share"].mean() < base["reform_share"].mean()  # a ranked metric
    assert closed["vetting"].mean() > base["vetting"].mean()
    assert closed["disillusion"].mean() > 0.0
    # disillusion alone (vetting as in base) loses elections too
    turnout = summarize(_with(flagship, turnout_sensitivity=0.9, disillusion_rate=5.0,
                              disillusion_backlash_jump=0.15, vetting_threat_rate=0.0,
                              vetting_backlash_jump=0.0), strat, WORLDS, seed=2)
    assert turnout["legislature_reform_majority"].mean() < base["legislature_reform_majority"].mean()
    # vetting that jumps after backlash events alone (no threat term, full turnout)
    jumps = summarize(_with(flagship, turnout_sensitivity=0.0, vetting_threat_rate=0.0,
                            vetting_backlash_jump=0.25), strat, WORLDS, seed=2)
    assert jumps["vetting"].mean() > base["vetting"].mean()
    assert jumps["legislature_reform_majority"].mean() < base["legislature_reform_majority"].mean()


def test_a_scenario_without_backing_steps_ignores_the_backing_elasticity() -> None:
    mini = load_scenario(DATA / "mini-system.yaml")
    a = summarize(_with(mini, backlash_backing_elasticity=0.0), "engage", 128, seed=1)
    b = summarize(_with(mini, backlash_backing_elasticity=2.5), "engage", 128, seed=1)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_disillusion_needs_a_reform_issue_and_defaults_leave_both_states_still() -> None:
    mini = load_scenario(DATA / "mini-system.yaml")
    still = summarize(mini, "engage", 128, seed=1)
    assert not still["vetting"].any() and not still["disillusion"].any()
    growing = {"disillusion_rate": 5.0, "disillusion_decay": 0.1}
    assert summarize(_with(mini, **growing), "engage", 128, seed=1)["disillusion"].max() > 0
    issues = [i.model_copy(update={"role": None}) if i.role == "reform" else i
              for i in mini.issues]
    no_reform = _with(mini.model_copy(update={"issues": issues}), **growing)
    assert not summarize(no_reform, "engage", 128, seed=1)["disillusion"].any()


def test_sampled_reform_backing_is_per_world_so_states_share_one_run(flagship: Scenario) -> None:
    states = sample_states(flagship, 2, seed=4)
    a, b = (compile_system(flagship, "moderate-engagement", states.iloc[i].to_dict())
            for i in (0, 1))
    assert not np.array_equal(a.focal.reform_backing, b.focal.reform_backing)
    assert structure_key(a, chunk_plans(a)) == structure_key(b, chunk_plans(b))
