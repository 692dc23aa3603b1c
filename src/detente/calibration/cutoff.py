"""The calibration cut-off: which observations a calibration may read.

A cut-off is the last day of a period written ``2003Q4``, ``2003``, ``2003-06`` or an ISO
date. An observation is used when its last day (its date, or its window's end) is on or
before the cut-off: a window that straddles the cut-off is left out, so nothing recorded
after it reaches the calibration.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence

from detente.errors import InputError
from detente.scenario.schema import Observation

_FORMS = "2003Q4, 2003, 2003-06 or 2003-12-31"


def parse_cutoff(text: str, source: str = "--until") -> dt.date:
    """The last day of the period ``text`` names.

    Examples
    --------
    >>> parse_cutoff("2003Q4"), parse_cutoff("2002"), parse_cutoff("2003-02")
    (datetime.date(2003, 12, 31), datetime.date(2002, 12, 31), datetime.date(2003, 2, 28))
    """
    s = text.strip()
    m = re.fullmatch(r"(\d{4})(?:[Qq]([1-4])|-(\d{1,2})(?:-(\d{1,2}))?)?", s)
    if m is None:
        raise InputError.single(source, f"expected a date such as {_FORMS}, got {text!r}")
    year = int(m[1])
    try:
        if m[2]:
            month = 3 * int(m[2])
            return dt.date(year, month, calendar.monthrange(year, month)[1])
        if m[3] and m[4]:
            return dt.date(year, int(m[3]), int(m[4]))
        if m[3]:
            month = int(m[3])
            return dt.date(year, month, calendar.monthrange(year, month)[1])
        return dt.date(year, 12, 31)
    except (ValueError, calendar.IllegalMonthError):
        raise InputError.single(source, f"{text!r} is not a real date; expected {_FORMS}") from None


def observations_until(observations: Sequence[Observation], cutoff: dt.date) -> list[Observation]:
    """The observations whose last day is on or before ``cutoff``, in their order."""
    return [ob for ob in observations if ob.last <= cutoff]


def observations_after(observations: Sequence[Observation], cutoff: dt.date) -> list[Observation]:
    """The observations a calibration up to ``cutoff`` must not read (the held-out side)."""
    return [ob for ob in observations if ob.last > cutoff]


__all__ = ["observations_after", "observations_until", "parse_cutoff"]
