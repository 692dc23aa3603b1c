"""Vectorised domestic bargaining: the level-II game of each country, for many worlds at once.

The static models of :mod:`detente.bargaining` forecast one issue from one actor table. Inside
the simulation the same rules run on arrays shaped ``[worlds, actors, ...]`` because clout and
(for the internally bargaining side) positions differ from world to world:

* :func:`compromise` - the clout x salience weighted mean (van den Bos 1991; Achen 2006);
* :func:`weighted_median` - the clout x salience weighted median (Black 1948);
* :func:`support_share` - the pairwise weighted vote between the status quo and a move: the
  share of clout x salience whose holders end up closer to their ideal points. For a small move
  on one issue, a majority exists exactly when the move heads toward the weighted median, so
  this is the median rule applied to concrete proposals (Putnam's level-II ratification);
* :func:`veto_loss` - how far a move leaves a veto player worse off than the status quo, in
  issue units, compared with its tolerance (Tsebelis's win-set with a tolerance band).

All functions are pure.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def compromise(position: FloatArray, clout: FloatArray, salience: FloatArray) -> FloatArray:
    """Weighted mean of positions per world and issue.

    Parameters
    ----------
    position : ndarray, shape [A, I] or [W, A, I]
        Ideal points (NaN where an actor takes no part; it then gets zero weight).
    clout : ndarray, shape [W, A]
    salience : ndarray, shape [A, I]
        Zero where an actor takes no part.

    Returns
    -------
    ndarray, shape [W, I]
        NaN on an issue where every weight is zero.
    """
    w = clout[:, :, None] * salience[None, :, :]
    x = np.broadcast_to(position, w.shape)
    w = np.where(np.isnan(x), 0.0, w)
    num = np.einsum("wai,wai->wi", w, np.nan_to_num(x))
    den = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def weighted_median(position: FloatArray, clout: FloatArray, salience: FloatArray) -> FloatArray:
    """Weighted median of positions per world and issue (midpoint on an exact half split).

    Same shapes as :func:`compromise`. Matches
    :func:`detente.bargaining._common.weighted_median` world by world.
    """
    w = clout[:, :, None] * salience[None, :, :]
    x = np.array(np.broadcast_to(position, w.shape))
    w = np.where(np.isnan(x) | (w <= 0), 0.0, w)
    x = np.where(w > 0, x, np.inf)
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    ws = np.take_along_axis(w, order, axis=1)
    cum = np.cumsum(ws, axis=1)
    half = 0.5 * cum[:, -1:, :]
    tol = 1e-12 * np.maximum(half, 1.0)
    lo_idx = np.argmax(cum >= half - tol, axis=1)  # first index reaching half
    hi_idx = np.argmax(cum > half + tol, axis=1)  # first index passing half
    lo = np.take_along_axis(xs, lo_idx[:, None, :], axis=1)[:, 0, :]
    hi = np.take_along_axis(xs, hi_idx[:, None, :], axis=1)[:, 0, :]
    exact = (
        np.abs(np.take_along_axis(cum, lo_idx[:, None, :], axis=1)[:, 0, :] - half[:, 0, :])
        <= tol[:, 0, :]
    )
    out = np.where(exact & np.isfinite(hi), 0.5 * (lo + hi), lo)
    return np.where(cum[:, -1, :] > 0, out, np.nan)


def actor_gains(
    level: FloatArray, move: FloatArray, position: FloatArray, span: FloatArray
) -> FloatArray:
    """Each actor's gain on each issue from a move, in shares of the issue's range.

    Parameters
    ----------
    level : ndarray, shape [W, P]
        Current level of the issue each of P (move, issue) pairs touches.
    move : ndarray, shape [P]
        Change of the level.
    position : ndarray, shape [A, P] or [W, A, P]
        Actors' ideal points on the pair's issue (NaN = no stake).
    span : ndarray, shape [P]
        The issue's range (high - low).

    Returns
    -------
    ndarray, shape [W, A, P]
        ``(|L - x| - |L + d - x|) / span``: positive when the move brings the level closer to
        the actor's ideal; zero where the actor has no stake.
    """
    lv = level[:, None, :]
    g = (np.abs(lv - position) - np.abs(lv + move - position)) / span
    return np.nan_to_num(g)


def support_share(gain: FloatArray, weight: FloatArray) -> FloatArray:
    """Share of weight that prefers the move over the status quo.

    Parameters
    ----------
    gain : ndarray, shape [W, A, K]
        Each actor's (salience-weighted) gain from each of K moves.
    weight : ndarray, shape [W, A, K]
        Clout x salience of each actor on each move's issues.

    Returns
    -------
    ndarray, shape [W, K]
        ``sum(weight * [gain > 0]) / sum(weight * [gain != 0])``; 0.5 when nobody cares.
    """
    eps = 1e-12
    pro = np.einsum("wak,wak->wk", weight, (gain > eps).astype(np.float64))
    con = np.einsum("wak,wak->wk", weight, (gain < -eps).astype(np.float64))
    tot = pro + con
    return np.where(tot > 0, pro / np.where(tot > 0, tot, 1.0), 0.5)


def veto_loss(level: FloatArray, move: FloatArray, position: FloatArray) -> FloatArray:
    """How much worse off a veto player is after a move, in issue units (negative = better).

    Parameters
    ----------
    level : ndarray, shape [W, ...]
        Status-quo level of the vetoed issue.
    move : ndarray, broadcastable
        Change of that level.
    position : ndarray, broadcastable
        The veto player's ideal point.

    Notes
    -----
    Tsebelis (2002): a veto player accepts a change only inside its win-set, the points it
    prefers to the status quo. With a tolerance ``tau`` the accepted set is widened to
    ``|L + d - x| <= |L - x| + tau`` (it absorbs small losses, e.g. for coalition peace).
    """
    return np.abs(level + move - position) - np.abs(level - position)


__all__ = ["actor_gains", "compromise", "support_share", "veto_loss", "weighted_median"]
