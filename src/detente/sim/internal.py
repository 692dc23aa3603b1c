"""The internal side's decision rule, registered as the strategy kind ``internal-bargaining``.

Scenarios name the other principal's rule explicitly (the flagship's
``iran-internal-bargaining``, ``kind: internal-bargaining``). It is not a level-choosing
strategy like the focal side's: each step the engine puts every instrument the side could take
to its actors' weighted vote under its veto players (:mod:`detente.sim.engine`, section 2 of
``docs/model.md``). This class makes the kind a registered, documented strategy so that
scenario files and ``opponent=`` arguments naming it are understood, and so that using it
where a unitary strategy is needed fails with a clear message instead of "unknown strategy".
"""

from __future__ import annotations

from typing import Any, ClassVar

from detente.sim.strategies import (
    _DEFAULT_CLASSIFIER,
    FloatArray,
    Strategy,
    View,
    register_strategy,
)

KIND = "internal-bargaining"


@register_strategy
class InternalBargaining(Strategy):
    """Internal bargaining: the side's moves are ratified outcomes of its own actors' bargain.

    Putnam's level II (Putnam 1988): whether a country takes a step is decided among its
    actors, by clout x salience weighted vote (Black 1948; Achen 2006), under its veto players
    and approval holders (Tsebelis 2002), with positions that shift, by camp and by issue,
    with what has changed since the start: U.S. gestures and the belief that Washington
    reciprocates, Iran's stated conditions met, concessions made under pressure, sanctions
    read as dictation (:mod:`detente.sim.mechanisms.iran_response`). There is no single
    level to choose, so :meth:`move` is never called by the
    engine: the engine runs the bargain itself whenever the internal side has this rule (the
    default).
    """

    name = "Internal Bargaining"
    id = KIND
    classifier: ClassVar[dict[str, Any]] = {
        **_DEFAULT_CLASSIFIER,
        "memory_depth": float("inf"),
        "stochastic": True,
        "continuous": True,
        "uses_belief": True,
        "internal": True,
    }

    def move(self, view: View) -> FloatArray:
        """Not a unitary rule: raise a clear input error."""
        raise self._bad(
            "internal bargaining is the internal side's own decision rule, run by the engine; "
            "it cannot be played as a unitary strategy (choose e.g. tit-for-tat as opponent)"
        )


def is_internal_bargaining(x: object) -> bool:
    """Whether ``x`` (a name, class or instance) denotes the internal-bargaining rule."""
    if isinstance(x, InternalBargaining) or x is InternalBargaining:
        return True
    if isinstance(x, str):
        return x.strip().lower().replace("_", "-").replace(" ", "-") == KIND
    return False


__all__ = ["KIND", "InternalBargaining", "is_internal_bargaining"]
