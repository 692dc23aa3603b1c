"""The IPD reduction's match loop compiled with numba, for strategies that declare a machine.

:func:`detente.sim.ipd.matches` plays two :class:`~detente.sim.strategies.Machine` s here
when both strategies declare one. Each block of 256 matches runs start to finish in compiled
loops, and the random numbers are computed inside them from the very PCG64 streams the
vectorised path uses (:mod:`detente.sim.pcg64_compiled`), each from its index in its stream:

* noise, drawn by the vectorised path ``chunk`` turns at a time as ``[256, chunk, 2]`` per
  block (match, turn, player), is read match by match within a chunk;
* a strategy's per-turn draw, ``[256]`` per block and turn, is read with a stride of 256:
  match ``j``'s draws are numbers ``j, j + 256, j + 512, ...`` of its block's stream.

So the actions and scores are bit-identical to the vectorised path's for the same seed, for
any ``n`` and chunking (``tests/test_ipd_compiled.py``). Because a number is computed from
its index, a draw whose outcome is certain (cooperation probability 0 or 1) is simply not
computed. Uniforms are compared with the probabilities as integers
(:func:`~detente.sim.pcg64_compiled.threshold53`, exact; noise as a bound on the 64-bit
output, :func:`~detente.sim.pcg64_compiled.output64`). Functions are compiled on first use
and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from detente.sim.pcg64_compiled import (
    JUMPS,
    advance_map,
    affine,
    affine_lanes,
    compose,
    output64,
    raw53,
    step,
    threshold53,
)
from detente.sim.strategies import Machine

__all__ = ["JointArrays", "joint_machine", "noise_threshold", "play_machines"]

#: ``moves``, ``packed``, ``threshold``, ``need``, start state, ``draws_from``: see
#: :func:`joint_machine`.
JointArrays = tuple[
    NDArray[np.uint64], NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int64], np.uint64,
    NDArray[np.int64],
]

U64Array = NDArray[np.uint64]

#: ``threshold53`` of a certain cooperation (probability 1).
_CERTAIN = np.uint64(1 << 53)


@njit(cache=True, nogil=True, parallel=True)
def play_machines(
    turns: int,
    noise: np.uint64,
    chunk: int,
    block_bits: int,
    streams: U64Array,
    joint: JointArrays,
    act_a: NDArray[np.uint8],
    act_b: NDArray[np.uint8],
    counts: NDArray[np.int64],
) -> None:
    """Play ``act_a.shape[0]`` matches of two machines, filling the output arrays.

    Blocks of 256 matches (one random block each) run in parallel on numba's threads
    (``numba.set_num_threads``); their results do not depend on the threads. Within a
    block, turn by turn, each step a loop over the block's matches (so their independent
    work overlaps): the noise flips (in vector lanes,
    :func:`~detente.sim.pcg64_compiled.affine_lanes`), the strategies' draws (only where
    the outcome is uncertain; each decision is xored into the flips), then the machines'
    moves, one look-up for the outcome and the next state (a shift of one packed word, in
    vector lanes, for at most 4 joint states), which writes the actions and adds to a
    per-match tally. Every number is computed from its index, ``state = M x_0 + C``, from a
    per-match starting state and a per-turn map shared by the block's matches.

    Parameters
    ----------
    turns, noise, chunk : int, uint64, int
        Turns per match, flip probability as :func:`noise_threshold`, turns of noise per
        draw of the vectorised path (at most 65,535).
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
        # one type for the block index (else the parallel and serial loops compile it twice)
        _play_block(
            np.int64(blk), turns, noise, chunk, block_bits, streams, joint, act_a, act_b, counts
        )


@njit(cache=True, nogil=True)
def _play_block(
    blk: np.int64,
    turns: int,
    noise: np.uint64,
    chunk: int,
    block_bits: int,
    streams: U64Array,
    joint: JointArrays,
    act_a: NDArray[np.uint8],
    act_b: NDArray[np.uint8],
    counts: NDArray[np.int64],
) -> None:
    """Block ``blk`` of :func:`play_machines` (its matches' rows of the outputs)."""
    moves, packed, threshold, need, start, draws_from = joint
    n = act_a.shape[0]
    block = 1 << block_bits
    first = blk * block
    size = min(block, n - first)
    state = np.full(block, start, dtype=np.uint64)  # 4 x the joint state
    # per player: match j's first draw, turn t's map (t - from strides on), and the matches
    # that need a draw this turn (their outcome is not certain)
    starts = np.zeros((2, 2, block), np.uint64)
    maps = np.zeros((2, turns, 4), np.uint64)
    todo = np.empty(block, np.int64)
    for p in range(2):
        if draws_from[p] < turns:
            _draw_maps(streams[p, blk], size, block, draws_from[p], starts[p], maps[p])
    noise_start = np.zeros((2, block), np.uint64)  # match j's first state in a chunk
    noise_maps = np.zeros((2 * chunk + 1, 4), np.uint64)  # k steps on from it
    # 2 * (a's flip) + (b's flip), then xor the drawn decisions (the moves' table has 0 there)
    flips = np.zeros(block, np.uint64)
    outcome = np.zeros(block, np.uint64)  # 2 * (a's action) + (b's action)
    tally = np.zeros(block, np.uint64)  # the chunk's outcomes per match: four 16-bit counts
    totals = np.zeros((4, block), np.int64)
    sink = np.zeros(1, np.uint64)  # the output bytes read ahead (not used)
    one, two, low2 = np.uint64(1), np.uint64(2), np.uint64(3)
    # raw53 < noise, as a bound on the 64-bit output (at least 0 when there is noise)
    flip_limit = (noise << np.uint64(11)) - one
    for c0 in range(0, turns, chunk):
        c1 = min(turns, c0 + chunk)
        # read one byte of each output line the chunk writes: these loads overlap, while
        # stores to lines not in cache queue up and stall the loads behind them (measured)
        for t in range(c0, c1):
            for j in range(first, first + size, 64):
                sink[0] += np.uint64(act_a[j, t]) + np.uint64(act_b[j, t])
        if noise > np.uint64(0):
            _noise_maps(streams[2, blk], size, block, c0, c1, noise_start, noise_maps)
        for t in range(c0, c1):
            drawing = (t >= draws_from[0], t >= draws_from[1])
            if noise > np.uint64(0):  # flips: 2 * (a flipped) + (b flipped), in vector lanes
                k = 2 * (t - c0) + 1
                a0, a1, a2, a3 = noise_maps[k]
                b0, b1, b2, b3 = noise_maps[k + 1]
                w_his, w_los = noise_start[0], noise_start[1]
                for j in range(size):
                    w_hi, w_lo = w_his[j], w_los[j]
                    hi, lo = affine_lanes(w_hi, w_lo, a0, a1, a2, a3)
                    flip_a = np.uint64(output64(hi, lo) <= flip_limit)
                    hi, lo = affine_lanes(w_hi, w_lo, b0, b1, b2, b3)
                    flips[j] = (flip_a << one) | np.uint64(output64(hi, lo) <= flip_limit)
            elif drawing[0] or drawing[1]:
                flips[:] = 0
            for p in range(2):
                if drawing[p]:
                    # list the matches whose draw is uncertain (branch-free), draw for them
                    count = 0
                    needs = need[p]
                    for j in range(size):
                        todo[count] = j
                        count += needs[state[j]]
                    m_hi, m_lo, c_hi, c_lo = maps[p, t]
                    limits, side = threshold[p], np.uint64(1 - p)
                    for i in range(count):
                        j = todo[i]
                        hi, lo = affine(starts[p, 0, j], starts[p, 1, j], m_hi, m_lo, c_hi, c_lo)
                        # a side defects when its number is at least its threshold
                        flips[j] ^= np.uint64(raw53(hi, lo) >= limits[state[j]]) << side
            # one look-up gives the outcome and the next state (both machines' moves); the
            # actions go to the outputs, the outcome o adds 1 to the 16-bit field o of tally
            kind = 2 * int(drawing[0]) + int(drawing[1])
            col_a = act_a[first:first + size, t]
            col_b = act_b[first:first + size, t]
            if packed.shape[0] > 0:  # the table in one word: a shift in vector lanes
                word = packed[kind]
                for j in range(size):
                    step_to = (word >> ((state[j] | flips[j]) << two)) & np.uint64(15)
                    o = step_to & low2
                    col_a[j] = np.uint8(o >> one)
                    col_b[j] = np.uint8(o & one)
                    tally[j] += one << (o << np.uint64(4))
                    state[j] = step_to & ~low2
            else:  # look-ups (scalar), then the same writes in vector lanes
                table = moves[kind]
                for j in range(size):
                    step_to = table[state[j] | flips[j]]
                    outcome[j] = step_to & low2
                    state[j] = step_to & ~low2
                for j in range(size):
                    o = outcome[j]
                    col_a[j] = np.uint8(o >> one)
                    col_b[j] = np.uint8(o & one)
                    tally[j] += one << (o << np.uint64(4))
        # the chunk's tally (at most 65,535 turns, so no field overflows) into the totals
        for j in range(size):
            for kind in range(4):
                totals[kind, j] += np.int64((tally[j] >> np.uint64(16 * kind)) & np.uint64(0xFFFF))
            tally[j] = 0
    for j in range(size):
        for kind in range(4):
            counts[first + j, kind] = totals[kind, j]


@njit(cache=True, nogil=True)
def _draw_maps(
    stream: U64Array, size: int, block: int, begin: int, starts: U64Array, maps: U64Array
) -> None:
    """A strategy's draws: match ``j``'s first state, and the map ``t - begin`` strides on."""
    hi, lo, inc_hi, inc_lo = stream[0], stream[1], stream[2], stream[3]
    for j in range(size):  # match j's first draw is number j of the block's stream
        hi, lo = step(hi, lo, inc_hi, inc_lo)
        starts[0, j], starts[1, j] = hi, lo
    s_hi, s_lo, sc_hi, sc_lo = advance_map(inc_hi, inc_lo, block, JUMPS)
    m_hi, m_lo, c_hi, c_lo = np.uint64(0), np.uint64(1), np.uint64(0), np.uint64(0)
    for t in range(begin, maps.shape[0]):
        maps[t, 0], maps[t, 1], maps[t, 2], maps[t, 3] = m_hi, m_lo, c_hi, c_lo
        m_hi, m_lo, c_hi, c_lo = compose(m_hi, m_lo, c_hi, c_lo, s_hi, s_lo, sc_hi, sc_lo)


@njit(cache=True, nogil=True)
def _noise_maps(
    stream: U64Array, size: int, block: int, c0: int, c1: int, start: U64Array, maps: U64Array
) -> None:
    """Noise of turns ``[c0, c1)``: match ``j``'s state before its first number, k steps on."""
    z_hi, z_lo, inc_hi, inc_lo = stream[0], stream[1], stream[2], stream[3]
    # the chunk's numbers start after 2 * block * c0 earlier ones, then run [match, turn, player]
    m_hi, m_lo, c_hi, c_lo = advance_map(inc_hi, inc_lo, 2 * block * c0, JUMPS)
    w_hi, w_lo = affine(z_hi, z_lo, m_hi, m_lo, c_hi, c_lo)
    m_hi, m_lo, c_hi, c_lo = advance_map(inc_hi, inc_lo, 2 * (c1 - c0), JUMPS)
    for j in range(size):
        start[0, j], start[1, j] = w_hi, w_lo
        w_hi, w_lo = affine(w_hi, w_lo, m_hi, m_lo, c_hi, c_lo)
    s_hi, s_lo, sc_hi, sc_lo = advance_map(inc_hi, inc_lo, 1, JUMPS)
    m_hi, m_lo, c_hi, c_lo = np.uint64(0), np.uint64(1), np.uint64(0), np.uint64(0)
    for k in range(2 * (c1 - c0) + 1):
        maps[k, 0], maps[k, 1], maps[k, 2], maps[k, 3] = m_hi, m_lo, c_hi, c_lo
        m_hi, m_lo, c_hi, c_lo = compose(m_hi, m_lo, c_hi, c_lo, s_hi, s_lo, sc_hi, sc_lo)


def noise_threshold(noise: float) -> np.uint64:
    """The noise probability as the integer threshold :func:`play_machines` takes."""
    return np.uint64(threshold53(noise))


def joint_machine(machines: tuple[Machine, Machine], turns: int) -> JointArrays:
    """Two machines as one over state pairs ``(a, b)`` (numbered ``s = a * len(b.coop) + b``).

    The kernel holds ``4 s`` (so a table index is ``4 s + two bits``). Returns

    * ``moves [4, 4 S]``: one table per turn kind ``2 * (a draws) + (b draws)``, indexed by
      ``4 s + f`` with ``f = 2 * (a's bit) + (b's bit)``, each bit a noise flip xor the side's
      drawn defection; it holds ``4 s' + o``, the outcome ``o = 2 * (a's action) + (b's
      action)`` (the action certain in ``s`` xor the bit: an uncertain action counts as C
      before the xor) and the next state ``s'``;
    * ``packed [4]`` (``[0]`` when there are more than 4 joint states): each ``moves`` table
      in one word, entry ``i`` in bits ``4 i`` to ``4 i + 3``;
    * ``threshold [2, 4 S]``: on its drawing turns a side defects when its number is at
      least :func:`~detente.sim.pcg64_compiled.threshold53` of ``coop``;
    * ``need [2, 4 S]``: 1 where a side's draw is uncertain (``0 < coop < 1``);
    * ``4 x`` the start state, and each side's first drawing turn (``turns``: never).
    """
    ma, mb = machines
    na, nb = len(ma.coop), len(mb.coop)
    pairs = [(sa, sb) for sa in range(na) for sb in range(nb)]
    coop = np.array([(ma.coop[sa], mb.coop[sb]) for sa, sb in pairs], dtype=np.float64).T
    drawn = threshold53(coop)
    uncertain = (drawn > 0) & (drawn < _CERTAIN)
    # the action certain in each state (1 = D): on turns without a draw, from coop >= 0.5;
    # on drawing turns, threshold 0 (an uncertain action counts as C, its draw decides)
    certain = np.stack([~(coop >= 0.5), drawn == 0]).astype(np.int64)  # [drawing, side, s]
    moves = np.empty((4, 4 * len(pairs)), dtype=np.uint64)
    for kind in range(4):
        for s, (sa, sb) in enumerate(pairs):
            base = 2 * certain[kind >> 1, 0, s] + certain[kind & 1, 1, s]
            for f in range(4):
                o = base ^ f
                a, b = o >> 1, o & 1
                nxt = ma.next_state[sa, a, b] * nb + mb.next_state[sb, b, a]
                moves[kind, 4 * s + f] = 4 * nxt + o
    threshold = np.ascontiguousarray(np.repeat(drawn, 4, axis=1), dtype=np.uint64)
    need = np.ascontiguousarray(np.repeat(uncertain, 4, axis=1), dtype=np.int64)
    draws = np.array(
        [turns if m.draws_from is None else m.draws_from for m in machines], dtype=np.int64
    )
    packed = np.zeros(4 if len(pairs) <= 4 else 0, dtype=np.uint64)
    for kind in range(len(packed)):
        packed[kind] = sum(int(e) << (4 * i) for i, e in enumerate(moves[kind]))
    start = np.uint64(4 * (ma.start * nb + mb.start))
    return moves, packed, threshold, need, start, draws
