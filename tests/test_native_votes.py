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


def _lane_vote(gain: np.ndarray, clout: np.ndarray, sal: np.ndarray, tol: float) -> float:
    """The float32 oracle of one vote: each actor's clout times salience added into lane
    ``a % 4`` of four float32 lanes for or against (its gain beyond ``tol``), the lanes
    added ``(0 + 1) + (2 + 3)``; the share for (0.5 with no votes)."""
    f32 = np.float32
    pro_l, con_l = [f32(0.0)] * 4, [f32(0.0)] * 4
    for a in range(clout.size):
        c = f32(clout[a]) * sal[a]
        if gain[a] > tol:
            pro_l[a % 4] = f32(pro_l[a % 4] + c)
        elif gain[a] < -tol:
            con_l[a % 4] = f32(con_l[a % 4] + c)
    pro = f32(f32(pro_l[0] + pro_l[1]) + f32(pro_l[2] + pro_l[3]))
    con = f32(f32(con_l[0] + con_l[1]) + f32(con_l[2] + con_l[3]))
    tot = f32(pro + con)
    return float(pro / tot if tot > 0 else f32(0.5))


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
        expected[w, k] = _lane_vote(gain, clout[w], sal_kt[0, k], tol[k]) >= threshold[0]
    np.testing.assert_array_equal(got, expected)
    assert expected.any() and not expected[cand.astype(bool)].all()  # not trivial


@pytest.mark.parametrize("n_a", [2, 5, 6, 7, 8, 17])  # the last lane block: 2, 1, 2, 3, 4, 1
def test_a_multi_issue_move_sums_its_issues_terms_per_actor(n_a: int) -> None:
    """Moves on two and three issues, with and without a proposer (the kernel tallies two
    issues in registers, more through a row of gains; both read the row's last block at
    once, or in parts below four actors): the oracle sums each actor's clipped terms in
    issue order in float32, then tallies in the four lanes."""
    rng = np.random.default_rng(n_a)
    n, n_i = 30, 4
    f32 = np.float32
    issues = [np.array([0, 2]), np.array([1, 3]), np.array([0, 1, 3])]
    n_k = len(issues)
    cand = (rng.random((n, n_k)) < 0.8).astype(np.uint8)
    level = rng.uniform(0, 100, (n, n_i))
    position = rng.uniform(0, 100, (n_i, n, n_a)).astype(np.float32)
    clout = rng.uniform(0, 1, (n, n_a))
    effects = np.zeros((1, n_k, n_i))
    iss_pad = np.zeros((n_k, 3), dtype=np.int64)
    usal = np.zeros((1, n_k, 3, n_a), dtype=np.float32)
    for k, ik in enumerate(issues):
        effects[0, k, ik] = rng.choice([-1, 1], ik.size) * rng.uniform(5, 40, ik.size)
        iss_pad[k] = ik[0]
        iss_pad[k, : ik.size] = ik
        usal[0, k, : ik.size] = rng.uniform(0, 0.05, (ik.size, n_a))
    tol = np.full(n_k, 1e-7, dtype=np.float32)
    sal_kt = rng.uniform(0, 1, (1, n_k, n_a)).astype(np.float32)
    threshold = np.array([0.5])
    n_iss = np.array([ik.size for ik in issues], dtype=np.int64)
    tables = VoteTables(effects, n_iss, iss_pad, usal, tol, sal_kt)
    for proposer in (-1, n_a - 1):
        got = voted_pairs(
            cand, level, position, clout, tables, 1.0, threshold, proposer,
            np.zeros(0, dtype=np.uint8), np.zeros(0), np.zeros(0), np.zeros((0, 0)),
        )
        expected = np.zeros((n, n_k), dtype=bool)
        for w, k in zip(*np.nonzero(cand), strict=True):
            gain = np.zeros(n_a, dtype=f32)
            for j, i in enumerate(issues[k]):
                d = effects[0, k, i]
                h = (position[i, w] - f32(level[w, i] + 0.5 * d)) * f32(2.0 * np.sign(d))
                h = np.minimum(np.maximum(h, -f32(abs(d))), f32(abs(d))) * usal[0, k, j]
                gain = h if j == 0 else (gain + h).astype(f32)
            if proposer >= 0:
                gain[proposer] = 1.0
            expected[w, k] = _lane_vote(gain, clout[w], sal_kt[0, k], tol[k]) >= threshold[0]
        np.testing.assert_array_equal(got, expected)
        assert expected.any() and not expected[cand.astype(bool)].all()  # not trivial
