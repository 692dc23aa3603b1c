"""The asymmetric Nash bargaining solution on one issue.

Each actor's utility is quadratic in the distance to its position, ``u_i(x) = -(x - x_i)^2``.
The solution maximises the weighted product of utility gains over the disagreement point

.. math:: \\hat x = \\arg\\max_{x \\in F} \\sum_i c_i s_i \\log\\big(u_i(x) - u_i(d_i)\\big),

where ``F`` is the set of points no actor (with positive weight) prefers disagreement to.
The disagreement point ``d_i`` is the reference point (status quo) when the table gives one
and ``reference="auto"``; otherwise it is the end of the scale farthest from ``x_i``, the
worst outcome each actor could face. With the status quo as disagreement point the model is
a unanimity bargain: when actors stand on both sides of the status quo, ``F`` collapses to
the status quo itself and that is the forecast (a documented degenerate answer).

The objective is strictly concave on the interior of ``F``, so the maximiser is the unique
root of its derivative, found by bisection (vectorised over the actors).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from detente.bargaining._common import FloatArray, checked, weights
from detente.scenario.table import ActorTable

Reference = Literal["auto", "worst"]


def feasible_interval(x: FloatArray, d: FloatArray) -> tuple[float, float]:
    """Points ``y`` every actor weakly prefers to disagreement: ``|y - x_i| <= |d_i - x_i|``."""
    radius = np.abs(d - x)
    return float(np.max(x - radius)), float(np.min(x + radius))


def nash_point(x: FloatArray, w: FloatArray, d: FloatArray, iterations: int = 80) -> float:
    """Maximise ``sum w_i log((d_i - x_i)^2 - (y - x_i)^2)`` over the feasible interval.

    Parameters
    ----------
    x, w, d : ndarray, shape (n,)
        Positions, weights (zero-weight actors are ignored) and disagreement points.
    iterations : int
        Bisection steps; 80 halve the interval far below float precision.

    Returns
    -------
    float
        The Nash solution; the single feasible point when the interval is degenerate.
    """
    keep = w > 0
    x, w, d = x[keep], w[keep], d[keep]
    lo, hi = feasible_interval(x, d)
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        return float(0.5 * (lo + hi))
    radius2 = (d - x) ** 2

    def slope(y: float) -> float:
        gain = radius2 - (y - x) ** 2
        return float(np.sum(w * (x - y) / np.maximum(gain, 1e-300)))

    a, b = lo, hi
    for _ in range(iterations):
        mid = 0.5 * (a + b)
        if slope(mid) > 0:
            a = mid
        else:
            b = mid
    return float(0.5 * (a + b))


def nash(table: ActorTable, reference: Reference = "auto") -> float:
    """Forecast one issue with the weighted Nash bargaining solution.

    Parameters
    ----------
    table : ActorTable
        One issue; weights are ``capability * salience``.
    reference : {"auto", "worst"}
        ``"auto"`` (default) uses the table's reference point as the disagreement point when
        there is one, as the bargaining literature on the EU does (Achen 2006); ``"worst"``
        always uses each actor's worst point of the scale, which turns the solution into a
        compromise pulled toward actors far from the scale's ends.

    Returns
    -------
    float
        The forecast.
    """
    checked(table)
    x = table.position
    lo, hi = table.scale
    if reference == "auto" and table.reference is not None:
        d = np.full_like(x, float(table.reference))
    else:
        d = np.where(x - lo >= hi - x, lo, hi).astype(np.float64)
    return nash_point(x, weights(table), d)
