# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The weighted vote's per-world code (docs/model.md section 2), shared by the kernels that
vote: :mod:`detente.sim.native.votes` (:func:`~detente.sim.native.votes.voted_pairs`) and
:mod:`detente.sim.native.consent` (a vote followed by the consent checks, one call). The
numbers and their order are described in the ``votes`` module's docstring."""

from libc.math cimport fabs
from libc.stdlib cimport calloc, free
from detente.sim.native.rows cimport any_set, row_of


ctypedef fused position_t:
    float
    double

cdef extern from *:
    """
    #include <math.h>
    #include <string.h>
    #if defined(__GNUC__) && defined(__SSE__)
    #include <xmmintrin.h>
    #endif

    /* a row no other pointer of the loop writes (lets gcc vectorise without alias checks) */
    typedef float *__restrict__ detente_own_row;

    typedef struct { float pro, con; } detente_tally;

    /* The vote's two sums (module docstring): four float32 lanes, actor a in lane a % 4,
       then (lane0 + lane1) + (lane2 + lane3). An actor adds its clout x salience c to `pro`
       where its gain g > tk, to `con` where g < -tk and not g > tk, else +0.0. cl and sal
       hold n4 (n_a rounded up to 4) floats, +0.0 past n_a: a padding slot adds +0.0. */
    #if defined(__GNUC__)
    typedef float detente_f4 __attribute__((vector_size(16)));
    typedef int detente_i4 __attribute__((vector_size(16)));
    typedef double detente_d4 __attribute__((vector_size(32)));
    typedef struct { detente_f4 pro, con, up, down; } detente_lanes;

    static inline detente_lanes detente_lanes_new(float tk) {
        detente_lanes s = {{0.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f},
                           {tk, tk, tk, tk}, {-tk, -tk, -tk, -tk}};
        return s;
    }

    static inline detente_f4 detente_load4(const float *p) {
        detente_f4 v;
        memcpy(&v, p, sizeof v);
        return v;
    }

    /* actors a .. a + 3: gains g, weights c (and-masks: the selected c or +0.0) */
    static inline void detente_add4(detente_lanes *s, detente_f4 g, detente_f4 c) {
        detente_i4 up = g > s->up, down = (g < s->down) & ~up;
        s->pro = s->pro + (detente_f4)((detente_i4)c & up);
        s->con = s->con + (detente_f4)((detente_i4)c & down);
    }

    static inline detente_tally detente_lanes_sum(detente_lanes s) {
        detente_f4 a = {s.pro[0], s.pro[2], s.con[0], s.con[2]};
        detente_f4 b = {s.pro[1], s.pro[3], s.con[1], s.con[3]};
        detente_f4 h = a + b;
        detente_tally t = {h[0] + h[1], h[2] + h[3]};
        return t;
    }

    /* positions a .. a + 3 as float32 (r of them left, 1 to 4; the rest 0) */
    static inline detente_f4 detente_x4_f(const float *x, Py_ssize_t r) {
        detente_f4 v = {0.0f, 0.0f, 0.0f, 0.0f};
        if (r >= 4)
            return detente_load4(x);
        v[0] = x[0];
        if (r > 1) v[1] = x[1];
        if (r > 2) v[2] = x[2];
        return v;
    }

    static inline detente_f4 detente_x4_d(const double *x, Py_ssize_t r) {
        detente_f4 v = {0.0f, 0.0f, 0.0f, 0.0f};
        detente_d4 d;
        if (r >= 4) {
            memcpy(&d, x, sizeof d);
            return __builtin_convertvector(d, detente_f4);
        }
        v[0] = (float)x[0];
        if (r > 1) v[1] = (float)x[1];
        if (r > 2) v[2] = (float)x[2];
        return v;
    }

    /* the positions of a row's last, partial block (n_a % 4 = r of them, 1 to 3) in lanes
       0 .. r - 1, as detente_x4_* gives them; with at least four actors, the row's last four
       read at once and moved down (the other lanes hold earlier actors' positions, which a
       tally weighs +0.0 as padding) */
    static inline detente_f4 detente_tail_f(const float *x, Py_ssize_t n_a) {
        Py_ssize_t r = n_a % 4;
        detente_f4 v;
        if (n_a < 4)
            return detente_x4_f(x + n_a - r, r);
        v = detente_load4(x + n_a - 4);
        if (r == 1)
            return __builtin_shuffle(v, (detente_i4){3, 3, 3, 3});
        if (r == 2)
            return __builtin_shuffle(v, (detente_i4){2, 3, 2, 3});
        return __builtin_shuffle(v, (detente_i4){1, 2, 3, 3});
    }

    static inline detente_f4 detente_tail_d(const double *x, Py_ssize_t n_a) {
        Py_ssize_t r = n_a % 4;
        detente_f4 v;
        if (n_a < 4)
            return detente_x4_d(x + n_a - r, r);
        v = detente_x4_d(x + n_a - 4, 4);
        if (r == 1)
            return __builtin_shuffle(v, (detente_i4){3, 3, 3, 3});
        if (r == 2)
            return __builtin_shuffle(v, (detente_i4){2, 3, 2, 3});
        return __builtin_shuffle(v, (detente_i4){1, 2, 3, 3});
    }

    static inline detente_tally detente_gain_tally(
            const float *gain, const float *cl, const float *sal, float tk, Py_ssize_t n4) {
        detente_lanes s = detente_lanes_new(tk);
        Py_ssize_t a;
        for (a = 0; a < n4; a += 4)
            detente_add4(&s, detente_load4(gain + a), detente_load4(cl + a) * detente_load4(sal + a));
        return detente_lanes_sum(s);
    }

    /* a single-issue move: gain ((float)x[a] - h0) * sd, 1.0 for the proposer */
    #define DETENTE_MOVE_TALLY(NAME, T, X4, TAIL)                                           \
    static inline detente_tally NAME(const T *x, float h0, float sd, const float *cl,       \
            const float *sal, float tk, Py_ssize_t n_a, Py_ssize_t proposer) {              \
        detente_lanes s = detente_lanes_new(tk);                                            \
        detente_f4 g;                                                                       \
        Py_ssize_t a, full = n_a - n_a % 4;                                                 \
        Py_ssize_t block = proposer >= 0 ? proposer - proposer % 4 : -1;                    \
        for (a = 0; a < full; a += 4) {                                                     \
            g = (X4(x + a, 4) - h0) * sd;                                                   \
            if (a == block)                                                                 \
                g[proposer % 4] = 1.0f;                                                     \
            detente_add4(&s, g, detente_load4(cl + a) * detente_load4(sal + a));            \
        }                                                                                   \
        if (full < n_a) {                                                                   \
            g = (TAIL(x, n_a) - h0) * sd;                                                   \
            if (full == block)                                                              \
                g[proposer % 4] = 1.0f;                                                     \
            detente_add4(&s, g, detente_load4(cl + full) * detente_load4(sal + full));      \
        }                                                                                   \
        return detente_lanes_sum(s);                                                        \
    }

    /* clip(h, lo, hi) as `h = lo if h < lo else h; h = hi if h > hi else h` (NaN stays) */
    static inline detente_f4 detente_clip4(detente_f4 h, detente_f4 lo, detente_f4 hi) {
    #if defined(__SSE__)
        /* maxps(lo, h) is lo > h ? lo : h, minps(hi, h) hi < h ? hi : h: NaN h stays */
        return (detente_f4)_mm_min_ps((__m128)hi, _mm_max_ps((__m128)lo, (__m128)h));
    #else
        detente_i4 m = h < lo;
        h = (detente_f4)((m & (detente_i4)lo) | (~m & (detente_i4)h));
        m = h > hi;
        return (detente_f4)((m & (detente_i4)hi) | (~m & (detente_i4)h));
    #endif
    }

    /* a multi-issue move's gains into `gain` (n4 floats; past n_a what the padding's
       positions give, which the tally weighs +0.0): per issue j, in issue order, the term
       clip((x - h0) * sd, -|d|, |d|) * usal, set by the first issue and added by the
       others, d = sign * eff_k[i] its move, h0 = (float)(level[i] + d / 2),
       sd = (float)(2 sgn d); four actors at a time (the last block's positions partly) */
    #define DETENTE_ISSUE_GAINS(NAME, T, X4, TAIL)                                          \
    static inline void NAME(const T *pos, Py_ssize_t pos_issue, const long *iss,           \
            Py_ssize_t nj, const double *level, const double *eff_k, double sign,          \
            const float *usal, float *gain, Py_ssize_t n_a, Py_ssize_t n4) {               \
        Py_ssize_t j, a, full = n_a - n_a % 4;                                              \
        double d;                                                                           \
        float h0, sd, ad;                                                                   \
        detente_f4 h, hi, lo;                                                               \
        const T *x;                                                                         \
        const float *u;                                                                     \
        for (a = 0; a < n4 && nj == 0; a += 4)                                              \
            memset(gain + a, 0, 4 * sizeof(float));                                         \
        for (j = 0; j < nj; j++) {                                                          \
            d = sign * eff_k[iss[j]];                                                       \
            h0 = (float)(level[iss[j]] + 0.5 * d);                                          \
            sd = d > 0 ? 2.0f : (d < 0 ? -2.0f : 0.0f);                                     \
            ad = (float)fabs(d);                                                            \
            hi = (detente_f4){ad, ad, ad, ad};                                              \
            lo = -hi;                                                                       \
            x = pos + iss[j] * pos_issue;                                                   \
            u = usal + j * n4;                                                              \
            for (a = 0; a < full; a += 4) {                                                 \
                h = detente_clip4((X4(x + a, 4) - h0) * sd, lo, hi) * detente_load4(u + a); \
                if (j)                                                                      \
                    h = detente_load4(gain + a) + h;                                        \
                memcpy(gain + a, &h, sizeof h);                                             \
            }                                                                               \
            if (full < n_a) {                                                               \
                h = detente_clip4((TAIL(x, n_a) - h0) * sd, lo, hi)                         \
                    * detente_load4(u + full);                                              \
                if (j)                                                                      \
                    h = detente_load4(gain + full) + h;                                     \
                memcpy(gain + full, &h, sizeof h);                                          \
            }                                                                               \
        }                                                                                   \
    }
    /* a two-issue move's tally: detente_issue_gains_* and detente_gain_tally in one pass
       over the blocks of four actors, both issues' terms in registers (the same numbers) */
    #define DETENTE_TWO_ISSUES_TALLY(NAME, T, X4, TAIL)                                     \
    static inline detente_tally NAME(const T *pos, Py_ssize_t pos_issue, const long *iss,  \
            const double *level, const double *eff_k, double sign, const float *usal,      \
            const float *cl, const float *sal, float tk, Py_ssize_t n_a, Py_ssize_t n4,    \
            Py_ssize_t proposer) {                                                         \
        detente_lanes s = detente_lanes_new(tk);                                            \
        Py_ssize_t a, full = n_a - n_a % 4;                                                 \
        Py_ssize_t block = proposer >= 0 ? proposer - proposer % 4 : -1;                    \
        double d0 = sign * eff_k[iss[0]], d1 = sign * eff_k[iss[1]];                        \
        float h0 = (float)(level[iss[0]] + 0.5 * d0), h1 = (float)(level[iss[1]] + 0.5 * d1); \
        float s0 = d0 > 0 ? 2.0f : (d0 < 0 ? -2.0f : 0.0f);                                 \
        float s1 = d1 > 0 ? 2.0f : (d1 < 0 ? -2.0f : 0.0f);                                 \
        float a0 = (float)fabs(d0), a1 = (float)fabs(d1);                                   \
        detente_f4 hi0 = {a0, a0, a0, a0}, hi1 = {a1, a1, a1, a1}, lo0 = -hi0, lo1 = -hi1;  \
        const T *x0 = pos + iss[0] * pos_issue, *x1 = pos + iss[1] * pos_issue;            \
        const float *u1 = usal + n4;                                                        \
        detente_f4 g;                                                                       \
        for (a = 0; a < full; a += 4) {                                                     \
            g = detente_clip4((X4(x0 + a, 4) - h0) * s0, lo0, hi0) * detente_load4(usal + a) \
                + detente_clip4((X4(x1 + a, 4) - h1) * s1, lo1, hi1) * detente_load4(u1 + a); \
            if (a == block)                                                                 \
                g[proposer % 4] = 1.0f;                                                     \
            detente_add4(&s, g, detente_load4(cl + a) * detente_load4(sal + a));            \
        }                                                                                   \
        if (full < n_a) {                                                                   \
            g = detente_clip4((TAIL(x0, n_a) - h0) * s0, lo0, hi0) * detente_load4(usal + full) \
                + detente_clip4((TAIL(x1, n_a) - h1) * s1, lo1, hi1) * detente_load4(u1 + full); \
            if (full == block)                                                              \
                g[proposer % 4] = 1.0f;                                                     \
            detente_add4(&s, g, detente_load4(cl + full) * detente_load4(sal + full));      \
        }                                                                                   \
        return detente_lanes_sum(s);                                                        \
    }
    #else  /* the same numbers, one actor at a time */
    static inline void detente_add1(float *pro, float *con, Py_ssize_t a, float g, float c,
                                    float tk) {
        pro[a % 4] += g > tk ? c : 0.0f;
        con[a % 4] += (g < -tk && !(g > tk)) ? c : 0.0f;
    }

    static inline detente_tally detente_sum4(const float *pro, const float *con) {
        detente_tally t = {(pro[0] + pro[1]) + (pro[2] + pro[3]),
                           (con[0] + con[1]) + (con[2] + con[3])};
        return t;
    }

    static inline detente_tally detente_gain_tally(
            const float *gain, const float *cl, const float *sal, float tk, Py_ssize_t n4) {
        float pro[4] = {0.0f, 0.0f, 0.0f, 0.0f}, con[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        Py_ssize_t a;
        for (a = 0; a < n4; a++)
            detente_add1(pro, con, a, gain[a], cl[a] * sal[a], tk);
        return detente_sum4(pro, con);
    }

    #define DETENTE_MOVE_TALLY(NAME, T, X4, TAIL)                                           \
    static inline detente_tally NAME(const T *x, float h0, float sd, const float *cl,       \
            const float *sal, float tk, Py_ssize_t n_a, Py_ssize_t proposer) {              \
        float pro[4] = {0.0f, 0.0f, 0.0f, 0.0f}, con[4] = {0.0f, 0.0f, 0.0f, 0.0f};         \
        Py_ssize_t a;                                                                       \
        for (a = 0; a < n_a; a++)                                                           \
            detente_add1(pro, con, a, a == proposer ? 1.0f : ((float)x[a] - h0) * sd,       \
                         cl[a] * sal[a], tk);                                               \
        return detente_sum4(pro, con);                                                      \
    }

    #define DETENTE_ISSUE_GAINS(NAME, T, X4, TAIL)                                          \
    static inline void NAME(const T *pos, Py_ssize_t pos_issue, const long *iss,           \
            Py_ssize_t nj, const double *level, const double *eff_k, double sign,          \
            const float *usal, float *gain, Py_ssize_t n_a, Py_ssize_t n4) {               \
        Py_ssize_t j, a;                                                                    \
        double d;                                                                           \
        float h0, sd, ad, h;                                                                \
        for (a = 0; a < n4; a++)                                                            \
            gain[a] = 0.0f;                                                                 \
        for (j = 0; j < nj; j++) {                                                          \
            d = sign * eff_k[iss[j]];                                                       \
            h0 = (float)(level[iss[j]] + 0.5 * d);                                          \
            sd = (float)(2.0 * (d > 0 ? 1.0f : (d < 0 ? -1.0f : 0.0f)));                    \
            ad = (float)fabs(d);                                                            \
            for (a = 0; a < n_a; a++) {                                                     \
                h = ((float)pos[iss[j] * pos_issue + a] - h0) * sd;                         \
                h = h < -ad ? -ad : h;                                                      \
                h = h > ad ? ad : h;                                                        \
                gain[a] = j ? gain[a] + h * usal[j * n4 + a] : h * usal[j * n4 + a];        \
            }                                                                               \
        }                                                                                   \
    }
    #endif
    DETENTE_MOVE_TALLY(detente_move_tally_f, float, detente_x4_f, detente_tail_f)
    DETENTE_MOVE_TALLY(detente_move_tally_d, double, detente_x4_d, detente_tail_d)
    DETENTE_ISSUE_GAINS(detente_issue_gains_f, float, detente_x4_f, detente_tail_f)
    DETENTE_ISSUE_GAINS(detente_issue_gains_d, double, detente_x4_d, detente_tail_d)
    #if defined(__GNUC__)
    DETENTE_TWO_ISSUES_TALLY(detente_two_issues_f, float, detente_x4_f, detente_tail_f)
    DETENTE_TWO_ISSUES_TALLY(detente_two_issues_d, double, detente_x4_d, detente_tail_d)
    #define DETENTE_TWO_ISSUES 1
    #else
    #define DETENTE_TWO_ISSUES 0
    #define detente_two_issues_f(...) detente_gain_tally(0, 0, 0, 0.0f, 0)
    #define detente_two_issues_d(...) detente_gain_tally(0, 0, 0, 0.0f, 0)
    #endif

    /* a world's clouts as float32, n4 of them (+0.0 past n_a) */
    static inline void detente_clouts32(float *out, const double *x, Py_ssize_t n_a) {
        Py_ssize_t a;
    #if defined(__GNUC__)
        detente_f4 v;
        for (a = 0; a < n_a; a += 4) {
            v = detente_x4_d(x + a, n_a - a);
            memcpy(out + a, &v, sizeof v);
        }
    #else
        for (a = 0; a < n_a; a++)
            out[a] = (float)x[a];
    #endif
    }

    /* the first k' >= k with row[k'] != 0, or n (eight bytes at a time) */
    static inline Py_ssize_t detente_next_set(const unsigned char *row, Py_ssize_t k,
                                              Py_ssize_t n) {
    #if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        unsigned long long x;
        for (; k + 8 <= n; k += 8) {
            memcpy(&x, row + k, 8);
            if (x)
                return k + (__builtin_ctzll(x) >> 3);
        }
    #endif
        while (k < n && !row[k])
            k++;
        return k;
    }
    """
    ctypedef float* own_row "detente_own_row"
    ctypedef struct Tally "detente_tally":
        float pro
        float con
    Tally gain_tally "detente_gain_tally" (
        const float* gain, const float* cl, const float* sal, float tk, Py_ssize_t n4) nogil
    Tally move_tally_f "detente_move_tally_f" (
        const float* x, float h0, float sd, const float* cl, const float* sal, float tk,
        Py_ssize_t n_a, Py_ssize_t proposer) nogil
    Tally move_tally_d "detente_move_tally_d" (
        const double* x, float h0, float sd, const float* cl, const float* sal, float tk,
        Py_ssize_t n_a, Py_ssize_t proposer) nogil
    void issue_gains_f "detente_issue_gains_f" (
        const float* pos, Py_ssize_t pos_issue, const long* iss, Py_ssize_t nj,
        const double* level, const double* eff_k, double sign, const float* usal,
        float* gain, Py_ssize_t n_a, Py_ssize_t n4) nogil
    void issue_gains_d "detente_issue_gains_d" (
        const double* pos, Py_ssize_t pos_issue, const long* iss, Py_ssize_t nj,
        const double* level, const double* eff_k, double sign, const float* usal,
        float* gain, Py_ssize_t n_a, Py_ssize_t n4) nogil
    bint TWO_ISSUES "DETENTE_TWO_ISSUES"
    Tally two_issues_f "detente_two_issues_f" (
        const float* pos, Py_ssize_t pos_issue, const long* iss, const double* level,
        const double* eff_k, double sign, const float* usal, const float* cl,
        const float* sal, float tk, Py_ssize_t n_a, Py_ssize_t n4, Py_ssize_t proposer) nogil
    Tally two_issues_d "detente_two_issues_d" (
        const double* pos, Py_ssize_t pos_issue, const long* iss, const double* level,
        const double* eff_k, double sign, const float* usal, const float* cl,
        const float* sal, float tk, Py_ssize_t n_a, Py_ssize_t n4, Py_ssize_t proposer) nogil
    void clouts32 "detente_clouts32" (float* out, const double* x, Py_ssize_t n_a) nogil
    Py_ssize_t next_set "detente_next_set" (
        const unsigned char* row, Py_ssize_t k, Py_ssize_t n) nogil


ctypedef struct Tables:
    # what every world's vote reads alike (voted_pairs's arguments, as pointers)
    const long* n_iss
    const long* iss_pad
    const float* tol
    const unsigned char* gate  # NULL: no trust gate
    double sign
    Py_ssize_t proposer, n_k, n_a, n4, n_i, n_j
    float* gain  # a multi-issue move's gains, n4 floats


cdef inline float _sign32(double d) noexcept nogil:
    if d > 0:
        return 1.0
    if d < 0:
        return -1.0
    return 0.0


cdef inline bint _vote(const Tables* tb, Py_ssize_t k, const double* level,
                       const position_t* pos, Py_ssize_t pos_issue, const float* cl32,
                       const double* eff, const float* usal4, const float* sal,
                       double threshold) noexcept nogil:
    """Whether candidate ``k`` wins one world's weighted vote (``support >= threshold``).

    ``pos`` is the world's row of ``position`` (issue ``i`` at ``pos + i * pos_issue``);
    ``eff`` ``[K, I]``, ``usal4`` ``[K, J, n4]`` (salience / range, actors padded to ``n4``
    with +0.0) and ``sal`` (``[n4]``, instrument ``k``'s) the rows it reads of the plan.
    A multi-issue move's gain, per actor, is ``clip(2 sgn(d) (x - h0), -|d|, |d|)`` times
    salience / range summed over its issues in issue order (the first term set, the others
    added), four actors at a time (``detente_issue_gains_*``), then tallied.
    """
    cdef Py_ssize_t nj = tb.n_iss[k], j, i
    cdef const long* iss = tb.iss_pad + k * tb.n_j
    cdef double d
    cdef float h0, tot, sup
    cdef Tally t
    if nj == 1:  # the gain on the fly: (x - h0) * sgn d
        i = iss[0]
        d = tb.sign * eff[k * tb.n_i + i]
        h0 = <float>(level[i] + 0.5 * d)
        if position_t is float:
            t = move_tally_f(pos + i * pos_issue, h0, _sign32(d), cl32, sal, tb.tol[k], tb.n_a,
                             tb.proposer)
        else:
            t = move_tally_d(pos + i * pos_issue, h0, _sign32(d), cl32, sal, tb.tol[k], tb.n_a,
                             tb.proposer)
    elif nj == 2 and TWO_ISSUES:  # the gains in registers, not in a row
        if position_t is float:
            t = two_issues_f(pos, pos_issue, iss, level, eff + k * tb.n_i, tb.sign,
                             usal4 + k * tb.n_j * tb.n4, cl32, sal, tb.tol[k], tb.n_a, tb.n4,
                             tb.proposer)
        else:
            t = two_issues_d(pos, pos_issue, iss, level, eff + k * tb.n_i, tb.sign,
                             usal4 + k * tb.n_j * tb.n4, cl32, sal, tb.tol[k], tb.n_a, tb.n4,
                             tb.proposer)
    else:
        if position_t is float:
            issue_gains_f(pos, pos_issue, iss, nj, level, eff + k * tb.n_i, tb.sign,
                          usal4 + k * tb.n_j * tb.n4, tb.gain, tb.n_a, tb.n4)
        else:
            issue_gains_d(pos, pos_issue, iss, nj, level, eff + k * tb.n_i, tb.sign,
                          usal4 + k * tb.n_j * tb.n4, tb.gain, tb.n_a, tb.n4)
        if tb.proposer >= 0:
            tb.gain[tb.proposer] = 1.0
        t = gain_tally(tb.gain, cl32, sal, tb.tol[k], tb.n4)
    tot = t.pro + t.con
    sup = t.pro / tot if tot > 0 else 0.5
    return (<double>sup) >= threshold


cdef class VoteTables:
    cdef const double[:, :, ::1] effects
    cdef const long[::1] n_iss
    cdef const long[:, ::1] iss_pad
    cdef const float[:, :, :, ::1] usal_pad
    cdef const float[::1] tol
    cdef float[:, :, ::1] sal4
    cdef float[:, :, :, ::1] usal4  # usal_pad with its actors padded to n4 with +0.0
    cdef readonly Py_ssize_t n_actors


cdef inline int vote_rows(
    const unsigned char[:, ::1] cand,
    const double[:, ::1] level,
    const position_t[:, :, ::1] position,
    const double[:, ::1] clout,
    VoteTables tables,
    double sign,
    const double[::1] threshold,
    long proposer,
    const unsigned char[::1] gate,
    const double[::1] belief,
    const double[::1] trust,
    const double[:, ::1] rel,
    unsigned char[:, ::1] out,
) except -1:
    """:func:`~detente.sim.native.votes.voted_pairs` (its arguments) into ``out`` ``[n, K]``,
    zeros where it is not set to the vote's outcome (a candidate the gate or the vote
    stops is left 0)."""
    cdef const double[:, :, ::1] effects = tables.effects
    cdef const long[::1] n_iss = tables.n_iss
    cdef const long[:, ::1] iss_pad = tables.iss_pad
    cdef const float[:, :, :, ::1] usal4 = tables.usal4
    cdef const float[::1] tol = tables.tol
    cdef float[:, :, ::1] sal4 = tables.sal4
    cdef Py_ssize_t n = cand.shape[0], n_k = cand.shape[1], n_a = clout.shape[1]
    cdef Py_ssize_t m_p = position.shape[1], m_e = effects.shape[0], m_u = usal4.shape[0]
    cdef Py_ssize_t m_s = sal4.shape[0], m_t = threshold.shape[0]
    cdef Py_ssize_t n4 = sal4.shape[2]  # the actors in lanes of four (+0.0 padding)
    cdef float* buf  # the clouts and a multi-issue move's gains, n4 each (+0.0 past n_a)
    cdef float* cl32
    cdef Tables tb
    cdef Py_ssize_t w, k, a, we, wp, wu, ws, wt, wtr, wr
    cdef bint gated = gate.shape[0] > 0
    cdef Py_ssize_t m_tr = trust.shape[0] if gated else 1, m_r = rel.shape[0] if gated else 1
    if n_k == 0 or n == 0:
        return 0
    if n_a != tables.n_actors or n_k != n_iss.shape[0]:
        raise ValueError("voted_pairs: clout or cand does not match the vote tables")
    tb.n_iss = &n_iss[0]
    tb.iss_pad = &iss_pad[0, 0]
    tb.tol = &tol[0]
    tb.gate = &gate[0] if gated else NULL
    tb.sign = sign
    tb.proposer = proposer
    tb.n_k = n_k
    tb.n_a = n_a
    tb.n4 = n4
    tb.n_i = level.shape[1]
    tb.n_j = iss_pad.shape[1]
    buf = <float*>calloc(2 * n4 + 1, sizeof(float))
    if buf == NULL:
        raise MemoryError()
    cl32 = buf
    tb.gain = buf + n4
    try:
        with nogil:
            for w in range(n):
                if not any_set(&cand[w, 0], n_k):
                    continue
                # a leaf of m rows for n worlds: row w * m // n (shared, per state or per world)
                we = row_of(w, m_e, n)
                wp = row_of(w, m_p, n)
                wu = row_of(w, m_u, n)
                ws = row_of(w, m_s, n)
                wt = row_of(w, m_t, n)
                wtr = row_of(w, m_tr, n)
                wr = row_of(w, m_r, n)
                clouts32(cl32, &clout[w, 0], n_a)  # the clouts as float32, once per world
                k = next_set(&cand[w, 0], 0, n_k)
                while k < n_k:
                    # the trust gate first: a gated candidate without the belief loses
                    if not gated or not gate[k] or belief[w] >= trust[wtr] * rel[wr, k]:
                        out[w, k] = _vote(&tb, k, &level[w, 0], &position[0, wp, 0],
                                          m_p * n_a, cl32, &effects[we, 0, 0],
                                          &usal4[wu, 0, 0, 0], &sal4[ws, k, 0],
                                          threshold[wt])
                    k = next_set(&cand[w, 0], k + 1, n_k)
    finally:
        free(buf)
    return 0
