"""History (issue 11 item 1): the schema's one-line errors, scripted strategies, scheduled
events, observations evaluated on simulated worlds, and held-out observation files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from detente.errors import InputError
from detente.experiments.runner import check_strategies
from detente.history import (
    load_observations,
    log_likelihood,
    observation_log_probabilities,
    observe,
)
from detente.scenario import load_scenario, uncertainties
from detente.sim import simulate
from detente.sim.rng import WorldRNG, name_key
from detente.sim.strategies import Scripted, TitForTat, View

FIXTURE = Path(__file__).parent / "data" / "mini-history.yaml"
TEXT = FIXTURE.read_text()
SEED, WORLDS = 7, 32


def _problems(tmp_path: Path, old: str, new: str) -> tuple[list[str], str]:
    assert old in TEXT, old
    text = TEXT.replace(old, new, 1)
    path = tmp_path / "h.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems], text


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "path", "fragment"),
    [
        ("instrument: w-tighten, action: \"on\"", "instrument: e-talks, action: \"on\"",
         "history.scripts[0].steps[0].instrument", "choices are observations, never scripts"),
        ("date: 2002-04-10", "date: 2005-08-10", "history.events[0].date",
         "after the calendar's last day 2005-06-30"),
        ("date: 2001-08-01", "date: 2001-06-01", "history.scripts[0].steps[0].date",
         "before the calendar start 2001-07-01"),
        ("expression: \"in_force('e-talks')\"", "expression: \"in_force('e-talk')\"",
         "history.observations[0].expression", 'did you mean "e-talks"'),
        ("expression: \"reform_share\"", "expression: \"reform_shar\"",
         "history.observations[3].expression", "unknown outcome 'reform_shar'"),
        ("observed: 68", "observed: true", "history.observations[2].observed",
         "the expression is a value"),
        ("observed: false,\n       error: 0.1", "observed: 0.3,\n       error: 0.1",
         "history.observations[0].observed", "must be true or false"),
        ("observed: true, error: 0.05", "observed: true, error: 0.5",
         "history.observations[1].error", "must be below 0.5"),
        ("{date: 2001-11-15, level: 0.7,", "{date: 2001-11-15, level: 0.7, instrument: w-ease,",
         "history.scripts[0].steps[1]", "either 'instrument'"),
        ("then: wait", "then: west-as-followed", "history.scripts[0].then", "is a script"),
        ("clout: {leader: 0.2}", "clout: {leadr: 0.2}", "history.events[0].clout.leadr",
         "unknown actor"),
        ("until: 2002-06-30", "until: 2001-09-30", "history.scripts[0].until",
         "before the script's last step"),
        ("      judgment: \"fixture\"\n  observations:", "  observations:",
         "history.events[0]", "needs a 'source'"),
    ],
)
def test_history_errors_are_one_located_line(
    tmp_path: Path, old: str, new: str, path: str, fragment: str
) -> None:
    problems, text = _problems(tmp_path, old, new)
    assert len(problems) == 1, problems
    assert "\n" not in problems[0]
    assert f": {path}: " in problems[0] and fragment in problems[0], problems[0]
    where = problems[0].split(": ")[0]
    assert where.startswith(str(tmp_path / "h.yaml") + ":")
    assert int(where.split(":")[-2]) >= _line(text, "history:")


def _with(tmp_path: Path, edit: Any) -> Any:
    data = yaml.safe_load(TEXT)
    edit(data)
    path = tmp_path / f"s{abs(hash(str(data))) % 10**8}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(path)


def test_a_script_that_mirrors_its_hand_over_runs_exactly_like_it(tmp_path: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["history"]["scripts"].append(
            {"id": "mirror", "country": "west", "then": "defector", "until": "2002-12-31",
             "judgment": "test", "steps": [{"date": "2001-07-01", "level": 0.0, "judgment": "t"}]}
        )
        d["history"]["events"] = []  # events come with a replay only, so they would differ

    s = _with(tmp_path, edit)
    a = simulate(s, "mirror", WORLDS, SEED)
    b = simulate(s, "defector", WORLDS, SEED)
    for m in a.data_vars:
        np.testing.assert_array_equal(a[m].values, b[m].values, err_msg=m)


def test_scripted_switches_are_replayed_exactly_then_the_hand_over_plays() -> None:
    s = load_scenario(FIXTURE)
    d = simulate(s, "west-as-followed", WORLDS, SEED, record_state=True)
    tighten = d.in_force.sel(instrument="w-tighten").values
    # forced on at 2001Q3 (step 0) in every world, withdrawn at 2002Q1 (step 2)
    assert tighten[:, :2].all() and not tighten[:, 2:4].any()
    # step 0: only the hostile switch, no ladder level yet: the posture is hostile
    assert (d.focal_level.values[:, 0] < 0.5).all()
    # after the script (until 2002-06-30 = step 3) containment ('wait') plays: no
    # conciliatory instrument is wanted any more, so the easing steps are withdrawn
    assert np.allclose(d.focal_level.values[:, 5:], d.focal_level.values[:, 5:6])


def test_scripted_strategy_replays_levels_then_matches_the_hand_over() -> None:
    n, turns = 6, 5
    rng = np.random.default_rng(0)
    own, perceived = rng.random((n, turns)), rng.random((n, turns))
    scripted, plain = Scripted(levels=(0.3, 0.3, math.nan), then="tit-for-tat"), TitForTat()
    for strat in (scripted, plain):
        strat.reset(n, WorldRNG(1, name_key("a"), 0, n))
    for t in range(turns):
        view = View(t, own[:, :t], perceived[:, :t], np.full(n, 0.5), WorldRNG(1, name_key("b"), 0, n))
        got, ref = scripted.move(view), plain.move(view)
        if t < 2:
            assert (got == 0.3).all()
        elif t == 2:
            assert np.isnan(got).all()
        else:
            np.testing.assert_array_equal(got, ref)


def test_scripts_are_strategy_ids_and_scripted_alone_is_refused() -> None:
    s = load_scenario(FIXTURE)
    assert check_strategies(s, ["west-as-followed", "engage"]) == ["west-as-followed", "engage"]
    with pytest.raises(InputError, match=r"replays a scenario's history script.*west-as-followed"):
        check_strategies(s, ["scripted"])


def test_a_scheduled_event_moves_the_levels_at_its_date_in_every_world(tmp_path: Path) -> None:
    with_event = load_scenario(FIXTURE)
    without = _with(tmp_path, lambda d: d["history"].pop("events"))
    name = "history.events[war].effects.terror"
    assert name in {u.name for u in uncertainties(with_event, history=True)}
    t = 3  # 2002-04-10 falls in 2002Q2
    replay = "west-as-followed"  # events come with a replay of history
    base = simulate(without, replay, WORLDS, SEED, record_state=True)
    for value in (10.0, 14.0):
        hit = simulate(with_event, replay, WORLDS, SEED, values={name: value}, record_state=True)
        diff = (hit.level - base.level).sel(issue="terror").values
        assert np.all(diff[:, :t] == 0)
        np.testing.assert_allclose(diff[:, t], value, rtol=1e-5)


def test_observations_match_a_hand_computation_on_the_trajectories() -> None:
    s = load_scenario(FIXTURE)
    got = observe(s, "west-as-followed", WORLDS, SEED)
    d = simulate(s, "west-as-followed", WORLDS, SEED, record_state=True)
    force = d.in_force.values
    k_talks = list(d.instrument.values).index("e-talks")
    k_resp = list(d.instrument.values).index("e-respond")
    v = got["value"]
    # in_force at 2003-03-01 (2003Q1 = step 6)
    np.testing.assert_array_equal(v.sel(observation="talks-open"), force[:, 6, k_talks])
    # taken within 2002 (steps 2..5): started in one of them
    prev = np.concatenate([np.zeros_like(force[:, :1]), force[:, :-1]], axis=1)
    started = (force & ~prev)[:, 2:6, k_resp].any(axis=1)
    np.testing.assert_array_equal(v.sel(observation="respond-2002"), started)
    np.testing.assert_allclose(v.sel(observation="terror-level"),
                               d.level.sel(issue="terror").values[:, 3], rtol=1e-6)
    np.testing.assert_allclose(v.sel(observation="reform-share"),
                               d.reform_share.values[:, 6:10].astype(np.float64).mean(axis=1))
    np.testing.assert_array_equal(v.sel(observation="majlis"),
                                  d.legislature_reform_majority.values[:, 11])
    # scoring: the binary formula and the Gaussian kernel, by hand
    obs = {o.id: o for o in s.history.observations}
    lp = observation_log_probabilities(got, list(obs.values()))
    p = float(np.mean(force[:, 6, k_talks]))
    assert lp["talks-open"] == pytest.approx(np.log(0.9 * (1 - p) + 0.1 * p))
    x = d.level.sel(issue="terror").values[:, 3].astype(np.float64)
    dens = np.mean(np.exp(-0.5 * ((68 - x) / 5) ** 2) / (5 * np.sqrt(2 * np.pi)))
    assert lp["terror-level"] == pytest.approx(np.log(dens), rel=1e-6)
    assert log_likelihood(got, list(obs.values())) == pytest.approx(lp.sum())


def test_observations_do_not_depend_on_chunking() -> None:
    s = load_scenario(FIXTURE)
    a = observe(s, "west-as-followed", 64, SEED, chunk=64)
    b = observe(s, "west-as-followed", 64, SEED, chunk=32)
    np.testing.assert_array_equal(a["value"].values, b["value"].values)


HELD = """scenario: mini-history
observations:
  - {id: late-talks, date: 2004-06-01, expression: "in_force('e-talks')", observed: true,
     error: 0.1, judgment: "fixture"}
"""


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("scenario: mini-history", "scenario: mini-system",
         "1:11: scenario: the file is for scenario 'mini-system'"),
        ("id: late-talks", "id: majlis", "3:10: observations[0].id: id 'majlis' is already"),
        ("date: 2004-06-01", "date: 2009-06-01", "3:28: observations[0].date: observation date"),
        ("error: 0.1", "error: 0.1, eror: 1", "4:18: observations[0].eror: unknown key"),
        ("in_force('e-talks')", "in_force(e-talks)", "observations[0].expression: expression"),
    ],
)
def test_held_out_file_errors(tmp_path: Path, old: str, new: str, fragment: str) -> None:
    path = tmp_path / "held.yaml"
    path.write_text(HELD.replace(old, new))
    with pytest.raises(InputError) as info:
        load_observations(path, load_scenario(FIXTURE))
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == 1 and fragment in lines[0], lines


def test_held_out_observations_are_evaluated_like_the_scenarios(tmp_path: Path) -> None:
    path = tmp_path / "held.yaml"
    path.write_text(HELD)
    s = load_scenario(FIXTURE)
    held = load_observations(path, s)
    got = observe(s, "west-as-followed", WORLDS, SEED, observations=held)
    d = simulate(s, "west-as-followed", WORLDS, SEED, record_state=True)
    np.testing.assert_array_equal(
        got["value"].sel(observation="late-talks"),
        d.in_force.sel(instrument="e-talks").values[:, 11],  # 2004Q2
    )


def test_a_scenario_without_history_dumps_as_before() -> None:
    s = load_scenario(Path(__file__).parent / "data" / "minimal-system.yaml")
    assert s.history is None
    assert "history" not in s.model_dump() and '"history"' not in s.model_dump_json()


def test_events_come_with_a_replay_never_with_the_options() -> None:
    """Dated events are history: a script meets them; a strategy judged from the start does
    not (hindsight must not reach the options), and their numbers are not sampled there."""
    from detente.scenario import uncertainties

    s = load_scenario(FIXTURE)
    assert s.history is not None and s.history.events
    script = s.history.scripts[0]
    from detente.sim.system import compile_system

    assert compile_system(s, script.id).events is not None
    assert compile_system(s, script.then).events is None
    names = [p.name for p in uncertainties(s)]
    assert not any(n.startswith("history.") for n in names)
    assert any(p.name.startswith("history.") for p in uncertainties(s, history=True))


def test_bare_yaml_on_and_off_are_read_as_actions(tmp_path: Path) -> None:
    """PyYAML reads ``action: on`` as true; the documented example must still load."""
    text = TEXT.replace('action: "on"', "action: on").replace("action: 'on'", "action: on")
    path = tmp_path / "bare.yaml"
    path.write_text(text)
    s = load_scenario(path)
    assert s.history is not None
    actions = {st.action for sc in s.history.scripts for st in sc.steps if st.instrument}
    assert actions <= {"on", "off"} and actions


def test_prior_predictive_pools_each_states_probability_of_the_record() -> None:
    from detente.experiments.chunks import state_seed
    from detente.experiments.sampling import sample_states
    from detente.history import prior_predictive

    s = load_scenario(FIXTURE)
    assert s.history is not None
    states = sample_states(s, 3, "lhs", 5, history=True)
    assert any(str(c).startswith("history.") for c in states.columns)
    table = prior_predictive(s, "west-as-followed", states, 16, seed=5).set_index("observation")
    by_state = []
    for state, row in zip(states.index, states.to_dict("records"), strict=True):
        sim = observe(s, "west-as-followed", 16, state_seed(5, int(state)), values=row)
        by_state.append(np.exp(observation_log_probabilities(sim, s.history.observations)))
    expected = np.mean(by_state, axis=0)
    np.testing.assert_allclose(table["probability"].to_numpy(), expected, rtol=1e-12)
    assert (table["probability_min"] <= table["probability"]).all()
    assert (table["probability"] <= table["probability_max"]).all()
    binary = table[table["kind"] == "binary"]
    assert len(binary) and binary["share_true"].between(0, 1).all()


def test_validate_refuses_an_unknown_hand_over_naming_the_file(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad-then.yaml"
    text = TEXT.replace("then: wait", "then: wiat")
    assert text != TEXT
    path.write_text(text)
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {path}: history.scripts[0].then: unknown strategy 'wiat'")
