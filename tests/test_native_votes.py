"""The vote kernel (detente.sim.native.votes) on a case the golden digests do not reach: a
negative indifference tolerance, where an actor's gain can pass both ``tol`` and ``-tol``
(the scenarios' tolerances are positive, so the kernel's branch-free sums apply there), with
1 to 4 actors in the last block of four lanes (the scenarios' 11 and 17 leave 3 and 1). The
oracle is the vote's rule in NumPy's float32, in the kernel's four lanes (actor ``a`` in
lane ``a % 4``)."""

from __future__ import annotations

import numpy as np
import pytest

from detente.sim.native.votes import VoteTables, voted_pairs


@pytest.mark.parametrize("n_a", [9, 10, 11, 12])  # the last lane block: 1, 2, 3 or 4 actors
def test_a_negative_tolerance_counts_an_actor_for_the_move_only(n_a: int) -> None:
    rng = np.random.default_rng(13)
    n, n_k, n_i = 40, 3, 4
    f32 = np.float32
    cand = (rng.random((n, n_k)) < 0.8).astype(np.uint8)
    level = rng.uniform(0, 100, (n, n_i))
    position = rng.uniform(0, 100, (n_i, 1, n_a)).astype(np.float32)
    clout = rng.uniform(0, 1, (n, n_a))
    effects = np.zeros((1, n_k, n_i))
    issue = np.array([0, 2, 3])
    effects[0, np.arange(n_k), issue] = rng.choice([-1, 1], n_k) * rng.uniform(5, 20, n_k)
    tol = np.array([-3.0, 0.5, -40.0], dtype=np.float32)
    sal_kt = rng.uniform(0, 1, (1, n_k, n_a)).astype(np.float32)
    threshold = np.array([0.55])
    tables = VoteTables(
        effects, np.ones(n_k, dtype=np.int64), issue[:, None].astype(np.int64),
        np.ones((1, n_k, 1, n_a), dtype=np.float32), tol, sal_kt,
    )
    got = voted_pairs(
        cand, level, position, clout, tables, 1.0, threshold, -1,
        np.zeros(0, dtype=np.uint8), np.zeros(0), np.zeros(0), np.zeros((0, 0)),
    )
    expected = np.zeros((n, n_k), dtype=bool)
    for w, k in zip(*np.nonzero(cand), strict=True):
        i, d = issue[k], effects[0, k, issue[k]]
        gain = (position[i, 0] - f32(level[w, i] + 0.5 * d)) * f32(np.sign(d))
        pro_l, con_l = [f32(0.0)] * 4, [f32(0.0)] * 4  # actor a adds into lane a % 4
        for a in range(n_a):
            c = f32(clout[w, a]) * sal_kt[0, k, a]
            if gain[a] > tol[k]:
                pro_l[a % 4] = f32(pro_l[a % 4] + c)
            elif gain[a] < -tol[k]:
                con_l[a % 4] = f32(con_l[a % 4] + c)
        pro = f32(f32(pro_l[0] + pro_l[1]) + f32(pro_l[2] + pro_l[3]))
        con = f32(f32(con_l[0] + con_l[1]) + f32(con_l[2] + con_l[3]))
        tot = f32(pro + con)
        expected[w, k] = float(pro / tot if tot > 0 else f32(0.5)) >= threshold[0]
    np.testing.assert_array_equal(got, expected)
    assert expected.any() and not expected[cand.astype(bool)].all()  # not trivial
