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
``w * m // n`` of ``m``: ``_r``); bool arrays arrive as ``uint8`` views.
"""

from libc.math cimport INFINITY, fabs
from detente.sim.native.numpy_sum cimport pairwise_sum
from detente.sim.native.rows cimport any_set, row_of

import numpy as np

ctypedef unsigned char uchar


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


# ---------------------------------------------------------------------- one world's formulas
cdef inline void _ladder_row(
    Py_ssize_t w, const double[:] level, const double[:] neutral, const double[:, ::1] conc_rank,
    const double[:, ::1] host_rank, uchar* out,
) noexcept nogil:
    """``out[k]``: instrument ``k`` is on the ladder at world ``w``'s level (engine.ladder)."""
    cdef Py_ssize_t n = level.shape[0]
    cdef double nl = neutral[_r(w, neutral.shape[0], n)]
    cdef double conc = _min(_max((level[w] - nl) / _max(1.0 - nl, 1e-9), 0.0), 1.0)
    cdef double host = _min(_max((nl - level[w]) / _max(nl, 1e-9), 0.0), 1.0)
    cdef double conc_top = conc + 1e-9, host_top = host + 1e-9
    cdef const double* cr = &conc_rank[_r(w, conc_rank.shape[0], n), 0]
    cdef const double* hr = &host_rank[_r(w, host_rank.shape[0], n), 0]
    cdef Py_ssize_t k
    for k in range(conc_rank.shape[1]):
        out[k] = (cr[k] <= conc_top) | (hr[k] <= host_top)


cdef inline bint _law_renewed(
    Py_ssize_t k, const uchar[:, :] renewed_by, const uchar* steps
) noexcept nogil:
    """One of the renewals of the law whose lapse is ``k`` is among ``steps``."""
    cdef Py_ssize_t j
    for j in range(renewed_by.shape[1]):
        if steps[j] and renewed_by[k, j]:
            return True
    return False


cdef Py_ssize_t[::1] _laws(const uchar[:, :] renewed_by):
    """The laws' lapses: the rows of ``renewed_by`` with a renewal (a few)."""
    return np.flatnonzero(np.asarray(renewed_by).any(axis=1)).astype(np.intp)


cdef inline void _spent_row(
    const uchar[:, :] renewed_by, const Py_ssize_t[::1] laws, const uchar* steps, uchar* out,
) noexcept nogil:
    """``out[j]``: ``j`` renews a law already renewed by one of ``steps`` (spent_renewals)."""
    cdef Py_ssize_t k, j, m, n_k = renewed_by.shape[1]
    for j in range(n_k):
        out[j] = 0
    for m in range(laws.shape[0]):
        k = laws[m]
        if _law_renewed(k, renewed_by, steps):
            for j in range(n_k):
                if renewed_by[k, j]:
                    out[j] = 1


cdef Py_ssize_t[::1] _indices(const uchar[:] flags):
    """The indices where ``flags`` is set (the renewals: a few)."""
    return np.flatnonzero(np.asarray(flags)).astype(np.intp)


cdef Py_ssize_t[::1] _due(const long[:] sunset, long t):
    """The laws whose sunset is step ``t`` (mostly none)."""
    return np.flatnonzero(np.asarray(sunset) == t).astype(np.intp)


cdef inline void _renewal_row(
    Py_ssize_t w, Py_ssize_t n, const Py_ssize_t[::1] due, const uchar[:, :] renewed_by,
    const Py_ssize_t[::1] renewals, const uchar* committed, const uchar[:] menu,
    const double[:, :] gesture, uchar* out,
) noexcept nogil:
    """Sets ``out[j]`` for the renewals the executive wants at world ``w`` (renewal_stance).

    The committed renewals (``renewals``: the steps that renew a law), and at a law's sunset
    step (``due``: the laws whose sunset is now), unless it is renewed already, the first
    renewal of highest gesture on ``menu``.
    """
    cdef Py_ssize_t k, j, m, best, n_k = renewed_by.shape[1], wg = _r(w, gesture.shape[0], n)
    cdef double g
    for m in range(renewals.shape[0]):
        j = renewals[m]
        if committed[j]:
            out[j] = 1
    for m in range(due.shape[0]):
        k = due[m]
        if _law_renewed(k, renewed_by, committed):
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


cdef inline bint _initiative_row(
    Py_ssize_t w, const double[:, :] judged, const double[:, :, :] pos, Py_ssize_t floor,
    const double[:, :] start, const double[:, :] floor_start, const uchar[:] stake,
    const double[:, :] tolerance, const double[:, :, :] effects, const uchar* eligible,
    const Py_ssize_t[::1] steps, uchar* trigger, uchar* out,
) noexcept nogil:
    """Sets ``out[k]`` (a row of zeros) where eligible step ``k`` moves an issue drifted past
    tolerance toward the floor (initiative_candidates); returns whether any does. Only
    ``steps`` (the steps eligible in some world) are read of ``eligible``."""
    cdef Py_ssize_t i, k, m, n_i = judged.shape[1], n = judged.shape[0]
    cdef Py_ssize_t wp = _r(w, pos.shape[1], n), ws = _r(w, start.shape[0], n)
    cdef Py_ssize_t wx = _r(w, floor_start.shape[0], n), wt = _r(w, tolerance.shape[0], n)
    cdef Py_ssize_t we = _r(w, effects.shape[0], n)
    cdef double x, lv, e
    cdef uchar some = 0
    cdef bint found = False
    for m in range(steps.shape[0]):
        some = some | eligible[steps[m]]
    if not some:  # no step to propose: no trigger needed
        return False
    some = 0
    for i in range(n_i):
        x = pos[i, wp, floor]
        trigger[i] = stake[i] and (
            fabs(judged[w, i] - x) - fabs(start[ws, i] - floor_start[wx, i]) > tolerance[wt, i]
        )
        some = some | trigger[i]
    if not some:
        return False
    for m in range(steps.shape[0]):
        k = steps[m]
        if not eligible[k]:
            continue
        for i in range(n_i):
            if not trigger[i]:
                continue
            e = effects[we, k, i]
            x = pos[i, wp, floor]
            lv = judged[w, i]
            if (e > 0 and x > lv) or (e < 0 and x < lv):
                out[k] = 1
                found = True
                break
    return found


cdef inline bint _against(
    Py_ssize_t w, Py_ssize_t k, const double[:, :] gesture, const double[:] level,
    const double[:] neutral,
) noexcept nogil:
    """Step ``k`` goes against the executive's line at world ``w`` (against_executive)."""
    cdef Py_ssize_t n = level.shape[0]
    return gesture[_r(w, gesture.shape[0], n), k] * (
        level[w] - neutral[_r(w, neutral.shape[0], n)]) < 0


cdef Py_ssize_t[::1] _lapses(const long[:] sunset, const uchar[:, :] renewed_by):
    """The instruments that may lapse or be re-enacted: a sunset or renewals (a few)."""
    return np.flatnonzero((np.asarray(sunset) >= 0) | np.asarray(renewed_by).any(axis=1)
                          ).astype(np.intp)


cdef inline void _lapse_row(
    long t, const long[:] sunset, const uchar[:, :] renewed_by, const Py_ssize_t[::1] lapses,
    const uchar* committed, const uchar* approved_now, const uchar* lapse_active, uchar* lapse,
    uchar* reenact,
) noexcept nogil:
    """One world's lapses due now and re-enactments (sunset_expiry), set at ``lapses`` (the
    other instruments' stay 0)."""
    cdef Py_ssize_t k, m
    for m in range(lapses.shape[0]):
        k = lapses[m]
        lapse[k] = sunset[k] == t and not lapse_active[k] and not _law_renewed(
            k, renewed_by, committed)
        reenact[k] = lapse_active[k] and _law_renewed(k, renewed_by, approved_now)


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
    long t, const long[:] sunset, const uchar[:, :] renewed_by, const uchar[:] is_renewal,
    const uchar[:, ::1] committed, const uchar[:] menu, const double[:, :] gesture,
):
    """congress.renewal_stance: ``[n, K]`` renewals the executive wants."""
    cdef Py_ssize_t n = committed.shape[0], n_k = committed.shape[1], w
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    cdef const Py_ssize_t[::1] due = _due(sunset, t), renewals = _indices(is_renewal)
    with nogil:
        for w in range(n):
            _renewal_row(w, n, due, renewed_by, renewals, &committed[w, 0], menu, gesture,
                         &out[w, 0])
    return out_arr


def renewed_rows(const uchar[:, :] renewed_by, const uchar[:, ::1] steps):
    """congress.renewed_laws: ``[n, K]`` laws' lapses one of whose renewals is among ``steps``."""
    cdef Py_ssize_t n = steps.shape[0], n_k = steps.shape[1], w, k
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    with nogil:
        for w in range(n):
            for k in range(n_k):
                out[w, k] = _law_renewed(k, renewed_by, &steps[w, 0])
    return out_arr


def spent_rows(const uchar[:, :] renewed_by, const uchar[:, ::1] steps):
    """congress.spent_renewals: ``[n, K]`` renewals of laws already renewed by ``steps``."""
    cdef Py_ssize_t n = steps.shape[0], n_k = steps.shape[1], w
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    cdef const Py_ssize_t[::1] laws = _laws(renewed_by)
    with nogil:
        for w in range(n):
            _spent_row(renewed_by, laws, &steps[w, 0], &out[w, 0])
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
    const double[:, :] judged, const double[:, :] start, const double[:, :, :] pos,
    Py_ssize_t floor, const double[:, :] floor_start, const uchar[:] stake,
    const double[:, :] tolerance, const double[:, :, :] effects, const uchar[:, ::1] eligible,
):
    """congress.initiative_candidates: ``[n, K]`` steps put to the floor.

    ``pos[i, w or 0, floor]`` is the floor's current ideal point on issue ``i``.
    """
    cdef Py_ssize_t n = eligible.shape[0], n_k = eligible.shape[1], w
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    cdef uchar[::1] trigger = np.empty(judged.shape[1], dtype=np.uint8)
    cdef const Py_ssize_t[::1] steps = np.flatnonzero(
        np.asarray(eligible).any(axis=0)).astype(np.intp)
    with nogil:
        for w in range(n):
            _initiative_row(w, judged, pos, floor, start, floor_start, stake, tolerance,
                            effects, &eligible[w, 0], steps, &trigger[0], &out[w, 0])
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
    cdef bint holds, held
    with nogil:
        for w in range(n):
            holds = u[w] < hold[_r(w, hold.shape[0], n)]
            for k in range(n_k):
                held = supermajority[w, k] and holds
                enacted[w, k] = majority[w, k] and (not against[w, k] or held)
                sustained[w, k] = majority[w, k] and against[w, k] and not held
    return enacted_arr, sustained_arr


def lock_rows(const uchar[:, ::1] active, const uchar[::1] locks, const double[:, :, :] effects):
    """congress.statute_lock: ``[n, K]`` steps that would undo a statute in force."""
    cdef Py_ssize_t n = active.shape[0], n_k = active.shape[1], n_i = effects.shape[2]
    cdef Py_ssize_t w, k, i, we, m
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] out = out_arr.view(np.uint8)
    cdef double[::1] total = np.empty(n_i, dtype=np.float64)
    cdef const Py_ssize_t[::1] statutes = _indices(locks)  # the steps that lock (a few)
    cdef const uchar* act
    cdef double s
    cdef bint some
    with nogil:
        for w in range(n):
            act = &active[w, 0]
            some = False
            for m in range(statutes.shape[0]):
                some = some or act[statutes[m]]
            if not some:
                continue
            we = _r(w, effects.shape[0], n)
            for i in range(n_i):
                total[i] = 0.0
            # the summed effects of the locks in force, in step order (the other steps' terms
            # are +0.0, which change no partial sum: it starts at +0.0 and is never -0.0)
            for m in range(statutes.shape[0]):
                k = statutes[m]
                if act[k]:
                    for i in range(n_i):
                        total[i] = total[i] + effects[we, k, i]
            for k in range(n_k):
                if locks[k]:
                    continue
                for i in range(n_i):
                    s = 1.0 if total[i] > 0 else (-1.0 if total[i] < 0 else 0.0)
                    if effects[we, k, i] * s < 0:
                        out[w, k] = 1
                        break
    return out_arr


def sunset_rows(
    long t, const long[:] sunset, const uchar[:, :] renewed_by, const uchar[:, ::1] committed,
    const uchar[:, ::1] approved_now, const uchar[:, ::1] lapse_active,
):
    """congress.sunset_expiry: ``(lapse_now, reenact)``, ``[n, K]`` each."""
    cdef Py_ssize_t n = committed.shape[0], n_k = committed.shape[1], w
    lapse_arr = np.zeros((n, n_k), dtype=np.bool_)
    reenact_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] lapse = lapse_arr.view(np.uint8)
    cdef uchar[:, ::1] reenact = reenact_arr.view(np.uint8)
    cdef const Py_ssize_t[::1] lapses = _lapses(sunset, renewed_by)
    with nogil:
        for w in range(n):
            _lapse_row(t, sunset, renewed_by, lapses, &committed[w, 0], &approved_now[w, 0],
                       &lapse_active[w, 0], &lapse[w, 0], &reenact[w, 0])
    return lapse_arr, reenact_arr


# ------------------------------------------------------------------ the engine's mechanisms
def proposals(
    const double[:] level, const double[:] neutral, const double[:, ::1] conc_rank,
    const double[:, ::1] host_rank, const uchar[::1] menu, const uchar[:, ::1] active,
    const uchar[:, ::1] pending, const uchar[:, ::1] by_leg, const uchar[::1] reversible,
    const uchar[::1] gest_pos, const uchar[:, ::1] req_ok,
    bint renew, long t, const long[:] sunset, const uchar[:, :] renewed_by,
    const uchar[:] is_renewal, const uchar[:] renew_menu, const double[:, :] gesture,
    bint retreat, const double[:] cost_now, const double[:] tolerance, const double[:] u,
    const double[:] chance, const double[:, :] cost, const long[:, :] since,
    const signed char[::1] held, long[:, ::1] start, long never,
):
    """engine.focal_proposals: ``(candidates, withdrawn, cancelled)``, ``[n, K]`` each.

    Per world: the ladder on the menu; with ``renew``, the renewals wanted at a sunset; with
    ``retreat``, no new concession past the cost tolerance and the retreat's withdrawal (its
    chance per step ``chance``, uniform ``u``); with ``held`` (a script's switches this step,
    empty when no script runs), the holds. Cancelled steps' ``start`` is set to ``never`` in
    place. ``req_ok`` has one row per world, or none when every requirement is met.
    """
    cdef Py_ssize_t n = active.shape[0], n_k = active.shape[1], w, k, m, pick
    cdef bint scripted = held.shape[0] > 0, over, all_ok = req_ok.shape[0] == 0
    cand_arr = np.empty((n, n_k), dtype=np.bool_)
    drop_arr = np.empty((n, n_k), dtype=np.bool_)
    cancel_arr = np.empty((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] cand = cand_arr.view(np.uint8)
    cdef uchar[:, ::1] drop = drop_arr.view(np.uint8)
    cdef uchar[:, ::1] cancel = cancel_arr.view(np.uint8)
    cdef uchar[::1] want = np.empty(n_k, dtype=np.uint8)
    cdef uchar[::1] scratch = np.zeros(n_k, dtype=np.uint8)
    # the script's holds as bytes: not held off, held on, not held on
    cdef uchar[::1] hold = np.ones(n_k, dtype=np.uint8)
    cdef uchar[::1] force = np.zeros(n_k, dtype=np.uint8)
    cdef uchar[::1] askable = np.ones(n_k, dtype=np.uint8)
    cdef uchar[::1] ask = np.empty(n_k, dtype=np.uint8)  # askable and requirements met
    cdef const Py_ssize_t[::1] due = _due(sunset, t) if renew else np.zeros(0, dtype=np.intp)
    cdef const Py_ssize_t[::1] renewals = (_indices(is_renewal) if renew
                                           else np.zeros(0, dtype=np.intp))
    cdef const uchar* act
    cdef const uchar* pen
    cdef const uchar* leg
    cdef const uchar* ok
    cdef long* st
    cdef uchar* ca
    cdef uchar* dr
    cdef uchar* cn
    if scripted:
        for k in range(n_k):
            hold[k] = held[k] >= 0
            force[k] = held[k] > 0
            askable[k] = held[k] <= 0  # a step held on is forced, not put to ratification
    with nogil:
        for w in range(n):
            act = &active[w, 0]
            pen = &pending[w, 0]
            leg = &by_leg[w, 0]
            _ladder_row(w, level, neutral, conc_rank, host_rank, &want[0])
            for k in range(n_k):
                want[k] = want[k] & menu[k]
            if renew:  # an expiring law: its renewal on the agenda
                if due.shape[0] > 0:
                    for k in range(n_k):
                        scratch[k] = act[k] | pen[k]
                else:  # only the renewals' entries are read
                    for m in range(renewals.shape[0]):
                        k = renewals[m]
                        scratch[k] = act[k] | pen[k]
                _renewal_row(w, n, due, renewed_by, renewals, &scratch[0], renew_menu, gesture,
                             &want[0])
            if retreat:
                over = cost_now[w] > tolerance[_r(w, tolerance.shape[0], n)] and (
                    tolerance[_r(w, tolerance.shape[0], n)] >= 0)
                if over:
                    for k in range(n_k):
                        if gest_pos[k] and not act[k] and not pen[k]:
                            want[k] = 0
                    if u[w] < chance[_r(w, chance.shape[0], n)]:
                        for k in range(n_k):
                            scratch[k] = (act[k] and gest_pos[k] and reversible[k]
                                          and not leg[k])
                        pick = _retreat_pick(w, &scratch[0], cost, since)
                        if pick >= 0:
                            want[pick] = 0
            if scripted:  # held on or held off by the script
                for k in range(n_k):
                    want[k] = (want[k] & hold[k]) | force[k]
            # one output a loop over bytes (gcc vectorises them), then the cancelled starts
            st = &start[w, 0]
            ca = &cand[w, 0]
            dr = &drop[w, 0]
            cn = &cancel[w, 0]
            ok = &askable[0]
            if not all_ok:
                for k in range(n_k):
                    ask[k] = askable[k] & req_ok[w, k]
                ok = &ask[0]
            for k in range(n_k):
                dr[k] = act[k] & (want[k] ^ 1) & reversible[k] & (leg[k] ^ 1)
            for k in range(n_k):
                cn[k] = pen[k] & (want[k] ^ 1) & (leg[k] ^ 1)
            for k in range(n_k):
                ca[k] = want[k] & (act[k] ^ 1) & (pen[k] ^ 1) & ok[k]
            for k in range(n_k):
                if cn[k]:
                    st[k] = never
    return cand_arr, drop_arr, cancel_arr


def bill_candidates(
    long t, const long[:] sunset, const uchar[:, ::1] approved, const uchar[:, ::1] active,
    const double[:, ::1] prospective, const double[::1] low,
    const double[::1] high, const double[:, :] start, const double[:, :, :] pos,
    Py_ssize_t floor, const double[:, :] floor_start, const uchar[:] stake,
    const double[:, :] tolerance, const double[:, :, :] effects, const uchar[::1] by_legislature,
    const uchar[:, ::1] committed, const uchar[:, ::1] killed, const uchar[:, ::1] renewed_by,
    const uchar[:, ::1] req_ok,
):
    """engine.congress_bills: ``(bills, judged, any bill)``.

    The floor judges ``judged = clip(prospective + moves, low, high)``, the moves of the
    steps that move this step (``approved`` now, and the laws lapsing at ``t`` that are not
    in force and that no renewal stops: :func:`_law_renewed`), their ``effects`` rows added in
    the steps' order. The steps Congress may propose (its own, not committed, not killed,
    not a spent renewal, requirements met: ``req_ok``, no rows when all are) are those
    :func:`initiative_rows` would put to the floor.
    """
    cdef Py_ssize_t n = committed.shape[0], n_k = committed.shape[1], n_i = low.shape[0]
    cdef Py_ssize_t w, k, i, m, we, m_e = effects.shape[0]
    cdef bint all_ok = req_ok.shape[0] == 0
    judged_arr = np.empty((n, n_i), dtype=np.float64)
    cdef double[:, ::1] judged = judged_arr
    bills_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] bills = bills_arr.view(np.uint8)
    cdef uchar[::1] eligible = np.zeros(n_k, dtype=np.uint8)
    cdef uchar[::1] spent = np.empty(n_k, dtype=np.uint8)
    cdef uchar[::1] trigger = np.empty(n_i, dtype=np.uint8)
    cdef uchar[::1] moving = np.empty(max(n_k, 1), dtype=np.uint8)
    cdef double[::1] moves = np.empty(max(n_i, 1))
    cdef const Py_ssize_t[::1] laws = _laws(renewed_by)
    cdef const Py_ssize_t[::1] own = _indices(by_legislature)  # Congress's own steps
    cdef Py_ssize_t[::1] due = np.flatnonzero(np.asarray(sunset) == t).astype(np.intp)
    cdef const double* pr
    cdef double* jd
    cdef bint some = False, any_move
    with nogil:
        for w in range(n):
            # the steps moving now: approved, and the lapses due that no renewal stops
            any_move = any_set(&approved[w, 0], n_k)
            for k in range(n_k):
                moving[k] = approved[w, k]
            for m in range(due.shape[0]):
                k = due[m]
                if not active[w, k] and not _law_renewed(k, renewed_by, &committed[w, 0]):
                    moving[k] = 1
                    any_move = True
            pr = &prospective[w, 0]
            jd = &judged[w, 0]
            for i in range(n_i):
                moves[i] = 0.0
            if any_move:
                we = row_of(w, m_e, n)
                for k in range(n_k):
                    if moving[k]:
                        for i in range(n_i):
                            moves[i] = moves[i] + effects[we, k, i]
            for i in range(n_i):
                jd[i] = _min(_max(pr[i] + moves[i], low[i]), high[i])
            _spent_row(renewed_by, laws, &committed[w, 0], &spent[0])
            for m in range(own.shape[0]):  # the other steps stay 0
                k = own[m]
                eligible[k] = (committed[w, k] ^ 1) & (killed[w, k] ^ 1) & (spent[k] ^ 1)
                if not all_ok:
                    eligible[k] = eligible[k] & req_ok[w, k]
            if _initiative_row(w, judged, pos, floor, start, floor_start, stake, tolerance,
                               effects, &eligible[0], own, &trigger[0], &bills[w, 0]):
                some = True
    return bills_arr, judged_arr, some


def law_sunset_rows(
    long t, const long[:] sunset, const uchar[:, :] renewed_by, const uchar[:, ::1] committed,
    const uchar[:, ::1] active, uchar[:, ::1] withdrawn,
):
    """engine.law_sunsets: ``(lapse_now, any lapse)``; re-enactments join ``withdrawn`` in
    place. The lapse is withdrawn where a renewal approved now (committed, not in force)
    re-enacts a law that has lapsed (its lapse in force)."""
    cdef Py_ssize_t n = committed.shape[0], n_k = committed.shape[1], w, k, m
    lapse_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef uchar[:, ::1] lapse = lapse_arr.view(np.uint8)
    cdef uchar[::1] approved_now = np.empty(n_k, dtype=np.uint8)
    cdef uchar[::1] lapse_active = np.zeros(n_k, dtype=np.uint8)
    cdef uchar[::1] reenact = np.zeros(n_k, dtype=np.uint8)
    cdef const Py_ssize_t[::1] lapses = _lapses(sunset, renewed_by)
    cdef const uchar* com
    cdef const uchar* act
    cdef bint some = False, lapsed
    if lapses.shape[0] == 0:
        return lapse_arr, some
    with nogil:
        for w in range(n):
            com = &committed[w, 0]
            act = &active[w, 0]
            lapsed = False
            for m in range(lapses.shape[0]):
                k = lapses[m]
                lapse_active[k] = act[k] & (sunset[k] >= 0)
                lapsed = lapsed or lapse_active[k]
            if lapsed:  # the renewals approved now are read only for a lapse in force
                for k in range(n_k):
                    approved_now[k] = com[k] & (act[k] ^ 1)
            _lapse_row(t, sunset, renewed_by, lapses, com, &approved_now[0], &lapse_active[0],
                       &lapse[w, 0], &reenact[0])
            for m in range(lapses.shape[0]):
                k = lapses[m]
                some = some | lapse[w, k]
                withdrawn[w, k] = withdrawn[w, k] | reenact[k]
    return lapse_arr, some


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


def floor_rows(
    const double[:, :] base, const double[:, :] hawk, const double[:, :] engager,
    const double[:] balance,
):
    """engine.floor_position: ``[n, I]`` the floor's ideal points at each world's balance
    ``β``: ``x0 + max(β, 0)·(x_engagers − x0) + max(−β, 0)·(x_hawks − x0)``."""
    cdef Py_ssize_t n = balance.shape[0], n_i = base.shape[1], w, i, wb, wh, we
    out_arr = np.empty((n, n_i), dtype=np.float64)
    cdef double[:, ::1] out = out_arr
    cdef double up, down, b
    with nogil:
        for w in range(n):
            up = _max(balance[w], 0.0)
            down = _max(-balance[w], 0.0)
            wb, wh = _r(w, base.shape[0], n), _r(w, hawk.shape[0], n)
            we = _r(w, engager.shape[0], n)
            for i in range(n_i):
                b = base[wb, i]
                out[w, i] = b + (up * (engager[we, i] - b) + down * (hawk[wh, i] - b))
    return out_arr


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
    cdef bint some_started = started.shape[0] > 0
    out_arr = np.empty(n, dtype=np.float64)
    cdef double[::1] out = out_arr
    cdef double[::1] terms = np.empty(max(n_k, 1), dtype=np.float64)
    keep_arr = np.asarray(keep)
    cdef bint finite = bool(np.isfinite(keep_arr).all())
    # the steps with a discount in some row of keep: every other term is a zero
    cdef const Py_ssize_t[::1] traded = np.flatnonzero(
        (keep_arr != 0).any(axis=0)).astype(np.intp)
    cdef const uchar* f
    cdef const uchar* s
    cdef double last
    with nogil:
        for w in range(n):
            wk = _r(w, keep.shape[0], n)
            f = &in_force[w, 0]
            s = &started[w, 0] if some_started else NULL
            if finite:
                count = 0
                last = 0.0
                for m in range(traded.shape[0]):
                    k = traded[m]
                    if f[k] and not (s != NULL and s[k]) and keep[wk, k] != 0:
                        count += 1
                        last = keep[wk, k]
                if count < 2:
                    out[w] = last
                    continue
            for k in range(n_k):
                terms[k] = (<double>(f[k] & ((s[k] ^ 1) if s != NULL else 1))) * keep[wk, k]
            out[w] = pairwise_sum(&terms[0], n_k)
    return out_arr
