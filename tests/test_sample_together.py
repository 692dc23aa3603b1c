"""A scenario's `sample_together`: numbers whose errors are shared are one uncertainty."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from detente.errors import InputError
from detente.experiments.sampling import sample_states
from detente.scenario import load_scenario, uncertainties
from detente.scenario.together import Member, member_value
from detente.scenario.uncertainty import resolve
from detente.scenario.yaml_loader import load_scenario_file

FIXTURE = Path(__file__).parent / "data" / "inert-system.yaml"
REFORM_DIALOGUE = "stances[east/reformist].positions.dialogue"
MEMBERS = ("actors[reformers].positions.dialogue", "actors[parliament].positions.dialogue",
           "actors[president].positions.dialogue", "actors[youth].positions.dialogue")


def _ranged(value: float, spread: float) -> dict[str, Any]:
    return {"low": value - spread, "mode": value, "high": value + spread,
            "judgment": "test: shared error"}


def _scenario(tmp_path: Path, together: list[dict[str, Any]] | None = None) -> Any:
    """The fixture with ranges on the reformist camp's positions on dialogue (and one on
    the leader's), grouped as ``together`` says."""
    data = yaml.safe_load(FIXTURE.read_text())
    for actor in data["actors"]:
        if actor.get("camp") in ("reformist", "conservative") and "dialogue" in actor["positions"]:
            spread = 4 if actor["id"] in ("youth", "leader") else 10
            actor["positions"]["dialogue"] = _ranged(actor["positions"]["dialogue"], spread)
    if together is not None:
        data["sample_together"] = together
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario_file(path)


CAMP = [{"id": "stances", "per": "camp", "inputs": ["actors[*].positions.*"],
         "reason": "a camp shares its view", "judgment": "test"}]


def test_per_camp_groups_replace_their_members_in_the_sample(tmp_path: Path) -> None:
    alone = [p.name for p in uncertainties(_scenario(tmp_path))]
    assert set(MEMBERS) <= set(alone)
    params = uncertainties(_scenario(tmp_path, CAMP))
    by_name = {p.name: p for p in params}
    group = by_name[REFORM_DIALOGUE]
    assert group.members == MEMBERS
    assert (group.low, group.nominal, group.high) == (-1.0, 0.0, 1.0)
    assert "stances[east/conservative].positions.dialogue" in by_name  # the leader alone
    assert not set(MEMBERS) & set(by_name)
    # every other uncertainty is untouched, in its place
    assert [n for n in by_name if not by_name[n].members] == [
        n for n in alone if not n.endswith("positions.dialogue")
    ]


def test_a_shift_moves_every_member_to_the_same_point_of_its_own_range(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, CAMP)
    def dialogue(s: Any, actor: str) -> float:
        return float(next(a for a in s.actors if a.id == actor).positions["dialogue"])
    assert dialogue(resolve(sc, {REFORM_DIALOGUE: 1.0}), "reformers") == 80.0
    assert dialogue(resolve(sc, {REFORM_DIALOGUE: 1.0}), "youth") == 84.0
    assert dialogue(resolve(sc, {REFORM_DIALOGUE: -0.5}), "parliament") == 55.0
    assert dialogue(resolve(sc, {REFORM_DIALOGUE: 0.0}), "president") == 50.0
    # a member given its own value keeps it
    both = resolve(sc, {REFORM_DIALOGUE: 1.0, "actors[youth].positions.dialogue": 77.0})
    assert dialogue(both, "youth") == 77.0 and dialogue(both, "reformers") == 80.0


def test_member_value_is_piecewise_linear_through_the_nominal() -> None:
    m = Member("x", low=10.0, nominal=40.0, high=50.0)
    assert [member_value(m, s) for s in (-1, -0.5, 0, 0.5, 1)] == [10, 25, 40, 45, 50]


def test_sampled_states_move_a_camp_together(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, CAMP)
    states = sample_states(sc, 12, seed=3)
    assert REFORM_DIALOGUE in states.columns and MEMBERS[0] not in states.columns
    shifts = states[REFORM_DIALOGUE].to_numpy()
    assert shifts.min() >= -1 and shifts.max() <= 1 and np.ptp(shifts) > 0.5
    levels = np.array([
        [float(next(a for a in resolve(sc, row.to_dict()).actors if a.id == actor)
               .positions["dialogue"]) for actor in ("reformers", "youth")]
        for _, row in states.iterrows()
    ])
    # comonotone: the two members' values rank the states in the same order
    assert (np.argsort(levels[:, 0]) == np.argsort(levels[:, 1])).all()


def test_one_group_without_per(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, [{"id": "doves", "inputs": ["actors[re*].positions.dialogue",
                                                          "actors[youth].positions.dialogue"],
                               "reason": "r", "judgment": "j"}])
    group = next(p for p in uncertainties(sc) if p.members)
    assert group.name == "together[doves]"
    assert group.members == ("actors[reformers].positions.dialogue",
                             "actors[youth].positions.dialogue")


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"id": "a", "inputs": ["actors[nobody].positions.*"], "reason": "r", "judgment": "j"},
         r"sample_together\[0\]\.inputs\[0\]: 'actors\[nobody\]\.positions\.\*' matches no "
         "sampled uncertain number"),
        ({"id": "a", "per": "camp", "inputs": ["parameters.*"], "reason": "r", "judgment": "j"},
         "per: camp groups actors' numbers"),
        ({"id": "a", "inputs": ["actors[*].positions.*"], "reason": "r"},
         r"sample_together\[0\]: an entry needs a 'source' or a 'judgment'"),
        ({"id": "A b", "inputs": ["x"], "reason": "r", "judgment": "j"}, r"sample_together\[0\]\.id"),
    ],
)
def test_bad_entries_are_one_line_problems(tmp_path: Path, entry: dict[str, Any],
                                           expected: str) -> None:
    data = yaml.safe_load(FIXTURE.read_text())
    data["actors"][2]["clout"] = _ranged(40, 20)
    data.setdefault("parameters", {})["memory"] = _ranged(0.3, 0.1)
    data["actors"][3]["positions"]["dialogue"] = _ranged(70, 10)
    data["sample_together"] = [entry]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError, match=expected):
        load_scenario_file(path)


def test_an_entry_matching_only_what_an_earlier_one_took_is_reported(tmp_path: Path) -> None:
    twice = [*CAMP, {"id": "again", "inputs": ["actors[youth].positions.dialogue"],
                     "reason": "r", "judgment": "j"}]
    with pytest.raises(InputError, match="matches only numbers an earlier entry groups"):
        _scenario(tmp_path, twice)


def test_flagship_groups_every_sampled_position_and_salience_by_camp() -> None:
    params = uncertainties(load_scenario("us-iran-2001"))
    alone = [p.name for p in params if not p.members]
    assert not [n for n in alone if ".positions." in n or ".saliences." in n]
    grouped = [m for p in params for m in p.members]
    assert len(grouped) == len(set(grouped)) > 100
    assert all(p.name.startswith(("stances[", "concerns[")) for p in params if p.members)


def test_report_shows_a_group_as_a_shift_of_its_members() -> None:
    from detente.report.html import _judgment_summary, _judgments

    rows = {r["name"]: r for r in _judgments(load_scenario("us-iran-2001"))}
    hard = rows["stances[iran/conservative].positions.dialogue"]
    assert hard["range"] == "shift -1 – 1 of 7 numbers" and hard["group"] == "yes"
    assert "Members: supreme-leader, guardian-council" in hard["provenance"]
    assert rows["issues[us-sanctions].status_quo"]["range"] == "80 – 90"
    assert "(81 of them groups of numbers sampled together)" in _judgment_summary(
        list(rows.values()))


def test_a_scenario_file_loads_from_a_string_path_too() -> None:
    assert load_scenario_file(str(FIXTURE)).id == load_scenario_file(FIXTURE).id
