"""Tests of the two-level simulation engine (detente.sim)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from detente.errors import InputError
from detente.scenario import load_scenario
from detente.sim import compile_system, simulate, summarize, trajectory_quantiles
from detente.sim.api import iter_chunks
from detente.sim.domestic_bargain import compromise, support_share, veto_loss, weighted_median
from detente.sim.rng import BLOCK
from detente.sim.strategies import Strategy, View

MINI = Path(__file__).parent / "data" / "mini-system.yaml"


@pytest.fixture(scope="module")
def mini():  # type: ignore[no-untyped-def]
    return load_scenario(MINI)


class Reciprocator(Strategy):
    """Test strategy: full cooperation as soon as any U.S. gesture is perceived."""

    name = "Test Reciprocator"
    classifier: ClassVar[dict[str, Any]] = {}

    def move(self, view: View) -> np.ndarray:
        if view.turn == 0:
            return np.full(view.perceived.shape[0], 0.1)
        return np.where(view.perceived.max(axis=1) > 0.12, 1.0, 0.1)


def test_same_seed_same_numbers_whatever_the_chunking(mini) -> None:  # type: ignore[no-untyped-def]
    a = simulate(mini, "engage", 3 * BLOCK + 17, seed=5, chunk=BLOCK)
    b = simulate(mini, "engage", 3 * BLOCK + 17, seed=5, chunk=4 * BLOCK)
    for m in a.data_vars:
        np.testing.assert_array_equal(a[m].values, b[m].values)
    c = simulate(mini, "engage", 3 * BLOCK + 17, seed=6)
    assert not np.array_equal(a["public_support"].values, c["public_support"].values)


def test_start_world_reproduces_the_unchunked_run(mini) -> None:  # type: ignore[no-untyped-def]
    full = summarize(mini, "engage", 3 * BLOCK, seed=2)
    head = summarize(mini, "engage", BLOCK, seed=2, start_world=0)
    tail = summarize(mini, "engage", 2 * BLOCK, seed=2, start_world=BLOCK)
    for k, v in full.items():
        np.testing.assert_array_equal(v, np.concatenate([head[k], tail[k]]))


def test_levels_stay_inside_issue_bounds(mini) -> None:  # type: ignore[no-untyped-def]
    ds = simulate(mini, "bold", 512, seed=1)
    for m, issue in (("sanctions", "sanctions"), ("dialogue", "dialogue"),
                     ("terror_support", "terror"), ("reform", "reform")):
        iss = mini.issue(issue)
        assert float(ds[m].min()) >= iss.low and float(ds[m].max()) <= iss.high
    for m in ("reform_share", "allied_support", "public_support", "focal_belief", "internal_belief"):
        assert float(ds[m].min()) >= 0.0 and float(ds[m].max()) <= 1.0


@pytest.mark.parametrize("strategy", ["wait", "engage", "bold", "tit-for-tat", "grim"])
def test_no_veto_player_is_hurt_beyond_its_tolerance(mini, strategy: str) -> None:  # type: ignore[no-untyped-def]
    for _, _, res in iter_chunks(mini, strategy, 512, seed=3):
        assert float(res.veto_excess.max()) <= 1e-9


def test_flagship_veto_invariant() -> None:
    s = load_scenario("us-iran-2001")
    for strat in ("moderate-engagement", "dismantle-sanctions"):
        for _, _, res in iter_chunks(s, strat, BLOCK, seed=0):
            assert float(res.veto_excess.max()) <= 1e-9


def test_noise_free_reciprocating_iran_lets_engagement_reach_dialogue(mini) -> None:  # type: ignore[no-untyped-def]
    s = mini.model_copy(update={"parameters": {
        **mini.parameters, "perception_noise_us": 0.0, "perception_noise_iran": 0.0,
        "perception_bias_us": 0.0, "perception_bias_iran": 0.0}})
    r = summarize(s, "engage", BLOCK, seed=0, opponent=Reciprocator())
    assert r["rapprochement"].mean() == 1.0
    assert (r["time_to_reciprocation"] <= 6).all()
    # without reciprocation (the internal bargain under the leader's veto) it does not
    r2 = summarize(s, "engage", BLOCK, seed=0)
    assert r2["rapprochement"].mean() < 1.0


def test_unknown_strategy_and_parameter_are_input_errors(mini) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="did you mean"):
        compile_system(mini, "engagee")
    bad = mini.model_copy(update={"parameters": {"rally_efect": 0.1}})
    with pytest.raises(InputError, match='did you mean "rally_effect"'):
        compile_system(bad, "engage")
    with pytest.raises(InputError):
        summarize(mini, "engage", 10, seed=0, start_world=7)


def test_quantiles_frame_and_dates(mini) -> None:  # type: ignore[no-untyped-def]
    df = trajectory_quantiles(mini, ["wait", "engage"], 300, seed=1)
    assert set(df.columns) == {"strategy", "step", "date", "metric", "mean", "p05", "p25",
                               "p50", "p75", "p95"}
    assert df.date.iloc[0] == "2001Q3"
    assert (df.p05 <= df.p50 + 1e-9).all() and (df.p50 <= df.p95 + 1e-9).all()


def test_elections_follow_public_support_net_of_vetting(mini) -> None:  # type: ignore[no-untyped-def]
    heavy = mini.model_copy(update={"calendar": mini.calendar.model_copy(update={  # type: ignore[union-attr]
        "elections": [mini.calendar.elections[0].model_copy(update={"vetting": 0.95})]})})  # type: ignore[union-attr]
    ds = simulate(heavy, "wait", BLOCK, seed=0)
    before = ds["legislature_reform_majority"].sel(step=9).mean()
    after = ds["legislature_reform_majority"].sel(step=11).mean()
    assert float(before) == 1.0 and float(after) == 0.0


def test_vectorised_bargaining_matches_the_bargaining_package() -> None:
    from detente.bargaining.compromise import compromise as c1
    from detente.bargaining.median import median as m1
    from detente.scenario.table import ActorTable

    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 100, (7, 3))
    sal = rng.uniform(0, 1, (7, 3))
    clout = rng.uniform(1, 5, (4, 7))
    comp = compromise(pos, clout, sal)
    med = weighted_median(pos, clout, sal)
    for w in range(4):
        for i in range(3):
            t = ActorTable("x", tuple("abcdefg"), clout[w], pos[:, i], sal[:, i])
            assert comp[w, i] == pytest.approx(c1(t))
            assert med[w, i] == pytest.approx(m1(t))


def test_vote_and_veto_primitives() -> None:
    gain = np.array([[[1.0], [-1.0], [0.0]]])
    weight = np.array([[[3.0], [1.0], [5.0]]])
    assert support_share(gain, weight)[0, 0] == pytest.approx(0.75)
    assert veto_loss(np.array(10.0), np.array(30.0), np.array(0.0)) == pytest.approx(30.0)
    assert veto_loss(np.array(10.0), np.array(-5.0), np.array(0.0)) == pytest.approx(-5.0)


def test_roles_come_from_role_fields_not_ids(mini) -> None:  # type: ignore[no-untyped-def]
    # Give the 'terror-support' role to the issue called "reform": the engine follows the field.
    swap = {"terror": None, "reform": "terror-support"}
    issues = [i.model_copy(update={"role": swap[i.id]}) if i.id in swap else i
              for i in mini.issues]
    sy = compile_system(mini.model_copy(update={"issues": issues}), "engage")
    ids = [i.id for i in mini.issues]
    assert sy.roles["terror"] == ids.index("reform")
    assert sy.roles["reform"] == -1
    assert sy.roles["sanctions"] == ids.index("sanctions")
    # The flagship's U.S. 'presidency' is not mistaken for Iran's elected presidency.
    flag = compile_system(load_scenario("us-iran-2001"), "containment")
    holder = flag.internal.actors[flag.elected[flag.reported["presidency"]]]
    assert holder == "president"
    assert flag.internal.actors[flag.elected[flag.reported["legislature"]]] == "majlis"
    assert flag.roles["reform"] == list(flag.issues).index("iran-reform")


def test_missing_required_role_is_a_clear_input_error(mini) -> None:  # type: ignore[no-untyped-def]
    issues = [i.model_copy(update={"role": None}) if i.role == "dialogue" else i
              for i in mini.issues]
    with pytest.raises(InputError) as err:
        compile_system(mini.model_copy(update={"issues": issues}), "engage")
    assert "role: dialogue" in str(err.value)


def test_duplicate_issue_role_is_reported() -> None:
    from detente.scenario.schema import reference_problems

    mini = load_scenario(MINI)
    issues = [i.model_copy(update={"role": "sanctions"}) if i.id == "terror" else i
              for i in mini.issues]
    probs = reference_problems(mini.model_copy(update={"issues": issues}))
    assert any(loc[-1] == "role" and "already taken" in msg for loc, msg in probs)


def _with_west_institutions(mini, roles: dict[str, str | None], exec_sanctions: float | None = None):  # type: ignore[no-untyped-def]
    """The mini scenario with the west's institutions given roles (and an executive veto)."""
    from detente.scenario.schema import Institution, Veto

    insts = [i.model_copy(update={"role": roles[i.id]}) if i.id in roles else i
             for i in mini.institutions]
    if "executive" in roles:
        insts.append(Institution(id="executive", name="Executive office", country="west",
                                 holder="exec", role=roles["executive"],
                                 vetoes=[Veto(issues=["sanctions"], tolerance=0.0)],
                                 judgment="test"))
    actors = list(mini.actors)
    if exec_sanctions is not None:
        actors = [a.model_copy(update={"positions": {**a.positions, "sanctions": exec_sanctions}})
                  if a.id == "exec" else a for a in actors]
    return mini.model_copy(update={"institutions": insts, "actors": actors})


def test_the_executive_does_not_block_its_own_strategy(mini) -> None:  # type: ignore[no-untyped-def]
    # The executive privately prefers more sanctions (90) and holds a zero-tolerance veto on
    # them, but the strategy under test (dismantle) is its choice: as the proposer it neither
    # votes against nor vetoes its own steps. Without the presidency role it is an ordinary
    # actor and blocks them.
    as_exec = _with_west_institutions(mini, {"executive": "presidency"}, exec_sanctions=90)
    as_other = _with_west_institutions(mini, {"executive": "other"}, exec_sanctions=90)
    eased = simulate(as_exec, "bold", BLOCK, seed=3)["sanctions"].min("step").values
    blocked = simulate(as_other, "bold", BLOCK, seed=3)["sanctions"].min("step").values
    assert np.mean(eased < 79) > 0.9
    assert blocked.min() >= 80 - 1e-6


def test_bureaucracies_implement_rather_than_veto(mini) -> None:  # type: ignore[no-untyped-def]
    # The same body holding the sanctions veto blocks lifting as a legislature, not as a
    # bureaucracy (it executes the executive's orders; its resistance is the delay).
    # (w-lift approved by the executive alone, so only the veto is at stake)
    ins = [i.model_copy(update={"approvals": ["exec"]}) if i.id == "w-lift" else i
           for i in mini.instruments]
    base = mini.model_copy(update={"instruments": ins})
    legis = _with_west_institutions(base, {"legislature": "legislature"})
    bureau = _with_west_institutions(base, {"legislature": "bureaucracy"})
    a = simulate(legis, "bold", BLOCK, seed=4)["sanctions"].min("step").values
    b = simulate(bureau, "bold", BLOCK, seed=4)["sanctions"].min("step").values
    assert a.min() >= 72 - 1e-6
    assert np.median(b) < 50


def test_internal_positions_start_at_the_scenarios(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Positions in a scenario are observed under the starting sanctions and mistrust: in the
    # first step the internal side's effective ideal points are the scenario's own.
    import detente.sim.engine as eng

    seen = []
    real = eng.iran_positions

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = real(*args, **kwargs)
        seen.append(out.copy())
        return out

    monkeypatch.setattr(eng, "iran_positions", spy)
    flag = load_scenario("us-iran-2001")
    sy = compile_system(flag, "containment")
    simulate(flag, "containment", BLOCK, seed=0)
    first = seen[0]  # [I, n, A]
    o = sy.internal
    for i in np.flatnonzero((o.effects != 0).any(axis=0)):
        stake = ~np.isnan(o.position[:, i])
        np.testing.assert_allclose(first[i][:, stake], np.broadcast_to(
            o.position[stake, i], first[i][:, stake].shape), atol=1e-4)


def test_internal_bargaining_is_a_registered_rule_of_the_internal_side() -> None:
    from detente.sim import InternalBargaining
    from detente.sim.strategies import get_strategy

    assert isinstance(get_strategy("internal-bargaining"), InternalBargaining)
    flag = load_scenario("us-iran-2001")
    # Naming it as the opponent is the engine's default internal bargaining.
    a = summarize(flag, "containment", BLOCK, seed=1, opponent="iran-internal-bargaining")
    b = summarize(flag, "containment", BLOCK, seed=1)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    # It is not a focal strategy: a clear input error naming the alternatives.
    with pytest.raises(InputError) as err:
        summarize(flag, "iran-internal-bargaining", BLOCK)
    assert "moderate-engagement" in str(err.value)


def test_third_party_approval_holders_can_withhold_consent(mini) -> None:  # type: ignore[no-untyped-def]
    # Lifting needs the ally's consent (a third-party actor): given when the ally wants lower
    # sanctions (30), withheld when it wants them high (95). The west's legislature is made a
    # bureaucracy so that only the ally's consent is at stake.
    def variant(ally_sanctions: float):  # type: ignore[no-untyped-def]
        ins = [i.model_copy(update={"approvals": ["exec", "ally-gov"]}) if i.id == "w-lift"
               else i for i in mini.instruments]
        actors = [a.model_copy(update={"positions": {"sanctions": ally_sanctions}})
                  if a.id == "ally-gov" else a for a in mini.actors]
        sc = mini.model_copy(update={"instruments": ins, "actors": actors})
        return _with_west_institutions(sc, {"legislature": "bureaucracy"})

    agree = simulate(variant(30), "bold", BLOCK, seed=4)["sanctions"].min("step").values
    refuse = simulate(variant(95), "bold", BLOCK, seed=4)["sanctions"].min("step").values
    assert np.median(agree) < 50
    assert refuse.min() >= 72 - 1e-6


@pytest.mark.parametrize(
    "name",
    ["instruments[us-dialogue-offer].effects.dialogue", "instruments[us-ilsa-for-support].effects.ilsa"],
)
def test_a_step_sampled_to_move_no_issue_still_simulates(name: str) -> None:
    """Both ranges reach 0, where the step moves no issue: the vote and the consent checks
    must treat it as a step nobody gains or loses from (it used to crash the engine), alone
    and stacked with a state where it does move its issue."""
    import pandas as pd

    from detente.scenario import load_scenario, uncertainties
    from detente.sim.api import simulate
    from detente.sim.stacked import simulate_states

    sc = load_scenario("us-iran-2001")
    p = next(u for u in uncertainties(sc) if u.name == name)
    assert p.low == 0.0
    for strategy in ("containment", "moderate-engagement", "dismantle-sanctions"):
        alone = simulate(sc, strategy, 40, 3, values={name: p.low})
        assert alone.sizes["world"] == 40
    both = simulate_states(sc, "moderate-engagement", pd.DataFrame({name: [p.low, p.high]}), 20,
                           [3, 3])
    assert both.metrics["dialogue"].shape[0] == 40


def test_model_doc_names_the_engine_step_functions_that_exist() -> None:
    """docs/model.md's step table names functions of detente.sim.engine, each once."""
    import re

    from detente.sim import engine

    text = (Path(__file__).parents[1] / "docs" / "model.md").read_text()
    table = text.split("| section | step (function of `detente.sim.engine`")[1].split("\n\n")[0]
    named = re.findall(r"^\|[^|]*\| `(\w+)`", table, flags=re.M)
    named += re.findall(r"\(or `(\w+)`", table)
    assert len(named) >= 20 and len(set(named)) == len(named)
    assert [n for n in named if not callable(getattr(engine, n, None))] == []
