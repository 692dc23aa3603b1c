"""The compiled delays, posture and reform share (detente.sim.native.implementation) against
NumPy formulations written here, on the cases the kernels branch on.

The golden digests cover the flagship and a few stacked runs; these cover what they may not:
a per-world leaf for only some of a delay's three numbers, a degenerate delay, a side with no
gesture of one sign, NaN levels, and sums over more actors than NumPy's pairwise block.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from detente.scenario import load_scenario
from detente.sim import compile_system
from detente.sim.engine import posture, schedule, triangular_delay
from detente.sim.native import implementation as native_impl
from detente.sim.system import Side

MINI = Path(__file__).parent / "data" / "mini-system.yaml"


def _reference_delay(a: np.ndarray, c: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of the triangular distribution, the mode where it has no width."""
    w = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(w > 0, (c - a) / np.where(w > 0, w, 1), 0.5)
        lo = a + np.sqrt(np.clip(u * w * (c - a), 0, None))
        hi = b - np.sqrt(np.clip((1 - u) * w * (b - c), 0, None))
    return np.where(w > 0, np.where(u < cut, lo, hi), c)


@pytest.fixture(scope="module")
def side() -> Side:
    return compile_system(load_scenario(MINI), "engage").focal


def _per_world_mode(side: Side, n: int, rng: np.random.Generator) -> Side:
    """``side`` with one delay mode per world (low and high shared), one delay degenerate."""
    low = side.delay_low.copy()
    high = np.maximum(side.delay_high, low + 1.0)
    high[0] = low[0]  # no width: the mode, whatever u
    mode = low + (high - low) * rng.random((n, low.size))
    return dataclasses.replace(side, delay_low=low, delay_mode=mode, delay_high=high)


def test_triangular_delay_reads_each_per_world_number_of_its_own_world(side: Side) -> None:
    rng = np.random.default_rng(3)
    n = 40
    s = _per_world_mode(side, n, rng)
    k = rng.integers(0, s.delay_low.size, 200)
    w = rng.integers(0, n, 200)
    u = rng.random(200)
    u[:5] = 0.0
    got = triangular_delay(s, k, u, w)
    want = _reference_delay(s.delay_low[k], s.delay_mode[w, k], s.delay_high[k], u)
    np.testing.assert_array_equal(got, want)
    assert (got[k == 0] == s.delay_mode[w[k == 0], 0]).all()


def test_schedule_sets_start_steps_only_where_approved(side: Side) -> None:
    rng = np.random.default_rng(4)
    n, t, never = 30, 7, 10**12
    s = _per_world_mode(side, n, rng)
    n_k = s.delay_low.size
    approved = rng.random((n, n_k)) < 0.4
    u = rng.random((n, 3, n_k))[:, 1]  # a strided step slice, as the engine passes
    start = np.full((n, n_k), never, dtype=np.int64)
    schedule(s, approved, u, start, t)
    w, k = np.nonzero(approved)
    want = t + np.rint(_reference_delay(s.delay_low[k], s.delay_mode[w, k], s.delay_high[k],
                                        u[w, k])).astype(np.int64)
    np.testing.assert_array_equal(start[w, k], want)
    assert (start[~approved] == never).all()


@pytest.mark.parametrize("gestures", [[0.3, 0.5, -0.2, 0.1], [0.3, 0.5, 0.2, 0.1]])
def test_posture_matches_the_gesture_weighted_shares(side: Side, gestures: list[float]) -> None:
    rng = np.random.default_rng(5)
    g = np.asarray(gestures)
    s = dataclasses.replace(side, gesture=g)
    n = 50
    active = rng.random((n, g.size)) < 0.4
    pending = (rng.random((n, g.size)) < 0.3) & ~active
    p = SimpleNamespace(announce_weight=0.3, neutral_level=0.4)
    level, conc, host = posture(s, active, pending, p)
    wt = active + 0.3 * pending
    gp, gn = np.clip(g, 0, None), np.clip(-g, 0, None)
    want_conc = wt @ gp / gp.sum()
    want_host = wt @ gn / gn.sum() if gn.sum() > 0 else np.zeros(n)
    np.testing.assert_array_equal(conc, want_conc)
    np.testing.assert_array_equal(host, want_host)
    np.testing.assert_array_equal(level, np.clip(0.4 + 0.6 * want_conc - 0.4 * want_host, 0, 1))


def test_played_levels_are_the_shares_levels_shared_or_per_world() -> None:
    """Both sides' played levels and the focal hostile share, written to strided histories:
    with shared positive denominators (the vectorised loop), a zero one and per-world ones."""
    rng = np.random.default_rng(22)
    n = 33
    conc_f, host_f, conc_o, host_o = rng.random((4, n)) * 1.5
    conc_o[4] = np.nan
    neutral = np.array([0.4])

    def share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)

    def level(conc: np.ndarray, host: np.ndarray) -> np.ndarray:
        x = (0.4 + (1 - 0.4) * conc) - 0.4 * host
        return np.where(x > 1.0, 1.0, np.where(x < 0.0, 0.0, x))

    for dens in ([1.2, 0.9, 1.1, 0.7], [1.2, 0.0, 1.1, 0.7],
                 [rng.random(n) + 0.5, np.full(n, 0.9), 1.1, 0.7]):
        sp_f, sn_f, sp_o, sn_o = (np.atleast_1d(np.asarray(d, dtype=np.float64)) for d in dens)
        own_f, own_o = np.full((n, 5), -1.0), np.full((n, 5), -1.0)
        play_f, play_o, hostile = native_impl.played_levels(
            conc_f, host_f, conc_o, host_o, sp_f, sn_f, sp_o, sn_o, neutral, own_f[:, 2],
            own_o[:, 2])
        h = share(host_f, sn_f)
        np.testing.assert_array_equal(hostile, h)
        np.testing.assert_array_equal(play_f, level(share(conc_f, sp_f), h))
        np.testing.assert_array_equal(play_o, level(share(conc_o, sp_o), share(host_o, sn_o)))
        np.testing.assert_array_equal(own_f[:, 2], play_f)
        np.testing.assert_array_equal(own_o[:, 2], play_o)
        assert (own_f[:, [0, 1, 3, 4]] == -1.0).all() and (own_o[:, 3] == -1.0).all()


def test_move_levels_clip_per_world_bounds_and_keep_nan() -> None:
    rng = np.random.default_rng(6)
    n, n_i = 20, 5
    level, a, b = rng.normal(size=(3, n, n_i))
    level[0, 0] = np.nan
    low = rng.normal(size=(n, n_i)) - 1.0
    high = low + 1.5
    none, no_rows = np.zeros((n, 0), dtype=np.uint8), np.zeros((1, 0, n_i))
    got = level.copy()
    assert native_impl.move_levels(got, none, no_rows, none, no_rows, a, b, 1.0, low, high)
    np.testing.assert_array_equal(got, np.clip(level + a + b, low, high))
    got = level.copy()
    assert native_impl.move_levels(got, none, no_rows, np.zeros((0, 0), dtype=np.uint8),
                                   no_rows, a, np.zeros((0, 0)), -1.0, low[:1], high[:1])
    np.testing.assert_array_equal(got, np.clip(level - a, low[:1], high[:1]))


def test_move_levels_sum_the_steps_only_where_their_order_cannot_matter() -> None:
    """The kernel adds the steps' effects itself where no issue gets more than two nonzero
    terms (their sum is then BLAS's, whatever its order); otherwise it changes nothing and
    asks for the product (False)."""
    rng = np.random.default_rng(8)
    n, k_f, k_o, n_i = 64, 20, 9, 11
    effects_f = np.where(rng.random((2, k_f, n_i)) < 0.2, rng.normal(size=(2, k_f, n_i)), 0.0)
    effects_o = np.where(rng.random((1, k_o, n_i)) < 0.3, rng.normal(size=(1, k_o, n_i)), 0.0)
    level = rng.normal(size=(n, n_i))
    low, high = np.full((1, n_i), -1.5), np.full((1, n_i), 1.5)
    steps_f = np.zeros((n, k_f), dtype=np.uint8)
    steps_o = np.zeros((n, k_o), dtype=np.uint8)
    for w in range(0, n, 3):  # two steps each side: any order gives the same sums
        steps_f[w, rng.choice(k_f, 2, replace=False)] = 1
        steps_o[w, rng.choice(k_o, 2, replace=False)] = 1
    state = np.repeat([0, 1], n // 2)  # one matrix per state, two states
    moves_f = np.einsum("wk,wki->wi", steps_f, effects_f[state])
    moves_o = steps_o.astype(np.float64) @ effects_o[0]
    none = np.zeros((0, 0))
    got = level.copy()
    assert native_impl.move_levels(got, steps_f, effects_f, steps_o, effects_o, none, none,
                                   1.0, low, high)
    np.testing.assert_array_equal(got, np.clip(level + moves_f + moves_o, low, high))
    got = level.copy()
    assert native_impl.move_levels(got, steps_f, effects_f, np.zeros((0, 0), dtype=np.uint8),
                                   effects_o, none, none, -1.0, low, high)
    np.testing.assert_array_equal(got, np.clip(level - moves_f, low, high))
    # three steps moving one issue: the order could matter; an infinite effect: 0 x inf
    crowded = steps_f.copy()
    crowded[5, :] = 0
    crowded[5, :3] = 1
    effects_3 = effects_f.copy()
    effects_3[0, :3, 4] = [0.1, 0.2, 0.3]
    infinite = effects_f.copy()
    infinite[1, 7, 2] = np.inf
    for steps, effects in ((crowded, effects_3), (steps_f, infinite)):
        got = level.copy()
        assert not native_impl.move_levels(got, steps, effects, steps_o, effects_o, none, none,
                                           1.0, low, high)
        np.testing.assert_array_equal(got, level)


def test_implement_levels_is_the_three_moves_in_turn() -> None:
    """One pass over the worlds gives what the withdrawals' and the starts' move_levels give
    in turn: with both sides, one or no side withdrawing, per-state effects and bounds
    (worlds with nothing to do between those with steps), NaN, -0.0 and out-of-bounds
    levels; where a sum's order could matter it changes nothing and names that move, and
    then takes the move given (BLAS's product) as move_levels does."""
    rng = np.random.default_rng(21)
    n, k_f, k_o, n_i = 40, 20, 9, 11
    effects_f = np.where(rng.random((2, k_f, n_i)) < 0.2, rng.normal(size=(2, k_f, n_i)), 0.0)
    effects_o = np.where(rng.random((1, k_o, n_i)) < 0.3, rng.normal(size=(1, k_o, n_i)), 0.0)
    level = rng.normal(size=(n, n_i)) * 2.0
    level[3, 4] = np.nan
    level[7, 0] = -0.0
    masks = []
    for k in (k_f, k_o, k_f, k_o):  # withdrawn f, o, started f, o: one step, some worlds
        m = np.zeros((n, k), dtype=np.uint8)
        picked = rng.random(n) < 0.25
        m[picked, rng.integers(0, k, picked.sum())] = 1
        masks.append(m)
    none, no_rows, no_effects = np.zeros((0, 0), np.uint8), np.zeros((0, 0)), np.zeros((0, 0, 0))
    crowded = masks[1].copy()
    crowded[5, :3] = 1
    effects_3 = effects_o.copy()
    effects_3[0, :3, 4] = [0.1, 0.2, 0.3]
    moves_3 = crowded.astype(np.float64) @ effects_3[0]
    cases = [(masks[0], masks[1], effects_o, 0), (masks[0], none, effects_o, 0),
             (none, none, effects_o, 0), (masks[0], crowded, effects_3, 2)]
    for low, high in ((np.full((1, n_i), -1.5), np.full((1, n_i), 1.5)),
                      (rng.normal(size=(n, n_i)) - 1.0, rng.normal(size=(n, n_i)) + 1.0)):
        for drop_f, drop_o, eff_o, named in cases:
            want = level.copy()
            if drop_f.shape[0]:
                assert native_impl.move_levels(want, drop_f, effects_f, none, no_effects,
                                               no_rows, no_rows, -1.0, low, high)
            if drop_o.shape[0]:
                given = (moves_3, no_rows) if named else (no_rows, no_rows)
                assert native_impl.move_levels(want, drop_o, eff_o, none, no_effects,
                                               *given, -1.0, low, high)
            assert native_impl.move_levels(want, masks[2], effects_f, masks[3], eff_o,
                                           no_rows, no_rows, 1.0, low, high)
            got = level.copy()
            steps = (got, drop_f, effects_f, drop_o, eff_o, masks[2], masks[3], low, high)
            assert native_impl.implement_levels(*steps, *[no_rows] * 4) == named
            if named:
                np.testing.assert_array_equal(got, level)
                assert native_impl.implement_levels(*steps, no_rows, moves_3, no_rows,
                                                    no_rows) == 0
            np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
    # an infinite effect: the focal moves are BLAS's in every world (0 x inf is NaN)
    infinite = effects_f.copy()
    infinite[1, 7, 2] = np.inf
    state = np.arange(n) * 2 // n
    with np.errstate(invalid="ignore"):
        moves_df, moves_nf = (np.einsum("wk,wki->wi", m.astype(np.float64), infinite[state])
                              for m in (masks[0], masks[2]))
    moves_no = masks[3].astype(np.float64) @ effects_o[0]
    want = level.copy()
    assert native_impl.move_levels(want, masks[0], infinite, none, no_effects, moves_df,
                                   no_rows, -1.0, low, high)
    assert native_impl.move_levels(want, masks[1], effects_o, none, no_effects, no_rows,
                                   no_rows, -1.0, low, high)
    assert native_impl.move_levels(want, masks[2], infinite, masks[3], effects_o, moves_nf,
                                   moves_no, 1.0, low, high)
    got = level.copy()
    steps = (got, masks[0], infinite, masks[1], effects_o, masks[2], masks[3], low, high)
    assert native_impl.implement_levels(*steps, *[no_rows] * 4) == 5
    assert native_impl.implement_levels(*steps, moves_df, no_rows, moves_nf, moves_no) == 0
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))


def test_start_due_follows_the_rule_on_every_step_of_blocks_and_tail() -> None:
    """Withdrawn steps leave force, steps due or forced start: the kernel passes over blocks
    of eight steps with nothing to do; here sizes that are not multiples of eight, with
    blocks of each kind."""
    rng = np.random.default_rng(12)
    n, k_f, k_o, t, never = 37, 7, 3, 5, 1 << 40
    active = {k: rng.random((n, k)) < 0.4 for k in (k_f, k_o)}
    start = {k: np.where(rng.random((n, k)) < 0.15, rng.integers(0, 9, (n, k)), never)
             for k in (k_f, k_o)}
    withdrawn = {k: (rng.random((n, k)) < 0.05) & active[k] for k in (k_f, k_o)}
    forced = rng.random((n, k_f)) < 0.03
    since = rng.integers(0, 5, (n, k_f))
    got_act = {k: active[k].copy() for k in active}
    got_start = {k: start[k].copy() for k in start}
    got_since = since.copy()
    new_f, new_o = native_impl.start_due(
        got_act[k_f].view(np.uint8), got_act[k_o].view(np.uint8), got_start[k_f],
        got_start[k_o], got_since, withdrawn[k_f].view(np.uint8), withdrawn[k_o].view(np.uint8),
        forced.view(np.uint8), t, never)
    for k, new, push in ((k_f, new_f, forced), (k_o, new_o, np.zeros((n, k_o), bool))):
        act = active[k] & ~withdrawn[k]
        want_new = (~act & (start[k] <= t)) | push
        np.testing.assert_array_equal(new, want_new)
        np.testing.assert_array_equal(got_act[k], act | want_new)
        np.testing.assert_array_equal(got_start[k],
                                      np.where(want_new | withdrawn[k], never, start[k]))
    np.testing.assert_array_equal(got_since, np.where(new_f, t, since))


def test_implement_step_is_start_due_then_implement_levels() -> None:
    """The engine's one call (start_due marking the worlds as it visits the steps, then the
    levels) gives what start_due and implement_levels_of give in turn: sizes that are not
    multiples of eight, one or no side withdrawing, forced steps, a crowded start named."""
    rng = np.random.default_rng(31)
    never, t, n_i = 1 << 40, 5, 6
    for n, k_f, k_o, p_drop in ((37, 7, 3, 0.05), (16, 20, 9, 0.0), (11, 20, 9, 0.05),
                                (40, 20, 9, 0.02), (9, 3, 9, 0.0)):
        eff_f = np.where(rng.random((1, k_f, n_i)) < 0.3, rng.normal(size=(1, k_f, n_i)), 0.0)
        eff_o = np.where(rng.random((2, k_o, n_i)) < 0.3, rng.normal(size=(2, k_o, n_i)), 0.0)
        low, high = np.full((1, n_i), -1.5), np.full((1, n_i), 1.5)
        for drop_o_too in (True, False):
            active = {k: rng.random((n, k)) < 0.4 for k in (k_f, k_o)}
            start = {k: np.where(rng.random((n, k)) < 0.15, rng.integers(0, 9, (n, k)), never)
                     for k in (k_f, k_o)}
            drop = {k: (rng.random((n, k)) < p_drop) & active[k] for k in (k_f, k_o)}
            if not drop_o_too:
                drop[k_o][:] = False
            forced = (rng.random((n, k_f)) < 0.03).view(np.uint8)
            since = rng.integers(0, 5, (n, k_f))
            level = rng.normal(size=(n, n_i)) * 2.0
            level[1, 2] = -0.0

            want, got = ([level.copy(), active[k_f].copy(), active[k_o].copy(),
                          start[k_f].copy(), start[k_o].copy(), since.copy()] for _ in (0, 1))
            run = native_impl.ImplementRun(n, eff_f, eff_o, low, high)
            new_f, new_o = native_impl.start_due(
                want[1].view(np.uint8), want[2].view(np.uint8), want[3], want[4], want[5],
                drop[k_f].view(np.uint8), drop[k_o].view(np.uint8), forced, t, never)
            none = np.zeros((0, 0), np.uint8)
            masks = [drop[k].view(np.uint8) if drop[k].any() else none for k in (k_f, k_o)]
            crowded = native_impl.implement_levels_of(
                run, want[0], *masks, new_f.view(np.uint8), new_o.view(np.uint8),
                *[np.zeros((0, 0))] * 4)
            out = native_impl.implement_step(
                run, got[0], got[1].view(np.uint8), got[2].view(np.uint8), got[3], got[4],
                got[5], drop[k_f].view(np.uint8), drop[k_o].view(np.uint8), forced, t, never)
            np.testing.assert_array_equal(out[0], new_f)
            np.testing.assert_array_equal(out[1], new_o)
            assert out[2] == crowded
            assert out[3] == int(drop[k_f].any()) | 2 * int(drop[k_o].any())
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a.view(np.uint64) if a.dtype == np.float64
                                              else a, b.view(np.uint64)
                                              if b.dtype == np.float64 else b)


def _implemented(
    n_states: int, level: np.ndarray, active: list[np.ndarray], start: list[np.ndarray],
    since: np.ndarray, drop: list[np.ndarray], eff: list[np.ndarray], t: int, never: int,
) -> tuple[np.ndarray, ...]:
    """engine.implement's kernel calls on ``n_states`` stacked states (effects one matrix per
    state): the crowded states' moves from BLAS, each state's rows times its matrix."""
    n = level.shape[0]
    per = n // n_states
    low, high = np.full((1, level.shape[1]), -1.5), np.full((1, level.shape[1]), 1.5)
    run = native_impl.ImplementRun(n, eff[0], eff[1], low, high)
    u8 = [a.view(np.uint8) for a in (*active, *drop)]
    none = np.zeros((0, 0), np.uint8)
    new_f, new_o, crowded, dropped, left = native_impl.implement_step(
        run, level, u8[0], u8[1], start[0], start[1], since, u8[2], u8[3], none, t, never,
        n_states)
    if crowded:
        flags = np.ones(n_states, np.uint8) if left is None else left

        def moves(m: np.ndarray, e: np.ndarray) -> np.ndarray:
            out = np.zeros((n, level.shape[1]))
            for s in np.flatnonzero(flags):
                rows = slice(s * per, (s + 1) * per)
                out[rows] = m[rows].astype(np.float64) @ e[s]
            return out

        no = np.zeros((0, 0))
        native_impl.implement_levels_of(
            run, level, u8[2] if dropped & 1 else none, u8[3] if dropped & 2 else none,
            new_f.view(np.uint8), new_o.view(np.uint8),
            moves(drop[0], eff[0]) if crowded & 1 else no,
            moves(drop[1], eff[1]) if crowded & 2 else no,
            *((moves(new_f, eff[0]), moves(new_o, eff[1])) if crowded & 4 else (no, no)),
            left)
    return new_f, new_o, level, *active, *start, since


def test_implement_step_judges_each_stacked_state_as_a_run_of_it_alone() -> None:
    """A stacked run's states (one effects matrix each) move as each moves in a run of its
    own: the crowded ones (many steps started with dense effects) from BLAS's products,
    the others in the kernel, whichever states are crowded (none, some, all)."""
    rng = np.random.default_rng(47)
    never, t, n_i, per, k_f, k_o = 1 << 40, 4, 5, 13, 11, 6
    for n_states, crowd_p in ((4, 0.0), (5, 0.5), (3, 1.0), (6, 0.3)):
        n = n_states * per
        eff = [np.where(rng.random((n_states, k, n_i)) < 0.7,
                        rng.normal(size=(n_states, k, n_i)), 0.0) for k in (k_f, k_o)]
        active = [rng.random((n, k)) < 0.3 for k in (k_f, k_o)]
        start = [np.where(rng.random((n, k)) < 0.05, rng.integers(0, 6, (n, k)), never)
                 for k in (k_f, k_o)]
        for s in range(n_states):  # a crowded state: one world starting many steps
            if rng.random() < crowd_p:
                w = s * per + int(rng.integers(per))
                start[0][w, :6] = t
                active[0][w, :6] = False
        drop = [(rng.random((n, k)) < 0.05) & a for k, a in zip((k_f, k_o), active,
                                                                strict=True)]
        since = rng.integers(0, 4, (n, k_f))
        # levels within their bounds, as the engine keeps them (a state's withdrawals clip
        # them first where some state withdraws)
        level = rng.uniform(-1.5, 1.5, size=(n, n_i))
        stacked = _implemented(n_states, level.copy(), [a.copy() for a in active],
                               [a.copy() for a in start], since.copy(), drop, eff, t, never)
        for s in range(n_states):
            rows = slice(s * per, (s + 1) * per)
            alone = _implemented(
                1, level[rows].copy(), [a[rows].copy() for a in active],
                [a[rows].copy() for a in start], since[rows].copy(),
                [d[rows].copy() for d in drop], [e[s : s + 1] for e in eff], t, never)
            for a, b in zip(stacked, alone, strict=True):
                np.testing.assert_array_equal(
                    a[rows].view(np.uint64) if a.dtype == np.float64 else a[rows],
                    b.view(np.uint64) if b.dtype == np.float64 else b)


def test_posture_weights_are_numpys_in_blocks_tail_and_per_world() -> None:
    """``active + announce_weight * pending`` (pending: approved, not in force), with one
    announce weight (the flat blocks of eight and their tail) and one per world."""
    rng = np.random.default_rng(13)
    n, k_f, k_o, never = 29, 5, 3, 1 << 40
    act_f, act_o = rng.random((n, k_f)) < 0.2, rng.random((n, k_o)) < 0.2
    start_f = np.where(rng.random((n, k_f)) < 0.2, 3, never)
    start_o = np.where(rng.random((n, k_o)) < 0.2, 3, never)
    for aw in (np.array([0.35]), rng.random(n)):
        w_f, w_o = native_impl.posture_weights(act_f.view(np.uint8), start_f,
                                               act_o.view(np.uint8), start_o, aw, never)
        for got, act, start in ((w_f, act_f, start_f), (w_o, act_o, start_o)):
            pending = (start < never) & ~act
            want = act.astype(np.float64) + aw[:, None] * pending.astype(np.float64)
            np.testing.assert_array_equal(got, want)
