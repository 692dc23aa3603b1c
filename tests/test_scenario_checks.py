"""Scenarios other than the flagship: they run end to end, and ``validate`` says why when not.

The annotated example of docs/scenario-format.md and tests/data/border-trade.yaml (written
from the docs alone) are validated, simulated and compared through the CLI; variants of the
example that the engine could not move trigger ``validate``'s warnings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from detente.experiments.analysis import outcome_spec, summary_markdown
from detente.experiments.robustness import compare, paired_lead
from detente.scenario import load_scenario
from detente.sim.checks import scenario_warnings

ROOT = Path(__file__).resolve().parents[1]
FORMAT_DOC = ROOT / "docs" / "scenario-format.md"
BORDER = ROOT / "tests" / "data" / "border-trade.yaml"


def _doc_example() -> dict[str, Any]:
    text = FORMAT_DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- example: system -->\s*```yaml\n(.*?)```", text, re.S)
    assert m, "no system example in docs/scenario-format.md"
    data = yaml.safe_load(m.group(1))
    assert isinstance(data, dict)
    return data


def _write(tmp_path: Path, data: dict[str, Any], name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _warnings(path: Path) -> list[str]:
    return [str(w) for w in scenario_warnings(load_scenario(path), str(path))]


@pytest.mark.parametrize("which", ["doc", "border"])
def test_scenario_runs_end_to_end(which: str, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, _doc_example()) if which == "doc" else BORDER
    engage = "grit" if which == "doc" else "engage"
    res = run_cli("validate", str(path))
    assert res.exit_code == 0 and res.stdout.startswith("ok:"), res.stderr
    assert "warning" not in res.stderr, res.stderr
    res = run_cli("simulate", str(path), "-s", engage, "--worlds", "64", "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert "terror_support" not in doc["metrics"] and "wmd" not in doc["metrics"]
    sanctions = doc["metrics"]["sanctions"]["mean"]
    assert sanctions[-1] < sanctions[0]  # the engagement strategy acts
    out = tmp_path / "out"
    res = run_cli("compare", str(path), "--states", "6", "--worlds", "16", "--json",
                  "--out", str(out))
    assert res.exit_code == 0, res.stderr
    frame = pd.DataFrame(json.loads(res.stdout)["comparison"])
    assert not {"terror_support", "wmd", "reform"} & set(frame.outcome)
    declared = [m["id"] for m in yaml.safe_load(path.read_text())["metrics"]]
    ranked = frame[frame.outcome.isin(declared)]
    assert set(ranked.outcome) == set(declared)  # every declared metric is compared
    spread = ranked.groupby("outcome")["mean"].agg(lambda x: x.max() - x.min())
    assert (spread > 0).sum() >= 2, spread  # outcomes move between strategies


def test_missing_roles_warn_and_fail_cleanly(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    data = _doc_example()
    for issue in data["issues"]:
        issue.pop("role")
    path = _write(tmp_path, data)
    res = run_cli("validate", str(path))
    assert res.exit_code == 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and all(x.startswith(f"warning: {path}: issues: ") for x in lines)
    assert "'role: sanctions'" in lines[0] and "'role: dialogue'" in lines[1]
    for args in (["simulate", str(path), "-s", "grit", "--worlds", "8"],
                 ["compare", str(path), "--states", "2", "--worlds", "8",
                  "--out", str(tmp_path / "o")]):
        res = run_cli(*args)
        assert res.exit_code == 2 and "Traceback" not in res.stderr
        assert len(res.stderr.strip().splitlines()) == 2 and "'role: sanctions'" in res.stderr
    assert not (tmp_path / "o" / "comparison.csv").exists()


def test_strategy_that_cannot_reach_a_step_is_named(tmp_path: Path) -> None:
    # without the small first rung, grit's max_level (<= 0.8) never reaches ease-trade (1.0)
    data = _doc_example()
    data["instruments"] = [x for x in data["instruments"] if x["id"] != "aid-licence"]
    for x in data["instruments"]:
        x.pop("requires", None)
    (w,) = [w for w in _warnings(_write(tmp_path, data)) if "strategies[grit]" in w]
    assert "never takes a step" in w
    assert "0.05-0.80" in w and "ease-trade) needs 1.00" in w


def test_veto_blocking_every_step_is_named(tmp_path: Path) -> None:
    # no executive: the leader's own veto and approval bind its proposals
    data = _doc_example()
    data["institutions"] = [i for i in data["institutions"] if i["id"] != "north-presidency"]
    data["institutions"][0]["holder"] = "north-leader"
    data["institutions"][0]["vetoes"][0]["tolerance"] = 2
    data["actors"][0]["positions"]["sanctions"] = 80
    data["instruments"][0]["approvals"] = ["north-leader"]
    ws = _warnings(_write(tmp_path, data))
    assert len(ws) == 3 and all("can never act" in w for w in ws)  # hold, grit and lift
    (grit,) = [w for w in ws if "strategies[grit]" in w]
    assert "blocked at the status quo" in grit and "aid-licence by north-leader's veto" in grit
    assert "no institution with 'role: presidency'" in grit


def test_no_instrument_and_unreported_metric(tmp_path: Path) -> None:
    data = _doc_example()
    data["instruments"] = [x for x in data["instruments"] if x["owner"] != "north"]
    data["metrics"].append({"id": "terror_support", "direction": "minimize"})
    ws = _warnings(_write(tmp_path, data))
    assert sum("north owns no instrument" in w for w in ws) == 3  # hold, grit, lift
    data = _doc_example()
    data["metrics"].append({"id": "terror_support", "direction": "minimize"})
    (w,) = _warnings(_write(tmp_path, data))
    assert w.endswith("is never compared") and "metrics[terror_support]" in w
    assert "role: terror-support" in w


def test_flagship_strategies_all_act() -> None:
    ws = [str(w) for w in scenario_warnings(load_scenario("us-iran-2001"), "us-iran-2001")]
    assert not [w for w in ws if "strategies[" in w or "issues:" in w], ws


# ---------------------------------------------------------------------------- near-ties
def test_paired_lead_calls_a_noisy_gap_a_tie() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(73.6, 5.0, size=12)
    values = np.column_stack([base + rng.normal(0, 0.5, 12), base + 0.1 + rng.normal(0, 0.5, 12),
                              base + 3.0])
    lead, lo, hi, tied = paired_lead(values, 1, "minimize")
    assert tied.tolist() == [True, True, False]  # 0.1 apart within noise: tie; 3 apart: not
    assert lo[0] < 0 < hi[0] and lo[2] > 0 and lead[1] == 0


def _state_means(values: np.ndarray, names: list[str], outcome: str) -> pd.DataFrame:
    rows = [{"state": s, "strategy": n, outcome: values[s, j]}
            for s in range(values.shape[0]) for j, n in enumerate(names)]
    return pd.DataFrame(rows)


def test_summary_never_ranks_tied_strategies_first_and_last() -> None:
    sc = load_scenario(BORDER)
    rng = np.random.default_rng(1)
    base = rng.normal(50, 5, size=10)
    values = np.column_stack([base + rng.normal(0, 1, 10), base + rng.normal(0, 1, 10),
                              base + rng.normal(0, 1, 10)])
    names = ["engage", "lift", "mirror"]
    means = _state_means(values, names, "dialogue")
    spec = outcome_spec(sc, ["dialogue"])
    frame = compare(means, spec.outcomes, spec.directions, spec.thresholds, strategies=names)
    assert frame["tied_with_best"].all() and not frame["decisive"].any()
    text, _ = summary_markdown(sc, frame, spec, means, pd.DataFrame(index=range(10)), names,
                               10, 16)
    assert "No strategy is clearly first on **dialogue**" in text
    assert "Last:" not in text and "ranks first" not in text
    assert "tie between" in text and "No strategy is clearly first on any outcome." in text
    # a clear winner is still called one
    values[:, 1] += 10
    means = _state_means(values, names, "dialogue")
    frame = compare(means, spec.outcomes, spec.directions, spec.thresholds, strategies=names)
    assert frame["decisive"].all()
    assert frame.set_index("strategy")["tied_with_best"].tolist() == [False, True, False]
    text, _ = summary_markdown(sc, frame, spec, means, pd.DataFrame(index=range(10)), names,
                               10, 16)
    assert "**lift** ranks first on **dialogue**" in text and "Clearly first" in text
