# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Delays, implementation, the played levels and the outcomes' books, world by world.

Compiled forms of these functions of :mod:`detente.sim.engine` (docs/model.md 2 "Delay",
3, 1, 5 and 4c): ``schedule_starts`` (with ``schedule`` and ``triangular_delay``),
``implement``, ``played_levels`` (the posture, ``posture``), ``costs_and_reciprocity`` and the
reform share of ``record_metrics``: the same float64 operations, in the same order, as the
NumPy formulation they replaced. The products of a mask of steps with the steps' effects,
gestures or costs went to BLAS, whose summation order is not sequential (and differs with
the shapes): a sum of the picked rows is formed here only where its order cannot matter (no
more than two nonzero terms, :mod:`detente.sim.native.step_sums`), and the product is asked
of BLAS otherwise; products with real weights (the posture's) stay in NumPy.

Arrays with a leading axis of 1 (``*_rows``) are shared by all worlds; otherwise world ``w``
reads row ``w`` (a per-world leaf of a stacked run, docs/model.md "Stacked states"). The
delays of :func:`schedule` and :func:`schedule_starts` may also have one row per state of a
stacked run: world ``w`` of ``n`` reads row ``w * m // n`` of ``m``
(:func:`detente.sim.native.rows.row_of`).
"""

from libc.float cimport DBL_MAX
from libc.math cimport rint, sqrt
from libc.string cimport memcpy, memset

from detente.sim.native.pcg64 cimport pcg64_init, pcg64_uniform
from detente.sim.native.rows cimport any_set, row_of
from detente.sim.native.step_sums cimport finite_matrix, finite_rows, order_free, picked_sum, step_sum

import numpy as np

pcg64_init()


cdef struct Uniforms:
    # one side's delay uniforms ``[n, K]`` this step: read from ``values`` (``u[w, k]`` at
    # ``values[w * row + k * col]``) or, where ``values`` is NULL, computed from the
    # stream's block states (``states``: ``[blocks, 4]``; world ``w`` is world
    # ``w % n_each`` of state ``w // n_each``, whose blocks of ``block`` worlds come in
    # turn; each world draws ``steps`` x ``width`` numbers, step-major)
    const double* values
    Py_ssize_t row, col
    const unsigned long long* states
    Py_ssize_t n_each, block, steps, width, t


cdef inline double _uniform(const Uniforms* u, Py_ssize_t w, Py_ssize_t k) noexcept nogil:
    """The uniform of world ``w`` and instrument ``k`` this step."""
    cdef Py_ssize_t state, local, blk
    if u.values != NULL:
        return u.values[w * u.row + k * u.col]
    state = w // u.n_each
    local = w - state * u.n_each
    blk = local // u.block
    return pcg64_uniform(
        &u.states[4 * (state * ((u.n_each + u.block - 1) // u.block) + blk)],
        <unsigned long long>(((local - blk * u.block) * u.steps + u.t) * u.width + k + 1))


cdef Uniforms _given(const double[:, :] u) noexcept:
    """:class:`Uniforms` reading the array ``u``."""
    cdef Uniforms src
    src.values = &u[0, 0] if u.shape[0] > 0 and u.shape[1] > 0 else NULL
    src.row = u.strides[0] // sizeof(double)
    src.col = u.strides[1] // sizeof(double)
    src.states = NULL
    src.n_each, src.block, src.steps, src.width, src.t = 1, 1, 0, 0, 0
    return src


cdef Uniforms _streamed(
    const unsigned long long[:, ::1] states, Py_ssize_t n_each, Py_ssize_t block,
    Py_ssize_t steps, Py_ssize_t width, Py_ssize_t t,
) noexcept:
    """:class:`Uniforms` computed from a stream's block states."""
    cdef Uniforms src
    src.values = NULL
    src.row, src.col = 0, 0
    src.states = &states[0, 0] if states.shape[0] > 0 else NULL
    src.n_each, src.block, src.steps, src.width, src.t = n_each, block, steps, width, t
    return src


def stream_uniforms(
    const unsigned long long[:, ::1] states, Py_ssize_t n_each, Py_ssize_t block,
    Py_ssize_t steps, Py_ssize_t width, const long[:] w, const long[:] t, const long[:] k,
):
    """The uniforms ``u[w[m], t[m], k[m]]`` of a stream given by its block states (the
    numbers ``WorldRNG.random(steps, width)`` would draw; :class:`Uniforms`)."""
    cdef Py_ssize_t m, n = w.shape[0]
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    cdef Uniforms src = _streamed(states, n_each, block, steps, width, 0)
    for m in range(n):
        src.t = t[m]
        out[m] = _uniform(&src, w[m], k[m])
    return out_arr


cdef inline double _triangular(double a, double c, double b, double u) noexcept nogil:
    """Inverse CDF of the triangular distribution (low ``a``, mode ``c``, high ``b``) at ``u``."""
    cdef double w = b - a, x
    if not (w > 0):
        return c
    if u < (c - a) / w:
        x = u * w * (c - a)
        return a + sqrt(0.0 if x < 0 else x)
    x = (1 - u) * w * (b - c)
    return b - sqrt(0.0 if x < 0 else x)


def triangular_delays(
    const double[:, :] low_rows,
    const double[:, :] mode_rows,
    const double[:, :] high_rows,
    const long[:] k,
    const double[:] u,
    const long[:] w,
):
    """Instrument ``k[m]``'s triangular delay at uniform ``u[m]`` in world ``w[m]``."""
    cdef Py_ssize_t m, n = u.shape[0]
    cdef bint l_world = low_rows.shape[0] > 1, m_world = mode_rows.shape[0] > 1
    cdef bint h_world = high_rows.shape[0] > 1
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    with nogil:
        for m in range(n):
            out[m] = _triangular(low_rows[w[m] if l_world else 0, k[m]],
                                 mode_rows[w[m] if m_world else 0, k[m]],
                                 high_rows[w[m] if h_world else 0, k[m]], u[m])
    return out_arr


cdef void _schedule(
    const unsigned char[:, ::1] approved, const Uniforms* u, long[:, ::1] start,
    const double[:, ::1] low, const double[:, ::1] mode, const double[:, ::1] high, long t,
) noexcept nogil:
    # most worlds approve nothing this step: their rows are passed over at once
    cdef Py_ssize_t n = approved.shape[0], n_k = approved.shape[1], w, k, wl, wm, wh
    cdef Py_ssize_t m_l = low.shape[0], m_m = mode.shape[0], m_h = high.shape[0]
    cdef const unsigned char* row
    for w in range(n):
        row = &approved[w, 0]
        if not any_set(row, n_k):
            continue
        wl = row_of(w, m_l, n)
        wm = row_of(w, m_m, n)
        wh = row_of(w, m_h, n)
        for k in range(n_k):
            if row[k]:
                start[w, k] = t + <long>rint(
                    _triangular(low[wl, k], mode[wm, k], high[wh, k], _uniform(u, w, k)))


def schedule(
    const unsigned char[:, ::1] approved,
    const double[:, :] u,
    long[:, ::1] start,
    const double[:, ::1] low_rows,
    const double[:, ::1] mode_rows,
    const double[:, ::1] high_rows,
    long t,
):
    """``start = t + rint(delay)`` in place where ``approved`` (one side), the delays'
    uniforms read from ``u`` (``[n, K]``)."""
    cdef Uniforms src = _given(u)
    with nogil:
        _schedule(approved, &src, start, low_rows, mode_rows, high_rows, t)


def schedule_starts(
    const unsigned char[:, ::1] approved_f,
    const unsigned char[:, ::1] approved_o,
    const unsigned char[:, ::1] forced,
    const unsigned long long[:, ::1] states_f,
    const unsigned long long[:, ::1] states_o,
    Py_ssize_t n_each,
    Py_ssize_t block,
    Py_ssize_t steps,
    long[:, ::1] f_start,
    long[:, ::1] o_start,
    unsigned char[:] f_offered,
    const double[:, ::1] low_f,
    const double[:, ::1] mode_f,
    const double[:, ::1] high_f,
    const double[:, ::1] low_o,
    const double[:, ::1] mode_o,
    const double[:, ::1] high_o,
    const unsigned char[:, ::1] gest_pos_rows,
    long t,
):
    """Both sides' start steps and the focal offer, in place.

    ``forced`` has no rows when nothing is forced this step. The delays' uniforms are
    computed from the block states of the streams ``sim/delay-us`` and ``sim/delay-iran``
    (``[blocks, 4]``, :func:`detente.sim.rng.WorldRNG.block_states`; ``n_each`` worlds per
    state, ``block`` worlds per block, ``steps`` per world), only where a step is approved:
    the numbers ``random(steps, K)`` of the streams would give.
    """
    cdef Py_ssize_t n = approved_f.shape[0], n_k = approved_f.shape[1], w, k
    cdef bint g_world = gest_pos_rows.shape[0] > 1, has_forced = forced.shape[0] > 0
    cdef const unsigned char* app
    cdef const unsigned char* frc
    cdef const unsigned char* gp
    cdef unsigned char offer
    cdef Uniforms u_f = _streamed(states_f, n_each, block, steps, max(n_k, 1), t)
    cdef Uniforms u_o = _streamed(states_o, n_each, block, steps, max(approved_o.shape[1], 1), t)
    with nogil:
        _schedule(approved_f, &u_f, f_start, low_f, mode_f, high_f, t)
        for w in range(n):
            # most worlds approve and force nothing: no offer to look for
            app = &approved_f[w, 0]
            frc = &forced[w, 0] if has_forced else NULL
            if not (any_set(app, n_k) or (has_forced and any_set(frc, n_k))):
                continue
            gp = &gest_pos_rows[w if g_world else 0, 0]
            offer = 0
            if has_forced:
                for k in range(n_k):
                    offer = offer | (gp[k] & (app[k] | frc[k]))
            else:
                for k in range(n_k):
                    offer = offer | (gp[k] & app[k])
            if offer:
                f_offered[w] = 1
        _schedule(approved_o, &u_o, o_start, low_o, mode_o, high_o, t)


cdef inline void _start_step(
    unsigned char* active, long* start, const unsigned char* withdrawn,
    const unsigned char* forced, unsigned char* new, long* since, Py_ssize_t j, long t,
    long never,
) noexcept nogil:
    # step j: bools are 0 or 1, so & and | are the logical ops; a step neither withdrawn,
    # due (start <= t) nor forced is passed over
    cdef unsigned char nw, dropped, act, visit
    dropped = withdrawn[j]
    visit = dropped | (start[j] <= t)
    if forced != NULL:
        visit = visit | forced[j]
    if visit == 0:
        new[j] = 0
        return
    act = active[j] & (dropped ^ 1)
    nw = (act ^ 1) & (start[j] <= t)
    if forced != NULL:
        nw = nw | forced[j]
    new[j] = nw
    active[j] = act | nw
    if nw and since != NULL:
        since[j] = t
    if nw | dropped:
        start[j] = never


cdef void _start_due(
    unsigned char* active, long* start, const unsigned char* withdrawn,
    const unsigned char* forced, unsigned char* new, long* since,
    Py_ssize_t size, long t, long never,
) noexcept nogil:
    # over the flat [n * K] arrays, eight steps at a time: most steps neither leave nor
    # start (not withdrawn, not due, not forced), and a block of eight such is passed over
    # at once (no step started: new = 0)
    cdef Py_ssize_t j = 0, i
    cdef unsigned long long dropped, pushed, none = 0
    cdef unsigned char due
    while j + 8 <= size:
        memcpy(&dropped, withdrawn + j, 8)
        pushed = 0
        if forced != NULL:
            memcpy(&pushed, forced + j, 8)
        due = 0
        for i in range(j, j + 8):
            due = due | (start[i] <= t)
        if (dropped | pushed) == 0 and due == 0:
            memcpy(new + j, &none, 8)
        else:
            for i in range(j, j + 8):
                _start_step(active, start, withdrawn, forced, new, since, i, t, never)
        j += 8
    for i in range(j, size):
        _start_step(active, start, withdrawn, forced, new, since, i, t, never)


def start_due(
    unsigned char[:, ::1] f_active,
    unsigned char[:, ::1] o_active,
    long[:, ::1] f_start,
    long[:, ::1] o_start,
    long[:, ::1] f_since,
    const unsigned char[:, ::1] withdrawn_f,
    const unsigned char[:, ::1] withdrawn_o,
    const unsigned char[:, ::1] forced,
    long t,
    long never,
):
    """Withdrawn steps leave force; steps due (and forced ones) start; in place.

    Returns the steps started, ``(new_f, new_o)`` (bool). ``forced`` has no rows when
    nothing is forced this step.
    """
    cdef Py_ssize_t n = f_active.shape[0], n_f = f_active.shape[1], n_o = o_active.shape[1]
    new_f_arr = np.empty((n, n_f), dtype=np.bool_)
    new_o_arr = np.empty((n, n_o), dtype=np.bool_)
    cdef unsigned char[:, ::1] new_f = new_f_arr.view(np.uint8)
    cdef unsigned char[:, ::1] new_o = new_o_arr.view(np.uint8)
    cdef const unsigned char* forced_f = &forced[0, 0] if forced.shape[0] > 0 else NULL
    if n == 0:
        return new_f_arr, new_o_arr
    with nogil:
        if n_f:
            _start_due(&f_active[0, 0], &f_start[0, 0], &withdrawn_f[0, 0], forced_f,
                       &new_f[0, 0], &f_since[0, 0], n * n_f, t, never)
        if n_o:
            _start_due(&o_active[0, 0], &o_start[0, 0], &withdrawn_o[0, 0], NULL,
                       &new_o[0, 0], NULL, n * n_o, t, never)
    return new_f_arr, new_o_arr


cdef inline void _moved_level(
    double* lv, const double* a, const double* b, bint minus, const double* lo,
    const double* hi, Py_ssize_t n_i,
) noexcept nogil:
    """``clip(lv ± a + b, lo, hi)`` in place (``b`` NULL: ``clip(lv ± a)``)."""
    cdef Py_ssize_t i
    cdef double x
    if b != NULL:
        if minus:
            for i in range(n_i):
                x = (lv[i] - a[i]) + b[i]
                x = lo[i] if x < lo[i] else x
                lv[i] = hi[i] if x > hi[i] else x
        else:
            for i in range(n_i):
                x = (lv[i] + a[i]) + b[i]
                x = lo[i] if x < lo[i] else x
                lv[i] = hi[i] if x > hi[i] else x
    elif minus:
        for i in range(n_i):
            x = lv[i] - a[i]
            x = lo[i] if x < lo[i] else x
            lv[i] = hi[i] if x > hi[i] else x
    else:
        for i in range(n_i):
            x = lv[i] + a[i]
            x = lo[i] if x < lo[i] else x
            lv[i] = hi[i] if x > hi[i] else x


def move_levels(
    double[:, ::1] level,
    const unsigned char[:, ::1] steps_a,
    const double[:, :, ::1] effects_a,
    const unsigned char[:, ::1] steps_b,
    const double[:, :, ::1] effects_b,
    const double[:, ::1] moves_a,
    const double[:, ::1] moves_b,
    double sign,
    const double[:, ::1] low_rows,
    const double[:, ::1] high_rows,
):
    """``level = clip(level + a + b, low, high)`` in place (``level - a + b`` where
    ``sign < 0``): ``a``, ``b`` the sums of the effects of the steps ``steps_a``,
    ``steps_b`` pick (``[n, K]``; ``effects_*`` ``[m, K, I]``, one matrix or one per state,
    row ``w * m // n``); ``steps_b`` without rows: no ``b``.

    The sums are formed here, in the steps' order, where that order cannot matter
    (:func:`~detente.sim.native.step_sums.order_free`); otherwise nothing is changed and
    False is returned, and the caller gives the moves ``moves_a``, ``moves_b`` (``[n, I]``,
    the masks' products with the effects by BLAS; no rows: sums formed here; ``moves_b``
    without rows: no ``b``), which are then used as they are.
    """
    cdef Py_ssize_t n = level.shape[0], n_i = level.shape[1], w
    cdef Py_ssize_t m_l = low_rows.shape[0], m_h = high_rows.shape[0]
    cdef bint given = moves_a.shape[0] > 0
    cdef bint two = moves_b.shape[0] > 0 if given else steps_b.shape[0] > 0
    cdef bint minus = sign < 0, free
    count_arr = np.empty(n_i, dtype=np.intc)
    sums_arr = np.empty(3 * n_i)
    cdef int[::1] count = count_arr
    cdef double[::1] sums = sums_arr
    cdef Py_ssize_t k_a = steps_a.shape[1], k_b = steps_b.shape[1], i
    cdef Py_ssize_t m_a = effects_a.shape[0], m_b = effects_b.shape[0]
    cdef double* a
    cdef double* b
    cdef double* zero
    cdef const double* move_a
    cdef const double* move_b
    cdef unsigned char[::1] flags
    if n == 0 or n_i == 0:
        return True
    a = &sums[0]
    b = a + n_i if two else NULL
    zero = &sums[2 * n_i]
    if not given:
        # which worlds have steps on each side (most have none), and whether their sums'
        # order could matter
        flags_arr = np.zeros(n, dtype=np.uint8)
        flags = flags_arr
        with nogil:
            free = (k_a == 0 or finite_rows(effects_a)) and (
                not two or k_b == 0 or finite_rows(effects_b))
            w = 0
            while free and w < n:
                if k_a and any_set(&steps_a[w, 0], k_a):
                    flags[w] = 1
                    free = order_free(&steps_a[w, 0], &effects_a[row_of(w, m_a, n), 0, 0],
                                      k_a, n_i, &count[0])
                if two and k_b and any_set(&steps_b[w, 0], k_b):
                    flags[w] = flags[w] | 2
                    free = free and order_free(
                        &steps_b[w, 0], &effects_b[row_of(w, m_b, n), 0, 0], k_b, n_i, &count[0])
                w += 1
        if not free:
            return False
    with nogil:
        for i in range(2 * n_i, 3 * n_i):
            sums[i] = 0.0
        for w in range(n):
            if given:
                move_a = &moves_a[w, 0]
                move_b = &moves_b[w, 0] if two else NULL
            else:
                move_a = zero
                move_b = zero if two else NULL
                if flags[w] & 1:
                    step_sum(&steps_a[w, 0], &effects_a[row_of(w, m_a, n), 0, 0], k_a, n_i, a)
                    move_a = a
                if flags[w] & 2:
                    step_sum(&steps_b[w, 0], &effects_b[row_of(w, m_b, n), 0, 0], k_b, n_i, b)
                    move_b = b
            _moved_level(&level[w, 0], move_a, move_b, minus,
                         &low_rows[row_of(w, m_l, n), 0], &high_rows[row_of(w, m_h, n), 0], n_i)
    return True


cdef void _weights(
    const unsigned char[:, ::1] active, const long[:, ::1] start, const double[:] aw,
    long never, double[:, ::1] out,
) noexcept nogil:
    # active + announce_weight * pending, pending = start < NEVER & ~active (as NumPy, in
    # float64: the weight is 1, announce_weight or 0); the expression has four values per
    # world, one per (active, pending), computed once and looked up
    cdef Py_ssize_t n = active.shape[0], n_k = active.shape[1], w, k, j = 0, size
    cdef bint a_world = aw.shape[0] > 1
    cdef double a
    cdef double value[4]
    cdef unsigned char pend
    cdef unsigned long long act8
    cdef const unsigned char* ac
    cdef const long* st
    cdef double* o
    if n == 0 or n_k == 0:
        return
    if not a_world:
        # one table for every world: the flat [n * K] steps eight at a time, a block with
        # none in force nor pending (the most) all value[0]
        a = aw[0]
        value[0] = <double>0 + a * <double>0
        value[1] = <double>0 + a * <double>1
        value[2] = <double>1 + a * <double>0
        ac, st, o, size = &active[0, 0], &start[0, 0], &out[0, 0], n * n_k
        while j + 8 <= size:
            memcpy(&act8, ac + j, 8)
            pend = 0
            for k in range(j, j + 8):
                pend = pend | (st[k] < never)
            if act8 == 0 and pend == 0:
                for k in range(j, j + 8):
                    o[k] = value[0]
            else:
                for k in range(j, j + 8):
                    o[k] = value[2] if ac[k] else (value[1] if st[k] < never else value[0])
            j += 8
        for k in range(j, size):
            o[k] = value[2] if ac[k] else (value[1] if st[k] < never else value[0])
        return
    for w in range(n):
        if w == 0 or a_world:
            a = aw[w] if a_world else aw[0]
            value[0] = <double>0 + a * <double>0
            value[1] = <double>0 + a * <double>1
            value[2] = <double>1 + a * <double>0
            value[3] = <double>1 + a * <double>1
        ac = &active[w, 0]
        st = &start[w, 0]
        o = &out[w, 0]
        # in force: value[2]; else pending (start < never): value[1]; else value[0]
        for k in range(n_k):
            o[k] = value[2] if ac[k] else (value[1] if st[k] < never else value[0])


def posture_weights(
    const unsigned char[:, ::1] f_active,
    const long[:, ::1] f_start,
    const unsigned char[:, ::1] o_active,
    const long[:, ::1] o_start,
    const double[:] announce_weight,
    long never,
):
    """Each side's weight of its steps in the posture: 1 in force, ``announce_weight`` pending."""
    w_f_arr = np.empty((f_active.shape[0], f_active.shape[1]))
    w_o_arr = np.empty((o_active.shape[0], o_active.shape[1]))
    cdef double[:, ::1] w_f = w_f_arr, w_o = w_o_arr
    with nogil:
        _weights(f_active, f_start, announce_weight, never, w_f)
        _weights(o_active, o_start, announce_weight, never, w_o)
    return w_f_arr, w_o_arr


cdef inline double _share(double num, double den) noexcept nogil:
    return num / den if den > 0 else 0.0


cdef inline double _level(double nl, double conc, double host) noexcept nogil:
    cdef double x = nl + (1 - nl) * conc - nl * host
    if x < 0.0:
        x = 0.0
    if x > 1.0:
        x = 1.0
    return x


def posture_levels(
    const double[:] conc_sum,
    const double[:] host_sum,
    const double[:] sp,
    const double[:] sn,
    const double[:] neutral,
):
    """:func:`detente.sim.engine.posture`'s ``(level, conc, host)`` from the weighted sums."""
    cdef Py_ssize_t n = conc_sum.shape[0], w
    cdef bint p_world = sp.shape[0] > 1, n_world = sn.shape[0] > 1
    cdef bint l_world = neutral.shape[0] > 1
    level_arr, conc_arr, host_arr = np.empty(n), np.empty(n), np.empty(n)
    cdef double[::1] level = level_arr, conc = conc_arr, host = host_arr
    with nogil:
        for w in range(n):
            conc[w] = _share(conc_sum[w], sp[w if p_world else 0])
            host[w] = _share(host_sum[w], sn[w if n_world else 0])
            level[w] = _level(neutral[w if l_world else 0], conc[w], host[w])
    return level_arr, conc_arr, host_arr


def played_levels(
    const double[:] conc_f,
    const double[:] host_f,
    const double[:] conc_o,
    const double[:] host_o,
    const double[:] sp_f,
    const double[:] sn_f,
    const double[:] sp_o,
    const double[:] sn_o,
    const double[:] neutral,
    double[:] own_f,
    double[:] own_o,
):
    """Both sides' played levels, written to their histories ``own_*`` (step columns).

    Returns ``(played_f, played_o, hostile_f)``, the last the focal hostile share.
    """
    cdef Py_ssize_t n = conc_f.shape[0], w
    cdef bint l_world = neutral.shape[0] > 1
    cdef bint pf = sp_f.shape[0] > 1, nf = sn_f.shape[0] > 1
    cdef bint po = sp_o.shape[0] > 1, no = sn_o.shape[0] > 1
    cdef double nl, h
    play_f_arr, play_o_arr, hostile_arr = np.empty(n), np.empty(n), np.empty(n)
    cdef double[::1] play_f = play_f_arr, play_o = play_o_arr, hostile = hostile_arr
    with nogil:
        for w in range(n):
            nl = neutral[w if l_world else 0]
            h = _share(host_f[w], sn_f[w if nf else 0])
            hostile[w] = h
            play_f[w] = _level(nl, _share(conc_f[w], sp_f[w if pf else 0]), h)
            play_o[w] = _level(nl, _share(conc_o[w], sp_o[w if po else 0]),
                               _share(host_o[w], sn_o[w if no else 0]))
            own_f[w] = play_f[w]
            own_o[w] = play_o[w]
    return play_f_arr, play_o_arr, hostile_arr


def started_weights(
    const unsigned char[:, ::1] new_f,
    const unsigned char[:, ::1] new_o,
    const unsigned char[:, ::1] f_by_leg,
    const double[::1] factor,
    const unsigned char[:, ::1] conciliatory,
):
    """The steps started as weights of the cost and gesture sums (section 5, 4c).

    Returns ``(new_f, new_o)`` as 0/1 floats and ``paid``: the executive's own steps started
    (not the legislature's acts) times their cost multiplier, the trade's ``factor[w]`` for
    ``conciliatory`` steps (1 or n rows), 1 for the others (congress.trade_discount).
    """
    cdef Py_ssize_t n = new_f.shape[0], n_f = new_f.shape[1], n_o = new_o.shape[1], w, k
    cdef bint c_world = conciliatory.shape[0] > 1
    cdef const unsigned char* conc
    cdef const unsigned char* nw
    cdef const unsigned char* leg
    cdef double* o
    cdef double fw
    cdef double value[4]  # paid for (started by the executive, conciliatory): as computed
    nf_arr, no_arr, paid_arr = np.empty((n, n_f)), np.empty((n, n_o)), np.empty((n, n_f))
    cdef double[:, ::1] nf = nf_arr, no = no_arr, paid = paid_arr
    # most worlds start nothing: their rows are +0.0 (0 times a multiplier >= 0 and finite)
    with nogil:
        for w in range(n):
            nw = &new_f[w, 0]
            fw = factor[w]
            if not any_set(nw, n_f) and 0 <= fw <= DBL_MAX:
                memset(&nf[w, 0], 0, n_f * sizeof(double))
                memset(&paid[w, 0], 0, n_f * sizeof(double))
            else:
                conc = &conciliatory[w if c_world else 0, 0]
                leg = &f_by_leg[w, 0]
                value[0] = <double>0 * 1.0
                value[1] = <double>0 * fw
                value[2] = <double>1 * 1.0
                value[3] = <double>1 * fw
                o = &nf[w, 0]
                for k in range(n_f):
                    o[k] = <double>nw[k]
                o = &paid[w, 0]
                for k in range(n_f):
                    o[k] = value[2 * (nw[k] & (leg[k] ^ 1)) + conc[k]]
            nw = &new_o[w, 0]
            o = &no[w, 0]
            if not any_set(nw, n_o):
                memset(o, 0, n_o * sizeof(double))
            else:
                for k in range(n_o):
                    o[k] = <double>nw[k]
    return nf_arr, no_arr, paid_arr


cdef inline void _book_costs(
    double gest_f, double gest_o, double paid_cost, unsigned char offered, long first_in,
    double u_in, double c_in, double keep, double naivety, long horizon, long t,
    long* first, double* u_out, double* c_out,
) noexcept nogil:
    """One world's time to reciprocation, unreciprocated concessions and cost (section 5)."""
    cdef double u
    if gest_o > 0 and offered and first_in > horizon:
        first[0] = t + 1
    else:
        first[0] = first_in
    u = u_in + gest_f - gest_o
    if not (u > 0.0 or u != u):
        u = 0.0
    u_out[0] = u
    c_out[0] = keep * c_in + paid_cost + naivety * u


def book_costs(
    const double[:] gest_f,
    const double[:] gest_o,
    const double[:] paid_cost,
    const unsigned char[:] f_offered,
    const long[:] first_reciprocation,
    const double[:] unreciprocated,
    const double[:] cost,
    const double[:] keep,
    const double[:] naivety,
    long horizon,
    long t,
):
    """The time to reciprocation, unreciprocated concessions ``U`` and the cost ``C``.

    ``gest_*`` are the conciliatory gestures started, ``paid_cost`` the cost of the steps
    paid for, ``keep`` is ``1 - us_cost_decay``. Returns the new ``(first_reciprocation,
    unreciprocated, cost)``.
    """
    cdef Py_ssize_t n = gest_f.shape[0], w
    cdef bint k_world = keep.shape[0] > 1, v_world = naivety.shape[0] > 1
    first_arr = np.empty(n, dtype=np.int64)
    u_arr, c_arr = np.empty(n), np.empty(n)
    cdef long[::1] first = first_arr
    cdef double[::1] u_new = u_arr, c_new = c_arr
    with nogil:
        for w in range(n):
            _book_costs(gest_f[w], gest_o[w], paid_cost[w], f_offered[w],
                        first_reciprocation[w], unreciprocated[w], cost[w],
                        keep[w if k_world else 0], naivety[w if v_world else 0], horizon, t,
                        &first[w], &u_new[w], &c_new[w])
    return first_arr, u_arr, c_arr


cdef inline Py_ssize_t _terms(
    const unsigned char* steps, const double* values, Py_ssize_t n_k,
) noexcept nogil:
    """How many of the ``values`` the set ``steps`` pick are nonzero."""
    cdef Py_ssize_t k, count = 0
    for k in range(n_k):
        count += steps[k] & (values[k] != 0.0)
    return count


def started_costs(
    const unsigned char[:, ::1] new_f,
    const unsigned char[:, ::1] new_o,
    const unsigned char[:, ::1] f_by_leg,
    const double[::1] factor,
    const unsigned char[:, ::1] conciliatory,
    const double[:, ::1] gp_f_rows,
    const double[:, ::1] gp_o_rows,
    const double[:, ::1] cost_rows,
    const unsigned char[:] f_offered,
    const long[:] first_reciprocation,
    const double[:] unreciprocated,
    const double[:] cost,
    const double[:] keep,
    const double[:] naivety,
    long horizon,
    long t,
):
    """:func:`book_costs` of the steps started (``new_*``), with the sums over them formed
    here: the conciliatory gestures started (``gp_*_rows``) and the cost of the steps paid for
    (:func:`started_weights`' ``paid`` times ``cost_rows``), each ``[m, K]`` (one row, or one
    per state: row ``w * m // n``).

    Returns ``(first_reciprocation, unreciprocated, cost)``, or None (nothing computed) where
    the order of a sum could matter: more than two nonzero terms, two with one weighted by a
    trade's ``factor`` (BLAS may fuse its product with the addition), or something not
    finite. The caller then forms the sums with BLAS (:func:`started_weights`).
    """
    cdef Py_ssize_t n = new_f.shape[0], k_f = new_f.shape[1], k_o = new_o.shape[1], w, k
    cdef Py_ssize_t m_gf = gp_f_rows.shape[0], m_go = gp_o_rows.shape[0]
    cdef Py_ssize_t m_c = cost_rows.shape[0], m_conc = conciliatory.shape[0]
    cdef bint k_world = keep.shape[0] > 1, v_world = naivety.shape[0] > 1
    cdef bint free = True, discounted
    cdef const unsigned char* nw
    cdef const unsigned char* leg
    cdef const unsigned char* conc
    cdef const double* c_row
    cdef const double* g_row
    cdef double fw, gest_f, gest_o, paid_cost
    cdef Py_ssize_t paid_terms
    first_arr = np.empty(n, dtype=np.int64)
    u_arr, c_arr = np.empty(n), np.empty(n)
    cdef long[::1] first = first_arr
    cdef double[::1] u_new = u_arr, c_new = c_arr
    with nogil:
        free = (finite_matrix(gp_f_rows) and finite_matrix(gp_o_rows)
                and finite_matrix(cost_rows))
        w = 0
        while free and w < n:
            fw = factor[w]
            gest_f = gest_o = paid_cost = 0.0
            nw = &new_f[w, 0]
            if not (-DBL_MAX <= fw <= DBL_MAX):
                free = False
            elif k_f and any_set(nw, k_f):
                leg = &f_by_leg[w, 0]
                conc = &conciliatory[row_of(w, m_conc, n), 0]
                c_row = &cost_rows[row_of(w, m_c, n), 0]
                g_row = &gp_f_rows[row_of(w, m_gf, n), 0]
                paid_terms = 0
                discounted = False
                for k in range(k_f):
                    if nw[k] & (leg[k] ^ 1):
                        paid_cost = paid_cost + (fw if conc[k] else 1.0) * c_row[k]
                        if c_row[k] != 0.0:
                            paid_terms += 1
                            if conc[k] and fw != 1.0:
                                discounted = True
                gest_f = picked_sum(nw, g_row, k_f)
                free = (paid_terms <= 2 and not (paid_terms == 2 and discounted)
                        and _terms(nw, g_row, k_f) <= 2)
            nw = &new_o[w, 0]
            if free and k_o and any_set(nw, k_o):
                g_row = &gp_o_rows[row_of(w, m_go, n), 0]
                gest_o = picked_sum(nw, g_row, k_o)
                free = _terms(nw, g_row, k_o) <= 2
            if free:
                _book_costs(gest_f, gest_o, paid_cost, f_offered[w], first_reciprocation[w],
                            unreciprocated[w], cost[w], keep[w if k_world else 0],
                            naivety[w if v_world else 0], horizon, t, &first[w], &u_new[w],
                            &c_new[w])
            w += 1
    if not free:
        return None
    return first_arr, u_arr, c_arr


cdef inline void _record_gestures(
    const unsigned char* new, unsigned char* counted, const double* gp, const double* gn,
    Py_ssize_t n_k, double* reciprocated, double* hostile,
) noexcept nogil:
    """One world's record between focal elections (docs/model.md 4b): the internal side's
    steps started and not yet counted this term add their conciliatory gestures to
    ``reciprocated`` and give the sum of their hostile ones, ``hostile`` (in the steps'
    order; the menacing shocks are added to it by the caller)."""
    cdef Py_ssize_t k
    cdef double pos = 0.0, neg = 0.0
    cdef unsigned char fresh
    for k in range(n_k):
        fresh = new[k] & (counted[k] ^ 1)
        counted[k] = counted[k] | new[k]
        if fresh:
            pos = pos + gp[k]
            neg = neg + gn[k]
    reciprocated[0] = reciprocated[0] + pos
    hostile[0] = neg


def record_gestures(
    const unsigned char[:, ::1] new_o,
    unsigned char[:, ::1] counted,
    const double[:, ::1] gp_rows,
    const double[:, ::1] gn_rows,
    const double[::1] menace_hits,
    double[::1] reciprocated,
    double[::1] hostile,
):
    """:func:`_record_gestures` of every world, in place, and ``hostile += (gestures +
    menace_hits)`` (``gp_rows``, ``gn_rows``: the internal side's conciliatory and hostile
    gestures, ``[m, K]``, one row or one per state, row ``w * m // n``). A world that started
    nothing adds ``+0.0`` to ``reciprocated``: the sum is never ``-0.0``, so that is left out.

    Where a world's gesture sums could depend on their order (more than two nonzero terms;
    something not finite) nothing is changed and False is returned: the caller then forms
    them from BLAS's products, as before.
    """
    cdef Py_ssize_t n = new_o.shape[0], n_k = new_o.shape[1], w, k, j, n_started = 0
    cdef Py_ssize_t m_p = gp_rows.shape[0], m_n = gn_rows.shape[0]
    cdef const unsigned char* nw
    cdef const unsigned char* seen
    cdef const double* gp
    cdef const double* gn
    cdef Py_ssize_t pos_terms, neg_terms
    cdef bint free = True
    started_arr = np.empty(n, dtype=np.intp)
    neg_arr = np.zeros(n)
    cdef Py_ssize_t[::1] started = started_arr
    cdef double[::1] neg = neg_arr
    if n == 0:
        return True
    with nogil:
        free = finite_matrix(gp_rows) and finite_matrix(gn_rows)
        w = 0
        while free and n_k and w < n:
            nw = &new_o[w, 0]
            if any_set(nw, n_k):
                started[n_started] = w
                n_started += 1
                seen = &counted[w, 0]
                gp = &gp_rows[row_of(w, m_p, n), 0]
                gn = &gn_rows[row_of(w, m_n, n), 0]
                pos_terms = neg_terms = 0
                for k in range(n_k):
                    if nw[k] & (seen[k] ^ 1):
                        pos_terms += gp[k] != 0.0
                        neg_terms += gn[k] != 0.0
                free = pos_terms <= 2 and neg_terms <= 2
            w += 1
    if not free:
        return False
    with nogil:
        for j in range(n_started):
            w = started[j]
            _record_gestures(&new_o[w, 0], &counted[w, 0], &gp_rows[row_of(w, m_p, n), 0],
                             &gn_rows[row_of(w, m_n, n), 0], n_k, &reciprocated[w], &neg[w])
        for w in range(n):
            hostile[w] = hostile[w] + (neg[w] + menace_hits[w])
    return True
