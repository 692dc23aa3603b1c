# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Iran's effective positions (docs/model.md section 2, "Internal side") and the pending steps.

Compiled form of :func:`detente.sim.engine.internal_positions` (its drivers: the perceived
gesture, belief, sanctions, conditions met, pressure and threat, one value per world) and of
:func:`detente.sim.mechanisms.iran_response.iran_positions` (the camps' shifts and the
positions ``[I, n, A]``), with the mechanism's own functions (``condition_fulfilment``,
``dictation_pressure``, ``reformist_goodwill``, ``conservative_willingness``) and the engine's
``issue_share``, ``requires_met`` and ``prospective_levels``: each formula is one ``cdef``
function here, read by the fused kernels and by the small ones those functions call.

The same float64 and float32 operations, in the same order, as the NumPy formulation they
replaced; the sum over issues of the conditions met is NumPy's pairwise sum. Two parts stay
in NumPy because C cannot reproduce them: ``saturation`` (NumPy's ``expm1`` is SVML's on
AVX-512 machines, not libm's) and, where more than two nonzero terms meet in one of their
sums, the products of the pending masks with the effects matrices in ``prospective_levels``
(BLAS sums in its own order; :mod:`detente.sim.native.step_sums`).

Arrays of per-world parameters have length 1 (shared by all worlds) or ``n`` (world ``w``
reads row ``w``); so do the leading axes of ``start`` and ``demand``. Those of
:func:`drivers` and :func:`positions` (``start``, ``demand``, ``base``, ``alt``) may also
have one row per state of a stacked run (world ``w`` reads row ``w * m // n``,
:func:`detente.sim.native.rows.row_of`).
"""

from libc.math cimport fabs, signbit
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy

from detente.sim.native.numpy_sum cimport pairwise_sum
from detente.sim.native.rows cimport any_set, row_of
from detente.sim.native.step_sums cimport finite_rows, order_free, step_sum

import numpy as np


cdef inline Py_ssize_t _row(Py_ssize_t length, Py_ssize_t w) noexcept nogil:
    """Row ``w`` of a per-world leaf, row 0 of a shared one."""
    return w if length > 1 else 0


cdef inline Py_ssize_t _state_end(Py_ssize_t w, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """The first world after ``w`` reading another row of a leaf of ``m`` rows for ``n``
    worlds (:func:`~detente.sim.native.rows.row_of`: the end of ``w``'s state)."""
    if m <= 1:
        return n
    if m == n:
        return w + 1
    return ((w * m // n + 1) * n + m - 1) // m


cdef inline double _clip01(double x) noexcept nogil:
    """``minimum(maximum(x, 0), 1)`` (NaN stays NaN, as in NumPy)."""
    if x < 0.0:
        x = 0.0
    if x > 1.0:
        x = 1.0
    return x


# ------------------------------------------------------------------ one formula each
cdef inline double _share(double x, double low, double span) noexcept nogil:
    """An issue's level as a share of its range."""
    return (x - low) / span


cdef Py_ssize_t _demanded(
    const double* start, const double* demand, Py_ssize_t n_i, double* divisor, double* weight,
) noexcept nogil:
    """What ``κ`` needs of a start and demand row alone: per issue the divisor of its way
    (the gap, 1 where there is no demand: the quotient is then the dividend, NaN included)
    and its weight (1 if demanded, else 0); returns the number of demanded issues."""
    cdef Py_ssize_t i, count = 0
    cdef double gap
    cdef bint valid
    for i in range(n_i):
        gap = start[i] - demand[i]
        valid = fabs(gap) > 1e-9  # False where no demand (NaN)
        divisor[i] = gap if valid else 1.0
        weight[i] = 1.0 if valid else 0.0
        count += valid
    return count


cdef inline double _fulfilment_of(
    const double* level, const double* start, const double* divisor, const double* weight,
    Py_ssize_t count, Py_ssize_t n_i, double* buf,
) noexcept nogil:
    """``κ`` of one world's levels, with :func:`_demanded` of its start and demand rows."""
    cdef Py_ssize_t i
    cdef double total
    if n_i == 0:
        return 0.0
    for i in range(n_i):
        buf[i] = _clip01((start[i] - level[i]) / divisor[i]) * weight[i]
    total = 0.0  # NumPy's reduction adds the pairwise sum to its identity
    total += pairwise_sum(buf, n_i)
    return total / (count if count > 1 else 1)


cdef inline double _fulfilment_by_demands(
    const double* level, const double* start, const double* divisor, const double* weight,
    Py_ssize_t count, Py_ssize_t n_i, const Py_ssize_t* demanded, Py_ssize_t n_dem,
    const Py_ssize_t* others, Py_ssize_t n_others, double* terms, double* buf,
) noexcept nogil:
    """:func:`_fulfilment_of` computing only the demanded issues' terms (``terms``: the
    terms of the last world, zeros on the ``others``): each other issue's term is a zero
    (of either sign: the sum is the same, as ``0.0 +`` the pairwise sum makes a zero
    +0.0) unless its way is NaN; then (``acc`` is NaN) every term is computed."""
    cdef Py_ssize_t c, i
    cdef double acc = 0.0, total
    for c in range(n_others):
        i = others[c]
        acc = acc + (start[i] - level[i])
    if acc != acc:
        return _fulfilment_of(level, start, divisor, weight, count, n_i, buf)
    for c in range(n_dem):
        i = demanded[c]
        terms[i] = _clip01((start[i] - level[i]) / divisor[i]) * weight[i]
    total = 0.0  # NumPy's reduction adds the pairwise sum to its identity
    total += pairwise_sum(terms, n_i)
    return total / (count if count > 1 else 1)


cdef struct _Fold:
    # the demanded terms of a part of NumPy's pairwise sum of the terms (the others zeros)
    Py_ssize_t count  # how many
    Py_ssize_t last  # the last of them
    bint in_order  # their sum is a sum one by one from the first to the last


cdef inline _Fold _fold_of(const double* weight, Py_ssize_t i) noexcept nogil:
    """Term ``i`` alone (``weight[i]``: 1 if demanded, else 0)."""
    cdef _Fold f
    f.count = weight[i] != 0.0
    f.last = i
    f.in_order = True
    return f


cdef inline _Fold _joined(_Fold x, _Fold y) noexcept nogil:
    """``x + y`` (a zero added changes no sum of terms in [0, 1] started from 0.0)."""
    if x.count == 0:
        return y
    if y.count == 0:
        return x
    x.in_order = x.in_order and y.count == 1 and y.last > x.last
    x.count = x.count + y.count
    x.last = y.last
    return x


cdef _Fold _pairwise_fold(const double* weight, Py_ssize_t first, Py_ssize_t n) noexcept nogil:
    """The demanded terms of ``numpy_sum.pairwise_sum`` of terms ``first`` to ``first + n``,
    its additions in its order (the same structure)."""
    cdef _Fold res
    cdef _Fold r[8]
    cdef Py_ssize_t i, j, n2
    res.count = 0
    res.last = -1
    res.in_order = True
    if n < 8:
        for i in range(n):
            res = _joined(res, _fold_of(weight, first + i))
        return res
    if n <= 128:
        for j in range(8):
            r[j] = _fold_of(weight, first + j)
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] = _joined(r[j], _fold_of(weight, first + i + j))
            i = i + 8
        res = _joined(_joined(_joined(r[0], r[1]), _joined(r[2], r[3])),
                      _joined(_joined(r[4], r[5]), _joined(r[6], r[7])))
        while i < n:
            res = _joined(res, _fold_of(weight, first + i))
            i = i + 1
        return res
    n2 = n // 2
    n2 = n2 - n2 % 8
    return _joined(_pairwise_fold(weight, first, n2), _pairwise_fold(weight, first + n2, n - n2))


cdef bint _finite(const double* x, Py_ssize_t n) noexcept nogil:
    """Whether each of ``n`` contiguous numbers is finite (``x - x`` is NaN where one is
    not; four sums, which gcc vectorises)."""
    cdef double acc[4]
    cdef Py_ssize_t i = 0
    acc[0] = acc[1] = acc[2] = acc[3] = 0.0
    while i + 4 <= n:
        acc[0] = acc[0] + (x[i] - x[i])
        acc[1] = acc[1] + (x[i + 1] - x[i + 1])
        acc[2] = acc[2] + (x[i + 2] - x[i + 2])
        acc[3] = acc[3] + (x[i + 3] - x[i + 3])
        i = i + 4
    while i < n:
        acc[0] = acc[0] + (x[i] - x[i])
        i = i + 1
    return (acc[0] + acc[1]) + (acc[2] + acc[3]) == 0.0


cdef inline double _fulfilment_in_order(
    const double* level, const double* start, const double* divisor, const double* weight,
    Py_ssize_t count, const Py_ssize_t* demanded, Py_ssize_t n_dem,
) noexcept nogil:
    """:func:`_fulfilment_of` where the pairwise sum of the terms adds the demanded ones one
    by one in their order (:func:`_pairwise_fold`; the flagship's) and every level and start
    is finite: the other terms are then zeros, which change no sum of terms in [0, 1]
    started from 0.0."""
    cdef Py_ssize_t c, i
    cdef double total = 0.0
    for c in range(n_dem):
        i = demanded[c]
        total = total + _clip01((start[i] - level[i]) / divisor[i]) * weight[i]
    return total / (count if count > 1 else 1)


cdef double _fulfilment(
    const double* level, const double* start, const double* demand, Py_ssize_t n_i,
    double* buf,
) noexcept nogil:
    """``κ``: the mean over the demanded issues of the way from the start to the demand
    (one world's rows of ``n_i`` issues; ``buf``: scratch of ``3 * n_i``)."""
    cdef Py_ssize_t count = _demanded(start, demand, n_i, buf + n_i, buf + 2 * n_i)
    return _fulfilment_of(level, start, buf + n_i, buf + 2 * n_i, count, n_i, buf)


cdef inline double _pressure(double hostile, double tightening, double backing) noexcept nogil:
    """``P = clip(H + T + V, 0, 1)``."""
    return _clip01(hostile + tightening + backing)


cdef inline double _goodwill(double gg, double bg, double gesture, double belief) noexcept nogil:
    """The reformists' shift before ``ρ``: ``g_R·G + g_b·(b − b0)``."""
    return gg * gesture + bg * belief


cdef inline double _willingness(
    double cg, double bg, double tg, double pg, double met, double belief, double threat,
    double gesture, double pressure,
) noexcept nogil:
    """The other camp's shift before ``ρ``: ``g_C·sat(κ) + g_b·Δb + g_T·ΔThreat − g_P·G⁺·P``."""
    cdef double pos = gesture if not gesture < 0.0 else 0.0  # np.maximum(G, 0): NaN stays
    return cg * met + bg * belief + tg * threat - pg * pos * pressure


cdef inline float _unclipped(
    bint own, float v0, float camp, float cs, bint has_dict, float dn, float base,
) noexcept nogil:
    """An actor's position before the clip: its camp's (or the issue's own) shift, less the
    dictation term, plus its scenario position."""
    cdef float v = v0 if own else camp * cs
    if has_dict:
        v = v - dn
    return v + base


cdef inline float _clip(float v, float lo, float hi) noexcept nogil:
    """``minimum(maximum(v, lo), hi)`` (NaN stays NaN)."""
    if v < lo:
        v = lo
    if v > hi:
        v = hi
    return v


# ------------------------------------------------------------------ the engine's drivers
def issue_share(const double[:, :] level, long i, double low, double span):
    """Issue ``i``'s level as a share of its range ``[low, low + span]``, per world ``[n]``."""
    cdef Py_ssize_t w, n = level.shape[0]
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    with nogil:
        for w in range(n):
            out[w] = _share(level[w, i], low, span)
    return out_arr


cdef class DriversRun:
    """What :func:`drivers_of` reads besides the step's state, laid out once per run (the
    arguments of :func:`drivers` of those names), with its output and scratch for ``n``
    worlds (the output rows are written anew by each call)."""

    cdef const double[:] neutral, belief0, sanc0, threat0
    cdef const double[:, ::1] start, demand
    cdef long sanctions
    cdef double low_s, span_s
    cdef readonly Py_ssize_t n
    cdef object out_arr
    cdef double[:, ::1] out
    cdef double[::1] buf
    cdef Py_ssize_t[::1] demanded, others

    def __init__(
        self,
        Py_ssize_t n,
        const double[:] neutral,
        const double[:] belief0,
        long sanctions,
        double low_s,
        double span_s,
        const double[:] sanc0,
        const double[:, ::1] start,
        const double[:, ::1] demand,
        const double[:] threat0,
    ):
        cdef Py_ssize_t n_i = demand.shape[1]
        self.n = n
        self.neutral, self.belief0, self.sanc0, self.threat0 = neutral, belief0, sanc0, threat0
        self.start, self.demand = start, demand
        self.sanctions, self.low_s, self.span_s = sanctions, low_s, span_s
        self.out_arr = np.empty((6, n))
        self.out = self.out_arr
        # scratch; the divisors, weights and terms of the start and demand rows last used
        # (the terms zeros but on the demanded issues)
        self.buf = np.empty(4 * max(n_i, 1))
        self.demanded = np.empty(max(n_i, 1), dtype=np.intp)
        self.others = np.empty(max(n_i, 1), dtype=np.intp)


def drivers(
    const double[:] perceived,
    const double[:] neutral,
    const double[:] belief,
    const double[:] belief0,
    const double[:, ::1] level,
    long sanctions,
    double low_s,
    double span_s,
    const double[:] bite,
    const double[:] sanc0,
    const double[:, ::1] start,
    const double[:, ::1] demand,
    const double[:] hostile,
    const double[:] backing,
    const double[:] threat,
    const double[:] threat0,
):
    """The drivers of Iran's response, rows ``gesture, belief, sanctions, fulfilment,
    pressure, threat`` of a ``[6, n]`` array (:class:`~detente.sim.mechanisms.iran_response.IranDrivers`).

    ``G = (q̄ − n)/(1 − n)``, ``b − b0``, ``bite·S − S0`` (``S`` the sanctions issue's share,
    0 without one), ``κ``, ``P`` with the tightening ``clip(S − S0, 0, 1)``, ``threat − threat0``.
    :func:`drivers_of` of a :class:`DriversRun` of these arguments (a new array).
    """
    return drivers_of(
        DriversRun(level.shape[0], neutral, belief0, sanctions, low_s, span_s, sanc0, start,
                   demand, threat0),
        perceived, belief, level, bite, hostile, backing, threat)


def drivers_of(
    DriversRun run,
    const double[:] perceived,
    const double[:] belief,
    const double[:, ::1] level,
    const double[:] bite,
    const double[:] hostile,
    const double[:] backing,
    const double[:] threat,
):
    """:func:`drivers` with what does not change within a run in ``run``: its ``[6, n]``
    output array, written anew (what the previous call returned is overwritten)."""
    cdef Py_ssize_t w, n = level.shape[0], i
    if n != run.n:
        raise ValueError("drivers: the run's output is not for these worlds")
    cdef const double[:] neutral = run.neutral, belief0 = run.belief0
    cdef const double[:] sanc0 = run.sanc0, threat0 = run.threat0
    cdef const double[:, ::1] start = run.start, demand = run.demand
    cdef long sanctions = run.sanctions
    cdef double low_s = run.low_s, span_s = run.span_s
    cdef Py_ssize_t n_i = demand.shape[1]
    out_arr = run.out_arr
    cdef double[:, ::1] out = run.out
    cdef double[::1] buf = run.buf
    cdef Py_ssize_t[::1] demanded = run.demanded, others = run.others
    cdef Py_ssize_t n_dem = 0, n_others = 0
    cdef double nl, s_now, s0
    cdef Py_ssize_t n_nl = neutral.shape[0], n_b0 = belief0.shape[0], n_bite = bite.shape[0]
    cdef Py_ssize_t n_s0 = sanc0.shape[0], n_st = start.shape[0], n_de = demand.shape[0]
    cdef Py_ssize_t n_t0 = threat0.shape[0], rs = 0, rd = 0, last_rs = -1, last_rd = -1
    cdef Py_ssize_t count = 0, end_rs = 0, end_rd = 0
    cdef bint in_order = False, finite
    with nogil:
        # (a level NaN or infinite makes some world's other terms not zeros: all computed)
        finite = n == 0 or n_i == 0 or _finite(&level[0, 0], n * level.shape[1])
        for w in range(n):
            nl = neutral[_row(n_nl, w)]
            s0 = sanc0[_row(n_s0, w)]
            s_now = _share(level[w, sanctions], low_s, span_s) if sanctions >= 0 else 0.0
            out[0, w] = (perceived[w] - nl) / (1 - nl)
            out[1, w] = belief[w] - belief0[_row(n_b0, w)]
            out[2, w] = bite[_row(n_bite, w)] * s_now - s0
            if w >= end_rs:  # (the row of a new state: a division per state, not per world)
                rs, end_rs = row_of(w, n_st, n), _state_end(w, n_st, n)
            if w >= end_rd:
                rd, end_rd = row_of(w, n_de, n), _state_end(w, n_de, n)
            if n_i and (rs != last_rs or rd != last_rd):  # what the rows alone decide
                count = _demanded(&start[rs, 0], &demand[rd, 0], n_i, &buf[n_i], &buf[2 * n_i])
                last_rs, last_rd = rs, rd
                n_dem = n_others = 0
                for i in range(n_i):
                    buf[3 * n_i + i] = 0.0
                    if buf[2 * n_i + i] != 0.0:
                        demanded[n_dem] = i
                        n_dem += 1
                    else:
                        others[n_others] = i
                        n_others += 1
                in_order = finite and _pairwise_fold(&buf[2 * n_i], 0, n_i).in_order \
                    and _finite(&start[rs, 0], n_i)
            if n_i and in_order:
                out[3, w] = _fulfilment_in_order(&level[w, 0], &start[rs, 0], &buf[n_i],
                                                 &buf[2 * n_i], count, &demanded[0], n_dem)
            else:
                out[3, w] = 0.0 if n_i == 0 else _fulfilment_by_demands(
                    &level[w, 0], &start[rs, 0], &buf[n_i], &buf[2 * n_i], count, n_i,
                    &demanded[0], n_dem, &others[0], n_others, &buf[3 * n_i], &buf[0])
            out[4, w] = _pressure(hostile[w], _clip01(s_now - s0), backing[w])
            out[5, w] = threat[w] - threat0[_row(n_t0, w)]
    return out_arr


# ------------------------------------------------------------------ the mechanism's functions
def fulfilment(
    const double[:, ::1] level, const double[:, ::1] start, const double[:, ::1] demand,
):
    """``κ`` per world ``[n]`` (``start`` and ``demand`` have 1 or ``n`` rows)."""
    cdef Py_ssize_t w, n = level.shape[0], n_st = start.shape[0], n_de = demand.shape[0]
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    cdef double[::1] buf = np.empty(3 * max(demand.shape[1], 1))
    with nogil:
        for w in range(n):
            out[w] = _fulfilment(&level[w, 0], &start[_row(n_st, w), 0],
                                 &demand[_row(n_de, w), 0], demand.shape[1], &buf[0])
    return out_arr


def pressure(const double[:] hostile, const double[:] tightening, const double[:] backing):
    """``P`` per world (each argument of length 1 or ``n``)."""
    cdef Py_ssize_t w, nh = hostile.shape[0], nt = tightening.shape[0], nb = backing.shape[0]
    cdef Py_ssize_t n = max(nh, nt, nb)
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    with nogil:
        for w in range(n):
            out[w] = _pressure(hostile[_row(nh, w)], tightening[_row(nt, w)],
                               backing[_row(nb, w)])
    return out_arr


def goodwill(const double[:] gesture, const double[:] belief, const double[:] gg,
             const double[:] bg):
    """The reformists' shift before ``ρ`` per world ``[n]``."""
    cdef Py_ssize_t w, n = gesture.shape[0], n_gg = gg.shape[0], n_bg = bg.shape[0]
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    with nogil:
        for w in range(n):
            out[w] = _goodwill(gg[_row(n_gg, w)], bg[_row(n_bg, w)], gesture[w], belief[w])
    return out_arr


def willingness(
    const double[:] met, const double[:] belief, const double[:] threat,
    const double[:] gesture, const double[:] pressure, const double[:] cg,
    const double[:] bg, const double[:] tg, const double[:] pg,
):
    """The other camp's shift before ``ρ`` per world ``[n]`` (``met`` = ``sat(κ)``)."""
    cdef Py_ssize_t w, n = met.shape[0]
    cdef Py_ssize_t n_cg = cg.shape[0], n_bg = bg.shape[0], n_tg = tg.shape[0]
    cdef Py_ssize_t n_pg = pg.shape[0]
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    with nogil:
        for w in range(n):
            out[w] = _willingness(cg[_row(n_cg, w)], bg[_row(n_bg, w)], tg[_row(n_tg, w)],
                                  pg[_row(n_pg, w)], met[w], belief[w], threat[w],
                                  gesture[w], pressure[w])
    return out_arr


cdef enum:  # the columns of :func:`positions`' parameters
    _RR, _RO, _GG, _BG, _CG, _TG, _PG, _SG, _TGG, _WGG, _WTG, _DE, _N_PARAMETERS


cdef enum:
    _BLOCK = 32  # worlds per block of positions: [BLOCK * A] floats per issue, in L1


cdef inline Py_ssize_t _per_world(Py_ssize_t length) noexcept nogil:
    """The step in a parameter array from one world to the next: 1 per world, 0 shared."""
    return 1 if length > 1 else 0


# The loops over a block of positions (its worlds and actors, one after another). Each is
# called through a pointer: inlined into the kernel, gcc does not vectorise them.
cdef void _clip_camp(
    const float* camp, float cs, const float* base, float lo, float hi, Py_ssize_t size,
    float* out,
) noexcept nogil:
    """A response issue without the dictation term: ``_clip(_unclipped(False, ...))``."""
    cdef Py_ssize_t k
    for k in range(size):
        out[k] = _clip(_unclipped(False, 0.0, camp[k], cs, False, 0.0, base[k]), lo, hi)


cdef void _clip_camp_dict(
    const float* camp, float cs, const float* dn, const float* base, float lo, float hi,
    Py_ssize_t nb, Py_ssize_t n_a, float* out,
) noexcept nogil:
    """A response issue with the dictation term, ``dn`` one value per world."""
    cdef Py_ssize_t wl, a, k
    cdef float d
    for wl in range(nb):
        d = dn[wl]
        k = wl * n_a
        for a in range(n_a):
            out[k + a] = _clip(_unclipped(False, 0.0, camp[k + a], cs, True, d, base[k + a]),
                               lo, hi)


cdef void _clip_own(
    const float* v0, const float* base, float lo, float hi, Py_ssize_t nb, Py_ssize_t n_a,
    float* out,
) noexcept nogil:
    """A national-interest issue: ``_clip(v0 + base)``, ``v0`` its shift per world (less the
    dictation term where it has one: the same float32 difference)."""
    cdef Py_ssize_t wl, a, k
    cdef float x
    for wl in range(nb):
        x = v0[wl]
        k = wl * n_a
        for a in range(n_a):
            out[k + a] = _clip(_unclipped(True, x, 0.0, 0.0, False, 0.0, base[k + a]), lo, hi)


cdef void _camps(
    const unsigned char* reform, const float* c_reform, const float* c_other, Py_ssize_t nb,
    Py_ssize_t n_a, float* out,
) noexcept nogil:
    """Each actor's camp shift, its camp's (``reform``: ``[nb, n_a]``, one block of worlds)."""
    cdef Py_ssize_t wl, a
    cdef float cr, co
    cdef const unsigned char* camps
    cdef float* row
    for wl in range(nb):
        cr = c_reform[wl]
        co = c_other[wl]
        camps = reform + wl * n_a
        row = out + wl * n_a
        for a in range(n_a):
            row[a] = cr if camps[a] else co


ctypedef void (*_camp_loop)(const float*, float, const float*, float, float, Py_ssize_t,
                            float*) noexcept nogil
ctypedef void (*_camp_dict_loop)(const float*, float, const float*, const float*, float, float,
                                 Py_ssize_t, Py_ssize_t, float*) noexcept nogil
ctypedef void (*_own_loop)(const float*, const float*, float, float, Py_ssize_t, Py_ssize_t,
                           float*) noexcept nogil
ctypedef void (*_camps_loop)(const unsigned char*, const float*, const float*, Py_ssize_t,
                             Py_ssize_t, float*) noexcept nogil
cdef _camp_loop _camp_positions = _clip_camp
cdef _camp_dict_loop _camp_dict_positions = _clip_camp_dict
cdef _own_loop _own_positions = _clip_own
cdef _camps_loop _camp_shifts = _camps


cdef class PositionsRun:
    """What :func:`positions_of` reads besides the step's drivers and camps, laid out once per
    run (the arguments of :func:`positions` of those names), with the kernel's scratch."""

    cdef const float[:, :, :] base, alt
    cdef const long[:] elected, used
    cdef const unsigned char[:] holder_reform
    cdef const float[:] camp_span, dict_span
    cdef const double[:] span, low, high
    cdef long terror, wmd
    cdef const double[:, ::1] params
    cdef bint fill_unused
    cdef Py_ssize_t n_a
    cdef unsigned char[::1] any_lost, is_used, lost_any_of, lw
    cdef Py_ssize_t[::1] held, first, mem_start, mem, n_fixed
    cdef float[:, ::1] tile
    cdef float[::1] camp, shift, c_reform, c_other, dict_n, v0s
    cdef Py_ssize_t[:, ::1] fixed
    cdef unsigned char[:, ::1] negative_zero

    def __init__(
        self,
        const float[:, :, :] base,
        const float[:, :, :] alt,
        const long[:] elected,
        const unsigned char[:] holder_reform,
        const float[:] camp_span,
        const float[:] dict_span,
        const double[:] span,
        const double[:] low,
        const double[:] high,
        long terror,
        long wmd,
        const long[:] used,
        const double[:, ::1] params,
        bint fill_unused=True,
    ):
        cdef Py_ssize_t n_a = base.shape[1], n_e = elected.shape[0], n_i = span.shape[0]
        cdef Py_ssize_t n_u = used.shape[0], j
        if params.shape[1] != _N_PARAMETERS:
            raise ValueError("positions: params is not [m, 12]")
        self.base, self.alt, self.elected, self.used = base, alt, elected, used
        self.holder_reform, self.camp_span, self.dict_span = holder_reform, camp_span, dict_span
        self.span, self.low, self.high = span, low, high
        self.terror, self.wmd, self.params, self.fill_unused = terror, wmd, params, fill_unused
        self.n_a = n_a
        self.any_lost = np.zeros(max(n_e, 1), dtype=np.uint8)
        self.is_used = np.zeros(max(n_i, 1), dtype=np.uint8)
        for j in range(n_u):
            self.is_used[used[j]] = 1
        self.held = np.empty(max(n_e, 1), dtype=np.intp)
        self.lost_any_of = np.zeros(max(n_e, 1), dtype=np.uint8)
        # one block of worlds at a time: the scenario positions of the used issues laid out
        # as the block's positions (``tile``) and each actor's camp shift (``camp``)
        width = _BLOCK * max(n_a, 1)
        self.tile = np.empty((max(n_u, 1), width), dtype=np.float32)
        self.camp = np.empty(width, dtype=np.float32)
        self.shift = np.empty(_BLOCK, dtype=np.float32)
        self.c_reform = np.empty(_BLOCK, dtype=np.float32)
        self.c_other = np.empty(_BLOCK, dtype=np.float32)
        self.dict_n = np.empty(_BLOCK, dtype=np.float32)
        self.v0s = np.empty(_BLOCK, dtype=np.float32)
        self.first = np.empty(max(n_e, 1), dtype=np.intp)
        self.mem_start = np.zeros(n_e + 1, dtype=np.intp)
        self.mem = np.empty(max(n_e, 1), dtype=np.intp)
        self.lw = np.empty(_BLOCK * max(n_e, 1), dtype=np.uint8)
        self.fixed = np.empty((max(n_e, 1), _BLOCK), dtype=np.intp)
        self.n_fixed = np.empty(max(n_e, 1), dtype=np.intp)
        self.negative_zero = np.empty((max(n_u, 1), max(n_e, 1)), dtype=np.uint8)


def positions(
    const float[:, :, :] base,
    const float[:, :, :] alt,
    const unsigned char[:, :] control,
    const unsigned char[:, ::1] reform,
    const long[:] elected,
    const unsigned char[:] holder_reform,
    const double[:] gesture,
    const double[:] belief,
    const double[:] sanctions,
    const double[:] met,
    const double[:] pressure,
    const double[:] threat,
    const double[:] settlement,
    const float[:] camp_span,
    const float[:] dict_span,
    const double[:] span,
    const double[:] low,
    const double[:] high,
    long terror,
    long wmd,
    const long[:] used,
    const double[:, ::1] params,
    bint fill_unused=True,
    out_arr=None,
):
    """Effective ideal points ``[I, n, A]`` of float32: NaN on the issues not in ``used``,
    or, without ``fill_unused``, whatever memory held there (for a caller that never reads
    them: the engine; the fill was about a tenth of the kernel's time on the flagship).

    ``base`` is ``[m, A, I]``, ``alt`` ``[m', E, I]``, with one row shared by all worlds,
    one per world or one per state (``m`` states, each with ``n / m`` consecutive worlds,
    world ``w`` reading row ``w * m // n``); ``elected[e]`` is the actor
    holding institution ``e`` and ``holder_reform[e]`` its camp in the scenario. ``params``
    holds the parameters ``ρ_R, ρ_O, g_R, g_b, g_C, g_T, g_P, g_S, g_Rt, g_Rw, g_W, δ`` in
    its columns, one row shared by all worlds or one per world
    (:func:`detente.sim.mechanisms.iran_response.position_parameters`). ``out_arr``: a float32 ``[I, n, A]`` array to write them
    to and return (a buffer the caller reuses), else a new one.

    :func:`positions_of` of a :class:`PositionsRun` of these arguments (a run's steps lay
    that out once).
    """
    return positions_of(
        PositionsRun(base, alt, elected, holder_reform, camp_span, dict_span, span, low, high,
                     terror, wmd, used, params, fill_unused),
        control, reform, gesture, belief, sanctions, met, pressure, threat, settlement, out_arr)


def positions_of(
    PositionsRun run,
    const unsigned char[:, :] control,
    const unsigned char[:, ::1] reform,
    const double[:] gesture,
    const double[:] belief,
    const double[:] sanctions,
    const double[:] met,
    const double[:] pressure,
    const double[:] threat,
    const double[:] settlement,
    out_arr=None,
):
    """:func:`positions` with what does not change within a run in ``run``."""
    cdef const float[:, :, :] base = run.base, alt = run.alt
    cdef const long[:] elected = run.elected, used = run.used
    cdef const unsigned char[:] holder_reform = run.holder_reform
    cdef const float[:] camp_span = run.camp_span, dict_span = run.dict_span
    cdef const double[:] span = run.span, low = run.low, high = run.high
    cdef long terror = run.terror, wmd = run.wmd
    cdef const double[:, ::1] params = run.params
    cdef bint fill_unused = run.fill_unused
    cdef Py_ssize_t n = control.shape[0], n_a = reform.shape[1], n_e = elected.shape[0]
    cdef Py_ssize_t n_i = span.shape[0], n_u = used.shape[0]
    if n_a != run.n_a:
        raise ValueError("positions: reform's actors are not base's")
    if out_arr is None:
        out_arr = np.empty((n_i, n, n_a), dtype=np.float32)
    cdef float[:, :, ::1] out = out_arr
    if out.shape[0] != n_i or out.shape[1] != n or out.shape[2] != n_a:
        raise ValueError("positions: out_arr is not [I, n, A]")
    cdef unsigned char[::1] any_lost = run.any_lost
    cdef unsigned char[::1] is_used = run.is_used
    cdef Py_ssize_t[::1] held = run.held
    cdef unsigned char[::1] lost_any_of = run.lost_any_of
    cdef Py_ssize_t w, i, a, e, j, j2, h, wa, k, c, n_c
    cdef bint own, has_dict, lost
    cdef Py_ssize_t m_b = base.shape[0], m_a = alt.shape[0], r0, r1
    cdef Py_ssize_t w0, w1, nb, wl, size, tile_row = -2, tile_len = 0
    cdef double m_reform, m_other
    cdef float v0, dn, cs, v, lo, hi, zero = 0.0
    cdef float* row
    cdef float* at
    cdef float nan = np.nan
    cdef float[:, ::1] tile = run.tile
    cdef float[::1] camp = run.camp
    cdef float[::1] shift = run.shift  # per world of the block
    cdef float[::1] c_reform = run.c_reform
    cdef float[::1] c_other = run.c_other
    cdef float[::1] dict_n = run.dict_n
    cdef float[::1] v0s = run.v0s
    # the institutions a holder's camp lost somewhere: ``first[f]`` the first of holder
    # ``f``'s, ``mem[mem_start[f]:mem_start[f + 1]]`` those lost somewhere, in order; ``lw``
    # whether each world of the block lost each of them; ``fixed[f]`` the worlds of the block
    # whose holder ``f``'s positions the kernel computes one by one (``n_fixed[f]`` of them):
    # those that lost one of its institutions, every world where its scenario position is
    # -0.0 (``v + 0.0`` would differ from ``v``; ``negative_zero[j, f]``)
    cdef Py_ssize_t[::1] first = run.first
    cdef Py_ssize_t[::1] mem_start = run.mem_start
    cdef Py_ssize_t[::1] mem = run.mem
    cdef unsigned char[::1] lw = run.lw
    cdef Py_ssize_t[:, ::1] fixed = run.fixed
    cdef Py_ssize_t[::1] n_fixed = run.n_fixed
    cdef unsigned char[:, ::1] negative_zero = run.negative_zero
    cdef Py_ssize_t n_f = 0, n_m = 0, f, m
    # each parameter's step from one world to the next (0: shared)
    cdef Py_ssize_t s_p = _per_world(params.shape[0])  # a row per world, else one
    cdef const double* q  # this world's parameters
    with nogil:
        for e in range(n_e):  # (the run's scratch: zeros where the kernel sets some)
            any_lost[e] = 0
            lost_any_of[e] = 0
            mem_start[e] = 0
        mem_start[n_e] = 0
        for e in range(n_e):
            for w in range(n):
                if control[w, e] != holder_reform[e]:
                    any_lost[e] = 1
                    break
        for e in range(n_e):  # the first institution of each holder
            held[e] = e
            for j in range(e):
                if elected[j] == elected[e]:
                    held[e] = j
                    break
            if any_lost[e]:
                lost_any_of[held[e]] = 1
        for e in range(n_e):
            if lost_any_of[e]:
                first[n_f] = e
                mem_start[n_f] = n_m
                for j2 in range(e, n_e):
                    if held[j2] == e and any_lost[j2]:
                        mem[n_m] = j2
                        n_m += 1
                n_f += 1
        mem_start[n_f] = n_m
        for i in range(n_i if fill_unused else 0):  # unused issues: one block each
            if not is_used[i]:
                row = &out[i, 0, 0]
                for j in range(n * n_a):
                    row[j] = nan
        w1 = 0
        while w1 < n:
            # blocks of _BLOCK worlds, each within one state of a stacked run (its scenario
            # positions laid out once per state; which worlds share a block changes no value)
            w0 = w1
            w1 = min(w0 + _BLOCK, n)
            if 1 < m_b < n:
                w1 = min(w1, _state_end(w0, m_b, n))
            nb = w1 - w0
            size = nb * n_a
            r0 = row_of(w0, m_b, n)
            r1 = row_of(w1 - 1, m_b, n)
            if r0 != r1 or r0 != tile_row or nb > tile_len:  # the block's scenario positions
                for wl in range(nb if r0 != r1 else 1):
                    for j in range(n_u):
                        at = &tile[j, wl * n_a]
                        for a in range(n_a):
                            at[a] = base[row_of(w0 + wl, m_b, n), a, used[j]]
                if r0 == r1:  # one row: the first world's, copied (doubling) to the others
                    wl = 1
                    while wl < nb:
                        c = min(wl, nb - wl)
                        for j in range(n_u):
                            memcpy(&tile[j, wl * n_a], &tile[j, 0], c * n_a * sizeof(float))
                        wl += c
                tile_row = r0 if r0 == r1 else -1
                tile_len = nb
                for j in range(n_u):
                    for f in range(n_f):
                        negative_zero[j, f] = 0
                        for wl in range(nb):
                            k = wl * n_a + elected[first[f]]
                            if tile[j, k] == 0 and signbit(tile[j, k]):
                                negative_zero[j, f] = 1
            for wl in range(nb):  # each world's camp shifts and lost institutions
                w = w0 + wl
                q = &params[w * s_p, 0]
                m_reform = q[_RR] * _goodwill(q[_GG], q[_BG], gesture[w], belief[w])
                m_other = q[_RO] * _willingness(q[_CG], q[_BG], q[_TG], q[_PG], met[w],
                                                belief[w], threat[w], gesture[w], pressure[w])
                c_reform[wl] = <float>m_reform
                c_other[wl] = <float>m_other
                dict_n[wl] = (<float>q[_DE]) * (<float>sanctions[w])
                for m in range(n_m):
                    lw[wl * n_m + m] = control[w, mem[m]] != holder_reform[mem[m]]
            _camp_shifts(&reform[w0, 0], &c_reform[0], &c_other[0], nb, n_a, &camp[0])
            for f in range(n_f):
                n_fixed[f] = 0
                for wl in range(nb):
                    lost = False
                    for m in range(mem_start[f], mem_start[f + 1]):
                        lost = lost | lw[wl * n_m + m]
                    if lost:
                        fixed[f, n_fixed[f]] = wl
                        n_fixed[f] += 1
            for j in range(n_u):
                i = used[j]
                row = &out[i, w0, 0]
                own = i == wmd or i == terror  # a national interest, not a camp's
                cs = camp_span[i]
                has_dict = dict_span[i] != 0
                lo = <float>low[i]
                hi = <float>high[i]
                if own:
                    for wl in range(nb):
                        w = w0 + wl
                        q = &params[w * s_p, 0]
                        if i == wmd:
                            v0 = <float>(-span[i] * (q[_WGG] * gesture[w] - q[_WTG] * threat[w]))
                        else:
                            v0 = <float>(-span[i] * (q[_SG] * settlement[w]
                                                     + q[_TGG] * gesture[w]))
                        v0s[wl] = v0
                        # (v0 - dn) + base: the dictation term subtracted once per world
                        shift[wl] = v0 - dict_n[wl] * dict_span[i] if has_dict else v0
                    _own_positions(&shift[0], &tile[j, 0], lo, hi, nb, n_a, row)
                elif has_dict:
                    for wl in range(nb):
                        shift[wl] = dict_n[wl] * dict_span[i]
                    _camp_dict_positions(&camp[0], cs, &shift[0], &tile[j, 0], lo, hi, nb, n_a,
                                         row)
                else:
                    _camp_positions(&camp[0], cs, &tile[j, 0], lo, hi, size, row)
                # an institution its holder's camp lost: the other camp's positions, added to
                # in the order of the institutions (``+ 0.0`` for those this world kept:
                # ``v`` itself unless ``v`` is -0.0, which needs a scenario position of -0.0)
                for f in range(n_f):
                    h = elected[first[f]]
                    n_c = nb if negative_zero[j, f] else n_fixed[f]
                    for c in range(n_c):
                        wl = c if negative_zero[j, f] else fixed[f, c]
                        k = wl * n_a + h
                        w = w0 + wl
                        wa = row_of(w, m_a, n)
                        v0 = v0s[wl] if own else 0.0
                        dn = dict_n[wl] * dict_span[i]
                        v = _unclipped(own, v0, camp[k], cs, has_dict, dn, tile[j, k])
                        for m in range(mem_start[f], mem_start[f + 1]):
                            if lw[wl * n_m + m]:
                                v = v + (alt[wa, mem[m], i] - tile[j, k])
                            else:
                                v = v + zero
                        row[k] = _clip(v, lo, hi)
    return out_arr


# ------------------------------------------------------------------ ratification's inputs
def requires_met(const unsigned char[:, :] active, const unsigned char[:, :] requires):
    """``[n, K]``: every instrument ``k`` requires (``requires[k, j]``) is in force."""
    cdef Py_ssize_t n = active.shape[0], n_k = requires.shape[0], w, k, j, m, n_pairs = 0
    out_arr = np.ones((n, n_k), dtype=np.bool_)
    cdef unsigned char[:, ::1] out = out_arr.view(np.uint8)
    pairs_arr = np.empty((max(n_k * n_k, 1), 2), dtype=np.intp)
    cdef Py_ssize_t[:, ::1] pairs = pairs_arr
    with nogil:
        for k in range(n_k):
            for j in range(requires.shape[1]):
                if requires[k, j]:
                    pairs[n_pairs, 0] = k
                    pairs[n_pairs, 1] = j
                    n_pairs += 1
        if n_pairs:
            for w in range(n):
                for m in range(n_pairs):
                    if not active[w, pairs[m, 1]]:
                        out[w, pairs[m, 0]] = 0
    return out_arr


cdef inline void _pending(
    const long* start, const unsigned char* active, Py_ssize_t size, long never,
    unsigned char* out,
) noexcept nogil:
    """Steps approved and not yet in force, ``start < never & ~active``, over ``size`` steps
    (flat ``[n * K]``), eight at a time: a block with no step approved (the most) is zero."""
    cdef Py_ssize_t j = 0, k
    cdef unsigned char approved
    cdef unsigned long long none = 0
    while j + 8 <= size:
        approved = 0
        for k in range(j, j + 8):
            approved = approved | (start[k] < never)
        if approved:
            for k in range(j, j + 8):
                out[k] = (start[k] < never) & (active[k] ^ 1)
        else:
            memcpy(out + j, &none, 8)
        j += 8
    for k in range(j, size):
        out[k] = (start[k] < never) & (active[k] ^ 1)


cdef void _prospective(
    const double* level, const double* moves_f, const double* moves_o, const double* low,
    const double* high, Py_ssize_t n_i, double* out,
) noexcept nogil:
    """``clip(level + (moves_f + moves_o), low, high)`` of one world."""
    cdef Py_ssize_t i
    cdef double v
    for i in range(n_i):
        v = level[i] + (moves_f[i] + moves_o[i])
        if v < low[i]:
            v = low[i]
        if v > high[i]:
            v = high[i]
        out[i] = v


ctypedef void (*_prospective_loop)(const double*, const double*, const double*, const double*,
                                   const double*, Py_ssize_t, double*) noexcept nogil
# called through a pointer: inlined into the kernels, gcc does not vectorise it
cdef _prospective_loop _prospective_levels = _prospective


cdef class ProspectiveScratch:
    """What :func:`prospective_levels` lays out from the bounds alone, and its scratch, for
    bounds of ``n_i`` issues: a run's steps share it (the kernel rewrites the scratch)."""

    cdef object lows_arr, highs_arr, sums_arr, count_arr
    cdef readonly Py_ssize_t n_i
    cdef double* lows_view  # the arrays' data (the kernel's, without memoryviews)
    cdef double* highs_view
    cdef double* sums_view
    cdef int* count_view

    def __init__(self, const double[::1] low, const double[::1] high):
        self.n_i = low.shape[0]
        if high.shape[0] != self.n_i:
            raise ValueError("prospective_levels: low and high differ in length")
        # the bounds repeated over _BLOCK worlds: a run of worlds without moves is one loop
        self.lows_arr = np.tile(np.asarray(low), _BLOCK)
        self.highs_arr = np.tile(np.asarray(high), _BLOCK)
        # the two sides' sums, then zeros: the moves of up to _BLOCK worlds with none
        self.sums_arr = np.zeros((2 + _BLOCK) * self.n_i)
        self.count_arr = np.empty(max(self.n_i, 1), dtype=np.intc)
        cdef double[::1] lows = self.lows_arr, highs = self.highs_arr, sums = self.sums_arr
        cdef int[::1] count = self.count_arr
        self.lows_view = &lows[0] if lows.shape[0] else NULL
        self.highs_view = &highs[0] if highs.shape[0] else NULL
        self.sums_view = &sums[0] if sums.shape[0] else NULL
        self.count_view = &count[0]


cdef bint _prospective_worlds(
    Py_ssize_t w0, Py_ssize_t w1, Py_ssize_t n, const double[:, ::1] level,
    const unsigned char* pending_f, Py_ssize_t k_f, const unsigned char* pending_o,
    Py_ssize_t k_o, const double[:, :, ::1] effects_f, const double[:, :, ::1] effects_o,
    const double[::1] low, const double[::1] high, ProspectiveScratch scratch,
    double[:, ::1] out,
) noexcept nogil:
    """:func:`prospective_levels`'s levels of worlds ``w0`` to ``w1`` (of ``n``) into ``out``,
    the pending steps' moves summed here; False (the rows then partly written) as soon as
    one world's sums could depend on their order."""
    cdef Py_ssize_t n_i = level.shape[1], w = w0
    cdef Py_ssize_t m_f = effects_f.shape[0], m_o = effects_o.shape[0]
    # each side's effects row of the first world, the row of all when one per state
    cdef Py_ssize_t r_f = row_of(w0, m_f, n) if w0 < w1 else 0
    cdef Py_ssize_t r_o = row_of(w0, m_o, n) if w0 < w1 else 0
    cdef bint one_f = w1 <= _state_end(w0, m_f, n), one_o = w1 <= _state_end(w0, m_o, n)
    cdef int* count = <int*>scratch.count_view
    cdef double* sums = scratch.sums_view  # (its zeros stay zeros: only sums[:2 n_i] change)
    cdef const double* lows = scratch.lows_view
    cdef const double* highs = scratch.highs_view
    cdef double* zero = sums + 2 * n_i
    cdef const double* move_f
    cdef const double* move_o
    cdef const double* e_f
    cdef const double* e_o
    cdef const unsigned char* pend_f
    cdef const unsigned char* pend_o
    cdef bint in_order = True, moves  # (no sum depends on its order)
    cdef Py_ssize_t run = 0  # worlds without moves before w, not yet computed
    while in_order and w < w1:
        pend_f = pending_f + w * k_f
        pend_o = pending_o + w * k_o
        move_f = move_o = zero
        moves = False
        if k_f and any_set(pend_f, k_f):
            e_f = &effects_f[r_f if one_f else row_of(w, m_f, n), 0, 0]
            in_order = order_free(pend_f, e_f, k_f, n_i, count)
            step_sum(pend_f, e_f, k_f, n_i, sums)
            move_f = sums
            moves = True
        if k_o and any_set(pend_o, k_o):
            e_o = &effects_o[r_o if one_o else row_of(w, m_o, n), 0, 0]
            in_order = in_order and order_free(pend_o, e_o, k_o, n_i, count)
            step_sum(pend_o, e_o, k_o, n_i, sums + n_i)
            move_o = sums + n_i
            moves = True
        if moves:
            if run:
                _prospective_levels(&level[w - run, 0], zero, zero, lows, highs, run * n_i,
                                    &out[w - run, 0])
                run = 0
            _prospective_levels(&level[w, 0], move_f, move_o, &low[0], &high[0], n_i,
                                &out[w, 0])
        else:
            run += 1
            if run == _BLOCK or w == w1 - 1:
                _prospective_levels(&level[w + 1 - run, 0], zero, zero, lows, highs,
                                    run * n_i, &out[w + 1 - run, 0])
                run = 0
        w += 1
    return in_order


def prospective_levels(
    const double[:, ::1] level,
    const long[:, ::1] f_start,
    const unsigned char[:, ::1] f_active,
    const long[:, ::1] o_start,
    const unsigned char[:, ::1] o_active,
    long never,
    const double[:, :, ::1] effects_f,
    const double[:, :, ::1] effects_o,
    const double[::1] low,
    const double[::1] high,
    ProspectiveScratch scratch=None,
):
    """Both sides' pending steps (bool ``[n, K]``) and the levels with their moves,
    :func:`prospective` of the sums of the pending steps' effects (``effects_*``
    ``[m, K, I]``, one matrix or one per state, row ``w * m // n``).

    Returns ``(prospective, pending_f, pending_o)``. The sums are formed here, in the steps'
    order, where their order cannot matter
    (:func:`~detente.sim.native.step_sums.order_free`); otherwise ``prospective`` is None
    and the caller forms it from the masks' products with the effects (BLAS's sums).
    ``scratch``: a :class:`ProspectiveScratch` of the same ``low`` and ``high`` (a run's
    steps share one), else one is laid out for the call.
    """
    prospective, pending_f, pending_o, loose = _prospective_states(
        level, f_start, f_active, o_start, o_active, never, effects_f, effects_o, low, high,
        scratch, 1)
    return None if loose is not None else prospective, pending_f, pending_o


def prospective_levels_states(
    const double[:, ::1] level,
    const long[:, ::1] f_start,
    const unsigned char[:, ::1] f_active,
    const long[:, ::1] o_start,
    const unsigned char[:, ::1] o_active,
    long never,
    const double[:, :, ::1] effects_f,
    const double[:, :, ::1] effects_o,
    const double[::1] low,
    const double[::1] high,
    ProspectiveScratch scratch,
    Py_ssize_t n_states,
):
    """:func:`prospective_levels` state by state of a stacked run of ``n_states`` states
    (each ``n / n_states`` consecutive worlds): ``(prospective, pending_f, pending_o,
    loose)``, ``loose`` None when every state's sums were formed here, else a uint8 array
    ``[n_states]`` marking the states whose rows of ``prospective`` the caller forms from
    the masks' products with the effects (BLAS's sums, as a run of that state alone does:
    a run falls back to BLAS for all its worlds when one needs it)."""
    return _prospective_states(level, f_start, f_active, o_start, o_active, never, effects_f,
                               effects_o, low, high, scratch, n_states)


cdef tuple _prospective_states(
    const double[:, ::1] level,
    const long[:, ::1] f_start,
    const unsigned char[:, ::1] f_active,
    const long[:, ::1] o_start,
    const unsigned char[:, ::1] o_active,
    long never,
    const double[:, :, ::1] effects_f,
    const double[:, :, ::1] effects_o,
    const double[::1] low,
    const double[::1] high,
    ProspectiveScratch scratch,
    Py_ssize_t n_states,
):
    """:func:`prospective_levels_states` (both kernels' body)."""
    cdef Py_ssize_t n = level.shape[0], n_i = level.shape[1], s
    cdef Py_ssize_t k_f = f_start.shape[1], k_o = o_start.shape[1]
    if n_states < 1 or n % n_states:
        raise ValueError("prospective_levels: the worlds are not n_states equal states")
    pending_f_arr = np.empty((n, k_f), dtype=np.bool_)
    pending_o_arr = np.empty((n, k_o), dtype=np.bool_)
    cdef unsigned char[:, ::1] pending_f = pending_f_arr.view(np.uint8)
    cdef unsigned char[:, ::1] pending_o = pending_o_arr.view(np.uint8)
    if scratch is None or scratch.n_i != n_i:
        scratch = ProspectiveScratch(low, high)
    out_arr = np.empty((n, n_i))
    cdef double[:, ::1] out = out_arr
    cdef unsigned char[::1] loose
    cdef unsigned char* flags  # the loose states (an array made only when there is one)
    cdef bint finite = True, any_loose = False
    cdef Py_ssize_t each = n // n_states
    if n == 0:
        return out_arr, pending_f_arr, pending_o_arr, None
    with nogil:
        if k_f:
            _pending(&f_start[0, 0], &f_active[0, 0], n * k_f, never, &pending_f[0, 0])
        if k_o:
            _pending(&o_start[0, 0], &o_active[0, 0], n * k_o, never, &pending_o[0, 0])
    if n_i == 0:
        return out_arr, pending_f_arr, pending_o_arr, None
    flags = <unsigned char*>calloc(n_states, 1)
    if flags == NULL:
        raise MemoryError()
    try:
        with nogil:
            finite = finite_rows(effects_f) and finite_rows(effects_o)
            for s in range(n_states):
                if not finite or not _prospective_worlds(
                        s * each, (s + 1) * each, n, level, &pending_f[0, 0], k_f,
                        &pending_o[0, 0], k_o, effects_f, effects_o, low, high, scratch, out):
                    flags[s] = 1
                    any_loose = True
        if not any_loose:
            return out_arr, pending_f_arr, pending_o_arr, None
        loose_arr = np.empty(n_states, dtype=np.uint8)
        loose = loose_arr
        for s in range(n_states):
            loose[s] = flags[s]
    finally:
        free(flags)
    return out_arr, pending_f_arr, pending_o_arr, loose_arr


def prospective(
    const double[:, ::1] level, const double[:, ::1] moves_f, const double[:, ::1] moves_o,
    const double[::1] low, const double[::1] high,
):
    """``clip(level + (moves_f + moves_o), low, high)``, ``[n, I]``."""
    cdef Py_ssize_t n = level.shape[0], n_i = level.shape[1], w
    out_arr = np.empty((n, n_i))
    cdef double[:, ::1] out = out_arr
    if n_i == 0:
        return out_arr
    with nogil:
        for w in range(n):
            _prospective(&level[w, 0], &moves_f[w, 0], &moves_o[w, 0], &low[0], &high[0], n_i,
                         &out[w, 0])
    return out_arr
