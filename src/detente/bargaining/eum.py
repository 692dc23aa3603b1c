"""The expected-utility challenge model of Bueno de Mesquita, after Scholz, Calbert & Smith.

Scholz, J. B., Calbert, G. J. & Smith, G. A. (2011), "Unravelling Bueno de Mesquita's group
decision model", *Journal of Theoretical Politics* 23(4) (conference version ICAART 2011),
reconstruct the model of Bueno de Mesquita (1994, "Political forecasting: an expected
utility method"). Each round:

1. Votes. Actor ``k`` casts
   ``v_k(i, j) = c_k s_k (|x_k - x_j|^{r_k} - |x_k - x_i|^{r_k}) / R^{r_k}``
   for position ``i`` against ``j`` (``R`` the range of positions).
2. Median voter: the position beating every other in pairwise votes with ``r = 1``; on one
   dimension that is the capability x salience weighted median.
3. Probability that ``i`` prevails over ``j``: the votes of ``i``'s supporters,
   ``P_ij = sum_k max(0, v_k(i, j)) / N``, with denominator ``N`` a named choice (below).
4. Utilities from the point of view of an actor with risk exponent ``r``, for distance
   ``δ = |x_i - x_j| / R``: success ``U^s = 2 - 4(0.5 - 0.5δ)^r``, failure
   ``U^f = 2 - 4(0.5 + 0.5δ)^r``, status quo ``U^{sq} = 2 - 4·0.5^r``, and (used only when
   ``Q < 1``) better / worse ``U^{b,w} = 2 - 4(0.5 ∓ 0.25(|x_i - μ| + |x_i - x_j|)/R)^r``.
5. Expected utility of ``i`` challenging ``j``:
   ``E_ij = s_j (P_ij U^s + (1 - P_ij) U^f) + (1 - s_j) U^s - Q U^{sq}``
   ``- (1 - Q)(T U^b + (1 - T) U^w)``.
6. Risk. With all ``r = 1``, actor ``i``'s exposure is ``S_i = sum_{j≠i} E_ji``; then
   ``R_i = (2 S_i - max S - min S) / (max S - min S)`` and ``r_i = (1 - R_i/3)/(1 + R_i/3)``,
   in [0.5, 2]. Steps 3-5 are repeated with these exponents.
7. Offers, judged by each receiver ``i`` for every proposer ``j`` with its own exponent:
   ``a = E_ij``, ``b = E_ji``. Conflict when ``b > a > 0`` (``i`` moves to ``x_j``);
   compromise when ``b > 0 > a`` and ``b > |a|`` (``i`` moves to ``x_i + (x_j - x_i)|a/b|``);
   capitulation when ``b > 0 > a`` and ``b < |a|`` (``i`` moves to ``x_j``). Each actor
   accepts one offer: a conflict before a compromise before a capitulation, the nearest
   within a type, and all actors move at once.

Interpretive choices the paper leaves open are parameters of :class:`EUMParams`; the
defaults reproduce Scholz et al.'s Table 2 (see ``docs/bargaining.md``). All steps are
vectorised: a round costs O(n^2 log n) time and O(n^2) memory.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from detente.bargaining._common import (
    FloatArray,
    checked,
    weighted_mean,
    weighted_median,
    weights,
)
from detente.errors import InputError
from detente.scenario.table import ActorTable

BYTES_PER_PAIR = 110
"""Peak memory of a round per ordered pair of actors: about 13 float64 arrays of shape
(n, n) are alive at once (measured with tracemalloc: 13.1 n^2 doubles from 250 to 2,000
actors)."""

MAX_BYTES = 1 << 30
"""Largest peak memory a run may need (1 GiB): about 3,100 actors."""

MAX_PAIR_ROUNDS = 25_000_000
"""Largest ``actors^2 x rounds`` a run may take: about a minute at the 1-2.5 microseconds
per pair and round measured (1,767 actors for 8 rounds, 5,000 for 1 round)."""


def size_problem(n: int, rounds: int) -> str | None:
    """Why a run on ``n`` actors for ``rounds`` rounds is refused, or None when it fits.

    The model's cost grows with the square of the actors, so a large table is refused
    before anything is allocated, naming the estimate and the limit.
    """
    if rounds == 0 or n < 2:
        return None
    need = BYTES_PER_PAIR * n * n
    work = n * n * rounds
    if need > MAX_BYTES:
        return (
            f"the expected-utility model on {n:,} actors needs about {_gib(need)} of memory, "
            f"over the {_gib(MAX_BYTES)} limit (memory grows with actors squared); use at most "
            f"{int((MAX_BYTES / BYTES_PER_PAIR) ** 0.5):,} actors, or the compromise, median "
            "or nash model"
        )
    if work > MAX_PAIR_ROUNDS:
        return (
            f"the expected-utility model on {n:,} actors for {rounds} rounds is "
            f"{work:,} pair-rounds, over the limit of {MAX_PAIR_ROUNDS:,} (about a minute); "
            f"use at most {int((MAX_PAIR_ROUNDS / rounds) ** 0.5):,} actors or fewer rounds, "
            "or the compromise, median or nash model"
        )
    return None


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:,.1f} GiB"


@dataclass(frozen=True)
class EUMParams:
    """Interpretive choices of the expected-utility model.

    Attributes
    ----------
    q : float
        ``Q``, the probability an actor expects the status quo to hold when it does not
        challenge. Scholz et al. use 1.0 for their replication; so do we.
    t : float
        ``T``, the probability that, absent a challenge, things change for the better
        (only matters when ``q < 1``). Not fixed by the paper; 1.0 (the optimistic reading
        used by public replications) by default.
    denominator : {"all", "pair"}
        Denominator of the probability of success. ``"all"`` (default) divides by the sum of
        absolute votes over *every* pair of positions, which is what reproduces Table 2
        (and is how a public replication read Scholz et al.'s code); ``"pair"`` divides by
        the absolute votes on the pair alone, so ``P_ij + P_ji = 1``.
    compromise_choice : {"scholz", "nearest"}
        Which compromise offer an actor accepts when it has several. ``"scholz"`` (default)
        takes the one with the lowest salience-free compromise point
        ``(|a| x_i + |b| x_j) / (|a| + |b|)``, as in Scholz et al.'s code; it is needed to
        reproduce rounds 4-8 of Table 2. ``"nearest"`` takes the smallest move, as the
        paper's text says.
    capitulation : bool
        Whether capitulation offers are acted upon (default True).
    risk : bool
        Derive risk exponents from security levels (default True); False keeps ``r = 1``.
    position_range : {"positions", "scale"}
        ``R``: the range of the initial positions (default, as Scholz et al.) or the width of
        the issue's scale.
    salience_scale : float or None
        Saliences are divided by this to become probabilities of resisting; None means 100
        when every salience is at most 100 (the usual 0-100 scale) and the largest salience
        otherwise.
    """

    q: float = 1.0
    t: float = 1.0
    denominator: Literal["all", "pair"] = "all"
    compromise_choice: Literal["scholz", "nearest"] = "scholz"
    capitulation: bool = True
    risk: bool = True
    position_range: Literal["positions", "scale"] = "positions"
    salience_scale: float | None = None


@dataclass(frozen=True)
class EUMResult:
    """Round-by-round trace of the model.

    Attributes
    ----------
    median, mean : ndarray, shape (rounds + 1,)
        Median voter and weighted mean position before round 1 (index 0) and after every
        round.
    positions : ndarray, shape (rounds + 1, n)
        Every actor's position over the rounds.
    risk : ndarray, shape (rounds, n)
        Risk exponents used in every round.
    """

    median: FloatArray
    mean: FloatArray
    positions: FloatArray
    risk: FloatArray

    @property
    def forecast(self) -> float:
        """The model's forecast: the median voter position after the last round."""
        return float(self.median[-1])


# -- building blocks ---------------------------------------------------------------------


def votes_for(x: FloatArray, w: FloatArray, r: FloatArray, span: float) -> FloatArray:
    """Support for ``i`` against ``j``: ``sum_k max(0, v_k(i, j))`` for all pairs, shape (n, n).

    Voter ``k`` supports ``i`` exactly when it is closer to ``x_i`` than to ``x_j``, i.e. on
    ``i``'s side of the midpoint. Sorting voters by position turns the sum over supporters
    into a difference of prefix sums, so no (n, n, n) array is ever built.
    """
    n = x.size
    order = np.argsort(x, kind="stable")
    xs = x[order]
    # a[t, k] = w_k (|x_k - x_t| / span)^{r_k}, voters k sorted by position
    dist = np.abs(xs[None, :] - x[:, None]) / span
    a = w[order][None, :] * dist ** r[order][None, :]
    prefix = np.zeros((n, n + 1))
    np.cumsum(a, axis=1, out=prefix[:, 1:])
    mid = 0.5 * (x[:, None] + x[None, :])
    left = np.searchsorted(xs, mid, side="left")  # voters strictly below the midpoint
    right = np.searchsorted(xs, mid, side="right")  # voters at or below the midpoint
    rows = np.arange(n)[:, None]
    cols = np.arange(n)[None, :]
    below = prefix[cols, left] - prefix[rows, left]  # i lower: supporters below midpoint
    total_j = prefix[cols, n]
    total_i = prefix[rows, n]
    above = (total_j - prefix[cols, right]) - (total_i - prefix[rows, right])
    out = np.where(x[:, None] < x[None, :], below, np.where(x[:, None] > x[None, :], above, 0.0))
    return np.maximum(out, 0.0)


def all_pairs_total(x: FloatArray, w: FloatArray, r: FloatArray, span: float) -> float:
    """``sum_k sum_{a, b} |v_k(a, b)|`` over every ordered pair of actors, in O(n^2 log n).

    For one voter the sum over pairs of ``|y_a - y_b|`` is ``2 sum_t (2t - n + 1) y_(t)``
    with ``y`` sorted.
    """
    n = x.size
    y = np.sort((np.abs(x[:, None] - x[None, :]) / span) ** r[:, None], axis=1)
    coef = 2.0 * (2.0 * np.arange(n) - n + 1.0)
    return float(np.sum(w * (y @ coef)))


def success_probability(
    x: FloatArray, w: FloatArray, r: FloatArray, span: float, denominator: str
) -> FloatArray:
    """``P[i, j]``: probability that ``i`` prevails when challenging ``j`` (0 if ``x_i = x_j``)."""
    support = votes_for(x, w, r, span)
    if denominator == "pair":
        den = support + support.T
    else:
        den = np.full_like(support, all_pairs_total(x, w, r, span))
    return np.divide(support, den, out=np.zeros_like(support), where=den > 0)


def expected_utilities(
    x: FloatArray,
    s: FloatArray,
    prob: FloatArray,
    r_view: FloatArray,
    mu: float,
    span: float,
    p: EUMParams,
) -> tuple[FloatArray, FloatArray]:
    """Expected utilities of challenges seen by every actor with its own exponent.

    Returns
    -------
    own, other : ndarray, shape (n, n)
        ``own[i, j]`` is ``E_ij`` (i challenges j) and ``other[i, j]`` is ``E_ji`` (j
        challenges i), both evaluated with actor ``i``'s risk exponent ``r_view[i]``.
    """
    delta = np.abs(x[:, None] - x[None, :]) / span
    rv = r_view[:, None]
    u_s = 2.0 - 4.0 * (0.5 - 0.5 * delta) ** rv
    u_f = 2.0 - 4.0 * (0.5 + 0.5 * delta) ** rv
    u_sq = 2.0 - 4.0 * 0.5**rv
    base = -p.q * u_sq
    if p.q < 1.0:
        spread_own = 0.25 * (np.abs(x - mu)[:, None] + delta * span) / span
        spread_other = 0.25 * (np.abs(x - mu)[None, :] + delta * span) / span

        def drift(spread: FloatArray) -> FloatArray:
            u_b = 2.0 - 4.0 * np.clip(0.5 - spread, 0.0, None) ** rv
            u_w = 2.0 - 4.0 * (0.5 + spread) ** rv
            return np.asarray((1.0 - p.q) * (p.t * u_b + (1.0 - p.t) * u_w))

        base_own = base - drift(spread_own)
        base_other = base - drift(spread_other)
    else:
        base_own = base_other = np.broadcast_to(base, delta.shape)
    own = s[None, :] * (prob * u_s + (1 - prob) * u_f) + (1 - s[None, :]) * u_s + base_own
    other = s[:, None] * (prob.T * u_s + (1 - prob.T) * u_f) + (1 - s[:, None]) * u_s + base_other
    return own, other


def risk_exponents(exposure: FloatArray) -> FloatArray:
    """``r_i = (1 - R_i/3)/(1 + R_i/3)`` from exposures ``S_i``; all 1 when exposures are equal."""
    lo, hi = float(np.min(exposure)), float(np.max(exposure))
    if not hi - lo > 1e-12 * max(1.0, abs(hi), abs(lo)):
        return np.ones_like(exposure)
    big_r = (2.0 * exposure - hi - lo) / (hi - lo)
    return (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0)


def _pick(key: FloatArray, target: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row-wise minimum key and, among ties, the lowest target (order-independent)."""
    best = np.min(key, axis=1)
    tied = np.isclose(key, best[:, None], rtol=1e-12, atol=1e-12) & np.isfinite(key)
    chosen = np.min(np.where(tied, target, np.inf), axis=1)
    return best, chosen


def new_positions(x: FloatArray, own: FloatArray, other: FloatArray, p: EUMParams) -> FloatArray:
    """Each actor's position after accepting its best offer (unchanged when it has none)."""
    a, b = own, other
    valid = x[:, None] != x[None, :]
    np.fill_diagonal(valid, False)
    xi = np.broadcast_to(x[:, None], a.shape)
    xj = np.broadcast_to(x[None, :], a.shape)
    dist = np.abs(xj - xi)
    conflict = valid & (b > a) & (a > 0)
    compromise = valid & (b > 0) & (a < 0) & (b > np.abs(a))
    capitulate = valid & (b > 0) & (a < 0) & (b < np.abs(a)) & p.capitulation
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(compromise, np.abs(a) / np.where(compromise, b, 1.0), 0.0)
        comp_target = xi + (xj - xi) * frac
        if p.compromise_choice == "scholz":
            comp_key = (np.abs(a) * xi + np.abs(b) * xj) / np.where(compromise, np.abs(a) + b, 1.0)
        else:
            comp_key = np.abs(comp_target - xi)
    out = x.copy()
    done = np.zeros(x.size, dtype=bool)
    for mask, key, target in (
        (conflict, dist, xj),
        (compromise, comp_key, comp_target),
        (capitulate, dist, xj),
    ):
        rows = mask.any(axis=1) & ~done
        if not rows.any():
            continue
        _, chosen = _pick(np.where(mask, key, np.inf)[rows], np.where(mask, target, np.inf)[rows])
        out[rows] = chosen
        done |= rows
    return out


def eum_round(
    x: FloatArray, w: FloatArray, s: FloatArray, span: float, p: EUMParams
) -> tuple[FloatArray, FloatArray]:
    """One round of the model: new positions and the risk exponents used."""
    n = x.size
    ones = np.ones(n)
    mu = weighted_median(x, w)
    r = ones
    if p.risk:
        prob1 = success_probability(x, w, ones, span, p.denominator)
        own1, _ = expected_utilities(x, s, prob1, ones, mu, span, p)
        np.fill_diagonal(own1, 0.0)
        r = risk_exponents(own1.sum(axis=0))
    prob = success_probability(x, w, r, span, p.denominator)
    own, other = expected_utilities(x, s, prob, r, mu, span, p)
    return new_positions(x, own, other, p), r


def run(table: ActorTable, rounds: int = 8, params: EUMParams | None = None) -> EUMResult:
    """Run the model for a number of rounds on one issue.

    Parameters
    ----------
    table : ActorTable
        One issue; votes are weighted by ``capability * salience``.
    rounds : int
        Rounds to play (default 8, the horizon of Scholz et al.'s Table 2).
    params : EUMParams, optional
        Interpretive choices; defaults reproduce Table 2.

    Returns
    -------
    EUMResult
        Median and mean before and after every round, positions and risk exponents.

    Notes
    -----
    Degenerate tables have documented answers: with a single actor, or all positions equal,
    nobody can challenge anybody and every round repeats the initial position. Actors with
    zero weight still receive offers (they never resist) but do not vote. Tables too large
    to run in about a minute and a gigabyte (:func:`size_problem`) raise InputError before
    any work is done.
    """
    checked(table)
    if rounds < 0:
        raise ValueError("rounds must be >= 0")
    too_big = size_problem(table.n, rounds)
    if too_big is not None:
        raise InputError.single(table.source or "<table>", too_big, path=f"issue {table.issue}")
    p = params or EUMParams()
    w = weights(table)
    sal = table.salience
    scale_s = p.salience_scale or (100.0 if float(np.max(sal)) <= 100.0 else float(np.max(sal)))
    s = np.clip(sal / scale_s, 0.0, 1.0)
    x = table.position.astype(np.float64).copy()
    span = float(np.ptp(x)) if p.position_range == "positions" else table.scale[1] - table.scale[0]
    history = [x]
    risks = []
    if span > 0:
        for _ in range(rounds):
            x, r = eum_round(x, w, s, span, p)
            history.append(x)
            risks.append(r)
    else:
        history.extend([x] * rounds)
        risks.extend([np.ones_like(x)] * rounds)
    pos = np.vstack(history)
    return EUMResult(
        median=np.array([weighted_median(row, w) for row in pos]),
        mean=np.array([weighted_mean(row, w) for row in pos]),
        positions=pos,
        risk=np.vstack(risks) if risks else np.empty((0, x.size)),
    )


def eum(table: ActorTable, rounds: int = 8, **params: object) -> float:
    """Forecast one issue: the median voter position after ``rounds`` rounds.

    Keyword arguments are fields of :class:`EUMParams`.
    """
    p = replace(EUMParams(), **params)  # type: ignore[arg-type]
    return run(table, rounds, p).forecast
