"""The compromise model: the capability x salience weighted mean of positions.

.. math:: \\hat x = \\frac{\\sum_i c_i s_i x_i}{\\sum_i c_i s_i}

Van den Bos (1991) and Achen (2006) derive it as the solution of a bargain in which every
actor's loss is quadratic and weighted by its power and salience. On EU legislation (DEU)
it is the benchmark that more elaborate models rarely beat.
"""

from __future__ import annotations

from detente.bargaining._common import checked, weighted_mean, weights
from detente.scenario.table import ActorTable


def compromise(table: ActorTable) -> float:
    """Forecast the outcome of one issue as the weighted mean of positions.

    Parameters
    ----------
    table : ActorTable
        One issue; weights are ``capability * salience``.

    Returns
    -------
    float
        The forecast, inside the range of positions.

    Raises
    ------
    InputError
        For non-finite or negative inputs, positions off the scale, or all-zero weights.
    """
    checked(table)
    return weighted_mean(table.position, weights(table))
