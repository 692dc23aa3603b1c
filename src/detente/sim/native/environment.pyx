# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The international environment and the shocks of docs/model.md section 5, world by world.

Compiled form of :func:`detente.sim.engine.shocks_and_events` (:func:`shock_rows`,
:func:`jolt_rows`), :func:`detente.sim.engine.environment_step` (:func:`environment_rows`),
:func:`detente.sim.engine.sanctions_bite` (:func:`bite_rows`) and the functions of
:mod:`detente.sim.mechanisms.environment` (:func:`regional_rows`, :func:`threat_rows`,
:func:`settlement_rows`, :func:`friction_rows`, :func:`alignment_rows`). Each formula is one
``cdef`` function the entry points share; they do the float64 operations of the NumPy
formulation they replaced, in the same order (the friction's sums in NumPy's pairwise order),
so the numbers are the same bit for bit.

What stays in NumPy, before the kernels: every ``exp`` (NumPy's own vectorised ``exp``
differs from the C library's in the last bit) and the shocks' matrix products (BLAS).

Per-world parameters are 1-D arrays of one row (shared by all worlds) or one per world;
per-world leaves of higher rank have a leading axis of ``m`` rows, as in :mod:`.votes`: 1
(shared), ``n`` (one per world) or one per state of a stacked run, world ``w`` reading row
``w * m // n`` (:func:`detente.sim.native.rows.row_of`); so may the shocks' ``fade`` and the
settlement's ``chance`` (the per-state values of ``exp``, computed once per state).
"""

from libc.float cimport DBL_MAX
from libc.math cimport fabs
from detente.sim.native.byte_double cimport as_double
from detente.sim.native.numpy_sum cimport pairwise_sum
from detente.sim.native.per_world cimport AHEAD, Param, at, param, prefetch
from detente.sim.native.rows cimport any_set, row_of
from detente.sim.native.step_sums cimport picked_sum, step_sum

from libc.string cimport memset

import numpy as np


cdef extern from *:
    """
    /* np.maximum / np.minimum of two doubles: NaN propagates (from either), a tie returns
       b (so the sign of a zero); written as one conditional expression, which gcc turns
       into a select and vectorises in a loop */
    static inline double detente_env_maximum(double a, double b) {
        return (a > b || a != a) ? a : b;
    }
    static inline double detente_env_minimum(double a, double b) {
        return (a < b || a != a) ? a : b;
    }
    """
    double _maximum "detente_env_maximum" (double a, double b) noexcept nogil
    double _minimum "detente_env_minimum" (double a, double b) noexcept nogil
    # one world's rows, which no other pointer of the function reaches: gcc then vectorises
    # the short loops over them without first testing, every world, whether they overlap
    ctypedef double* rows "double * __restrict__"
    ctypedef const double* const_rows "const double * __restrict__"


cdef inline double _clip(double x, double low, double high) noexcept nogil:
    """``np.clip(x, low, high)``: ``x`` itself unless strictly outside (NaN stays NaN)."""
    if x < low:
        return low
    if x > high:
        return high
    return x


cdef inline double _row(const double[:] p, Py_ssize_t w) noexcept nogil:
    """Row ``w`` of a per-world parameter, or its only row when it is shared."""
    return p[w] if p.shape[0] > 1 else p[0]


cdef Py_ssize_t[::1] _weighted(const double[:, :, ::1] salience):
    """The terms ``x·I + i`` whose salience is not zero in some row (NaN counts: not zero)."""
    return np.flatnonzero(
        (np.asarray(salience) != 0).any(axis=0).reshape(-1)).astype(np.intp)


# ------------------------------------------------------------------ the formulas, per world
cdef inline double _threat_clout(
    const double* clout, const unsigned char* threat, Py_ssize_t n_x, double* buf,
) noexcept nogil:
    """``R`` of one row of clouts: the threatening third parties' clout, NumPy's sum
    (``buf``: scratch of ``n_x``)."""
    cdef Py_ssize_t x
    cdef double total = 0.0
    if n_x < 8:  # NumPy's order: one by one
        for x in range(n_x):
            total = total + clout[x] * as_double(threat[x])
        return total
    for x in range(n_x):
        buf[x] = clout[x] * as_double(threat[x])
    return pairwise_sum(buf, n_x)


cdef inline double _regional(double now, double start) noexcept nogil:
    """``r = R / R0`` (:func:`detente.sim.mechanisms.environment.regional_strength`) of one
    world from its :func:`_threat_clout` now and at the start."""
    return now / start if start > 0 else 1.0


cdef double[::1] _threat_clouts(
    const double[:, ::1] clout, const unsigned char* threat, double* buf):
    """:func:`_threat_clout` of each row of ``clout``."""
    cdef Py_ssize_t r
    out = np.empty(clout.shape[0])
    cdef double[::1] o = out
    for r in range(clout.shape[0]):
        o[r] = _threat_clout(&clout[r, 0], threat, clout.shape[1], buf)
    return o


cdef inline double _threat(
    double threat, double push, double rate, double fade, double regional, double jump,
    double start, double share, double decay,
) noexcept nogil:
    """:func:`detente.sim.mechanisms.environment.threat_update` (``fade = exp(-rate·dt)``)."""
    cdef double target = _clip(start * ((1.0 - share) + share * regional), 0.0, 1.0)
    cdef double eq = (push + decay * target) / rate if rate > 0 else threat
    cdef double relaxed = eq + (threat - eq) * fade
    return _clip(relaxed + jump, 0.0, 1.0)


cdef inline double _settlement(
    double settlement, double uniform, double jump, double chance, double progress,
) noexcept nogil:
    """:func:`detente.sim.mechanisms.environment.settlement_update`
    (``chance = 1 − exp(−λ·dt)``)."""
    cdef double hit = 1.0 if uniform < chance else 0.0
    cdef double advanced = settlement + hit * progress * (1.0 - settlement)
    return _clip(advanced + jump, 0.0, 1.0)


cdef inline double _distance(
    double level, double position, double span, double d, double symmetry,
) noexcept nogil:
    """``d_ai`` of :func:`detente.sim.mechanisms.environment.allied_friction`: the gap
    against the focal side's conciliatory direction, plus ``σ`` times the gap along it."""
    cdef double gap = (level - position) / span
    if d != 0:
        return _maximum(0.0, -d * gap) + symmetry * _maximum(0.0, d * gap)
    return fabs(gap) + symmetry * 0.0


cdef inline Py_ssize_t _add_term(
    double* lw, double* ld, double* weight, double* dist, Py_ssize_t k, Py_ssize_t cut,
    Py_ssize_t t, double wt, double term,
) noexcept nogil:
    """Add term ``k`` (weight ``wt``, weighted distance ``term``) to its lane of NumPy's
    pairwise sum (``k < cut``) or to the tail; returns the tail's new length."""
    if k < cut:
        lw[k & 7] += wt
        ld[k & 7] += term
        return t
    weight[t] = wt
    dist[t] = term
    return t + 1


cdef inline void _lane_totals(
    const double* lw, const double* ld, const double* weight, const double* dist,
    Py_ssize_t t, double* total, double* dist_sum,
) noexcept nogil:
    """The two sums from their eight lanes (combined in NumPy's order), then the tail."""
    cdef Py_ssize_t j
    total[0] = ((lw[0] + lw[1]) + (lw[2] + lw[3])) + ((lw[4] + lw[5]) + (lw[6] + lw[7]))
    dist_sum[0] = ((ld[0] + ld[1]) + (ld[2] + ld[3])) + ((ld[4] + ld[5]) + (ld[6] + ld[7]))
    for j in range(t):
        total[0] += weight[j]
        dist_sum[0] += dist[j]


cdef inline double _friction(
    const double* level, const double* position, const double* clout, const double* salience,
    Py_ssize_t n_x, Py_ssize_t n_i, const double* span, const double* direction,
    double symmetry, double hostility, double* weight, double* dist,
    const Py_ssize_t* weighted, const Py_ssize_t* ally, Py_ssize_t n_weighted,
) noexcept nogil:
    """:func:`detente.sim.mechanisms.environment.allied_friction` of one world, from its rows
    (``level`` ``[I]``, ``position`` and ``salience`` ``[X, I]``, ``clout`` ``[X]``), with the
    weight ``w_ai = clout[a] · salience[a, i]``; ``weight`` and ``dist`` are ``X·I`` scratch.

    The two sums are NumPy's pairwise sums over the ``X·I`` terms in (ally, issue) order.
    Every term is ``+0`` or positive (weights >= 0, positions finite, ``σ >= 0``), so a term
    of zero weight adds nothing to any partial sum and is skipped (most are: non-allies,
    other issues); up to 128 terms, the eight lanes of the pairwise sum are accumulated
    directly (sequentially below 8 terms: no lane, all tail). ``weighted`` (or ``NULL``)
    lists the ``n_weighted`` terms whose salience is not zero (in some world): where the
    world's clouts are finite, only those are visited (``ally``: each one's ally, ``k // I``).
    """
    cdef Py_ssize_t x, i, j, k = 0, t = 0, m
    cdef Py_ssize_t n_k = n_x * n_i
    cdef Py_ssize_t cut = n_k - n_k % 8 if n_k >= 8 else 0
    cdef double wt, term, total, dist_sum, g, c
    cdef double lw[8]
    cdef double ld[8]
    cdef bint finite = True
    if weighted != NULL:  # a finite clout times a zero salience is a zero weight: skipped
        for x in range(n_x):
            finite = finite & (fabs(clout[x]) <= DBL_MAX)
    if n_k <= 128 and weighted != NULL and finite:
        for j in range(8):
            lw[j] = 0.0
            ld[j] = 0.0
        for m in range(n_weighted):
            k = weighted[m]
            x = ally[m]
            i = k - x * n_i
            wt = clout[x] * salience[k]
            if wt != 0:
                term = wt * _distance(level[i], position[k], span[i], direction[i], symmetry)
                t = _add_term(lw, ld, weight, dist, k, cut, t, wt, term)
        _lane_totals(lw, ld, weight, dist, t, &total, &dist_sum)
    elif n_k > 128:
        for x in range(n_x):
            for i in range(n_i):
                wt = clout[x] * salience[k]
                weight[k] = wt
                dist[k] = 0.0 if wt == 0 else wt * _distance(
                    level[i], position[k], span[i], direction[i], symmetry)
                k += 1
        total = pairwise_sum(weight, n_k)
        dist_sum = pairwise_sum(dist, n_k)
    else:
        for j in range(8):
            lw[j] = 0.0
            ld[j] = 0.0
        for x in range(n_x):
            c = clout[x]
            for i in range(n_i):
                wt = c * salience[k]
                if wt != 0:
                    term = wt * _distance(level[i], position[k], span[i], direction[i],
                                          symmetry)
                    t = _add_term(lw, ld, weight, dist, k, cut, t, wt, term)
                k += 1
        _lane_totals(lw, ld, weight, dist, t, &total, &dist_sum)
    g = dist_sum / total if total > 0 else 0.0
    return g * (1.0 + hostility)


cdef inline double _alignment(
    double allied, double friction, double moderation, double menace, double erosion,
    double recovery, double via, double dt,
) noexcept nogil:
    """:func:`detente.sim.mechanisms.environment.alignment_update`."""
    cdef double pull = friction + moderation * ((1.0 - via) + via * friction)
    cdef double change = -erosion * allied * pull + recovery * (1.0 - allied) * menace
    return _clip(allied + dt * change, 0.0, 1.0)


cdef inline double _bite(double allied, double allied0, double share) noexcept nogil:
    """:func:`detente.sim.engine.sanctions_bite`."""
    cdef double den = _maximum(1.0 - share + share * allied0, 1e-9)
    return (1.0 - share + share * allied) / den


cdef inline void _jolt(
    rows level, rows transient, const double* low, const double* high,
    Py_ssize_t n_i, const_rows d_level, const double* d_focal, double* f_clout,
    Py_ssize_t n_f, const double* d_internal, double* o_clout, Py_ssize_t n_o,
    const double* d_third, double* third_clout, Py_ssize_t n_x,
) noexcept nogil:
    """A shock's or event's hit in one world (its rows): the levels move by ``d_level``
    (clipped to the issue bounds; the move is transient) and each clout is scaled by
    ``1 + change``, >= 0."""
    cdef Py_ssize_t i
    cdef double new
    for i in range(n_i):
        new = _minimum(_maximum(level[i] + d_level[i], low[i]), high[i])
        transient[i] = transient[i] + (new - level[i])
        level[i] = new
    _scale(f_clout, d_focal, n_f)
    _scale(o_clout, d_internal, n_o)
    _scale(third_clout, d_third, n_x)


cdef inline void _scale(rows clout, const_rows change, Py_ssize_t n_a) noexcept nogil:
    """Each clout scaled by ``1 + change``, >= 0 (:func:`_jolt`)."""
    cdef Py_ssize_t a
    for a in range(n_a):
        clout[a] = _maximum(clout[a] * (1.0 + change[a]), 0.0)


# ------------------------------------------------------------------ the engine's entry points
cdef inline double* _contiguous(const double[:] x, double* out) noexcept nogil:
    """``x`` copied to ``out`` (its ``x.shape[0]`` values, for loops gcc can vectorise)."""
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        out[i] = x[i]
    return out


cdef inline void _fade(
    const_rows now, rows level, rows transient, double f, const double* low,
    const double* high, Py_ssize_t n_i,
) noexcept nogil:
    """The transient part of one world's levels fades by the share ``f`` (clipped)."""
    cdef Py_ssize_t i
    cdef double new
    for i in range(n_i):
        new = _minimum(_maximum(now[i] - transient[i] * f, low[i]), high[i])
        transient[i] = transient[i] - (now[i] - new)
        level[i] = new


cdef class ShockRun:
    """What :func:`shock_rows_of` reads besides the step's state and hits, laid out once per
    run (the arguments of :func:`shock_rows` of those names), with its scratch for ``n``
    worlds."""

    cdef const double[:] fade
    cdef const long[:] menace_issues
    cdef const unsigned char[:, ::1] menace
    cdef const double[:, :, ::1] moves
    cdef readonly Py_ssize_t n, n_i, n_f, n_o, n_x
    cdef double[::1] sums
    cdef Py_ssize_t[::1] hit_world
    cdef object outputs  # [4, n]: the rows shock_rows_of returns (zeroed, written anew)
    cdef double[:, ::1] out

    def __init__(
        self,
        Py_ssize_t n,
        const double[:] fade,
        const double[:] low,
        const double[:] high,
        const double[:] span,
        const long[:] menace_issues,
        const unsigned char[:, ::1] menace,
        const double[:, :, ::1] moves,
        Py_ssize_t n_f,
        Py_ssize_t n_o,
        Py_ssize_t n_x,
    ):
        cdef Py_ssize_t n_i = low.shape[0], width = n_i + n_f + n_o + n_x + 2
        self.fade, self.menace_issues, self.menace, self.moves = fade, menace_issues, menace, moves
        self.n, self.n_i, self.n_f, self.n_o, self.n_x = n, n_i, n_f, n_o, n_x
        # one world's summed moves (levels, the three clouts, threat, settlement), then the
        # bounds and ranges (contiguous copies)
        self.sums = np.zeros(width + 3 * n_i)
        _contiguous(low, &self.sums[width])
        _contiguous(high, &self.sums[width + n_i])
        _contiguous(span, &self.sums[width + 2 * n_i])
        # the worlds some shock hit, in order
        self.hit_world = np.empty(n + 1, dtype=np.intp)
        self.outputs = np.empty((4, n))
        self.out = self.outputs


def shock_rows(
    const double[:, ::1] level_now,
    double[:, ::1] level,
    double[:, ::1] transient,
    const double[:] fade,
    const double[:] low,
    const double[:] high,
    const double[:] span,
    const long[:] menace_issues,
    const unsigned char[:, ::1] hits,
    const unsigned char[:, ::1] menace,
    const double[:, :, ::1] moves,
    double[:, ::1] f_clout,
    double[:, ::1] o_clout,
    double[:, ::1] third_clout,
):
    """Transients fade, then the step's shocks hit (:func:`detente.sim.engine.shocks_and_events`).

    The new levels are written to ``level`` (every entry), the levels now ``level_now`` are
    read; ``transient`` (and the clouts) are changed in place; ``fade`` is
    ``1 − exp(−shock_decay·dt)`` (one value, one per world or one per state). Shock ``s``
    hits world ``w`` where ``hits[w, s]`` (``[n, S]``, 0 or 1: the step's ``uniform <
    chance``, :func:`shock_hits`; ``S = 0``: no shocks); a world's hits move it by the sum
    of their ``moves`` (:func:`shock_moves`, ``[m, S, ...]``: one matrix, or one per state,
    row ``w * m // n``), added in the shocks' order; worlds without a hit are not touched.
    Returns ``(menace B, menacing hits, threat jump, settlement jump)``, ``[n]`` each: the
    mean share of ``menace_issues`` after the fade plus one if a ``menace`` shock hit, the
    number of those, and the hits' summed ``threat`` and ``settlement`` jumps.
    :func:`shock_rows_of` of a :class:`ShockRun` of these arguments.
    """
    return shock_rows_of(
        ShockRun(level.shape[0], fade, low, high, span, menace_issues, menace, moves,
                 f_clout.shape[1], o_clout.shape[1], third_clout.shape[1]),
        level_now, level, transient, hits, f_clout, o_clout, third_clout)


def shock_rows_of(
    ShockRun run,
    const double[:, ::1] level_now,
    double[:, ::1] level,
    double[:, ::1] transient,
    const unsigned char[:, ::1] hits,
    double[:, ::1] f_clout,
    double[:, ::1] o_clout,
    double[:, ::1] third_clout,
):
    """:func:`shock_rows` with what does not change within a run in ``run``; its four
    results are the rows of the run's ``[4, n]`` array, written anew by each call (what the
    previous call returned is overwritten)."""
    cdef const double[:] fade = run.fade
    cdef const long[:] menace_issues = run.menace_issues
    cdef const unsigned char[:, ::1] menace = run.menace
    cdef const double[:, :, ::1] moves = run.moves
    cdef Py_ssize_t n = level.shape[0], n_i = level.shape[1], n_s = hits.shape[1]
    cdef Py_ssize_t n_m = menace_issues.shape[0], w, i, j, s, k, count, n_hit = 0
    cdef Py_ssize_t n_f = f_clout.shape[1], n_o = o_clout.shape[1], n_x = third_clout.shape[1]
    cdef Py_ssize_t m_fade = fade.shape[0], m_moves = moves.shape[0]
    cdef Py_ssize_t width = n_i + n_f + n_o + n_x + 2
    if (n != run.n or n_i != run.n_i or n_f != run.n_f or n_o != run.n_o
            or n_x != run.n_x):
        raise ValueError("shock_rows: the run's scratch is not for these worlds and actors")
    if n_s and (moves.shape[1] != n_s or moves.shape[2] != width):
        raise ValueError(f"shock moves of shape {np.shape(moves)}: [m, {n_s}, {width}] expected")
    bad_arr, hits_arr, threat_arr, settle_arr = run.outputs
    cdef double[:, ::1] outputs = run.out
    cdef double[::1] bad = outputs[0]
    cdef double[::1] menace_hits = outputs[1]
    cdef double[::1] jump_threat = outputs[2]
    cdef double[::1] jump_settle = outputs[3]
    if n:
        memset(&outputs[0, 0], 0, 4 * n * sizeof(double))
    # one world's summed moves (levels, the three clouts, threat, settlement), then the
    # bounds and ranges (the run's contiguous copies)
    cdef double[::1] sums = run.sums
    cdef double* d_level = &sums[0]
    cdef double* d_focal = d_level + n_i
    cdef double* d_internal = d_focal + n_f
    cdef double* d_third = d_internal + n_o
    cdef double* lo = d_third + n_x + 2
    cdef double* hi = lo + n_i
    cdef double* sp = hi + n_i
    # the worlds some shock hit, in order
    cdef Py_ssize_t[::1] hit_world = run.hit_world
    cdef const unsigned char* hit
    cdef double f, acc
    cdef double* lv
    cdef const unsigned char* bad_shock
    with nogil:
        # the fade and the menace of the faded levels in every world; whether a shock hit
        for w in range(n):
            lv = &level[w, 0]
            _fade(&level_now[w, 0], lv, &transient[w, 0], fade[row_of(w, m_fade, n)], lo, hi,
                  n_i)
            if n_m:
                acc = 0.0
                for j in range(n_m):
                    i = menace_issues[j]
                    acc = acc + (lv[i] - lo[i]) / sp[i]
                bad[w] = acc / n_m
            if n_s and any_set(&hits[w, 0], n_s):
                hit_world[n_hit] = w
                n_hit += 1
        # the worlds hit: their hits' rows added in the shocks' order (native/step_sums.pxd)
        for k in range(n_hit):
            w = hit_world[k]
            hit = &hits[w, 0]
            step_sum(hit, &moves[row_of(w, m_moves, n), 0, 0], n_s, width, d_level)
            jump_threat[w] = d_third[n_x]
            jump_settle[w] = d_third[n_x + 1]
            _jolt(&level[w, 0], &transient[w, 0], lo, hi, n_i, d_level, d_focal,
                  &f_clout[w, 0], n_f, d_internal, &o_clout[w, 0], n_o, d_third,
                  &third_clout[w, 0], n_x)
            if n_m:
                bad_shock = &menace[w if menace.shape[0] > 1 else 0, 0]
                count = 0
                for s in range(n_s):
                    if hit[s] and bad_shock[s]:
                        count += 1
                menace_hits[w] = count
                bad[w] = bad[w] + (1.0 if count > 0 else 0.0)
    return bad_arr, hits_arr, threat_arr, settle_arr


def shock_moves(effects, clout_focal, clout_internal, clout_third, threat, settlement):
    """The shocks' moves as :func:`shock_rows` adds them, ``[m, S, I + A_f + A_o + X + 2]``:
    each shock's ``effects`` on the levels (``[m, S, I]``), its clout changes of the focal
    side's, the internal side's and the third parties' actors (``[m, S, A]`` each), its
    ``threat`` and ``settlement`` jumps (``[m, S]``); each leaf has one row or ``m`` (one
    per state; a shared leaf's row is repeated). One row of it, added where a shock hit,
    gives each of those sums (each column in the shocks' order, from 0)."""
    parts = [np.asarray(x, dtype=np.float64) for x in (
        effects, clout_focal, clout_internal, clout_third)]
    parts += [np.asarray(x, dtype=np.float64)[:, :, None] for x in (threat, settlement)]
    m = max(x.shape[0] for x in parts)
    if any(x.shape[0] not in (1, m) for x in parts):
        raise ValueError(f"shock leaves of {[x.shape[0] for x in parts]} rows: 1 or {m} expected")
    return np.ascontiguousarray(np.concatenate(
        [np.broadcast_to(x, (m, *x.shape[1:])) for x in parts], axis=2))


def shock_hits(const double[:, :, ::1] uniforms, const double[:, ::1] chance):
    """Every step's shock hits of a run, ``[T, n, S]`` (0 or 1): ``uniforms[w, t, s] <
    chance[w, s]`` (``uniforms`` ``[n, T, S]``, the draws; ``chance`` one row or one per
    world). Drawn world by world, the uniforms of one step are a cache line apart; the hits
    of a step are contiguous, for :func:`shock_rows`."""
    cdef Py_ssize_t n = uniforms.shape[0], n_t = uniforms.shape[1], n_s = uniforms.shape[2]
    cdef Py_ssize_t m = chance.shape[0], w, t, s
    out = np.empty((n_t, n, n_s), dtype=np.uint8)
    if n * n_t * n_s == 0:
        return out
    cdef unsigned char[:, :, ::1] o = out
    cdef const double* c
    cdef const double* u
    cdef unsigned char* h
    with nogil:
        for w in range(n):
            c = &chance[row_of(w, m, n), 0]
            for t in range(n_t):
                u = &uniforms[w, t, 0]
                h = &o[t, w, 0]
                for s in range(n_s):
                    h[s] = u[s] < c[s]
    return out


def jolt_rows(
    double[:, ::1] level,
    double[:, ::1] transient,
    const double[:] low,
    const double[:] high,
    const double[:, ::1] d_level,
    const double[:, ::1] d_focal,
    const double[:, ::1] d_internal,
    const double[:, ::1] d_third,
    double[:, ::1] f_clout,
    double[:, ::1] o_clout,
    double[:, ::1] third_clout,
):
    """Scheduled events hit every world (in place): their summed moves ``d_*``."""
    cdef Py_ssize_t w, n_i = level.shape[1]
    cdef double[::1] bounds = np.zeros(2 * n_i + 1)
    cdef double* lo = _contiguous(low, &bounds[0])
    cdef double* hi = _contiguous(high, lo + n_i)
    with nogil:
        for w in range(level.shape[0]):
            _jolt(&level[w, 0], &transient[w, 0], lo, hi, n_i,
                  &d_level[w if d_level.shape[0] > 1 else 0, 0],
                  &d_focal[w if d_focal.shape[0] > 1 else 0, 0], &f_clout[w, 0],
                  f_clout.shape[1], &d_internal[w if d_internal.shape[0] > 1 else 0, 0],
                  &o_clout[w, 0], o_clout.shape[1],
                  &d_third[w if d_third.shape[0] > 1 else 0, 0], &third_clout[w, 0],
                  third_clout.shape[1])


cdef class EnvironmentRun:
    """What :func:`environment_rows` reads besides the state, laid out once per run: the
    third parties' start clouts and threat mask, the allies' positions and salience with
    their :func:`weighted_terms`, the issues' spans and the focal side's directions, the
    settlement's chance per step and the parameters (as :func:`detente.sim.native.leaf`
    gives them), with the kernel's scratch."""

    cdef const double[:] threat_start, regional_share, decay, chance, progress
    cdef const double[:, :, ::1] position, salience
    cdef const double[:] symmetry, neutral, erosion, recovery, via
    cdef double dt
    cdef const Py_ssize_t[::1] weighted
    cdef Py_ssize_t m_c, n_threat_parties
    cdef const double[:] hostility_gain
    cdef object pace  # [3, n]: the rows threat_pace_rows returns (written anew by each call)
    cdef double[:, ::1] pace_rows
    cdef unsigned char[::1] mask
    cdef double[::1] start, issue, weight, dist
    cdef Py_ssize_t[::1] ally

    def __init__(
        self,
        const double[:, ::1] clout0,
        const unsigned char[:] threat_mask,
        const double[:] threat_start,
        const double[:] regional_share,
        const double[:] decay,
        const double[:] chance,
        const double[:] progress,
        const double[:, :, ::1] position,
        const double[:, :, ::1] salience,
        const double[:] span,
        const double[:] direction,
        const double[:] symmetry,
        const double[:] neutral,
        const double[:] erosion,
        const double[:] recovery,
        const double[:] via,
        double dt,
        const Py_ssize_t[::1] weighted,
        const double[:] hostility_gain,
        Py_ssize_t n,
    ):
        cdef Py_ssize_t n_x = clout0.shape[1], n_i = salience.shape[2], m
        cdef Py_ssize_t n_k = max(salience.shape[1] * n_i, n_x)
        cdef Py_ssize_t n_weighted = weighted.shape[0] - 1
        self.threat_start, self.regional_share, self.decay = threat_start, regional_share, decay
        self.chance, self.progress = chance, progress
        self.position, self.salience = position, salience
        self.symmetry, self.neutral, self.erosion = symmetry, neutral, erosion
        self.recovery, self.via, self.dt, self.weighted = recovery, via, dt, weighted
        self.m_c, self.n_threat_parties = clout0.shape[0], n_x
        self.weight = np.empty(max(n_k, 1))
        self.dist = np.empty(max(n_k, 1))
        self.mask = np.array(threat_mask, dtype=np.uint8)
        # R0 of each row of start clouts; the per-issue constants contiguous; each term's ally
        self.start = _threat_clouts(clout0, &self.mask[0] if n_x else NULL, &self.weight[0])
        self.issue = np.empty(2 * n_i + 1)
        _contiguous(span, &self.issue[0])
        _contiguous(direction, &self.issue[n_i])
        self.ally = np.zeros(n_weighted + 1, dtype=np.intp)
        for m in range(n_weighted):
            self.ally[m] = weighted[m] // n_i
        self.hostility_gain = hostility_gain
        self.pace = np.empty((3, n))
        self.pace_rows = self.pace


def threat_pace_rows(EnvironmentRun run, const double[::1] hostility):
    """The step's push ``k·h``, rate ``k·h + d`` and the exponent ``−rate·dt`` of the threat's
    fading in every world (:func:`detente.sim.mechanisms.environment.threat_pace` before its
    ``exp``, which the caller takes in place: NumPy's), ``k`` the run's ``hostility_gain``,
    ``d`` its ``decay``: the three rows of the run's ``[3, n]`` buffer, written anew by each
    call."""
    cdef Py_ssize_t n = hostility.shape[0], w
    cdef double[:, ::1] out = run.pace_rows
    cdef Param p_gain = param(run.hostility_gain), p_decay = param(run.decay)
    cdef double dt = run.dt, rate, push, gain, decay
    cdef double* push_row
    cdef double* rate_row
    cdef double* fade_row
    if n != out.shape[1]:
        raise ValueError("threat_pace_rows: the run's buffer is not for these worlds")
    push_arr, rate_arr, fade_arr = run.pace
    if n == 0:
        return push_arr, rate_arr, fade_arr
    push_row, rate_row, fade_row = &out[0, 0], &out[1, 0], &out[2, 0]
    with nogil:
        if p_gain.stride == 0 and p_decay.stride == 0:  # shared: a loop gcc vectorises
            gain, decay = at(p_gain, 0), at(p_decay, 0)
            for w in range(n):
                push = gain * hostility[w]
                rate = push + decay
                push_row[w] = push
                rate_row[w] = rate
                fade_row[w] = (-rate) * dt
        else:
            for w in range(n):
                push = at(p_gain, w) * hostility[w]
                rate = push + at(p_decay, w)
                push_row[w] = push
                rate_row[w] = rate
                fade_row[w] = (-rate) * dt
    return push_arr, rate_arr, fade_arr


def opened_rows(
    const double[:, ::1] level, Py_ssize_t j, const double[:] threshold, unsigned char[:] opened,
):
    """Rapprochement (:func:`detente.sim.engine.rapprochement`) in every world, in place:
    ``opened |= level[:, j] >= threshold`` (one threshold, or one per world)."""
    cdef Py_ssize_t n = opened.shape[0], w
    cdef Param p_threshold = param(threshold)
    if level.shape[0] != n or not 0 <= j < level.shape[1]:
        raise ValueError("opened_rows: level is not [n, I] with issue j")
    with nogil:
        for w in range(n):
            opened[w] = opened[w] | (level[w, j] >= at(p_threshold, w))


def environment_rows(
    EnvironmentRun run,
    const double[:] threat,
    const double[:] push,
    const double[:] rate,
    const double[:] fade,
    const double[:, ::1] third_clout,
    const double[:] threat_jump,
    const double[:] settlement,
    const double[:] uniform,
    const double[:] settlement_jump,
    const double[:, ::1] level,
    const double[:] hostility,
    const double[:] allied,
    const double[:] played_o,
    const double[:] menace,
):
    """One step of :func:`detente.sim.engine.environment_step` in every world, ``run`` (an
    :class:`EnvironmentRun`) holding what does not change within the run.

    Returns ``(threat, settlement, allied support, friction)``, each ``[n]``.
    """
    cdef Py_ssize_t n = threat.shape[0], w
    out_t, out_s, out_a, out_f = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    cdef double[::1] o_t = out_t
    cdef double[::1] o_s = out_s
    cdef double[::1] o_a = out_a
    cdef double[::1] o_f = out_f
    cdef double[::1] weight = run.weight, dist = run.dist, start = run.start
    cdef const double[:] chance = run.chance
    cdef const double[:, :, ::1] position = run.position, salience = run.salience
    cdef const Py_ssize_t[::1] weighted = run.weighted
    cdef const Py_ssize_t[::1] ally = run.ally
    cdef double r, f, nl, moderation, dt = run.dt
    cdef Py_ssize_t n_x = third_clout.shape[1], n_ax = salience.shape[1], n_i = salience.shape[2]
    cdef Py_ssize_t m_c = run.m_c, m_p = position.shape[0], m_s = salience.shape[0]
    cdef Py_ssize_t m_chance = chance.shape[0], n_weighted = weighted.shape[0] - 1
    if n_x != run.n_threat_parties:
        raise ValueError("environment_rows: third_clout's parties are not the run's")
    cdef const unsigned char* threatening = &run.mask[0] if n_x else NULL
    cdef double* sp = &run.issue[0]
    cdef double* direc = sp + n_i
    cdef Param p_start = param(run.threat_start), p_share = param(run.regional_share)
    cdef Param p_decay = param(run.decay), p_progress = param(run.progress)
    cdef Param p_symmetry = param(run.symmetry), p_neutral = param(run.neutral)
    cdef Param p_erosion = param(run.erosion), p_recovery = param(run.recovery)
    cdef Param p_via = param(run.via)
    # three loops over the worlds, each reading a few of the arrays: one loop reading all
    # of them stepped some twenty row pointers kept in memory, every world
    with nogil:
        for w in range(n):
            r = _regional(_threat_clout(&third_clout[w, 0], threatening, n_x, &weight[0]),
                          start[row_of(w, m_c, n)])
            o_t[w] = _threat(threat[w], push[w], rate[w], fade[w], r, threat_jump[w],
                             at(p_start, w), at(p_share, w), at(p_decay, w))
        for w in range(n):
            if w + AHEAD < n:
                prefetch(&uniform[w + AHEAD])
            o_s[w] = _settlement(settlement[w], uniform[w], settlement_jump[w],
                                 chance[row_of(w, m_chance, n)], at(p_progress, w))
        for w in range(n):
            f = _friction(&level[w, 0], &position[row_of(w, m_p, n), 0, 0], &third_clout[w, 0],
                          &salience[row_of(w, m_s, n), 0, 0], n_ax, n_i, sp, direc,
                          at(p_symmetry, w), hostility[w], &weight[0], &dist[0],
                          &weighted[0], &ally[0], n_weighted)
            o_f[w] = f
            nl = at(p_neutral, w)
            moderation = _minimum(_maximum((played_o[w] - nl) / (1.0 - nl), 0.0), 1.0)
            o_a[w] = _alignment(allied[w], f, moderation, menace[w], at(p_erosion, w),
                                at(p_recovery, w), at(p_via, w), dt)
    return out_t, out_s, out_a, out_f


def weighted_terms(const double[:, :, ::1] salience):
    """The friction's terms ``x·I + i`` whose salience is not zero in some row, with one
    spare entry (the list may be empty): what :func:`environment_rows` visits."""
    return np.append(_weighted(salience), 0)


def bite_rows(const double[:] allied, const double[:] allied0, const double[:] share):
    """:func:`detente.sim.engine.sanctions_bite` in every world, ``[n]``."""
    cdef Py_ssize_t n = allied.shape[0], w
    out = np.empty(n)
    cdef double[::1] o = out
    with nogil:
        for w in range(n):
            o[w] = _bite(allied[w], _row(allied0, w), _row(share, w))
    return out


# ------------------------------------------------------------------ one mechanism at a time
def regional_rows(
    const double[:, ::1] clout, const double[:, ::1] clout0, const unsigned char[:] threat,
):
    """:func:`detente.sim.mechanisms.environment.regional_strength`, ``[n]``."""
    cdef Py_ssize_t n = clout.shape[0], w
    cdef Py_ssize_t m_c = clout0.shape[0]
    out = np.empty(n)
    cdef double[::1] o = out
    cdef double[::1] buf = np.empty(max(clout.shape[1], 1))
    cdef const unsigned char[::1] mask = np.ascontiguousarray(threat)
    cdef const unsigned char* threatening = &mask[0] if clout.shape[1] else NULL
    cdef double[::1] start = _threat_clouts(clout0, threatening, &buf[0])
    with nogil:
        for w in range(n):
            o[w] = _regional(_threat_clout(&clout[w, 0], threatening, clout.shape[1], &buf[0]),
                             start[row_of(w, m_c, n)])
    return out


def threat_rows(
    const double[:] threat, const double[:] push, const double[:] rate, const double[:] fade,
    const double[:] regional, const double[:] jump, const double[:] start,
    const double[:] share, const double[:] decay,
):
    """:func:`detente.sim.mechanisms.environment.threat_update`, ``[n]``."""
    cdef Py_ssize_t n = threat.shape[0], w
    out = np.empty(n)
    cdef double[::1] o = out
    with nogil:
        for w in range(n):
            o[w] = _threat(threat[w], push[w], rate[w], fade[w], regional[w], jump[w],
                           _row(start, w), _row(share, w), _row(decay, w))
    return out


def settlement_rows(
    const double[:] settlement, const double[:] uniform, const double[:] jump,
    const double[:] chance, const double[:] progress,
):
    """:func:`detente.sim.mechanisms.environment.settlement_update`, ``[n]``."""
    cdef Py_ssize_t n = settlement.shape[0], w
    out = np.empty(n)
    cdef double[::1] o = out
    with nogil:
        for w in range(n):
            o[w] = _settlement(settlement[w], uniform[w], jump[w], _row(chance, w),
                               _row(progress, w))
    return out


def friction_rows(
    const double[:, ::1] level, const double[:, :, ::1] position, const double[:, ::1] clout,
    const double[:, :, ::1] salience, const double[:] span, const double[:] direction,
    const double[:] symmetry, const double[:] hostility,
):
    """:func:`detente.sim.mechanisms.environment.allied_friction`, ``[n]``."""
    cdef Py_ssize_t n = level.shape[0], w, m
    cdef Py_ssize_t n_k = max(salience.shape[1] * salience.shape[2], 1), n_i = salience.shape[2]
    out = np.empty(n)
    cdef double[::1] o = out
    cdef double[::1] weight = np.empty(n_k)
    cdef double[::1] dist = np.empty(n_k)
    cdef const Py_ssize_t[::1] weighted = np.append(_weighted(salience), 0)
    cdef Py_ssize_t n_weighted = weighted.shape[0] - 1
    cdef Py_ssize_t[::1] ally = np.zeros(n_weighted + 1, dtype=np.intp)
    cdef double[::1] issue = np.empty(2 * n_i + 1)
    cdef double* sp = _contiguous(span, &issue[0])
    cdef double* direc = _contiguous(direction, sp + n_i)
    for m in range(n_weighted):
        ally[m] = weighted[m] // n_i
    with nogil:
        for w in range(n):
            o[w] = _friction(&level[w, 0], &position[row_of(w, position.shape[0], n), 0, 0],
                             &clout[w, 0], &salience[row_of(w, salience.shape[0], n), 0, 0],
                             salience.shape[1], n_i, sp, direc, _row(symmetry, w),
                             hostility[w], &weight[0], &dist[0], &weighted[0], &ally[0],
                             n_weighted)
    return out


def alignment_rows(
    const double[:] allied, const double[:] friction, const double[:] moderation,
    const double[:] menace, const double[:] erosion, const double[:] recovery,
    const double[:] via, double dt,
):
    """:func:`detente.sim.mechanisms.environment.alignment_update`, ``[n]``."""
    cdef Py_ssize_t n = allied.shape[0], w
    out = np.empty(n)
    cdef double[::1] o = out
    with nogil:
        for w in range(n):
            o[w] = _alignment(allied[w], friction[w], moderation[w], menace[w],
                              _row(erosion, w), _row(recovery, w), _row(via, w), dt)
    return out
