"""The IPD reduction's match loop compiled with numba, for strategies that declare a machine.

:func:`detente.sim.ipd.matches` plays two :class:`~detente.sim.strategies.Machine` s here
when both strategies declare one. Each match runs start to finish in one compiled loop
(states in registers, no per-turn array operations), and the random numbers are drawn inside
it from the very PCG64 streams the vectorised path uses
(:mod:`detente.sim.pcg64_compiled`), in the order each consumer needs them:

* noise, drawn by the vectorised path ``chunk`` turns at a time as ``[256, chunk, 2]`` per
  block (match, turn, player), is read sequentially, match by match within a chunk;
* a strategy's per-turn draw, ``[256]`` per block and turn, is read with a stride of 256:
  match ``j``'s draws are numbers ``j, j + 256, j + 512, ...`` of its block's stream.

So the actions and scores are bit-identical to the vectorised path's for the same seed, for
any ``n`` and chunking (``tests/test_ipd_compiled.py``). Functions are compiled on first
use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from detente.sim.pcg64_compiled import JUMPS, advance_map, affine, compose, step, to_double
from detente.sim.strategies import Machine

__all__ = ["JointArrays", "joint_machine", "play_machines"]

#: ``coop``, ``defect``, ``next_joint``, start state, ``draws_from``: see :func:`joint_machine`.
JointArrays = tuple[
    NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], int, NDArray[np.int64]
]

Quad = tuple[np.uint64, np.uint64, np.uint64, np.uint64]


@njit(cache=True, inline="always")
def _get(rows: NDArray[np.uint64], i: int) -> Quad:
    """Row ``i`` of a ``[.., 4]`` uint64 array (a state and increment, or a map)."""
    return rows[i, 0], rows[i, 1], rows[i, 2], rows[i, 3]


@njit(cache=True, inline="always")
def _put(rows: NDArray[np.uint64], i: int, quad: Quad) -> None:
    rows[i, 0], rows[i, 1], rows[i, 2], rows[i, 3] = quad


@njit(cache=True, nogil=True, parallel=True)
def play_machines(
    turns: int,
    noise: float,
    chunk: int,
    block_bits: int,
    streams: NDArray[np.uint64],
    joint: JointArrays,
    act_a: NDArray[np.uint8],
    act_b: NDArray[np.uint8],
    counts: NDArray[np.int64],
) -> None:
    """Play ``act_a.shape[0]`` matches of two machines, filling the output arrays.

    Blocks of 256 matches (one random block each) run in parallel on numba's threads
    (``numba.set_num_threads``); their results do not depend on the threads. Within a
    block, turn by turn over its matches, so the matches' independent work overlaps.
    Every number is computed from its index, ``state = M x_0 + C``, from a per-match
    starting state and a per-turn map shared by the block's matches. A strategy's draw is
    computed on every turn the strategy draws (``u < coop``, which for ``coop`` 1 or 0 is
    the fixed action).

    Parameters
    ----------
    turns, noise, chunk : int, float, int
        Turns per match, flip probability, turns of noise per draw of the vectorised path.
    block_bits : int
        ``log2`` of the worlds per random block (:data:`detente.sim.rng.BLOCK`).
    streams : ndarray of uint64, shape [3, blocks, 4]
        PCG64 ``(state hi, state lo, inc hi, inc lo)`` of each block's generator, for
        player a's stream, player b's and the noise stream.
    joint : tuple
        The two machines as one (:func:`joint_machine`).
    act_a, act_b : ndarray of uint8, shape [n, turns], Fortran order
        Output: played actions (0 = C, 1 = D); a turn's matches are contiguous.
    counts : ndarray of int64, shape [n, 4]
        Output: turns of (C, C), (C, D), (D, C) and (D, D) for (a, b).
    """
    for blk in prange(streams.shape[1]):
        _play_block(blk, turns, noise, chunk, block_bits, streams, joint, act_a, act_b, counts)


@njit(cache=True, nogil=True)
def _play_block(
    blk: int,
    turns: int,
    noise: float,
    chunk: int,
    block_bits: int,
    streams: NDArray[np.uint64],
    joint: JointArrays,
    act_a: NDArray[np.uint8],
    act_b: NDArray[np.uint8],
    counts: NDArray[np.int64],
) -> None:
    """Block ``blk`` of :func:`play_machines` (its matches' rows of the outputs)."""
    coop, defect, next_joint, start, draws_from = joint
    n = act_a.shape[0]
    block = 1 << block_bits
    zero, one = np.uint64(0), np.uint64(1)
    state = np.empty(block, dtype=np.int64)
    # per player: the state of match j's first draw; turn t's map, (t - from) strides on
    start_a, start_b = np.empty((block, 2), np.uint64), np.empty((block, 2), np.uint64)
    maps_a, maps_b = np.empty((turns, 4), np.uint64), np.empty((turns, 4), np.uint64)
    noise_start = np.empty((block, 2), dtype=np.uint64)  # match j's first state in a chunk
    noise_maps = np.empty((2 * chunk + 1, 4), dtype=np.uint64)  # k steps on from it
    first = blk * block
    size = min(block, n - first)
    state[:size] = start
    for p, draw_start, draw_maps in ((0, start_a, maps_a), (1, start_b, maps_b)):
        hi, lo, inc_hi, inc_lo = _get(streams[p], blk)
        for j in range(size):  # match j's first draw is number j of the block's stream
            hi, lo = step(hi, lo, inc_hi, inc_lo)
            draw_start[j, 0], draw_start[j, 1] = hi, lo
        s_hi, s_lo, sc_hi, sc_lo = advance_map(inc_hi, inc_lo, block, JUMPS)
        m_hi, m_lo, c_hi, c_lo = zero, one, zero, zero
        for t in range(draws_from[p], turns):
            _put(draw_maps, t, (m_hi, m_lo, c_hi, c_lo))
            m_hi, m_lo, c_hi, c_lo = compose(m_hi, m_lo, c_hi, c_lo, s_hi, s_lo, sc_hi, sc_lo)
    z_hi, z_lo, z_inc_hi, z_inc_lo = _get(streams[2], blk)
    st_hi, st_lo, stc_hi, stc_lo = advance_map(z_inc_hi, z_inc_lo, 1, JUMPS)
    for c0 in range(0, turns, chunk):
        c1 = min(turns, c0 + chunk)
        if noise > 0.0:
            # the chunk's numbers start after 2 * block * c0 earlier ones, then run
            # [match, turn, player]
            m_hi, m_lo, c_hi, c_lo = advance_map(z_inc_hi, z_inc_lo, 2 * block * c0, JUMPS)
            w_hi, w_lo = affine(z_hi, z_lo, m_hi, m_lo, c_hi, c_lo)
            m_hi, m_lo, c_hi, c_lo = advance_map(z_inc_hi, z_inc_lo, 2 * (c1 - c0), JUMPS)
            for j in range(size):
                noise_start[j, 0], noise_start[j, 1] = w_hi, w_lo
                w_hi, w_lo = affine(w_hi, w_lo, m_hi, m_lo, c_hi, c_lo)
            m_hi, m_lo, c_hi, c_lo = zero, one, zero, zero
            for k in range(2 * (c1 - c0) + 1):
                _put(noise_maps, k, (m_hi, m_lo, c_hi, c_lo))
                m_hi, m_lo, c_hi, c_lo = compose(
                    m_hi, m_lo, c_hi, c_lo, st_hi, st_lo, stc_hi, stc_lo
                )
        for t in range(c0, c1):
            k = 2 * (t - c0) + 1
            na_mhi, na_mlo, na_chi, na_clo = _get(noise_maps, k)
            nb_mhi, nb_mlo, nb_chi, nb_clo = _get(noise_maps, k + 1)
            ga_mhi, ga_mlo, ga_chi, ga_clo = _get(maps_a, t)
            gb_mhi, gb_mlo, gb_chi, gb_clo = _get(maps_b, t)
            drawing_a, drawing_b = t >= draws_from[0], t >= draws_from[1]
            for j in range(size):
                js = state[j]
                da, db = defect[js, 0], defect[js, 1]
                # drawing turns: u < coop (for coop 1 or 0 that is the fixed action), computed
                # without a branch on the state, which would be mispredicted
                if drawing_a:
                    hi, lo = affine(
                        start_a[j, 0], start_a[j, 1], ga_mhi, ga_mlo, ga_chi, ga_clo
                    )
                    da = np.int64(not to_double(hi, lo) < coop[js, 0])
                if drawing_b:
                    hi, lo = affine(
                        start_b[j, 0], start_b[j, 1], gb_mhi, gb_mlo, gb_chi, gb_clo
                    )
                    db = np.int64(not to_double(hi, lo) < coop[js, 1])
                if noise > 0.0:
                    w_hi, w_lo = noise_start[j, 0], noise_start[j, 1]
                    hi, lo = affine(w_hi, w_lo, na_mhi, na_mlo, na_chi, na_clo)
                    da ^= np.int64(to_double(hi, lo) < noise)
                    hi, lo = affine(w_hi, w_lo, nb_mhi, nb_mlo, nb_chi, nb_clo)
                    db ^= np.int64(to_double(hi, lo) < noise)
                outcome = 2 * da + db
                act_a[first + j, t] = da
                act_b[first + j, t] = db
                counts[first + j, outcome] += 1
                state[j] = next_joint[js, outcome]



def joint_machine(machines: tuple[Machine, Machine], turns: int) -> JointArrays:
    """Two machines as one over state pairs ``(a, b)`` (numbered ``a * len(b.coop) + b``).

    Returns ``coop [S, 2]`` (each side's cooperation probability), ``defect [S, 2]`` (each
    side's action when it does not draw: 0 if ``coop >= 0.5``), ``next_joint [S, 4]``
    indexed by the outcome ``2 * (a's action) + (b's action)``, the start state and each
    side's first drawing turn (``turns``: never).
    """
    ma, mb = machines
    na, nb = len(ma.coop), len(mb.coop)
    pairs = [(sa, sb) for sa in range(na) for sb in range(nb)]
    coop = np.array([(ma.coop[sa], mb.coop[sb]) for sa, sb in pairs], dtype=np.float64)
    defect = np.where(coop >= 0.5, 0, 1).astype(np.int64)
    next_joint = np.array(
        [
            [ma.next_state[sa, a, b] * nb + mb.next_state[sb, b, a] for a in (0, 1) for b in (0, 1)]
            for sa, sb in pairs
        ],
        dtype=np.int64,
    )
    draws = np.array(
        [turns if m.draws_from is None else m.draws_from for m in machines], dtype=np.int64
    )
    return coop, defect, next_joint, ma.start * nb + mb.start, draws
