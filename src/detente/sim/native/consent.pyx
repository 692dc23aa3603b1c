# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The consent checks of docs/model.md section 2 (vetoes, approvals, third parties, trust gate).

Compiled form of :func:`detente.sim.engine.ratify`: world by world, the candidates in
ladder order, each judged against that world's prospective levels, which an approval moves
to the approved target. (The engine's callers vote first, and the vote's kernel,
:func:`detente.sim.native.votes.voted_pairs`, applies the same trust gate before the vote.)
The same float64 operations, in the same order, as the NumPy formulation it replaced: a
check's loss is ``|P + d - x| - |P - x|`` (:func:`detente.sim.domestic_bargain.veto_loss`)
times the holder's stake, summed over its issues as NumPy did: one issue as is, two as one
addition, three or more as ``0.0 +`` the terms in issue order. NumPy summed the latter over
a ``[worlds, issues]`` array in Fortran order (fancy-indexed columns), hence one issue after
the other, except when a single world was checked for that candidate at that rank, or for
a third party whose ideal points differ across the worlds (stacked states): the rows were
then contiguous and NumPy's pairwise sum (eight lanes from eight terms) applied. The kernel
finds those cases first (``group``, ``apart``) to do the same.
"""

from libc.math cimport INFINITY, fabs, isnan
from libc.stdlib cimport calloc, free, malloc
from detente.sim.native.numpy_sum cimport pairwise_sum
from detente.sim.native.rows cimport any_set, row_of

import numpy as np

ctypedef fused real:
    float
    double


cdef inline double _maximum(double a, double b) noexcept nogil:
    """``np.maximum`` of two doubles (NaN propagates; the first of two equal values)."""
    return a if (a >= b or isnan(a)) else b


cdef inline double _minimum(double a, double b) noexcept nogil:
    """``np.minimum`` of two doubles."""
    return a if (a <= b or isnan(a)) else b


cdef class ConsentTables:
    """A consent plan's static tables (:class:`detente.sim.engine.RatifyPlan` and its side's
    effects and ladder order), laid out once per plan for :func:`ratify_tabled`; also the
    third parties whose ideal points differ across the worlds (``apart``, see the module
    docstring), which depend on nothing else. Arguments as :func:`ratify_worlds`'s."""

    cdef const double[:, :, ::1] effects
    cdef const long[:, ::1] order
    cdef const long[::1] check_start
    cdef const long[::1] pair_start
    cdef const long[::1] issue
    cdef const long[::1] holder
    cdef const double[::1] stake
    cdef const unsigned char[::1] veto
    cdef const double[:, ::1] tol
    cdef const double[:, ::1] limit
    cdef const double[:, ::1] ext_x
    cdef const double[:, ::1] rel
    cdef Py_ssize_t max_pairs
    cdef unsigned char[::1] apart

    def __init__(
        self,
        const double[:, :, ::1] effects,
        const long[:, ::1] order,
        const long[::1] check_start,
        const long[::1] pair_start,
        const long[::1] issue,
        const long[::1] holder,
        const double[::1] stake,
        const unsigned char[::1] veto,
        const double[:, ::1] tol,
        const double[:, ::1] limit,
        const double[:, ::1] ext_x,
        const double[:, ::1] rel,
    ):
        cdef Py_ssize_t n_k = check_start.shape[0] - 1, c, p, p0, w
        cdef Py_ssize_t m_x = ext_x.shape[0], max_pairs = 1
        self.effects = effects
        self.order = order
        self.check_start = check_start
        self.pair_start = pair_start
        self.issue = issue
        self.holder = holder
        self.stake = stake
        self.veto = veto
        self.tol = tol
        self.limit = limit
        self.ext_x = ext_x
        self.rel = rel
        for c in range(check_start[n_k]):
            if pair_start[c + 1] - pair_start[c] > max_pairs:
                max_pairs = pair_start[c + 1] - pair_start[c]
        self.max_pairs = max_pairs
        self.apart = np.zeros(max(check_start[n_k], 1), dtype=np.uint8)
        if m_x > 1 and max_pairs >= 8:  # third parties whose ideal points differ by world
            for c in range(check_start[n_k]):
                p0 = pair_start[c]
                if pair_start[c + 1] - p0 < 8 or holder[p0] >= 0:
                    continue
                for w in range(1, m_x):  # (its rows: one per world or per state)
                    for p in range(p0, pair_start[c + 1]):
                        if ext_x[w, p] != ext_x[0, p]:
                            self.apart[c] = 1
                    if self.apart[c]:
                        break


def ratify_worlds(
    cand,
    prospective,
    position,
    belief,
    threshold,
    gate,
    double sign,
    low,
    high,
    effects,
    order,
    check_start,
    pair_start,
    issue,
    holder,
    stake,
    veto,
    tol,
    limit,
    ext_x,
    rel,
):
    """Sequential consent checks: ``(approved [n, K] of bool, excess [n])``.

    ``position`` is issue-major ``[I, n or 1, A]``; every other array of ``m`` rows (its
    leading axis) serves the ``n`` worlds by reading row ``w * m // n``: ``m = 1`` shared,
    ``m = n`` one row per world, ``m`` states one row per state of a stacked run (each
    state's worlds consecutive, as many per state). Checks of instrument ``k``
    are ``check_start[k]:check_start[k + 1]``; pairs (issue, holder) of check ``c`` are
    ``pair_start[c]:pair_start[c + 1]`` (holder -1: a third party at ``ext_x``). Every
    array is C-contiguous (:func:`detente.sim.engine.ratify` makes it so). The same as
    :func:`ratify_tabled` with the plan's arrays laid out as :class:`ConsentTables`.
    """
    return ratify_tabled(
        cand, prospective, position, belief, threshold, gate, sign, low, high,
        ConsentTables(effects, order, check_start, pair_start, issue, holder, stake, veto,
                      tol, limit, ext_x, rel))


def ratify_tabled(
    const unsigned char[:, ::1] cand,
    const double[:, ::1] prospective,
    const real[:, :, ::1] position,
    const double[::1] belief,
    const double[::1] threshold,
    const unsigned char[::1] gate,
    double sign,
    const double[:, ::1] low,
    const double[:, ::1] high,
    ConsentTables tables not None,
):
    """:func:`ratify_worlds` with the plan's static arrays in ``tables`` (laid out once)."""
    cdef const double[:, :, ::1] effects = tables.effects
    cdef const long[:, ::1] order = tables.order
    cdef const long[::1] check_start = tables.check_start
    cdef const long[::1] pair_start = tables.pair_start
    cdef const long[::1] issue = tables.issue
    cdef const long[::1] holder = tables.holder
    cdef const double[::1] stake = tables.stake
    cdef const unsigned char[::1] veto = tables.veto
    cdef const double[:, ::1] tol = tables.tol
    cdef const double[:, ::1] limit = tables.limit
    cdef const double[:, ::1] ext_x = tables.ext_x
    cdef const double[:, ::1] rel = tables.rel
    cdef unsigned char[::1] apart = tables.apart
    cdef Py_ssize_t max_pairs = tables.max_pairs
    cdef Py_ssize_t n = cand.shape[0], n_k = cand.shape[1], n_i = prospective.shape[1]
    cdef Py_ssize_t c
    if n_k != check_start.shape[0] - 1:
        raise ValueError("ratify_tabled: cand does not match the consent tables")
    approved_arr = np.zeros((n, n_k), dtype=np.bool_)
    excess_arr = np.full(n, -np.inf)
    cdef unsigned char[:, ::1] approved = approved_arr.view(np.uint8)
    cdef double[::1] excess = excess_arr
    cdef double* pros  # and target, move [n_i], term [max_pairs]: one scratch buffer
    cdef double* target
    cdef double* move
    cdef double* term
    cdef Py_ssize_t w, j, k, i, p, p0, n_p, a, wp, we, wo, wl, wt, wx, wr, wb, wh, wth
    cdef double x, v, loss, worst
    cdef bint ok
    cdef Py_ssize_t m_p = position.shape[1], m_e = effects.shape[0], m_o = order.shape[0]
    cdef Py_ssize_t m_l = limit.shape[0], m_t = tol.shape[0], m_x = ext_x.shape[0]
    cdef Py_ssize_t m_r = rel.shape[0], m_th = threshold.shape[0], m_b = low.shape[0]
    cdef Py_ssize_t m_h = high.shape[0]
    cdef long* group  # [n_k, n_k]: how many worlds check candidate k at rank j
    pros = <double*>malloc((3 * n_i + max_pairs) * sizeof(double))
    group = <long*>calloc(n_k * n_k + 1, sizeof(long))
    if pros == NULL or group == NULL:
        free(pros)
        free(group)
        raise MemoryError()
    target = pros + n_i
    move = target + n_i
    term = move + n_i
    try:
        with nogil:
            for w in range(n if max_pairs >= 8 else 0):  # the worlds NumPy checked together
                wo = row_of(w, m_o, n)
                for j in range(n_k):
                    if cand[w, order[wo, j]]:
                        group[j * n_k + order[wo, j]] += 1
            for w in range(n):
                if n_k == 0 or not any_set(&cand[w, 0], n_k):
                    continue
                # a leaf of m rows for n worlds: row w * m // n (shared, per state or per world)
                wp = row_of(w, m_p, n)
                we = row_of(w, m_e, n)
                wo = row_of(w, m_o, n)
                wl = row_of(w, m_l, n)
                wt = row_of(w, m_t, n)
                wx = row_of(w, m_x, n)
                wr = row_of(w, m_r, n)
                wb = row_of(w, m_b, n)
                wh = row_of(w, m_h, n)
                wth = row_of(w, m_th, n)
                for i in range(n_i):
                    pros[i] = prospective[w, i]
                for j in range(n_k):
                    k = order[wo, j]
                    if not cand[w, k]:
                        continue
                    if gate[k] and not (belief[w] >= threshold[wth] * rel[wr, k]):
                        continue
                    for i in range(n_i):
                        v = _minimum(_maximum(pros[i] + sign * effects[we, k, i], low[wb, i]),
                                     high[wh, i])
                        target[i] = v
                        move[i] = v - pros[i]
                    ok = True
                    worst = -INFINITY
                    for c in range(check_start[k], check_start[k + 1]):
                        p0 = pair_start[c]
                        n_p = pair_start[c + 1] - p0
                        for p in range(n_p):
                            i = issue[p0 + p]
                            a = holder[p0 + p]
                            if a >= 0:
                                x = <double>position[i, wp, a]
                                term[p] = (fabs(pros[i] + move[i] - x) - fabs(pros[i] - x)) \
                                    * stake[p0 + p]
                            else:
                                x = ext_x[wx, p0 + p]
                                term[p] = fabs(pros[i] + move[i] - x) - fabs(pros[i] - x)
                        if n_p == 1:
                            loss = term[0]
                        elif n_p == 2:
                            loss = term[0] + term[1]
                        elif group[j * n_k + k] == 1 or apart[c]:
                            loss = 0.0 + pairwise_sum(&term[0], n_p)
                        else:
                            loss = 0.0
                            for p in range(n_p):
                                loss = loss + term[p]
                        if not (loss <= limit[wl, c]):
                            ok = False
                            break
                        if veto[c]:
                            worst = _maximum(worst, loss - tol[wt, c])
                    if not ok:
                        continue
                    approved[w, k] = 1
                    excess[w] = _maximum(excess[w], worst)
                    for i in range(n_i):
                        pros[i] = target[i]
    finally:
        free(pros)
        free(group)
    return approved_arr, excess_arr
