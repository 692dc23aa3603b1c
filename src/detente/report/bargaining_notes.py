"""Plain words for two documented quirks of the static bargaining forecasts.

Both the ``detente forecast`` table and the report's bargaining section print these notes
where the numbers are shown, so a reader does not take a model artefact for a finding:

- **Nash at the status quo.** When actors stand on both sides of the status quo, the Nash
  bargaining solution's feasible set is the single point of the status quo, so the forecast
  *is* the status quo (docs/bargaining.md, "Nash bargaining solution").
- **Expected-utility oscillation.** With simultaneous moves, blocs of actors can swap
  positions round after round, so the model's weighted median goes back and forth instead
  of settling (docs/bargaining.md, docs/validation.md); its last-round value is one point
  of a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detente.formatting import number

#: Rounds at the end of the expected-utility trace checked for oscillation.
EUM_WINDOW = 4


def nash_at_reference(nash: float, reference: float | None, scale: float = 1.0) -> bool:
    """Whether the Nash forecast sits on the reference point (status quo).

    >>> nash_at_reference(16.3, 16.3), nash_at_reference(20.0, 16.3)
    (True, False)
    >>> nash_at_reference(1.0, None)
    False
    """
    if reference is None or not np.isfinite(nash):
        return False
    return bool(abs(nash - reference) <= 1e-6 * max(abs(scale), 1.0))


def eum_oscillation(
    medians: Sequence[float], window: int = EUM_WINDOW
) -> tuple[float, float] | None:
    """``(low, high)`` of the median over the last ``window`` rounds if it goes back and forth.

    Oscillating means the median moved in both directions over those rounds (at least one
    reversal), not merely that it is still converging one way.

    >>> eum_oscillation([50, 60, 40, 60, 40])
    (40.0, 60.0)
    >>> eum_oscillation([50, 45, 42, 41, 41]) is None
    True
    """
    tail = np.asarray(list(medians)[-(window + 1) :], dtype=float)
    steps = np.diff(tail)
    tol = 1e-9 * max(1.0, float(np.max(np.abs(tail)))) if tail.size else 0.0
    moves = steps[np.abs(steps) > tol]
    if moves.size < 2 or not ((moves > 0).any() and (moves < 0).any()):
        return None
    last = tail[1:]
    return float(last.min()), float(last.max())


def nash_note(issues: Sequence[str], shown: int) -> str:
    """The note for the issues whose Nash forecast equals the status quo (empty if none).

    ``shown`` is how many issues the table or figure shows.
    """
    if not issues:
        return ""
    if len(issues) == shown and shown > 1:
        which = "every issue shown"
    elif len(issues) > 4:
        which = ", ".join(issues[:4]) + f" and {len(issues) - 4} more issues"
    else:
        which = ", ".join(issues)
    return (
        f"Nash equals the status quo on {which}: actors stand on both sides of the status "
        "quo, so the only agreement that leaves no one worse off is the status quo itself "
        "(a documented degenerate case, docs/bargaining.md)."
    )


def eum_note(ranges: dict[str, tuple[float, float]], window: int = EUM_WINDOW) -> str:
    """The note for the issues whose expected-utility median oscillates (empty if none)."""
    if not ranges:
        return ""
    parts = ", ".join(f"{k} {number(lo)} to {number(hi)}" for k, (lo, hi) in ranges.items())
    return (
        f"The expected-utility median goes back and forth over the last {window} rounds "
        f"({parts}): blocs of actors swap positions each round, so its last-round value is "
        "one point of a cycle, not a settled forecast (docs/bargaining.md)."
    )
