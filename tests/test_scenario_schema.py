"""Schema, uncertain numbers, uncertainties and resolution on a valid scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from detente.errors import InputError
from detente.scenario import load_scenario, nominal, resolve, uncertainties
from detente.scenario.numbers import Uncertain
from detente.scenario.uncertainty import uncertain_numbers

DATA = Path(__file__).parent / "data"
MINIMAL = DATA / "minimal-system.yaml"


def test_minimal_scenario_loads_with_all_sections() -> None:
    s = load_scenario(MINIMAL)
    assert [c.id for c in s.countries] == ["north", "south", "ally"]
    assert s.actor("leader").country == "north"
    assert s.issue("trade").anchors[100.0] == "embargo"
    assert s.institutions[0].vetoes[0].issues == ["talks"]
    assert s.instrument("open-talks").reversible is False
    assert s.calendar is not None and s.calendar.elections[0].institution == "council"
    assert [a.id for a in s.actors_of("north")] == ["leader", "reformers"]


def test_uncertainties_list_every_ranged_number_with_provenance() -> None:
    s = load_scenario(MINIMAL)
    names = {u.name: u for u in uncertainties(s)}
    assert set(names) == {
        "issues[trade].status_quo",
        "actors[leader].clout",
        "institutions[council].vetoes[0].tolerance",
        "instruments[ease-trade].delay",
        "strategies[engage].params.patience",
        "shocks[attack].rate",
        "parameters.demographic_drift",
    }
    clout = names["actors[leader].clout"]
    assert (clout.low, clout.nominal, clout.high) == (40, 50, 60)
    assert clout.distribution == "triangular"
    assert names["shocks[attack].rate"].distribution == "uniform"
    assert clout.provenance == "analyst judgment: fixture"


def test_resolve_fixes_numbers_and_overrides() -> None:
    s = load_scenario(MINIMAL)
    fixed = resolve(s, {"actors[leader].clout": 42.0})
    assert fixed.actor("leader").clout == 42.0
    assert fixed.issue("trade").status_quo == 80.0
    assert not any(u.is_range for _, _, u in uncertain_numbers(fixed))
    assert uncertainties(fixed) == []


def test_resolve_rejects_unknown_names_with_suggestion() -> None:
    s = load_scenario(MINIMAL)
    with pytest.raises(InputError, match=r"did you mean \"actors\[leader\]\.clout\""):
        resolve(s, {"actors[leader].clot": 1.0})


@given(
    low=st.floats(-1e6, 1e6, allow_nan=False),
    width=st.floats(0, 1e6, allow_nan=False),
    frac=st.floats(0, 1),
)
def test_triangular_nominal_is_mode_and_within_bounds(low: float, width: float, frac: float) -> None:
    high = low + width
    mode = min(max(low + frac * width, low), high)
    u = Uncertain(low=low, mode=mode, high=high)
    assert u.nominal == mode
    lo, hi = u.bounds()
    assert lo <= u.nominal <= hi


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"low": 3, "high": 1}, "must not exceed"),
        ({"low": 1, "mode": 5, "high": 3}, "must lie between"),
        ({"low": 1}, "both 'low' and 'high'"),
        ({}, "give 'value'"),
        ({"mean": 1}, "both 'mean' and 'sd'"),
        ({"value": 1, "source": "a", "judgment": "b"}, "either 'source' or 'judgment'"),
        ({"value": float("nan")}, "finite"),
    ],
)
def test_uncertain_rejects_inconsistent_ranges(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Uncertain(**kwargs)  # type: ignore[arg-type]


def test_nominal_of_plain_and_uncertain() -> None:
    assert nominal(3) == 3.0
    assert nominal(Uncertain(low=0, high=10)) == 5.0
    assert nominal(Uncertain(mean=2, sd=1)) == 2.0


def test_cli_show_tables_and_json(run_cli) -> None:  # type: ignore[no-untyped-def]
    import json

    table = run_cli("show", str(MINIMAL))
    assert table.exit_code == 0, table.stderr
    for heading in ("Issues", "Actors", "Institutions and vetoes", "Instruments", "Strategies"):
        assert heading in table.stdout
    as_json = run_cli("show", str(MINIMAL), "--json")
    payload = json.loads(as_json.stdout)
    assert payload["counts"]["actors"] == 4
    assert payload["counts"]["third_party_actors"] == 1
    assert payload["actors"][0]["clout"] == {"low": 40, "mode": 50, "high": 60, "judgment": "fixture"}
