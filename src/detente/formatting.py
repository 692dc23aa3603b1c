"""One number format for everything detente prints: console tables, summaries and reports.

Two rules. A plain value keeps three significant digits at most, without trailing zeros
that carry nothing (``73.6``, ``0.157``, ``1,250``). A metric whose unit is ``0/1`` (a per-world
event such as "rapprochement reached") has a mean that is a share of worlds, and says so:
``0.157`` is printed as ``16% of worlds``.
"""

from __future__ import annotations

import math
from typing import Any

SHARE_UNITS = frozenset({"0/1", "share of worlds"})
"""Metric units whose mean is a share of worlds."""


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def number(x: Any) -> str:
    """A value in the house format (empty for missing or non-finite values).

    >>> [number(v) for v in (73.64, 0.1574, 1250.4, 0, -2.5, 1e-5, float("nan"))]
    ['73.6', '0.157', '1,250', '0', '-2.5', '1e-05', '']
    """
    v = _finite(x)
    if v is None:
        return ""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a < 0.001:
        return f"{v:.0e}"
    digits = max(0, 2 - math.floor(math.log10(a)))
    text = f"{v:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(x: Any) -> str:
    """A share as a whole percentage (``0.157`` -> ``'16%'``); shares under 1% keep one decimal.

    >>> [percent(v) for v in (0.157, 1.0, 0.004, 0)]
    ['16%', '100%', '0.4%', '0%']
    """
    v = _finite(x)
    if v is None:
        return ""
    if 0 < abs(v) < 0.01:
        return f"{v:.1%}"
    return f"{v:.0%}"


def is_share(unit: str | None) -> bool:
    """Whether a metric with this unit has a mean that is a share of worlds."""
    return (unit or "").strip() in SHARE_UNITS


def metric_value(x: Any, unit: str | None = None, *, short: bool = False) -> str:
    """A metric's value in words fit for its unit.

    >>> metric_value(0.157, "0/1"), metric_value(0.157, "0/1", short=True)
    ('16% of worlds', '16%')
    >>> metric_value(73.64, "0-100")
    '73.6'
    """
    if is_share(unit):
        text = percent(x)
        return text if short or not text else f"{text} of worlds"
    return number(x)


def interval(lo: Any, hi: Any, unit: str | None = None) -> str:
    """``[lo, hi]`` in the format of the metric (shares as percentages)."""
    if is_share(unit):
        return f"[{percent(lo)}, {percent(hi)}]"
    return f"[{number(lo)}, {number(hi)}]"


def p_value(x: Any) -> str:
    """A p-value: three significant digits, ``<0.001`` below that (empty when missing).

    >>> [p_value(v) for v in (0.1662, 0.049, 2.5e-14, float("nan"))]
    ['0.166', '0.049', '<0.001', '']
    """
    v = _finite(x)
    if v is None:
        return ""
    return "<0.001" if v < 0.001 else number(v)
