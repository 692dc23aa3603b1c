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
