"""NumPy's PCG64 in compiled code: the same doubles, drawn inside numba loops.

:class:`~detente.sim.rng.WorldRNG` draws from ``numpy.random.Generator(PCG64(...))``. A loop
compiled with numba that consumes those numbers one by one would otherwise need them drawn
into buffers first (about 1.6 ns per number plus the memory traffic). This module
reproduces the generator itself, bit for bit, so compiled code can draw exactly the numbers
NumPy would draw, in any order it needs them:

* the state is NumPy's 128-bit LCG, ``state <- state * MULTIPLIER + inc (mod 2**128)``,
  held as ``(hi, lo)`` uint64 pairs; each draw steps the state and outputs
  ``rotr64(hi ^ lo, hi >> 58)`` (PCG's XSL-RR output, O'Neill 2014);
* a double is ``(output >> 11) * 2**-53``, as ``Generator.random`` computes it;
* ``k`` steps at once are one affine map, ``state * M_k + inc * S_k`` with
  ``M_k = MULTIPLIER**k`` and ``S_k = 1 + MULTIPLIER + ... + MULTIPLIER**(k-1)`` (Brown 1994,
  "Random number generation with arbitrary strides"), so a stream can be read with a stride
  (every 256th number) or jumped ahead without drawing the numbers in between.

The 128-bit arithmetic is a small LLVM intrinsic (``i128`` multiply-add), so each step is
three 64-bit multiplications. ``tests/test_pcg64_compiled.py`` checks the numbers against
``Generator.random`` and ``PCG64.advance``.

:func:`block_states` seeds the generators of a range of blocks without building them: it
reproduces ``PCG64(SeedSequence(seed, spawn_key=(*key, b)))`` (NumPy's ``SeedSequence``
mixing, O'Neill's ``seed_seq`` alternative, then ``pcg64_set_seed``) with the engine's
compiled seeding (:func:`detente.sim.native.draws.seed_words`), about a hundredth of the
cost of constructing the NumPy objects.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic
from numpy.typing import NDArray

from detente.sim.native import draws as native_draws
from detente.sim.rng import seed_entropy, stream_states

__all__ = [
    "JUMPS",
    "MULTIPLIER",
    "advance_map",
    "affine",
    "affine_lanes",
    "block_states",
    "compose",
    "output64",
    "raw53",
    "seed_entropy",
    "step",
    "stream_states",
    "threshold53",
    "to_double",
]

#: PCG64's 128-bit LCG multiplier (``PCG_DEFAULT_MULTIPLIER_128`` in NumPy's sources).
MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341

_MASK64 = (1 << 64) - 1
_MASK128 = (1 << 128) - 1


def _split(x: int) -> tuple[int, int]:
    return (x >> 64) & _MASK64, x & _MASK64


def _jump_table() -> NDArray[np.uint64]:
    """``[64, 4]``: row ``b`` holds ``M_(2^b)`` and ``S_(2^b)`` as (hi, lo, hi, lo)."""
    rows = []
    m, s = MULTIPLIER, 1
    for _ in range(64):
        rows.append((*_split(m), *_split(s)))
        m, s = (m * m) & _MASK128, (s * (m + 1)) & _MASK128
    return np.array(rows, dtype=np.uint64)


#: Powers-of-two strides: row ``b`` is ``(M hi, M lo, S hi, S lo)`` for ``2**b`` steps.
JUMPS = _jump_table()


@intrinsic
def _affine(
    typingctx: Any, hi: Any, lo: Any, m_hi: Any, m_lo: Any, c_hi: Any, c_lo: Any
) -> Any:
    """``(hi, lo) * (m_hi, m_lo) + (c_hi, c_lo)`` modulo ``2**128``, as a (hi, lo) pair.

    One ``i128`` multiply-add in LLVM IR (three 64-bit multiplications on x86-64).
    """
    u64 = types.uint64
    if any(x != u64 for x in (hi, lo, m_hi, m_lo, c_hi, c_lo)):
        return None
    sig = types.UniTuple(u64, 2)(u64, u64, u64, u64, u64, u64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        wide, half = ir.IntType(128), ir.IntType(64)
        shift = ir.Constant(wide, 64)

        def join(h: Any, low: Any) -> Any:
            return builder.or_(builder.shl(builder.zext(h, wide), shift), builder.zext(low, wide))

        x = builder.add(builder.mul(join(args[0], args[1]), join(args[2], args[3])),
                        join(args[4], args[5]))
        parts = (builder.trunc(builder.lshr(x, shift), half), builder.trunc(x, half))
        return context.make_tuple(builder, signature.return_type, parts)

    return sig, codegen


#: ``affine(hi, lo, m_hi, m_lo, c_hi, c_lo) -> (hi, lo)``: ``x * m + c`` modulo ``2**128``
#: (compiled code only; typed loosely, as mypy would read the intrinsic's typing function).
affine: Any = _affine


@njit(cache=True, inline="always")
def affine_lanes(
    hi: np.uint64, lo: np.uint64, m_hi: np.uint64, m_lo: np.uint64, c_hi: np.uint64,
    c_lo: np.uint64,
) -> Any:
    """:data:`affine` in 64-bit operations only, so that LLVM vectorises loops of it.

    The ``i128`` product is three scalar multiplications (``mulx`` and two ``imul``), which
    LLVM does not vectorise; here the full product ``lo * m_lo`` is built from its four
    32-bit halves' products (``vpmuludq`` in vector code) and the two cross products keep
    only their low words. ``c_lo``'s halves join the partial sums, which cannot overflow
    (``(2**32 - 1)**2 + 2**32 - 1 < 2**64``), so its carry needs no comparison. Same result,
    bit for bit.
    """
    x0, x1 = lo & _MASK32, lo >> _SHIFT32
    y0, y1 = m_lo & _MASK32, m_lo >> _SHIFT32
    p00 = x0 * y0 + (c_lo & _MASK32)
    p01, p10 = x0 * y1, x1 * y0
    mid = (p00 >> _SHIFT32) + (p01 & _MASK32) + (p10 & _MASK32) + (c_lo >> _SHIFT32)
    out_lo = (mid << _SHIFT32) | (p00 & _MASK32)
    high = x1 * y1 + (p01 >> _SHIFT32) + (p10 >> _SHIFT32) + (mid >> _SHIFT32)
    return high + hi * m_lo + lo * m_hi + c_hi, out_lo


_M_HI = np.uint64(MULTIPLIER >> 64)
_M_LO = np.uint64(MULTIPLIER & _MASK64)


@njit(cache=True, inline="always")
def step(hi: np.uint64, lo: np.uint64, inc_hi: np.uint64, inc_lo: np.uint64) -> Any:
    """One LCG step (the state of the next draw)."""
    return affine(hi, lo, _M_HI, _M_LO, inc_hi, inc_lo)


@njit(cache=True, inline="always")
def output64(hi: np.uint64, lo: np.uint64) -> np.uint64:
    """PCG64's 64-bit output for the (already stepped) state: ``rotr64(hi ^ lo, hi >> 58)``.

    ``raw53 < k`` exactly when ``output64 <= k * 2**11 - 1``, for ``1 <= k <= 2**53``.
    """
    x = hi ^ lo
    r = hi >> np.uint64(58)
    return (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))


@njit(cache=True)
def raw53(hi: np.uint64, lo: np.uint64) -> np.uint64:
    """The 53-bit integer ``k`` of the draw ``k * 2**-53`` for the (already stepped) state."""
    return output64(hi, lo) >> np.uint64(11)


@njit(cache=True, inline="always")
def to_double(hi: np.uint64, lo: np.uint64) -> float:
    """The double ``Generator.random`` returns for the (already stepped) state."""
    x = hi ^ lo
    r = hi >> np.uint64(58)
    out = (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))
    # below 2**53, so the signed conversion (one instruction) is exact
    return float(np.int64(out >> np.uint64(11))) * (1.0 / 9007199254740992.0)


def threshold53(p: NDArray[np.float64] | float) -> NDArray[np.uint64]:
    """Integer thresholds ``k`` with ``draw < p`` exactly when ``raw53 < k``.

    A draw is ``u = r * 2**-53`` for an integer ``0 <= r < 2**53`` (exactly: ``r`` and the
    power of two are representable, so the product is not rounded). For a double ``p`` in
    ``(0, 1]``, ``p * 2**53`` is exact too (scaling by a power of two, no overflow), so
    ``u < p`` iff ``r < p * 2**53`` iff ``r < ceil(p * 2**53)`` (``r`` is an integer), and
    ``ceil`` of a double is exact and at most ``2**53``. ``p <= 0`` or NaN never holds
    (threshold 0); ``p >= 1`` always holds (``2**53``). ``tests/test_pcg64_compiled.py``
    checks it against the float comparison.
    """
    q = np.asarray(p, dtype=np.float64)
    scaled = np.ceil(np.minimum(np.where(q > 0.0, q, 0.0), 1.0) * 2.0**53)
    return scaled.astype(np.uint64)


@njit(cache=True, inline="always")
def compose(
    m1_hi: np.uint64, m1_lo: np.uint64, c1_hi: np.uint64, c1_lo: np.uint64,
    m2_hi: np.uint64, m2_lo: np.uint64, c2_hi: np.uint64, c2_lo: np.uint64,
) -> Any:
    """The affine map ``x -> m2 (m1 x + c1) + c2`` as ``(M hi, M lo, C hi, C lo)``."""
    zero = np.uint64(0)
    m_hi, m_lo = affine(m2_hi, m2_lo, m1_hi, m1_lo, zero, zero)
    c_hi, c_lo = affine(c1_hi, c1_lo, m2_hi, m2_lo, c2_hi, c2_lo)
    return m_hi, m_lo, c_hi, c_lo


@njit(cache=True)
def advance_map(inc_hi: np.uint64, inc_lo: np.uint64, steps: int, jumps: NDArray[np.uint64]) -> Any:
    """``(M hi, M lo, C hi, C lo)``: ``steps`` LCG steps as one map ``x -> M x + C``.

    ``M = MULTIPLIER**steps`` and ``C = inc * S_steps``, composed from the powers of two in
    ``jumps`` (one composition per set bit of ``steps``).
    """
    zero, one = np.uint64(0), np.uint64(1)
    m_hi, m_lo, c_hi, c_lo = zero, one, zero, zero
    bit = 0
    while steps:
        if steps & 1:
            s_hi, s_lo = affine(inc_hi, inc_lo, jumps[bit, 2], jumps[bit, 3], zero, zero)
            m_hi, m_lo, c_hi, c_lo = compose(
                m_hi, m_lo, c_hi, c_lo, jumps[bit, 0], jumps[bit, 1], s_hi, s_lo
            )
        steps >>= 1
        bit += 1
    return m_hi, m_lo, c_hi, c_lo


# ------------------------------------------------------------------ seeding (SeedSequence)
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


def block_states(
    seed: int, key: tuple[int, ...], first_block: int, n_blocks: int
) -> NDArray[np.uint64]:
    """Initial PCG64 states of blocks ``first_block ... first_block + n_blocks - 1``.

    Row ``r`` equals ``stream_states([Generator(PCG64(SeedSequence(seed,
    spawn_key=(*key, first_block + r))))])[0]``, bit for bit, without creating those
    objects; columns are ``(state hi, state lo, inc hi, inc lo)`` as in
    :func:`stream_states`.

    Raises
    ------
    ValueError
        If ``seed``, an entry of ``key``, ``first_block`` or ``n_blocks`` is negative, or the
        last block index does not fit in 63 bits.
    """
    if seed < 0 or any(k < 0 for k in key) or first_block < 0 or n_blocks < 0:
        raise ValueError("seed, key entries, first_block and n_blocks must be non-negative")
    if first_block + n_blocks > 2**63:
        raise ValueError(f"block indices must be below 2**63 (got {first_block + n_blocks - 1})")
    words = np.empty((n_blocks, 4), dtype=np.uint64)
    native_draws.seed_words(seed_entropy(int(seed), tuple(int(k) for k in key)),
                            int(first_block), words)
    out = np.empty_like(words)
    native_draws.seeded_states(words, out)
    return out
