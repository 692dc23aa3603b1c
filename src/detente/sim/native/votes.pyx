# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The trust gate and the weighted vote of docs/model.md section 2, one (world, candidate
instrument) at a time.

Compiled form of :func:`detente.sim.engine.voted`: the same float32 and float64 operations,
in the same order, as the NumPy formulation it replaced, except the two sums over actors
(:func:`_tally`), which NumPy's einsum summed in SIMD lanes, in an order that depends on
the build. Here actor ``a`` adds into lane ``a % 4`` (lanes start at ``+0.0``, each adds
its actors in actor order) and a sum is ``(lane0 + lane1) + (lane2 + lane3)``: four
float32 lanes, so the compiler can add four actors in one SSE2 instruction. The outcomes
agree on every golden case, but a support within one float32 rounding of its threshold
could be decided the other way. Every array is C-contiguous
(:func:`detente.sim.engine.voted` makes it so), which lets the compiler drop the stride
arithmetic; each loop over actors reads and writes through row pointers.
"""

from libc.math cimport fabs
from detente.sim.native.rows cimport any_set, row_of

import numpy as np

ctypedef fused position_t:
    float
    double

cdef extern from *:
    """
    #include <string.h>

    /* a row no other pointer of the loop writes (lets gcc vectorise without alias checks) */
    typedef float *__restrict__ detente_own_row;

    typedef struct { float pro, con; } detente_tally;

    /* The vote's two sums (see _tally's docstring): four float32 lanes, actor a in lane a % 4.
       gain, cl and sal hold n4 (a multiple of 4) floats; a padding slot's gain is NaN. */
    #if defined(__GNUC__)
    typedef float detente_f4 __attribute__((vector_size(16)));
    typedef int detente_i4 __attribute__((vector_size(16)));

    static inline detente_tally detente_lane_tally(
            const float *gain, const float *cl, const float *sal, float tk, Py_ssize_t n4) {
        const detente_f4 up_v = {tk, tk, tk, tk}, down_v = {-tk, -tk, -tk, -tk};
        detente_f4 g, c, s, pro = {0.0f, 0.0f, 0.0f, 0.0f}, con = pro;
        detente_i4 up, down;
        detente_tally t;
        Py_ssize_t a;
        for (a = 0; a < n4; a += 4) {
            memcpy(&g, gain + a, sizeof g);
            memcpy(&c, cl + a, sizeof c);
            memcpy(&s, sal + a, sizeof s);
            c = c * s;
            up = g > up_v;
            down = (g < down_v) & ~up;
            pro = pro + (detente_f4)((detente_i4)c & up);
            con = con + (detente_f4)((detente_i4)c & down);
        }
        t.pro = (pro[0] + pro[1]) + (pro[2] + pro[3]);
        t.con = (con[0] + con[1]) + (con[2] + con[3]);
        return t;
    }
    #else
    static inline detente_tally detente_lane_tally(
            const float *gain, const float *cl, const float *sal, float tk, Py_ssize_t n4) {
        float pro[4] = {0.0f, 0.0f, 0.0f, 0.0f}, con[4] = {0.0f, 0.0f, 0.0f, 0.0f}, c, g;
        detente_tally t;
        Py_ssize_t a;
        for (a = 0; a < n4; a++) {
            c = cl[a] * sal[a];
            g = gain[a];
            pro[a % 4] += g > tk ? c : 0.0f;
            con[a % 4] += (g < -tk && !(g > tk)) ? c : 0.0f;
        }
        t.pro = (pro[0] + pro[1]) + (pro[2] + pro[3]);
        t.con = (con[0] + con[1]) + (con[2] + con[3]);
        return t;
    }
    #endif
    """
    ctypedef float* own_row "detente_own_row"
    ctypedef struct Tally "detente_tally":
        float pro
        float con
    Tally lane_tally "detente_lane_tally" (
        const float* gain, const float* cl, const float* sal, float tk, Py_ssize_t n4) nogil


cdef inline float _sign32(double d) noexcept nogil:
    if d > 0:
        return 1.0
    if d < 0:
        return -1.0
    return 0.0


cdef inline void _move_gain(own_row gain, const position_t* x, float h0, float sd,
                            Py_ssize_t n_a) noexcept nogil:
    """A single-issue move's gain per actor: ``(x - h0) * sgn d`` (``h0 = L + d/2``)."""
    cdef Py_ssize_t a
    for a in range(n_a):
        gain[a] = ((<float>x[a]) - h0) * sd


cdef inline void _issue_gain(own_row gain, const position_t* x, const float* usal, float h0,
                             float sd, float ad, bint first, Py_ssize_t n_a) noexcept nogil:
    """One issue's term of a multi-issue move's gain, ``clip(2 sgn(d) (x - h0), -|d|, |d|)``
    times salience / range, set (``first``) or added to ``gain``."""
    cdef Py_ssize_t a
    cdef float h, lo = -ad
    if first:
        for a in range(n_a):
            h = ((<float>x[a]) - h0) * sd
            h = lo if h < lo else h  # (NaN stays NaN, as np.clip left it)
            h = ad if h > ad else h
            gain[a] = h * usal[a]
    else:
        for a in range(n_a):
            h = ((<float>x[a]) - h0) * sd
            h = lo if h < lo else h
            h = ad if h > ad else h
            gain[a] = gain[a] + h * usal[a]


cdef inline void _clouts32(own_row cl32, const double* clout, Py_ssize_t n_a) noexcept nogil:
    """A world's clouts as float32."""
    cdef Py_ssize_t a
    for a in range(n_a):
        cl32[a] = <float>clout[a]


def voted_pairs(
    const unsigned char[:, ::1] cand,
    const double[:, ::1] level,
    const position_t[:, :, ::1] position,
    const double[:, ::1] clout,
    const double[:, :, ::1] effects,
    const long[::1] n_iss,
    const long[:, ::1] iss_pad,
    const float[:, :, :, ::1] usal_pad,
    const float[::1] tol,
    const float[:, :, ::1] sal_kt,
    double sign,
    const double[::1] threshold,
    long proposer,
    const unsigned char[::1] gate,
    const double[::1] belief,
    const double[::1] trust,
    const double[:, ::1] rel,
):
    """``cand & trusted & (support >= threshold)`` for every world and instrument.

    A parameter array of ``m`` rows (its leading axis; ``position``'s second) serves the
    ``n`` worlds by reading row ``w * m // n``: ``m = 1`` is shared by all worlds, ``m = n``
    one row per world, and ``m`` = the number of states one row per state of a stacked run
    (each state's worlds consecutive, as many per state). ``position`` is issue-major ``[I, n or 1, A]``,
    float32 or float64 (each value rounded to float32 as it is read, as NumPy's cast did).
    ``trusted`` is the trust gate, ``~gate | (belief >= trust * rel)`` (``trust`` ``[1 or n]``,
    ``rel`` ``[1 or n, K]``), checked before the vote; an empty ``gate`` gates nothing.
    """
    cdef Py_ssize_t n = cand.shape[0], n_k = cand.shape[1], n_a = clout.shape[1]
    cdef Py_ssize_t m_p = position.shape[1], m_e = effects.shape[0], m_u = usal_pad.shape[0]
    cdef Py_ssize_t m_s = sal_kt.shape[0], m_t = threshold.shape[0]
    cdef Py_ssize_t n4 = (n_a + 3) // 4 * 4  # the actors in lanes of four (+0.0 padding)
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef unsigned char[:, ::1] out = out_arr.view(np.uint8)
    cdef float[::1] buf = np.zeros(2 * n4 + m_s * n_k * n4 + 1, dtype=np.float32)
    cdef float* gain = &buf[0]
    cdef float* cl32 = gain + n4
    cdef float* sal4 = cl32 + n4  # sal_kt padded: [m_s, K, n4]
    cdef Py_ssize_t w, k, j, a, i, nj, we, wp, wu, ws, wt
    cdef double d
    cdef float h0, sup, tot
    cdef Tally t
    cdef bint gated = gate.shape[0] > 0
    cdef Py_ssize_t m_tr = trust.shape[0] if gated else 1, m_r = rel.shape[0] if gated else 1
    cdef Py_ssize_t wtr, wr
    with nogil:
        for ws in range(m_s):
            for k in range(n_k):
                for a in range(n_a):
                    sal4[(ws * n_k + k) * n4 + a] = sal_kt[ws, k, a]
        for w in range(n):
            if n_k == 0 or not any_set(&cand[w, 0], n_k):
                continue
            # a leaf of m rows for n worlds: row w * m // n (shared, per state or per world)
            we = row_of(w, m_e, n)
            wp = row_of(w, m_p, n)
            wu = row_of(w, m_u, n)
            ws = row_of(w, m_s, n)
            wt = row_of(w, m_t, n)
            wtr = row_of(w, m_tr, n)
            wr = row_of(w, m_r, n)
            _clouts32(cl32, &clout[w, 0], n_a)
            for k in range(n_k):
                if not cand[w, k]:
                    continue
                if gated and gate[k] and not (belief[w] >= trust[wtr] * rel[wr, k]):
                    continue
                nj = n_iss[k]
                if nj == 1:
                    i = iss_pad[k, 0]
                    d = sign * effects[we, k, i]
                    h0 = <float>(level[w, i] + 0.5 * d)
                    _move_gain(gain, &position[i, wp, 0], h0, _sign32(d), n_a)
                elif nj == 0:
                    for a in range(n_a):
                        gain[a] = 0.0
                for j in range(nj if nj > 1 else 0):
                    i = iss_pad[k, j]
                    d = sign * effects[we, k, i]
                    h0 = <float>(level[w, i] + 0.5 * d)
                    _issue_gain(gain, &position[i, wp, 0], &usal_pad[wu, k, j, 0], h0,
                                <float>(2.0 * _sign32(d)), <float>fabs(d), j == 0, n_a)
                if proposer >= 0:
                    gain[proposer] = 1.0
                t = lane_tally(gain, cl32, &sal4[(ws * n_k + k) * n4], tol[k], n4)
                tot = t.pro + t.con
                sup = t.pro / tot if tot > 0 else 0.5
                out[w, k] = (<double>sup) >= threshold[wt]
    return out_arr
