"""Outcome values as the page prints them: "never" for a time that never came.

A time-to metric (scale ``quarters`` in :data:`detente.metrics.REGISTRY`, such as
``time_to_reciprocation``) is ``horizon + 1`` in a world where the event never happens
within the simulated steps (the registry's convention, ``docs/model.md`` "Metrics"). A
value of ``horizon + 1`` is therefore printed as "never", not as a number of quarters that
was never simulated; a mean below it mixes such worlds in, and the page says in how many.
"""

from __future__ import annotations

import math
from typing import Any

from detente.formatting import interval, metric_value, percent
from detente.metrics import REGISTRY, never_value

#: What the page prints for such a value.
NEVER = "never"


def never_values(scenario: Any) -> dict[str, float]:
    """``{metric id: horizon + 1}`` for the scenario's time-to metrics (empty without a
    calendar)."""
    calendar = getattr(scenario, "calendar", None)
    if calendar is None:
        return {}
    found = {m.id: never_value(m.id, calendar.horizon) for m in REGISTRY}
    return {k: v for k, v in found.items() if v is not None}


def is_never(x: Any, never: float | None) -> bool:
    """Whether ``x`` is the "never" value ``never`` (``horizon + 1``)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return False
    return never is not None and math.isfinite(v) and abs(v - never) < 1e-9


def value_text(x: Any, unit: str | None, never: float | None = None, *,
               short: bool = True) -> str:
    """A metric's value (:func:`detente.formatting.metric_value`), "never" at ``never``."""
    return NEVER if is_never(x, never) else metric_value(x, unit, short=short)


def interval_text(lo: Any, hi: Any, unit: str | None = None,
                  never: float | None = None) -> str:
    """An interval (:func:`detente.formatting.interval`) whose ends may read "never"."""
    if never is None or not (is_never(lo, never) or is_never(hi, never)):
        return interval(lo, hi, unit)
    return f"[{value_text(lo, unit, never)}, {value_text(hi, unit, never)}]"


def share_text(share: float) -> str:
    """A share of worlds that never rounds a part up to all (``0.999`` -> ``99.9%``)."""
    return f"{share:.1%}" if 0.99 < share < 1 else percent(share)


def never_note(never: float) -> str:
    """The unit note of a time-to metric: what "never" stands for."""
    return f"never: not within the {int(never) - 1} steps simulated; counted as {int(never)}"


__all__ = [
    "NEVER", "interval_text", "is_never", "never_note", "never_values", "share_text", "value_text",
]
