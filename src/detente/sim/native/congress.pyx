# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The focal side's agenda and Congress's own acts (docs/model.md 1, 1b, 4c), world by world.

Compiled form of :func:`detente.sim.engine.ladder`, :func:`~detente.sim.engine.focal_proposals`,
:func:`~detente.sim.engine.congress_bills` and :func:`~detente.sim.engine.law_sunsets`, and of
the pure functions of :mod:`detente.sim.mechanisms.congress` they call (the renewal at a
sunset, the retreat past the cost tolerance, the legislature's initiative, the veto and its
override, the statute lock, the lapse of a law). Each formula is one ``cdef`` function over
one world's row; the ``def`` kernels loop over worlds and call them, so the engine's one
call per mechanism and the mechanism's own function compute the same numbers by the same
code. The float64 operations are those of the NumPy formulation they replaced, in the same
order; the only sum (the statute lock's, over instruments) runs instrument by instrument, as
NumPy reduces a non-contiguous axis.

Leaves shared by all worlds come with a leading axis of 1 (world ``w`` reads row 0), per-world
ones with one row per world or one per state of a stacked run (world ``w`` of ``n`` reads row
``w * m // n`` of ``m``: ``_r``); bool arrays arrive as ``uint8`` views. A row of ``K``
0/1 bytes is combined eight bytes at a time (:func:`_word`: the last word of a row of 8 or
more bytes overlaps the one before it, so only idempotent operations write a row in place;
a row shorter than 8 bytes goes byte by byte). The engine's kernels read the run's leaves
from one :class:`CongressRun`; the agenda's last part (withdrawn, cancelled, candidates:
``_agenda``, in C) is one pass over all worlds' rows, which gcc vectorises.
"""

from libc.math cimport INFINITY, fabs
from libc.stdint cimport uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset
from detente.sim.native.numpy_sum cimport pairwise_sum
from detente.sim.native.rows cimport any_set, row_of
from detente.sim.native.step_sums cimport finite_matrix
from detente.sim.native.votes cimport Tables, VoteTables, _vote, clouts32, next_set

import numpy as np

ctypedef unsigned char uchar

cdef extern from *:
    """
    #define DETENTE_ONES 0x0101010101010101ULL
    #if defined(_MSC_VER)
    #define DETENTE_RESTRICT __restrict
    #else
    #define DETENTE_RESTRICT __restrict__
    #endif

    /* The agenda of n worlds (focal_proposals), byte by byte over their [n, K] rows of 0/1
       (req: the requirements met, NULL: all are): wants, what each world wants; steps,
       the [K] row of each step's bits (bit 1: not reversible, bit 2: askable) repeated
       over the worlds. Whether any pending step is cancelled. */
    static int detente_agenda(
            Py_ssize_t size, const unsigned char *DETENTE_RESTRICT act,
            const unsigned char *DETENTE_RESTRICT pen, const unsigned char *DETENTE_RESTRICT leg,
            const unsigned char *DETENTE_RESTRICT wants,
            const unsigned char *DETENTE_RESTRICT steps,
            const unsigned char *DETENTE_RESTRICT req, unsigned char *DETENTE_RESTRICT drop,
            unsigned char *DETENTE_RESTRICT cancel, unsigned char *DETENTE_RESTRICT cand) {
        Py_ssize_t j;
        unsigned char cancelled = 0;
        for (j = 0; j < size; j++) {
            unsigned char w = wants[j], free_ = leg[j] ^ 1;  /* not Congress's own act */
            unsigned char kept = w | ((steps[j] >> 1) & 1);  /* wanted or not reversible */
            drop[j] = act[j] & (kept ^ 1) & free_;
            cancel[j] = pen[j] & (w ^ 1) & free_;
            cancelled |= pen[j] & (w ^ 1) & free_;
            cand[j] = w & (steps[j] >> 2) & (act[j] ^ 1) & (pen[j] ^ 1);
        }
        if (req != NULL) {
            for (j = 0; j < size; j++) {
                cand[j] &= req[j];
            }
        }
        return cancelled;
    }

    /* out = clip(prospective + 0.0, low, high) over size numbers, as _min(_max(...))
       (the levels judged without moves; low and high repeated over the worlds). */
    static void detente_clip(
            Py_ssize_t size, const double *DETENTE_RESTRICT prospective,
            const double *DETENTE_RESTRICT low, const double *DETENTE_RESTRICT high,
            double *DETENTE_RESTRICT out) {
        Py_ssize_t j;
        for (j = 0; j < size; j++) {
            double x = prospective[j] + 0.0;
            x = low[j] > x ? low[j] : x;
            out[j] = high[j] < x ? high[j] : x;
        }
    }
    """
    const uint64_t ONES "DETENTE_ONES"  # a 1 in every byte: x ^ ONES negates 0/1 bytes
    bint _agenda "detente_agenda" (
        Py_ssize_t size, const uchar* act, const uchar* pen, const uchar* leg,
        const uchar* wants, const uchar* steps, const uchar* req, uchar* drop, uchar* cancel,
        uchar* cand) noexcept nogil
    void _clip "detente_clip" (
        Py_ssize_t size, const double* prospective, const double* low, const double* high,
        double* out) noexcept nogil


cdef inline double _max(double x, double low) noexcept nogil:
    """``np.maximum(x, low)`` for a number ``low`` (a NaN ``x`` stays NaN)."""
    return low if low > x else x


cdef inline double _min(double x, double high) noexcept nogil:
    """``np.minimum(x, high)`` for a number ``high``."""
    return high if high < x else x


cdef inline Py_ssize_t _r(Py_ssize_t w, Py_ssize_t rows, Py_ssize_t n) noexcept nogil:
    """The row world ``w`` of ``n`` reads of a leaf with ``rows`` rows: 1 shared, ``n`` one
    per world, one per state of a stacked run (``w * rows // n``, :func:`row_of`)."""
    return row_of(w, rows, n)


# ------------------------------------------------------------------- rows of 0/1 bytes
cdef inline uint64_t _word(const uchar* row, Py_ssize_t o, Py_ssize_t n_k) noexcept nogil:
    """The 8 bytes of ``row`` (``n_k`` of them) at ``o`` as one number; byte ``o`` alone
    when the row is shorter than 8."""
    cdef uint64_t x
    if n_k < 8:
        return row[o]
    memcpy(&x, row + o, 8)
    return x


cdef inline void _put(uchar* row, Py_ssize_t o, Py_ssize_t n_k, uint64_t x) noexcept nogil:
    """Writes :func:`_word` ``x`` at ``o`` of ``row``."""
    if n_k < 8:
        row[o] = <uchar>x
    else:
        memcpy(row + o, &x, 8)


cdef inline Py_ssize_t _after(Py_ssize_t o, Py_ssize_t n_k) noexcept nogil:
    """The offset of the word after the one at ``o`` (``n_k``: none): 8 bytes on, the last
    8 bytes of the row where fewer than 8 remain beyond, 1 byte on in a short row."""
    if n_k < 8:
        return o + 1
    if o + 8 >= n_k:
        return n_k
    return o + 8 if o + 16 <= n_k else n_k - 8


cdef inline bint _any(const uchar* row, Py_ssize_t n_k) noexcept nogil:
    """Whether any of the ``n_k`` bytes of ``row`` is set (the words of :func:`_after`:
    eight bytes at a time, the last eight for the rest; byte by byte in a short row)."""
    cdef Py_ssize_t o = 0
    cdef uint64_t x = 0, y
    if n_k < 8:
        while o < n_k:
            x = x | row[o]
            o += 1
        return x != 0
    while o + 8 <= n_k:
        memcpy(&y, row + o, 8)
        x = x | y
        o += 8
    if o < n_k:
        memcpy(&y, row + n_k - 8, 8)
        x = x | y
    return x != 0


cdef Py_ssize_t _where(const uchar[:] flags, Py_ssize_t* out) noexcept nogil:
    """Writes the indices where ``flags`` is set to ``out``; returns how many."""
    cdef Py_ssize_t k, count = 0
    for k in range(flags.shape[0]):
        if flags[k]:
            out[count] = k
            count += 1
    return count


cdef Py_ssize_t _laws(const uchar[:, ::1] renewed_by, Py_ssize_t* out) noexcept nogil:
    """The laws' lapses (rows of ``renewed_by`` with a renewal: a few) into ``out``."""
    cdef Py_ssize_t k, count = 0
    for k in range(renewed_by.shape[0]):
        if any_set(&renewed_by[k, 0], renewed_by.shape[1]):
            out[count] = k
            count += 1
    return count


cdef Py_ssize_t _due(const long[:] sunset, long t, Py_ssize_t* out) noexcept nogil:
    """The laws whose sunset is step ``t`` (mostly none) into ``out``."""
    cdef Py_ssize_t k, count = 0
    for k in range(sunset.shape[0]):
        if sunset[k] == t:
            out[count] = k
            count += 1
    return count


cdef Py_ssize_t _lapses(const long[:] sunset, const uchar[:, ::1] renewed_by,
                        Py_ssize_t* out) noexcept nogil:
    """The instruments that may lapse or be re-enacted: a sunset or renewals (a few)."""
    cdef Py_ssize_t k, count = 0
    for k in range(sunset.shape[0]):
        if sunset[k] >= 0 or any_set(&renewed_by[k, 0], renewed_by.shape[1]):
            out[count] = k
            count += 1
    return count


cdef inline void* _alloc(Py_ssize_t count, size_t size) except NULL:
    """``count`` zeroed items of ``size`` bytes (at least one), for :func:`free`."""
    cdef void* p = calloc(count if count > 0 else 1, size)
    if p == NULL:
        raise MemoryError()
    return p


# ---------------------------------------------------------------------- one world's formulas
cdef inline void _ladder_tops(
    Py_ssize_t w, const double[:] level, const double[:] neutral, double* conc_top,
    double* host_top,
) noexcept nogil:
    """The ranks at or below which world ``w``'s level asks for a conciliatory
    (``conc_top``) or hostile (``host_top``) instrument (engine.ladder)."""
    cdef Py_ssize_t n = level.shape[0]
    cdef double nl = neutral[_r(w, neutral.shape[0], n)]
    cdef double conc = _min(_max((level[w] - nl) / _max(1.0 - nl, 1e-9), 0.0), 1.0)
    cdef double host = _min(_max((nl - level[w]) / _max(nl, 1e-9), 0.0), 1.0)
    conc_top[0] = conc + 1e-9
    host_top[0] = host + 1e-9


cdef inline void _ladder_row(
    Py_ssize_t w, const double[:] level, const double[:] neutral, const double[:, ::1] conc_rank,
    const double[:, ::1] host_rank, uchar* out,
) noexcept nogil:
    """``out[k]``: instrument ``k`` is on the ladder at world ``w``'s level (engine.ladder)."""
    cdef Py_ssize_t n = level.shape[0]
    cdef double conc_top, host_top
    _ladder_tops(w, level, neutral, &conc_top, &host_top)
    cdef const double* cr = &conc_rank[_r(w, conc_rank.shape[0], n), 0]
    cdef const double* hr = &host_rank[_r(w, host_rank.shape[0], n), 0]
    cdef Py_ssize_t k
    for k in range(conc_rank.shape[1]):
        out[k] = (cr[k] <= conc_top) | (hr[k] <= host_top)


cdef Py_ssize_t _ladder_table(
    const double* rank, const uchar* menu, Py_ssize_t n_k, double* ranks, Py_ssize_t* order,
    uchar* rows,
) noexcept nogil:
    """One row of ranks as :func:`_ladder_sorted` reads it; returns how many are not NaN.

    ``ranks``: those ranks, ascending; ``rows[c * n_k + k]``: instrument ``k`` is on
    ``menu`` and its rank is among the ``c`` first (``c`` = 0 .. the count). The
    instruments whose rank is at most ``top`` are the first :func:`_at_most` ones: equal
    ranks are all at most ``top`` or none is, and a NaN is never.
    """
    cdef Py_ssize_t k, j, c, count = 0
    for k in range(n_k):  # insertion sort of the ranks that are not NaN
        if rank[k] != rank[k]:
            continue
        j = count
        while j > 0 and ranks[j - 1] > rank[k]:
            ranks[j] = ranks[j - 1]
            order[j] = order[j - 1]
            j -= 1
        ranks[j] = rank[k]
        order[j] = k
        count += 1
    for k in range(n_k):
        rows[k] = 0
    for c in range(1, count + 1):
        memcpy(rows + c * n_k, rows + (c - 1) * n_k, n_k)
        rows[c * n_k + order[c - 1]] = menu[order[c - 1]]
    return count


cdef inline Py_ssize_t _at_most(const double* ranks, Py_ssize_t count, double top) noexcept nogil:
    """How many of the ascending ``ranks`` are ``<= top`` (none for a NaN ``top``)."""
    cdef Py_ssize_t low = 0, high = count, mid
    if count == 0 or not (ranks[0] <= top):  # below the ladder (or NaN)
        return 0
    if ranks[count - 1] <= top:  # at its top
        return count
    while low < high:
        mid = (low + high) >> 1
        if ranks[mid] <= top:
            low = mid + 1
        else:
            high = mid
    return low


cdef inline void _ladder_sorted(
    double conc_top, double host_top, const double* conc_ranks, Py_ssize_t conc_count,
    const uchar* conc_rows, const double* host_ranks, Py_ssize_t host_count,
    const uchar* host_rows, Py_ssize_t n_k, uchar* out,
) noexcept nogil:
    """:func:`_ladder_row` on the menu from the rank rows' :func:`_ladder_table`."""
    cdef const uchar* c = conc_rows + _at_most(conc_ranks, conc_count, conc_top) * n_k
    cdef const uchar* h = host_rows + _at_most(host_ranks, host_count, host_top) * n_k
    cdef Py_ssize_t o = 0
    while o < n_k:
        _put(out, o, n_k, _word(c, o, n_k) | _word(h, o, n_k))
        o = _after(o, n_k)


cdef inline bint _law_renewed(const uchar* renewals, const uchar* steps,
                              Py_ssize_t n_k) noexcept nogil:
    """One of a law's ``renewals`` (its lapse's row of ``renewed_by``) is among ``steps``."""
    cdef Py_ssize_t o = 0
    cdef uint64_t hit = 0
    while o < n_k:
        hit = hit | (_word(renewals, o, n_k) & _word(steps, o, n_k))
        o = _after(o, n_k)
    return hit != 0


cdef inline bint _spent(
    Py_ssize_t j, const uchar[:, ::1] renewed_by, const Py_ssize_t* laws, Py_ssize_t n_laws,
    const uchar* steps,
) noexcept nogil:
    """Step ``j`` renews a law already renewed by one of ``steps`` (spent_renewals;
    ``laws``: the laws' lapses, :func:`_laws`)."""
    cdef Py_ssize_t m, law
    for m in range(n_laws):
        law = laws[m]
        if renewed_by[law, j] and _law_renewed(&renewed_by[law, 0], steps,
                                               renewed_by.shape[1]):
            return True
    return False


cdef inline void _spent_row(
    const uchar[:, ::1] renewed_by, const Py_ssize_t* laws, Py_ssize_t n_laws,
    const uchar* steps, uchar* out,
) noexcept nogil:
    """``out[j]``: ``j`` renews a law already renewed by one of ``steps`` (spent_renewals)."""
    cdef Py_ssize_t j
    for j in range(renewed_by.shape[1]):
        out[j] = _spent(j, renewed_by, laws, n_laws, steps)


cdef inline void _renewal_row(
    Py_ssize_t w, Py_ssize_t n, const Py_ssize_t* due, Py_ssize_t n_due,
    const uchar[:, ::1] renewed_by, const Py_ssize_t* renewals, Py_ssize_t n_renewals,
    const uchar* committed, const uchar[:] menu, const double[:, :] gesture, uchar* out,
) noexcept nogil:
    """Sets ``out[j]`` for the renewals the executive wants at world ``w`` (renewal_stance).

    The committed renewals (``renewals``: the steps that renew a law), and at a law's sunset
    step (``due``: the laws whose sunset is now), unless it is renewed already, the first
    renewal of highest gesture on ``menu``. Of ``committed``, only the renewals' entries are
    read unless a law is due.
    """
    cdef Py_ssize_t k, j, m, best, n_k = renewed_by.shape[1], wg = _r(w, gesture.shape[0], n)
    cdef double g
    for m in range(n_renewals):
        j = renewals[m]
        if committed[j]:
            out[j] = 1
    for m in range(n_due):
        k = due[m]
        if _law_renewed(&renewed_by[k, 0], committed, n_k):
            continue
        best = -1
        g = -INFINITY
        for j in range(n_k):
            if renewed_by[k, j] and menu[j] and (best < 0 or gesture[wg, j] > g):
                best = j
                g = gesture[wg, j]
        if best >= 0:
            out[best] = 1


cdef inline Py_ssize_t _retreat_pick(
    Py_ssize_t w, const uchar* cand, const double[:, :] cost, const long[:, :] since
) noexcept nogil:
    """The candidate withdrawn at world ``w``: the costliest, the most recent among equals
    (cost_retreat's ``argmax``: the first maximum); -1 without candidates."""
    cdef Py_ssize_t n = since.shape[0]
    cdef Py_ssize_t j, pick = -1, wc = _r(w, cost.shape[0], n)
    cdef double top = -INFINITY
    cdef long v, best = 0
    cdef bint some = False
    if not _any(cand, cost.shape[1]):  # nothing to withdraw (most worlds)
        return -1
    for j in range(cost.shape[1]):
        if cand[j]:
            some = True
            if cost[wc, j] > top:
                top = cost[wc, j]
    if not some:
        return -1
    for j in range(cost.shape[1]):
        v = since[w, j] if cand[j] and cost[wc, j] == top else -1
        if pick < 0 or v > best:
            pick = j
            best = v
    return pick


cdef inline void _drift_start(
    const double* start, const double* floor_start, Py_ssize_t n_i, double* out
) noexcept nogil:
    """``out[i] = |L0_i − x0_i|``: how far the starting level lay from the scenario's floor
    (initiative_candidates' drift subtracts it)."""
    cdef Py_ssize_t i
    for i in range(n_i):
        out[i] = fabs(start[i] - floor_start[i])


cdef Py_ssize_t _moved_issues(
    const double* effects, Py_ssize_t n_i, const Py_ssize_t* steps, Py_ssize_t n_steps,
    const Py_ssize_t* issues, Py_ssize_t n_issues, Py_ssize_t* out,
) noexcept nogil:
    """Of ``issues``, those one of ``steps`` moves (a nonzero of ``effects`` ``[K, I]``),
    into ``out``; returns how many. Only they can make a step an initiative: the test of
    :func:`_initiative_row` is false for an effect of 0."""
    cdef Py_ssize_t q, m, i, count = 0
    for q in range(n_issues):
        i = issues[q]
        for m in range(n_steps):
            if effects[steps[m] * n_i + i] != 0:
                out[count] = i
                count += 1
                break
    return count


cdef inline bint _initiative_row(
    const double* judged, const char* floor_now, Py_ssize_t floor_step, const double* drift0,
    const double* tolerance, const Py_ssize_t* stake, Py_ssize_t n_stake,
    const double* effects, Py_ssize_t n_i, const uchar* eligible, const Py_ssize_t* steps,
    Py_ssize_t n_steps, Py_ssize_t* trigger, uchar* out,
) noexcept nogil:
    """Sets ``out[k]`` (a row of zeros) where eligible step ``k`` moves an issue drifted past
    tolerance toward the floor (initiative_candidates); returns whether any does.

    One world's rows: ``judged`` levels, the floor's ideal point on issue ``i`` at
    ``floor_now + i * floor_step`` (bytes), ``drift0`` (:func:`_drift_start`), ``tolerance``,
    ``effects`` ``[K, I]``; ``stake``: the issues the floor holds a position on (those no
    step of ``steps`` moves may be left out: :func:`_moved_issues`); only ``steps`` (the
    steps eligible in some world) are read of ``eligible``; ``trigger``: scratch of ``I``.
    """
    cdef Py_ssize_t i, k, m, q, n_trig = 0
    cdef double x, lv, e
    cdef uchar some = 0
    cdef bint found = False
    for m in range(n_steps):
        some = some | eligible[steps[m]]
    if not some:  # no step to propose: no trigger needed
        return False
    for q in range(n_stake):  # the issues drifted past tolerance
        i = stake[q]
        x = (<const double*>(floor_now + i * floor_step))[0]
        if fabs(judged[i] - x) - drift0[i] > tolerance[i]:
            trigger[n_trig] = i
            n_trig += 1
    if n_trig == 0:
        return False
    for m in range(n_steps):
        k = steps[m]
        if not eligible[k]:
            continue
        for q in range(n_trig):
            i = trigger[q]
            e = effects[k * n_i + i]
            x = (<const double*>(floor_now + i * floor_step))[0]
            lv = judged[i]
            if (e > 0 and x > lv) or (e < 0 and x < lv):
                out[k] = 1
                found = True
                break
    return found


cdef inline bint _eligible_row(
    Py_ssize_t w, const uchar* com, const uchar[:, ::1] killed, const uchar[:, ::1] req_ok,
    bint all_ok, const uchar[:, ::1] renewed_by, const Py_ssize_t* laws, Py_ssize_t n_laws,
    const Py_ssize_t* own, Py_ssize_t n_own, const uchar* renews, uchar* eligible,
) noexcept nogil:
    """Sets ``eligible[k]`` for Congress's own steps ``k`` (``own``) at world ``w``: the steps
    it may propose, not committed (``com``), not killed, not a renewal of a law already
    renewed (spent_renewals; ``renews[q]``: own step ``q`` renews a law), requirements met
    (``req_ok``, all when ``all_ok``). Returns whether any is."""
    cdef Py_ssize_t q, k
    cdef uchar e, some = 0
    for q in range(n_own):  # the other steps are not read
        k = own[q]
        e = (com[k] ^ 1) & (killed[w, k] ^ 1)
        if not all_ok:
            e = e & req_ok[w, k]
        if e and renews[q] and _spent(k, renewed_by, laws, n_laws, com):
            e = 0
        eligible[k] = e
        some = some | e
    return some != 0


cdef inline const uchar* _moving_row(
    Py_ssize_t w, const uchar* approved, const uchar[:, ::1] active, const uchar* com,
    const uchar[:, ::1] renewed_by, const Py_ssize_t* due, Py_ssize_t n_due, Py_ssize_t n_k,
    uchar* lapsing, bint* any_move,
) noexcept nogil:
    """The steps moving at world ``w`` this step: ``approved`` now, and the laws lapsing now
    (``due``) that are not in force and that no committed renewal stops (then written to
    ``lapsing``, a copy of ``approved`` with them). ``any_move``: whether any step moves."""
    cdef const uchar* moving = approved
    cdef Py_ssize_t m, k
    any_move[0] = _any(moving, n_k)
    for m in range(n_due):
        k = due[m]
        if not active[w, k] and not _law_renewed(&renewed_by[k, 0], com, n_k):
            if moving != lapsing:
                memcpy(lapsing, moving, n_k)
                moving = lapsing
            lapsing[k] = 1
            any_move[0] = True
    return moving


cdef inline bint _against(
    Py_ssize_t w, Py_ssize_t k, const double[:, :] gesture, const double[:] level,
    const double[:] neutral,
) noexcept nogil:
    """Step ``k`` goes against the executive's line at world ``w`` (against_executive)."""
    cdef Py_ssize_t n = level.shape[0]
    return gesture[_r(w, gesture.shape[0], n), k] * (
        level[w] - neutral[_r(w, neutral.shape[0], n)]) < 0


cdef inline bint _holds(double u, double hold) noexcept nogil:
    """The floor's two-thirds majority holds against the veto at a world (veto_override:
    its uniform ``u`` of the step below the reliability ``hold``)."""
    return u < hold


cdef inline void _override(
    uchar majority, uchar against, uchar supermajority, bint holds, uchar* enacted,
    uchar* sustained,
) noexcept nogil:
    """One bill's fate (veto_override): passed (``majority``) and not vetoed (``against``
    the executive's line), or vetoed and overridden (``supermajority`` that ``holds``), it is
    ``enacted``; vetoed and not overridden, its veto is ``sustained``."""
    cdef bint held = supermajority and holds
    enacted[0] = majority and (not against or held)
    sustained[0] = majority and against and not held


cdef inline void _lapse_row(
    long t, const long[:] sunset, const uchar[:, ::1] renewed_by, const Py_ssize_t* lapses,
    Py_ssize_t n_lapses, const uchar* committed, const uchar* approved_now,
    const uchar* lapse_active, uchar* lapse, uchar* reenact,
) noexcept nogil:
    """One world's lapses due now and re-enactments (sunset_expiry), set at ``lapses`` (the
    other instruments' stay 0)."""
    cdef Py_ssize_t k, m, n_k = renewed_by.shape[1]
    for m in range(n_lapses):
        k = lapses[m]
        lapse[k] = sunset[k] == t and not lapse_active[k] and not _law_renewed(
            &renewed_by[k, 0], committed, n_k)
        reenact[k] = lapse_active[k] and _law_renewed(&renewed_by[k, 0], approved_now, n_k)


# ---------------------------------------------------------------- the mechanisms' functions
def ladder_rows(
    const double[:] level, const double[:] neutral, const double[:, ::1] conc_rank,
    const double[:, ::1] host_rank,
):
    """engine.ladder: ``[n, K]`` instruments each world's level asks for."""
    cdef Py_ssize_t n = level.shape[0], n_k = conc_rank.shape[1], w
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    with nogil:
        for w in range(n):
            _ladder_row(w, level, neutral, conc_rank, host_rank, &out[w, 0])
    return out_arr


def renewal_rows(
    long t, const long[:] sunset, const uchar[:, ::1] renewed_by, const uchar[:] is_renewal,
    const uchar[:, ::1] committed, const uchar[:] menu, const double[:, :] gesture,
):
    """congress.renewal_stance: ``[n, K]`` renewals the executive wants."""
    cdef Py_ssize_t n = committed.shape[0], n_k = committed.shape[1], w, n_due, n_renewals
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    cdef Py_ssize_t* due = <Py_ssize_t*>_alloc(2 * n_k, sizeof(Py_ssize_t))
    cdef Py_ssize_t* renewals = due + n_k
    try:
        with nogil:
            n_due = _due(sunset, t, due)
            n_renewals = _where(is_renewal, renewals)
            for w in range(n):
                _renewal_row(w, n, due, n_due, renewed_by, renewals, n_renewals,
                             &committed[w, 0], menu, gesture, &out[w, 0])
    finally:
        free(due)
    return out_arr


def renewed_rows(const uchar[:, ::1] renewed_by, const uchar[:, ::1] steps):
    """congress.renewed_laws: ``[n, K]`` laws' lapses one of whose renewals is among ``steps``."""
    cdef Py_ssize_t n = steps.shape[0], n_k = steps.shape[1], w, k
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    with nogil:
        for w in range(n):
            for k in range(n_k):
                out[w, k] = _law_renewed(&renewed_by[k, 0], &steps[w, 0], n_k)
    return out_arr


def spent_rows(const uchar[:, ::1] renewed_by, const uchar[:, ::1] steps):
    """congress.spent_renewals: ``[n, K]`` renewals of laws already renewed by ``steps``."""
    cdef Py_ssize_t n = steps.shape[0], n_k = steps.shape[1], w, n_laws
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    cdef Py_ssize_t* laws = <Py_ssize_t*>_alloc(n_k, sizeof(Py_ssize_t))
    try:
        with nogil:
            n_laws = _laws(renewed_by, laws)
            for w in range(n):
                _spent_row(renewed_by, laws, n_laws, &steps[w, 0], &out[w, 0])
    finally:
        free(laws)
    return out_arr


def retreat_rows(
    const uchar[:, ::1] withdrawable, const double[:, :] cost, const long[:, :] since,
    const uchar[:] over, const double[:] u, const double[:] chance,
):
    """congress.cost_retreat: ``[n, K]`` the step each retreating world withdraws."""
    cdef Py_ssize_t n = withdrawable.shape[0], n_k = withdrawable.shape[1], w, pick
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    with nogil:
        for w in range(n):
            if over[w] and u[w] < chance[_r(w, chance.shape[0], n)]:
                pick = _retreat_pick(w, &withdrawable[w, 0], cost, since)
                if pick >= 0:
                    out[w, pick] = 1
    return out_arr


def initiative_rows(
    const double[:, ::1] judged, const double[:, ::1] start, const double[:, :, :] pos,
    Py_ssize_t floor, const double[:, ::1] floor_start, const uchar[:] stake,
    const double[:, ::1] tolerance, const double[:, :, ::1] effects,
    const uchar[:, ::1] eligible,
):
    """congress.initiative_candidates: ``[n, K]`` steps put to the floor.

    ``pos[i, w or 0, floor]`` is the floor's current ideal point on issue ``i``.
    """
    cdef Py_ssize_t n = eligible.shape[0], n_k = eligible.shape[1], n_i = judged.shape[1], w
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    cdef const Py_ssize_t[::1] steps = np.flatnonzero(
        np.asarray(eligible).any(axis=0)).astype(np.intp)
    cdef const Py_ssize_t[::1] issues = np.flatnonzero(np.asarray(stake)).astype(np.intp)
    cdef Py_ssize_t[::1] trigger = np.empty(max(n_i, 1), dtype=np.intp)
    cdef double[::1] drift0 = np.empty(max(n_i, 1))
    with nogil:
        for w in range(n):
            _drift_start(&start[_r(w, start.shape[0], n), 0],
                         &floor_start[_r(w, floor_start.shape[0], n), 0], n_i, &drift0[0])
            _initiative_row(
                &judged[w, 0], <const char*>&pos[0, _r(w, pos.shape[1], n), floor],
                pos.strides[0], &drift0[0], &tolerance[_r(w, tolerance.shape[0], n), 0],
                &issues[0] if issues.shape[0] > 0 else NULL, issues.shape[0],
                &effects[_r(w, effects.shape[0], n), 0, 0], n_i, &eligible[w, 0],
                &steps[0] if steps.shape[0] > 0 else NULL, steps.shape[0], &trigger[0],
                &out[w, 0])
    return out_arr


def against_rows(
    const double[:, :] gesture, const double[:] level, const double[:] neutral,
    const uchar[:, :] mask,
):
    """congress.against_executive, where ``mask``: ``[n, K]`` steps against the line."""
    cdef Py_ssize_t n = mask.shape[0], n_k = mask.shape[1], w, k
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    with nogil:
        for w in range(n):
            for k in range(n_k):
                out[w, k] = mask[w, k] and _against(w, k, gesture, level, neutral)
    return out_arr


def override_rows(
    const uchar[:, :] majority, const uchar[:, :] against, const uchar[:, :] supermajority,
    const double[:] u, const double[:] hold,
):
    """congress.veto_override: ``(enacted, sustained)``, ``[n, K]`` each."""
    cdef Py_ssize_t n = majority.shape[0], n_k = majority.shape[1], w, k
    enacted_arr = np.zeros((n, n_k), dtype=np.bool_)
    sustained_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] enacted = enacted_arr.view(np.uint8)
    cdef uchar[:, ::1] sustained = sustained_arr.view(np.uint8)
    cdef bint holds
    with nogil:
        for w in range(n):
            holds = _holds(u[w], hold[_r(w, hold.shape[0], n)])
            for k in range(n_k):
                _override(majority[w, k], against[w, k], supermajority[w, k], holds,
                          &enacted[w, k], &sustained[w, k])
    return enacted_arr, sustained_arr



cdef bint _lock_row(
    const uchar* act, const uchar* cand, const uchar[::1] locks, const Py_ssize_t* statutes,
    Py_ssize_t n_statutes, const double* effects, Py_ssize_t n_k, Py_ssize_t n_i,
    double* total, uchar* out,
) noexcept nogil:
    """Sets ``out[k]`` (a row of zeros) where step ``k`` would undo a statute in force at
    one world (statute_lock): its steps in force ``act``, ``effects`` ``[K, I]`` its row;
    ``statutes``: the steps that lock; only the steps ``cand`` picks (NULL: all) are tested;
    ``total``: scratch of ``I``. Returns whether any is set."""
    cdef Py_ssize_t k, i, m
    cdef double s
    cdef bint some = False
    if cand != NULL and not _any(cand, n_k):  # no candidate to test (most worlds)
        return False
    for m in range(n_statutes):
        some = some or act[statutes[m]]
    if not some:
        return False
    some = False
    for i in range(n_i):
        total[i] = 0.0
    # the summed effects of the locks in force, in step order (the other steps' terms are
    # +0.0, which change no partial sum: it starts at +0.0 and is never -0.0)
    for m in range(n_statutes):
        k = statutes[m]
        if act[k]:
            for i in range(n_i):
                total[i] = total[i] + effects[k * n_i + i]
    for k in range(n_k):
        if locks[k] or (cand != NULL and not cand[k]):
            continue
        for i in range(n_i):
            s = 1.0 if total[i] > 0 else (-1.0 if total[i] < 0 else 0.0)
            if effects[k * n_i + i] * s < 0:
                out[k] = 1
                some = True
                break
    return some


def lock_rows(const uchar[:, ::1] active, const uchar[::1] locks, const double[:, :, ::1] effects):
    """congress.statute_lock: ``[n, K]`` steps that would undo a statute in force."""
    cdef Py_ssize_t n = active.shape[0], n_k = active.shape[1], n_i = effects.shape[2]
    cdef Py_ssize_t w, n_statutes
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    cdef double[::1] total = np.empty(max(n_i, 1), dtype=np.float64)
    cdef Py_ssize_t* statutes = <Py_ssize_t*>_alloc(n_k, sizeof(Py_ssize_t))
    try:
        with nogil:
            n_statutes = _where(locks, statutes)  # the steps that lock (a few)
            for w in range(n):
                _lock_row(&active[w, 0], NULL, locks, statutes, n_statutes,
                          &effects[_r(w, effects.shape[0], n), 0, 0], n_k, n_i, &total[0],
                          &out[w, 0])
    finally:
        free(statutes)
    return out_arr


def sunset_rows(
    long t, const long[:] sunset, const uchar[:, ::1] renewed_by, const uchar[:, ::1] committed,
    const uchar[:, ::1] approved_now, const uchar[:, ::1] lapse_active,
):
    """congress.sunset_expiry: ``(lapse_now, reenact)``, ``[n, K]`` each."""
    cdef Py_ssize_t n = committed.shape[0], n_k = committed.shape[1], w, n_lapses
    lapse_arr = np.zeros((n, n_k), dtype=np.bool_)
    reenact_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] lapse = lapse_arr.view(np.uint8)
    cdef uchar[:, ::1] reenact = reenact_arr.view(np.uint8)
    cdef Py_ssize_t* lapses = <Py_ssize_t*>_alloc(n_k, sizeof(Py_ssize_t))
    try:
        with nogil:
            n_lapses = _lapses(sunset, renewed_by, lapses)
            for w in range(n):
                _lapse_row(t, sunset, renewed_by, lapses, n_lapses, &committed[w, 0],
                           &approved_now[w, 0], &lapse_active[w, 0], &lapse[w, 0],
                           &reenact[w, 0])
    finally:
        free(lapses)
    return lapse_arr, reenact_arr


# ------------------------------------------------------------------ the engine's mechanisms
cdef class CongressRun:
    """The leaves one run's congress kernels (:func:`proposals`, :func:`bill_candidates`,
    :func:`law_sunset_rows`) read every step, taken as the kernels read them once per run
    (``engine._congress_constants``): the step's own arrays are the kernels' arguments.

    ``stake`` … ``by_legislature`` are the legislature's (any arrays of the right kinds
    when there is none: no kernel reads them then); ``locks`` (optional) the steps that lock
    as statutes (:func:`statute_candidates`).
    """

    cdef const double[:] neutral
    cdef const double[:, ::1] conc_rank
    cdef const double[:, ::1] host_rank
    cdef const uchar[::1] menu
    cdef const uchar[::1] reversible
    cdef const uchar[::1] gest_pos
    cdef const long[:] sunset
    cdef const uchar[:, ::1] renewed_by
    cdef const uchar[:] is_renewal
    cdef const uchar[:] renew_menu
    cdef const double[:, :] gesture
    cdef const double[:] tolerance
    cdef const double[:] chance
    cdef const double[:, :] cost
    cdef const double[::1] low
    cdef const double[::1] high
    cdef const double[:, ::1] start
    cdef const double[:, ::1] floor_start
    cdef const uchar[:] stake
    cdef const double[:, ::1] leg_tol
    cdef const double[:, :, ::1] effects
    cdef const uchar[::1] by_legislature
    cdef const uchar[::1] locks  # the steps that lock (statutes), none given: no lock
    cdef const double[::1] low_tiled  # low and high repeated over n worlds (_bounds)
    cdef const double[::1] high_tiled
    # the ladder's tables of every row of ranks (m_c rows of conc ranks, then m_h of host
    # ranks; :func:`_ladder_table`), laid out by :meth:`_ladders` at their first use
    cdef uchar[::1] ladder_rows
    cdef double[::1] ladder_ranks
    cdef Py_ssize_t[::1] ladder_counts
    cdef bint ladders_built

    cdef _ladders(self):
        """The tables of :func:`_ladder_table` of each row of ranks on the menu (the same
        every step of the run: kept)."""
        cdef Py_ssize_t n_k = self.menu.shape[0], m_c = self.conc_rank.shape[0], r
        cdef Py_ssize_t m_h = self.host_rank.shape[0], table = (n_k + 1) * n_k
        cdef Py_ssize_t[::1] order
        if self.ladders_built:
            return
        if self.conc_rank.shape[1] != n_k or self.host_rank.shape[1] != n_k:
            raise ValueError("CongressRun: the ranks do not match the menu")
        rows = np.zeros(max((m_c + m_h) * table, 1), dtype=np.uint8)
        ranks = np.zeros(max((m_c + m_h) * n_k, 1), dtype=np.float64)
        counts = np.zeros(m_c + m_h, dtype=np.intp)
        order = np.zeros(max(n_k, 1), dtype=np.intp)
        self.ladder_rows, self.ladder_ranks = rows, ranks
        if n_k > 0:
            for r in range(m_c):
                counts[r] = _ladder_table(&self.conc_rank[r, 0], &self.menu[0], n_k,
                                          &self.ladder_ranks[r * n_k], &order[0],
                                          &self.ladder_rows[r * table])
            for r in range(m_h):
                counts[m_c + r] = _ladder_table(
                    &self.host_rank[r, 0], &self.menu[0], n_k,
                    &self.ladder_ranks[(m_c + r) * n_k], &order[0],
                    &self.ladder_rows[(m_c + r) * table])
        self.ladder_counts = counts
        self.ladders_built = True

    cdef _bounds(self, Py_ssize_t n):
        """``low`` and ``high`` repeated over ``n`` worlds (kept for the next step)."""
        if self.low_tiled is None or self.low_tiled.shape[0] != n * self.low.shape[0]:
            self.low_tiled = np.tile(np.asarray(self.low), n)
            self.high_tiled = np.tile(np.asarray(self.high), n)

    def __init__(
        self, const double[:] neutral, const double[:, ::1] conc_rank,
        const double[:, ::1] host_rank, const uchar[::1] menu, const uchar[::1] reversible,
        const uchar[::1] gest_pos, const long[:] sunset, const uchar[:, ::1] renewed_by,
        const uchar[:] is_renewal, const uchar[:] renew_menu, const double[:, :] gesture,
        const double[:] tolerance, const double[:] chance, const double[:, :] cost,
        const double[::1] low, const double[::1] high, const double[:, ::1] start,
        const double[:, ::1] floor_start, const uchar[:] stake, const double[:, ::1] leg_tol,
        const double[:, :, ::1] effects, const uchar[::1] by_legislature,
        const uchar[::1] locks=None,
    ):
        self.neutral, self.conc_rank, self.host_rank = neutral, conc_rank, host_rank
        self.locks = locks
        self.menu, self.reversible, self.gest_pos = menu, reversible, gest_pos
        self.sunset, self.renewed_by, self.is_renewal = sunset, renewed_by, is_renewal
        self.renew_menu, self.gesture, self.tolerance = renew_menu, gesture, tolerance
        self.chance, self.cost, self.low, self.high = chance, cost, low, high
        self.start, self.floor_start, self.stake = start, floor_start, stake
        self.leg_tol, self.effects, self.by_legislature = leg_tol, effects, by_legislature


def proposals(
    CongressRun run, const double[:] level, const uchar[:, ::1] active,
    const uchar[:, ::1] pending, const uchar[:, ::1] by_leg, const uchar[:, ::1] req_ok,
    bint renew, long t, bint retreat, const double[:] cost_now, const double[:] u,
    const long[:, :] since, const signed char[::1] held, long[:, ::1] start, long never,
):
    """engine.focal_proposals: ``(candidates, withdrawn, cancelled)``, ``[n, K]`` each.

    Per world: the ladder on the menu; with ``renew``, the renewals wanted at a sunset; with
    ``retreat``, no new concession past the cost tolerance and the retreat's withdrawal (its
    chance per step ``run.chance``, uniform ``u``); with ``held`` (a script's switches this
    step, empty when no script runs), the holds. Cancelled steps' ``start`` is set to
    ``never`` in place. ``req_ok`` has one row per world, or none when every requirement is
    met. Where each row of ranks serves eight worlds or more, the ladder comes from the rows
    sorted once per run (:meth:`CongressRun._ladders`, :func:`_ladder_sorted`).
    """
    cdef const double[:] neutral = run.neutral
    cdef const double[:, ::1] conc_rank = run.conc_rank
    cdef const double[:, ::1] host_rank = run.host_rank
    cdef const uchar[::1] menu = run.menu
    cdef const uchar[::1] reversible = run.reversible
    cdef const uchar[::1] gest_pos = run.gest_pos
    cdef const long[:] sunset = run.sunset
    cdef const uchar[:, ::1] renewed_by = run.renewed_by
    cdef const uchar[:] is_renewal = run.is_renewal
    cdef const uchar[:] renew_menu = run.renew_menu
    cdef const double[:, :] gesture = run.gesture
    cdef const double[:] tolerance = run.tolerance
    cdef const double[:] chance = run.chance
    cdef const double[:, :] cost = run.cost
    cdef Py_ssize_t n = active.shape[0], n_k = active.shape[1], w, k, m, o, pick
    cdef Py_ssize_t m_c = conc_rank.shape[0], m_h = host_rank.shape[0], r, n_due = 0
    cdef Py_ssize_t n_renewals = 0, wt, table = (n_k + 1) * n_k
    cdef bint scripted = held.shape[0] > 0, over, all_ok = req_ok.shape[0] == 0
    cdef bint sorted_ladder = m_c * 8 <= n and m_h * 8 <= n and n_k > 0
    # the three outputs: one array's planes (one allocation, one view)
    out_arr = np.empty((3, n, n_k), dtype=np.bool_)
    cdef uchar[:, :, ::1] out = out_arr.view(np.uint8)
    cdef uchar[:, ::1] cand = out[0]
    cdef uchar[:, ::1] drop = out[1]
    cdef uchar[:, ::1] cancel = out[2]
    # scratch (its first row unused), and the script's holds as bytes (not held off, held
    # on, not held on)
    cdef uchar* bytes_ = <uchar*>_alloc(5 * n_k, 1)
    cdef Py_ssize_t* index = NULL
    cdef double* ranks = NULL  # the run's ladder tables (CongressRun._ladders)
    cdef uchar* rows = NULL
    cdef Py_ssize_t* counts = NULL
    cdef uchar* wants = NULL  # [n, K] what each world wants, then its steps' bits
    cdef uchar* tiled
    cdef uchar* want
    cdef uchar* scratch = bytes_ + n_k
    cdef uchar* hold = bytes_ + 2 * n_k
    cdef uchar* force = bytes_ + 3 * n_k
    cdef uchar* askable = bytes_ + 4 * n_k
    cdef Py_ssize_t* due
    cdef Py_ssize_t* renewals
    cdef const uchar* act
    cdef const uchar* pen
    cdef const uchar* leg
    cdef const uchar* req = NULL  # the requirements met (NULL: all are)
    cdef double conc_top, host_top
    try:
        wants = <uchar*>malloc(2 * n * n_k if n * n_k > 0 else 1)  # each row written in full
        if wants == NULL:
            raise MemoryError()
        tiled = wants + n * n_k
        index = <Py_ssize_t*>_alloc(2 * n_k, sizeof(Py_ssize_t))
        due, renewals = index, index + n_k
        if sorted_ladder:
            run._ladders()
            ranks, rows = &run.ladder_ranks[0], &run.ladder_rows[0]
            counts = &run.ladder_counts[0]
        for k in range(n_k):
            hold[k] = 1
            askable[k] = 1
        if scripted:
            for k in range(n_k):
                hold[k] = held[k] >= 0
                force[k] = held[k] > 0
                askable[k] = held[k] <= 0  # a step held on is forced, not put to ratification
        with nogil:
            if renew:
                n_due = _due(sunset, t, due)
                n_renewals = _where(is_renewal, renewals)
            for w in range(n):  # what each world wants
                act = &active[w, 0]
                pen = &pending[w, 0]
                leg = &by_leg[w, 0]
                want = wants + w * n_k
                if sorted_ladder:  # the ladder on the menu
                    _ladder_tops(w, level, neutral, &conc_top, &host_top)
                    r = _r(w, m_c, n)
                    m = m_c + _r(w, m_h, n)
                    _ladder_sorted(conc_top, host_top, ranks + r * n_k, counts[r],
                                   rows + r * table, ranks + m * n_k, counts[m],
                                   rows + m * table, n_k, want)
                else:
                    _ladder_row(w, level, neutral, conc_rank, host_rank, want)
                    o = 0
                    while o < n_k:
                        _put(want, o, n_k, _word(want, o, n_k) & _word(&menu[0], o, n_k))
                        o = _after(o, n_k)
                if renew:  # an expiring law: its renewal on the agenda
                    if n_due > 0:
                        o = 0
                        while o < n_k:
                            _put(scratch, o, n_k, _word(act, o, n_k) | _word(pen, o, n_k))
                            o = _after(o, n_k)
                        _renewal_row(w, n, due, n_due, renewed_by, renewals, n_renewals,
                                     scratch, renew_menu, gesture, want)
                    else:  # no law due: _renewal_row keeps the committed renewals wanted
                        for m in range(n_renewals):
                            k = renewals[m]
                            if act[k] | pen[k]:
                                want[k] = 1
                if retreat:
                    wt = _r(w, tolerance.shape[0], n)
                    over = cost_now[w] > tolerance[wt] and tolerance[wt] >= 0
                    if over:  # no new concession
                        o = 0
                        while o < n_k:
                            _put(want, o, n_k, _word(want, o, n_k) & (
                                (_word(&gest_pos[0], o, n_k) & (_word(act, o, n_k) ^ ONES)
                                 & (_word(pen, o, n_k) ^ ONES)) ^ ONES))
                            o = _after(o, n_k)
                        if u[w] < chance[_r(w, chance.shape[0], n)]:
                            o = 0
                            while o < n_k:
                                _put(scratch, o, n_k, _word(act, o, n_k)
                                     & _word(&gest_pos[0], o, n_k)
                                     & _word(&reversible[0], o, n_k)
                                     & (_word(leg, o, n_k) ^ ONES))
                                o = _after(o, n_k)
                            pick = _retreat_pick(w, scratch, cost, since)
                            if pick >= 0:
                                want[pick] = 0
                if scripted:  # held on or held off by the script
                    o = 0
                    while o < n_k:
                        _put(want, o, n_k, (_word(want, o, n_k) & _word(hold, o, n_k))
                             | _word(force, o, n_k))
                        o = _after(o, n_k)
            # the outputs, then the cancelled starts (mostly none)
            if not all_ok:
                req = &req_ok[0, 0]
            if n * n_k > 0:  # the steps' bits repeated over the worlds
                for k in range(n_k):
                    tiled[k] = ((reversible[k] ^ 1) << 1) | (askable[k] << 2)
                o = n_k
                while o < n * n_k:
                    m = o if 2 * o <= n * n_k else n * n_k - o
                    memcpy(tiled + o, tiled, m)
                    o = o + m
            if n * n_k > 0 and _agenda(n * n_k, &active[0, 0], &pending[0, 0], &by_leg[0, 0],
                                       wants, tiled, req, &drop[0, 0], &cancel[0, 0],
                                       &cand[0, 0]):
                for w in range(n):
                    if _any(&cancel[w, 0], n_k):
                        for k in range(n_k):
                            if cancel[w, k]:
                                start[w, k] = never
    finally:
        free(wants)
        free(bytes_)
        free(index)
    return out_arr[0], out_arr[1], out_arr[2]


ctypedef struct BillScan:
    # the step's lists of bill_candidates (its first lines) and a world's scratch
    Py_ssize_t* laws  # the laws' lapses
    Py_ssize_t* own  # Congress's own steps
    Py_ssize_t* due  # the laws whose sunset is now
    Py_ssize_t* issues  # the issues the floor holds a position on
    Py_ssize_t* trigger  # _initiative_row's scratch
    Py_ssize_t* moved  # of issues, those an own step moves (_moved_issues)
    Py_ssize_t* steps_mv  # a world's moving steps
    Py_ssize_t n_laws, n_own, n_due, n_stake, n_moved
    Py_ssize_t last_ws, last_wx, last_we  # the rows drift0 and moved were computed for
    uchar* eligible
    uchar* lapsing  # approved, and the lapses due that move
    uchar* renews  # [q]: own step q renews a law
    uchar* found  # the bills of the world :func:`_next_bill` found (else zeros)
    double* moves  # _judged_row's scratch
    double* drift0
    double* level  # a world's judged levels on its moved issues (the scan's)


cdef int _scan_open(BillScan* s, CongressRun run, long t, Py_ssize_t n_k) except -1:
    """Allocates ``s``'s scratch for ``n_k`` steps and the run's issues and lays out the
    step's lists (Congress's own steps, the laws, those due at ``t``, the floor's issues, the
    own steps that renew a law); :func:`_scan_close` frees it, after an error too."""
    cdef Py_ssize_t n_i = run.low.shape[0], q, m
    s.eligible = NULL
    s.laws = NULL
    s.moves = NULL
    s.eligible = <uchar*>_alloc(4 * n_k, 1)
    s.lapsing = s.eligible + n_k
    s.renews = s.eligible + 2 * n_k
    s.found = s.eligible + 3 * n_k
    s.laws = <Py_ssize_t*>_alloc(4 * n_k + 3 * n_i, sizeof(Py_ssize_t))
    s.own = s.laws + n_k
    s.due = s.laws + 2 * n_k
    s.issues = s.laws + 3 * n_k
    s.trigger = s.issues + n_i
    s.moved = s.issues + 2 * n_i
    s.steps_mv = s.issues + 3 * n_i
    s.moves = <double*>_alloc(3 * n_i, sizeof(double))
    s.drift0 = s.moves + n_i
    s.level = s.moves + 2 * n_i
    s.n_moved = 0
    s.last_ws = -1
    s.last_wx = -1
    s.last_we = -1
    s.n_laws = _laws(run.renewed_by, s.laws)
    s.n_own = _where(run.by_legislature, s.own)  # Congress's own steps
    s.n_due = _due(run.sunset, t, s.due)
    s.n_stake = _where(run.stake, s.issues)  # the issues the floor holds a position on
    for q in range(s.n_own):
        for m in range(s.n_laws):
            s.renews[q] = s.renews[q] | run.renewed_by[s.laws[m], s.own[q]]
    return 0


cdef void _scan_close(BillScan* s) noexcept:
    """Frees what :func:`_scan_open` allocated."""
    free(s.eligible)
    free(s.laws)
    free(s.moves)
    s.eligible = NULL
    s.laws = NULL
    s.moves = NULL


cdef Py_ssize_t _next_bill(
    BillScan* s, Py_ssize_t w0, const double[:, ::1] start, const double[:, ::1] floor_start,
    const double[:, ::1] tolerance, const double[:, :, ::1] effects,
    const uchar[:, ::1] renewed_by, const double* lo, const double* hi,
    const uchar[:, ::1] approved, const uchar[:, ::1] active, const double[:, ::1] prospective,
    const double[:, :, :] pos, Py_ssize_t floor, const uchar[:, ::1] committed,
    const uchar[:, ::1] killed, const uchar[:, ::1] req_ok,
) noexcept nogil:
    """The first world from ``w0`` with a bill, its bills set in ``s.found`` (a row of zeros
    before); ``n`` when none has one (:func:`bill_candidates`' arguments and run's leaves).

    Only the issues that can trigger a bill are judged (:func:`_moved_issues`) and only in
    worlds with a step to propose: each such level by the same operations, in the same order,
    as the full row of :func:`_judged_row`, so the bills are :func:`_initiative_row`'s of it.
    """
    cdef Py_ssize_t n = committed.shape[0], n_k = committed.shape[1], n_i = effects.shape[2]
    cdef Py_ssize_t m_e = effects.shape[0], w, k, i, m, q, we, ws, wx, n_mv
    cdef bint all_ok = req_ok.shape[0] == 0, drifted, any_move
    cdef double m_i
    cdef const double* row
    cdef const double* pr
    cdef const double* tol
    cdef const char* floor_now
    cdef const uchar* com
    cdef const uchar* moving
    for w in range(w0, n):
        we = row_of(w, m_e, n)
        row = &effects[we, 0, 0]
        ws = _r(w, start.shape[0], n)
        wx = _r(w, floor_start.shape[0], n)
        if ws != s.last_ws or wx != s.last_wx:  # a row's numbers computed once
            _drift_start(&start[ws, 0], &floor_start[wx, 0], n_i, s.drift0)
            s.last_ws, s.last_wx = ws, wx
        if we != s.last_we:
            s.n_moved = _moved_issues(row, n_i, s.own, s.n_own, s.issues, s.n_stake, s.moved)
            s.last_we = we
        if s.n_moved == 0:  # no issue can trigger a bill
            continue
        com = &committed[w, 0]
        moving = _moving_row(w, &approved[w, 0], active, com, renewed_by, s.due, s.n_due,
                             n_k, s.lapsing, &any_move)
        pr = &prospective[w, 0]
        n_mv = 0
        if any_move:  # the steps moving, in their order (eight bytes at a time)
            k = next_set(moving, 0, n_k)
            while k < n_k:
                s.steps_mv[n_mv] = k
                n_mv += 1
                k = next_set(moving, k + 1, n_k)
        floor_now = <const char*>&pos[0, _r(w, pos.shape[1], n), floor]
        tol = &tolerance[_r(w, tolerance.shape[0], n), 0]
        drifted = False
        for q in range(s.n_moved):  # the judged levels the test reads, as _judged_row's
            i = s.moved[q]
            m_i = 0.0
            for m in range(n_mv):
                m_i = m_i + row[s.steps_mv[m] * n_i + i]
            s.level[i] = _min(_max(pr[i] + m_i, lo[i]), hi[i])
            # _initiative_row's test of drift past tolerance
            if fabs(s.level[i] - (<const double*>(floor_now + i * pos.strides[0]))[0]
                    ) - s.drift0[i] > tol[i]:
                drifted = True
        if not drifted:
            continue
        if not _eligible_row(w, com, killed, req_ok, all_ok, renewed_by, s.laws, s.n_laws,
                             s.own, s.n_own, s.renews, s.eligible):
            continue  # no step to propose
        if _initiative_row(s.level, floor_now, pos.strides[0], s.drift0, tol, s.moved,
                           s.n_moved, row, n_i, s.eligible, s.own, s.n_own, s.trigger,
                           s.found):
            return w
    return n


cdef inline void _judged_row(
    const double* pr, const uchar* moving, bint any_move, const double* row, Py_ssize_t n_k,
    Py_ssize_t n_i, const double* low, const double* high, double* moves, double* jd,
) noexcept nogil:
    """One world's levels the floor judges (:func:`bill_candidates`' ``judged``):
    ``clip(prospective + moves, low, high)``, the effects ``row`` ``[K, I]`` of its ``moving``
    steps added in the steps' order (``prospective + 0.0`` when none moves)."""
    cdef Py_ssize_t i, k
    if not any_move:
        for i in range(n_i):
            jd[i] = _min(_max(pr[i] + 0.0, low[i]), high[i])
        return
    for i in range(n_i):
        moves[i] = 0.0
    for k in range(n_k):
        if moving[k]:
            for i in range(n_i):
                moves[i] = moves[i] + row[k * n_i + i]
    for i in range(n_i):
        jd[i] = _min(_max(pr[i] + moves[i], low[i]), high[i])


def bill_candidates(
    CongressRun run, long t, const uchar[:, ::1] approved, const uchar[:, ::1] active,
    const double[:, ::1] prospective, const double[:, :, :] pos, Py_ssize_t floor,
    const uchar[:, ::1] committed, const uchar[:, ::1] killed, const uchar[:, ::1] req_ok,
):
    """``(bills, judged, any bill)``, the bills of :func:`bills_enacted` in every world (and
    the levels the floor judges); ``(None, None, False)`` when no world has a bill (most
    steps).

    The floor judges ``judged = clip(prospective + moves, low, high)``, the moves of the
    steps that move this step (``approved`` now, and the laws lapsing at ``t`` that are not
    in force and that no renewal stops: :func:`_law_renewed`), their ``effects`` rows added in
    the steps' order (:func:`_judged_row`). The steps Congress may propose (its own, not
    committed, not killed, not a spent renewal, requirements met: ``req_ok``, no rows when
    all are) are those :func:`initiative_rows` would put to the floor; ``pos[i, w or 0,
    floor]`` is the floor's current ideal point on issue ``i``.

    A first pass looks for a world with a bill (:func:`_next_bill`). Only when it finds one
    are the outputs formed, by the second pass, for every world.
    """
    cdef const double[::1] low = run.low
    cdef const double[::1] high = run.high
    cdef const double[:, ::1] start = run.start
    cdef const double[:, ::1] floor_start = run.floor_start
    cdef const double[:, ::1] tolerance = run.leg_tol
    cdef const double[:, :, ::1] effects = run.effects
    cdef const uchar[:, ::1] renewed_by = run.renewed_by
    cdef Py_ssize_t n = committed.shape[0], n_k = committed.shape[1], n_i = low.shape[0]
    cdef const double[::1] low_tiled
    cdef const double[::1] high_tiled
    cdef Py_ssize_t w, ws, wx, we, m_e = effects.shape[0]
    cdef bint all_ok = req_ok.shape[0] == 0
    cdef double[:, ::1] judged
    cdef uchar[:, ::1] bills
    cdef BillScan s
    cdef const double* lo = &low[0] if n_i > 0 else NULL
    cdef const double* hi = &high[0] if n_i > 0 else NULL
    cdef const uchar* com
    cdef const uchar* moving
    cdef const double* row
    cdef double* jd
    cdef bint some = False, any_move
    try:
        _scan_open(&s, run, t, n_k)
        with nogil:
            # the first pass: is there a world with a bill? (mostly none)
            some = _next_bill(&s, 0, start, floor_start, tolerance, effects, renewed_by, lo,
                              hi, approved, active, prospective, pos, floor, committed,
                              killed, req_ok) < n
        if not some:
            return None, None, False
        run._bounds(n)
        low_tiled = run.low_tiled
        high_tiled = run.high_tiled
        judged_arr = np.empty((n, n_i), dtype=np.float64)
        judged = judged_arr
        bills_arr = np.zeros((n, n_k), dtype=np.bool_)
        bills = bills_arr.view(np.uint8)
        s.last_ws, s.last_wx, s.last_we = -1, -1, -1
        with nogil:
            if n * n_i > 0:  # the levels judged without moves, all worlds at once
                _clip(n * n_i, &prospective[0, 0], &low_tiled[0], &high_tiled[0],
                      &judged[0, 0])
            for w in range(n):
                com = &committed[w, 0]
                # the steps moving now: approved, and the lapses due that no renewal stops
                moving = _moving_row(w, &approved[w, 0], active, com, renewed_by, s.due,
                                     s.n_due, n_k, s.lapsing, &any_move)
                jd = &judged[w, 0]
                we = row_of(w, m_e, n)
                row = &effects[we, 0, 0]
                if any_move:  # this world's levels judged again, with its moves
                    _judged_row(&prospective[w, 0], moving, True, row, n_k, n_i, lo, hi,
                                s.moves, jd)
                _eligible_row(w, com, killed, req_ok, all_ok, renewed_by, s.laws, s.n_laws,
                              s.own, s.n_own, s.renews, s.eligible)
                ws = _r(w, start.shape[0], n)
                wx = _r(w, floor_start.shape[0], n)
                if ws != s.last_ws or wx != s.last_wx:  # a row's numbers computed once
                    _drift_start(&start[ws, 0], &floor_start[wx, 0], n_i, s.drift0)
                    s.last_ws, s.last_wx = ws, wx
                if we != s.last_we:
                    s.n_moved = _moved_issues(row, n_i, s.own, s.n_own, s.issues, s.n_stake,
                                              s.moved)
                    s.last_we = we
                if _initiative_row(
                        jd, <const char*>&pos[0, _r(w, pos.shape[1], n), floor], pos.strides[0],
                        s.drift0, &tolerance[_r(w, tolerance.shape[0], n), 0], s.moved,
                        s.n_moved, row, n_i, s.eligible, s.own, s.n_own, s.trigger,
                        &bills[w, 0]):
                    some = True
    finally:
        _scan_close(&s)
    return bills_arr, judged_arr, some


cdef class FloorRun:
    """The focal legislature's floor vote as one run's kernels take it (:func:`floor_votes`,
    :func:`bills_enacted`; ``engine._floor_constants``, once per run): the focal side's vote
    tables (:class:`~detente.sim.native.votes.VoteTables`), its floor's ``members`` as 1.0
    (else 0.0: a member's clout is ``clout * members``), the thresholds of passage
    (``majority``) and override (``supermajority``) and the override's reliability
    (``hold``), each one value or one per state or world (row ``w * m // n``).
    """

    cdef VoteTables tables
    cdef const double[::1] members
    cdef const double[::1] majority
    cdef const double[::1] supermajority
    cdef const double[::1] hold

    def __init__(
        self, VoteTables tables not None, const double[::1] members,
        const double[::1] majority, const double[::1] supermajority, const double[::1] hold,
    ):
        if members.shape[0] != tables.n_actors:
            raise ValueError("FloorRun: members do not match the vote tables' actors")
        if majority.shape[0] == 0 or supermajority.shape[0] == 0 or hold.shape[0] == 0:
            raise ValueError("FloorRun: a threshold or the reliability has no value")
        self.tables, self.members = tables, members
        self.majority, self.supermajority, self.hold = majority, supermajority, hold


cdef int _floor_tables(FloorRun run, Tables* tb, Py_ssize_t n_k, Py_ssize_t n_i) except -1:
    """``tb`` for the floor's vote (sign 1, no proposer, no trust gate; its ``gain`` is the
    caller's) of ``n_k > 0`` steps on ``n_i`` issues."""
    cdef VoteTables v = run.tables
    if n_k != v.n_iss.shape[0] or n_i != v.effects.shape[2]:
        raise ValueError("floor vote: the steps or issues do not match the vote tables")
    tb.n_iss = &v.n_iss[0]
    tb.iss_pad = &v.iss_pad[0, 0]
    tb.tol = &v.tol[0]
    tb.gate = NULL
    tb.sign = 1.0
    tb.proposer = -1
    tb.n_k = n_k
    tb.n_a = v.n_actors
    tb.n4 = v.sal4.shape[2]
    tb.n_i = n_i
    tb.n_j = v.iss_pad.shape[1]
    return 0


cdef void _floor_world(
    const Tables* tb, Py_ssize_t w, Py_ssize_t n, const uchar* cand, const double* level,
    const double[:, :, ::1] position, const double* clout, const double* members,
    const double[:, :, ::1] effects, const float[:, :, :, ::1] usal4,
    const float[:, :, ::1] sal4, double threshold, double* members_clout, float* cl32,
    uchar* out,
) noexcept nogil:
    """Sets ``out[k]`` (a row of zeros) where world ``w``'s candidate ``k`` (``cand``) wins
    its floor's vote at ``threshold`` (engine.floor_vote): :func:`~detente.sim.native.votes.
    voted_pairs`'s vote of that world (``level``, ``position`` issue-major) with the members'
    clout ``clout * members`` (float64, as NumPy multiplies), as float32."""
    cdef Py_ssize_t a, k, n_k = tb.n_k, m_p = position.shape[1]
    cdef Py_ssize_t wp = row_of(w, m_p, n), we = row_of(w, effects.shape[0], n)
    cdef Py_ssize_t wu = row_of(w, usal4.shape[0], n), ws = row_of(w, sal4.shape[0], n)
    if not any_set(cand, n_k):
        return
    for a in range(tb.n_a):
        members_clout[a] = clout[a] * members[a]
    clouts32(cl32, members_clout, tb.n_a)
    k = next_set(cand, 0, n_k)
    while k < n_k:
        out[k] = _vote(tb, k, level, &position[0, wp, 0], m_p * tb.n_a, cl32,
                       &effects[we, 0, 0], &usal4[wu, 0, 0, 0], &sal4[ws, k, 0], threshold)
        k = next_set(cand, k + 1, n_k)


def floor_votes(
    FloorRun run, const uchar[:, ::1] cand, const double[:, ::1] level,
    const double[:, :, ::1] position, const double[:, ::1] clout,
    const double[::1] threshold,
):
    """engine.floor_vote: ``[n, K]`` the candidates that win the floor's weighted vote at
    ``threshold`` (one value, or one per state or world), in the worlds with a candidate only
    (:func:`_floor_world`); ``position`` ``[I, n or 1, A]``, ``clout`` ``[n, A]``."""
    cdef Py_ssize_t n = cand.shape[0], n_k = cand.shape[1], n_i = level.shape[1], w
    cdef VoteTables v = run.tables
    cdef const double[:, :, ::1] effects = v.effects
    cdef const float[:, :, :, ::1] usal4 = v.usal4
    cdef const float[:, :, ::1] sal4 = v.sal4
    cdef const double[::1] members = run.members
    cdef Tables tb
    cdef float* buf = NULL
    cdef double* members_clout = NULL
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    if n == 0 or n_k == 0:
        return out_arr
    if (level.shape[0] != n or clout.shape[0] != n or clout.shape[1] != v.n_actors
            or position.shape[0] != n_i or position.shape[2] != v.n_actors
            or threshold.shape[0] == 0):
        raise ValueError("floor_votes: the arrays' shapes do not match")
    _floor_tables(run, &tb, n_k, n_i)
    try:
        buf = <float*>_alloc(2 * tb.n4 + 1, sizeof(float))
        members_clout = <double*>_alloc(tb.n_a, sizeof(double))
        tb.gain = buf + tb.n4
        with nogil:
            for w in range(n):
                _floor_world(&tb, w, n, &cand[w, 0], &level[w, 0], position, &clout[w, 0],
                             &members[0], effects, usal4, sal4,
                             threshold[row_of(w, threshold.shape[0], n)], members_clout, buf,
                             &out[w, 0])
    finally:
        free(buf)
        free(members_clout)
    return out_arr


def bills_enacted(
    CongressRun run, FloorRun floor_run, long t, const uchar[:, ::1] approved,
    const uchar[:, ::1] active, const double[:, ::1] prospective,
    const double[:, :, ::1] pos, Py_ssize_t floor, uchar[:, ::1] committed,
    uchar[:, ::1] killed, const uchar[:, ::1] req_ok, uchar[:, ::1] by_leg,
    const double[:, ::1] clout, const double[::1] level, const double[:] u,
):
    """engine.congress_bills: the legislature's bills (those of :func:`bill_candidates`),
    voted, vetoed and overridden (congress.legislative_initiative) in the worlds that have
    one, world by world: ``approved | enacted`` (a new array), or None when no bill is
    enacted (most steps: no array is formed).

    A world's bills (:func:`_next_bill`) are voted by its floor at ``floor_run.majority``
    (:func:`_floor_world`, at the levels :func:`_judged_row` gives, ``pos`` issue-major
    ``[I, n or 1, A]``, the members' ``clout`` ``[n, A]``); the executive vetoes the passed
    ones against its ``level``'s line (:func:`_against`); those are voted again at
    ``floor_run.supermajority``, and :func:`_override` (the uniform ``u`` of each world)
    decides. Enacted bills join ``committed`` and ``by_leg``, bills whose veto is sustained
    ``killed``, in place (each world's rows after its own bills are found).
    """
    cdef const double[::1] low = run.low
    cdef const double[::1] high = run.high
    cdef const double[:, ::1] start = run.start
    cdef const double[:, ::1] floor_start = run.floor_start
    cdef const double[:, ::1] tolerance = run.leg_tol
    cdef const double[:, :, ::1] effects = run.effects
    cdef const uchar[:, ::1] renewed_by = run.renewed_by
    cdef const double[:, :] gesture = run.gesture
    cdef const double[:] neutral = run.neutral
    cdef VoteTables v = floor_run.tables
    cdef const double[:, :, ::1] v_effects = v.effects
    cdef const float[:, :, :, ::1] usal4 = v.usal4
    cdef const float[:, :, ::1] sal4 = v.sal4
    cdef const double[::1] members = floor_run.members
    cdef const double[::1] majority = floor_run.majority
    cdef const double[::1] supermajority = floor_run.supermajority
    cdef const double[::1] hold = floor_run.hold
    cdef Py_ssize_t n = committed.shape[0], n_k = committed.shape[1], n_i = low.shape[0]
    cdef Py_ssize_t w = 0, k, m_e = effects.shape[0]
    cdef const double* lo = &low[0] if n_i > 0 else NULL
    cdef const double* hi = &high[0] if n_i > 0 else NULL
    cdef BillScan s
    cdef Tables tb
    cdef uchar* rows = NULL  # a world's passed, against, two-thirds, enacted, sustained
    cdef uchar* passed
    cdef uchar* against
    cdef uchar* two
    cdef uchar* enact
    cdef uchar* dead
    cdef double* jd = NULL  # a world's judged levels, then its members' clout
    cdef float* buf = NULL  # the clouts as float32 and a multi-issue move's gains
    cdef const uchar* moving
    cdef bint any_move, holds, vetoed, hit = False
    cdef uchar[:, ::1] out
    out_arr = None
    if n == 0 or n_k == 0:
        return out_arr
    if (approved.shape[0] != n or approved.shape[1] != n_k or active.shape[0] != n
            or active.shape[1] != n_k or killed.shape[0] != n or killed.shape[1] != n_k
            or by_leg.shape[0] != n or by_leg.shape[1] != n_k or prospective.shape[0] != n
            or prospective.shape[1] != n_i or clout.shape[0] != n
            or clout.shape[1] != v.n_actors or level.shape[0] != n or u.shape[0] != n
            or pos.shape[0] != n_i or pos.shape[2] != v.n_actors
            or (req_ok.shape[0] != 0 and (req_ok.shape[0] != n or req_ok.shape[1] != n_k))):
        raise ValueError("bills_enacted: the arrays' shapes do not match")
    _floor_tables(floor_run, &tb, n_k, n_i)
    try:
        _scan_open(&s, run, t, n_k)
        rows = <uchar*>_alloc(5 * n_k, 1)
        passed, against, two, enact, dead = rows, rows + n_k, rows + 2 * n_k, rows + 3 * n_k, rows + 4 * n_k
        jd = <double*>_alloc(n_i + tb.n_a, sizeof(double))
        buf = <float*>_alloc(2 * tb.n4 + 1, sizeof(float))
        tb.gain = buf + tb.n4
        while True:
            with nogil:
                w = _next_bill(&s, w, start, floor_start, tolerance, effects, renewed_by, lo,
                               hi, approved, active, prospective, pos, floor, committed,
                               killed, req_ok)
                if w < n:  # world w's bills (s.found): the floor, the veto, the override
                    moving = _moving_row(w, &approved[w, 0], active, &committed[w, 0],
                                         renewed_by, s.due, s.n_due, n_k, s.lapsing, &any_move)
                    _judged_row(&prospective[w, 0], moving, any_move,
                                &effects[row_of(w, m_e, n), 0, 0], n_k, n_i, lo, hi, s.moves,
                                jd)
                    memset(rows, 0, 5 * n_k)
                    _floor_world(&tb, w, n, s.found, jd, pos, &clout[w, 0], &members[0],
                                 v_effects, usal4, sal4,
                                 majority[row_of(w, majority.shape[0], n)], jd + n_i, buf,
                                 passed)
                    vetoed = False
                    for k in range(n_k):
                        against[k] = passed[k] and _against(w, k, gesture, level, neutral)
                        vetoed = vetoed or against[k]
                    if vetoed:
                        _floor_world(&tb, w, n, against, jd, pos, &clout[w, 0], &members[0],
                                     v_effects, usal4, sal4,
                                     supermajority[row_of(w, supermajority.shape[0], n)],
                                     jd + n_i, buf, two)
                    holds = _holds(u[w], hold[_r(w, hold.shape[0], n)])
                    hit = False
                    for k in range(n_k):
                        _override(passed[k], against[k], two[k], holds, &enact[k], &dead[k])
                        killed[w, k] = killed[w, k] | dead[k]
                        by_leg[w, k] = by_leg[w, k] | enact[k]
                        committed[w, k] = committed[w, k] | enact[k]
                        hit = hit or enact[k]
                    memset(s.found, 0, n_k)
            if w >= n:
                break
            if hit:  # approved | enacted, formed at the first world that enacts one
                if out_arr is None:
                    out_arr = np.asarray(approved).astype(np.bool_)
                    out = out_arr.view(np.uint8)
                for k in range(n_k):
                    out[w, k] = out[w, k] | enact[k]
            w += 1
    finally:
        _scan_close(&s)
        free(rows)
        free(jd)
        free(buf)
    return out_arr


def law_sunset_rows(
    CongressRun run, long t, const uchar[:, ::1] committed, const uchar[:, ::1] active,
    uchar[:, ::1] withdrawn,
):
    """engine.law_sunsets: ``(lapse_now, any lapse)``, ``lapse_now`` None without a lapse
    (most steps: the array is formed at the first one); re-enactments join ``withdrawn`` in
    place. The lapse is withdrawn where a renewal approved now (committed, not in force)
    re-enacts a law that has lapsed (its lapse in force)."""
    cdef const long[:] sunset = run.sunset
    cdef const uchar[:, ::1] renewed_by = run.renewed_by
    cdef Py_ssize_t n = committed.shape[0], n_k = committed.shape[1], w = 0, k, m, o, n_lapses
    cdef uchar[:, ::1] lapse
    cdef Py_ssize_t* lapses = <Py_ssize_t*>_alloc(n_k, sizeof(Py_ssize_t))
    cdef uchar* approved_now = NULL
    cdef uchar* lapse_active
    cdef uchar* reenact
    cdef uchar* row  # a world's lapses (zeros but at the lapses' entries)
    cdef const uchar* com
    cdef const uchar* act
    cdef bint some = False, lapsed, due = False, hit = False
    lapse_arr = None
    try:
        n_lapses = _lapses(sunset, renewed_by, lapses)
        if n_lapses == 0:
            return lapse_arr, some
        for m in range(n_lapses):
            due = due or sunset[lapses[m]] == t
        approved_now = <uchar*>_alloc(4 * n_k, 1)
        lapse_active, reenact, row = approved_now + n_k, approved_now + 2 * n_k, approved_now + 3 * n_k
        while w < n:
            with nogil:
                while w < n:
                    com = &committed[w, 0]
                    act = &active[w, 0]
                    lapsed = False
                    for m in range(n_lapses):
                        k = lapses[m]
                        lapse_active[k] = act[k] & (sunset[k] >= 0)
                        lapsed = lapsed or lapse_active[k]
                    if not (lapsed or due):  # no lapse due now, none to re-enact
                        w += 1
                        continue
                    if lapsed:  # the renewals approved now are read only for a lapse in force
                        o = 0
                        while o < n_k:
                            _put(approved_now, o, n_k,
                                 _word(com, o, n_k) & (_word(act, o, n_k) ^ ONES))
                            o = _after(o, n_k)
                    _lapse_row(t, sunset, renewed_by, lapses, n_lapses, com, approved_now,
                               lapse_active, row, reenact)
                    hit = False
                    for m in range(n_lapses):
                        k = lapses[m]
                        hit = hit | row[k]
                        withdrawn[w, k] = withdrawn[w, k] | reenact[k]
                    if hit:  # (the array formed, or written, outside)
                        break
                    w += 1
            if w < n:  # world w lapses a law now
                if lapse_arr is None:
                    lapse_arr = np.zeros((n, n_k), dtype=np.bool_)
                    lapse = lapse_arr.view(np.uint8)
                for m in range(n_lapses):
                    k = lapses[m]
                    lapse[w, k] = row[k]
                some = True
                w += 1
    finally:
        free(lapses)
        free(approved_now)
    return lapse_arr, some


def statute_candidates(CongressRun run, const uchar[:, ::1] active, const uchar[:, ::1] cand):
    """engine.ratify_focal: ``statute_lock(active, locks, effects) & cand``, the candidates
    that would undo a statute in force (``[n, K]``), or None when there is none (most
    steps): only the candidates are tested, and the array is formed at the first one found.
    ``run.locks`` and ``run.effects`` are the statutes and the effects."""
    cdef const uchar[::1] locks = run.locks
    cdef const double[:, :, ::1] effects = run.effects
    cdef Py_ssize_t n = active.shape[0], n_k = active.shape[1], n_i = effects.shape[2]
    cdef Py_ssize_t w, first = -1, n_statutes = 0, m_e = effects.shape[0]
    cdef uchar[:, ::1] out
    if locks is None or locks.shape[0] != n_k or cand.shape[0] != n or cand.shape[1] != n_k:
        raise ValueError("statute_candidates: the run's locks or cand do not match active")
    cdef Py_ssize_t* statutes = <Py_ssize_t*>_alloc(n_k, sizeof(Py_ssize_t))
    cdef double* total = NULL
    cdef uchar* row = NULL
    try:
        total = <double*>_alloc(n_i, sizeof(double))
        row = <uchar*>_alloc(n_k, 1)  # zeros until a world has one
        with nogil:
            n_statutes = _where(locks, statutes)  # the steps that lock (a few)
            if n_statutes > 0:
                for w in range(n):
                    if _lock_row(&active[w, 0], &cand[w, 0], locks, statutes, n_statutes,
                                 &effects[row_of(w, m_e, n), 0, 0], n_k, n_i, total, row):
                        first = w
                        break
        if first < 0:
            return None
        out_arr = np.zeros((n, n_k), dtype=np.bool_)
        out = out_arr.view(np.uint8)
        with nogil:
            memcpy(&out[first, 0], row, n_k)
            for w in range(first + 1, n):
                _lock_row(&active[w, 0], &cand[w, 0], locks, statutes, n_statutes,
                          &effects[row_of(w, m_e, n), 0, 0], n_k, n_i, total, &out[w, 0])
    finally:
        free(statutes)
        free(total)
        free(row)
    return out_arr


def balanced_clout(const double[:, :] clout, const double[:, :] factor):
    """engine.ratify_focal: ``np.maximum(clout * factor, 0)`` (``[n, A]`` each, any
    strides), as NumPy computes it: the product, then the larger of it and ``+0.0``
    (``-0.0`` becomes ``+0.0``, a NaN stays)."""
    cdef Py_ssize_t n = clout.shape[0], n_a = clout.shape[1], w, a
    cdef double x
    cdef const double* c
    cdef const double* f
    cdef double* o
    if factor.shape[0] != n or factor.shape[1] != n_a:
        raise ValueError("balanced_clout: clout and factor differ in shape")
    out_arr = np.empty((n, n_a), dtype=np.float64)
    cdef double[:, ::1] out = out_arr
    if n * n_a == 0:
        return out_arr
    # not (x <= 0): x above 0 or NaN, kept; else +0.0
    if (clout.strides[1] == factor.strides[1] == sizeof(double)
            and clout.strides[0] == factor.strides[0] == n_a * sizeof(double)):
        c, f, o = &clout[0, 0], &factor[0, 0], &out[0, 0]
        with nogil:  # both C-contiguous (the usual case): one flat loop, vectorised
            for a in range(n * n_a):
                x = c[a] * f[a]
                o[a] = x if not (x <= 0.0) else 0.0
        return out_arr
    with nogil:
        for w in range(n):
            for a in range(n_a):
                x = clout[w, a] * factor[w, a]
                out[w, a] = x if not (x <= 0.0) else 0.0
    return out_arr


def opponent_steps(
    const double[:] level, const double[:] neutral, const double[:, ::1] conc_rank,
    const double[:, ::1] host_rank, const uchar[:, :] active, const uchar[:, :] pending,
    const uchar[:] reversible, const uchar[:, :] req_ok, long[:, :] start, long never,
):
    """engine.unitary_opponent: ``(approved, withdrawn)``, ``[n, K]`` each.

    The ladder of the opponent's level, taken without ratification: wanted steps not in
    force nor pending (requirements met) are approved, reversible ones in force no longer
    wanted are withdrawn, pending ones no longer wanted get ``start = never`` in place.
    """
    cdef Py_ssize_t n = active.shape[0], n_k = active.shape[1], w, k
    app_arr = np.zeros((n, n_k), dtype=np.bool_)
    drop_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] app = app_arr.view(np.uint8)
    cdef uchar[:, ::1] drop = drop_arr.view(np.uint8)
    cdef uchar[::1] want = np.empty(n_k, dtype=np.uint8)
    with nogil:
        for w in range(n):
            _ladder_row(w, level, neutral, conc_rank, host_rank, &want[0])
            for k in range(n_k):
                drop[w, k] = active[w, k] and not want[k] and reversible[k]
                if pending[w, k] and not want[k]:
                    start[w, k] = never
                app[w, k] = want[k] and not active[w, k] and not pending[w, k] and req_ok[w, k]
    return app_arr, drop_arr


cdef inline double _floor_position(double b, double up, double down, double engager,
                                   double hawk) noexcept nogil:
    """engine.floor_position of one issue: ``x0 + max(β, 0)·(x_engagers − x0) +
    max(−β, 0)·(x_hawks − x0)`` (``b`` = ``x0``, ``up`` = ``max(β, 0)``, ``down`` =
    ``max(−β, 0)``)."""
    return b + (up * (engager - b) + down * (hawk - b))


def floor_rows(
    const double[:, :] base, const double[:, :] hawk, const double[:, :] engager,
    const double[:] balance,
):
    """engine.floor_position: ``[n, I]`` the floor's ideal points at each world's balance
    ``β`` (:func:`_floor_position`)."""
    cdef Py_ssize_t n = balance.shape[0], n_i = base.shape[1], w, i, wb, wh, we
    out_arr = np.empty((n, n_i), dtype=np.float64)
    cdef double[:, ::1] out = out_arr
    cdef double up, down
    with nogil:
        for w in range(n):
            up = _max(balance[w], 0.0)
            down = _max(-balance[w], 0.0)
            wb, wh = _r(w, base.shape[0], n), _r(w, hawk.shape[0], n)
            we = _r(w, engager.shape[0], n)
            for i in range(n_i):
                out[w, i] = _floor_position(base[wb, i], up, down, engager[we, i], hawk[wh, i])
    return out_arr


cdef inline double _np_maximum(double x, double low) noexcept nogil:
    """``np.maximum(x, low)`` as this NumPy computes it: a NaN of either wins, and of two
    equal numbers (``-0.0`` and ``+0.0``) the second."""
    return x if (x > low or x != x) else low


cdef inline double _np_minimum(double x, double high) noexcept nogil:
    """``np.minimum(x, high)`` as this NumPy computes it (as :func:`_np_maximum`)."""
    return x if (x < high or x != x) else high


def floor_positions_into(
    const double[:, :] base, const double[:, :] hawk, const double[:, :] engager,
    const double[:] balance, const double[::1] low, const double[::1] high,
    double[:, :, ::1] out, Py_ssize_t floor,
):
    """engine._new_congress: ``out[i, w, floor]``, the floor's column of the focal side's
    ideal points ``[I, n, A]``, set to ``clip(floor_position(...), low, high)`` at each world's
    balance (:func:`_floor_position`; the clip as engine._clip's ``np.minimum(np.maximum(x,
    low), high)``), in place; ``base``, ``hawk``, ``engager`` one row, or one per state or
    world."""
    cdef Py_ssize_t n = balance.shape[0], n_i = base.shape[1], w, i, wb, wh, we
    cdef double up, down
    if (out.shape[0] != n_i or out.shape[1] != n or not 0 <= floor < out.shape[2]
            or low.shape[0] != n_i or high.shape[0] != n_i or hawk.shape[1] != n_i
            or engager.shape[1] != n_i):
        raise ValueError("floor_positions_into: the arrays' shapes do not match")
    with nogil:
        for w in range(n):
            up = _max(balance[w], 0.0)
            down = _max(-balance[w], 0.0)
            wb, wh = _r(w, base.shape[0], n), _r(w, hawk.shape[0], n)
            we = _r(w, engager.shape[0], n)
            for i in range(n_i):
                out[i, w, floor] = _np_minimum(_np_maximum(_floor_position(
                    base[wb, i], up, down, engager[we, i], hawk[wh, i]), low[i]), high[i])


def discount_log_sums(
    const uchar[:, ::1] in_force, const double[:, ::1] keep, const uchar[:, ::1] started,
):
    """congress.trade_discount's exponent: ``[n]`` sums over the steps in force of
    ``log(1 − d)`` (``keep``), as ``(in_force * keep).sum(axis=1)`` adds them.

    ``started`` (no rows: none) are steps left out of ``in_force`` (``in_force & ~started``).
    Where ``keep`` is finite, the terms of a world are ``±0`` but for its steps in force with
    a discount: with none the sum is returned as ``+0.0`` (NumPy's may be ``-0.0``: the same
    ``exp``), with one it is that term (adding zeros changes no bit); only two or more are
    summed in NumPy's order.
    """
    cdef Py_ssize_t n = in_force.shape[0], n_k = in_force.shape[1], w, k, wk, m, count
    cdef Py_ssize_t n_traded = 0
    cdef bint some_started = started.shape[0] > 0
    out_arr = np.empty(n, dtype=np.float64)
    cdef double[::1] out = out_arr
    cdef bint finite = finite_matrix(keep)
    # the steps with a discount in some row of keep: every other term is a zero
    cdef Py_ssize_t* traded = <Py_ssize_t*>_alloc(n_k, sizeof(Py_ssize_t))
    cdef double* terms = NULL
    cdef const uchar* f
    cdef const uchar* s
    cdef double last
    try:
        terms = <double*>_alloc(n_k, sizeof(double))
        with nogil:
            for k in range(n_k):
                for m in range(keep.shape[0]):
                    if keep[m, k] != 0:
                        traded[n_traded] = k
                        n_traded += 1
                        break
            if finite and n_traded == 1 and keep.shape[0] == 1:  # one shared discount
                k = traded[0]
                last = keep[0, k]
                for w in range(n):  # in force and not started: that term, else +0.0
                    out[w] = last if in_force[w, k] & (
                        (started[w, k] ^ 1) if some_started else 1) else 0.0
            else:
                for w in range(n):
                    wk = _r(w, keep.shape[0], n)
                    f = &in_force[w, 0]
                    s = &started[w, 0] if some_started else NULL
                    if finite:
                        count = 0
                        last = 0.0
                        for m in range(n_traded):
                            k = traded[m]
                            if f[k] and not (s != NULL and s[k]) and keep[wk, k] != 0:
                                count += 1
                                last = keep[wk, k]
                        if count < 2:
                            out[w] = last
                            continue
                    for k in range(n_k):
                        terms[k] = (<double>(f[k] & ((s[k] ^ 1) if s != NULL else 1))
                                    ) * keep[wk, k]
                    out[w] = pairwise_sum(terms, n_k)
    finally:
        free(traded)
        free(terms)
    return out_arr
