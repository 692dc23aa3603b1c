"""Ablations (`detente ablate`): variants fix uncertainties on common states and worlds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import detente
from detente.errors import InputError
from detente.experiments.ablation import (
    Variant,
    ablation_table,
    check_variants,
    leaders,
    parse_variant,
)
from detente.scenario import load_scenario
from detente.scenario.yaml_loader import load_scenario_file

FLAGSHIP = Path(detente.__file__).parent / "data" / "scenarios" / "us-iran-2001.yaml"
CAP = "strategies[moderate-engagement].params.max_level"


@pytest.fixture(scope="module")
def flagship():
    return load_scenario("us-iran-2001")


def test_parse_variant_reads_names_and_values() -> None:
    v = parse_variant(f"nocap: {CAP}=1, parameters.engagement_gain = 0")
    assert v.id == "nocap"
    assert dict(v.fix) == {CAP: 1.0, "parameters.engagement_gain": 0.0}


@pytest.mark.parametrize("text", ["nocap", ": a=1", "x:", "x: a", "x: a=b", "x: a=nan"])
def test_parse_variant_refuses_malformed_text_in_one_line(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_variant(text)
    assert len(info.value.problems) == 1


def test_check_variants_names_unknown_uncertainties_and_repeated_ids(flagship) -> None:
    with pytest.raises(InputError) as info:
        check_variants(
            flagship,
            [Variant("a", {"parameters.engagement_gian": 0.0}), Variant("a", {CAP: 1.0})],
        )
    text = str(info.value)
    assert "parameters.engagement_gian" in text and "engagement_gain" in text
    assert "used twice" in text


def test_common_states_and_worlds_make_untouched_strategies_identical(flagship) -> None:
    table = ablation_table(
        flagship, ["containment", "moderate-engagement"], [Variant("nocap", {CAP: 1.0})],
        "focal_level", states=4, worlds=20, seed=3,
    )
    contain = table[table.strategy == "containment"].set_index("variant")
    # the cap belongs to moderate engagement only: containment sees the very same worlds
    assert contain.loc["nocap", "diff"] == 0.0
    assert contain.loc["nocap", "mean"] == contain.loc["baseline", "mean"]
    engage = table[table.strategy == "moderate-engagement"].set_index("variant")
    assert engage.loc["nocap", "mean"] != engage.loc["baseline", "mean"]
    assert engage.loc["nocap", "diff_lo"] <= engage.loc["nocap", "diff"]
    assert engage.loc["nocap", "diff"] <= engage.loc["nocap", "diff_hi"]


def test_leaders_follow_the_direction() -> None:
    import pandas as pd

    t = pd.DataFrame({"variant": ["b", "b"], "strategy": ["x", "y"], "mean": [1.0, 2.0]})
    assert leaders(t, "maximize")["b"] == "y"
    assert leaders(t, "minimize")["b"] == "x"
    assert leaders(t, "info")["b"] == ""
    t2 = t.assign(mean=[2.0, 2.0])
    assert leaders(t2, "maximize")["b"] == "x, y"


def test_scenario_ablations_are_validated_with_their_line(tmp_path) -> None:
    data = yaml.safe_load(FLAGSHIP.read_text())
    data["ablations"] = [
        {"id": "ok", "fix": {CAP: 1.0}, "judgment": "lift the cap"},
        {"id": "bad", "fix": {"parameters.no_such_gain": 0.0}, "judgment": "typo"},
        {"id": "bare", "fix": {CAP: 0.5}},
    ]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError) as info:
        load_scenario_file(path)
    lines = [str(p) for p in info.value.problems]
    assert len(lines) == 2
    assert any("no_such_gain" in line and "ablations" in line for line in lines)
    assert any("needs a 'source' or a 'judgment'" in line for line in lines)


def test_cli_prints_json_and_refuses_bad_input_with_exit_2(run_cli) -> None:
    ok = run_cli(
        "ablate", "us-iran-2001", "--variant", f"nocap: {CAP}=1", "--strategies",
        "moderate-engagement", "--metric", "focal_level", "--states", "2", "--worlds", "5",
        "--json",
    )
    assert ok.exit_code == 0, ok.stderr
    payload = json.loads(ok.stdout)
    assert [r["variant"] for r in payload["rows"]] == ["baseline", "nocap"]
    assert np.isfinite(payload["rows"][1]["diff"])
    for args in (["--variant", "nocap"], ["--variant", "x: parameters.engagement_gain=0",
                                           "--metric", "no_such_metric"]):
        bad = run_cli("ablate", "us-iran-2001", *args)
        assert bad.exit_code == 2
        lines = bad.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in bad.stderr

