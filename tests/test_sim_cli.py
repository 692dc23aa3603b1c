"""The ``detente simulate`` command."""

from __future__ import annotations

import json
from pathlib import Path

MINI = str(Path(__file__).parent / "data" / "mini-system.yaml")


def test_simulate_json(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("simulate", MINI, "--strategy", "engage", "--worlds", "300", "--seed", "1", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["dates"][0] == "2001Q3" and len(doc["dates"]) == 16
    for m in ("reform_share", "legislature_reform_majority", "presidency_reform", "sanctions",
              "dialogue", "rapprochement", "terror_support", "allied_support",
              "focal_domestic_cost", "unreciprocated"):
        assert set(doc["metrics"][m]) == {"mean", "p05", "p50", "p95"}
        assert len(doc["metrics"][m]["mean"]) == 16
    assert "wmd" not in doc["metrics"]  # no issue with role: wmd in this scenario


def test_simulate_table_and_bad_input(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("simulate", MINI, "--strategy", "wait", "--worlds", "300")
    assert r.exit_code == 0 and "reform_share" in r.stdout
    bad = run_cli("simulate", MINI, "--strategy", "engag")
    assert bad.exit_code == 2 and 'did you mean "engage"' in bad.stderr
    assert "Traceback" not in bad.stderr
    bad = run_cli("simulate", MINI, "--strategy", "wait", "--worlds", "0")
    assert bad.exit_code == 2
