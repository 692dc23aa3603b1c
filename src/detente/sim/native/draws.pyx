# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""A stream's uniforms drawn straight into the layout the engine reads, and its blocks' seeds.

:class:`detente.sim.rng.WorldRNG` gives each block of ``BLOCK`` worlds its own
``Generator(PCG64(SeedSequence(seed, spawn_key=(*key, block))))``; block ``b``'s ``i``-th
uniform (from 0) is world ``b * BLOCK + i // per_row``'s number ``i % per_row``. NumPy
builds those objects in about 22 us a block (most of a 100-world stream's cost) and draws
into a ``[BLOCK, *tail]`` buffer that the engine then transposes into step-major columns
(:func:`detente.sim.world_state.step_major`). Here:

* :func:`seed_words` computes what ``SeedSequence`` gives a block's ``PCG64`` and
  :func:`seeded_states` the state ``pcg64_set_seed`` makes of it, in a few hundred
  instructions a block (:func:`detente.sim.pcg64_compiled.block_states` calls them for
  the IPD kernels);
* :func:`uniforms_world_major` and :func:`uniforms_step_major` step each block's generator
  (``state <- state * M + inc``, PCG's XSL-RR output, ``(out >> 11) * 2**-53`` as
  ``Generator.random``) and write each number where it belongs.

The numbers are NumPy's, bit for bit (``tests/test_native_draws.py``), so a stream drawn
here and one drawn by NumPy are the same stream.
"""

from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free, malloc

from detente.sim.native.pcg64 cimport u128  # (and its C: the multiplier, the output)

cdef extern from *:
    """
    #include <stdint.h>

    /* NumPy's SeedSequence constants (numpy/random/bit_generator.pyx) */
    #define DETENTE_SS_INIT_A 0x43B0D7E5U
    #define DETENTE_SS_MULT_A 0x931E8875U
    #define DETENTE_SS_INIT_B 0x8B51F9DDU
    #define DETENTE_SS_MULT_B 0x58F38DEDU
    #define DETENTE_SS_MIX_MULT_L 0xCA01F9DDU
    #define DETENTE_SS_MIX_MULT_R 0x4973F715U

    /* the double Generator.random gives for the draw after `state` (stepped in place) */
    static inline double detente_next_uniform(detente_u128 *state, detente_u128 inc) {
        *state = *state * DETENTE_PCG64_MULT + inc;
        return detente_pcg64_double(*state);
    }

    static inline detente_u128 detente_u128_of(uint64_t hi, uint64_t lo) {
        return ((detente_u128)hi << 64) | (detente_u128)lo;
    }

    /* pcg64_set_seed: inc = (initseq << 1) | 1; state = 0; step; state += initstate; step */
    static inline void detente_set_seed(uint64_t *row, detente_u128 seed,
                                        detente_u128 seq) {
        const detente_u128 inc = (seq << 1) | 1;
        detente_u128 state = inc + seed;
        state = state * DETENTE_PCG64_MULT + inc;
        row[0] = (uint64_t)(state >> 64);
        row[1] = (uint64_t)state;
        row[2] = (uint64_t)(inc >> 64);
        row[3] = (uint64_t)inc;
    }
    """
    double next_uniform "detente_next_uniform"(u128* state, u128 inc) noexcept nogil
    u128 u128_of "detente_u128_of"(uint64_t hi, uint64_t lo) noexcept nogil
    void set_seed "detente_set_seed"(uint64_t* row, u128 seed, u128 seq) noexcept nogil
    const uint32_t INIT_A "DETENTE_SS_INIT_A"
    const uint32_t MULT_A "DETENTE_SS_MULT_A"
    const uint32_t INIT_B "DETENTE_SS_INIT_B"
    const uint32_t MULT_B "DETENTE_SS_MULT_B"
    const uint32_t MIX_MULT_L "DETENTE_SS_MIX_MULT_L"
    const uint32_t MIX_MULT_R "DETENTE_SS_MIX_MULT_R"

cdef enum:
    XSHIFT = 16
    POOL = 4  # SeedSequence's default pool size (words)


cdef inline uint32_t _hashmix(uint32_t value, uint32_t* hash_const) noexcept nogil:
    """SeedSequence's ``hashmix`` (advances the hash constant)."""
    value ^= hash_const[0]
    hash_const[0] = hash_const[0] * MULT_A
    value = value * hash_const[0]
    return value ^ (value >> XSHIFT)


cdef inline uint32_t _mix(uint32_t x, uint32_t y) noexcept nogil:
    """SeedSequence's ``mix`` of a pool word with a hashed word."""
    cdef uint32_t result = MIX_MULT_L * x - MIX_MULT_R * y
    return result ^ (result >> XSHIFT)


cdef inline void _absorb(uint32_t* pool, uint32_t word, uint32_t* hash_const,
                         int skip) noexcept nogil:
    """Mix ``hashmix(word)`` into each pool word but the ``skip``-th, first to last (the
    hash constant advances for each, as in ``SeedSequence.mix_entropy``)."""
    cdef int i
    for i in range(POOL):
        if i != skip:
            pool[i] = _mix(pool[i], _hashmix(word, hash_const))


cdef inline uint64_t _pair(uint32_t low, uint32_t high, uint32_t* hash_const) noexcept nogil:
    """Two words of ``generate_state`` read as one little-endian uint64."""
    cdef uint32_t w[2]
    cdef int i
    w[0] = low
    w[1] = high
    for i in range(2):
        w[i] ^= hash_const[0]
        hash_const[0] = hash_const[0] * MULT_B
        w[i] = w[i] * hash_const[0]
        w[i] ^= w[i] >> XSHIFT
    return <uint64_t>w[0] | (<uint64_t>w[1] << 32)


def seed_words(const uint32_t[::1] prefix, long long first_block, uint64_t[:, ::1] out):
    """Write what ``SeedSequence(seed, spawn_key=(*key, first_block + r)).generate_state(4,
    uint64)`` gives into ``out``'s rows ``r`` (``(seed hi, seed lo, seq hi, seq lo)``, the
    words NumPy's ``PCG64`` seeds itself with).

    ``prefix`` holds the words ``SeedSequence`` mixes before the block index's
    (:func:`detente.sim.rng.seed_entropy`: the seed padded to the pool size, then the key's
    words; at least four). The pool after them is the same for every block: it is mixed
    once, and each block continues from it with its own index's words.
    """
    cdef uint32_t pool[POOL]
    cdef uint32_t q[POOL]
    cdef uint32_t h = INIT_A, hb
    cdef Py_ssize_t i, r, n = prefix.shape[0]
    cdef uint64_t b
    if n < POOL or out.shape[1] != 4:
        raise ValueError("seed_words: prefix needs four words or more, out four columns")
    if first_block < 0:
        raise ValueError("seed_words: first_block must be non-negative")
    with nogil:
        for i in range(POOL):
            pool[i] = _hashmix(prefix[i], &h)
        for i in range(POOL):  # every pool word into every other
            _absorb(pool, pool[i], &h, <int>i)
        for i in range(POOL, n):
            _absorb(pool, prefix[i], &h, -1)
        for r in range(out.shape[0]):
            for i in range(POOL):
                q[i] = pool[i]
            hb = h
            b = <uint64_t>(first_block + r)
            _absorb(q, <uint32_t>b, &hb, -1)  # the index's words, lowest first
            if b >> 32:
                _absorb(q, <uint32_t>(b >> 32), &hb, -1)
            # generate_state(4, uint64): eight words cycling over the pool
            hb = INIT_B
            out[r, 0] = _pair(q[0], q[1], &hb)
            out[r, 1] = _pair(q[2], q[3], &hb)
            out[r, 2] = _pair(q[0], q[1], &hb)
            out[r, 3] = _pair(q[2], q[3], &hb)


def seeded_states(const uint64_t[:, ::1] words, uint64_t[:, ::1] out):
    """The PCG64 states ``(state hi, state lo, inc hi, inc lo)`` seeded from each row of
    :func:`seed_words` (NumPy's ``pcg64_set_seed``)."""
    cdef Py_ssize_t r
    if words.shape[1] != 4 or out.shape[1] != 4 or out.shape[0] != words.shape[0]:
        raise ValueError("seeded_states: words and out must both be [blocks, 4]")
    with nogil:
        for r in range(words.shape[0]):
            set_seed(&out[r, 0], u128_of(words[r, 0], words[r, 1]),
                     u128_of(words[r, 2], words[r, 3]))


cdef enum:
    LANES = 4  # blocks stepped together: their LCG chains are independent
    TILE = 8  # worlds of a block written out together (eight doubles: a cache line)


cdef inline Py_ssize_t _lanes_at(Py_ssize_t r, Py_ssize_t n_rows,
                                 const long long* count) noexcept nogil:
    """How many blocks from row ``r`` on are stepped together: ``LANES`` blocks of the
    same size, else one."""
    cdef Py_ssize_t j
    if r + LANES > n_rows:
        return 1
    for j in range(1, LANES):
        if count[r + j] != count[r]:
            return 1
    return LANES


cdef inline void _load_lanes(const uint64_t[:, ::1] states, Py_ssize_t r, Py_ssize_t lanes,
                             u128* state, u128* inc) noexcept nogil:
    """The states and increments of blocks ``r ... r + lanes - 1``."""
    cdef Py_ssize_t j
    for j in range(lanes):
        state[j] = u128_of(states[r + j, 0], states[r + j, 1])
        inc[j] = u128_of(states[r + j, 2], states[r + j, 3])


cdef int _check_spans(const uint64_t[:, ::1] states, const long long[::1] first,
                      const long long[::1] count, Py_ssize_t n, str name) except -1:
    """Refuse spans that do not fit: one per state row, inside ``[0, n)``."""
    cdef Py_ssize_t r
    if states.shape[1] != 4 or first.shape[0] != states.shape[0] or \
            count.shape[0] != states.shape[0]:
        raise ValueError(f"{name}: states [blocks, 4], first and count [blocks] must agree")
    for r in range(states.shape[0]):
        if first[r] < 0 or count[r] < 0 or first[r] + count[r] > n:
            raise ValueError(f"{name}: block {r}'s worlds fall outside out")
    return 0


def uniforms_world_major(const uint64_t[:, ::1] states, const long long[::1] first,
                         const long long[::1] count, double[:, ::1] out):
    """A stream's uniforms into ``out`` ``[n, per_row]``: block ``r`` (state row ``r``)
    draws the rows of its worlds ``first[r] ... first[r] + count[r] - 1`` in turn
    (``Generator.random``'s order). Four blocks of one size are stepped together (one
    128-bit multiply's latency serves four numbers). The states are not changed."""
    cdef Py_ssize_t per_row = out.shape[1], n_rows = states.shape[0], r = 0, w, i, j, lanes
    cdef u128 state[LANES]
    cdef u128 inc[LANES]
    _check_spans(states, first, count, out.shape[0], "uniforms_world_major")
    with nogil:
        while r < n_rows:
            lanes = _lanes_at(r, n_rows, &count[0])
            _load_lanes(states, r, lanes, state, inc)
            if lanes == LANES:
                for w in range(count[r]):
                    for i in range(per_row):
                        for j in range(LANES):
                            out[first[r + j] + w, i] = next_uniform(&state[j], inc[j])
            else:
                for w in range(first[r], first[r] + count[r]):
                    for i in range(per_row):
                        out[w, i] = next_uniform(&state[0], inc[0])
            r += lanes


def uniforms_step_major(const uint64_t[:, ::1] states, const long long[::1] first,
                        const long long[::1] count, double[:, :] out):
    """The same numbers laid out ``[per_row, n]``: world ``w``'s number ``i`` at
    ``out[i, w]``, so that a step's numbers for all worlds are contiguous.

    Four blocks of one size are stepped together, ``TILE`` worlds of each at a time into a
    small world-major buffer, which is then written out a row of ``TILE`` numbers (a cache
    line) at a time rather than one number per row."""
    cdef Py_ssize_t per_row = out.shape[0], n_rows = states.shape[0], r = 0, w, w0, i, j
    cdef Py_ssize_t lanes, tiled
    cdef u128 state[LANES]
    cdef u128 inc[LANES]
    cdef double* tile
    _check_spans(states, first, count, out.shape[1], "uniforms_step_major")
    tile = <double*>malloc(LANES * TILE * max(per_row, 1) * sizeof(double))
    if tile == NULL:
        raise MemoryError()
    with nogil:
        while r < n_rows:
            lanes = _lanes_at(r, n_rows, &count[0])
            _load_lanes(states, r, lanes, state, inc)
            tiled = count[r] - count[r] % TILE if lanes == LANES else 0
            w0 = 0
            while w0 < tiled:
                for w in range(TILE):
                    for i in range(per_row):
                        for j in range(LANES):
                            tile[(j * TILE + w) * per_row + i] = next_uniform(&state[j], inc[j])
                for j in range(LANES):
                    for i in range(per_row):
                        for w in range(TILE):
                            out[i, first[r + j] + w0 + w] = tile[(j * TILE + w) * per_row + i]
                w0 += TILE
            for j in range(lanes):  # what no tile covered, one world at a time
                for w in range(first[r + j] + tiled, first[r + j] + count[r + j]):
                    for i in range(per_row):
                        out[i, w] = next_uniform(&state[j], inc[j])
            r += lanes
    free(tile)
