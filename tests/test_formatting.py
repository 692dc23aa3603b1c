"""The house number format: its doctests, and the cases the console and report rely on."""

from __future__ import annotations

import doctest

import detente.formatting as formatting


def test_doctests() -> None:
    result = doctest.testmod(formatting)
    assert result.attempted >= 4 and result.failed == 0


def test_near_ties_stay_distinguishable_and_shares_say_worlds() -> None:
    assert formatting.number(73.6) != formatting.number(73.7)
    assert formatting.metric_value(0.157, "0/1") == "16% of worlds"
    assert formatting.interval(0.1, 0.25, "0/1") == "[10%, 25%]"
    assert formatting.number(None) == "" and formatting.number("x") == ""
