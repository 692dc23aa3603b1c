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
from libc.string cimport memset
from detente.sim.native.numpy_sum cimport pairwise_sum
from detente.sim.native.rows cimport any_set, row_of
from detente.sim.native.votes cimport (
    Tables, VoteTables, _vote, clouts32, position_t, vote_rows,
)

import numpy as np

ctypedef fused real:
    float
    double

cdef extern from *:
    """
    #include <string.h>

    /* m <= 64 bytes of a 0/1 row (bool) as bits 0 .. m - 1: eight bytes at a time, their low
       bits gathered by one multiplication (little-endian), the rest one byte at a time */
    static inline unsigned long long detente_row_bits(const unsigned char *row, Py_ssize_t m) {
        unsigned long long bits = 0, x;
        Py_ssize_t k = 0;
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        for (; k + 8 <= m; k += 8) {
            memcpy(&x, row + k, 8);
            bits |= ((x * 0x0102040810204080ULL) >> 56) << k;
        }
    #endif
        for (; k < m; k++)
            bits |= (unsigned long long)(row[k] != 0) << k;
        return bits;
    }

    /* the lowest set bit's index (bits != 0) */
    static inline Py_ssize_t detente_lowest_bit(unsigned long long bits) {
    #if defined(__GNUC__)
        return __builtin_ctzll(bits);
    #else
        Py_ssize_t k = 0;
        while (!(bits & 1ULL)) {
            bits >>= 1;
            k++;
        }
        return k;
    #endif
    }
    """
    unsigned long long row_bits "detente_row_bits" (const unsigned char* row, Py_ssize_t m) nogil
    Py_ssize_t lowest_bit "detente_lowest_bit" (unsigned long long bits) nogil


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
    approved_arr = np.zeros((cand.shape[0], cand.shape[1]), dtype=np.bool_)
    excess_arr = np.full(cand.shape[0], -np.inf)
    cdef unsigned char[:, ::1] approved = approved_arr.view(np.uint8)
    cdef double[::1] excess = excess_arr
    _consent_rows(cand, prospective, position, belief, threshold, gate, sign, low, high,
                  tables, approved, excess)
    return approved_arr, excess_arr


cdef int _consent_rows(
    const unsigned char[:, ::1] cand,
    const double[:, ::1] prospective,
    const real[:, :, ::1] position,
    const double[::1] belief,
    const double[::1] threshold,
    const unsigned char[::1] gate,
    double sign,
    const double[:, ::1] low,
    const double[:, ::1] high,
    ConsentTables tables,
    unsigned char[:, ::1] approved,
    double[::1] excess,
) except -1:
    """:func:`ratify_tabled` into ``approved`` (zeros) and ``excess``: each world's largest
    veto excess of an approved move raises its ``excess`` (``np.maximum`` of the two)."""
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
    return 0


# ------------------------------------------------------------------ the engine's passes
cdef enum:  # which steps a pass puts to the vote (Ratification.kind)
    GIVEN = 0  # the candidates given
    NEW = 1  # the steps neither in force nor pending whose requirements are met
    REVERSAL = 2  # the reversible steps in force


cdef class Ratification:
    """One ratification pass of a run (docs/model.md section 2) as its kernel
    (:func:`vote_and_ratify`) reads it every step, laid out once per run
    (``engine._ratify_constants``): the weighted vote of :func:`~detente.sim.native.votes.
    voted_pairs` (``votes``, ``sign``, ``vote_threshold``, ``proposer``; the trust gate
    ``vote_gate``, ``trust``, ``vote_rel``, ``vote_gate`` empty for none), then the consent
    checks of :func:`ratify_tabled` (``consent``, ``sign``, ``trust`` as the threshold,
    ``gate``, ``low``, ``high``) on the candidates the vote passed. ``kind``: which steps are
    candidates (0 the given ones, 1 the steps neither in force nor pending, 2 the steps in
    force that are ``reversible``)."""

    cdef VoteTables votes
    cdef ConsentTables consent
    cdef double sign
    cdef const double[::1] vote_threshold
    cdef long proposer
    cdef const unsigned char[::1] vote_gate
    cdef const double[::1] trust
    cdef const double[:, ::1] vote_rel
    cdef const unsigned char[::1] gate
    cdef const double[:, ::1] low
    cdef const double[:, ::1] high
    cdef int kind
    cdef const unsigned char[::1] reversible
    cdef object cand_buf  # [n, K] uint8, rewritten each call
    cdef object voted_buf

    def __init__(
        self, VoteTables votes not None, ConsentTables consent not None, double sign,
        const double[::1] vote_threshold, long proposer, const unsigned char[::1] vote_gate,
        const double[::1] trust, const double[:, ::1] vote_rel, const unsigned char[::1] gate,
        const double[:, ::1] low, const double[:, ::1] high, int kind,
        const unsigned char[::1] reversible,
    ):
        if kind not in (GIVEN, NEW, REVERSAL):
            raise ValueError("Ratification: kind must be 0, 1 or 2")
        if kind == REVERSAL and reversible.shape[0] != consent.check_start.shape[0] - 1:
            raise ValueError("Ratification: reversible does not match the consent tables")
        self.votes, self.consent, self.sign = votes, consent, sign
        self.vote_threshold, self.proposer, self.vote_gate = vote_threshold, proposer, vote_gate
        self.trust, self.vote_rel, self.gate, self.low, self.high = trust, vote_rel, gate, low, high
        self.kind, self.reversible = kind, reversible

    cdef _buffers(self, Py_ssize_t n, Py_ssize_t n_k):
        """The pass's candidate and vote buffers ``[n, K]`` (kept for the next step)."""
        if self.cand_buf is None or self.cand_buf.shape != (n, n_k):
            self.cand_buf = np.empty((n, n_k), dtype=np.uint8)
            self.voted_buf = np.empty((n, n_k), dtype=np.uint8)


cdef object _pass(
    Ratification run, const unsigned char[:, ::1] cand, const unsigned char[:, ::1] active,
    const unsigned char[:, ::1] pending, const unsigned char[:, ::1] req_ok,
    const double[:, ::1] level, const position_t[:, :, ::1] position,
    const double[:, ::1] clout, const double[::1] belief, const double[:, ::1] prospective,
    double[::1] excess,
):
    """One pass of :func:`vote_and_ratify`: its approved steps ``[n, K]`` of bool."""
    cdef Py_ssize_t n = level.shape[0], n_k = run.consent.check_start.shape[0] - 1, w, k
    cdef bint all_ok = req_ok.shape[0] == 0
    cdef const unsigned char[:, ::1] cands
    cdef unsigned char[:, ::1] buf
    cdef unsigned char[:, ::1] voted
    cdef const unsigned char* act
    cdef const unsigned char* pen
    cdef const unsigned char* req
    cdef const unsigned char* rev
    cdef unsigned char* row
    approved_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef unsigned char[:, ::1] approved = approved_arr.view(np.uint8)
    if n == 0 or n_k == 0:
        return approved_arr
    run._buffers(n, n_k)
    voted = run.voted_buf
    if run.kind == GIVEN:
        cands = cand
    else:
        if active.shape[0] != n or active.shape[1] != n_k or (run.kind == NEW and (
                pending.shape[0] != n or pending.shape[1] != n_k or not all_ok and (
                    req_ok.shape[0] != n or req_ok.shape[1] != n_k))):
            raise ValueError("vote_and_ratify: active, pending or req_ok does not match")
        buf = run.cand_buf
        act = &active[0, 0]
        row = &buf[0, 0]
        with nogil:
            if run.kind == NEW:  # whole rows at once (the arrays are C-contiguous)
                pen = &pending[0, 0]
                for k in range(n * n_k):
                    row[k] = (act[k] ^ 1) & (pen[k] ^ 1)
                if not all_ok:
                    req = &req_ok[0, 0]
                    for k in range(n * n_k):
                        row[k] = row[k] & req[k]
            else:
                rev = &run.reversible[0]
                for w in range(n):
                    for k in range(n_k):
                        row[w * n_k + k] = act[w * n_k + k] & rev[k]
        cands = buf
    voted[...] = 0
    vote_rows(cands, level, position, clout, run.votes, run.sign, run.vote_threshold,
              run.proposer, run.vote_gate, belief, run.trust, run.vote_rel, voted)
    _consent_rows(voted, prospective, position, belief, run.trust, run.gate, run.sign, run.low,
                  run.high, run.consent, approved, excess)
    return approved_arr


ctypedef struct PassRows:
    # one pass of :func:`_fused_worlds` as pointers: its vote's tables (``tb``) and leaves
    # (each with its rows ``m_*`` and the elements of a row), and its consent tables
    Tables tb
    const double* v_eff
    Py_ssize_t m_ve, s_ve
    const float* usal4
    Py_ssize_t m_u, s_u
    const float* sal4
    Py_ssize_t m_s, s_s
    const double* v_thr
    Py_ssize_t m_vt
    const unsigned char* v_gate  # NULL: no trust gate before the vote
    const double* trust
    Py_ssize_t m_tr
    const double* v_rel
    Py_ssize_t m_vr, s_vr
    const double* c_eff
    Py_ssize_t m_ce, s_ce
    const long* order
    Py_ssize_t m_o, s_o
    const long* check_start
    const long* pair_start
    const long* issue
    const long* holder
    const double* stake
    const unsigned char* veto
    const double* tol
    Py_ssize_t m_tl, s_tl
    const double* limit
    Py_ssize_t m_l, s_l
    const double* ext_x
    Py_ssize_t m_x, s_x
    const double* c_rel
    Py_ssize_t m_cr, s_cr
    const unsigned char* c_gate  # NULL: no trust gate in the consent checks
    const double* low
    Py_ssize_t m_b, s_b
    const double* high
    Py_ssize_t m_h, s_h
    double sign
    int kind
    const unsigned char* reversible


cdef int _pass_rows(Ratification run, PassRows* P, Py_ssize_t n_k, Py_ssize_t n_a,
                    Py_ssize_t n_i) except -1:
    """Fill ``P`` with ``run``'s tables and leaves (checking that they fit each other)."""
    cdef VoteTables v = run.votes
    cdef ConsentTables c = run.consent
    if v.n_actors != n_a or v.n_iss.shape[0] != n_k:
        raise ValueError("voted_pairs: clout or cand does not match the vote tables")
    if c.check_start.shape[0] - 1 != n_k:
        raise ValueError("ratify_tabled: cand does not match the consent tables")
    P.tb.n_iss = &v.n_iss[0]
    P.tb.iss_pad = &v.iss_pad[0, 0]
    P.tb.tol = &v.tol[0]
    P.tb.gate = NULL
    P.tb.sign = run.sign
    P.tb.proposer = run.proposer
    P.tb.n_k = n_k
    P.tb.n_a = n_a
    P.tb.n4 = v.sal4.shape[2]
    P.tb.n_i = n_i
    P.tb.n_j = v.iss_pad.shape[1]
    P.v_eff, P.m_ve = &v.effects[0, 0, 0], max(v.effects.shape[0], 1)
    P.s_ve = v.effects.shape[1] * v.effects.shape[2]
    P.usal4, P.m_u = &v.usal4[0, 0, 0, 0], max(v.usal4.shape[0], 1)
    P.s_u = v.usal4.shape[1] * v.usal4.shape[2] * v.usal4.shape[3]
    P.sal4, P.m_s = &v.sal4[0, 0, 0], max(v.sal4.shape[0], 1)
    P.s_s = v.sal4.shape[1] * v.sal4.shape[2]
    P.v_thr, P.m_vt = &run.vote_threshold[0], max(run.vote_threshold.shape[0], 1)
    P.v_gate = &run.vote_gate[0] if run.vote_gate.shape[0] > 0 else NULL
    P.trust, P.m_tr = &run.trust[0], max(run.trust.shape[0], 1)
    P.v_rel, P.m_vr = &run.vote_rel[0, 0], max(run.vote_rel.shape[0], 1)
    P.s_vr = run.vote_rel.shape[1]
    P.c_eff, P.m_ce = &c.effects[0, 0, 0], max(c.effects.shape[0], 1)
    P.s_ce = c.effects.shape[1] * c.effects.shape[2]
    P.order, P.m_o, P.s_o = &c.order[0, 0], max(c.order.shape[0], 1), c.order.shape[1]
    P.check_start, P.pair_start = &c.check_start[0], &c.pair_start[0]
    P.issue, P.holder, P.stake = &c.issue[0], &c.holder[0], &c.stake[0]
    P.veto = &c.veto[0]
    P.tol, P.m_tl, P.s_tl = &c.tol[0, 0], max(c.tol.shape[0], 1), c.tol.shape[1]
    P.limit, P.m_l, P.s_l = &c.limit[0, 0], max(c.limit.shape[0], 1), c.limit.shape[1]
    P.ext_x, P.m_x, P.s_x = &c.ext_x[0, 0], max(c.ext_x.shape[0], 1), c.ext_x.shape[1]
    P.c_rel, P.m_cr, P.s_cr = &c.rel[0, 0], max(c.rel.shape[0], 1), c.rel.shape[1]
    P.c_gate = &run.gate[0] if run.gate.shape[0] > 0 else NULL
    P.low, P.m_b, P.s_b = &run.low[0, 0], max(run.low.shape[0], 1), run.low.shape[1]
    P.high, P.m_h, P.s_h = &run.high[0, 0], max(run.high.shape[0], 1), run.high.shape[1]
    P.sign = run.sign
    P.kind = run.kind
    P.reversible = &run.reversible[0] if run.reversible.shape[0] > 0 else NULL
    return 0


cdef inline Py_ssize_t _world_votes(
    const PassRows* P, Py_ssize_t w, Py_ssize_t n, unsigned long long bits, Py_ssize_t base,
    const double* level, const position_t* pos, Py_ssize_t pos_issue, const float* cl32,
    double belief, unsigned char* won,
) noexcept nogil:
    """One world's votes of a pass of :func:`_fused_worlds`: each of its candidates
    ``base + b`` for the set bits ``b`` of ``bits`` (:func:`_candidate_bits`) through the
    vote's trust gate and the vote (:func:`~detente.sim.native.votes.voted_pairs`'s), the
    winners set in ``won`` (zeros, which the caller restores after a win); returns how many
    won."""
    cdef Py_ssize_t k, wins = 0
    cdef Py_ssize_t we = row_of(w, P.m_ve, n), wu = row_of(w, P.m_u, n)
    cdef Py_ssize_t ws = row_of(w, P.m_s, n), wvt = row_of(w, P.m_vt, n)
    cdef Py_ssize_t wtr = row_of(w, P.m_tr, n), wvr = row_of(w, P.m_vr, n)
    cdef const double* eff = P.v_eff + we * P.s_ve
    cdef const float* usal4 = P.usal4 + wu * P.s_u
    cdef const float* sal4 = P.sal4 + ws * P.s_s
    cdef double threshold = P.v_thr[wvt]
    while bits:
        k = base + lowest_bit(bits)
        bits &= bits - 1
        # the trust gate first: a gated candidate without the belief loses
        if P.v_gate == NULL or not P.v_gate[k] or \
                belief >= P.trust[wtr] * P.v_rel[wvr * P.s_vr + k]:
            if _vote(&P.tb, k, level, pos, pos_issue, cl32, eff, usal4, sal4 + k * P.tb.n4,
                     threshold):
                won[k] = 1
                wins += 1
    return wins


cdef void _world_consent(
    const PassRows* P, Py_ssize_t w, Py_ssize_t n, const unsigned char* won, Py_ssize_t n_i,
    const position_t* pos, Py_ssize_t pos_issue, double belief, const double* prospective,
    double* pros, double* target, double* move, double* term, unsigned char* approved,
    double* excess,
) noexcept nogil:
    """One world's consent checks of a pass of :func:`_fused_worlds`: those of
    :func:`_consent_rows` on the vote's winners ``won``, in ladder order (its trust gate,
    the checks against ``pros``, which an approval moves to its target). The same numbers:
    for checks of fewer than eight issues ``group`` and ``apart`` are never set."""
    cdef Py_ssize_t n_k = P.tb.n_k, j, k, i, c, p, p0, n_p, a
    cdef const long* order = P.order + row_of(w, P.m_o, n) * P.s_o
    cdef const double* eff = P.c_eff + row_of(w, P.m_ce, n) * P.s_ce
    cdef const double* lim = P.limit + row_of(w, P.m_l, n) * P.s_l
    cdef const double* tl = P.tol + row_of(w, P.m_tl, n) * P.s_tl
    cdef const double* ext = P.ext_x + row_of(w, P.m_x, n) * P.s_x
    cdef const double* rel = P.c_rel + row_of(w, P.m_cr, n) * P.s_cr
    cdef const double* lo = P.low + row_of(w, P.m_b, n) * P.s_b
    cdef const double* hi = P.high + row_of(w, P.m_h, n) * P.s_h
    cdef double trust = P.trust[row_of(w, P.m_tr, n)]
    cdef const double* e
    cdef double x, v, loss, worst
    cdef bint ok
    for i in range(n_i):
        pros[i] = prospective[i]
    for j in range(n_k):
        k = order[j]
        if not won[k]:
            continue
        if P.c_gate != NULL and P.c_gate[k] and not (belief >= trust * rel[k]):
            continue
        e = eff + k * n_i
        for i in range(n_i):
            v = _minimum(_maximum(pros[i] + P.sign * e[i], lo[i]), hi[i])
            target[i] = v
            move[i] = v - pros[i]
        ok = True
        worst = -INFINITY
        for c in range(P.check_start[k], P.check_start[k + 1]):
            p0 = P.pair_start[c]
            n_p = P.pair_start[c + 1] - p0
            for p in range(n_p):
                i = P.issue[p0 + p]
                a = P.holder[p0 + p]
                if a >= 0:
                    x = <double>pos[i * pos_issue + a]
                    term[p] = (fabs(pros[i] + move[i] - x) - fabs(pros[i] - x)) \
                        * P.stake[p0 + p]
                else:
                    x = ext[p0 + p]
                    term[p] = fabs(pros[i] + move[i] - x) - fabs(pros[i] - x)
            if n_p == 1:
                loss = term[0]
            elif n_p == 2:
                loss = term[0] + term[1]
            else:
                loss = 0.0
                for p in range(n_p):
                    loss = loss + term[p]
            if not (loss <= lim[c]):
                ok = False
                break
            if P.veto[c]:
                worst = _maximum(worst, loss - tl[c])
        if not ok:
            continue
        approved[k] = 1
        excess[0] = _maximum(excess[0], worst)
        for i in range(n_i):
            pros[i] = target[i]


cdef inline unsigned long long _candidate_bits(
    const PassRows* P, Py_ssize_t w, Py_ssize_t base, Py_ssize_t m, const unsigned char* cand,
    const unsigned char* act, const unsigned char* pen, const unsigned char* req,
) noexcept nogil:
    """World ``w``'s candidates ``base .. base + m - 1`` (``m`` <= 64) of a pass of
    :func:`_fused_worlds` as bits: the ``GIVEN`` ones (``cand``), the steps neither ``act``
    nor ``pen`` (and ``req``, unless NULL) for ``NEW``, those ``act`` and reversible for
    ``REVERSAL``; each mask ``[n, K]`` of bool, read in whole words (:c:func:`row_bits`)."""
    cdef Py_ssize_t at = w * P.tb.n_k + base
    cdef unsigned long long bits
    if P.kind == GIVEN:
        return row_bits(cand + at, m)
    if P.kind == REVERSAL:
        return row_bits(act + at, m) & row_bits(P.reversible + base, m)
    bits = ~(row_bits(act + at, m) | row_bits(pen + at, m))
    if m < 64:
        bits &= (1ULL << m) - 1
    if req != NULL:
        bits &= row_bits(req + at, m)
    return bits


cdef int _check_state(
    Ratification run, Py_ssize_t n, const unsigned char[:, ::1] cand,
    const unsigned char[:, ::1] active, const unsigned char[:, ::1] pending,
    const unsigned char[:, ::1] req_ok,
) except -1:
    """Whether the masks a pass of ``run`` reads are ``[n, K]``, as :func:`_pass` asks."""
    cdef Py_ssize_t n_k = run.consent.check_start.shape[0] - 1
    if run.kind == GIVEN:
        if cand.shape[0] != n or cand.shape[1] != n_k:
            raise ValueError("voted_pairs: clout or cand does not match the vote tables")
    elif active.shape[0] != n or active.shape[1] != n_k or (run.kind == NEW and (
            pending.shape[0] != n or pending.shape[1] != n_k or req_ok.shape[0] != 0 and (
                req_ok.shape[0] != n or req_ok.shape[1] != n_k))):
        raise ValueError("vote_and_ratify: active, pending or req_ok does not match")
    return 0


cdef inline void _state_leaves(
    const PassRows* P, PassRows* Q, Py_ssize_t s, Py_ssize_t n_s,
) noexcept nogil:
    """``P`` into ``Q`` with each leaf of one row per state (``n_s`` rows) narrowed to state
    ``s``'s row, then one row shared by the state's worlds: the rows
    :func:`~detente.sim.native.rows.row_of` finds, without a division per world and leaf."""
    Q[0] = P[0]
    if Q.m_ve == n_s:
        Q.v_eff, Q.m_ve = Q.v_eff + s * Q.s_ve, 1
    if Q.m_u == n_s:
        Q.usal4, Q.m_u = Q.usal4 + s * Q.s_u, 1
    if Q.m_s == n_s:
        Q.sal4, Q.m_s = Q.sal4 + s * Q.s_s, 1
    if Q.m_vt == n_s:
        Q.v_thr, Q.m_vt = Q.v_thr + s, 1
    if Q.m_tr == n_s:
        Q.trust, Q.m_tr = Q.trust + s, 1
    if Q.m_vr == n_s:
        Q.v_rel, Q.m_vr = Q.v_rel + s * Q.s_vr, 1
    if Q.m_ce == n_s:
        Q.c_eff, Q.m_ce = Q.c_eff + s * Q.s_ce, 1
    if Q.m_o == n_s:
        Q.order, Q.m_o = Q.order + s * Q.s_o, 1
    if Q.m_tl == n_s:
        Q.tol, Q.m_tl = Q.tol + s * Q.s_tl, 1
    if Q.m_l == n_s:
        Q.limit, Q.m_l = Q.limit + s * Q.s_l, 1
    if Q.m_x == n_s:
        Q.ext_x, Q.m_x = Q.ext_x + s * Q.s_x, 1
    if Q.m_cr == n_s:
        Q.c_rel, Q.m_cr = Q.c_rel + s * Q.s_cr, 1
    if Q.m_b == n_s:
        Q.low, Q.m_b = Q.low + s * Q.s_b, 1
    if Q.m_h == n_s:
        Q.high, Q.m_h = Q.high + s * Q.s_h, 1


cdef object _fused_worlds(
    Ratification run, Ratification reversal, const unsigned char[:, ::1] cand,
    const unsigned char[:, ::1] active, const unsigned char[:, ::1] pending,
    const unsigned char[:, ::1] req_ok, const double[:, ::1] level,
    const position_t[:, :, ::1] position, const double[:, ::1] clout,
    const double[::1] belief, const double[:, ::1] prospective, double[::1] excess,
    Py_ssize_t n_s,
):
    """:func:`vote_and_ratify` world by world, state by state of a run of ``n_s`` states
    (each ``n / n_s`` consecutive worlds; 1: one state, or leaves of one row per world):
    each state's leaves found once (:func:`_state_leaves`), then each world's passes
    (``run``'s, then ``reversal``'s): its candidates read from the masks as bits
    (:func:`_candidate_bits`, no ``[n, K]`` array of them), its votes (:func:`_world_votes`)
    then, if a candidate won, the consent checks (:func:`_world_consent`), the clouts
    converted once per world.
    For consent tables whose checks span fewer than eight issues each (their sums do not
    depend on the other worlds, :func:`_consent_rows`): the same numbers as :func:`_pass`."""
    cdef Py_ssize_t n = level.shape[0], n_i = level.shape[1], n_a = clout.shape[1]
    cdef Py_ssize_t m_p = position.shape[1], n_pass = 1, w, q, wp, k, s, each
    cdef Py_ssize_t n4 = 0, n_kmax = 0, n_d, base, wins
    cdef PassRows passes[2]
    cdef PassRows state[2]
    cdef unsigned char* outs[2]
    cdef const unsigned char* cand_p = NULL
    cdef const unsigned char* act_p = NULL
    cdef const unsigned char* pen_p = NULL
    cdef const unsigned char* req_p = NULL
    cdef unsigned long long bits
    cdef bint converted
    cdef Ratification r
    cdef unsigned char[:, ::1] out
    if n_s < 1 or n % n_s:
        raise ValueError("vote_and_ratify: the worlds are not n_states equal states")
    each = n // n_s
    results = []
    for r in (run, reversal):
        if r is None:
            continue
        q = len(results)
        k = r.consent.check_start.shape[0] - 1
        arr = np.zeros((n, k), dtype=np.bool_)
        results.append(arr)
        if n == 0:
            continue
        _check_state(r, n, cand, active, pending, req_ok)
        _pass_rows(r, &passes[q], k, n_a, n_i)
        out = arr.view(np.uint8)
        outs[q] = &out[0, 0] if k else NULL
        n4 = max(n4, passes[q].tb.n4)
        n_kmax = max(n_kmax, k)
    n_pass = len(results)
    if n == 0:
        return results[0], results[1] if n_pass == 2 else None
    for q in range(n_pass):  # the masks each pass's candidates come from
        if passes[q].tb.n_k == 0:
            continue
        if passes[q].kind == GIVEN:
            cand_p = &cand[0, 0]
        else:
            act_p = &active[0, 0]
        if passes[q].kind == NEW:
            pen_p = &pending[0, 0]
            req_p = &req_ok[0, 0] if req_ok.shape[0] else NULL
    # scratch: pros, target, move [n_i] and term [8] (doubles, the checks' terms: fewer
    # than eight), the clouts and a vote's gains [n4] (floats), the winners [K]
    n_d = 3 * n_i + 8
    cdef char* scratch = <char*>calloc(
        1, n_d * sizeof(double) + (2 * n4 + 4) * sizeof(float) + n_kmax + 8)
    if scratch == NULL:
        raise MemoryError()
    cdef double* pros = <double*>scratch
    cdef double* target = pros + n_i
    cdef double* move = target + n_i
    cdef double* term = move + n_i
    cdef float* cl32 = <float*>(pros + n_d)
    cdef float* gain = cl32 + n4
    cdef unsigned char* won = <unsigned char*>(gain + n4 + 4)
    for q in range(n_pass):
        passes[q].tb.gain = gain
    try:
        with nogil:
            for s in range(n_s):
                for q in range(n_pass):
                    _state_leaves(&passes[q], &state[q], s, n_s)
                for w in range(s * each, (s + 1) * each):
                    wp = row_of(w, m_p, n)
                    converted = False
                    for q in range(n_pass):
                        k = state[q].tb.n_k
                        wins = 0
                        for base in range(0, k, 64):  # its candidates, 64 at a time
                            bits = _candidate_bits(&state[q], w, base, min(k - base, 64),
                                                   cand_p, act_p, pen_p, req_p)
                            if not bits:
                                continue
                            if not converted:  # the clouts as float32, once per world
                                clouts32(cl32, &clout[w, 0], n_a)
                                converted = True
                            wins += _world_votes(&state[q], w, n, bits, base, &level[w, 0],
                                                 &position[0, wp, 0], m_p * n_a, cl32,
                                                 belief[w], won)
                        if wins:
                            _world_consent(&state[q], w, n, won, n_i, &position[0, wp, 0],
                                           m_p * n_a, belief[w], &prospective[w, 0], pros,
                                           target, move, term, outs[q] + w * k, &excess[w])
                            memset(won, 0, k)  # (zeros again: few worlds have a winner)
    finally:
        free(scratch)
    return results[0], results[1] if n_pass == 2 else None


def vote_and_ratify_states(
    Ratification run not None, Ratification reversal, const unsigned char[:, ::1] cand,
    const unsigned char[:, ::1] active, const unsigned char[:, ::1] pending,
    const unsigned char[:, ::1] req_ok, const double[:, ::1] level,
    const position_t[:, :, ::1] position, const double[:, ::1] clout,
    const double[::1] belief, const double[:, ::1] prospective, double[::1] excess,
    Py_ssize_t n_states,
):
    """:func:`vote_and_ratify` of a stacked run of ``n_states`` states (each ``n /
    n_states`` consecutive worlds; leaves of one row per state read once per state, not
    found world by world): the same numbers."""
    if run.consent.max_pairs < 8 and (reversal is None or reversal.consent.max_pairs < 8):
        return _fused_worlds(run, reversal, cand, active, pending, req_ok, level, position,
                             clout, belief, prospective, excess, n_states)
    approved = _pass(run, cand, active, pending, req_ok, level, position, clout, belief,
                     prospective, excess)
    if reversal is None:
        return approved, None
    return approved, _pass(reversal, cand, active, pending, req_ok, level, position, clout,
                           belief, prospective, excess)


def vote_and_ratify(
    Ratification run not None, Ratification reversal, const unsigned char[:, ::1] cand,
    const unsigned char[:, ::1] active, const unsigned char[:, ::1] pending,
    const unsigned char[:, ::1] req_ok, const double[:, ::1] level,
    const position_t[:, :, ::1] position, const double[:, ::1] clout,
    const double[::1] belief, const double[:, ::1] prospective, double[::1] excess,
):
    """A side's ratification this step: ``(approved, reversed)``, ``[n, K]`` of bool each
    (``reversed`` None without a ``reversal`` pass).

    ``run``'s candidates (``cand`` as given, or the steps neither ``active`` nor ``pending``
    whose requirements are met, ``req_ok``: no rows when all are) are put to the weighted
    vote (:func:`~detente.sim.native.votes.voted_pairs`) and those it passes to the consent
    checks (:func:`ratify_tabled`); then ``reversal``'s (the reversible steps ``active``)
    alike, judged against the same ``prospective`` levels. Each approved move's largest veto
    excess raises ``excess`` in place (as ``np.maximum``). The same numbers as the two
    kernels called one after the other, without the arrays between them.
    """
    if run.consent.max_pairs < 8 and (reversal is None or reversal.consent.max_pairs < 8):
        return _fused_worlds(run, reversal, cand, active, pending, req_ok, level, position,
                             clout, belief, prospective, excess, 1)
    approved = _pass(run, cand, active, pending, req_ok, level, position, clout, belief,
                     prospective, excess)
    if reversal is None:
        return approved, None
    return approved, _pass(reversal, cand, active, pending, req_ok, level, position, clout,
                           belief, prospective, excess)
