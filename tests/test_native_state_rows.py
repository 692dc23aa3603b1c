"""Kernels given one row per state of a stacked run (``m`` rows for ``n`` worlds, world ``w``
reading row ``w * m // n``, :func:`detente.sim.engine.per_state_rows`) give exactly what they
give with each state's row repeated over its worlds (one row per world, the form the golden
digests check). On random inputs where every such leaf matters: the leaves of the consent
checks and of Congress's agenda and bills that the flagship's sampled states leave without
effect in ``tests/test_stacked.py`` (ladder order, tolerances, third parties' ideal points,
the trust gate's weights, renewal gestures, the floor's starting positions). And the
engine's one call for Congress's bills (``bills_enacted``) is the mechanism's composition
(``bill_candidates``, ``legislative_initiative`` with the floor's vote) on such leaves."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from detente.sim.native import congress, consent

STATES, EACH = 3, 4  # n = 12 worlds, 4 per state
N = STATES * EACH


def _per_world(x: Any) -> Any:
    """A per-state leaf as the same rows repeated over each state's worlds."""
    return np.ascontiguousarray(np.repeat(x, EACH, axis=0))


def _consent_case(rng: np.random.Generator) -> tuple[dict[str, Any], tuple[str, ...]]:
    n_k, n_i, n_a = 5, 4, 6
    check_start, pair_start, issue, holder = [0], [0], [], []
    veto = []
    for _ in range(n_k):
        n_c = int(rng.integers(1, 4))
        for _ in range(n_c):
            issues = np.sort(rng.choice(n_i, int(rng.integers(1, 4)), replace=False))
            h = -1 if rng.random() < 0.3 else int(rng.integers(n_a))
            issue += issues.tolist()
            holder += [h] * issues.size
            pair_start.append(len(issue))
            veto.append(1 if h >= 0 and rng.random() < 0.5 else 0)
        check_start.append(len(veto))
    n_c, n_p = len(veto), len(issue)
    tol = rng.uniform(0.0, 6.0, (STATES, n_c))
    args = {
        "cand": (rng.random((N, n_k)) < 0.7).astype(np.uint8),
        "prospective": rng.uniform(0, 10, (N, n_i)),
        "position": rng.uniform(0, 10, (n_i, N, n_a)),
        "belief": rng.uniform(0, 1, N),
        "threshold": rng.uniform(0.2, 0.6, STATES),
        "gate": (rng.random(n_k) < 0.6).astype(np.uint8),
        "sign": 1.0,
        "low": np.zeros((1, n_i)),
        "high": np.full((1, n_i), 10.0),
        "effects": rng.uniform(-4, 4, (STATES, n_k, n_i)),
        "order": np.array([rng.permutation(n_k) for _ in range(STATES)], dtype=np.int64),
        "check_start": np.array(check_start, dtype=np.int64),
        "pair_start": np.array(pair_start, dtype=np.int64),
        "issue": np.array(issue, dtype=np.int64),
        "holder": np.array(holder, dtype=np.int64),
        "stake": (rng.random(n_p) < 0.8).astype(np.float64),
        "veto": np.array(veto, dtype=np.uint8),
        "tol": tol,
        "limit": tol + 1e-9,
        "ext_x": rng.uniform(0, 10, (STATES, n_p)),
        "rel": rng.uniform(0, 1, (STATES, n_k)),
    }
    per_state = ("threshold", "effects", "order", "tol", "limit", "ext_x", "rel")
    return args, per_state


def test_consent_checks_read_each_worlds_state_row() -> None:
    rng = np.random.default_rng(7)
    differ = 0
    for _ in range(20):
        args, per_state = _consent_case(rng)
        want = consent.ratify_worlds(**{k: _per_world(v) if k in per_state else v
                                        for k, v in args.items()})
        got = consent.ratify_worlds(**args)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        # not trivial: the states' rows give other outcomes than the first state's row
        first = consent.ratify_worlds(**{k: v[:1] if k in per_state else v
                                         for k, v in args.items()})
        differ += any(not np.array_equal(np.asarray(a), np.asarray(b))
                      for a, b in zip(first, want, strict=True))
    assert differ > 10


def _both_ways(fn: Any, args: list[Any], per_state: tuple[int, ...]) -> None:
    """``fn`` on ``args`` (fresh copies: a kernel may write in place), with the arguments at
    ``per_state`` one row per state and then repeated per world: the same outputs and writes."""
    outs = []
    for rows in (lambda x: x, _per_world):
        call = [rows(a) if i in per_state else a for i, a in enumerate(args)]
        call = [a.copy() if isinstance(a, np.ndarray) else a for a in call]
        out = fn(*call)
        written = [a for i, a in enumerate(call) if isinstance(a, np.ndarray) and i not in per_state]
        outs.append([np.asarray(a) for a in out] + written)
    for a, b in zip(*outs, strict=True):
        np.testing.assert_array_equal(a, b)


def _proposals(
    level: Any, neutral: Any, conc_rank: Any, host_rank: Any, menu: Any, active: Any,
    pending: Any, by_leg: Any, reversible: Any, gest_pos: Any, req_ok: Any, renew: bool,
    t: int, sunset: Any, renewed_by: Any, is_renewal: Any, renew_menu: Any, gesture: Any,
    retreat: bool, cost_now: Any, tolerance: Any, u: Any, chance: Any, cost: Any, since: Any,
    held: Any, start: Any, never: int,
) -> Any:
    """``congress.proposals`` with its run's leaves (``CongressRun``) among its arguments."""
    run = congress.CongressRun(
        neutral, conc_rank, host_rank, menu, reversible, gest_pos, sunset, renewed_by,
        is_renewal, renew_menu, gesture, tolerance, chance, cost, np.zeros(1), np.ones(1),
        np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(0, np.uint8), np.zeros((1, 1)),
        np.zeros((1, 1, 1)), np.zeros(1, np.uint8))
    return congress.proposals(run, level, active, pending, by_leg, req_ok, renew, t, retreat,
                              cost_now, u, since, held, start, never)


def _bill_candidates(
    t: int, sunset: Any, approved: Any, active: Any, prospective: Any, low: Any, high: Any,
    start: Any, pos: Any, floor: int, floor_start: Any, stake: Any, tolerance: Any,
    effects: Any, by_legislature: Any, committed: Any, killed: Any, renewed_by: Any,
    req_ok: Any,
) -> Any:
    """``congress.bill_candidates`` with its run's leaves among its arguments."""
    n_k = committed.shape[1]
    none = np.zeros(n_k, np.uint8)
    run = congress.CongressRun(
        np.zeros(1), np.zeros((1, n_k)), np.zeros((1, n_k)), none, none, none, sunset,
        renewed_by, none, none, np.zeros((1, n_k)), np.zeros(1), np.zeros(1),
        np.zeros((1, n_k)), low, high, start, floor_start, stake, tolerance, effects,
        by_legislature)
    return congress.bill_candidates(run, t, approved, active, prospective, pos, floor,
                                    committed, killed, req_ok)


def _agenda_args(rng: np.random.Generator, n_k: int, ranks: Any) -> list[Any]:
    """Random arguments of :func:`_proposals` (the ladder's ranks given)."""
    t = 3
    renewed_by = np.zeros((n_k, n_k), dtype=np.uint8)
    renewed_by[0, [3, 4, 5]] = 1  # law 0 lapses at t; steps 3, 4 and 5 would renew it
    sunset = np.full(n_k, -1, dtype=np.int64)
    sunset[0] = t
    ones = np.ones(n_k, np.uint8)
    active = (rng.random((N, n_k)) < 0.4).astype(np.uint8)
    gesture = rng.uniform(-1, 1, (STATES, n_k))
    return [
        rng.uniform(0, 1, N), np.array([0.5]), ranks[0], ranks[1], ones, active,
        (rng.random((N, n_k)) < 0.2).astype(np.uint8) & (active ^ 1),
        np.zeros((N, n_k), np.uint8), ones, (gesture[0] > 0).astype(np.uint8),
        np.zeros((0, 0), np.uint8), True, t, sunset, renewed_by,
        renewed_by.any(axis=0).astype(np.uint8), ones, gesture, True, rng.uniform(0, 1, N),
        np.array([0.5]), rng.uniform(0, 1, N), np.array([0.6]),
        rng.uniform(0, 1, (STATES, n_k)), rng.integers(0, 5, (N, n_k)),
        np.zeros(0, np.int8), np.full((N, n_k), 7, dtype=np.int64), -1,
    ]


def test_agenda_ladder_from_sorted_ranks() -> None:
    # one row of ranks for all worlds: the ladder from the ranks sorted once per call; the
    # same row repeated per world: rank by rank; rows of 6 and of 20 steps (8 bytes at a
    # time), ties, NaN ranks, levels at the ladder's ends
    rng = np.random.default_rng(3)
    for n_k in (6, 20):
        for _ in range(10):
            ranks = np.round(rng.uniform(0, 1, (2, 1, n_k)), 1)
            ranks[rng.random((2, 1, n_k)) < 0.2] = np.nan
            args = _agenda_args(rng, n_k, ranks)
            args[0][:3] = [0.0, 0.5, 1.0]
            args[4] = (rng.random(n_k) < 0.8).astype(np.uint8)  # the menu
            shared = _proposals(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
            args[2], args[3] = (np.ascontiguousarray(np.repeat(r, N, axis=0)) for r in ranks)
            per_world = _proposals(*args)
            for a, b in zip(shared, per_world, strict=True):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
            assert np.asarray(shared[0]).any() and np.asarray(shared[1]).any()


def test_agenda_reads_each_worlds_state_row() -> None:
    rng = np.random.default_rng(11)
    n_k, t = 6, 3
    renewed_by = np.zeros((n_k, n_k), dtype=np.uint8)
    renewed_by[0, [3, 4, 5]] = 1  # law 0 lapses at t; steps 3, 4 and 5 would renew it
    sunset = np.full(n_k, -1, dtype=np.int64)
    sunset[0] = t
    ones = np.ones(n_k, np.uint8)
    for _ in range(10):
        active = (rng.random((N, n_k)) < 0.4).astype(np.uint8)
        gesture = rng.uniform(-1, 1, (STATES, n_k))
        args = [
            rng.uniform(0, 1, N), np.array([0.5]), rng.uniform(0, 1, (STATES, n_k)),
            rng.uniform(0, 1, (STATES, n_k)), ones, active,
            (rng.random((N, n_k)) < 0.2).astype(np.uint8) & (active ^ 1),
            np.zeros((N, n_k), np.uint8), ones, (gesture[0] > 0).astype(np.uint8),
            np.zeros((0, 0), np.uint8), True, t, sunset, renewed_by,
            renewed_by.any(axis=0).astype(np.uint8), ones, gesture, True, rng.uniform(0, 1, N),
            np.array([0.5]), rng.uniform(0, 1, N), np.array([0.6]),
            rng.uniform(0, 1, (STATES, n_k)), rng.integers(0, 5, (N, n_k)),
            np.zeros(0, np.int8), np.full((N, n_k), 7, dtype=np.int64), -1,
        ]
        # the ladder's ranks, the renewals' gestures, the steps' costs
        _both_ways(_proposals, args, (2, 3, 17, 23))


def test_bills_read_each_worlds_state_row() -> None:
    rng = np.random.default_rng(5)
    n_k, n_i, n_a, floor = 5, 4, 3, 1
    for _ in range(10):
        args = [
            # step 3: some steps approved now, step 2's law lapsing (the moves judged)
            3, np.array([-1, -1, 3, -1, -1], dtype=np.int64),
            (rng.random((N, n_k)) < 0.2).astype(np.uint8), np.zeros((N, n_k), np.uint8),
            rng.uniform(0, 10, (N, n_i)), np.zeros(n_i),
            np.full(n_i, 10.0), rng.uniform(0, 10, (STATES, n_i)),
            rng.uniform(0, 10, (n_i, N, n_a)), floor, rng.uniform(0, 10, (STATES, n_i)),
            np.ones(n_i, np.uint8), rng.uniform(0, 2, (STATES, n_i)),
            rng.uniform(-3, 3, (STATES, n_k, n_i)), np.array([1, 1, 0, 1, 1], np.uint8),
            (rng.random((N, n_k)) < 0.3).astype(np.uint8), np.zeros((N, n_k), np.uint8),
            np.zeros((n_k, n_k), np.uint8), np.zeros((0, 0), np.uint8),
        ]
        # the status quo, the floor's starting positions, its tolerance, the effects
        _both_ways(_bill_candidates, args, (7, 10, 12, 13))
        bills, judged, _ = _bill_candidates(*args)
        assert np.asarray(bills).any() and not np.asarray(bills).all()  # not trivial
        # the floor judges the levels with this step's moves: the approved steps and the
        # lapse of step 2 (not in force, no renewal), each state's effects
        moving = args[2].astype(np.float64)
        moving[:, 2] = 1.0
        effects = np.repeat(args[13], EACH, axis=0)
        want = np.clip(args[4] + np.einsum("nk,nki->ni", moving, effects), args[5], args[6])
        np.testing.assert_allclose(judged, want, rtol=0, atol=1e-12)


def _floor_vote(tables: Any, level: Any, position: Any, clout: Any, cand: Any,
                threshold: Any) -> Any:
    """The floor's weighted vote as the engine's floor_vote took it before bills_enacted:
    ``voted_pairs`` of the members' clout, no proposer, no trust gate."""
    from detente.sim.native import mask, votes

    return np.asarray(votes.voted_pairs(
        mask(cand), level, position, clout, tables, 1.0,
        np.asarray(threshold, dtype=np.float64).reshape(-1), -1, np.zeros(0, np.uint8),
        np.zeros(0), np.zeros(0), np.zeros((0, 0))), dtype=bool)


def test_bills_enacted_is_the_bills_voted_vetoed_and_overridden() -> None:
    # congress.bills_enacted (the engine's one call) against the mechanism's composition:
    # bill_candidates' bills and judged levels, then congress.legislative_initiative with
    # the floor's vote of voted_pairs (clout * members); per-state leaves read by each world
    from detente.sim.mechanisms import congress as mechanisms
    from detente.sim.native import votes

    rng = np.random.default_rng(17)
    n_k, n_i, n_a, floor = 5, 4, 3, 1
    enacted_somewhere = vetoed_somewhere = False
    for case in range(10):
        effects = rng.uniform(-3, 3, (STATES, n_k, n_i))
        effects[:, :, 3] = 0.0  # no step moves issue 3
        effects[:, 1, 1:] = 0.0  # step 1 moves one issue
        n_iss = (effects[0] != 0).sum(axis=1).astype(np.int64)
        iss_pad = np.zeros((n_k, n_i), dtype=np.int64)
        for k in range(n_k):
            iss_pad[k, : n_iss[k]] = np.flatnonzero(effects[0, k])
        tables = votes.VoteTables(
            effects, n_iss, iss_pad, rng.uniform(0, 1, (STATES, n_k, n_i, n_a)).astype(
                np.float32), np.full(n_k, 1e-7, dtype=np.float32),
            rng.uniform(0, 1, (STATES, n_k, n_a)).astype(np.float32))
        members = np.array([1.0, 1.0, 0.0])
        majority, hold = rng.uniform(0.3, 0.6, STATES), rng.uniform(0, 1, STATES)
        gesture, neutral = rng.uniform(-1, 1, (STATES, n_k)), np.array([0.5])
        args = [
            3, np.array([-1, -1, 3, -1, -1], dtype=np.int64),
            (rng.random((N, n_k)) < 0.2).astype(np.uint8), np.zeros((N, n_k), np.uint8),
            rng.uniform(0, 10, (N, n_i)), np.zeros(n_i),
            np.full(n_i, 10.0), rng.uniform(0, 10, (STATES, n_i)),
            rng.uniform(0, 10, (n_i, N, n_a)), floor, rng.uniform(0, 10, (STATES, n_i)),
            np.ones(n_i, np.uint8), rng.uniform(0, 2, (STATES, n_i)), effects,
            np.array([1, 1, 0, 1, 1], np.uint8), (rng.random((N, n_k)) < 0.3).astype(np.uint8),
            (rng.random((N, n_k)) < 0.1).astype(np.uint8), np.zeros((n_k, n_k), np.uint8),
            np.zeros((0, 0), np.uint8) if case % 2 else np.ones((N, n_k), np.uint8),
        ]
        bills, judged, some = _bill_candidates(*args)
        level, u = rng.uniform(0, 1, N), rng.uniform(0, 1, N)
        clout = rng.uniform(0, 2, (N, n_a))
        want_app = args[2].astype(bool)
        killed, committed = args[16].astype(bool), args[15].astype(bool)
        by_leg = np.zeros((N, n_k), dtype=bool)
        if some:
            assert bills is not None and judged is not None

            floor_vote = partial(_floor_vote, tables, judged, args[8], clout * members[None, :])

            enacted, dead = mechanisms.legislative_initiative(
                bills, np.repeat(gesture, EACH, axis=0), level, neutral, u,
                np.repeat(hold, EACH), np.repeat(majority, EACH), floor_vote)
            want_app, killed, committed = want_app | enacted, killed | dead, committed | enacted
            by_leg |= enacted
        run = congress.CongressRun(
            neutral, np.zeros((1, n_k)), np.zeros((1, n_k)), np.zeros(n_k, np.uint8),
            np.zeros(n_k, np.uint8), np.zeros(n_k, np.uint8), args[1], args[17],
            np.zeros(n_k, np.uint8), np.zeros(n_k, np.uint8), gesture, np.zeros(1),
            np.zeros(1), np.zeros((1, n_k)), args[5], args[6], args[7], args[10], args[11],
            args[12], effects, args[14])
        got_killed, got_committed = args[16].copy(), args[15].copy()
        got_by_leg = np.zeros((N, n_k), np.uint8)
        got = congress.bills_enacted(
            run, congress.FloorRun(tables, members, majority, np.array([2.0 / 3.0]), hold), 3,
            args[2], args[3], args[4], args[8], floor, got_committed, got_killed, args[18],
            got_by_leg, clout, level, u)
        np.testing.assert_array_equal(args[2].astype(bool) if got is None else got, want_app)
        enacted_somewhere |= got is not None
        vetoed_somewhere |= bool((got_killed != args[16]).any())
        np.testing.assert_array_equal(got_killed.astype(bool), killed)
        np.testing.assert_array_equal(got_committed.astype(bool), committed)
        np.testing.assert_array_equal(got_by_leg.astype(bool), by_leg)
    assert enacted_somewhere and vetoed_somewhere  # not trivial
