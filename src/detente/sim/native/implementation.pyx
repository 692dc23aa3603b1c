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


cdef extern from *:
    """
    /* whether any of eight starts differs from v: their XORs with v ORed, two at a time
       where the compiler has vector types (SSE2 has no 64-bit comparison) */
    static inline int detente_any_differ8(const long *s, long v) {
    #if defined(__GNUC__)
        typedef long long detente_v2 __attribute__((vector_size(16)));
        detente_v2 x0, x1, x2, x3, acc, vv = {v, v};
        memcpy(&x0, s, 16);
        memcpy(&x1, s + 2, 16);
        memcpy(&x2, s + 4, 16);
        memcpy(&x3, s + 6, 16);
        acc = ((x0 ^ vv) | (x1 ^ vv)) | ((x2 ^ vv) | (x3 ^ vv));
        return (acc[0] | acc[1]) != 0;
    #else
        unsigned long long acc = 0;
        for (int i = 0; i < 8; i++)
            acc |= (unsigned long long)(s[i] ^ v);
        return acc != 0;
    #endif
    }

    /* the same of sixteen starts, one horizontal OR */
    static inline int detente_any_differ16(const long *s, long v) {
    #if defined(__GNUC__)
        typedef long long detente_v2 __attribute__((vector_size(16)));
        detente_v2 x[8], acc, vv = {v, v};
        int i;
        for (i = 0; i < 8; i++)
            memcpy(&x[i], s + 2 * i, 16);
        acc = (((x[0] ^ vv) | (x[1] ^ vv)) | ((x[2] ^ vv) | (x[3] ^ vv)))
              | (((x[4] ^ vv) | (x[5] ^ vv)) | ((x[6] ^ vv) | (x[7] ^ vv)));
        return (acc[0] | acc[1]) != 0;
    #else
        return detente_any_differ8(s, v) || detente_any_differ8(s + 8, v);
    #endif
    }
    """
    bint any_differ8 "detente_any_differ8"(const long* s, long v) noexcept nogil
    bint any_differ16 "detente_any_differ16"(const long* s, long v) noexcept nogil


cdef extern from *:
    """
    /* table[b][i] = value[2 * bit i of b]: the weights of four steps none pending, b their
       in-force bits */
    static void detente_weight_table(const double *value, double (*table)[4]) {
        for (int b = 0; b < 16; b++)
            for (int i = 0; i < 4; i++)
                table[b][i] = value[2 * ((b >> i) & 1)];
    }

    /* the weights of eight steps none pending, from their in-force bytes (0 or 1): the
       bytes' bits gathered by one product (little-endian), four weights copied at once */
    static inline void detente_weights8(const unsigned char *active,
                                        const double (*table)[4], const double *value,
                                        double *out) {
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        unsigned long long x;
        memcpy(&x, active, 8);
        const unsigned int bits = (unsigned int)(
            ((x & 0x0101010101010101ULL) * 0x0102040810204080ULL) >> 56);
        memcpy(out, table[bits & 15u], 4 * sizeof(double));
        memcpy(out + 4, table[bits >> 4], 4 * sizeof(double));
    #else
        (void)table;
        for (int i = 0; i < 8; i++)
            out[i] = value[2 * active[i]];
    #endif
    }
    """
    void weight_table "detente_weight_table"(const double* value, double (*table)[4]) noexcept nogil
    void weights8 "detente_weights8"(
        const unsigned char* active, const double (*table)[4], const double* value,
        double* out) noexcept nogil


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


cdef inline Py_ssize_t _next_set(
    const unsigned char* mask, Py_ssize_t f, Py_ssize_t size,
) noexcept nogil:
    """The first index ``>= f`` of a nonzero byte of ``mask[:size]`` (``size``: none),
    passing over sixteen (then eight) zero bytes at a time (most are: a step set is rare)."""
    cdef unsigned long long x, y
    while f + 16 <= size:
        memcpy(&x, mask + f, 8)
        memcpy(&y, mask + f + 8, 8)
        if x | y:
            break
        f += 16
    while f + 8 <= size:
        memcpy(&x, mask + f, 8)
        if x:
            break
        f += 8
    while f < size and not mask[f]:
        f += 1
    return f


cdef void _schedule(
    const unsigned char[:, ::1] approved, const Uniforms* u, long[:, ::1] start,
    const double[:, ::1] low, const double[:, ::1] mode, const double[:, ::1] high, long t,
) noexcept nogil:
    # the approved steps found in the flat [n * K] mask (most worlds approve nothing)
    cdef Py_ssize_t n = approved.shape[0], n_k = approved.shape[1], w, k, f
    cdef Py_ssize_t size = n * n_k
    cdef const unsigned char* app
    if size == 0:
        return
    app = &approved[0, 0]
    f = _next_set(app, 0, size)
    while f < size:
        w = f // n_k
        k = f - w * n_k
        start[w, k] = t + <long>rint(_triangular(
            low[row_of(w, low.shape[0], n), k], mode[row_of(w, mode.shape[0], n), k],
            high[row_of(w, high.shape[0], n), k], _uniform(u, w, k)))
        f = _next_set(app, f + 1, size)


cdef void _mark_offers(
    const unsigned char* steps, Py_ssize_t n, Py_ssize_t n_k, const unsigned char[:, ::1] gp,
    unsigned char[:] offered,
) noexcept nogil:
    # offered[w] = 1 where one of world w's steps in the flat [n * K] mask is a conciliatory
    # gesture (gp: [m, K], one row or one per state, row w * m // n)
    cdef Py_ssize_t size = n * n_k, w, f
    f = _next_set(steps, 0, size)
    while f < size:
        w = f // n_k
        if gp[row_of(w, gp.shape[0], n), f - w * n_k]:
            offered[w] = 1
        f = _next_set(steps, f + 1, size)


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


cdef class ScheduleRun:
    """What :func:`schedule_starts_of` reads every step besides the step's masks and the
    start steps, laid out once per run (the arguments of :func:`schedule_starts` of those
    names)."""

    cdef const unsigned long long[:, ::1] states_f, states_o
    cdef Py_ssize_t n_each, block, steps
    cdef const double[:, ::1] low_f, mode_f, high_f, low_o, mode_o, high_o
    cdef const unsigned char[:, ::1] gest_pos_rows

    def __init__(
        self,
        const unsigned long long[:, ::1] states_f,
        const unsigned long long[:, ::1] states_o,
        Py_ssize_t n_each,
        Py_ssize_t block,
        Py_ssize_t steps,
        const double[:, ::1] low_f,
        const double[:, ::1] mode_f,
        const double[:, ::1] high_f,
        const double[:, ::1] low_o,
        const double[:, ::1] mode_o,
        const double[:, ::1] high_o,
        const unsigned char[:, ::1] gest_pos_rows,
    ):
        self.states_f, self.states_o = states_f, states_o
        self.n_each, self.block, self.steps = n_each, block, steps
        self.low_f, self.mode_f, self.high_f = low_f, mode_f, high_f
        self.low_o, self.mode_o, self.high_o = low_o, mode_o, high_o
        self.gest_pos_rows = gest_pos_rows


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

    ``f_offered[w]`` is set where world ``w`` approves or is forced into a conciliatory step
    (``gest_pos_rows``: ``[m, K]``, one row or one per state, row ``w * m // n``).
    ``forced`` has no rows when nothing is forced this step. The delays' uniforms are
    computed from the block states of the streams ``sim/delay-us`` and ``sim/delay-iran``
    (``[blocks, 4]``, :func:`detente.sim.rng.WorldRNG.block_states`; ``n_each`` worlds per
    state, ``block`` worlds per block, ``steps`` per world), only where a step is approved:
    the numbers ``random(steps, K)`` of the streams would give. :func:`schedule_starts_of`
    of a :class:`ScheduleRun` of these arguments.
    """
    schedule_starts_of(
        ScheduleRun(states_f, states_o, n_each, block, steps, low_f, mode_f, high_f, low_o,
                    mode_o, high_o, gest_pos_rows),
        approved_f, approved_o, forced, f_start, o_start, f_offered, t)


def schedule_starts_of(
    ScheduleRun run,
    const unsigned char[:, ::1] approved_f,
    const unsigned char[:, ::1] approved_o,
    const unsigned char[:, ::1] forced,
    long[:, ::1] f_start,
    long[:, ::1] o_start,
    unsigned char[:] f_offered,
    long t,
):
    """:func:`schedule_starts` with what does not change within a run in ``run``."""
    cdef Py_ssize_t n = approved_f.shape[0], n_k = approved_f.shape[1]
    cdef Uniforms u_f = _streamed(run.states_f, run.n_each, run.block, run.steps, max(n_k, 1),
                                  t)
    cdef Uniforms u_o = _streamed(run.states_o, run.n_each, run.block, run.steps,
                                  max(approved_o.shape[1], 1), t)
    cdef const unsigned char[:, ::1] gest_pos_rows = run.gest_pos_rows
    cdef const double[:, ::1] low_f = run.low_f, mode_f = run.mode_f, high_f = run.high_f
    cdef const double[:, ::1] low_o = run.low_o, mode_o = run.mode_o, high_o = run.high_o
    with nogil:
        _schedule(approved_f, &u_f, f_start, low_f, mode_f, high_f, t)
        # the focal offer: a conciliatory step approved or forced (a step both approved and
        # forced marks its world twice)
        if n * n_k:
            _mark_offers(&approved_f[0, 0], n, n_k, gest_pos_rows, f_offered)
            if forced.shape[0] > 0:
                _mark_offers(&forced[0, 0], n, n_k, gest_pos_rows, f_offered)
        _schedule(approved_o, &u_o, o_start, low_o, mode_o, high_o, t)

cdef extern from *:
    """
    /* flags[i / n_k] |= bit for each nonzero byte i of the eight at steps + j (x: those
       bytes, not all zero): their bits found one by one where the compiler can count
       trailing zeros on a little-endian machine (a byte above 1 only marks again) */
    static inline void detente_mark_word(unsigned long long x, const unsigned char *steps,
                                         Py_ssize_t j, Py_ssize_t n_k, unsigned char bit,
                                         unsigned char *flags) {
    #if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        (void)steps;
        while (x) {
            const Py_ssize_t i = j + (__builtin_ctzll(x) >> 3);
            flags[i / n_k] |= bit;
            x &= x - 1;
        }
    #else
        (void)x;
        for (Py_ssize_t i = j; i < j + 8; i++)
            if (steps[i])
                flags[i / n_k] |= bit;
    #endif
    }
    """
    void mark_word "detente_mark_word"(
        unsigned long long x, const unsigned char* steps, Py_ssize_t j, Py_ssize_t n_k,
        unsigned char bit, unsigned char* flags) noexcept nogil


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


cdef struct Marks:
    # the worlds :func:`_start_due` marks as it goes (``flags`` NULL: none): ``flags[w] |=
    # drop`` where world ``w`` (rows of ``n_k``) withdraws a step, ``|= new`` where it
    # starts one; ``dropped``: whether any world withdraws one
    unsigned char* flags
    Py_ssize_t n_k
    unsigned char drop, new
    bint dropped


cdef inline void _start_block(
    unsigned char* active, long* start, const unsigned char* withdrawn,
    const unsigned char* forced, unsigned char* new, long* since, Py_ssize_t j, long t,
    long never, bint later, Marks* marks,
) noexcept nogil:
    # steps j to j + 8: a block with none withdrawn, forced or due (most) is passed over at
    # once (no step started: new = 0)
    cdef Py_ssize_t i
    cdef unsigned long long dropped, pushed = 0, none = 0, started
    cdef unsigned char due
    memcpy(&dropped, withdrawn + j, 8)
    if forced != NULL:
        memcpy(&pushed, forced + j, 8)
    if dropped and marks.flags != NULL:
        marks.dropped = True
        mark_word(dropped, withdrawn, j, marks.n_k, marks.drop, marks.flags)
    # most blocks: every start ``never`` (later than t), none due
    due = not later or any_differ8(start + j, never)
    if due:
        due = 0
        for i in range(j, j + 8):
            due = due | (start[i] <= t)
    if (dropped | pushed) == 0 and due == 0:
        memcpy(new + j, &none, 8)
    else:
        for i in range(j, j + 8):
            _start_step(active, start, withdrawn, forced, new, since, i, t, never)
        if marks.flags != NULL:
            memcpy(&started, new + j, 8)
            if started:
                mark_word(started, new, j, marks.n_k, marks.new, marks.flags)


cdef void _start_due(
    unsigned char* active, long* start, const unsigned char* withdrawn,
    const unsigned char* forced, unsigned char* new, long* since,
    Py_ssize_t size, long t, long never, Marks* marks,
) noexcept nogil:
    # over the flat [n * K] arrays, sixteen steps at a time (then eight): most steps neither
    # leave nor start (not withdrawn, not due, not forced)
    cdef Py_ssize_t j = 0, i
    cdef unsigned long long d0, d1, p0 = 0, p1 = 0, none = 0
    cdef bint later = never > t
    while j + 16 <= size:
        memcpy(&d0, withdrawn + j, 8)
        memcpy(&d1, withdrawn + j + 8, 8)
        if forced != NULL:
            memcpy(&p0, forced + j, 8)
            memcpy(&p1, forced + j + 8, 8)
        if later and (d0 | d1 | p0 | p1) == 0 and not any_differ16(start + j, never):
            memcpy(new + j, &none, 8)
            memcpy(new + j + 8, &none, 8)
        else:
            _start_block(active, start, withdrawn, forced, new, since, j, t, never, later,
                         marks)
            _start_block(active, start, withdrawn, forced, new, since, j + 8, t, never, later,
                         marks)
        j += 16
    while j + 8 <= size:
        _start_block(active, start, withdrawn, forced, new, since, j, t, never, later, marks)
        j += 8
    for i in range(j, size):
        _start_step(active, start, withdrawn, forced, new, since, i, t, never)
        if marks.flags != NULL:
            if withdrawn[i]:
                marks.dropped = True
                marks.flags[i // marks.n_k] |= marks.drop
            if new[i]:
                marks.flags[i // marks.n_k] |= marks.new


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
    cdef Marks marks
    marks.flags = NULL
    if n == 0:
        return new_f_arr, new_o_arr
    with nogil:
        if n_f:
            _start_due(&f_active[0, 0], &f_start[0, 0], &withdrawn_f[0, 0], forced_f,
                       &new_f[0, 0], &f_since[0, 0], n * n_f, t, never, &marks)
        if n_o:
            _start_due(&o_active[0, 0], &o_start[0, 0], &withdrawn_o[0, 0], NULL,
                       &new_o[0, 0], NULL, n * n_o, t, never, &marks)
    return new_f_arr, new_o_arr


cdef extern from *:
    """
    /* one row of clip(lv - a + b) (minus) or clip(lv + a + b): x < lo ? lo : x, then
       x > hi ? hi : x, so NaN stays NaN; b NULL: no b; a NULL: no steps, the row moved by
       zeros ((lv ± 0) + 0 is lv + 0 in every bit, lv - 0 is lv). The rows do not overlap
       (restrict), so gcc vectorises the loops without checks (SSE2's maxpd and minpd take
       the operands of these selects in this order) */
    static inline void detente_moved_level(
            double *restrict lv, const double *restrict a, const double *restrict b,
            int minus, const double *restrict lo, const double *restrict hi, Py_ssize_t n) {
        Py_ssize_t i;
        double x;
        #define DETENTE_CLIP(expr) for (i = 0; i < n; i++) { \
                x = (expr); x = x < lo[i] ? lo[i] : x; lv[i] = x > hi[i] ? hi[i] : x; }
        if (a == NULL) {
            if (minus && b == NULL)
                DETENTE_CLIP(lv[i] - 0.0)
            else
                DETENTE_CLIP(lv[i] + 0.0)
        } else if (b != NULL) {
            if (minus)
                DETENTE_CLIP((lv[i] - a[i]) + b[i])
            else
                DETENTE_CLIP((lv[i] + a[i]) + b[i])
        } else if (minus) {
            DETENTE_CLIP(lv[i] - a[i])
        } else {
            DETENTE_CLIP(lv[i] + a[i])
        }
        #undef DETENTE_CLIP
    }
    """
    void moved_level_row "detente_moved_level"(
        double* lv, const double* a, const double* b, bint minus, const double* lo,
        const double* hi, Py_ssize_t n_i) noexcept nogil


cdef inline void _moved_level(
    double* lv, const double* a, const double* b, bint minus, const double* lo,
    const double* hi, Py_ssize_t n_i,
) noexcept nogil:
    """``clip(lv ± a + b, lo, hi)`` in place (``b`` NULL: ``clip(lv ± a)``; ``a`` NULL: no
    steps, ``clip(lv ± 0 + 0)``)."""
    moved_level_row(lv, a, b, minus, lo, hi, n_i)


cdef void _mark_rows(
    const unsigned char* steps, Py_ssize_t n, Py_ssize_t n_k, unsigned char bit,
    unsigned char* flags,
) noexcept nogil:
    """``flags[w] |= bit`` for each world ``w`` whose row of the flat ``[n, n_k]`` mask
    ``steps`` has a step set: the bytes sixteen (then eight) at a time, most zero."""
    cdef Py_ssize_t size = n * n_k, j = 0, i
    cdef unsigned long long x, y
    while j + 16 <= size:
        memcpy(&x, steps + j, 8)
        memcpy(&y, steps + j + 8, 8)
        if x | y:
            if x:
                mark_word(x, steps, j, n_k, bit, flags)
            if y:
                mark_word(y, steps, j + 8, n_k, bit, flags)
        j += 16
    while j + 8 <= size:
        memcpy(&x, steps + j, 8)
        if x:
            mark_word(x, steps, j, n_k, bit, flags)
        j += 8
    for i in range(j, size):
        if steps[i]:
            flags[i // n_k] = flags[i // n_k] | bit


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
    cdef bint minus = sign < 0, free = True
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
    cdef const double* lo
    cdef const double* hi
    cdef unsigned char* flag = NULL
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
        flag = &flags[0]
        with nogil:
            free = (k_a == 0 or finite_rows(effects_a)) and (
                not two or k_b == 0 or finite_rows(effects_b))
            if free and k_a:
                _mark_rows(&steps_a[0, 0], n, k_a, 1, flag)
            if free and two and k_b:
                _mark_rows(&steps_b[0, 0], n, k_b, 2, flag)
            w = 0
            while free and w < n:
                if flag[w] & 1:
                    free = order_free(&steps_a[w, 0], &effects_a[row_of(w, m_a, n), 0, 0],
                                      k_a, n_i, &count[0])
                if free and flag[w] & 2:
                    free = order_free(&steps_b[w, 0], &effects_b[row_of(w, m_b, n), 0, 0],
                                      k_b, n_i, &count[0])
                w += 1
        if not free:
            return False
    with nogil:
        for i in range(2 * n_i, 3 * n_i):
            sums[i] = 0.0
        lo = &low_rows[0, 0]
        hi = &high_rows[0, 0]
        for w in range(n):
            if m_l != 1:
                lo = &low_rows[row_of(w, m_l, n), 0]
            if m_h != 1:
                hi = &high_rows[row_of(w, m_h, n), 0]
            if given:
                _moved_level(&level[w, 0], &moves_a[w, 0], &moves_b[w, 0] if two else NULL,
                             minus, lo, hi, n_i)
            elif flag[w] == 0:
                # no steps: ``a`` NULL
                _moved_level(&level[w, 0], NULL, zero if two else NULL, minus, lo, hi, n_i)
            else:
                move_a = zero
                move_b = zero if two else NULL
                if flag[w] & 1:
                    step_sum(&steps_a[w, 0], &effects_a[row_of(w, m_a, n), 0, 0], k_a, n_i, a)
                    move_a = a
                if flag[w] & 2:
                    step_sum(&steps_b[w, 0], &effects_b[row_of(w, m_b, n), 0, 0], k_b, n_i, b)
                    move_b = b
                _moved_level(&level[w, 0], move_a, move_b, minus, lo, hi, n_i)
    return True


cdef extern from *:
    """
    /* one row of a world that withdrew and started nothing this step, in registers: the
       withdrawals' clip(lv - 0) (lv - 0 is lv; a second withdrawal's clips the clipped
       value again, which changes nothing: clip(clip(x)) is clip(x) in every bit, whatever
       the bounds, NaN too), then the starts' clip(lv + 0) ((lv + 0) + 0 is lv + 0):
       detente_moved_level's clips in turn. drops 2: bounds ordered (lo <= hi, no NaN), so
       the second clip changes nothing: a clipped x lies in [lo, hi] (or is NaN), and x + 0
       differs from x at most in the sign of a zero, which no comparison sees */
    static void detente_still_row(double *restrict lv, const double *restrict lo,
                                  const double *restrict hi, Py_ssize_t n, int drops) {
        Py_ssize_t i;
        double x;
        #define DETENTE_CLIP1 x = x < lo[i] ? lo[i] : x; x = x > hi[i] ? hi[i] : x;
        if (drops == 2) {
            for (i = 0; i < n; i++) {
                x = lv[i] - 0.0; DETENTE_CLIP1
                lv[i] = x + 0.0;
            }
        } else if (drops) {
            for (i = 0; i < n; i++) {
                x = lv[i] - 0.0; DETENTE_CLIP1
                x = x + 0.0; DETENTE_CLIP1
                lv[i] = x;
            }
        } else {
            for (i = 0; i < n; i++) {
                x = lv[i] + 0.0; DETENTE_CLIP1
                lv[i] = x;
            }
        }
        #undef DETENTE_CLIP1
    }
    """
    void still_row "detente_still_row"(
        double* lv, const double* lo, const double* hi, Py_ssize_t n, int drops) noexcept nogil


cdef extern from *:
    """
    /* one row of implement_levels: each withdrawal present (drop_f, drop_o) subtracts its
       row and clips, then the starts add theirs, (x + nf) + no, and clip: the rows are the
       kernel's sums, zeros (no steps) or BLAS's products, as move_levels uses them */
    static void detente_implement_row(
            double *restrict lv, const double *restrict lo, const double *restrict hi,
            Py_ssize_t n, int drop_f, const double *restrict df, int drop_o,
            const double *restrict dro, const double *restrict nf,
            const double *restrict no) {
        Py_ssize_t i;
        double x;
        #define DETENTE_CLIP1 x = x < lo[i] ? lo[i] : x; x = x > hi[i] ? hi[i] : x;
        #define DETENTE_ROW(drops) for (i = 0; i < n; i++) { x = lv[i]; drops \
                x = (x + nf[i]) + no[i]; DETENTE_CLIP1 lv[i] = x; }
        if (drop_f && drop_o)
            DETENTE_ROW(x = x - df[i]; DETENTE_CLIP1 x = x - dro[i]; DETENTE_CLIP1)
        else if (drop_f)
            DETENTE_ROW(x = x - df[i]; DETENTE_CLIP1)
        else if (drop_o)
            DETENTE_ROW(x = x - dro[i]; DETENTE_CLIP1)
        else
            DETENTE_ROW()
        #undef DETENTE_ROW
        #undef DETENTE_CLIP1
    }
    """
    void implement_row "detente_implement_row"(
        double* lv, const double* lo, const double* hi, Py_ssize_t n, bint drop_f,
        const double* df, bint drop_o, const double* dro, const double* nf,
        const double* no) noexcept nogil


cdef inline const double* _layer_sum(
    const unsigned char[:, ::1] steps, const double[:, :, ::1] effects, Py_ssize_t w,
    bint picked, const double* none, double* out,
) noexcept nogil:
    """World ``w``'s sum of the effects of its steps (``out``), or ``none`` if it has none."""
    if not picked:
        return none
    step_sum(&steps[w, 0], &effects[row_of(w, effects.shape[0], steps.shape[0]), 0, 0],
             steps.shape[1], effects.shape[2], out)
    return out


cdef inline bint _sums_free(
    const unsigned char[:, ::1] steps, const double[:, :, ::1] effects, Py_ssize_t w,
    int* count,
) noexcept nogil:
    """:func:`~detente.sim.native.step_sums.order_free` of world ``w``'s steps."""
    return order_free(&steps[w, 0], &effects[row_of(w, effects.shape[0], steps.shape[0]), 0, 0],
                      steps.shape[1], effects.shape[2], count)


cdef class ImplementRun:
    """What :func:`implement_levels_of` reads besides the step's masks and levels, laid out
    once per run (the arguments of :func:`implement_levels` of those names; whether each
    side's effects are finite), with its scratch for ``n`` worlds."""

    cdef const double[:, :, ::1] effects_f, effects_o
    cdef const double[:, ::1] low_rows, high_rows
    cdef bint finite_f, finite_o
    cdef bint ordered  # every low <= its high, none NaN (detente_still_row's drops 2)
    cdef readonly Py_ssize_t n
    cdef int[::1] count
    cdef double[::1] sums
    cdef unsigned char[::1] flags

    def __init__(
        self,
        Py_ssize_t n,
        const double[:, :, ::1] effects_f,
        const double[:, :, ::1] effects_o,
        const double[:, ::1] low_rows,
        const double[:, ::1] high_rows,
    ):
        cdef Py_ssize_t n_i = low_rows.shape[1]
        self.n = n
        self.effects_f, self.effects_o = effects_f, effects_o
        self.low_rows, self.high_rows = low_rows, high_rows
        self.finite_f, self.finite_o = finite_rows(effects_f), finite_rows(effects_o)
        try:
            self.ordered = bool(np.all(np.asarray(low_rows) <= np.asarray(high_rows)))
        except ValueError:  # rows that do not broadcast: no shortcut
            self.ordered = False
        self.count = np.empty(max(n_i, 1), dtype=np.intc)
        self.sums = np.zeros(5 * max(n_i, 1))
        self.flags = np.zeros(max(n, 1), dtype=np.uint8)


def implement_levels(
    double[:, ::1] level,
    const unsigned char[:, ::1] drop_f,
    const double[:, :, ::1] effects_f,
    const unsigned char[:, ::1] drop_o,
    const double[:, :, ::1] effects_o,
    const unsigned char[:, ::1] new_f,
    const unsigned char[:, ::1] new_o,
    const double[:, ::1] low_rows,
    const double[:, ::1] high_rows,
    const double[:, ::1] moves_df,
    const double[:, ::1] moves_do,
    const double[:, ::1] moves_nf,
    const double[:, ::1] moves_no,
):
    """:func:`move_levels` of one step's implementation in one pass over the worlds: the
    focal withdrawals ``drop_f`` (no rows: none this step), then the internal side's
    ``drop_o``, each subtracted and clipped, then the steps started ``new_f``, ``new_o``
    added and clipped (``effects_*``: ``[m, K, I]``, one matrix or one per state): per
    world the same operations, in the same order, as those three calls.

    Each of the three moves' sums is formed here where its order cannot matter
    (:func:`move_levels`' rule), else taken from the ``moves_*`` given (``[n, I]``, BLAS's
    products of the masks with the effects; no rows: formed here). Returns 0 when done;
    otherwise nothing is changed and the moves whose sums could depend on their order are
    returned (1: ``drop_f``, 2: ``drop_o``, 4: the starts), for the caller to give.
    :func:`implement_levels_of` of an :class:`ImplementRun` of these arguments.
    """
    return implement_levels_of(
        ImplementRun(level.shape[0], effects_f, effects_o, low_rows, high_rows), level,
        drop_f, drop_o, new_f, new_o, moves_df, moves_do, moves_nf, moves_no)


def implement_levels_of(
    ImplementRun run,
    double[:, ::1] level,
    const unsigned char[:, ::1] drop_f,
    const unsigned char[:, ::1] drop_o,
    const unsigned char[:, ::1] new_f,
    const unsigned char[:, ::1] new_o,
    const double[:, ::1] moves_df,
    const double[:, ::1] moves_do,
    const double[:, ::1] moves_nf,
    const double[:, ::1] moves_no,
    const unsigned char[::1] only=None,
):
    """:func:`implement_levels` with what does not change within a run in ``run``.

    ``only`` (one flag per state of a stacked run, each ``n / len(only)`` consecutive
    worlds; None: every world): the worlds of the states flagged alone are moved, the
    others left as they are (their rows of ``moves_*`` are not read): the crowded states
    :func:`implement_step` leaves to the caller.
    """
    cdef Py_ssize_t states = 1 if only is None else only.shape[0]
    cdef unsigned char[::1] crowd
    if level.shape[0] != run.n or level.shape[1] != run.low_rows.shape[1]:
        raise ValueError("implement_levels: the run's scratch is not for these worlds")
    if only is None:
        return _implement_levels(run, level, drop_f, drop_o, new_f, new_o, moves_df,
                                 moves_do, moves_nf, moves_no, False, 1, NULL, NULL)
    if states < 1 or run.n % states:
        raise ValueError("implement_levels_of: the worlds are not whole states")
    crowd = np.zeros(states, dtype=np.uint8)
    return _implement_levels(run, level, drop_f, drop_o, new_f, new_o, moves_df, moves_do,
                             moves_nf, moves_no, False, states, &crowd[0], &only[0])


cdef int _implement_levels(
    ImplementRun run,
    double[:, ::1] level,
    const unsigned char[:, ::1] drop_f,
    const unsigned char[:, ::1] drop_o,
    const unsigned char[:, ::1] new_f,
    const unsigned char[:, ::1] new_o,
    const double[:, ::1] moves_df,
    const double[:, ::1] moves_do,
    const double[:, ::1] moves_nf,
    const double[:, ::1] moves_no,
    bint marked,
    Py_ssize_t states,
    unsigned char* crowd,
    const unsigned char* only,
) noexcept:
    """:func:`implement_levels_of`; ``marked``: ``run.flags`` already marks the worlds
    withdrawing (1, 2) and starting (4, 8) steps (:func:`implement_step`).

    The worlds are ``states`` states of ``n / states`` consecutive worlds (``crowd``: their
    scratch; NULL: one state), each judged on its own: a state some of whose sums could
    depend on their order (crowded) is left as it is, its crowded moves in ``crowd[state]``,
    and the others are moved. Returns the crowded moves of all states (0: none; when every
    state is crowded, nothing is moved). ``only`` (NULL: every state) flags the states to
    move, the others are passed over."""
    cdef const double[:, :, ::1] effects_f = run.effects_f, effects_o = run.effects_o
    cdef const double[:, ::1] low_rows = run.low_rows, high_rows = run.high_rows
    cdef bint finite_f = run.finite_f, finite_o = run.finite_o, ordered = run.ordered
    cdef Py_ssize_t n = level.shape[0], n_i = level.shape[1], f, b
    cdef Py_ssize_t per = n // states if states > 0 else n, n_crowded = 0
    cdef unsigned char cs, one_crowd = 0
    cdef bint has_f = drop_f.shape[0] > 0, has_o = drop_o.shape[0] > 0
    cdef bint given_f = moves_df.shape[0] > 0, given_o = moves_do.shape[0] > 0
    cdef bint given_n = moves_nf.shape[0] > 0
    cdef int crowded = 0
    cdef int[::1] count = run.count
    cdef double[::1] sums = run.sums
    cdef unsigned char[::1] flags = run.flags
    cdef double* s_df
    cdef double* s_do
    cdef double* s_nf
    cdef double* s_no
    cdef const double* zero
    cdef unsigned char* flag
    if n == 0 or n_i == 0:
        return 0
    s_df, s_do, s_nf, s_no = &sums[0], &sums[n_i], &sums[2 * n_i], &sums[3 * n_i]
    zero = &sums[4 * n_i]
    flag = &flags[0]
    with nogil:
        memset(&sums[0], 0, 5 * n_i * sizeof(double))  # (the run's scratch: zeros, as new)
        if not marked:
            memset(flag, 0, n)
        # which worlds withdraw or start steps whose sums are formed here (1, 2: the
        # withdrawals; 4, 8: the starts), and whether their order could matter
        if has_f and not given_f and drop_f.shape[1]:
            if not marked:
                _mark_rows(&drop_f[0, 0], n, drop_f.shape[1], 1, flag)
            if not finite_f:
                crowded = crowded | 1
        if has_o and not given_o and drop_o.shape[1]:
            if not marked:
                _mark_rows(&drop_o[0, 0], n, drop_o.shape[1], 2, flag)
            if not finite_o:
                crowded = crowded | 2
        if not given_n:
            if new_f.shape[1] and not marked:
                _mark_rows(&new_f[0, 0], n, new_f.shape[1], 4, flag)
            if new_o.shape[1] and not marked:
                _mark_rows(&new_o[0, 0], n, new_o.shape[1], 8, flag)
            if (new_f.shape[1] and not finite_f) or (new_o.shape[1] and not finite_o):
                crowded = crowded | 4
        if crowd == NULL:
            crowd = &one_crowd
            states, per = 1, n
        if crowded:  # effects not finite: every state
            memset(crowd, crowded, states)
            n_crowded = states
        else:
            memset(crowd, 0, states)
        # each state's moves whose order could matter, found at its flagged worlds
        f = _next_set(flag, 0, n) if n_crowded == 0 else n
        while f < n:
            b = f // per if states > 1 else 0
            if only != NULL and not only[b]:
                f = _next_set(flag, (b + 1) * per, n)
                continue
            cs = crowd[b]
            if flag[f] & 1 and not cs & 1 and not _sums_free(drop_f, effects_f, f, &count[0]):
                cs = cs | 1
            if flag[f] & 2 and not cs & 2 and not _sums_free(drop_o, effects_o, f, &count[0]):
                cs = cs | 2
            if flag[f] & 4 and not cs & 4 and not _sums_free(new_f, effects_f, f, &count[0]):
                cs = cs | 4
            if flag[f] & 8 and not cs & 4 and not _sums_free(new_o, effects_o, f, &count[0]):
                cs = cs | 4
            if cs and not crowd[b]:
                n_crowded += 1
            crowd[b] = cs
            crowded = crowded | cs
            f = _next_set(flag, f + 1, n)
    if n_crowded == states:
        return crowded  # (nothing moved)
    with nogil:
        for b in range(states):
            if crowd[b] or (only != NULL and not only[b]):
                continue  # a crowded state: the caller gives its moves
            _move_worlds(level, drop_f, drop_o, new_f, new_o, moves_df, moves_do, moves_nf,
                         moves_no, effects_f, effects_o, low_rows, high_rows, flag, b * per,
                         (b + 1) * per, has_f, has_o, given_f, given_o, given_n, ordered, zero, s_df, s_do,
                         s_nf, s_no)
    return crowded


cdef void _move_worlds(
    double[:, ::1] level,
    const unsigned char[:, ::1] drop_f,
    const unsigned char[:, ::1] drop_o,
    const unsigned char[:, ::1] new_f,
    const unsigned char[:, ::1] new_o,
    const double[:, ::1] moves_df,
    const double[:, ::1] moves_do,
    const double[:, ::1] moves_nf,
    const double[:, ::1] moves_no,
    const double[:, :, ::1] effects_f,
    const double[:, :, ::1] effects_o,
    const double[:, ::1] low_rows,
    const double[:, ::1] high_rows,
    const unsigned char* flag,
    Py_ssize_t w,
    Py_ssize_t end,
    bint has_f,
    bint has_o,
    bint given_f,
    bint given_o,
    bint given_n,
    bint ordered,
    const double* zero,
    double* s_df,
    double* s_do,
    double* s_nf,
    double* s_no,
) noexcept nogil:
    """:func:`_implement_levels`' moves of worlds ``w`` to ``end``."""
    cdef Py_ssize_t n = level.shape[0], n_i = level.shape[1], f
    cdef Py_ssize_t m_l = low_rows.shape[0], m_h = high_rows.shape[0]
    cdef const double* lo = &low_rows[row_of(w, m_l, n), 0]
    cdef const double* hi = &high_rows[row_of(w, m_h, n), 0]
    cdef const double* df
    cdef const double* dro
    cdef const double* nf
    cdef const double* no
    while w < end:
        # the worlds up to the next with a step withdrawn or started (most), when no
        # move is given
        f = w if given_f or given_o or given_n else _next_set(flag, w, end)
        while w < f:
            if m_l != 1:
                lo = &low_rows[row_of(w, m_l, n), 0]
            if m_h != 1:
                hi = &high_rows[row_of(w, m_h, n), 0]
            still_row(&level[w, 0], lo, hi, n_i, (1 + ordered) if has_f or has_o else 0)
            w += 1
        if w == end:
            break
        lo = &low_rows[row_of(w, m_l, n), 0]
        hi = &high_rows[row_of(w, m_h, n), 0]
        if given_f:
            df = &moves_df[w, 0]
        else:
            df = _layer_sum(drop_f, effects_f, w, flag[w] & 1, zero, s_df)
        if given_o:
            dro = &moves_do[w, 0]
        else:
            dro = _layer_sum(drop_o, effects_o, w, flag[w] & 2, zero, s_do)
        if given_n:
            nf, no = &moves_nf[w, 0], &moves_no[w, 0]
        else:
            nf = _layer_sum(new_f, effects_f, w, flag[w] & 4, zero, s_nf)
            no = _layer_sum(new_o, effects_o, w, flag[w] & 8, zero, s_no)
        # both sides withdraw somewhere but this world's internal side does not: its
        # clip(x - 0) of the clipped row changes nothing (clip(clip(x)) is clip(x),
        # x - 0 is x), so it is left out
        implement_row(&level[w, 0], lo, hi, n_i, has_f, df,
                      has_o and not (has_f and not given_o and not flag[w] & 2), dro, nf,
                      no)
        lo = &low_rows[0, 0]
        hi = &high_rows[0, 0]
        w += 1


cdef const unsigned char[:, ::1] _NONE = np.zeros((0, 0), dtype=np.uint8)
cdef const double[:, ::1] _NO_MOVES = np.zeros((0, 0))


def implement_step(
    ImplementRun run,
    double[:, ::1] level,
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
    Py_ssize_t states=1,
):
    """engine.implement: :func:`start_due`, then :func:`implement_levels_of` without moves
    (the withdrawals of a side none of whose worlds withdraws left out), in one call: the
    worlds withdrawing and starting steps are marked as the steps are visited.

    Returns ``(new_f, new_o, crowded, dropped, left)``: the steps started (bool), and when
    ``crowded`` is not 0 the caller gives the moves whose sums could depend on their order
    to :func:`implement_levels_of`, with the withdrawals of the sides that withdraw
    (``dropped``: 1 the focal side, 2 the internal side). The worlds are ``states`` states
    of a stacked run (each ``n / states`` consecutive worlds), each judged alone, as a run
    of that state alone judges it: ``left`` is None when the levels are unchanged (every
    state crowded, or none: then all moved), else the ``uint8`` flags of the crowded states,
    whose worlds alone are left unchanged (:func:`implement_levels_of`'s ``only``).
    """
    cdef Py_ssize_t n = f_active.shape[0], n_f = f_active.shape[1], n_o = o_active.shape[1]
    cdef Py_ssize_t b, n_crowded = 0
    cdef Marks marks
    cdef int crowded = 0, dropped = 0
    if (n != run.n or level.shape[0] != n or level.shape[1] != run.low_rows.shape[1]
            or o_active.shape[0] != n or withdrawn_f.shape[0] != n
            or withdrawn_o.shape[0] != n):
        raise ValueError("implement_step: the run's scratch is not for these worlds")
    if states < 1 or n % states:
        raise ValueError("implement_step: the worlds are not whole states")
    new_f_arr = np.empty((n, n_f), dtype=np.bool_)
    new_o_arr = np.empty((n, n_o), dtype=np.bool_)
    cdef unsigned char[:, ::1] new_f = new_f_arr.view(np.uint8)
    cdef unsigned char[:, ::1] new_o = new_o_arr.view(np.uint8)
    cdef const unsigned char* forced_f = &forced[0, 0] if forced.shape[0] > 0 else NULL
    if n == 0:
        return new_f_arr, new_o_arr, 0, 0, None
    crowd_arr = np.zeros(states, dtype=np.uint8)
    cdef unsigned char[::1] crowd = crowd_arr
    marks.flags = &run.flags[0]
    with nogil:
        memset(marks.flags, 0, n)
        marks.dropped = False
        if n_f:
            marks.n_k, marks.drop, marks.new = n_f, 1, 4
            _start_due(&f_active[0, 0], &f_start[0, 0], &withdrawn_f[0, 0], forced_f,
                       &new_f[0, 0], &f_since[0, 0], n * n_f, t, never, &marks)
            if marks.dropped:
                dropped = 1
        marks.dropped = False
        if n_o:
            marks.n_k, marks.drop, marks.new = n_o, 2, 8
            _start_due(&o_active[0, 0], &o_start[0, 0], &withdrawn_o[0, 0], NULL,
                       &new_o[0, 0], NULL, n * n_o, t, never, &marks)
            if marks.dropped:
                dropped = dropped | 2
    crowded = _implement_levels(
        run, level, withdrawn_f if dropped & 1 else _NONE, withdrawn_o if dropped & 2 else _NONE,
        new_f, new_o, _NO_MOVES, _NO_MOVES, _NO_MOVES, _NO_MOVES, True, states, &crowd[0],
        NULL)
    if crowded:
        for b in range(states):
            n_crowded += crowd[b] != 0
    return (new_f_arr, new_o_arr, crowded, dropped,
            crowd_arr if 0 < n_crowded < states else None)


cdef inline void _weights_flat(
    const unsigned char* ac, const long* st, double a, long never, double* o, Py_ssize_t size,
) noexcept nogil:
    """``size`` consecutive weights of one announce weight ``a`` (the flat ``[rows * K]``
    steps of worlds that share it): sixteen or eight at a time, a block with none pending
    (the most) looked up four at a time by the steps in force."""
    cdef Py_ssize_t k, j = 0
    cdef double value[4]
    cdef double table[16][4]
    value[0] = <double>0 + a * <double>0
    value[1] = <double>0 + a * <double>1
    value[2] = <double>1 + a * <double>0
    value[3] = value[2]
    weight_table(value, table)
    while j + 8 <= size:
        # most blocks: every start ``never``, none pending: value[2 * active]
        if j + 16 <= size and not any_differ16(st + j, never):
            weights8(ac + j, table, value, o + j)
            weights8(ac + j + 8, table, value, o + j + 8)
            j += 16
            continue
        if not any_differ8(st + j, never):
            weights8(ac + j, table, value, o + j)
        else:
            for k in range(j, j + 8):
                o[k] = value[2 * ac[k] + (st[k] < never)]
        j += 8
    for k in range(j, size):
        o[k] = value[2 * ac[k] + (st[k] < never)]


cdef void _weights(
    const unsigned char[:, ::1] active, const long[:, ::1] start, const double[:] aw,
    long never, double[:, ::1] out,
) noexcept nogil:
    # active + announce_weight * pending, pending = start < NEVER & ~active (as NumPy, in
    # float64: the weight is 1, announce_weight or 0); the expression has four values per
    # announce weight, computed once and looked up. ``aw``: one value, one per state of a
    # stacked run (world ``w`` reads ``w * m // n``) or one per world
    cdef Py_ssize_t n = active.shape[0], n_k = active.shape[1], m = aw.shape[0], w, k, b, per
    cdef double a
    cdef double value[4]
    cdef const unsigned char* ac
    cdef const long* st
    cdef double* o
    if n == 0 or n_k == 0:
        return
    if m == 1 or (m < n and n % m == 0):
        # one weight for all worlds, or one per state: each state's worlds are consecutive
        # rows, so its flat steps share a table
        per = n // m
        for b in range(m):
            _weights_flat(&active[b * per, 0], &start[b * per, 0], aw[b], never,
                          &out[b * per, 0], per * n_k)
        return
    for w in range(n):
        if w == 0 or m > 1:
            a = aw[row_of(w, m, n)]
            value[0] = <double>0 + a * <double>0
            value[1] = <double>0 + a * <double>1
            value[2] = <double>1 + a * <double>0
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
    out_f=None,
    out_o=None,
):
    """Each side's weight of its steps in the posture: 1 in force, ``announce_weight`` pending.

    ``out_f``, ``out_o``: float64 arrays of the masks' shapes to write them to and return (a
    caller's buffers, written anew), else new ones."""
    w_f_arr = np.empty((f_active.shape[0], f_active.shape[1])) if out_f is None else out_f
    w_o_arr = np.empty((o_active.shape[0], o_active.shape[1])) if out_o is None else out_o
    cdef double[:, ::1] w_f = w_f_arr, w_o = w_o_arr
    if (w_f.shape[0] != f_active.shape[0] or w_f.shape[1] != f_active.shape[1]
            or w_o.shape[0] != o_active.shape[0] or w_o.shape[1] != o_active.shape[1]):
        raise ValueError("posture_weights: out_f or out_o is not the masks' shape")
    with nogil:
        _weights(f_active, f_start, announce_weight, never, w_f)
        _weights(o_active, o_start, announce_weight, never, w_o)
    return w_f_arr, w_o_arr


cdef extern from *:
    """
    /* played_levels with shared parameters, the shares' denominators positive: _share and
       _level of each world (the same operations in the same order), the arrays apart
       (restrict), so gcc vectorises the loop (the shares' selects keep it from that) */
    static inline double detente_share(double num, double den) {
        return den > 0 ? num / den : 0.0;
    }
    static inline double detente_level(double nl, double conc, double host) {
        double x = (nl + ((1.0 - nl) * conc)) - (nl * host);
        x = x < 0.0 ? 0.0 : x;
        return x > 1.0 ? 1.0 : x;
    }
    static void detente_played_shared(
            Py_ssize_t n, const double *restrict conc_f, const double *restrict host_f,
            const double *restrict conc_o, const double *restrict host_o, double sp_f,
            double sn_f, double sp_o, double sn_o, double nl, double *restrict play_f,
            double *restrict play_o, double *restrict hostile, double *restrict own_f,
            Py_ssize_t step_f, double *restrict own_o, Py_ssize_t step_o) {
        for (Py_ssize_t w = 0; w < n; w++) {
            /* detente_share, every denominator positive */
            const double h = host_f[w] / sn_f, cf = conc_f[w] / sp_f;
            const double co = conc_o[w] / sp_o, ho = host_o[w] / sn_o;
            const double pf = detente_level(nl, cf, h), po = detente_level(nl, co, ho);
            hostile[w] = h;
            play_f[w] = pf;
            play_o[w] = po;
            own_f[w * step_f] = pf;
            own_o[w * step_o] = po;
        }
    }
    """
    double share_of "detente_share"(double num, double den) noexcept nogil
    double level_of "detente_level"(double nl, double conc, double host) noexcept nogil
    void played_shared "detente_played_shared"(
        Py_ssize_t n, const double* conc_f, const double* host_f, const double* conc_o,
        const double* host_o, double sp_f, double sn_f, double sp_o, double sn_o, double nl,
        double* play_f, double* play_o, double* hostile, double* own_f, Py_ssize_t step_f,
        double* own_o, Py_ssize_t step_o) noexcept nogil


cdef inline double _share(double num, double den) noexcept nogil:
    """A posture share: ``num / den``, 0 where ``den`` is not positive."""
    return share_of(num, den)


cdef inline double _level(double nl, double conc, double host) noexcept nogil:
    """The played level from the shares (docs/model.md 1): ``nl + (1 - nl) conc - nl host``
    clipped to [0, 1]."""
    return level_of(nl, conc, host)


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
    return _played_levels(conc_f, host_f, conc_o, host_o, sp_f, sn_f, sp_o, sn_o, neutral,
                          own_f, own_o)


cdef class PlayedRun:
    """What :func:`posture_weights_of` and :func:`played_levels_of` read besides the state,
    laid out once per run: the announce weight, the gestures' sums and the neutral level
    (as :func:`detente.sim.native.leaf` gives them), the buffers of the weights ``[n, K]``
    (written anew each step: nothing reads them after the products)."""

    cdef const double[:] announce, sp_f, sn_f, sp_o, sn_o, neutral
    cdef long never
    cdef double[:, ::1] w_f, w_o
    cdef object w_f_arr, w_o_arr

    def __init__(
        self, const double[:] announce, const double[:] sp_f, const double[:] sn_f,
        const double[:] sp_o, const double[:] sn_o, const double[:] neutral, long never,
        w_f, w_o,
    ):
        self.announce, self.neutral, self.never = announce, neutral, never
        self.sp_f, self.sn_f, self.sp_o, self.sn_o = sp_f, sn_f, sp_o, sn_o
        self.w_f, self.w_o, self.w_f_arr, self.w_o_arr = w_f, w_o, w_f, w_o


def posture_weights_of(
    PlayedRun run,
    const unsigned char[:, ::1] f_active,
    const long[:, ::1] f_start,
    const unsigned char[:, ::1] o_active,
    const long[:, ::1] o_start,
):
    """:func:`posture_weights` into the run's buffers (returned)."""
    cdef double[:, ::1] w_f = run.w_f, w_o = run.w_o
    cdef const double[:] announce = run.announce
    cdef long never = run.never
    if (w_f.shape[0] != f_active.shape[0] or w_f.shape[1] != f_active.shape[1]
            or w_o.shape[0] != o_active.shape[0] or w_o.shape[1] != o_active.shape[1]):
        raise ValueError("posture_weights_of: the run's buffers are not the masks' shape")
    with nogil:
        _weights(f_active, f_start, announce, never, w_f)
        _weights(o_active, o_start, announce, never, w_o)
    return run.w_f_arr, run.w_o_arr


def played_levels_of(
    PlayedRun run,
    const double[:] conc_f,
    const double[:] host_f,
    const double[:] conc_o,
    const double[:] host_o,
    double[:, :] own_f,
    double[:, :] own_o,
    Py_ssize_t t,
):
    """:func:`played_levels` with the run's parameters, written to column ``t`` of the
    histories ``own_*`` (``[n, T]``)."""
    if not (0 <= t < own_f.shape[1] and t < own_o.shape[1]):
        raise ValueError("played_levels_of: step outside the histories")
    return _played_levels(conc_f, host_f, conc_o, host_o, run.sp_f, run.sn_f, run.sp_o,
                          run.sn_o, run.neutral, own_f[:, t], own_o[:, t])


cdef tuple _played_levels(
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
    """:func:`played_levels`. The parameters may have one value, one per state of a stacked
    run (world ``w`` of ``n`` reads ``w * m // n``) or one per world."""
    cdef Py_ssize_t n = conc_f.shape[0], w, b, per, lo, m = 1
    cdef Py_ssize_t m_l = neutral.shape[0], m_pf = sp_f.shape[0], m_nf = sn_f.shape[0]
    cdef Py_ssize_t m_po = sp_o.shape[0], m_no = sn_o.shape[0]
    cdef Py_ssize_t rows[5]
    cdef double nl, h, spf, snf, spo, sno
    play_f_arr, play_o_arr, hostile_arr = np.empty(n), np.empty(n), np.empty(n)
    cdef double[::1] play_f = play_f_arr, play_o = play_o_arr, hostile = hostile_arr
    if n == 0:
        return play_f_arr, play_o_arr, hostile_arr
    cdef Py_ssize_t unit = sizeof(double)
    # the parameters' common number of rows (1 if all shared; 0 if they differ)
    rows[0], rows[1], rows[2], rows[3], rows[4] = m_l, m_pf, m_nf, m_po, m_no
    for b in range(5):
        if rows[b] > 1:
            m = rows[b] if m == 1 or m == rows[b] else 0
    cdef bint blocks = m == 1 or (1 < m < n and n % m == 0)
    if blocks and conc_f.strides[0] == unit and (
            host_f.strides[0] == conc_o.strides[0] == host_o.strides[0] == unit) and (
            own_f.strides[0] % unit == 0 and own_o.strides[0] % unit == 0):
        # one block of worlds per value of the parameters (all worlds, or a stacked run's
        # states): where its denominators are positive, vectorised
        per = n // m
        with nogil:
            for b in range(m):
                lo = b * per
                nl = neutral[b if m_l > 1 else 0]
                spf, snf = sp_f[b if m_pf > 1 else 0], sn_f[b if m_nf > 1 else 0]
                spo, sno = sp_o[b if m_po > 1 else 0], sn_o[b if m_no > 1 else 0]
                if spf > 0 and snf > 0 and spo > 0 and sno > 0:
                    played_shared(per, &conc_f[lo], &host_f[lo], &conc_o[lo], &host_o[lo], spf,
                                  snf, spo, sno, nl, &play_f[lo], &play_o[lo], &hostile[lo],
                                  &own_f[lo], own_f.strides[0] // unit, &own_o[lo],
                                  own_o.strides[0] // unit)
                    continue
                for w in range(lo, lo + per):
                    h = _share(host_f[w], snf)
                    hostile[w] = h
                    play_f[w] = _level(nl, _share(conc_f[w], spf), h)
                    play_o[w] = _level(nl, _share(conc_o[w], spo), _share(host_o[w], sno))
                    own_f[w] = play_f[w]
                    own_o[w] = play_o[w]
        return play_f_arr, play_o_arr, hostile_arr
    with nogil:
        for w in range(n):
            nl = neutral[row_of(w, m_l, n)]
            h = _share(host_f[w], sn_f[row_of(w, m_nf, n)])
            hostile[w] = h
            play_f[w] = _level(nl, _share(conc_f[w], sp_f[row_of(w, m_pf, n)]), h)
            play_o[w] = _level(nl, _share(conc_o[w], sp_o[row_of(w, m_po, n)]),
                               _share(host_o[w], sn_o[row_of(w, m_no, n)]))
            own_f[w] = play_f[w]
            own_o[w] = play_o[w]
    return play_f_arr, play_o_arr, hostile_arr


cdef inline void _started_row(
    const unsigned char* nw, const unsigned char* leg, const unsigned char* conc, double fw,
    Py_ssize_t n_f, double* nf, double* paid,
) noexcept nogil:
    """One world's focal steps started as 0/1 floats (``nf``) and as paid for (``paid``:
    the executive's own steps times their multiplier, ``fw`` for conciliatory ones)."""
    cdef Py_ssize_t k
    cdef double value[4]  # paid for (started by the executive, conciliatory): as computed
    value[0] = <double>0 * 1.0
    value[1] = <double>0 * fw
    value[2] = <double>1 * 1.0
    value[3] = <double>1 * fw
    for k in range(n_f):
        nf[k] = <double>nw[k]
    for k in range(n_f):
        paid[k] = value[2 * (nw[k] & (leg[k] ^ 1)) + conc[k]]


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
    cdef Py_ssize_t n = new_f.shape[0], n_f = new_f.shape[1], n_o = new_o.shape[1], w, k, f
    cdef bint c_world = conciliatory.shape[0] > 1
    nf_arr, no_arr, paid_arr = np.zeros((n, n_f)), np.zeros((n, n_o)), np.zeros((n, n_f))
    cdef double[:, ::1] nf = nf_arr, no = no_arr, paid = paid_arr
    cdef const unsigned char* nw
    # most worlds start nothing: their rows are +0.0 (0 times a multiplier >= 0 and finite);
    # the others are found in the flat masks
    with nogil:
        if n_f:
            for w in range(n):
                if not (0 <= factor[w] <= DBL_MAX):
                    _started_row(&new_f[w, 0], &f_by_leg[w, 0],
                                 &conciliatory[w if c_world else 0, 0], factor[w], n_f,
                                 &nf[w, 0], &paid[w, 0])
            f = _next_set(&new_f[0, 0], 0, n * n_f)
            while f < n * n_f:
                w = f // n_f
                _started_row(&new_f[w, 0], &f_by_leg[w, 0], &conciliatory[w if c_world else 0, 0],
                             factor[w], n_f, &nf[w, 0], &paid[w, 0])
                f = _next_set(&new_f[0, 0], (w + 1) * n_f, n * n_f)
        if n_o:
            f = _next_set(&new_o[0, 0], 0, n * n_o)
            while f < n * n_o:
                w = f // n_o
                nw = &new_o[w, 0]
                for k in range(n_o):
                    no[w, k] = <double>nw[k]
                f = _next_set(&new_o[0, 0], (w + 1) * n_o, n * n_o)
    return nf_arr, no_arr, paid_arr


cdef extern from *:
    """
    /* one world's time to reciprocation, unreciprocated concessions and cost (section 5) */
    static inline void detente_book_costs(
            double gest_f, double gest_o, double paid_cost, unsigned char offered,
            long first_in, double u_in, double c_in, double keep, double naivety,
            long horizon, long t, long *first, double *u_out, double *c_out) {
        double u;
        *first = (gest_o > 0 && offered && first_in > horizon) ? t + 1 : first_in;
        u = (u_in + gest_f) - gest_o;
        u = (u > 0.0 || u != u) ? u : 0.0;
        *u_out = u;
        *c_out = ((keep * c_in) + paid_cost) + (naivety * u);
    }

    /* detente_book_costs of worlds that started nothing (no gesture, nothing paid), the
       arrays contiguous and apart (restrict) and the parameters shared: gcc vectorises it */
    static void detente_book_still(
            Py_ssize_t n, const long *restrict first_in, const double *restrict u_in,
            const double *restrict c_in, double keep, double naivety, long horizon, long t,
            long *restrict first, double *restrict u_out, double *restrict c_out) {
        for (Py_ssize_t w = 0; w < n; w++)
            detente_book_costs(0.0, 0.0, 0.0, 0, first_in[w], u_in[w], c_in[w], keep,
                               naivety, horizon, t, &first[w], &u_out[w], &c_out[w]);
    }
    """
    void book_costs_of "detente_book_costs"(
        double gest_f, double gest_o, double paid_cost, unsigned char offered, long first_in,
        double u_in, double c_in, double keep, double naivety, long horizon, long t,
        long* first, double* u_out, double* c_out) noexcept nogil
    void book_still "detente_book_still"(
        Py_ssize_t n, const long* first_in, const double* u_in, const double* c_in,
        double keep, double naivety, long horizon, long t, long* first, double* u_out,
        double* c_out) noexcept nogil


cdef inline void _book_costs(
    double gest_f, double gest_o, double paid_cost, unsigned char offered, long first_in,
    double u_in, double c_in, double keep, double naivety, long horizon, long t,
    long* first, double* u_out, double* c_out,
) noexcept nogil:
    """One world's time to reciprocation, unreciprocated concessions and cost (section 5):
    the first reciprocation ``t + 1`` where the other side's conciliatory gesture follows an
    offer, ``U = max(0, U + gest_f - gest_o)`` (NaN kept), ``C = keep C + paid + naivety U``."""
    book_costs_of(gest_f, gest_o, paid_cost, offered, first_in, u_in, c_in, keep, naivety,
                  horizon, t, first, u_out, c_out)


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
    paid for, ``keep`` is ``1 - us_cost_decay``; ``keep`` and ``naivety`` have one value, one
    per state of a stacked run or one per world (world ``w`` of ``n`` reads ``w * m // n``).
    Returns the new ``(first_reciprocation, unreciprocated, cost)``.
    """
    cdef Py_ssize_t n = gest_f.shape[0], w
    cdef Py_ssize_t m_k = keep.shape[0], m_v = naivety.shape[0]
    first_arr = np.empty(n, dtype=np.int64)
    u_arr, c_arr = np.empty(n), np.empty(n)
    cdef long[::1] first = first_arr
    cdef double[::1] u_new = u_arr, c_new = c_arr
    with nogil:
        for w in range(n):
            _book_costs(gest_f[w], gest_o[w], paid_cost[w], f_offered[w],
                        first_reciprocation[w], unreciprocated[w], cost[w],
                        keep[row_of(w, m_k, n)], naivety[row_of(w, m_v, n)], horizon, t,
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
    books = started_costs_by_state(
        new_f, new_o, f_by_leg, factor, conciliatory, gp_f_rows, gp_o_rows, cost_rows,
        f_offered, first_reciprocation, unreciprocated, cost, keep, naivety, horizon, t, 1)
    return None if books[3] is not None else books[:3]


def started_costs_by_state(
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
    Py_ssize_t states,
):
    """:func:`started_costs` of a stacked run of ``states`` states (each ``n / states``
    consecutive worlds), state by state.

    ``keep`` and ``naivety`` may have one value per state (or per world: world ``w`` of
    ``n`` reads ``w * m // n``).

    Returns ``(first_reciprocation, unreciprocated, cost, redo)``: ``redo`` None when every
    world's sums were formed here, else a ``uint8`` mask of the states where the order of a
    sum could matter (as :func:`started_costs` refuses), whose worlds' entries are then left
    unspecified: the caller forms those states' sums with BLAS, on their rows only, as a
    run of each state alone does.
    """
    cdef Py_ssize_t n = new_f.shape[0], k_f = new_f.shape[1], k_o = new_o.shape[1], w, k
    cdef Py_ssize_t m_gf = gp_f_rows.shape[0], m_go = gp_o_rows.shape[0]
    cdef Py_ssize_t m_c = cost_rows.shape[0], m_conc = conciliatory.shape[0]
    cdef Py_ssize_t m_k = keep.shape[0], m_v = naivety.shape[0], b, lo
    cdef bint free = True, discounted, finite = True
    cdef const unsigned char* nw
    cdef const unsigned char* leg
    cdef const unsigned char* conc
    cdef const double* c_row
    cdef const double* g_row
    cdef double fw, gest_f, gest_o, paid_cost
    cdef Py_ssize_t paid_terms, f, per, refused = 0
    if states < 1 or n % states:
        raise ValueError("started_costs_by_state: the worlds are not whole states")
    per = n // states
    first_arr = np.empty(n, dtype=np.int64)
    u_arr, c_arr = np.empty(n), np.empty(n)
    flags_arr = np.zeros(n, dtype=np.uint8)
    redo_arr = np.zeros(states, dtype=np.uint8)
    cdef long[::1] first = first_arr
    cdef double[::1] u_new = u_arr, c_new = c_arr
    cdef unsigned char[::1] flags = flags_arr, redo = redo_arr
    if n == 0:
        return first_arr, u_arr, c_arr, None
    with nogil:
        finite = (finite_matrix(gp_f_rows) and finite_matrix(gp_o_rows)
                  and finite_matrix(cost_rows))
        for w in range(n):
            if not (-DBL_MAX <= factor[w] <= DBL_MAX):
                finite = False
        if finite:
            # every world as if it started nothing (the most), a state's worlds together
            # where they share the parameters; then the others, found in the flat masks,
            # again with their sums
            if (m_k == 1 or m_k == states) and (m_v == 1 or m_v == states) and (
                    first_reciprocation.strides[0] == sizeof(long)) and (
                    unreciprocated.strides[0] == cost.strides[0] == sizeof(double)):
                for b in range(states):
                    lo = b * per
                    book_still(per, &first_reciprocation[lo], &unreciprocated[lo], &cost[lo],
                               keep[b if m_k > 1 else 0], naivety[b if m_v > 1 else 0],
                               horizon, t, &first[lo], &u_new[lo], &c_new[lo])
            else:
                for w in range(n):
                    _book_costs(0.0, 0.0, 0.0, f_offered[w], first_reciprocation[w],
                                unreciprocated[w], cost[w], keep[row_of(w, m_k, n)],
                                naivety[row_of(w, m_v, n)], horizon, t, &first[w],
                                &u_new[w], &c_new[w])
            if k_f:
                _mark_rows(&new_f[0, 0], n, k_f, 1, &flags[0])
            if k_o:
                _mark_rows(&new_o[0, 0], n, k_o, 2, &flags[0])
        f = _next_set(&flags[0], 0, n) if finite else n
        while f < n:
            w = f
            fw = factor[w]
            gest_f = gest_o = paid_cost = 0.0
            free = True
            if flags[w] & 1:
                nw = &new_f[w, 0]
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
            if free and flags[w] & 2:
                nw = &new_o[w, 0]
                g_row = &gp_o_rows[row_of(w, m_go, n), 0]
                gest_o = picked_sum(nw, g_row, k_o)
                free = _terms(nw, g_row, k_o) <= 2
            if not free:
                # the state's sums go to BLAS: its other worlds need not be formed here
                redo[w // per] = 1
                refused += 1
                f = _next_set(&flags[0], (w // per + 1) * per, n)
                continue
            _book_costs(gest_f, gest_o, paid_cost, f_offered[w], first_reciprocation[w],
                        unreciprocated[w], cost[w], keep[row_of(w, m_k, n)],
                        naivety[row_of(w, m_v, n)], horizon, t, &first[w], &u_new[w],
                        &c_new[w])
            f = _next_set(&flags[0], w + 1, n)
    if not finite:
        redo_arr[:] = 1
        return first_arr, u_arr, c_arr, redo_arr
    return first_arr, u_arr, c_arr, (redo_arr if refused else None)


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
    cdef Py_ssize_t n = new_o.shape[0], n_k = new_o.shape[1], w, k, j, f, n_started = 0
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
        # the worlds that started a step, found in the flat mask (most started none)
        f = _next_set(&new_o[0, 0], 0, n * n_k) if n_k else 0
        while free and f < n * n_k:
            w = f // n_k
            nw = &new_o[w, 0]
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
            f = _next_set(&new_o[0, 0], (w + 1) * n_k, n * n_k)
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
