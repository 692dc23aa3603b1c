"""The posture's and the costs' kernels given one value per state of a stacked run give
exactly what they give with each state's value repeated over its worlds, or what a run of
each state alone gives (``started_costs_by_state`` against ``started_costs`` state by state).
"""

from __future__ import annotations

import numpy as np

from detente.sim.native import implementation as native_impl

STATES, EACH = 3, 20  # n = 60 worlds, 20 per state
N = STATES * EACH
NEVER = 1 << 40


def _bits(x: np.ndarray) -> np.ndarray:
    return x.view(np.uint64) if x.dtype == np.float64 else x


def _equal(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(_bits(a), _bits(b))


def test_posture_weights_and_played_levels_one_value_per_state() -> None:
    rng = np.random.default_rng(5)
    k_f, k_o = 7, 3
    act_f, act_o = rng.random((N, k_f)) < 0.3, rng.random((N, k_o)) < 0.3
    start_f = np.where(rng.random((N, k_f)) < 0.2, 4, NEVER)
    start_o = np.where(rng.random((N, k_o)) < 0.2, 4, NEVER)
    aw = rng.random(STATES)
    masks = (act_f.view(np.uint8), start_f, act_o.view(np.uint8), start_o)
    _equal(native_impl.posture_weights(*masks, aw, NEVER),
           native_impl.posture_weights(*masks, np.repeat(aw, EACH), NEVER))
    sums = [rng.random(N) for _ in range(4)]
    # the second state's focal conciliatory sum is 0: its worlds take the guarded path
    params = [rng.random(STATES) + 0.5 for _ in range(4)] + [rng.random(STATES)]
    params[0][1] = 0.0
    for per_state in (params, [params[0][:1], *params[1:]]):
        own = [np.zeros((N, 2)), np.zeros((N, 2))]
        got = native_impl.played_levels(*sums, *per_state, own[0][:, 1], own[1][:, 1])
        own_w = [np.zeros((N, 2)), np.zeros((N, 2))]
        want = native_impl.played_levels(
            *sums, *[np.repeat(p, EACH) if p.size > 1 else p for p in per_state],
            own_w[0][:, 1], own_w[1][:, 1])
        _equal(got, want)
        _equal(tuple(own), tuple(own_w))


def test_costs_by_state_are_each_states_own() -> None:
    rng = np.random.default_rng(8)
    k_f, k_o = 6, 4
    new_f = (rng.random((N, k_f)) < 0.15).view(np.uint8)
    new_o = (rng.random((N, k_o)) < 0.15).view(np.uint8)
    new_f[: EACH // 2] = 0  # the first state starts few steps: its sums are formed in the kernel
    new_o[: EACH // 2] = 0
    by_leg = (rng.random((N, k_f)) < 0.2).view(np.uint8)
    factor = np.where(rng.random(N) < 0.5, 1.0, rng.random(N))
    conc = (rng.random((1, k_f)) < 0.5).view(np.uint8)
    gp_f, gp_o, cost = rng.random((STATES, k_f)), rng.random((STATES, k_o)), rng.random((STATES, k_f))
    offered = (rng.random(N) < 0.5).view(np.uint8)
    first = rng.integers(0, 40, N)
    unrec, cost_now = rng.random(N), rng.random(N)
    keep, naivety = rng.random(STATES), rng.random(STATES)
    got = native_impl.started_costs_by_state(
        new_f, new_o, by_leg, factor, conc, gp_f, gp_o, cost, offered, first, unrec, cost_now,
        keep, naivety, 30, 5, STATES)
    refused = 0
    for s in range(STATES):
        rows = slice(s * EACH, (s + 1) * EACH)
        alone = native_impl.started_costs(
            new_f[rows], new_o[rows], by_leg[rows], factor[rows], conc, gp_f[s : s + 1],
            gp_o[s : s + 1], cost[s : s + 1], offered[rows], first[rows], unrec[rows],
            cost_now[rows], keep[s : s + 1], naivety[s : s + 1], 30, 5)
        assert (alone is None) == (got[3] is not None and bool(got[3][s]))
        if alone is None:
            refused += 1  # its rows are left to BLAS (unspecified here)
        else:
            _equal(tuple(x[rows] for x in got[:3]), alone)
    assert 0 < refused < STATES  # both kinds of state were checked
    # book_costs with one value per state reads each world's state
    w_f, w_o, paid = native_impl.started_weights(new_f, new_o, by_leg, factor, conc)
    sums = (np.einsum("wk,wk->w", w_f, np.repeat(gp_f, EACH, axis=0)),
            np.einsum("wk,wk->w", w_o, np.repeat(gp_o, EACH, axis=0)),
            np.einsum("wk,wk->w", paid, np.repeat(cost, EACH, axis=0)))
    books = (offered, first, unrec, cost_now)
    _equal(native_impl.book_costs(*sums, *books, keep, naivety, 30, 5),
           native_impl.book_costs(*sums, *books, np.repeat(keep, EACH),
                                  np.repeat(naivety, EACH), 30, 5))
