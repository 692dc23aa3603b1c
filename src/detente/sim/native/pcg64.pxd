# cython: language_level=3
"""NumPy's PCG64 read at any position: the uniform a stream would give as its ``steps``-th draw.

A block's generator (:class:`detente.sim.rng.WorldRNG`) is NumPy's 128-bit LCG
``state <- state * M + inc (mod 2**128)``; each draw steps the state, then outputs
``rotr64(hi ^ lo, hi >> 58)`` (PCG's XSL-RR), and ``Generator.random`` makes the double
``(output >> 11) * 2**-53``. ``k`` steps at once are one affine map
``state * M**k + inc * (1 + M + ... + M**(k-1))`` (Brown 1994), composed from the maps of
``k``'s hexadecimal digits (one product per nonzero digit, from a table of each digit's
fifteen maps: 8 kB); :mod:`detente.sim.pcg64_compiled` does the same in numba for the
IPD kernels. So a kernel can read the few uniforms it uses (a delay only where a step is
approved) without the stream's other numbers being drawn or stored, and gets exactly the
numbers drawing them all would give.
"""

cdef extern from *:
    """
    typedef unsigned __int128 detente_u128;
    #define DETENTE_PCG64_MULT (((detente_u128)2549297995355413924ULL << 64) \
                                | (detente_u128)4865540595714422341ULL)

    /* the double Generator.random gives for an (already stepped) state: PCG's XSL-RR
       output, its top 53 bits times 2**-53 */
    static inline double detente_pcg64_double(detente_u128 st) {
        const unsigned long long hi = (unsigned long long)(st >> 64);
        const unsigned long long x = hi ^ (unsigned long long)st;
        const unsigned int rot = (unsigned int)(hi >> 58);
        const unsigned long long out = (x >> rot) | (x << ((64 - rot) & 63));
        return (double)(out >> 11) * (1.0 / 9007199254740992.0);
    }
    static detente_u128 detente_pcg64_jump_m[16][16], detente_pcg64_jump_s[16][16];

    /* the affine maps of v * 16**d steps, d = 0..15, v = 0..15: those of 2**b steps,
       b = 0..63 (squaring), summed digit by digit ((m1, s1) then (m2, s2) is
       (m1 m2, s1 m2 + s2)) */
    static inline void detente_pcg64_init(void) {  /* inline: no warning where unused */
        detente_u128 m = DETENTE_PCG64_MULT, s = 1;
        for (int b = 0; b < 64; b++) {
            if (b % 4 == 0) {
                detente_u128 *dm = detente_pcg64_jump_m[b / 4], *ds = detente_pcg64_jump_s[b / 4];
                dm[0] = 1;
                ds[0] = 0;
                for (int v = 1; v < 16; v++) {
                    dm[v] = dm[v - 1] * m;
                    ds[v] = ds[v - 1] * m + s;
                }
            }
            s = s * (m + 1);
            m = m * m;
        }
    }

    /* the uniform of the draw that leaves the generator ``steps`` steps past ``state4``
       (state hi, state lo, inc hi, inc lo) */
    static inline double detente_pcg64_uniform(const unsigned long long *state4,
                                               unsigned long long steps) {
        detente_u128 st = ((detente_u128)state4[0] << 64) | state4[1];
        const detente_u128 inc = ((detente_u128)state4[2] << 64) | state4[3];
        for (int d = 0; steps; d++, steps >>= 4) {
            const unsigned int v = (unsigned int)(steps & 15ULL);
            if (v)
                st = st * detente_pcg64_jump_m[d][v] + inc * detente_pcg64_jump_s[d][v];
        }
        return detente_pcg64_double(st);
    }
    """
    ctypedef struct u128 "detente_u128":  # a 128-bit unsigned integer, opaque to Cython
        pass
    double pcg64_double "detente_pcg64_double"(u128 state) noexcept nogil
    void pcg64_init "detente_pcg64_init"() noexcept nogil
    double pcg64_uniform "detente_pcg64_uniform"(
        const unsigned long long* state4, unsigned long long steps) noexcept nogil
