"""The weighted median (the median voter under capability x salience weights).

.. math:: \\hat x = \\arg\\min_m \\sum_i c_i s_i\\,|x_i - m|

With single-peaked, symmetric preferences on one dimension the weighted median is the
Condorcet winner of pairwise weighted votes (Black 1948), which is why it is the natural
"voting" benchmark beside the compromise model.
"""

from __future__ import annotations

from detente.bargaining._common import Tie, checked, weighted_median, weights
from detente.scenario.table import ActorTable


def median(table: ActorTable, tie: Tie = "lower") -> float:
    """Forecast the outcome of one issue as the capability x salience weighted median.

    Parameters
    ----------
    table : ActorTable
        One issue.
    tie : {"lower", "midpoint", "upper"}
        Which point to return when the weight splits exactly in half between two positions;
        ``"lower"`` (default) is the convention behind the published DEU figure (28.36).

    Returns
    -------
    float
        The weighted median.
    """
    checked(table)
    return weighted_median(table.position, weights(table), tie)
