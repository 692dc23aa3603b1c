"""The compiled IPD path (strategies' machines) gives the turn-by-turn path's numbers exactly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import detente.sim.ipd as ipd
from detente.sim.ipd import machine_of, matches
from detente.sim.strategies import (
    GTFT,
    Containment,
    Strategy,
    TitForTat,
    dual,
    get_strategy,
    opening,
    strategy_classes,
    trembling_hand,
)

WITH_MACHINE = [
    sid for sid, cls in strategy_classes().items() if cls.ipd_machine is not Strategy.ipd_machine
]


def _both(monkeypatch: pytest.MonkeyPatch, *args: object, **kwargs: object) -> tuple:
    compiled = matches(*args, **kwargs)  # type: ignore[arg-type]
    with monkeypatch.context() as m:
        m.setattr(ipd, "ipd_compiled", None)
        vectorised = matches(*args, **kwargs)  # type: ignore[arg-type]
    return compiled, vectorised


def _assert_identical(x: ipd.MatchesResult, y: ipd.MatchesResult) -> None:
    for field in ("actions_a", "actions_b", "scores_a", "scores_b"):
        np.testing.assert_array_equal(getattr(x, field), getattr(y, field), err_msg=field)


def test_the_classic_strategies_declare_machines() -> None:
    assert set(WITH_MACHINE) == {
        "alternator", "cooperator", "defector", "grudger", "gtft", "suspicious-tit-for-tat",
        "tit-for-2-tats", "tit-for-tat",
    }


@pytest.mark.parametrize(("x", "y"), list(itertools.product(WITH_MACHINE, repeat=2)))
def test_every_machine_pairing_equals_the_turn_by_turn_path(
    monkeypatch: pytest.MonkeyPatch, x: str, y: str
) -> None:
    # 300 matches: a full block and a partial one; 70 turns: two noise chunks, one partial
    compiled, vectorised = _both(monkeypatch, x, y, 70, noise=0.1, seed=11, n=300)
    _assert_identical(compiled, vectorised)


@pytest.mark.parametrize(
    ("x", "y", "kwargs"),
    [
        ("gtft", "gtft", {"turns": 200, "noise": 0.05, "seed": 3, "n": 513}),
        ("tit-for-tat", "gtft", {"turns": 1, "noise": 0.5, "seed": 0, "n": 1}),
        ("grim", "tit-for-2-tats", {"turns": 64, "noise": 0.0, "seed": 8, "n": 256}),
        ("alternator", "gtft", {"turns": 129, "noise": 1.0, "seed": 2, "n": 40}),
        # payoffs that are not whole numbers: scores summed as the other path sums them
        ("gtft", "defector", {"turns": 30, "noise": 0.2, "seed": 4, "n": 260,
                              "payoffs": (3.1, 0.25, 5.7, 1.3)}),
    ],
)
def test_edge_settings_equal_the_turn_by_turn_path(
    monkeypatch: pytest.MonkeyPatch, x: str, y: str, kwargs: dict[str, object]
) -> None:
    turns = kwargs.pop("turns")
    _assert_identical(*_both(monkeypatch, x, y, turns, **kwargs))


def test_explicit_generosity_and_payoffs_reach_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    generous = GTFT(p=0.9)
    compiled, vectorised = _both(monkeypatch, generous, "defector", 40, noise=0.05, seed=5, n=300)
    _assert_identical(compiled, vectorised)
    default = matches("gtft", "defector", 40, noise=0.05, seed=5, n=300)
    assert compiled.cooperation_rates()[0].mean() > default.cooperation_rates()[0].mean() + 0.3


def test_compiled_matches_are_chunk_invariant() -> None:
    whole = matches("Tit For Tat", "GTFT", 90, noise=0.05, seed=21, n=700)
    part = matches("Tit For Tat", "GTFT", 90, noise=0.05, seed=21, n=512)
    np.testing.assert_array_equal(whole.actions_b[:512], part.actions_b)
    np.testing.assert_array_equal(whole.scores_a[:512], part.scores_a)


def test_modified_strategies_do_not_inherit_a_machine() -> None:
    assert machine_of(TitForTat()) is not None
    for modified in (dual(TitForTat), opening(0.0)(TitForTat), trembling_hand(0.1)(GTFT)):
        assert machine_of(modified()) is None
    assert machine_of(Containment()) is None
    assert machine_of(get_strategy("scripted", levels=(1.0,), then="tit-for-tat")) is None

    class Moody(TitForTat):
        def move(self, view):  # type: ignore[no-untyped-def]
            return 1.0 - TitForTat.move(self, view)

    assert machine_of(Moody()) is None
    patched = TitForTat()
    patched.move = lambda view: TitForTat.move(patched, view)  # type: ignore[method-assign]
    assert machine_of(patched) is None


def test_a_modified_strategy_still_plays_as_it_moves() -> None:
    # dual Tit For Tat opens with D; an inherited machine would open with C
    r = matches(dual(TitForTat), "cooperator", 3, n=2)
    assert r.actions_a.tolist() == [[1, 1, 1]] * 2
