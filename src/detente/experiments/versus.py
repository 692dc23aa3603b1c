"""One strategy against others, state by state: ``wins``, ``loses`` and ``regret``.

``detente explore --strategy S --against A,B --outcome EXPR`` runs S, A and B on the same
states and lets the condition compare them: ``wins('rapprochement')`` holds in a state where
S's mean is strictly better than every other's (by the metric's declared direction),
``loses('rapprochement')`` where some other is strictly better, and
``regret('rapprochement')`` is how far S falls short of the best of them (0 when it is the
best). Ties are neither wins nor losses, so ``wins`` and ``loses`` together need not cover
every state. Only ranked metrics (declared ``maximize`` or ``minimize``) can be compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from detente.experiments.outcome_expr import call_key

#: The functions of one metric id an ``--against`` condition may call.
FUNCTIONS: tuple[str, ...] = ("wins", "loses", "regret")
#: Functions whose value is 0/1 (a condition on its own).
BINARY: tuple[str, ...] = ("wins", "loses")
#: Differences smaller than this count as ties (means are averages of float32 records).
TIE = 1e-9


def versus_columns(
    means: pd.DataFrame,
    focal: str,
    others: Sequence[str],
    directions: Mapping[str, str],
    states: pd.Index,
) -> dict[str, NDArray[np.float64]]:
    """The ``wins``/``loses``/``regret`` columns of every ranked metric, one value per state.

    Parameters
    ----------
    means : DataFrame
        Per (state, strategy) means, columns ``state``, ``strategy`` and the metrics.
    focal, others : str, sequence of str
        The strategy examined and those it is compared with.
    directions : mapping of metric to ``maximize``/``minimize``/``info``
    states : Index
        The states in the order the result follows.

    Returns
    -------
    dict
        Keys ``call_key(function, metric)``; values aligned with ``states``.
    """
    out: dict[str, NDArray[np.float64]] = {}
    for metric, direction in directions.items():
        if direction not in ("maximize", "minimize") or metric not in means.columns:
            continue
        table = means.pivot(index="state", columns="strategy", values=metric).loc[states]
        sign = 1.0 if direction == "maximize" else -1.0
        mine = sign * table[focal].to_numpy(dtype=float)
        best_other = (sign * table[list(others)].to_numpy(dtype=float)).max(axis=1)
        margin = mine - best_other
        out[call_key("wins", metric)] = (margin > TIE).astype(float)
        out[call_key("loses", metric)] = (margin < -TIE).astype(float)
        out[call_key("regret", metric)] = np.maximum(0.0, -margin)
    return out


def ranked(directions: Mapping[str, str]) -> list[str]:
    """The metrics ``wins``/``loses``/``regret`` accept: those with a direction."""
    return [m for m, d in directions.items() if d in ("maximize", "minimize")]


__all__ = ["BINARY", "FUNCTIONS", "TIE", "ranked", "versus_columns"]
