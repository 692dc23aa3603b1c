"""The weighted median (the median voter under capability x salience weights).

.. math:: \\hat x = \\arg\\min_m \\sum_i c_i s_i\\,|x_i - m|

With single-peaked, symmetric preferences on one dimension the weighted median is the
Condorcet winner of pairwise weighted votes (Black 1948), which is why it is the natural
"voting" benchmark beside the compromise model.
"""

from __future__ import annotations

from detente.bargaining._common import checked, weighted_median, weights
from detente.scenario.table import ActorTable


def median(table: ActorTable) -> float:
    """Forecast the outcome of one issue as the capability x salience weighted median.

    Parameters
    ----------
    table : ActorTable
        One issue.

    Returns
    -------
    float
        The weighted median; the midpoint of the two central positions when the weight
        splits exactly in half.
    """
    checked(table)
    return weighted_median(table.position, weights(table))
