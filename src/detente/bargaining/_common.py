"""Shared checks and helpers of the bargaining models.

Every model takes an :class:`~detente.scenario.table.ActorTable` and first calls
:func:`checked`, which rejects tables no model can answer (non-finite numbers, negative
capabilities or saliences, positions outside the scale, no actors, all weights zero) with
one :class:`~detente.errors.InputProblem` per problem, so no model ever returns NaN.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from detente.errors import InputError, InputProblem
from detente.scenario.table import MAX_MAGNITUDE, ActorTable

FloatArray = NDArray[np.float64]
Tie = Literal["lower", "midpoint", "upper"]


def table_problems(table: ActorTable) -> list[InputProblem]:
    """Every reason why ``table`` cannot be forecast (empty list when it can).

    Each problem names the table's source file (``<table>`` for tables built in memory),
    the line of the issue when the loader recorded one, and the issue.
    """
    src = table.source or "<table>"
    line = int(table.meta["line"]) if str(table.meta.get("line", "")).isdigit() else None

    def problem(message: str, field: str | None = None) -> InputProblem:
        where = f"issue {table.issue}" + (f".{field}" if field else "")
        return InputProblem(src, message, line=line, path=where)

    if table.n == 0:
        return [problem("no actors take part in this issue; need at least one")]
    out: list[InputProblem] = []
    lo, hi = table.scale
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi:
        out.append(problem(f"scale ({lo:g}, {hi:g}) must be finite with low < high"))
    elif max(abs(lo), abs(hi)) > MAX_MAGNITUDE:
        out.append(problem(f"scale ({lo:g}, {hi:g}) exceeds the magnitude limit {MAX_MAGNITUDE:g}"))
    for name in ("capability", "position", "salience"):
        arr: FloatArray = getattr(table, name)
        for i in np.flatnonzero(~np.isfinite(arr)):
            out.append(
                problem(
                    f"{name} of actor {table.actors[i]!r} is {arr[i]}; expected a finite number",
                    name,
                )
            )
        for i in np.flatnonzero(np.isfinite(arr) & (np.abs(arr) > MAX_MAGNITUDE)):
            out.append(
                problem(
                    f"{name} of actor {table.actors[i]!r} is {arr[i]:g}; expected a magnitude "
                    f"of at most {MAX_MAGNITUDE:g}",
                    name,
                )
            )
    for name in ("capability", "salience"):
        arr = getattr(table, name)
        for i in np.flatnonzero(np.isfinite(arr) & (arr < 0)):
            out.append(
                problem(f"{name} of actor {table.actors[i]!r} is {arr[i]:g}; expected >= 0", name)
            )
    pos = table.position
    bad = np.isfinite(pos) & ((pos < lo) | (pos > hi))
    for i in np.flatnonzero(bad):
        out.append(
            problem(
                f"position {pos[i]:g} of actor {table.actors[i]!r} lies "
                f"outside the scale [{lo:g}, {hi:g}]",
                "position",
            )
        )
    if not out and float(np.sum(weights(table))) <= 0.0:
        out.append(
            problem("every actor has zero capability x salience; no weighted forecast is defined")
        )
    for name in ("reference", "outcome"):
        v = getattr(table, name)
        if v is not None and not np.isfinite(v):
            out.append(problem(f"{name} is {v}; expected a finite number or none", name))
    return out


def checked(table: ActorTable) -> ActorTable:
    """Return ``table`` unchanged, or raise :class:`InputError` listing all its problems."""
    problems = table_problems(table)
    if problems:
        raise InputError(problems)
    return table


def weights(table: ActorTable) -> FloatArray:
    """Capability x salience: the weight of an actor in the compromise and the median."""
    return np.asarray(table.capability * table.salience, dtype=np.float64)


def weighted_median(x: FloatArray, w: FloatArray, tie: Tie = "lower") -> float:
    """The weighted median of ``x``: a point minimising ``sum(w * |x - m|)``.

    When the minimisers form an interval (the cumulative weight reaches exactly one half at
    a position), ``tie`` picks its lower end (default: the smallest position whose
    cumulative weight reaches half, the convention behind the published DEU figure 28.36),
    its midpoint, or its upper end. Every choice depends on values only, never on actor
    order. Zero-weight actors are ignored.

    Parameters
    ----------
    x, w : ndarray, shape (n,)
        Positions and non-negative weights with a positive sum.
    tie : {"lower", "midpoint", "upper"}
        Which minimiser to return when there are several.
    """
    keep = w > 0
    xs, ws = x[keep], w[keep]
    order = np.argsort(xs, kind="stable")
    xs, ws = xs[order], ws[order]
    cum = np.cumsum(ws)
    half = 0.5 * cum[-1]
    tol = 1e-12 * cum[-1]
    k = int(np.searchsorted(cum, half - tol, side="left"))
    lower = float(xs[k])
    if tie == "lower" or abs(cum[k] - half) > tol or k + 1 >= xs.size:
        return lower
    upper = float(xs[k + 1])
    return upper if tie == "upper" else 0.5 * (lower + upper)


def weighted_mean(x: FloatArray, w: FloatArray) -> float:
    """``sum(w x) / sum(w)``: the compromise point of positions ``x`` under weights ``w``."""
    return float(np.dot(w, x) / np.sum(w))
