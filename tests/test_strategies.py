"""Strategy behaviour: GRIT, policy strategies, continuous variants, registry, vectorisation."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pytest

from detente.errors import InputError
from detente.sim.rng import BLOCK, WorldRNG
from detente.sim.strategies import (
    GTFT,
    Grudger,
    Strategy,
    TitForTat,
    View,
    dual,
    get_strategy,
    modest_ceiling,
    opening,
    register_strategy,
    strategy_classes,
    strategy_names,
    trembling_hand,
)

Reply = Callable[[int, np.ndarray], np.ndarray]


def play(
    strategy: Strategy, reply: Reply, turns: int, n: int = 1, seed: int = 0, start: int = 0
) -> np.ndarray:
    """Run ``strategy`` against a scripted perceived reply; return its levels [n, turns].

    ``reply(t, own_levels_at_t)`` gives the other's perceived level at turn ``t``.
    """
    rng = WorldRNG(seed, (0,), start, n)
    strategy.reset(n, rng)
    own = np.zeros((n, turns))
    perceived = np.zeros((n, turns))
    for t in range(turns):
        view = View(t, own[:, :t], perceived[:, :t], np.full(n, 0.2), rng)
        level = strategy.move(view)
        assert level.shape == (n,)
        assert ((level >= 0) & (level <= 1)).all()
        own[:, t] = level
        perceived[:, t] = reply(t, level)
    return own


def never(t: int, own: np.ndarray) -> np.ndarray:
    return np.zeros_like(own)


# --------------------------------------------------------------------------------- GRIT
def test_grit_takes_one_parameter_value_per_world_as_separate_games() -> None:
    """Per-world parameters (for stacked states) play in each world exactly the game of a
    strategy built with that world's values, whatever the reply."""
    params = {"patience": np.array([1.0, 4.0, 2.0]), "step": np.array([0.05, 0.1, 0.2]),
              "max_level": np.array([0.4, 0.8, 0.6]), "min_rise": np.array([0.05, 0.1, 0.05])}
    rng = np.random.default_rng(4)
    replies = rng.random((3, 12))
    both = play(get_strategy("moderate-engagement", **params),
                lambda t, own: replies[:, t], 12, n=3)
    for w in range(3):
        one = {k: (int(v[w]) if k == "patience" else float(v[w])) for k, v in params.items()}
        alone = play(get_strategy("moderate-engagement", **one),
                     lambda t, own, w=w: replies[w : w + 1, t], 12)  # type: ignore[misc]
        assert np.array_equal(both[w], alone[0]), w
    with pytest.raises(InputError, match=re.escape('"step" must be in (0, 1] (got 1.5)')):
        get_strategy("moderate-engagement", step=np.array([0.1, 1.5]))
    with pytest.raises(InputError, match='"patience" must be a whole number >= 0'):
        get_strategy("moderate-engagement", patience=np.array([2.0, 2.5]))


def test_grit_opens_with_a_small_unilateral_step_and_grows_when_reciprocated() -> None:
    grit = get_strategy("moderate-engagement", step=0.1, max_level=0.7, patience=2)
    assert grit.classifier["unilateral_first"] and grit.classifier["continuous"]
    levels = play(grit, lambda t, own: np.ones_like(own), 10)[0]
    np.testing.assert_allclose(levels[:7], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    assert (levels[6:] == 0.7).all()  # capped at max_level


def test_grit_continues_for_patience_turns_then_pauses_without_retaliating() -> None:
    for patience in (0, 1, 3):
        grit = get_strategy("moderate-engagement", step=0.1, max_level=1.0, patience=patience)
        levels = play(grit, never, 12)[0]
        peak = 0.1 + 0.1 * patience
        np.testing.assert_allclose(levels[patience:], peak)  # holds, never drops
        assert np.all(np.diff(levels) >= 0)


def test_grit_resumes_when_reciprocated_after_a_pause() -> None:
    grit = get_strategy("grit", step=0.1, max_level=1.0, patience=1)
    levels = play(grit, lambda t, own: np.full_like(own, 0.8 if t >= 5 else 0.0), 9)[0]
    np.testing.assert_allclose(levels, [0.1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.4, 0.5])


def test_grit_counts_a_rising_reply_as_reciprocation() -> None:
    grit = get_strategy("moderate-engagement", step=0.1, patience=0, min_rise=0.05)
    rising = play(grit, lambda t, own: np.full_like(own, 0.05 * t), 6)[0]
    flat = play(grit, lambda t, own: np.full_like(own, 0.1), 6)[0]
    assert rising[-1] > flat[-1] == pytest.approx(0.1)


def test_grit_state_is_a_function_of_history_even_when_moves_are_skipped() -> None:
    grit = get_strategy("moderate-engagement", patience=1)
    rng = WorldRNG(0, (0,), 0, 2)
    grit.reset(2, rng)
    perceived = np.array([[0.0, 0.9, 0.9, 0.0], [0.0, 0.0, 0.0, 0.0]])
    jumped = grit.move(View(4, np.zeros((2, 4)), perceived, np.zeros(2), rng))
    stepwise = play(
        get_strategy("moderate-engagement", patience=1),
        lambda t, own: perceived[:, t] if t < 4 else own,
        5,
        n=2,
    )[:, 4]
    np.testing.assert_allclose(jumped, stepwise)


# ----------------------------------------------------------------- policy strategies
def replies(*levels: float) -> Reply:
    """A perceived reply following ``levels`` turn by turn (its last value afterwards)."""
    return lambda t, own: np.full_like(own, levels[min(t, len(levels) - 1)])


def test_containment_stays_low_with_limited_exceptions() -> None:
    c = get_strategy("containment", baseline=0.1, exception=0.15)
    coop = play(c, lambda t, own: np.ones_like(own), 5)[0]
    np.testing.assert_allclose(coop, [0.1, 0.25, 0.25, 0.25, 0.25])
    # a neutral other (above `hostile`, no fall) leaves it at the baseline
    np.testing.assert_allclose(play(c, replies(0.1), 6)[0], 0.1)
    # standing still (the earlier containment) is tighten = 0 or memory = 0
    for still in ({"tighten": 0.0}, {"memory": 0}):
        np.testing.assert_allclose(play(get_strategy("containment", **still), never, 5)[0], 0.1)
    with pytest.raises(InputError, match="must not exceed 1"):
        get_strategy("containment", baseline=0.9, exception=0.2)
    with pytest.raises(InputError, match="tighten must not exceed baseline"):
        get_strategy("containment", baseline=0.1, tighten=np.array([0.05, 0.2]))


def test_containment_tightens_after_a_hostile_move_and_returns_after_its_memory() -> None:
    c = get_strategy("containment", baseline=0.1, exception=0.1, threshold=0.5, hostile=0.02,
                     fall=0.1, tighten=0.06, memory=3)
    # a perceived level below `hostile` at turn 2: tightened on turns 3-5, baseline from 6
    low = play(c, replies(0.1, 0.1, 0.0, 0.1), 9)[0]
    np.testing.assert_allclose(low, [0.1, 0.1, 0.1, 0.04, 0.04, 0.04, 0.1, 0.1, 0.1])
    # a fall of 0.15 from a cooperative level (0.6 -> 0.45) is hostile too, though above
    # `hostile`: the exception (0.2) gives way to the tightening, then the baseline
    fell = play(c, replies(0.6, 0.6, 0.6, 0.6, 0.45), 10)[0]
    np.testing.assert_allclose(fell, [0.1, 0.2, 0.2, 0.2, 0.2, 0.04, 0.04, 0.04, 0.1, 0.1])
    # a second provocation during the tightening restarts its count
    again = play(c, replies(0.1, 0.0, 0.1, 0.0, 0.1), 9)[0]
    np.testing.assert_allclose(again, [0.1, 0.1, 0.04, 0.04, 0.04, 0.04, 0.04, 0.1, 0.1])


def test_dismantle_sanctions_jumps_and_retreats_only_after_sustained_hostility() -> None:
    d = get_strategy("dismantle-sanctions", patience=3, fallback=0.1)
    hostile = play(d, never, 6)[0]
    np.testing.assert_allclose(hostile, [1.0, 1.0, 1.0, 0.1, 0.1, 0.1])  # 3 hostile turns seen
    # hostility interrupted by a friendly turn resets the count
    mixed = play(d, lambda t, own: np.full_like(own, 1.0 if t % 3 == 2 else 0.0), 12)[0]
    assert (mixed == 1.0).all()


# ------------------------------------------- moderate engagement's modest ceiling
CEILING = {"step": 0.1, "ceiling": 0.35, "max_level": 0.9, "threshold": 0.4, "confirm": 2,
           "patience": 3}


@pytest.mark.parametrize(
    "reply",
    [
        never,  # no reply at all
        lambda t, own: np.full_like(own, min(0.05 * t, 0.35)),  # rising (answers), low
        lambda t, own: np.full_like(own, 0.8 if t % 2 else 0.0),  # never twice in a row
        replies(0, 0, 0, 0.9, 0),  # one isolated high reading (noise)
    ],
    ids=["silent", "rising-below-threshold", "alternating", "one-reading"],
)
def test_engagement_never_passes_the_modest_ceiling_without_reciprocation(reply: Reply) -> None:
    levels = play(get_strategy("moderate-engagement", **CEILING), reply, 30)[0]
    assert levels.max() == pytest.approx(0.35)  # reaches the modest steps' ceiling ...
    assert (levels <= 0.35 + 1e-12).all()  # ... and never goes further


def test_engagement_passes_the_ceiling_after_reciprocation_and_rises_while_it_continues() -> None:
    me = get_strategy("moderate-engagement", **CEILING)
    # reciprocation from turn 5 on: seen twice in a row after turn 6, one step per turn more
    levels = play(me, replies(0, 0, 0, 0, 0, 0.8), 14)[0]
    np.testing.assert_allclose(levels[:7], [0.1, 0.2, 0.3, 0.35, 0.35, 0.35, 0.35])
    np.testing.assert_allclose(levels[7:], [0.45, 0.55, 0.65, 0.75, 0.85, 0.9, 0.9])
    # three reciprocated turns (5-7) earn two steps of headroom, and no more after they stop
    brief = play(me, replies(0, 0, 0, 0, 0, 0.8, 0.8, 0.8, 0.0), 20)[0]
    assert brief.max() == pytest.approx(0.55)
    np.testing.assert_allclose(brief[-8:], 0.55)  # holds: GRIT pauses, it does not retaliate


def test_engagement_without_a_ceiling_is_plain_grit() -> None:
    plain = get_strategy("moderate-engagement", step=0.1, max_level=1.0, patience=3)
    np.testing.assert_allclose(play(plain, never, 6)[0], [0.1, 0.2, 0.3, 0.4, 0.4, 0.4])


def test_modest_ceiling_is_the_level_just_below_the_first_bold_step() -> None:
    inf = np.inf
    rank = np.array([0.1, 0.3, 0.5, 0.8, 1.0, inf])  # cumulative gesture shares; last hostile
    bold = np.array([False, False, True, False, True, False])
    assert modest_ceiling(rank, bold, 0.1) == pytest.approx(0.1 + 0.9 * 0.3)
    # a bold step ranked first leaves nothing unilateral: the neutral level
    assert modest_ceiling(rank, np.array([True, False, False, False, False, False]), 0.2) == 0.2
    # no bold conciliatory step: the whole ladder
    assert modest_ceiling(rank, np.array([False] * 5 + [True]), 0.1) == pytest.approx(1.0)
    # one ladder order per world (stacked states): one ceiling per world
    rows = np.array([[0.1, 0.3, 0.5], [0.6, 0.2, 1.0]])
    np.testing.assert_allclose(modest_ceiling(rows, np.array([False, False, True]), 0.0),
                               [0.3, 0.6])


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("moderate-engagement", {"ceiling": [0.3, 0.5, 0.4], "confirm": [1.0, 2.0, 3.0],
                                 "threshold": [0.3, 0.5, 0.6], "patience": [1.0, 4.0, 2.0]}),
        ("containment", {"hostile": [0.0, 0.2, 0.1], "fall": [0.1, 0.3, 0.05],
                         "tighten": [0.02, 0.1, 0.05], "memory": [1.0, 3.0, 0.0],
                         "exception": [0.1, 0.2, 0.05]}),
        ("dismantle-sanctions", {"patience": [2.0, 5.0, 3.0], "hostile": [0.2, 0.4, 0.3],
                                 "level": [1.0, 0.8, 0.9]}),
    ],
)
def test_policy_strategies_take_one_parameter_value_per_world(
    name: str, params: dict[str, list[float]]
) -> None:
    """Per-world parameters (stacked states) play in each world the game of that world's
    values (the policy strategies' sampled parameters keep their states in one run)."""
    rng = np.random.default_rng(7)
    reply_levels = rng.random((3, 16))
    arrays = {k: np.array(v) for k, v in params.items()}
    both = play(get_strategy(name, **arrays), lambda t, own: reply_levels[:, t], 16, n=3)
    counts = {"confirm", "patience", "memory"}
    for w in range(3):
        one = {k: (int(v[w]) if k in counts else float(v[w])) for k, v in arrays.items()}
        alone = play(get_strategy(name, **one),
                     lambda t, own, w=w: reply_levels[w : w + 1, t], 16)  # type: ignore[misc]
        assert np.array_equal(both[w], alone[0]), (name, w)
    assert set(params) <= set(type(get_strategy(name)).per_world)


# ----------------------------------------------------------------- continuous variants
def test_tit_for_tat_and_grim_on_graded_levels() -> None:
    script = [0.7, 0.4, 0.9, 0.6]
    tft = play(get_strategy("tit-for-tat"), lambda t, own: np.full_like(own, script[t]), 4)[0]
    np.testing.assert_allclose(tft, [1.0, 0.7, 0.4, 0.9])
    grim = play(get_strategy("grim"), lambda t, own: np.full_like(own, script[t]), 4)[0]
    np.testing.assert_allclose(grim, [1.0, 0.7, 0.4, 0.4])
    trig = play(
        get_strategy("grim", threshold=0.5), lambda t, own: np.full_like(own, script[t]), 4
    )[0]
    np.testing.assert_allclose(trig, [1.0, 1.0, 0.0, 0.0])


@pytest.mark.parametrize("name", ["tit-for-tat", "grim", "tit-for-2-tats", "alternator", "gtft"])
def test_binary_strategies_stay_binary_on_binary_input(name: str) -> None:
    levels = play(get_strategy(name), lambda t, own: (np.arange(own.size) + t) % 3 == 0, 12, n=40)
    assert set(np.unique(levels)) <= {0.0, 1.0}


# ------------------------------------------------------- vectorisation and randomness
def test_worlds_are_independent() -> None:
    def reply(t: int, own: np.ndarray) -> np.ndarray:
        return np.where(np.arange(own.size) % 2 == 0, 1.0, 0.0)

    levels = play(get_strategy("moderate-engagement", patience=1), reply, 6, n=4)
    alone_coop = play(get_strategy("moderate-engagement", patience=1), lambda t, o: o * 0 + 1, 6)
    alone_none = play(get_strategy("moderate-engagement", patience=1), never, 6)
    np.testing.assert_allclose(levels[0], alone_coop[0])
    np.testing.assert_allclose(levels[1], alone_none[0])


def test_stochastic_strategy_is_chunk_invariant() -> None:
    def reply(t: int, own: np.ndarray) -> np.ndarray:
        return np.zeros_like(own)  # always perceived defection: GTFT forgives at random

    n = 2 * BLOCK + 50
    whole = play(GTFT(), reply, 8, n=n, seed=4)
    parts = [
        play(GTFT(), reply, 8, n=BLOCK, seed=4, start=0),
        play(GTFT(), reply, 8, n=BLOCK + 50, seed=4, start=BLOCK),
    ]
    np.testing.assert_array_equal(whole, np.concatenate(parts))
    forgiving = whole[:, 1:].mean()
    assert abs(forgiving - 1 / 3) < 0.03


def test_trembling_hand_flips_at_the_given_rate_and_composes() -> None:
    noisy = trembling_hand(0.2)(TitForTat)
    assert noisy.name == "Trembling Tit For Tat" and noisy.classifier["stochastic"]
    levels = play(noisy(), lambda t, own: np.ones_like(own), 50, n=400)
    assert abs((levels == 0).mean() - 0.2) < 0.02
    assert trembling_hand(0.0)(TitForTat).classifier["memory_depth"] == 1
    composed = opening(0.0, 0.0)(dual(Grudger))
    out = play(composed(), lambda t, own: np.ones_like(own), 4)[0]
    np.testing.assert_allclose(out, [0.0, 0.0, 0.0, 0.0])  # dual of a content grudger
    with pytest.raises(InputError):
        trembling_hand(1.5)


# --------------------------------------------------------------------------- registry
def test_names_ids_and_aliases() -> None:
    assert type(get_strategy("Tit For Tat")) is type(get_strategy("tit-for-tat")) is TitForTat
    assert type(get_strategy("grim")) is Grudger
    for kind in ["containment", "moderate-engagement", "dismantle-sanctions", "tit-for-tat"]:
        assert kind in strategy_names()
    assert "grim" in strategy_names()
    for sid, cls in strategy_classes().items():
        assert cls.__doc__ and cls.classifier.keys() >= {
            "memory_depth",
            "stochastic",
            "unilateral_first",
            "continuous",
            "uses_belief",
        }, sid


@pytest.mark.parametrize(
    ("name", "params", "fragment"),
    [
        ("tit-for-tatt", {}, 'did you mean "tit-for-tat"'),
        ("Moderate Engagment", {}, 'did you mean "Moderate Engagement"'),
        ("moderate-engagement", {"patiense": 3}, 'did you mean "patience"'),
        ("moderate-engagement", {"step": 0}, '"step" must be in (0, 1]'),
        ("moderate-engagement", {"patience": -1}, '"patience" must be a whole number >= 0'),
        ("moderate-engagement", {"patience": 1.5}, "whole number"),
        ("dismantle-sanctions", {"level": "high"}, "must be a number"),
        ("gtft", {"p": 2}, '"p" must be in [0, 1]'),
        ("cooperator", {"level": 1}, "parameters: none"),
    ],
)
def test_registry_errors_are_one_line_input_errors(
    name: str, params: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(InputError) as err:
        get_strategy(name, **params)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_user_strategies_can_be_registered() -> None:
    @register_strategy
    class HalfHearted(Strategy):
        """Mirrors half the perceived level (a test strategy; cf. Axelrod 1984)."""

        name = "Half Hearted (test)"
        classifier: ClassVar[dict[str, Any]] = {**Strategy.classifier, "memory_depth": 1}

        def __init__(self, factor: float = 0.5) -> None:
            super().__init__()
            self.factor = self._level("factor", factor)

        def move(self, view: View) -> np.ndarray:
            if view.turn == 0:
                return np.full(view.perceived.shape[0], self.factor)
            return self.factor * view.perceived[:, -1]

    s = get_strategy("half-hearted-test", factor=0.25)
    assert s.params() == {"factor": 0.25}
    levels = play(s, lambda t, own: np.ones_like(own), 3)[0]
    np.testing.assert_allclose(levels, [0.25, 0.25, 0.25])
    with pytest.raises(ValueError, match="already registered"):

        @register_strategy
        class Clash(Strategy):
            """Name clash."""

            name = "Tit For Tat"
