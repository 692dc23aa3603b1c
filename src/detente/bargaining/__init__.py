"""Static bargaining models: forecast the outcome of a multi-actor decision on one issue.

Every model maps an :class:`~detente.scenario.table.ActorTable` (capability, position and
salience of each actor on one issue) to a point on the issue's scale:

- ``compromise``: capability x salience weighted mean (:mod:`.compromise`);
- ``median``: weighted median, the median voter (:mod:`.median`);
- ``nash``: weighted Nash bargaining solution over the reference point (:mod:`.nash`);
- ``eum``: Bueno de Mesquita's expected-utility model after Scholz et al. (:mod:`.eum`).

Multi-dimensional inputs are forecast dimension by dimension: loaders produce one table
per dimension. See ``docs/bargaining.md`` for the equations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from detente.bargaining.compromise import compromise
from detente.bargaining.eum import EUMParams, EUMResult, eum, run
from detente.bargaining.median import median
from detente.bargaining.nash import nash
from detente.errors import InputError, did_you_mean
from detente.scenario.table import ActorTable

MODELS: dict[str, Callable[..., float]] = {
    "compromise": compromise,
    "median": median,
    "nash": nash,
    "eum": eum,
}
"""Model name -> ``f(table, **params) -> float``."""


def forecast(table: ActorTable, model: str = "compromise", **params: Any) -> float:
    """Forecast one issue with a named model.

    Parameters
    ----------
    table : ActorTable
        The issue.
    model : str
        One of :data:`MODELS`.
    **params
        Model parameters (``reference`` for nash; ``rounds`` and :class:`EUMParams` fields
        for eum).

    Raises
    ------
    InputError
        For an unknown model or a table no model can forecast.
    """
    if model not in MODELS:
        raise InputError.single(
            "<command line>",
            f"unknown model {model!r}{did_you_mean(model, MODELS)}; "
            f"expected one of {', '.join(MODELS)}",
        )
    return float(MODELS[model](table, **params))


__all__ = [
    "MODELS",
    "EUMParams",
    "EUMResult",
    "compromise",
    "eum",
    "forecast",
    "median",
    "nash",
    "run",
]
