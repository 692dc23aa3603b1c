# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The trust gate and the weighted vote of docs/model.md section 2, one (world, candidate
instrument) at a time.

Compiled form of :func:`detente.sim.engine.voted`: the same float32 and float64 operations,
in the same order, as the NumPy formulation it replaced, except the two sums over actors
(support for and against), which NumPy's einsum summed in SIMD lanes, in an order that
depends on the build. Here actor ``a`` adds into lane ``a % 4`` of four float32 lanes
(each starts at ``+0.0`` and adds its actors in actor order; an actor on neither side adds
``+0.0``, which changes nothing) and a sum is ``(lane0 + lane1) + (lane2 + lane3)``, so
that SSE2 adds four actors in one instruction (GCC vector extensions; another compiler gets
the same order one actor at a time). The outcomes agree on every golden case, but a support
within one float32 rounding of its threshold could be decided the other way.

Per (world, candidate) (:func:`_vote`): the gains are computed inside the sums, four
actors at a time: a single-issue move's (``detente_move_tally_*``) and a multi-issue
move's, its issues' terms summed per actor in issue order (two issues in registers,
``detente_two_issues_*``; more through a row of gains, ``detente_issue_gains_*``).
Every array is C-contiguous (:func:`detente.sim.engine.voted` makes it so); the loops read
rows through pointers, and clout x salience (and salience / range) through copies padded
to a multiple of four actors with ``+0.0``.
"""


from libc.stdlib cimport calloc, free
from detente.sim.native.rows cimport any_set, row_of

import numpy as np


cdef class VoteTables:
    """A vote plan's static tables (:class:`detente.sim.engine.VotePlan`), laid out once per
    plan for :func:`voted_pairs`.

    ``effects`` ``[m, K, I]``, ``n_iss`` ``[K]``, ``iss_pad`` ``[K, J]``, ``usal_pad``
    ``[m, K, J, A]``, ``tol`` ``[K]`` and ``sal_kt`` ``[m, K, A]`` (``m`` rows as in
    :func:`voted_pairs`), C-contiguous; ``sal_kt`` and ``usal_pad`` are kept as copies with
    their actors padded to a multiple of four with ``+0.0`` (the vote's lanes). Its attributes are declared in
    ``votes.pxd`` (:mod:`detente.sim.native.consent` reads them too).
    """

    def __init__(
        self,
        const double[:, :, ::1] effects,
        const long[::1] n_iss,
        const long[:, ::1] iss_pad,
        const float[:, :, :, ::1] usal_pad,
        const float[::1] tol,
        const float[:, :, ::1] sal_kt,
    ):
        cdef Py_ssize_t n_a = sal_kt.shape[2], n4 = (n_a + 3) // 4 * 4, r, k, a, j
        if usal_pad.shape[3] != n_a:
            raise ValueError("VoteTables: usal_pad and sal_kt have different actors")
        self.effects = effects
        self.n_iss = n_iss
        self.iss_pad = iss_pad
        self.usal_pad = usal_pad
        self.tol = tol
        self.n_actors = n_a
        self.sal4 = np.zeros((sal_kt.shape[0], sal_kt.shape[1], n4), dtype=np.float32)
        for r in range(sal_kt.shape[0]):
            for k in range(sal_kt.shape[1]):
                for a in range(n_a):
                    self.sal4[r, k, a] = sal_kt[r, k, a]
        self.usal4 = np.zeros((usal_pad.shape[0], usal_pad.shape[1], usal_pad.shape[2], n4),
                              dtype=np.float32)
        for r in range(usal_pad.shape[0]):
            for k in range(usal_pad.shape[1]):
                for j in range(usal_pad.shape[2]):
                    for a in range(n_a):
                        self.usal4[r, k, j, a] = usal_pad[r, k, j, a]


def voted_pairs(
    const unsigned char[:, ::1] cand,
    const double[:, ::1] level,
    const position_t[:, :, ::1] position,
    const double[:, ::1] clout,
    VoteTables tables not None,
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
    ``tables`` holds the plan's (:class:`VoteTables`).
    ``trusted`` is the trust gate, ``~gate | (belief >= trust * rel)`` (``trust`` ``[1 or n]``,
    ``rel`` ``[1 or n, K]``), checked before the vote; an empty ``gate`` gates nothing.
    """
    out_arr = np.zeros((cand.shape[0], cand.shape[1]), dtype=np.bool_)
    cdef unsigned char[:, ::1] out = out_arr.view(np.uint8)
    vote_rows(cand, level, position, clout, tables, sign, threshold, proposer, gate, belief,
              trust, rel, out)
    return out_arr
