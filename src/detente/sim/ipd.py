"""The reduction of the model to the classic iterated prisoner's dilemma (IPD).

With two unitary players, binary moves and a payoff matrix, the two-level game becomes
Axelrod's iterated prisoner's dilemma (design requirement 11). This module plays it with the
*same* :mod:`detente.sim.strategies` classes, vectorised over ``n`` independent matches, so
the strategies can be cross-checked against the Axelrod library (Knight et al. 2016):
without noise every match must equal ``axelrod.Match(...).play()`` move for move.

Conventions follow Axelrod: actions are ``0`` = cooperate (C) and ``1`` = defect (D); a
strategy's level ``>= 0.5`` is played as C (binary strategies emit exactly 1 or 0); noise
flips each *played* action independently with probability ``noise`` and both players see
the flipped action (public noise, as in ``axelrod.Match``; the two-level game instead has
private perception). Payoffs ``(R, S, T, P)`` default to ``(3, 0, 5, 1)`` (Axelrod 1984).

Random numbers come from :class:`~detente.sim.rng.WorldRNG` streams keyed by player
(``(0,)``, ``(1,)``) and noise (``(2,)``), one "world" per match, so match ``i`` is the same
whatever ``n`` is (for ``n`` in whole blocks of 256 or more).

When both strategies declare a :class:`~detente.sim.strategies.Machine` (the classic ones
do), whole matches run in compiled code (:mod:`detente.sim.ipd_compiled`), drawing the same
numbers from the same streams: the results are bit-identical to the turn-by-turn path, which
plays every other strategy (and all of them when numba cannot be imported).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.errors import InputError
from detente.sim.rng import BLOCK, WorldRNG
from detente.sim.strategies import STANDARD_PAYOFFS, Machine, Strategy, View, as_strategy

try:
    from detente.sim import ipd_compiled
except ImportError:  # numba missing or broken: every match takes the turn-by-turn path
    ipd_compiled = None  # type: ignore[assignment]

__all__ = ["MatchResult", "MatchesResult", "machine_of", "match", "matches"]

Actions = NDArray[np.uint8]

_NOISE_CHUNK = 64  # turns of noise drawn at once

# methods whose override below the class declaring a machine makes the machine wrong
_PLAY_METHODS = ("move", "observe", "decide", "init_state", "reset", "receive_payoffs")

# integer payoffs up to this size sum exactly in any order (so counts give numpy's sums)
_EXACT_PAYOFF = 2.0**20


@dataclass(frozen=True)
class MatchResult:
    """One IPD match.

    Attributes
    ----------
    actions_a, actions_b : ndarray of uint8, shape [turns]
        Played actions (0 = C, 1 = D), after noise.
    score_a, score_b : float
        Total payoffs.
    """

    actions_a: Actions
    actions_b: Actions
    score_a: float
    score_b: float

    @property
    def scores(self) -> tuple[float, float]:
        """``(score_a, score_b)``, like ``axelrod.Match.final_score()``."""
        return (self.score_a, self.score_b)


@dataclass(frozen=True)
class MatchesResult:
    """``n`` independent IPD matches.

    Attributes
    ----------
    actions_a, actions_b : ndarray of uint8, shape [n, turns]
        Played actions (0 = C, 1 = D), after noise.
    scores_a, scores_b : ndarray of float64, shape [n]
        Total payoffs per match.
    """

    actions_a: Actions
    actions_b: Actions
    scores_a: NDArray[np.float64]
    scores_b: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.actions_a.shape[0])

    def __getitem__(self, i: int) -> MatchResult:
        return MatchResult(
            self.actions_a[i].copy(),
            self.actions_b[i].copy(),
            float(self.scores_a[i]),
            float(self.scores_b[i]),
        )

    def cooperation_rates(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-match share of turns each player cooperated, shapes ``[n]``."""
        return (1.0 - self.actions_a.mean(axis=1), 1.0 - self.actions_b.mean(axis=1))


def _check(
    turns: Any, noise: Any, seed: Any, n: Any, payoffs: Any
) -> tuple[int, float, int, int, tuple[float, float, float, float]]:
    src = "<ipd>"
    if isinstance(turns, bool) or not isinstance(turns, int | np.integer) or turns < 1:
        raise InputError.single(src, f"turns must be a whole number >= 1 (got {turns!r})")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InputError.single(src, f"n must be a whole number >= 1 (got {n!r})")
    try:
        noise_f = float(noise)
    except (TypeError, ValueError):
        raise InputError.single(src, f"noise must be a number (got {noise!r})") from None
    if not 0.0 <= noise_f <= 1.0:
        raise InputError.single(src, f"noise must be in [0, 1] (got {noise!r})")
    if seed is None:
        seed_i = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    elif isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError.single(src, f"seed must be a whole number >= 0 (got {seed!r})")
    else:
        seed_i = int(seed)
    try:
        r, s, t, p = (float(x) for x in payoffs)
    except (TypeError, ValueError):
        raise InputError.single(
            src, f"payoffs must be four numbers (R, S, T, P) (got {payoffs!r})"
        ) from None
    return int(turns), noise_f, seed_i, int(n), (r, s, t, p)


def machine_of(strategy: Strategy) -> Machine | None:
    """The strategy's :class:`~detente.sim.strategies.Machine`, if it can be trusted.

    ``None`` when the strategy declares none, or when its class (or the instance) overrides a
    method of play below the class that declared the machine: the modifiers
    (:func:`~detente.sim.strategies.dual`, :func:`~detente.sim.strategies.opening`, ...) and
    user subclasses change ``move``, so an inherited machine would no longer describe them.
    """
    cls = type(strategy)
    owner = next(k for k in cls.__mro__ if "ipd_machine" in vars(k))
    for name in _PLAY_METHODS:
        if name in vars(strategy):
            return None
        definer = next((k for k in cls.__mro__ if name in vars(k)), owner)
        if definer is not owner and issubclass(definer, owner):
            return None
    return strategy.ipd_machine()


def _compiled(
    machines: tuple[Machine, Machine],
    rngs: tuple[WorldRNG, WorldRNG, WorldRNG],
    turns: int,
    noise: float,
    n: int,
    pay: tuple[float, float, float, float],
) -> MatchesResult:
    """All matches in compiled code (same numbers as the loop in :func:`matches`)."""
    assert ipd_compiled is not None
    streams = np.stack([r.pcg64_states() for r in rngs])
    # Fortran order, like the other path's (its table sums then add in the same order)
    act_a = np.empty((n, turns), dtype=np.uint8, order="F")
    act_b = np.empty((n, turns), dtype=np.uint8, order="F")
    counts = np.zeros((n, 4), dtype=np.int64)
    ipd_compiled.play_machines(
        turns, ipd_compiled.noise_threshold(noise), _NOISE_CHUNK, BLOCK.bit_length() - 1, streams,
        ipd_compiled.joint_machine(machines, turns), act_a, act_b, counts,
    )
    r, s, t, p = pay
    if all(x.is_integer() and abs(x) <= _EXACT_PAYOFF for x in pay):
        # whole payoffs: exact sums, so equal to the table sums of the other path
        scores_a = (counts @ np.array([r, s, t, p], dtype=np.int64)).astype(np.float64)
        scores_b = (counts @ np.array([r, t, s, p], dtype=np.int64)).astype(np.float64)
        return MatchesResult(act_a, act_b, scores_a, scores_b)
    return MatchesResult(act_a, act_b, *_scores(act_a, act_b, pay))


def _scores(
    act_a: Actions, act_b: Actions, pay: tuple[float, float, float, float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Total payoffs per match, summed over turns as NumPy sums them."""
    r, s, tt, p = pay
    table = np.array([[r, s], [tt, p]])
    return table[act_a, act_b].sum(axis=1), table[act_b, act_a].sum(axis=1)


def _prepare(x: str | Strategy | type[Strategy]) -> Strategy:
    # a private copy, so one instance may play both sides or several games
    return copy.deepcopy(as_strategy(x))


def matches(
    a: str | Strategy | type[Strategy],
    b: str | Strategy | type[Strategy],
    turns: int,
    noise: float = 0.0,
    seed: int | None = None,
    n: int = 1,
    payoffs: tuple[float, float, float, float] = STANDARD_PAYOFFS,
) -> MatchesResult:
    """Play ``n`` independent IPD matches of ``a`` against ``b`` at once.

    When both strategies declare a machine, the matches run in compiled code (numba's
    threads over blocks of 256 matches); otherwise each turn costs a few NumPy operations on
    ``[n]`` arrays per player. Both give the same numbers for the same seed.

    Parameters
    ----------
    a, b : str, Strategy or Strategy subclass
        Registered names (``"Tit For Tat"``, ``"gtft"``), instances or classes.
    turns : int
        Turns per match (>= 1).
    noise : float
        Probability in ``[0, 1]`` that a played action is flipped (seen by both players).
    seed : int, optional
        Seed of the random streams; ``None`` draws fresh entropy.
    n : int
        Number of matches.
    payoffs : (R, S, T, P)
        Reward, sucker, temptation and punishment payoffs.

    Returns
    -------
    MatchesResult

    Raises
    ------
    InputError
        Unknown strategy, bad parameters, ``turns < 1``, ``n < 1`` or noise outside [0, 1].
    """
    turns_i, noise_f, seed_i, n_i, pay = _check(turns, noise, seed, n, payoffs)
    players = (_prepare(a), _prepare(b))
    rngs = (WorldRNG(seed_i, (0,), 0, n_i), WorldRNG(seed_i, (1,), 0, n_i))
    noise_rng = WorldRNG(seed_i, (2,), 0, n_i)
    for player, rng in zip(players, rngs, strict=True):
        player.receive_payoffs(pay)
        player.reset(n_i, rng)
    machines = (machine_of(players[0]), machine_of(players[1]))
    if ipd_compiled is not None and machines[0] is not None and machines[1] is not None:
        return _compiled((machines[0], machines[1]), (*rngs, noise_rng), turns_i, noise_f, n_i, pay)

    # played levels (1 = C, 0 = D), stored turn-major ([turns, n]) so each turn's row is
    # contiguous; strategies see the transposed [n, turn] views without copying
    levels = (np.zeros((turns_i, n_i)), np.zeros((turns_i, n_i)))
    belief = np.full(n_i, 0.5)
    flips: NDArray[np.bool_] | None = None
    for t in range(turns_i):
        if noise_f > 0.0 and t % _NOISE_CHUNK == 0:
            drawn = noise_rng.random(min(_NOISE_CHUNK, turns_i - t), 2) < noise_f
            flips = np.ascontiguousarray(drawn.transpose(1, 2, 0))  # [chunk, 2, n]
        moves = [
            players[i].move(View(t, levels[i][:t].T, levels[1 - i][:t].T, belief, rngs[i]))
            for i in (0, 1)
        ]
        for i in (0, 1):
            coop = np.asarray(moves[i]) >= 0.5
            if flips is not None:
                coop ^= flips[t % _NOISE_CHUNK, i]
            levels[i][t] = coop

    act_a = (levels[0].T < 0.5).astype(np.uint8)
    act_b = (levels[1].T < 0.5).astype(np.uint8)
    return MatchesResult(act_a, act_b, *_scores(act_a, act_b, pay))


def match(
    a: str | Strategy | type[Strategy],
    b: str | Strategy | type[Strategy],
    turns: int,
    noise: float = 0.0,
    seed: int | None = None,
    payoffs: tuple[float, float, float, float] = STANDARD_PAYOFFS,
) -> MatchResult:
    """Play one IPD match of ``a`` against ``b``; see :func:`matches`."""
    return matches(a, b, turns, noise=noise, seed=seed, n=1, payoffs=payoffs)[0]
