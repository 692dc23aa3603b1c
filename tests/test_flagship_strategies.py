"""The flagship's three options as the article describes them (issue 12 item 5), in the engine.

Moderate engagement takes its bold steps only after Iran is seen to reciprocate; containment
answers a provocation and then returns to its baseline; dismantling asks for its whole list at
once. The U.S. reading of Iran is made exact here (no perception noise, no bias), so "Iran
reciprocated" can be read off Iran's played level (metric ``internal_level``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from detente.errors import InputError
from detente.scenario import Scenario, load_scenario
from detente.sim.api import build_strategy, simulate
from detente.sim.engine import ladder
from detente.sim.rng import WorldRNG
from detente.sim.strategies import Strategy, View
from detente.sim.system import compile_system

EXACT = {"parameters.perception_noise_us": 0.0, "parameters.perception_bias_us": 0.0}
BOLD = ["us-contracts-pending", "us-oil-swaps", "us-accept-caspian-transit", "us-settle-claims",
        "us-lift-trade-ban"]


@cache
def flagship() -> Scenario:
    return load_scenario("us-iran-2001")


class UnitaryIran(Strategy):
    """A unitary Iran (test opponent): neutral in odd worlds; in even worlds ``level`` on the
    turns in ``when``, neutral otherwise."""

    name = "Test Opponent"

    def __init__(self, level: float, when: range) -> None:
        super().__init__()
        self.level, self.when = level, when

    def move(self, view: View) -> Any:
        n = view.perceived.shape[0]
        on = (np.arange(n) % 2 == 0) & (view.turn in self.when)
        return np.where(on, self.level, 0.1)


def first_step(flags: np.ndarray) -> np.ndarray:
    """The first step at which ``flags`` ([world, step]) holds, the step count if never."""
    return np.where(flags.any(axis=1), flags.argmax(axis=1), flags.shape[1])


def reciprocation_seen(ds: xr.Dataset, threshold: float, confirm: int) -> np.ndarray:
    """[world, step]: before this step, Iran's played level was at least ``threshold`` on
    ``confirm`` steps in a row (what moderate engagement reads as reciprocation)."""
    high = ds["internal_level"].values >= threshold - 1e-6  # float32 metric
    run = np.zeros(high.shape[0], dtype=int)
    done = np.zeros(high.shape[0], dtype=bool)
    seen = np.zeros(high.shape, dtype=bool)
    for t in range(high.shape[1]):
        seen[:, t] = done
        run = np.where(high[:, t], run + 1, 0)
        done |= run >= confirm
    return seen


def bold_in_force(ds: xr.Dataset) -> np.ndarray:
    return ds["in_force"].sel(instrument=BOLD).values.any(axis=2)


def test_bold_engagement_steps_start_only_where_iran_reciprocated() -> None:
    sc = flagship()
    params = compile_system(sc, "moderate-engagement").focal_params
    threshold, confirm = params["threshold"], round(params["confirm"])
    # Iran's own internal bargaining decides, world by world, whether it reciprocates ...
    ds = simulate(sc, "moderate-engagement", 256, seed=11, values=EXACT, record_state=True)
    bold = bold_in_force(ds)
    seen = reciprocation_seen(ds, threshold, confirm)
    assert not (bold & ~seen).any()  # no bold step in force before reciprocation was seen
    modest = ds["in_force"].sel(instrument="us-allow-wto-talks").values
    assert modest.any()  # the modest steps are taken unilaterally meanwhile
    # ... and an Iran that reciprocates from the fifth quarter, in every other world, gets
    # the bold steps there, never in the worlds where it stays neutral.
    ds = simulate(sc, "moderate-engagement", 64, seed=11, values=EXACT, record_state=True,
                  opponent=UnitaryIran(0.6, range(4, 34)))
    bold = bold_in_force(ds)
    seen = reciprocation_seen(ds, threshold, confirm)
    assert not (bold & ~seen).any()
    assert bold[0::2].any(axis=1).mean() > 0.5
    assert not bold[1::2].any()
    assert (first_step(bold[0::2]) > 4).all()


def test_containment_answers_a_provocation_then_returns_to_its_baseline() -> None:
    sc = flagship()
    ds = simulate(sc, "containment", 32, seed=5, values=EXACT, record_state=True,
                  opponent=UnitaryIran(0.0, range(3, 5)))  # hostile steps on turns 3-4 only
    tight = ds["in_force"].sel(instrument="us-tighten-sanctions").values
    assert tight[0::2].any(axis=1).all()  # every provoked world tightened ...
    assert (first_step(tight[0::2]) > 3).all()  # ... after the provocation
    assert not tight[0::2, -1].any()  # and returned to the baseline by the end
    assert not tight[1::2].any()  # calm worlds: never


def test_dismantling_asks_for_its_whole_list_at_once() -> None:
    sc = flagship()
    sy = compile_system(sc, "dismantle-sanctions")
    assert sy.focal_menu is not None
    rng = WorldRNG(0, (0,), 0, 4)
    strategy = build_strategy(sy)
    strategy.reset(4, rng)
    empty = np.zeros((4, 0))
    np.testing.assert_array_equal(strategy.move(View(0, empty, empty, np.zeros(4), rng)), 1.0)
    wanted = ladder(sy.focal, np.array([1.0]), sy.params.neutral_level)[0] & sy.focal_menu
    assert {sy.focal.instruments[k] for k in np.flatnonzero(wanted)} == set(
        sc.strategy("dismantle-sanctions").instruments
    ) >= {"us-contracts-pending", "us-oil-swaps", "us-lift-trade-ban", "us-oppose-ilsa-renewal"}


# ------------------------------------------------- the scenario fields behind the options
MINI = Path(__file__).parent / "data" / "mini-system.yaml"
ENGAGE = "  - id: engage\n    country: west\n"


def mini(tmp_path: Path, old: str, new: str) -> Path:
    text = MINI.read_text()
    assert old in text, old
    path = tmp_path / "mini.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_after_reciprocation_sets_the_ceiling_from_the_ladder(tmp_path: Path) -> None:
    sc = load_scenario(mini(tmp_path, ENGAGE, ENGAGE + "    after_reciprocation: [w-lift]\n"))
    # west's conciliatory ladder: w-small 0.2, w-ease 0.4, w-lift 0.9 (cumulative 0.13, 0.4, 1)
    params = compile_system(sc, "engage").focal_params
    assert params["ceiling"] == pytest.approx(0.1 + 0.9 * 0.6 / 1.5)
    assert "ceiling" not in compile_system(load_scenario(MINI), "engage").focal_params


@pytest.mark.parametrize(
    ("sid", "old", "new", "fragment"),
    [
        ("wait", "kind: containment, option: true}",
         "kind: containment, option: true, after_reciprocation: [w-lift]}",
         "strategies[wait].after_reciprocation: strategy kind 'containment' takes no modest "
         "ceiling"),
        ("engage", "step: 0.15, max_level: 1.0}",
         "step: 0.15, max_level: 1.0, ceiling: 0.3}\n    after_reciprocation: [w-lift]",
         "the ceiling is given twice"),
    ],
)
def test_a_ceiling_the_kind_cannot_take_is_a_one_line_error(
    tmp_path: Path, sid: str, old: str, new: str, fragment: str
) -> None:
    sc = load_scenario(mini(tmp_path, old, new))
    with pytest.raises(InputError) as err:
        compile_system(sc, sid)
    assert fragment in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("field", "ref", "fragment"),
    [
        ("after_reciprocation", "e-respond", "instrument 'e-respond' belongs to 'east'"),
        ("after_reciprocation", "w-lfit", 'did you mean "w-lift"'),
    ],
)
def test_after_reciprocation_steps_are_checked(
    tmp_path: Path, field: str, ref: str, fragment: str
) -> None:
    path = mini(tmp_path, ENGAGE, ENGAGE + f"    {field}: [{ref}]\n")
    with pytest.raises(InputError) as err:
        load_scenario(path)
    (problem,) = err.value.problems
    assert fragment in str(problem) and f"strategies[1].{field}[0]" in str(problem)
