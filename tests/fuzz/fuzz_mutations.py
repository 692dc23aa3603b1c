"""Hypothesis strategies that damage text files the way users and attackers do.

Shared by the scenario (YAML) and actor-table (CSV/KTAB) fuzz tests: each strategy takes the
original text and draws one mutation, returning ``(label, mutated_text)`` so a failing case
can be described in one line.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

# Values a number may be replaced with: non-finite words in every YAML/CSV spelling, the edges
# of float64 and int64, negatives, and things that are not numbers at all.
BAD_NUMBERS = [
    "nan", ".nan", "NaN", "inf", ".inf", "-.inf", "Infinity", "-Infinity", "+inf",
    "1e308", "-1e308", "1e309", "5e-324", str(10**30), str(2**63), str(-(2**63) - 1),
    "-1", "0", "-0.0", "abc", "''", "null", "true", "0x1F", "1_000", "[1, 2]", "{a: 1}",
    "9" * 400,
]
CONTROL_CHARS = ["\x00", "\x07", "\x1b[31m", "\x0c", "\x7f", "\ufeff", "\u202e", "\udcff"]  # \udcff: the invalid UTF-8 byte 0xff
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def numbers_in(text: str) -> list[re.Match[str]]:
    """Every number token of ``text`` (not parts of names or dates' words)."""
    return list(_NUMBER.finditer(text))


@st.composite
def replace_number(draw: st.DrawFn, text: str) -> tuple[str, str]:
    """Replace one number with a bad value."""
    found = numbers_in(text)
    match = draw(st.sampled_from(found))
    value = draw(st.sampled_from(BAD_NUMBERS))
    line = text.count("\n", 0, match.start()) + 1
    return (f"line {line}: {match.group()} -> {value!r}",
            text[: match.start()] + value + text[match.end():])


@st.composite
def truncate(draw: st.DrawFn, text: str) -> tuple[str, str]:
    """Cut the file at a random byte."""
    at = draw(st.integers(0, len(text)))
    return f"truncated at {at}", text[:at]


@st.composite
def inject(draw: st.DrawFn, text: str, payloads: list[str]) -> tuple[str, str]:
    """Insert a payload (control characters, tags, markup...) at a random position."""
    payload = draw(st.sampled_from(payloads + CONTROL_CHARS))
    at = draw(st.integers(0, len(text)))
    return f"inserted {payload[:40]!r} at {at}", text[:at] + payload + text[at:]


@st.composite
def duplicate_line(draw: st.DrawFn, text: str) -> tuple[str, str]:
    """Repeat one line right after itself (a duplicated key or row)."""
    lines = text.splitlines(keepends=True)
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    if not lines:
        return "empty", text
    return f"duplicated line {i + 1}", "".join(lines[: i + 1] + lines[i:])


@st.composite
def delete_line(draw: st.DrawFn, text: str) -> tuple[str, str]:
    """Remove one line (a key or a row)."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return "empty", text
    i = draw(st.integers(0, len(lines) - 1))
    return f"deleted line {i + 1}", "".join(lines[:i] + lines[i + 1:])


@st.composite
def line_endings(draw: st.DrawFn, text: str) -> tuple[str, str]:
    """CRLF, CR-only or mixed line endings, or a stray CR inside a line."""
    kind = draw(st.sampled_from(["crlf", "cr", "stray-cr", "no-final-newline"]))
    if kind == "crlf":
        return kind, text.replace("\n", "\r\n")
    if kind == "cr":
        return kind, text.replace("\n", "\r")
    if kind == "no-final-newline":
        return kind, text.rstrip("\n")
    at = draw(st.integers(0, len(text)))
    return f"stray CR at {at}", text[:at] + "\r" + text[at:]
