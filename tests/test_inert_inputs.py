"""Inert inputs: the detector, the flagship's screen (no sampled input inert), CRN in
Morris/Sobol.

The flagship screen is bounded by default: a seeded sample of ``SAMPLE`` inputs
(``WORLDS`` worlds per state, stacked runs, ``BASES`` base states, the shortcut that stops
screening an input once it has moved an outcome). ``DETENTE_INERT=all`` screens every
input the same way; ``DETENTE_INERT=long`` every input with ``LONG_WORLDS`` worlds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from detente.experiments.inert import (
    BASES,
    TOLERANCE,
    WORLDS,
    base_states,
    input_effects,
    morris_screen,
    perturbed_states,
    screen_inputs,
)
from detente.scenario import load_scenario, uncertainties

DATA = Path(__file__).parent / "data"
FIXTURE = str(DATA / "inert-system.yaml")
CONNECTED = "actors[leader].clout"
DISCONNECTED = "actors[leader].risk"
#: Inert one at a time, but it matters once other inputs move (found by the screens).
JOINT = "institutions[leadership].vetoes[0].tolerance"
LONG = os.environ.get("DETENTE_INERT") == "long"
ALL = LONG or os.environ.get("DETENTE_INERT") == "all"
SAMPLE = 20
LONG_WORLDS = 64


@pytest.fixture(scope="module")
def fixture_effects() -> pd.DataFrame:
    return input_effects(FIXTURE)


def test_fixture_disconnected_input_is_found_and_connected_one_is_not(
    fixture_effects: pd.DataFrame,
) -> None:
    row = fixture_effects.set_index("input")
    assert bool(row.loc[DISCONNECTED, "inert"])
    assert row.loc[DISCONNECTED, "effect"] == 0.0  # common random numbers: exactly zero
    assert not bool(row.loc[CONNECTED, "inert"])
    assert row.loc[CONNECTED, "effect"] > 1e-3
    assert row.loc[DISCONNECTED, "kind"] == "actors.risk (east)"


def test_fixture_frame_has_one_row_per_uncertainty_and_effect_per_metric_and_strategy(
    fixture_effects: pd.DataFrame,
) -> None:
    sc = load_scenario(FIXTURE)
    assert list(fixture_effects["input"]) == [p.name for p in uncertainties(sc)]
    attrs = fixture_effects.attrs
    # 'sanctions' is declared info: compare does not rank it, so neither does the screen.
    assert "sanctions" not in attrs["metrics"] and "dialogue" in attrs["metrics"]
    for k in attrs["strategies"]:
        for m in attrs["metrics"]:
            assert f"{m}@{k}" in fixture_effects.columns


def test_shortcut_gives_the_same_inert_set(fixture_effects: pd.DataFrame) -> None:
    quick = input_effects(FIXTURE, shortcut=True)
    assert list(quick["inert"]) == list(fixture_effects["inert"])


def test_perturbed_states_move_one_input_to_each_end_of_its_range() -> None:
    params = uncertainties(load_scenario(FIXTURE))
    states = perturbed_states(params)
    assert len(states) == 1 + 2 * len(params)
    changed = (states.iloc[1:] != states.iloc[0]).sum(axis=1)
    assert (changed == 1).all()
    j = [p.name for p in params].index(CONNECTED)
    assert states.iloc[1 + 2 * j][CONNECTED] == pytest.approx(20.0, abs=1e-4)
    assert states.iloc[2 + 2 * j][CONNECTED] == pytest.approx(60.0, abs=1e-4)


def test_morris_screen_catches_an_input_that_matters_only_jointly(
    fixture_effects: pd.DataFrame,
) -> None:
    one_at_a_time = fixture_effects.set_index("input")["inert"]
    assert bool(one_at_a_time[JOINT])  # nominal elsewhere, it moves nothing ...
    morris = morris_screen(FIXTURE, [JOINT, DISCONNECTED], trajectories=4).set_index("input")
    assert not bool(morris.loc[JOINT, "inert"])  # ... with the others moved, it does
    assert bool(morris.loc[DISCONNECTED, "inert"])
    assert morris.loc[DISCONNECTED, "effect"] == 0.0


def test_bad_arguments_are_one_line_input_errors() -> None:
    from detente.errors import InputError

    with pytest.raises(InputError) as err:
        input_effects(FIXTURE, worlds=0, seed=-1)
    assert len(err.value.problems) == 2
    with pytest.raises(InputError, match=r"unknown input 'actors\[leader\]\.clot'"):
        morris_screen(FIXTURE, ["actors[leader].clot"])
    with pytest.raises(InputError, match="unknown strategy"):
        input_effects(FIXTURE, ["nope"])
    with pytest.raises(InputError, match=r"unknown input 'actors\[leader\].clot'"):
        input_effects(FIXTURE, inputs=["actors[leader].clot"])


# ---------------------------------------------------------------------------------------
# the flagship: no sampled input is inert
# ---------------------------------------------------------------------------------------


def test_base_states_catch_an_input_that_matters_only_jointly() -> None:
    nominal_only = input_effects(FIXTURE, inputs=[JOINT, DISCONNECTED]).set_index("input")
    assert bool(nominal_only.loc[JOINT, "inert"])
    based = input_effects(FIXTURE, inputs=[JOINT, DISCONNECTED], bases=BASES,
                          shortcut=True).set_index("input")
    assert not bool(based.loc[JOINT, "inert"])
    assert bool(based.loc[DISCONNECTED, "inert"])
    assert based.loc[DISCONNECTED, "effect"] == 0.0  # CRN from every base: exactly zero
    assert based.attrs["bases"] == BASES


def test_base_states_are_seeded_and_inside_every_range() -> None:
    params = uncertainties(load_scenario(FIXTURE))
    a, b = base_states(params, 5, seed=3), base_states(params, 5, seed=3)
    assert a.equals(b) and not a.equals(base_states(params, 5, seed=4))
    for p in params:
        assert ((a[p.name] > p.low) & (a[p.name] < p.high)).all()


def _sample() -> list[str] | None:
    """Every input (DETENTE_INERT=all/long), else a seeded sample of SAMPLE of them."""
    if ALL:
        return None
    names = [p.name for p in uncertainties(load_scenario("us-iran-2001"))]
    return list(np.random.default_rng(2026).choice(names, SAMPLE, replace=False))


def test_flagship_has_no_inert_input() -> None:
    """Every sampled input moves a ranked outcome from nominal or from a base state.

    Each input goes to the low and the high end of its range, from the nominal state and
    from each of BASES base states (common random numbers; an input that moves nothing
    there is screened again with RECHECK_WORLDS worlds and RECHECK_BASES base states, as
    it may lie on a rare path); it fails when the largest
    change of every ranked metric under every strategy stays within TOLERANCE of the
    metric's spread across worlds. Numbers no mechanism reads are the scenario's
    ``not_sampled`` (each with its reason), not sampled inputs.
    """
    frame = screen_inputs("us-iran-2001", worlds=LONG_WORLDS if LONG else WORLDS,
                          inputs=_sample())
    inert = sorted(frame.loc[frame["inert"], "input"])
    assert not inert, f"sampled inputs that move no ranked outcome: {inert}"
    assert (frame["effect"] > TOLERANCE).all()


# ---------------------------------------------------------------------------------------
# Morris and Sobol with common random numbers
# ---------------------------------------------------------------------------------------


def _sensitivity(run_cli: Any, tmp_path: Path, method: str, n: str) -> pd.DataFrame:
    result = run_cli(
        "sensitivity", FIXTURE, "--strategy", "engage", "--outcome", "dialogue",
        "--method", method, "--n", n, "--worlds", "16", "--json", "--out", str(tmp_path),
        "--include", "actors?leader?.clout", "--include", "actors?leader?.risk",
    )
    assert result.exit_code == 0, result.stderr
    return pd.DataFrame(json.loads(result.stdout)["indices"]).set_index("parameter")


def test_morris_gives_an_input_with_no_path_mu_star_exactly_zero(
    run_cli: Any, tmp_path: Path
) -> None:
    morris = _sensitivity(run_cli, tmp_path, "morris", "6")
    assert morris.loc[DISCONNECTED, "mu_star"] == 0.0
    assert morris.loc[DISCONNECTED, "sigma"] == 0.0
    assert morris.loc[CONNECTED, "mu_star"] > 0.0


def test_sobol_gives_an_input_with_no_path_indices_exactly_zero(
    run_cli: Any, tmp_path: Path
) -> None:
    sobol = _sensitivity(run_cli, tmp_path, "sobol", "16")
    assert sobol.loc[DISCONNECTED, ["S1", "ST"]].tolist() == [0.0, 0.0]
    assert sobol.loc[CONNECTED, "ST"] > 0.0
    assert np.isfinite(sobol.to_numpy()).all()


# ---------------------------------------------------------------------------------------
# detente validate SCENARIO --inputs
# ---------------------------------------------------------------------------------------


def test_validate_inputs_prints_the_inert_table_in_80_columns(run_cli: Any) -> None:
    result = run_cli("validate", FIXTURE, "--inputs")
    assert result.exit_code == 0, result.stderr  # a finding, not an error
    assert DISCONNECTED in result.stdout and CONNECTED not in result.stdout
    assert JOINT not in result.stdout  # it moves an outcome from a base state
    assert "1 of 6 sampled inputs are inert" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_validate_inputs_strict_exits_1_and_json_lists_the_inputs(run_cli: Any) -> None:
    result = run_cli("validate", FIXTURE, "--inputs", "--strict", "--json", "--bases", "0")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["inputs"] == 6 and payload["inert"] == 2 and payload["bases"] == 0
    assert {r["input"] for r in payload["inert_inputs"]} == {DISCONNECTED, JOINT}
    assert payload["by_kind"]["actors.risk (east)"] == 1


def test_validate_options_of_the_screen_need_inputs(run_cli: Any) -> None:
    result = run_cli("validate", FIXTURE, "--strict", "--worlds", "3")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: <command line>: --strict, --worlds 3: needs --inputs"
    )
    bad = run_cli("validate", FIXTURE, "--inputs", "--worlds", "0")
    assert bad.exit_code == 2 and "worlds must be >= 1" in bad.stderr
    negative = run_cli("validate", FIXTURE, "--inputs", "--bases", "-1")
    assert negative.exit_code == 2 and "--bases must be >= 0" in negative.stderr
    assert "Traceback" not in bad.stderr
