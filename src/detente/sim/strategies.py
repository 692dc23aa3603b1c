"""Strategies: small classes that choose a cooperation level from a perceived history.

Following the Axelrod library (Knight et al. 2016), each strategy is a small class with a
``name``, a ``classifier`` dict and a docstring citing the literature. Unlike Axelrod's
players, a strategy here acts on *all Monte Carlo worlds at once*: :meth:`Strategy.move`
receives a :class:`View` with ``[n, turn]`` history arrays and returns an ``[n]`` array of
cooperation levels in ``[0, 1]`` (0 = defect / most hostile, 1 = full cooperation). Binary
strategies emit exactly ``0.0`` or ``1.0``; the classic ones also accept graded levels and
stay binary when their inputs are binary, so the same classes drive the continuous two-level
game and its reduction to the iterated prisoner's dilemma (:mod:`detente.sim.ipd`).

Each side sees the other's moves through its own channel: ``View.perceived`` is the other's
history *as this side perceived it*, which in the two-level game differs from what was
played (Jervis 1976, *Perception and Misperception in International Politics*).

Strategies are registered by their display name (Axelrod's names, e.g. ``"Tit For Tat"``),
a kebab-case id (``"tit-for-tat"``) and aliases (``"grim"``); lookup ignores case, spaces,
hyphens and underscores. Users subclass :class:`Strategy` (or :class:`StatefulStrategy`)
and decorate with :func:`register_strategy`. Behaviour modifiers (:func:`trembling_hand`,
:func:`dual`, :func:`opening`) compose as class decorators, like Axelrod's strategy
transformers.

References
----------
.. [Axelrod1984] Axelrod, R. (1984). *The Evolution of Cooperation*. Basic Books.
.. [Osgood1962] Osgood, C. E. (1962). *An Alternative to War or Surrender*. University of
   Illinois Press.
.. [Nowak1992] Nowak, M. A. & Sigmund, K. (1992). Tit for tat in heterogeneous populations.
   *Nature* 355, 250-253.
.. [Nowak1993] Nowak, M. A. & Sigmund, K. (1993). A strategy of win-stay, lose-shift that
   outperforms tit-for-tat in the Prisoner's Dilemma game. *Nature* 364, 56-58.
.. [Knight2016] Knight, V. et al. (2016). An open framework for the reproducible study of the
   iterated prisoner's dilemma. *Journal of Open Research Software* 4(1), e35.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, TypeVar

import numpy as np
from numpy.typing import NDArray

from detente.errors import InputError, did_you_mean
from detente.sim.rng import WorldRNG

__all__ = [
    "GTFT",
    "STANDARD_PAYOFFS",
    "Alternator",
    "Containment",
    "Cooperator",
    "Defector",
    "DismantleSanctions",
    "Grudger",
    "Machine",
    "ModerateEngagement",
    "Scripted",
    "StatefulStrategy",
    "Strategy",
    "SuspiciousTitForTat",
    "TitFor2Tats",
    "TitForTat",
    "View",
    "as_strategy",
    "dual",
    "get_strategy",
    "modest_ceiling",
    "opening",
    "register_strategy",
    "strategy_classes",
    "strategy_names",
    "trembling_hand",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: The classic prisoner's-dilemma payoffs ``(R, S, T, P)`` (Axelrod 1984).
STANDARD_PAYOFFS: tuple[float, float, float, float] = (3.0, 0.0, 5.0, 1.0)

#: A turn count standing for "never" (no such turn seen yet).
_NEVER = 1 << 30

_DEFAULT_CLASSIFIER: dict[str, Any] = {
    "memory_depth": math.inf,
    "stochastic": False,
    "unilateral_first": False,
    "continuous": False,
    "uses_belief": False,
}


@dataclass(frozen=True)
class View:
    """What one side knows when it moves, for ``n`` worlds at once.

    Attributes
    ----------
    turn : int
        The turn about to be played (0-based); the histories have ``turn`` columns.
    own : ndarray, shape [n, turn]
        This side's own played levels. The engine passes views of step-major storage: each
        column (one turn, all worlds) is contiguous, so reading the last turns is cheap.
    perceived : ndarray, shape [n, turn]
        The other side's levels as this side perceived them (laid out as ``own``).
    belief : ndarray, shape [n]
        This side's probability that the other is a reciprocating type.
    rng : WorldRNG
        This side's random stream for the worlds (stochastic strategies draw from it).
    """

    turn: int
    own: FloatArray
    perceived: FloatArray
    belief: FloatArray
    rng: WorldRNG


@dataclass(frozen=True)
class Machine:
    """A strategy's play in the IPD reduction, as a small finite-state machine.

    In :mod:`detente.sim.ipd` every level a side sees is a played binary action, so a
    classic strategy is a machine over ``(own action, other's action)`` pairs (Axelrod's
    library describes many strategies this way; Rubinstein 1986 on automata in repeated
    games). A strategy declaring one (:meth:`Strategy.ipd_machine`) lets whole matches run
    in compiled code; the machine must reproduce :meth:`Strategy.move` exactly on binary
    histories, including its random draws (``tests/test_ipd_compiled.py`` checks it).

    Attributes
    ----------
    coop : ndarray of float64, shape [S]
        In state ``s`` the strategy cooperates if ``coop[s] >= 0.5`` (deterministic turns) or
        if its uniform draw is below ``coop[s]`` (drawing turns).
    next_state : ndarray of int64, shape [S, 2, 2]
        The state after a turn, indexed ``[state, own action, other's action]`` (0 = C,
        1 = D, as played, after noise).
    start : int
        The state of the first turn.
    draws_from : int or None
        The first turn from which the strategy draws one uniform per turn from ``View.rng``
        (``None``: it never draws).
    """

    coop: FloatArray
    next_state: IntArray
    start: int = 0
    draws_from: int | None = None

    @classmethod
    def build(
        cls,
        coop: tuple[float, ...],
        rule: Callable[[int, int, int], int],
        start: int = 0,
        draws_from: int | None = None,
    ) -> Machine:
        """A machine from its cooperation table and ``rule(state, own, other) -> state``."""
        size = len(coop)
        table = np.array(
            [[[rule(st, own, other) for other in (0, 1)] for own in (0, 1)] for st in range(size)],
            dtype=np.int64,
        ).reshape(size, 2, 2)
        if not (0 <= start < size and ((table >= 0) & (table < size)).all()):
            raise ValueError("a machine's start and next states must be among its states")
        return cls(np.array(coop, dtype=np.float64), table, int(start), draws_from)


def _kebab(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _norm(name: str) -> str:
    return re.sub(r"[\s\-_]+", "", name.lower())


class Strategy:
    """Base class of all strategies.

    Subclasses set ``name`` (display name), optionally ``id`` (kebab-case registry id,
    derived from ``name`` when empty) and ``aliases``, a ``classifier`` dict, and implement
    :meth:`move`. Keyword arguments of ``__init__`` are the strategy's parameters; store each
    under an attribute of the same name so :meth:`params` can report it.

    Classifier keys
    ---------------
    memory_depth : int or inf
        How many past turns the strategy looks at (Axelrod's meaning).
    stochastic : bool
        Whether it draws random numbers.
    unilateral_first : bool
        Whether it opens with a cooperative step before any reciprocation.
    continuous : bool
        Whether it can emit graded levels strictly between 0 and 1.
    uses_belief : bool
        Whether it reads ``View.belief``.
    """

    name: ClassVar[str] = "Strategy"
    id: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    classifier: ClassVar[dict[str, Any]] = dict(_DEFAULT_CLASSIFIER)
    per_world: ClassVar[tuple[str, ...]] = ()
    """Parameters that also take one value per world (an array ``[n]``, validated value by
    value): sampled states whose values differ then still run in one stacked engine run
    (:mod:`detente.sim.stacked`). The strategy must use them elementwise only."""

    n_worlds: int
    rng: WorldRNG | None

    def __init__(self) -> None:
        self.n_worlds = 0
        self.rng = None

    @classmethod
    def strategy_id(cls) -> str:
        """The kebab-case id (``cls.id`` or derived from ``cls.name``)."""
        return cls.id or _kebab(cls.name)

    def reset(self, n_worlds: int, rng: WorldRNG) -> None:
        """Prepare for a new game over ``n_worlds`` worlds.

        ``rng`` may be used to draw per-world state; per-turn draws come from ``View.rng``.
        """
        self.n_worlds = int(n_worlds)
        self.rng = rng

    def move(self, view: View) -> FloatArray:
        """Return the cooperation levels (``[n]``, in ``[0, 1]``) for ``view.turn``."""
        raise NotImplementedError

    def receive_payoffs(self, payoffs: tuple[float, float, float, float]) -> None:
        """Learn the game's ``(R, S, T, P)`` payoffs (used by the IPD reduction); no-op here."""

    def ipd_machine(self) -> Machine | None:
        """This strategy's :class:`Machine` for the IPD reduction, or ``None`` (no kernel).

        With a machine on both sides, :func:`detente.sim.ipd.matches` plays whole matches
        in compiled code; otherwise it calls :meth:`move` turn by turn. A subclass that
        overrides ``move`` (or another method of play) below the class declaring the machine
        does not inherit it (:func:`detente.sim.ipd.machine_of`).
        """
        return None

    def params(self) -> dict[str, Any]:
        """The strategy's parameters and their current values."""
        skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        return {
            p: getattr(self, p)
            for p, spec in _signature_of(type(self).__init__).parameters.items()
            if p != "self" and spec.kind not in skip and hasattr(self, p)
        }

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{self.name}({ps})" if ps else self.name

    # ------------------------------------------------------------ validation helpers
    def _bad(self, message: str) -> InputError:
        return InputError.single(f'strategy "{self.strategy_id()}"', message)

    def _level(self, pname: str, value: Any, *, low_open: bool = False) -> float:
        """Validate a parameter that must be a number in [0, 1] (or (0, 1])."""
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise self._bad(f'parameter "{pname}" must be a number (got {value!r})') from None
        if not (0.0 < x <= 1.0 if low_open else 0.0 <= x <= 1.0):
            rng = "(0, 1]" if low_open else "[0, 1]"
            raise self._bad(f'parameter "{pname}" must be in {rng} (got {value!r})')
        return x

    def _levels(self, pname: str, value: Any, *, low_open: bool = False) -> float | FloatArray:
        """:meth:`_level` for a :attr:`per_world` parameter: a number, or one per world."""
        if not isinstance(value, np.ndarray):
            return self._level(pname, value, low_open=low_open)
        for x in np.unique(value):
            self._level(pname, float(x), low_open=low_open)
        return value.astype(np.float64)

    def _counts(self, pname: str, value: Any, *, minimum: int = 0) -> int | IntArray:
        """:meth:`_count` for a :attr:`per_world` parameter: a number, or one per world."""
        if not isinstance(value, np.ndarray):
            return self._count(pname, value, minimum=minimum)
        for x in np.unique(value):
            self._count(pname, float(x), minimum=minimum)
        return value.astype(np.int64)

    def _count(self, pname: str, value: Any, *, minimum: int = 0) -> int:
        """Validate a parameter that must be a whole number >= ``minimum``."""
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer):
            raise self._bad(f'parameter "{pname}" must be a whole number (got {value!r})')
        if float(value) != int(value) or int(value) < minimum:
            raise self._bad(
                f'parameter "{pname}" must be a whole number >= {minimum} (got {value!r})'
            )
        return int(value)


class StatefulStrategy(Strategy):
    """A strategy whose state folds in the history one turn at a time.

    Subclasses implement :meth:`init_state`, :meth:`observe` (fold in turn ``t``) and
    :meth:`decide`. :meth:`move` catches up on every turn not yet observed, so the result is
    a pure function of the history: calling ``move`` out of order (or after the history was
    rewound) replays the history from the start instead of corrupting the state.
    """

    _seen: int

    def reset(self, n_worlds: int, rng: WorldRNG) -> None:
        """Reset the per-world state for a new game."""
        super().reset(n_worlds, rng)
        self._seen = 0
        self.init_state(self.n_worlds)

    def init_state(self, n: int) -> None:
        """Create the state arrays for ``n`` worlds."""

    def observe(self, t: int, own: FloatArray, perceived: FloatArray) -> None:
        """Fold in turn ``t``: this side's level ``own`` and the perceived other level."""

    def decide(self, view: View) -> FloatArray:
        """Choose the levels for ``view.turn`` from the state."""
        raise NotImplementedError

    def move(self, view: View) -> FloatArray:
        """Catch up on unseen turns, then :meth:`decide`."""
        n = view.perceived.shape[0]
        if not hasattr(self, "_seen") or view.turn < self._seen or n != self.n_worlds:
            self.n_worlds = n
            self._seen = 0
            self.init_state(n)
        while self._seen < view.turn:
            t = self._seen
            # the engine's columns are contiguous already (step-major histories, free);
            # a world-major history is copied once rather than read strided by every pass
            self.observe(t, np.ascontiguousarray(view.own[:, t]),
                         np.ascontiguousarray(view.perceived[:, t]))
            self._seen += 1
        return self.decide(view)


# --------------------------------------------------------------------------- registry
_REGISTRY: dict[str, type[Strategy]] = {}
_CANONICAL: dict[str, type[Strategy]] = {}

S = TypeVar("S", bound=type[Strategy])


def register_strategy(cls: S) -> S:
    """Class decorator: register a :class:`Strategy` subclass by name, id and aliases.

    Raises
    ------
    ValueError
        If one of its names already belongs to a different class.
    """
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError("register_strategy decorates Strategy subclasses")
    keys = {_norm(cls.name), _norm(cls.strategy_id()), *(_norm(a) for a in cls.aliases)}
    for key in keys:
        other = _REGISTRY.get(key)
        if other is not None and other.__qualname__ != cls.__qualname__:
            raise ValueError(f"strategy name {key!r} is already registered to {other.__name__}")
    for key in keys:
        _REGISTRY[key] = cls
    _CANONICAL[cls.strategy_id()] = cls
    return cls


def strategy_names() -> list[str]:
    """Kebab-case ids and aliases (``"grim"``) of every registered strategy, sorted."""
    names = set(_CANONICAL)
    for cls in _CANONICAL.values():
        names.update(_kebab(a) for a in cls.aliases)
    return sorted(names)


def strategy_classes() -> dict[str, type[Strategy]]:
    """Registered strategy classes keyed by kebab-case id."""
    return dict(sorted(_CANONICAL.items()))


def _all_spellings() -> list[str]:
    out: list[str] = []
    for sid, cls in _CANONICAL.items():
        out += [sid, cls.name, *cls.aliases]
    return out


@cache
def _signature_of(init: Callable[..., Any]) -> inspect.Signature:
    """The signature of a strategy class's ``__init__``, read once (``inspect.signature``
    costs more than the rest of compiling a strategy for a sampled state)."""
    return inspect.signature(init)


def get_strategy(name: str, **params: Any) -> Strategy:
    """Build the registered strategy ``name`` with ``params``.

    ``name`` may be the display name (``"Tit For Tat"``), the id (``"tit-for-tat"``) or an
    alias (``"grim"``); case, spaces, hyphens and underscores are ignored.

    Raises
    ------
    InputError
        Unknown strategy name (with a "did you mean" hint), unknown parameter, or a
        parameter value out of range.
    """
    cls = _REGISTRY.get(_norm(str(name)))
    if cls is None:
        hint = did_you_mean(str(name), _all_spellings())
        if not hint:
            hint = did_you_mean(_norm(str(name)), [_norm(s) for s in _all_spellings()])
            if hint:  # map the normalised guess back to an id
                guess = hint.split('"')[1]
                hint = f' (did you mean "{_REGISTRY[guess].strategy_id()}"?)'
        raise InputError.single(
            "strategy",
            f'unknown strategy "{name}"{hint}; known: {", ".join(strategy_names())}',
        )
    sig = _signature_of(cls.__init__)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    allowed = [p for p in sig.parameters if p != "self"]
    if not accepts_any:
        for key in params:
            if key not in allowed:
                known = ", ".join(allowed) if allowed else "none"
                raise InputError.single(
                    f'strategy "{cls.strategy_id()}"',
                    f'unknown parameter "{key}"{did_you_mean(key, allowed)}; parameters: {known}',
                )
    return cls(**params)


def as_strategy(x: str | Strategy | type[Strategy]) -> Strategy:
    """Return a strategy instance from a registered name, an instance or a class."""
    if isinstance(x, Strategy):
        return x
    if isinstance(x, type) and issubclass(x, Strategy):
        return x()
    if isinstance(x, str):
        return get_strategy(x)
    raise InputError.single("strategy", f"expected a strategy name or Strategy, got {x!r}")


def _first(view: View, level: float) -> FloatArray:
    return np.full(view.perceived.shape[0], level, dtype=np.float64)


# ------------------------------------------------------------------ classic strategies
@register_strategy
class Cooperator(Strategy):
    """Always cooperates (level 1).

    The unconditional cooperator of Axelrod's tournaments [Axelrod1984]_; exploited by any
    defector, it is the baseline "naive" policy.
    """

    name = "Cooperator"
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "memory_depth": 0,
        "unilateral_first": True,
    }

    def move(self, view: View) -> FloatArray:
        """Return all ones."""
        return _first(view, 1.0)

    def ipd_machine(self) -> Machine:
        """One state, cooperating."""
        return Machine.build((1.0,), lambda state, own, other: 0)


@register_strategy
class Defector(Strategy):
    """Always defects (level 0).

    The unconditional defector [Axelrod1984]_: the dominant one-shot move.
    """

    name = "Defector"
    classifier: ClassVar[dict[str, Any]] = {**_DEFAULT_CLASSIFIER, "memory_depth": 0}

    def move(self, view: View) -> FloatArray:
        """Return all zeros."""
        return _first(view, 0.0)

    def ipd_machine(self) -> Machine:
        """One state, defecting."""
        return Machine.build((0.0,), lambda state, own, other: 0)


@register_strategy
class TitForTat(Strategy):
    """Cooperates first, then mirrors the other's last perceived level.

    Rapoport's strategy, winner of both of Axelrod's tournaments [Axelrod1984]_: nice,
    retaliatory, forgiving and clear. On graded levels it returns exactly the level it
    perceived (binary in, binary out), the natural continuous reading of "do what the
    other did".
    """

    name = "Tit For Tat"
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "memory_depth": 1,
        "unilateral_first": True,
        "continuous": True,
    }

    def move(self, view: View) -> FloatArray:
        """1 on the first turn, else the last perceived level."""
        if view.turn == 0:
            return _first(view, 1.0)
        return np.array(view.perceived[:, -1], dtype=np.float64)

    def ipd_machine(self) -> Machine:
        """State: the other's last action (start: as if it had cooperated)."""
        return Machine.build((1.0, 0.0), lambda state, own, other: other)


@register_strategy
class SuspiciousTitForTat(Strategy):
    """Tit For Tat that opens with a defection.

    "Mistrust" (Beaufils, Delahaye & Mathieu 1997); studied by Hilbe et al. (2013). Two of
    them never leave mutual defection, a picture of the reciprocity trap.
    """

    name = "Suspicious Tit For Tat"
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "memory_depth": 1,
        "continuous": True,
    }

    def move(self, view: View) -> FloatArray:
        """0 on the first turn, else the last perceived level."""
        if view.turn == 0:
            return _first(view, 0.0)
        return np.array(view.perceived[:, -1], dtype=np.float64)

    def ipd_machine(self) -> Machine:
        """State: the other's last action (start: as if it had defected)."""
        return Machine.build((1.0, 0.0), lambda state, own, other: other, start=1)


@register_strategy
class TitFor2Tats(Strategy):
    """Defects only after two consecutive perceived defections.

    Submitted by John Maynard Smith to Axelrod's second tournament [Axelrod1984]_; more
    forgiving than Tit For Tat and so robust to one misread signal. On graded levels it
    plays the higher of the last two perceived levels.
    """

    name = "Tit For 2 Tats"
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "memory_depth": 2,
        "unilateral_first": True,
        "continuous": True,
    }

    def move(self, view: View) -> FloatArray:
        """1 for the first two turns, else max of the last two perceived levels."""
        if view.turn < 2:
            return _first(view, 1.0)
        last_two = np.maximum(view.perceived[:, -1], view.perceived[:, -2])
        return last_two.astype(np.float64, copy=False)

    def ipd_machine(self) -> Machine:
        """State: ``2 * (other's last action) + (the one before)``; defects only in state 3."""
        return Machine.build((1.0, 1.0, 1.0, 0.0), lambda state, own, other: 2 * other + state // 2)


@register_strategy
class Alternator(Strategy):
    """Alternates cooperation and defection, starting with cooperation.

    A periodic strategy from Axelrod's tournaments [Axelrod1984]_; plays ``1 - own last``
    (binary: C, D, C, D, ...).
    """

    name = "Alternator"
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "memory_depth": 1,
        "unilateral_first": True,
    }

    def move(self, view: View) -> FloatArray:
        """1 on the first turn, else one minus its own last level."""
        if view.turn == 0:
            return _first(view, 1.0)
        return (1.0 - view.own[:, -1]).astype(np.float64, copy=False)

    def ipd_machine(self) -> Machine:
        """State: its own last action (start: as if it had defected)."""
        return Machine.build((0.0, 1.0), lambda state, own, other: own, start=1)


@register_strategy
class Grudger(StatefulStrategy):
    """Cooperates until the other defects, then never forgives ("grim trigger").

    Friedman's strategy in Axelrod's first tournament [Axelrod1984]_; the grim trigger of
    repeated-game theory (Friedman 1971). On graded levels it plays the lowest level it has
    ever perceived (binary: defect forever after the first perceived defection). With
    ``threshold`` set, it instead drops to 0 forever once a perceived level falls below it.

    Parameters
    ----------
    threshold : float, optional
        Trigger level in ``(0, 1]``; ``None`` (default) uses the graded minimum.
    """

    name = "Grudger"
    aliases = ("grim", "grim-trigger")
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "unilateral_first": True,
        "continuous": True,
    }

    def __init__(self, threshold: float | None = None) -> None:
        super().__init__()
        self.threshold = (
            None if threshold is None else self._level("threshold", threshold, low_open=True)
        )

    def init_state(self, n: int) -> None:
        """Start with nothing held against the other."""
        self._worst = np.ones(n)

    def observe(self, t: int, own: FloatArray, perceived: FloatArray) -> None:
        """Remember the lowest (or trigger on the first sub-threshold) perceived level."""
        if self.threshold is None:
            np.minimum(self._worst, perceived, out=self._worst)
        else:
            self._worst[perceived < self.threshold] = 0.0

    def decide(self, view: View) -> FloatArray:
        """Play the grudge."""
        return self._worst.copy()

    def ipd_machine(self) -> Machine:
        """State 1 (defect for good) from the first defection seen; any threshold reads a
        binary defection as a trigger."""
        return Machine.build((1.0, 0.0), lambda state, own, other: max(state, other))


@register_strategy
class GTFT(Strategy):
    """Generous Tit For Tat: after a perceived defection, still cooperates with probability p.

    Nowak & Sigmund [Nowak1992]_ showed that in noisy populations generosity
    ``p = min(1 - (T - R)/(R - S), (R - P)/(T - P))`` (1/3 for the standard payoffs) beats
    Tit For Tat by breaking echoes of misread defections; Axelrod's library uses the same
    default. On a graded perceived level ``x`` it cooperates (level 1) with probability
    ``x + (1 - x) p`` and otherwise defects (level 0).

    Parameters
    ----------
    p : float, optional
        Generosity in ``[0, 1]``; by default computed from the game's payoffs.
    """

    name = "GTFT"
    aliases = ("generous-tit-for-tat",)
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "memory_depth": 1,
        "stochastic": True,
        "unilateral_first": True,
    }

    def __init__(self, p: float | None = None) -> None:
        super().__init__()
        self._explicit = p is not None
        self.p = self._level("p", p) if p is not None else self._generosity(STANDARD_PAYOFFS)

    @staticmethod
    def _generosity(payoffs: tuple[float, float, float, float]) -> float:
        r, s, t, p = payoffs
        return float(min(1.0 - (t - r) / (r - s), (r - p) / (t - p)))

    def receive_payoffs(self, payoffs: tuple[float, float, float, float]) -> None:
        """Recompute the default generosity for the game's payoffs."""
        if not self._explicit:
            self.p = self._generosity(payoffs)

    def move(self, view: View) -> FloatArray:
        """1 on the first turn, else 1 with probability ``x + (1 - x) p``."""
        if view.turn == 0:
            return _first(view, 1.0)
        last = view.perceived[:, -1]
        q = last + (1.0 - last) * self.p
        return (view.rng.random() < q).astype(np.float64)

    def ipd_machine(self) -> Machine:
        """State: the other's last action; from turn 1 one draw per turn, cooperating below
        ``1`` after C (always) and below ``p`` after D, as :meth:`move` computes ``q``."""
        return Machine.build((1.0, self.p), lambda state, own, other: other, draws_from=1)


# ------------------------------------------------------------------- policy strategies
@register_strategy
class Containment(StatefulStrategy):
    """Containment: a low baseline with limited exceptions, tightened after provocations.

    The status-quo option of the 2001 debate (the article's THE MIDDLE PATH: "basic
    containment" with "limited exceptions", or an effort to "reinvigorate it"): sanctions
    stay, with narrow carve-outs, and hostile Iranian moves are answered rather than
    ignored. Per world:

    * it plays ``baseline`` (the status-quo posture: no new step either way);
    * after a perceived *hostile* move (the other's perceived level below ``hostile``, or a
      fall of at least ``fall`` since the turn before) it *tightens*: it plays
      ``baseline - tighten`` for the next ``memory`` turns (a new hostile move restarts the
      count), which on the engine's ladder takes the hostile steps (renew, tighten,
      reimpose); then it returns to ``baseline``;
    * when not tightened, a perceived cooperative move (``>= threshold``) earns at most
      ``exception`` on top of the baseline: cooperation is rewarded only within the narrow
      channels, never with a change of policy.

    Axelrod's reciprocity "within limits" [Axelrod1984]_ (a provocation is answered, the
    answer is bounded and forgiven after ``memory`` turns) and George & Smoke (1974) on
    deterrence-centred policy. Every parameter may be one value per world
    (:attr:`Strategy.per_world`).

    Parameters
    ----------
    baseline : float
        Level played when nothing calls for more or less (default 0.1).
    exception : float
        Extra level after a perceived cooperative move (default 0.1).
    threshold : float
        Perceived level counted as cooperative (default 0.5).
    hostile : float
        Perceived level below which a move counts as hostile (default 0.05; 0: only falls).
    fall : float
        Drop of the perceived level, in ``(0, 1]``, that counts as hostile (default 0.1).
    tighten : float
        How far below ``baseline`` the level goes after a hostile move (default 0.05; at
        most ``baseline``; 0: containment stands still).
    memory : int
        Turns a tightening lasts after the last hostile move (default 2; 0: never tightens).
    """

    name = "Containment"
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "continuous": True,
    }
    per_world = ("baseline", "exception", "threshold", "hostile", "fall", "tighten", "memory")

    def __init__(
        self,
        baseline: float = 0.1,
        exception: float = 0.1,
        threshold: float = 0.5,
        hostile: float = 0.05,
        fall: float = 0.1,
        tighten: float = 0.05,
        memory: int = 2,
    ) -> None:
        super().__init__()
        self.baseline = self._levels("baseline", baseline)
        self.exception = self._levels("exception", exception)
        self.threshold = self._levels("threshold", threshold)
        self.hostile = self._levels("hostile", hostile)
        self.fall = self._levels("fall", fall, low_open=True)
        self.tighten = self._levels("tighten", tighten)
        self.memory = self._counts("memory", memory)
        if np.any(np.asarray(self.baseline) + self.exception > 1.0):
            raise self._bad("baseline + exception must not exceed 1")
        if np.any(np.asarray(self.tighten) > self.baseline):
            raise self._bad("tighten must not exceed baseline (levels stay >= 0)")

    def init_state(self, n: int) -> None:
        """No hostile move seen yet."""
        self._since = np.full(n, _NEVER, dtype=np.int64)
        self._prev = np.full(n, np.nan)

    def observe(self, t: int, own: FloatArray, perceived: FloatArray) -> None:
        """Count the turns since the last perceived hostile move."""
        with np.errstate(invalid="ignore"):
            fell = perceived <= self._prev - self.fall
        hostile = (perceived < self.hostile) | fell
        self._since = np.where(hostile, 0, np.minimum(self._since + 1, _NEVER))
        self._prev = np.array(perceived, dtype=np.float64)

    def decide(self, view: View) -> FloatArray:
        """Tightened for ``memory`` turns after a hostile move, else baseline (+ exception)."""
        tightened = self._since < self.memory
        with np.errstate(invalid="ignore"):
            ok = self._prev >= self.threshold
        relaxed = np.where(ok, self.baseline + self.exception, self.baseline)
        level = np.where(tightened, self.baseline - self.tighten, relaxed)
        return level.astype(np.float64, copy=False)


@register_strategy
class ModerateEngagement(StatefulStrategy):
    """Moderate engagement: Osgood's GRIT, going past modest steps only when reciprocated.

    Osgood [Osgood1962]_ proposed breaking a spiral of hostility by a series of small,
    announced, unilateral conciliatory steps, continued for a while even without a reply,
    enlarged when reciprocated, and never so large as to leave one's security at risk;
    Etzioni (1967) read the 1963 Kennedy experiment as GRIT in practice, and Lindskold
    (1978) reviews the experimental evidence. The 2001 article's version (UNLIKELY ALLIES:
    "important but limited gestures" with an offer to "go much further" if Iran
    reciprocates; THE MIDDLE PATH lists the modest steps) caps the unilateral part at a
    *modest ceiling*: the ladder level up to which only the modest steps are taken. Per
    world:

    * turn 0: an opening step of ``initial`` (default ``step``), at most the ceiling;
    * after each turn, the other's perceived reply *answers* if it is at least
      ``threshold`` or rose by at least ``min_rise`` since the turn before; an answered turn
      enlarges the level by ``step`` and restarts the patience count;
    * an unanswered turn still adds ``step`` while fewer than ``patience`` unanswered turns
      have passed (the announced programme continues); after that the strategy *pauses*:
      it holds its level without retaliating, and resumes growing when answered;
    * *reciprocation*: a turn on which the perceived level has been at least ``threshold``
      for ``confirm`` turns in a row earns one ``step`` of headroom above ``ceiling``
      (a single noisy reading, or a mere rise, is not enough to go further);
    * the level never exceeds ``min(max_level, ceiling + headroom)``: without perceived
      reciprocation it stays at or below the ceiling; each further reciprocated turn lets it
      rise one step more, up to ``max_level``. It never falls back (GRIT pauses, it does
      not retaliate).

    A scenario sets the ceiling from its own ladder by listing the steps taken only after
    reciprocation (``after_reciprocation``; :func:`modest_ceiling`). Without a ceiling
    (the default) the strategy is plain GRIT up to ``max_level``. The level is the intended
    gesture; it depends only on the perceived history. Every parameter may also be given
    one value per world (:attr:`Strategy.per_world`), so states with sampled parameters
    share one engine run.

    Parameters
    ----------
    patience : int
        Unanswered turns during which steps continue (default 4; 0 = pause at once).
    step : float
        Size of each graded step, in ``(0, 1]`` (default 0.1).
    max_level : float
        Cap on the level (default 0.6).
    initial : float, optional
        Opening step (default ``step``; at most the ceiling).
    threshold : float
        Perceived level that answers and, held for ``confirm`` turns, reciprocates
        (default 0.5).
    min_rise : float
        Rise of the perceived level that answers (default 0.05).
    ceiling : float, optional
        The modest ceiling, in ``(0, 1]`` (default: ``max_level``, i.e. none).
    confirm : int
        Consecutive turns at or above ``threshold`` that count as reciprocation
        (default 1, >= 1).
    """

    name = "Moderate Engagement"
    aliases = ("grit",)
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "unilateral_first": True,
        "continuous": True,
    }
    per_world = (
        "patience", "step", "max_level", "initial", "threshold", "min_rise", "ceiling", "confirm"
    )

    def __init__(
        self,
        patience: int = 4,
        step: float = 0.1,
        max_level: float = 0.6,
        initial: float | None = None,
        threshold: float = 0.5,
        min_rise: float = 0.05,
        ceiling: float | None = None,
        confirm: int = 1,
    ) -> None:
        super().__init__()
        self.patience = self._counts("patience", patience)
        self.step = self._levels("step", step, low_open=True)
        self.max_level = self._levels("max_level", max_level, low_open=True)
        self.initial = self._levels("initial", step if initial is None else initial)
        self.threshold = self._levels("threshold", threshold)
        self.min_rise = self._levels("min_rise", min_rise, low_open=True)
        self.ceiling = self._levels(
            "ceiling", max_level if ceiling is None else ceiling, low_open=True
        )
        self.confirm = self._counts("confirm", confirm, minimum=1)

    def init_state(self, n: int) -> None:
        """Opening step, nothing unanswered, no headroom above the ceiling yet."""
        opening = np.minimum(self.initial, np.minimum(self.ceiling, self.max_level))
        self._level_now = np.broadcast_to(opening, (n,)).astype(np.float64)
        self._unanswered = np.zeros(n, dtype=np.int64)
        self._prev = np.full(n, np.nan)
        self._run = np.zeros(n, dtype=np.int64)  # consecutive turns at or above threshold
        self._headroom = np.zeros(n)

    def answers(self, perceived: FloatArray, previous: FloatArray) -> NDArray[np.bool_]:
        """Whether a perceived reply answers (GRIT's reading: a high level or a rise)."""
        with np.errstate(invalid="ignore"):
            rising = perceived >= previous + self.min_rise
        return (perceived >= self.threshold) | rising

    def cap(self) -> FloatArray:
        """The current cap: the ceiling plus the headroom earned, at most ``max_level``."""
        return np.minimum(self.max_level, self.ceiling + self._headroom)

    def observe(self, t: int, own: FloatArray, perceived: FloatArray) -> None:
        """Earn headroom on reciprocation; grow when answered or within patience."""
        answered = self.answers(perceived, self._prev)
        self._unanswered = np.where(answered, 0, self._unanswered + 1)
        self._run = np.where(perceived >= self.threshold, self._run + 1, 0)
        self._headroom = self._headroom + np.where(self._run >= self.confirm, self.step, 0.0)
        grow = answered | (self._unanswered <= self.patience)
        self._level_now = np.where(
            grow, np.minimum(self._level_now + self.step, self.cap()), self._level_now
        )
        self._prev = np.array(perceived, dtype=np.float64)

    def decide(self, view: View) -> FloatArray:
        """Play the current gesture level."""
        return self._level_now.copy()


def modest_ceiling(
    conc_rank: FloatArray, bold: NDArray[np.bool_], neutral: float
) -> float | FloatArray:
    """The highest cooperation level whose ladder asks for none of the ``bold`` steps.

    The engine's ladder (``detente.sim.engine.ladder``, docs/model.md section 1) takes a
    conciliatory instrument when its cumulative gesture share ``conc_rank`` is within
    ``(level - neutral) / (1 - neutral)``. The modest ceiling of moderate engagement is the
    share of the last instrument ranked below the first bold one, as a level:
    ``neutral + (1 - neutral) * max{rank_k : rank_k < min_(b bold) rank_b}`` (``neutral`` if
    no instrument ranks below a bold one; 1 if no bold step is conciliatory). Derived from the
    sampled gestures, it keeps every bold step out of reach without reciprocation in every
    world, whatever the gestures' order (THE MIDDLE PATH: "apparently modest steps";
    UNLIKELY ALLIES: go "much further" only if Iran reciprocates).

    Parameters
    ----------
    conc_rank : ndarray [..., K]
        Each instrument's cumulative share on the conciliatory ladder (inf: not conciliatory).
    bold : ndarray of bool [K]
        The steps taken only after reciprocation.
    neutral : float
        The level meaning "no new step either way".
    """
    rank = np.asarray(conc_rank, dtype=np.float64)
    first = np.where(bold, rank, np.inf).min(axis=-1, keepdims=True)
    below = np.where(rank < first, rank, 0.0).max(axis=-1, initial=0.0)
    level = neutral + (1.0 - neutral) * below
    return float(level) if np.ndim(level) == 0 else level


@register_strategy
class DismantleSanctions(StatefulStrategy):
    """Dismantle sanctions: the whole list at once, kept until it is seen to have failed.

    The third option of the 2001 debate (the article's THE MIDDLE PATH: steps toward
    dismantling the sanctions regime "now", lifting the ban "in a single, dramatic
    gesture", with contracts pending, oil swaps and a fight against ILSA's renewal): a jump
    to ``level`` on the first turn, so the ladder asks at once for every step on the
    scenario's menu. The grand gesture is the opposite of Osgood's small steps
    [Osgood1962]_; compare Larson (1997) on trust-building. It is kept unless the other's
    perceived level stays below ``hostile`` for ``patience`` consecutive turns; then it
    retreats to ``fallback`` for good (THE MIDDLE PATH: the administration is left "looking
    naive", and the policy is not re-tried). Every parameter may be one value per world.

    Parameters
    ----------
    level : float
        Level of the jump (default 1.0: every step on the menu).
    patience : int
        Consecutive unanswered turns tolerated before retreating (default 8, >= 1).
    hostile : float
        Perceived level below which a turn counts as unanswered (default 0.25).
    fallback : float
        Level after a retreat (default 0.1, the containment baseline).
    """

    name = "Dismantle Sanctions"
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "unilateral_first": True,
        "continuous": True,
    }
    per_world = ("level", "patience", "hostile", "fallback")

    def __init__(
        self, level: float = 1.0, patience: int = 8, hostile: float = 0.25, fallback: float = 0.1
    ) -> None:
        super().__init__()
        self.level = self._levels("level", level)
        self.patience = self._counts("patience", patience, minimum=1)
        self.hostile = self._levels("hostile", hostile)
        self.fallback = self._levels("fallback", fallback)

    def init_state(self, n: int) -> None:
        """No hostility seen, not retreated."""
        self._streak = np.zeros(n, dtype=np.int64)
        self._retreated = np.zeros(n, dtype=bool)

    def observe(self, t: int, own: FloatArray, perceived: FloatArray) -> None:
        """Count consecutive unanswered turns; retreat after ``patience`` of them."""
        self._streak = np.where(perceived < self.hostile, self._streak + 1, 0)
        self._retreated |= self._streak >= self.patience

    def decide(self, view: View) -> FloatArray:
        """The bold level, or the fallback after a retreat."""
        return np.where(self._retreated, self.fallback, self.level).astype(np.float64, copy=False)


@register_strategy
class Scripted(Strategy):
    """Scripted: replay a side's policy as it was followed, then hand over to a strategy.

    History-anchored counterfactuals start from what actually happened (Fearon 1991 on
    counterfactuals; Tetlock & Belkin 1996 on the "minimal-rewrite" rule): a scenario's
    ``history.scripts`` entry gives the dated levels and instrument switches one side
    made, and this strategy plays them before ``then`` takes over. Like the ``opening``
    modifier (Axelrod's ``InitialTransformer``), the hand-over strategy is called every turn,
    so its state and random draws keep up, and its output is replaced while the script runs.

    The levels are what the script's ``level:`` steps ask of the ladder (NaN: no level given
    yet, the ladder asks for nothing); the instrument switches are applied by the engine
    (forced on at their date, docs/history.md), not through the level.

    Parameters
    ----------
    levels : sequence of float
        The scripted level of each turn of the script (NaN allowed); its length is the
        number of scripted turns. Empty: hand over at once.
    then : str or Strategy
        The strategy that plays after the script (default containment).
    """

    name = "Scripted"
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "continuous": True,
    }

    def __init__(
        self, levels: tuple[float, ...] | list[float] = (), then: str | Strategy = "containment"
    ) -> None:
        super().__init__()
        self.levels = tuple(float(x) for x in levels)
        if any(not (0.0 <= x <= 1.0 or math.isnan(x)) for x in self.levels):
            raise self._bad(f'parameter "levels" must lie in [0, 1] (got {levels!r})')
        self.then = as_strategy(then)

    def reset(self, n_worlds: int, rng: WorldRNG) -> None:
        """Reset this strategy and the hand-over strategy (which gets the same stream)."""
        super().reset(n_worlds, rng)
        self.then.reset(n_worlds, rng)

    def receive_payoffs(self, payoffs: tuple[float, float, float, float]) -> None:
        """Pass the payoffs on to the hand-over strategy."""
        self.then.receive_payoffs(payoffs)

    def move(self, view: View) -> FloatArray:
        """The scripted level during the script, the hand-over strategy's after it."""
        level = self.then.move(view)
        if view.turn < len(self.levels):
            return np.full(view.perceived.shape[0], self.levels[view.turn])
        return level


# ------------------------------------------------------------------------ modifiers
def _derived(cls: type[Strategy], prefix: str, extra: dict[str, Any]) -> dict[str, Any]:
    name = f"{prefix} {cls.name}"
    return {
        "name": name,
        "id": _kebab(name),
        "aliases": (),
        "classifier": {**cls.classifier, **extra},
        "__doc__": f"{prefix} variant of :class:`{cls.__name__}`.\n\n{cls.__doc__ or ''}",
        "__module__": cls.__module__,
    }


def trembling_hand(p: float) -> Callable[[type[Strategy]], type[Strategy]]:
    """Class decorator: with probability ``p`` per world and turn, play ``1 - level``.

    Selten's (1975) trembling hand; Axelrod's ``NoisyTransformer`` flips binary moves the
    same way. The draw comes from ``View.rng`` after the wrapped strategy's own draws.

    Raises
    ------
    InputError
        If ``p`` is not in ``[0, 1]``.
    """
    if not 0.0 <= float(p) <= 1.0:
        raise InputError.single("trembling_hand", f"p must be in [0, 1] (got {p!r})")
    prob = float(p)

    def decorate(cls: type[Strategy]) -> type[Strategy]:
        def move(self: Strategy, view: View) -> FloatArray:
            level = cls.move(self, view)
            flip = view.rng.random() < prob
            return np.where(flip, 1.0 - level, level)

        ns = _derived(cls, "Trembling", {"stochastic": True})
        ns["move"] = move
        return type(f"Trembling{cls.__name__}", (cls,), ns)

    return decorate


def dual(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: play ``1 - level`` always (Axelrod's ``DualTransformer``)."""

    def move(self: Strategy, view: View) -> FloatArray:
        return 1.0 - cls.move(self, view)

    ns = _derived(cls, "Dual", {"unilateral_first": not cls.classifier["unilateral_first"]})
    ns["move"] = move
    return type(f"Dual{cls.__name__}", (cls,), ns)


def opening(*levels: float) -> Callable[[type[Strategy]], type[Strategy]]:
    """Class decorator: play ``levels`` on the first turns, then the wrapped strategy.

    Like Axelrod's ``InitialTransformer``. The wrapped strategy is still called every turn
    (so its state keeps up) but its output is replaced during the opening.
    """
    opens = tuple(float(x) for x in levels)
    if any(not 0.0 <= x <= 1.0 for x in opens):
        raise InputError.single("opening", f"levels must be in [0, 1] (got {levels!r})")

    def decorate(cls: type[Strategy]) -> type[Strategy]:
        def move(self: Strategy, view: View) -> FloatArray:
            level = cls.move(self, view)
            if view.turn < len(opens):
                return np.full_like(level, opens[view.turn])
            return level

        ns = _derived(cls, "Opening", {"unilateral_first": bool(opens and opens[0] > 0)})
        ns["move"] = move
        return type(f"Opening{cls.__name__}", (cls,), ns)

    return decorate
