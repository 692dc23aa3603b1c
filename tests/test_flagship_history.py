"""The flagship's history (issue 11): what us-iran-2001 is calibrated and hindcast against.

The calibration window (July 2001 - December 2003) is the flagship's ``history`` section; the
held-out observations (2004 to the horizon) live in ``data/history/us-iran-2001-heldout.yaml``
and are read only by hindcast. Until the history schema is part of the scenario format, the
section is staged in ``data/history/us-iran-2001-history.yaml`` (the flagship would not
validate with an unknown key); these structural checks read the YAML directly and hold for
either place. The checks that need the schema are skipped, with a reason, where it is absent.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from detente.scenario.schema import Scenario

DATA = Path(__file__).resolve().parents[1] / "src" / "detente" / "data"
FLAGSHIP = DATA / "scenarios" / "us-iran-2001.yaml"
STAGED = DATA / "history" / "us-iran-2001-history.yaml"
HELDOUT = DATA / "history" / "us-iran-2001-heldout.yaml"

CUTOFF = dt.date(2004, 1, 1)
"""First day of the held-out period (hindcast cut-off 2003Q4)."""

SCHEMA_HAS_HISTORY = "history" in Scenario.model_fields
needs_schema = pytest.mark.skipif(
    not SCHEMA_HAS_HISTORY,
    reason="needs the scenario 'history' schema of issue 11 (branch g-history), not merged here",
)


@cache
def _yaml(path: Path) -> dict[str, Any]:
    """The parsed file, read once per session (the tests only read it)."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), f"{path}: expected a mapping"
    return data


def _flagship() -> dict[str, Any]:
    return _yaml(FLAGSHIP)


def _history() -> dict[str, Any]:
    """The flagship's history section, or the staged copy while the schema is absent."""
    own = _flagship().get("history")
    if own is not None:
        return dict(own)
    return dict(_yaml(STAGED)["history"])


def _heldout() -> dict[str, Any]:
    return _yaml(HELDOUT)


def _dates(entry: dict[str, Any]) -> tuple[dt.date, dt.date]:
    """First and last day an observation looks at (its date, or its window's ends)."""
    if "window" in entry:
        return entry["window"]["from"], entry["window"]["to"]
    return entry["date"], entry["date"]


def _calendar_end(flagship: dict[str, Any]) -> dt.date:
    cal = flagship["calendar"]
    assert cal["step"] == "quarter"
    start: dt.date = cal["start"]
    months = start.month - 1 + 3 * int(cal["horizon"])
    return dt.date(start.year + months // 12, months % 12 + 1, 1)


def test_calibration_window_has_at_least_12_observations_up_to_2003q4() -> None:
    flagship = _flagship()
    start = flagship["calendar"]["start"]
    observations = _history()["observations"]
    inside = [o for o in observations if start <= _dates(o)[0] and _dates(o)[1] < CUTOFF]
    assert len(inside) >= 12
    late = [o["id"] for o in observations if _dates(o)[1] >= CUTOFF]
    assert late == [], f"observations after 2003 belong in the held-out file: {late}"


def test_heldout_file_has_at_least_15_observations_from_2004_to_the_horizon() -> None:
    flagship = _flagship()
    heldout = _heldout()
    assert heldout["scenario"] == flagship["id"]
    observations = heldout["observations"]
    assert len(observations) >= 15
    early = [o["id"] for o in observations if _dates(o)[0] < CUTOFF]
    assert early == [], f"held-out observations before 2004-01-01: {early}"
    end = _calendar_end(flagship)
    beyond = [o["id"] for o in observations if _dates(o)[1] >= end]
    assert beyond == [], f"held-out observations after the horizon ({end}): {beyond}"


def test_heldout_ids_do_not_repeat_the_scenarios() -> None:
    own = [o["id"] for o in _history()["observations"]]
    held = [o["id"] for o in _heldout()["observations"]]
    assert len(set(own)) == len(own) and len(set(held)) == len(held)
    assert set(own).isdisjoint(held)


def test_every_entry_names_a_source() -> None:
    history = _history()
    entries: list[tuple[str, dict[str, Any]]] = []
    for script in history["scripts"]:
        entries.append((f"script {script['id']}", script))
        entries += [(f"script {script['id']} step {s['date']}", s) for s in script["steps"]]
    entries += [(f"event {e['id']}", e) for e in history["events"]]
    entries += [(f"observation {o['id']}", o) for o in history["observations"]]
    entries += [(f"held-out {o['id']}", o) for o in _heldout()["observations"]]
    missing = [name for name, entry in entries if not str(entry.get("source", "")).strip()]
    assert missing == []


def test_scripts_switch_only_us_instruments_and_events_name_none() -> None:
    """Iran's choices are observations: no script step of an Iranian instrument."""
    flagship = _flagship()
    owner = {ins["id"]: ins["owner"] for ins in flagship["instruments"]}
    history = _history()
    assert [s["country"] for s in history["scripts"]] == ["us"]
    for script in history["scripts"]:
        for step in script["steps"]:
            if "instrument" in step:
                assert owner[step["instrument"]] == script["country"], step
    issues = {i["id"] for i in flagship["issues"]}
    actors = {a["id"] for a in flagship["actors"]}
    for event in history["events"]:
        assert "instrument" not in event
        assert set(event.get("effects", {})) <= issues, event["id"]
        assert set(event.get("clout", {})) <= actors, event["id"]


@needs_schema
def test_flagship_carries_the_history_section_and_validates(run_cli: Any) -> None:
    assert "history" in _flagship(), (
        f"the schema knows 'history': move the staged section of {STAGED.name} into the "
        "flagship (append it, then delete the staged file)"
    )
    result = run_cli("validate", "us-iran-2001")
    assert result.exit_code == 0, result.stderr


@needs_schema
def test_heldout_observations_pass_the_schema_checks() -> None:
    from detente.scenario import load_scenario, schema

    scenario = load_scenario("us-iran-2001")
    observations = [schema.Observation.model_validate(o) for o in _heldout()["observations"]]
    assert schema.observation_problems(scenario, observations, ("observations",)) == []
