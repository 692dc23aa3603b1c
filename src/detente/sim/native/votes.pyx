# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The trust gate and the weighted vote of docs/model.md section 2, one (world, candidate
instrument) at a time.

Compiled form of :func:`detente.sim.engine.voted`: the same float32 and float64 operations,
in the same order, as the NumPy formulation it replaced, except the two sums over actors,
which run actor by actor (NumPy's einsum summed in SIMD lanes, in an order that depends on
the build): the outcomes agree on every golden case, but a support within one float32
rounding of its threshold could be decided the other way. Every array is C-contiguous
(:func:`detente.sim.engine.voted` makes it so), which lets the compiler drop the stride
arithmetic.
"""

from libc.math cimport fabs
from detente.sim.native.rows cimport any_set, row_of

import numpy as np

ctypedef fused position_t:
    float
    double


cdef inline float _sign32(double d) noexcept nogil:
    if d > 0:
        return 1.0
    if d < 0:
        return -1.0
    return 0.0


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
    out_arr = np.zeros((n, n_k), dtype=np.bool_)
    cdef unsigned char[:, ::1] out = out_arr.view(np.uint8)
    cdef float[::1] gain = np.empty(n_a, dtype=np.float32)
    cdef float[::1] cl32 = np.empty(n_a, dtype=np.float32)
    cdef Py_ssize_t w, k, j, a, i, nj, we, wp, wu, ws, wt
    cdef double d
    cdef float h, h0, sd, ad, c, pro, con, tot, sup, tk, g, zero = 0.0
    cdef Py_ssize_t m_p = position.shape[1], m_e = effects.shape[0], m_u = usal_pad.shape[0]
    cdef Py_ssize_t m_s = sal_kt.shape[0], m_t = threshold.shape[0]
    cdef bint gated = gate.shape[0] > 0
    cdef Py_ssize_t m_tr = trust.shape[0] if gated else 1, m_r = rel.shape[0] if gated else 1
    cdef Py_ssize_t wtr, wr
    with nogil:
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
            for a in range(n_a):  # the clouts as float32, once per world
                cl32[a] = <float>clout[w, a]
            for k in range(n_k):
                if not cand[w, k]:
                    continue
                if gated and gate[k] and not (belief[w] >= trust[wtr] * rel[wr, k]):
                    continue
                nj = n_iss[k]
                if nj == 0:
                    for a in range(n_a):
                        gain[a] = 0.0
                for j in range(nj):
                    i = iss_pad[k, j]
                    d = sign * effects[we, k, i]
                    h0 = <float>(level[w, i] + 0.5 * d)
                    if nj == 1:
                        sd = _sign32(d)
                        for a in range(n_a):
                            gain[a] = ((<float>position[i, wp, a]) - h0) * sd
                    else:
                        sd = <float>(2.0 * _sign32(d))
                        ad = <float>fabs(d)
                        for a in range(n_a):
                            h = ((<float>position[i, wp, a]) - h0) * sd
                            if h < -ad:
                                h = -ad
                            if h > ad:
                                h = ad
                            h = h * usal_pad[wu, k, j, a]
                            gain[a] = h if j == 0 else gain[a] + h
                if proposer >= 0:
                    gain[proposer] = 1.0
                tk = tol[k]
                pro = 0.0
                con = 0.0
                if not tk < 0:  # (tk >= 0 or NaN: at most one side takes c) branch-free;
                    # adding +0.0 leaves pro and con as they were (neither is ever -0.0)
                    for a in range(n_a):
                        c = cl32[a] * sal_kt[ws, k, a]
                        g = gain[a]
                        pro = pro + (c if g > tk else zero)
                        con = con + (c if g < -tk else zero)
                else:
                    for a in range(n_a):
                        c = cl32[a] * sal_kt[ws, k, a]
                        if gain[a] > tk:
                            pro = pro + c
                        elif gain[a] < -tk:
                            con = con + c
                tot = pro + con
                sup = pro / tot if tot > 0 else 0.5
                out[w, k] = (<double>sup) >= threshold[wt]
    return out_arr
