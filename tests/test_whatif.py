"""What-if levers and one-state runs (detente.experiments.whatif), and ``simulate --set``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detente.errors import InputError
from detente.experiments import whatif
from detente.scenario import load_scenario
from detente.scenario.uncertainty import uncertainties
from detente.sim import trajectory_quantiles

MINI = str(Path(__file__).parent / "data" / "mini-system.yaml")


@pytest.fixture(scope="module")
def flagship():  # type: ignore[no-untyped-def]
    return load_scenario("us-iran-2001")


def test_camp_strength_moves_every_member_between_its_bounds(flagship) -> None:  # type: ignore[no-untyped-def]
    levers = {lv.id: lv for lv in whatif.camp_levers(flagship)}
    camp = levers["camp[iran/conservative].clout"]
    members = {a.id for a in flagship.actors if a.country == "iran" and a.camp == "conservative"}
    assert {m.name for m in camp.members} <= {f"actors[{a}].clout" for a in members}
    assert len(camp.members) >= 2
    params = {p.name: p for p in uncertainties(flagship)}
    for setting, bound in ((1.0, "high"), (-1.0, "low"), (0.0, "nominal")):
        values = camp.values(setting)
        for name, value in values.items():
            assert value == pytest.approx(getattr(params[name], bound))
    half = camp.values(0.5)
    for m in camp.members:
        assert half[m.name] == pytest.approx((m.nominal + m.high) / 2)


def test_key_levers_without_sensitivity_offer_camps_and_say_why(flagship) -> None:  # type: ignore[no-untyped-def]
    levers, note = whatif.key_levers(flagship.model_copy(update={"key_uncertainties": []}))
    ids = [lv.id for lv in levers]
    assert "camp[iran/conservative].clout" in ids
    assert "No Sobol sensitivity run" in note
    assert not any(i.startswith("strategies[") for i in ids)


def test_key_levers_follow_total_effect_indices(flagship) -> None:  # type: ignore[no-untyped-def]
    names = [p.name for p in uncertainties(flagship) if p.name.startswith("parameters.")]
    rng = np.random.default_rng(3)
    st = rng.uniform(0, 1, len(names))
    frame = pd.DataFrame({"parameter": names, "S1": st / 2, "ST": st})
    unnamed = flagship.model_copy(update={"key_uncertainties": []})
    levers, note = whatif.key_levers(unnamed, frame, "run X", count=4)
    expected = [names[i] for i in np.argsort(-st)[:4]]
    assert [lv.id for lv in levers] == expected
    assert "total-effect" in note and "run X" in note


def test_the_scenarios_own_key_uncertainties_come_first(flagship) -> None:  # type: ignore[no-untyped-def]
    named = flagship.key_uncertainties
    assert 4 <= len(named) <= 6
    names = [p.name for p in uncertainties(flagship) if p.name.startswith("parameters.")]
    frame = pd.DataFrame({"parameter": names, "ST": np.random.default_rng().uniform(0, 1,
                                                                                    len(names))})
    for sens in (None, frame):  # before a Sobol run's ranking too
        levers, note = whatif.key_levers(flagship, sens, "run X")
        assert [lv.id for lv in levers] == [k.name for k in named]
        assert "key_uncertainties" in note
        for lever, k in zip(levers, named, strict=True):
            assert (k.source or k.judgment or "") in lever.detail
    assert "camp[iran/conservative].clout" in [k.name for k in named]


def test_model_parameters_are_labelled_by_their_meaning(flagship) -> None:  # type: ignore[no-untyped-def]
    from detente.sim.parameters import parameter_docs

    docs = parameter_docs()
    levers = whatif.all_levers(flagship)
    params = [lv for name, lv in levers.items() if name.startswith("parameters.")]
    assert params
    for lever in params:
        meaning = docs[lever.id.removeprefix("parameters.")][1]
        assert lever.label.lower() == meaning.lower()  # not the raw id
        assert lever.label[0].isupper()


def test_key_uncertainties_are_checked_with_their_lines(tmp_path: Path) -> None:
    from detente.experiments.runner import scenario_hash
    from detente.runs.scenario_text import scenario_from_text

    text = Path(MINI).read_text()
    section = ("key_uncertainties:\n"
               "  - {name: parameters.demographic_drift, judgment: fixture}\n"
               "  - {name: parameters.demographic_drif, judgment: fixture}\n"
               "  - {name: parameters.demographic_drift, judgment: fixture}\n"
               "  - {name: \"camp[east/reformist].clout\"}\n")
    head = len(text.splitlines()) + 1  # the line of "key_uncertainties:"
    with pytest.raises(InputError) as err:
        scenario_from_text(text + section, "k.yaml")
    shown = [str(p) for p in err.value.problems]
    by_line = {p.line: p.message for p in err.value.problems}
    assert sorted(p.line for p in err.value.problems) == [head + 2, head + 3, head + 4,
                                                          head + 4], shown
    assert '"parameters.demographic_drift"' in by_line[head + 2]  # the closest name
    assert "listed twice" in by_line[head + 3]
    # the mini scenario's camps have no uncertain clout, so no camp strength to move
    assert any("not an uncertainty" in p.message and p.line == head + 4
               for p in err.value.problems)
    # the section changes no number: an empty one hashes as none; a good one loads
    ok = scenario_from_text(text + section.split("  - {name: parameters.demographic_drif,")[0],
                            "k.yaml")
    assert [k.name for k in ok.key_uncertainties] == ["parameters.demographic_drift"]
    assert scenario_hash(scenario_from_text(text + "key_uncertainties: []\n", "k.yaml")) == \
        scenario_hash(scenario_from_text(text, "k.yaml"))


def test_check_settings_refuses_unknown_and_out_of_range(flagship) -> None:  # type: ignore[no-untyped-def]
    levers = whatif.all_levers(flagship)
    with pytest.raises(InputError) as info:
        whatif.check_settings(levers, {"parameters.perception_bias_iran": 3.0,
                                       "parameters.nope": 1.0, "camp[iran/conservative].clout": "x"})
    text = str(info.value)
    assert "outside its range" in text and "unknown uncertainty 'parameters.nope'" in text
    assert "expected a number" in text
    with pytest.raises(InputError):
        whatif.check_settings(levers, {"camp[iran/conservative].clout": float("nan")})


def test_parse_settings() -> None:
    assert whatif.parse_settings(["a.b=1.5", "c[x/y].z=-1"]) == {"a.b": 1.5, "c[x/y].z": -1.0}
    with pytest.raises(InputError, match="expected NAME=NUMBER"):
        whatif.parse_settings(["a.b"])
    with pytest.raises(InputError, match="expected NAME=NUMBER"):
        whatif.parse_settings(["a=inf"])


def test_what_if_numbers_are_simulate_numbers_and_its_summaries() -> None:
    sc = load_scenario(MINI)
    lever = whatif.key_levers(sc)[0][0]
    setting = float(np.random.default_rng().uniform(lever.low, lever.high))
    values = whatif.check_settings(whatif.all_levers(sc), {lever.id: setting})
    result = whatif.run_what_if(sc, ["engage", "wait"], values, 256, seed=5)
    alone = trajectory_quantiles(sc, ["engage", "wait"], 256, 5, values=values)
    pd.testing.assert_frame_equal(result.quantiles, alone)
    from detente.sim import summarize

    direct = summarize(sc, "wait", 256, 5, values=values)
    for k, v in direct.items():
        np.testing.assert_array_equal(result.summaries["wait"][k], v)
    row = result.outcomes[(result.outcomes.strategy == "wait")
                          & (result.outcomes.outcome == "rapprochement")].iloc[0]
    assert row["mean"] == pytest.approx(direct["rapprochement"].mean())


def test_what_if_refuses_too_many_worlds() -> None:
    sc = load_scenario(MINI)
    with pytest.raises(InputError, match="worlds per what-if"):
        whatif.run_what_if(sc, ["engage", "wait"], {}, whatif.MAX_WHATIF_WORLDS, 0)


def test_simulate_set(run_cli) -> None:  # type: ignore[no-untyped-def]
    sc = load_scenario(MINI)
    lever = whatif.key_levers(sc)[0][0]
    setting = float(np.random.default_rng().uniform(lever.low, lever.high))
    r = run_cli("simulate", MINI, "-s", "engage", "-n", "128", "--seed", "2", "--json",
                "--set", f"{lever.id}={setting!r}")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    frame = trajectory_quantiles(sc, "engage", 128, 2, values=lever.values(setting))
    dialogue = frame[frame.metric == "dialogue"].sort_values("step")
    assert doc["metrics"]["dialogue"]["mean"] == [round(float(x), 6) for x in dialogue["mean"]]
    assert doc["values"] == lever.values(setting)
    bad = run_cli("simulate", MINI, "-s", "engage", "--set", f"{lever.id}=1e9", "--set", "x=1")
    assert bad.exit_code == 2 and "outside its range" in bad.stderr and "unknown" in bad.stderr
    assert "Traceback" not in bad.stderr
