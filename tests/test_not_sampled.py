"""A scenario's `not_sampled`: uncertain numbers no mechanism reads, left out of sampling."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import detente
from detente.errors import InputError
from detente.scenario.yaml_loader import load_scenario_file

FLAGSHIP = Path(detente.__file__).parent / "data" / "scenarios" / "us-iran-2001.yaml"


def test_not_sampled_numbers_keep_their_nominal_and_leave_the_sample(tmp_path) -> None:
    from detente.scenario.uncertainty import not_sampled, uncertainties

    data = yaml.safe_load(FLAGSHIP.read_text())
    data["not_sampled"] = [
        {"inputs": ["actors[*].risk"], "reason": "only the expected-utility model reads it",
         "judgment": "the simulation has no risk attitude"},
    ]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    sc = load_scenario_file(path)
    dropped = not_sampled(sc)
    assert dropped and all(k.endswith(".risk") for k in dropped)
    names = {p.name for p in uncertainties(sc)}
    assert not names & set(dropped)
    data.pop("not_sampled")
    bare = tmp_path / "bare.yaml"
    bare.write_text(yaml.safe_dump(data, sort_keys=False))
    full = {p.name for p in uncertainties(load_scenario_file(bare))}
    assert names == full - set(dropped)


def test_not_sampled_patterns_must_match_and_brackets_are_literal(tmp_path) -> None:
    data = yaml.safe_load(FLAGSHIP.read_text())
    data["not_sampled"] = [
        {"inputs": ["actors[supreme-leader].riks", "actors[s*].risk"], "reason": "x",
         "judgment": "y"},
        {"inputs": ["actors[*].risk"], "reason": "no provenance"},
    ]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError) as info:
        load_scenario_file(path)
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == 2, lines
    assert any("riks" in line and "matches no uncertain number" in line for line in lines)
    assert any("needs a 'source' or a 'judgment'" in line for line in lines)
