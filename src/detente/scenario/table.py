"""The actor table: the input of every static bargaining model.

One issue, n actors, each with a capability (clout), a position on the issue's scale and a
salience. Loaders for CSV, KTAB and DEU files and :func:`detente.scenario.schema.Scenario`
all produce :class:`ActorTable` objects, so the bargaining engines never see file formats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

MAX_MAGNITUDE = 1e12
"""Largest absolute capability, position, salience or scale bound a table may hold.

Far beyond any real scale (a trillion), yet small enough that squares and products of two
such numbers, summed over a hundred thousand actors, stay finite in float64: the models
never overflow (without it, positions near 1e155 overflowed the Nash model and 1e308
capabilities broke the weighted median). Loaders refuse larger numbers with their line.
"""


@dataclass(frozen=True)
class ActorTable:
    """Capabilities, positions and saliences of the actors on one issue.

    Attributes
    ----------
    issue : str
        Issue identifier (or label) the table describes.
    actors : tuple of str
        Actor identifiers, in table order.
    capability, position, salience : ndarray of float, shape (n,)
        Clout, position on the issue's scale, and salience (any non-negative scale; the
        models normalise where they need to).
    scale : tuple of float
        The issue's bounds ``(low, high)``; positions lie inside them.
    reference : float or None
        The status quo / reference point, when known.
    outcome : float or None
        The observed outcome, when known (backtests).
    meta : mapping
        Free-form labels (proposal id, voting rule, ...) carried through to reports.
    source : str
        The file (or built-in scenario) the table was read from, so every problem found
        later names it; empty for tables built in memory.
    """

    issue: str
    actors: tuple[str, ...]
    capability: FloatArray
    position: FloatArray
    salience: FloatArray
    scale: tuple[float, float] = (0.0, 100.0)
    reference: float | None = None
    outcome: float | None = None
    meta: Mapping[str, str] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.actors)
        for name in ("capability", "position", "salience"):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.shape != (n,):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({n},)")
            object.__setattr__(self, name, arr)

    @property
    def n(self) -> int:
        """Number of actors."""
        return len(self.actors)
