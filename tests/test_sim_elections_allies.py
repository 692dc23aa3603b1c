"""U.S. elections and allied support as feedback (docs/model.md sections 4b and 5b)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.scenario import load_scenario
from detente.scenario.schema import Actor, Election, Scenario
from detente.sim import compile_system, simulate
from detente.sim.engine import (
    balance_clout,
    election_verdict,
    floor_position,
    run_chunk,
    sanctions_bite,
)
from detente.sim.rng import BLOCK
from detente.sim.strategies import Strategy, View, get_strategy

MINI = Path(__file__).parent / "data" / "mini-system.yaml"
ELECTION_STEP = 9  # 2003Q4 (November 2003) in a calendar starting 2001Q3


class Snub(Strategy):
    """Test strategy: never offers anything, escalates (level 0)."""

    name = "Test Snub"
    classifier: ClassVar[dict[str, Any]] = {}

    def move(self, view: View) -> np.ndarray:
        return np.zeros(view.perceived.shape[0])


class Reciprocator(Strategy):
    """Test strategy: full cooperation as soon as any west gesture is perceived."""

    name = "Test Reciprocator (elections)"
    classifier: ClassVar[dict[str, Any]] = {}

    def move(self, view: View) -> np.ndarray:
        if view.turn == 0:
            return np.full(view.perceived.shape[0], 0.1)
        return np.where(view.perceived.max(axis=1) > 0.12, 1.0, 0.1)


@pytest.fixture(scope="module")
def mini() -> Scenario:
    return load_scenario(MINI)


def _with_west_elections(mini: Scenario, **params: float) -> Scenario:
    """The mini scenario with an elected west legislature, its hawk and engager factions,
    a west congressional election at step 9 and no shocks."""
    insts = [i.model_copy(update={"elected": True}) if i.id == "legislature" else i
             for i in mini.institutions]
    actors = [*mini.actors,
              Actor(id="hawks", name="Hawks", country="west", kind="faction", camp="containment",
                    clout=10, positions={"sanctions": 98, "dialogue": 10},
                    saliences={"sanctions": 90, "dialogue": 40}, judgment="test"),
              Actor(id="engagers", name="Engagers", country="west", kind="faction",
                    camp="engagement", clout=5, positions={"sanctions": 40, "dialogue": 80},
                    saliences={"sanctions": 60, "dialogue": 60}, judgment="test")]
    assert mini.calendar is not None
    cal = mini.calendar.model_copy(update={"elections": [
        *mini.calendar.elections,
        Election(id="west-vote", country="west", date=dt.date(2003, 11, 4),
                 institution="legislature", judgment="test"),
    ]})
    return mini.model_copy(update={
        "institutions": insts, "actors": actors, "calendar": cal, "shocks": [],
        "parameters": {**mini.parameters, **params},
    })


def _balance_after_election(scenario: Scenario, opponent: str | Strategy) -> Any:
    sy = compile_system(scenario, "bold")
    res = run_chunk(sy, get_strategy(sy.focal_strategy, **sy.focal_params), 11, 0, BLOCK,
                    opponent=get_strategy(opponent) if isinstance(opponent, str) else opponent)
    bal = res.metrics["focal_legislature_balance"]
    assert np.all(bal[:, :ELECTION_STEP] == 0)  # nothing moves before the election
    return bal[:, ELECTION_STEP], res


def test_verdict_is_symmetric_and_bounded() -> None:
    z = np.zeros(3)
    g = np.array([0.0, 1.0, 10.0])
    np.testing.assert_allclose(election_verdict(g, z, z, 0.3), -election_verdict(z, g, z, 0.3))
    np.testing.assert_allclose(election_verdict(z, z, g, 0.3), election_verdict(z, g, z, 0.3))
    assert election_verdict(g, z, z, 0.3)[2] == 1.0
    assert np.all(election_verdict(g, g, z, 0.3) == 0)


def test_floor_and_clout_follow_the_balance() -> None:
    x0, hawk, eng = np.array([88.0, 40.0]), np.array([98.0, 15.0]), np.array([50.0, 75.0])
    bal = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    x = floor_position(x0, hawk, eng, bal)
    np.testing.assert_allclose(x[[0, 2, 4]], [hawk, x0, eng])
    np.testing.assert_allclose(x[1], x0 + 0.5 * (hawk - x0))
    f = balance_clout(bal, np.array([True, False, False]), np.array([False, True, False]))
    np.testing.assert_allclose(f[:, 0], 1 - bal)
    np.testing.assert_allclose(f[:, 1], 1 + bal)
    np.testing.assert_allclose(f[:, 2], 1.0)


def test_unreciprocated_concessions_move_congress_toward_the_hawks(mini: Scenario) -> None:
    # The west dismantles; a unitary east that never offers anything leaves its concessions
    # unreciprocated (and escalates): the election hands the balance to the hawks. An east
    # that reciprocates fully hands it to the engagers.
    sc = _with_west_elections(mini, us_election_swing=0.5)
    sy = compile_system(sc, "bold")
    fe = sy.focal_elections
    assert fe is not None and fe.step.tolist() == [ELECTION_STEP]
    assert [sy.focal.actors[k] for k in np.flatnonzero(fe.hawk)] == ["hawks"]
    assert [sy.focal.actors[k] for k in np.flatnonzero(fe.engager)] == ["engagers"]
    snubbed, res = _balance_after_election(sc, Snub())
    assert np.all(res.metrics["unreciprocated"][:, ELECTION_STEP] > 0.5)
    assert np.all(snubbed < 0)
    answered, _ = _balance_after_election(sc, Reciprocator())
    assert np.mean(answered > 0) > 0.9
    assert answered.mean() > snubbed.mean() + 0.3


def test_election_shifts_the_floor_toward_the_hawks(mini: Scenario, monkeypatch: Any) -> None:
    # after the verdict the legislature's floor votes and vetoes from the hawks' side
    import detente.sim.engine as eng
    from detente.sim.native import consent as native_consent

    seen: list[Any] = []
    real = native_consent.vote_and_ratify

    def spy(run: Any, reversal: Any, cand: Any, *args: Any) -> Any:
        # the focal side's pass (ratify_focal: its candidates given, no reversal); its
        # ideal points as the kernel reads them, issue-major [I, 1 or n, A]
        if reversal is None and cand.size:
            seen.append(np.array(args[4], copy=True))
        return real(run, reversal, cand, *args)

    monkeypatch.setattr(eng.native_consent, "vote_and_ratify", spy)
    sc = _with_west_elections(mini, us_election_swing=0.5)
    bal, _ = _balance_after_election(sc, Snub())
    sy = compile_system(sc, "bold")
    floor, s = sy.focal_elections.floor, sy.issues.index("sanctions")  # type: ignore[union-attr]
    # static (one row for all worlds) until the election, per world after
    assert seen[0].shape[1] == 1 and seen[-1].shape[1] == bal.size > 1
    after = seen[-1][s, :, floor]
    np.testing.assert_allclose(after, 85 + (-bal) * (98 - 85), rtol=1e-6)
    assert np.all(after > 85)


def test_presidential_election_clears_domestic_cost(mini: Scenario) -> None:
    insts = [i.model_copy(update={"role": "presidency", "elected": True})
             if i.id == "legislature" else i for i in mini.institutions]
    assert mini.calendar is not None
    cal = mini.calendar.model_copy(update={"elections": [Election(
        id="pres", country="west", date=dt.date(2003, 11, 4), institution="legislature",
        judgment="test")]})
    full = mini.model_copy(update={"institutions": insts, "calendar": cal,
                                   "parameters": {**mini.parameters, "us_mandate_renewal": 1.0}})
    sy = compile_system(full, "bold")
    res = run_chunk(sy, get_strategy(sy.focal_strategy), 2, 0, BLOCK)
    cost = res.metrics["focal_domestic_cost"]
    assert np.all(cost[:, ELECTION_STEP] == 0) and cost[:, ELECTION_STEP - 1].mean() > 0


def test_elections_without_a_rule_stay_inert(mini: Scenario) -> None:
    # a third party's election, or the focal side's with both effects switched off, changes
    # nothing; with the rule on the same worlds differ
    assert mini.calendar is not None
    cal = mini.calendar.model_copy(update={"elections": [
        *mini.calendar.elections,
        Election(id="ally-vote", country="ally", date=dt.date(2003, 11, 4),
                 institution="legislature", judgment="test")]})
    assert compile_system(mini.model_copy(update={"calendar": cal}), "bold").focal_elections is None
    off = _with_west_elections(mini, us_election_swing=0.0, us_mandate_renewal=0.0)
    on = _with_west_elections(mini, us_election_swing=0.5)
    base = mini.model_copy(update={"shocks": [], "actors": off.actors,
                                   "parameters": off.parameters})
    a = simulate(off, "engage", BLOCK, seed=1)
    b = simulate(base, "engage", BLOCK, seed=1)
    for m in b.data_vars:
        np.testing.assert_array_equal(a[m].values, b[m].values)
    assert not a["focal_legislature_balance"].values.any()  # reported (an election) but never moved
    c = simulate(on, "bold", BLOCK, seed=1)
    assert np.any(c["focal_legislature_balance"].values != 0)


def test_chunk_invariance_with_focal_elections(mini: Scenario) -> None:
    sc = _with_west_elections(mini, us_election_swing=0.5)
    a = simulate(sc, "engage", 2 * BLOCK + 5, seed=5, chunk=BLOCK)
    b = simulate(sc, "engage", 2 * BLOCK + 5, seed=5, chunk=4 * BLOCK)
    for m in a.data_vars:
        np.testing.assert_array_equal(a[m].values, b[m].values)


@settings(max_examples=200, deadline=None)
@given(
    a0=st.floats(0.01, 1.0),
    share=st.floats(0.0, 1.0),
    a=st.floats(0.0, 1.0),
    b=st.floats(0.0, 1.0),
)
def test_sanctions_bite_grows_with_allied_support(a0: float, share: float, a: float,
                                                  b: float) -> None:
    lo, hi = sorted((a, b))
    bite = sanctions_bite(np.array([0.0, lo, hi, 1.0, a0]), a0, share)
    assert np.all(np.diff(bite[:4]) >= -1e-12)
    assert bite[4] == pytest.approx(1.0)
    if share > 1e-3:
        assert bite[0] < bite[3]
    if share == 0:
        np.testing.assert_array_equal(bite, 1.0)


def test_containment_without_allies_costs_iran_less(mini: Scenario) -> None:
    # Same worlds under containment: when allies desert (fast erosion) sanctions bite less,
    # so the nationalist rally (dictation) weighs less and public reform support ends higher
    # than when allies stay at their starting support; with no allied share, no difference.
    def run(erosion: float, share: float) -> Any:
        params = {**mini.parameters, "allied_erosion": erosion, "allied_recovery": 0.0,
                  "allied_sanctions_share": share, "support_noise": 0.0,
                  "dictation_effect": 0.6, "rally_effect": 0.2}
        sc = mini.model_copy(update={"parameters": params, "shocks": []})
        return simulate(sc, "wait", BLOCK, seed=2)

    alone, allied = run(5.0, 0.8), run(0.0, 0.8)
    assert float(alone["allied_support"].isel(step=-1).mean()) < 0.05
    gap = alone["public_support"].isel(step=-1).values - allied["public_support"].isel(
        step=-1).values
    assert np.all(gap >= -1e-9) and gap.mean() > 0.01
    a0, b0 = run(5.0, 0.0), run(0.0, 0.0)
    np.testing.assert_allclose(a0["public_support"].values, b0["public_support"].values)
