"""The international environment (docs/model.md 5): regional threat, settlement and allied
alignment with friction (detente.sim.mechanisms.environment), unit and engine level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.errors import InputError
from detente.metrics import metric, supported
from detente.scenario import load_scenario
from detente.scenario.schema import Scenario
from detente.scenario.uncertainty import uncertain_numbers
from detente.sim import compile_system, simulate
from detente.sim.checks import scenario_warnings
from detente.sim.mechanisms.environment import (
    alignment_update,
    allied_friction,
    regional_strength,
    settlement_update,
    threat_update,
)
from detente.sim.stacked import simulate_states

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini-system.yaml"
HISTORY = DATA / "mini-history.yaml"
WORLDS, SEED = 128, 3
ALLIES = ("eu", "japan-govt")
POLICY = ("us-sanctions", "ilsa", "caspian-transit")
unit = st.floats(0.0, 1.0)


def _threat(threat: Any, hostility: Any = 0.0, regional: Any = 1.0, jump: Any = 0.0,
            **kw: float) -> np.ndarray:
    args = {"start": 0.5, "regional_share": 0.5, "hostility_gain": 0.2, "decay": 0.5,
            "dt": 0.25, **kw}
    return threat_update(*(np.atleast_1d(np.asarray(x, dtype=float))
                           for x in (threat, hostility, regional, jump)), **args)


# ------------------------------------------------------------------------------ threat
@settings(max_examples=60, deadline=None)
@given(unit, unit, st.floats(0.0, 3.0), st.floats(-1.0, 1.0), unit, unit, st.floats(0, 2),
       st.floats(0, 2))
def test_threat_stays_in_bounds(theta: float, h: float, r: float, jump: float, start: float,
                                share: float, gain: float, decay: float) -> None:
    out = _threat(theta, h, r, jump, start=start, regional_share=share, hostility_gain=gain,
                  decay=decay)
    assert 0.0 <= out[0] <= 1.0


def test_threat_relaxes_toward_its_start_from_either_side() -> None:
    theta = np.array([0.95, 0.05])
    gaps = [np.abs(theta - 0.5)]
    for _ in range(40):
        theta = _threat(theta)
        gaps.append(np.abs(theta - 0.5))
    assert np.all(np.diff(np.array(gaps), axis=0) < 0)  # strictly closer every step
    np.testing.assert_allclose(theta, 0.5, atol=0.01)
    np.testing.assert_array_equal(_threat([0.5, 0.5]), [0.5, 0.5])  # at rest at its start


def test_hostility_and_shocks_raise_the_threat_and_stronger_neighbours_keep_it_up() -> None:
    base = _threat(0.5)
    assert _threat(0.5, hostility=1.0)[0] > base[0]
    assert _threat(0.5, hostility=1.0, hostility_gain=0.0)[0] == base[0]
    assert _threat(0.5, jump=0.2)[0] == pytest.approx(base[0] + 0.2)
    assert _threat(0.9, jump=0.5)[0] == 1.0  # clipped
    weaker = _threat(0.5, regional=0.2)
    assert weaker[0] < base[0]
    assert _threat(0.5, regional=0.2, regional_share=0.0)[0] == base[0]


def test_regional_strength_weights_neighbours_by_clout() -> None:
    clout0 = np.array([7.0, 3.0, 40.0])  # Iraq, the Taliban, an ally
    mask = np.array([True, True, False])
    now = np.array([[7.0, 3.0, 40.0], [0.7, 3.0, 40.0], [7.0, 3.0, 4.0]])
    np.testing.assert_allclose(regional_strength(now, clout0, mask), [1.0, 0.37, 1.0])
    np.testing.assert_array_equal(regional_strength(now, clout0, np.zeros(3, bool)), 1.0)


# -------------------------------------------------------------------------- settlement
def test_settlement_advances_by_breakthroughs_and_is_pushed_back() -> None:
    s = np.array([0.0, 0.5, 0.5, 0.1])
    u = np.array([0.0, 0.0, 0.99, 0.99])  # a breakthrough in the first two worlds
    out = settlement_update(s, u, np.array([0.0, 0.0, -0.2, -0.3]), hazard=0.4,
                            progress=0.3, dt=0.25)
    np.testing.assert_allclose(out, [0.3, 0.65, 0.3, 0.0])
    none = settlement_update(s, u, np.zeros(4), hazard=0.0, progress=0.3, dt=0.25)
    np.testing.assert_array_equal(none, s)


@settings(max_examples=40, deadline=None)
@given(unit, unit, st.floats(-1, 1), st.floats(0, 5), unit)
def test_settlement_stays_in_bounds(s: float, u: float, jump: float, hazard: float,
                                    progress: float) -> None:
    out = settlement_update(np.array([s]), np.array([u]), np.array([jump]), hazard=hazard,
                            progress=progress, dt=0.25)
    assert 0.0 <= out[0] <= 1.0


# ---------------------------------------------------------------------------- friction
#: Two issues: a sanctions-like one (concessions lower it) and a transit-like one (raise it).
SPAN = np.array([100.0, 100.0])
DIRECTION = np.array([-1.0, 1.0])
ALLY_POS = np.array([[20.0, 60.0], [30.0, 50.0]])
WEIGHT = np.array([[[40 * 0.6, 40 * 0.3], [18 * 0.45, 18 * 0.3]]])  # clout x salience


def _friction(level: list[float], symmetry: Any = 0.5, hostility: float = 0.0,
              weight: np.ndarray = WEIGHT) -> float:
    return float(allied_friction(np.array([level]), ALLY_POS, weight, SPAN, DIRECTION,
                                 symmetry, np.array([hostility]))[0])


def test_no_friction_when_the_line_is_the_allies_own() -> None:
    same = np.array([[25.0, 55.0]])
    pos = np.array([[25.0, 55.0], [25.0, 55.0]])
    for h in (0.0, 1.0):
        out = allied_friction(same, pos, WEIGHT, SPAN, DIRECTION, 1.0, np.array([h]))
        assert out[0] == 0.0
    assert _friction([85.0, 10.0], weight=np.zeros_like(WEIGHT)) == 0.0  # no ally, no friction


def test_a_harder_line_causes_friction_and_hostile_steps_amplify_it() -> None:
    hard = _friction([85.0, 10.0])
    expected = (24 * 0.65 + 12 * 0.5 + 8.1 * 0.55 + 5.4 * 0.4) / (24 + 12 + 8.1 + 5.4)
    assert hard == pytest.approx(expected)
    assert _friction([95.0, 10.0]) > hard  # tighter sanctions, wider gap
    assert _friction([85.0, 10.0], hostility=1.0) == pytest.approx(2 * hard)


def test_a_softer_line_counts_only_by_the_symmetry_weight() -> None:
    soft = [0.0, 100.0]  # beyond both allies on the conciliatory side of both issues
    assert _friction(soft, symmetry=0.0) == 0.0
    full = _friction(soft, symmetry=1.0)
    assert full > 0.0
    assert _friction(soft, symmetry=0.5) == pytest.approx(0.5 * full)
    per_world = allied_friction(np.array([soft, soft]), ALLY_POS, np.repeat(WEIGHT, 2, 0),
                                SPAN, DIRECTION, np.array([0.0, 1.0]), np.zeros(2))
    np.testing.assert_allclose(per_world, [0.0, full])


@pytest.mark.parametrize("allies, issues", [(1, 5), (4, 11), (20, 13)])
def test_friction_sums_in_numpys_order(allies: int, issues: int) -> None:
    """The compiled friction sums its ``allies x issues`` terms as NumPy's pairwise sum does
    (sequential below 8 terms, 8 lanes up to 128, halves above): the same bits as a NumPy
    sum of the same terms, for any size (the flagship, 4 x 11, exercises one size only)."""
    rng = np.random.default_rng(allies)
    n = 5
    level = rng.uniform(0, 100, (n, issues))
    pos = rng.uniform(0, 100, (n, allies, issues))
    weight = rng.uniform(0, 1, (n, allies, issues)) * (rng.random((n, allies, issues)) < 0.7)
    span = rng.uniform(50, 150, issues)
    direction = rng.choice([-1.0, 0.0, 1.0], issues)
    sym, hostility = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    gap = (level[:, None, :] - pos) / span
    softer = np.where(direction != 0, np.maximum(0.0, direction * gap), 0.0)
    harder = np.where(direction != 0, np.maximum(0.0, -direction * gap), np.abs(gap))
    terms = weight * (harder + sym[:, None, None] * softer)
    expected = terms.sum(axis=(1, 2)) / weight.sum(axis=(1, 2)) * (1.0 + hostility)
    out = allied_friction(level, pos, weight, span, direction, sym, hostility)
    assert out.tobytes() == expected.tobytes()


def test_alignment_erodes_with_friction_and_moderation_reads_through_it() -> None:
    a = np.full(3, 0.4)
    f = np.array([0.0, 0.6, 0.6])
    m = np.array([0.5, 0.0, 0.5])
    kw = {"erosion": 0.3, "recovery": 0.2, "dt": 0.25}
    via = alignment_update(a, f, m, np.zeros(3), via_friction=1.0, **kw)
    assert via[0] == 0.4  # moderation alone erodes nothing the allies do not reject
    assert via[2] < via[1] < 0.4
    alone = alignment_update(a, f, m, np.zeros(3), via_friction=0.0, **kw)
    np.testing.assert_allclose(alone, 0.4 - 0.25 * 0.3 * 0.4 * (f + m))  # the former form
    up = alignment_update(a, f, m, np.ones(3), via_friction=0.0, **kw)
    assert np.all(up > alone)


# ------------------------------------------------------------------- scenario and compile
@pytest.fixture(scope="module")
def flagship() -> Scenario:
    return load_scenario("us-iran-2001")


def test_flagship_environment_names_allies_threats_and_policy_issues(
    flagship: Scenario,
) -> None:
    sy = compile_system(flagship, "containment")
    env = sy.environment
    assert set(np.array(env.actors)[env.ally]) == set(ALLIES)
    assert set(np.array(env.actors)[env.threat]) == {"iraq-regime", "taliban"}
    policy = {sy.issues[i] for i in np.flatnonzero(env.friction_weight.sum(axis=0))}
    assert policy == set(POLICY)
    assert env.friction_weight[~env.ally].sum() == 0
    k = sy.shock_ids.index("regional-war-iraq")
    assert sy.shock_threat[k] == pytest.approx(0.15)
    assert sy.shock_clout_third[k, env.actors.index("iraq-regime")] == pytest.approx(-0.2)
    assert sy.shock_settlement[sy.shock_ids.index("mideast-escalation")] < 0
    replay = compile_system(flagship, "us-as-followed")
    assert replay.events is not None
    j = replay.events.ids.index("iraq-war")
    assert replay.events.clout_third[j, env.actors.index("iraq-regime")] == pytest.approx(-0.9)
    assert replay.events.threat[j] > 0
    assert supported(metric("allied_friction"), sy)


def _problems(tmp_path: Path, source: Path, old: str, new: str) -> list[str]:
    text = source.read_text()
    assert old in text, old
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("source", "old", "new", "path", "fragment"),
    [
        (MINI, "ally_of: west", "ally_of: ally", "actors[7].ally_of", "is a third party"),
        (MINI, "ally_of: west", "ally_of: wset", "actors[7].ally_of", "did you mean"),
        (MINI, "kind: government, clout: 60,", "kind: government, clout: 60, threat_to: west,",
         "actors[0].threat_to", "cannot be its own"),
        (MINI, "status_quo: 80,", "status_quo: 80, policy_of: ally,", "issues[0].policy_of",
         "is a third party"),
        (MINI, "clout: {leader: 0.1}}", "clout: {leader: 0.1}, threat: 1.5}",
         "shocks[0].threat", "threat change must lie in [-1, 1]"),
        (HISTORY, "clout: {leader: 0.2}", "clout: {leader: 0.2}\n      settlement: -2",
         "history.events[0].settlement", "settlement change must lie in [-1, 1]"),
    ],
)
def test_environment_fields_are_checked_with_one_line_each(
    tmp_path: Path, source: Path, old: str, new: str, path: str, fragment: str
) -> None:
    problems = _problems(tmp_path, source, old, new)
    assert len(problems) == 1, problems
    assert path in problems[0] and fragment in problems[0]


def test_validate_warns_about_an_ally_without_a_stake_in_the_line(tmp_path: Path) -> None:
    text = MINI.read_text().replace("positions: {sanctions: 30}, saliences: {sanctions: 40}",
                                    "positions: {terror: 30}, saliences: {terror: 40}")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    ws = [str(w) for w in scenario_warnings(load_scenario(path), str(path))]
    assert [w for w in ws if "actors[7].ally_of" in w and "adds no friction" in w]
    assert not [w for w in map(str, scenario_warnings(load_scenario(MINI), "m")) if "ally" in w]


def test_a_scenario_without_allies_or_settlement_process_has_neither(
    mini: Scenario,
) -> None:
    alone = mini.model_copy(update={"actors": [
        a.model_copy(update={"ally_of": None}) for a in mini.actors]})
    sy = compile_system(alone, "wait")
    assert not supported(metric("allied_friction"), sy)
    ds = simulate(alone, "bold", 64, seed=1)
    assert "allied_friction" not in ds
    assert float(np.abs(ds["settlement"]).max()) == 0.0  # settlement_hazard defaults to 0
    with_ally = simulate(mini, "wait", 64, seed=1)
    assert float(with_ally["allied_friction"].min()) > 0  # sanctions 80, the ally wants 30


@pytest.fixture(scope="module")
def mini() -> Scenario:
    return load_scenario(MINI)


# ------------------------------------------------------------------------ engine level
def _with_strategy_params(s: Scenario, sid: str, **params: float) -> Scenario:
    specs = [x.model_copy(update={"params": {**x.params, **params}}) if x.id == sid else x
             for x in s.strategies]
    return s.model_copy(update={"strategies": specs})


def _final(ds: xr.Dataset, m: str) -> float:
    return float(ds[m].isel(step=-1).mean())


def _states(scenario: Scenario, strategy: str, *rows: dict[str, float]) -> list[dict[str, Any]]:
    """Each state's trajectories ``{metric: [worlds, steps]}`` from one stacked run (the same
    worlds in every state: common random numbers); an uncertainty a row leaves out is at
    its nominal value."""
    names = sorted({k for r in rows for k in r})
    nominal = {name: u.nominal for _, name, u in uncertain_numbers(scenario) if name in names}
    frame = pd.DataFrame([{k: r.get(k, nominal[k]) for k in names} for r in rows])
    res = simulate_states(scenario, strategy, frame, WORLDS, [SEED] * len(rows))
    return [{m: v[i * WORLDS:(i + 1) * WORLDS] for m, v in res.metrics.items()}
            for i in range(len(rows))]


@pytest.fixture(scope="module")
def hostile_vs_engaged(flagship: Scenario) -> tuple[xr.Dataset, xr.Dataset]:
    """Containment reinvigorated (its hostile steps: renew and tighten) and moderate
    engagement, the same worlds."""
    hard = _with_strategy_params(flagship, "containment", baseline=0.0, tighten=0.0)
    return (simulate(hard, "containment", WORLDS, SEED),
            simulate(flagship, "moderate-engagement", WORLDS, SEED))


def test_containments_hostile_steps_raise_threat_and_friction_and_cost_allied_support(
    hostile_vs_engaged: tuple[xr.Dataset, xr.Dataset],
) -> None:
    hard, soft = hostile_vs_engaged
    assert float(hard["focal_level"].max()) <= 0.1 + 1e-6  # hostile steps only (0.1: neutral)
    assert _final(hard, "regional_threat") > _final(soft, "regional_threat") + 0.05
    assert _final(hard, "allied_friction") > 1.5 * _final(soft, "allied_friction")
    assert _final(hard, "allied_support") < _final(soft, "allied_support")


def test_allies_at_the_us_position_show_no_friction(flagship: Scenario) -> None:
    quiet = flagship.model_copy(update={"shocks": []})  # levels stay where the scenario sets
    at_line = {}
    # containment that never tightens (its answer to provocations would move the U.S. line)
    at_line["strategies[containment].params.tighten"] = 0.0
    for issue, level in (("us-sanctions", 85.0), ("ilsa", 70.0), ("caspian-transit", 10.0)):
        at_line[f"issues[{issue}].status_quo"] = level
        at_line.update({f"actors[{a}].positions.{issue}": level for a in ALLIES})
    same, apart = _states(quiet, "containment", at_line,
                          {"strategies[containment].params.tighten": 0.0})
    # the only U.S. line that moves is ILSA's renewal at its sunset (section 4c), a few points
    assert same["allied_friction"].max() < 0.05
    assert apart["allied_friction"].min() > 0.3
    assert np.all(same["allied_support"] >= apart["allied_support"])
    assert same["allied_support"][:, -1].mean() > apart["allied_support"][:, -1].mean() + 0.05


def test_a_concession_beyond_the_allies_line_can_cost_allied_support(
    flagship: Scenario,
) -> None:
    """Allies who hold the Caspian route where it stood (10): dismantling's oil swaps move it
    beyond their line; with symmetric friction that gap counts, so the mechanism can work
    against engagement too."""
    held = {f"actors[{a}].positions.caspian-transit": 10.0 for a in ALLIES}
    lo, hi = _states(flagship, "dismantle-sanctions",
                     *({"parameters.friction_symmetry": s, **held} for s in (0.0, 1.0)))
    # per world the two runs part ways once allied support feeds back on Iran (section 5b):
    # compare the means
    assert hi["allied_friction"].mean() > lo["allied_friction"].mean() + 0.01
    assert hi["allied_support"][:, -1].mean() < lo["allied_support"][:, -1].mean()


def test_allies_positions_clout_and_the_settlement_process_under_containment(
    flagship: Scenario,
) -> None:
    """Europe's ILSA position and Japan's clout (inert inputs before this mechanism) move a
    ranked metric; the settlement moves only with its process."""
    base, eu, japan, no_process = _states(
        flagship, "containment", {}, {"actors[eu].positions.ilsa": 15.0},
        {"actors[japan-govt].clout": 25.0}, {"parameters.settlement_hazard": 0.0},
    )
    for moved in (eu, japan):
        assert not np.array_equal(moved["allied_support"], base["allied_support"])
    s = base["settlement"]
    assert s.min() >= 0.0 and s.max() <= 1.0 and np.any(s > 0)
    assert no_process["settlement"].max() == 0.0  # escalation alone only pushes back


def test_shock_threat_and_neighbours_clout_move_the_threat(flagship: Scenario) -> None:
    war = "shocks[regional-war-iraq]"
    busy = {f"{war}.rate": 0.3}
    lo, hi, light, heavy = (x["regional_threat"] for x in _states(
        flagship, "containment", {**busy, f"{war}.threat": 0.05},
        {**busy, f"{war}.threat": 0.3}, {**busy, "actors[iraq-regime].clout": 4.0},
        {**busy, "actors[iraq-regime].clout": 10.0},
    ))
    assert np.all(hi >= lo) and np.any(hi > lo + 0.1)
    # a war cuts Iraq's clout: the heavier Iraq among the neighbours, the more the threat falls
    assert np.all(heavy <= light + 1e-6) and np.any(heavy < light - 1e-3)


def test_an_events_threat_jumps_at_its_date_in_every_world(tmp_path: Path) -> None:
    text = HISTORY.read_text()
    path = tmp_path / "h.yaml"
    path.write_text(text.replace("clout: {leader: 0.2}", "clout: {leader: 0.2}\n      threat: 0.3"))
    t = 3  # 2002-04-10 falls in 2002Q2
    base = simulate(HISTORY, "west-as-followed", 32, 7)
    hit = simulate(path, "west-as-followed", 32, 7)
    diff = (hit["regional_threat"] - base["regional_threat"]).values
    assert np.all(diff[:, :t] == 0)
    np.testing.assert_allclose(diff[:, t], 0.3, rtol=1e-5)
    assert np.all(diff[:, t + 1 :] > 0)
