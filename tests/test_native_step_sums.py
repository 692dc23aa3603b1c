"""The kernels that sum the rows a mask of steps picks (native/step_sums.pxd) against the
masks' products with NumPy, and their refusal (None or False) where the order of a sum could
matter: three nonzero terms, two with one weighted by a trade's factor, something not finite.

The golden digests reach both branches on their data; these cases pin the tests that choose
between them, which the digests cannot tell apart when they agree.
"""

from __future__ import annotations

import numpy as np

from detente.sim.native import implementation as native_impl
from detente.sim.native import positions as native_positions

NEVER = 1 << 40
RNG = np.random.default_rng(11)
N, K_F, K_O, N_I = 47, 12, 7, 5  # flat sizes not multiples of eight


def _sparse(shape: tuple[int, ...]) -> np.ndarray:
    return np.where(RNG.random(shape) < 0.3, RNG.normal(size=shape), 0.0)


def _two_each(k: int) -> np.ndarray:
    """Two steps in every other world: any order of their sums gives the same numbers."""
    steps = np.zeros((N, k), dtype=np.uint8)
    for w in range(0, N, 2):
        steps[w, RNG.choice(k, 2, replace=False)] = 1
    return steps


def _crowd(steps: np.ndarray, values: np.ndarray, w: int) -> np.ndarray:
    """``steps`` with world ``w`` picking the three first steps, ``values`` made nonzero there."""
    out = steps.copy()
    out[w] = 0
    out[w, :3] = 1
    values[..., :3] = np.abs(values[..., :3]) + 0.1
    return out


def test_started_costs_sum_few_terms_and_refuse_the_rest() -> None:
    new_f, new_o = _two_each(K_F), _two_each(K_O)
    by_leg = (RNG.random((N, K_F)) < 0.2).astype(np.uint8)
    conc = (RNG.random((1, K_F)) < 0.5).astype(np.uint8)
    gp_f, gp_o, cost = np.abs(_sparse((1, K_F))), np.abs(_sparse((1, K_O))), RNG.random((1, K_F))
    factor = np.ones(N)
    books = (np.zeros(N, dtype=np.uint8), np.full(N, 99), RNG.random(N), RNG.random(N),
             np.array([0.9]), np.array([0.2]), 10, 3)

    def run(nf: np.ndarray, no: np.ndarray, fac: np.ndarray, gf: np.ndarray) -> object:
        return native_impl.started_costs(nf, no, by_leg, fac, conc, gf, gp_o, cost, *books)

    got = run(new_f, new_o, factor, gp_f)
    assert got is not None
    w_f, w_o, paid = native_impl.started_weights(new_f, new_o, by_leg, factor, conc)
    want = native_impl.book_costs(w_f @ gp_f[0], w_o @ gp_o[0], paid @ cost[0], *books)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    gf3 = gp_f.copy()
    assert run(_crowd(new_f, gf3, 4), new_o, factor, gf3) is None
    # two paid steps, one of them conciliatory and discounted: BLAS may fuse its product
    two = np.zeros((N, K_F), dtype=np.uint8)
    paid_k = [k for k in range(K_F) if not by_leg[6, k]]
    conc_k = [k for k in paid_k if conc[0, k]]
    other = [k for k in paid_k if k not in conc_k[:1]]
    two[6, [conc_k[0], other[0]]] = 1
    discounted = factor.copy()
    discounted[6] = 0.7
    assert run(two, new_o, factor, gp_f) is not None
    assert run(two, new_o, discounted, gp_f) is None
    nan_factor = factor.copy()
    nan_factor[30] = np.nan
    assert run(new_f, new_o, nan_factor, gp_f) is None


def test_record_gestures_sum_few_terms_and_refuse_the_rest() -> None:
    new_o = _two_each(K_O)
    counted = (RNG.random((N, K_O)) < 0.3).astype(np.uint8)
    gp, gn = np.abs(_sparse((1, K_O))), np.abs(_sparse((1, K_O)))
    menace = RNG.integers(0, 2, N).astype(np.float64)
    rec, host = RNG.random(N), RNG.random(N)
    fresh = (new_o & ~counted.astype(bool)).astype(np.float64)
    want_rec, want_host = rec + fresh @ gp[0], host + (fresh @ gn[0] + menace)
    seen, got_rec, got_host = counted.copy(), rec.copy(), host.copy()
    assert native_impl.record_gestures(new_o, seen, gp, gn, menace, got_rec, got_host)
    np.testing.assert_array_equal(got_rec, want_rec)
    np.testing.assert_array_equal(got_host, want_host)
    np.testing.assert_array_equal(seen, counted | new_o)
    gn3 = gn.copy()
    crowded = _crowd(new_o, gn3, 9)
    seen, got_rec, got_host = np.zeros_like(counted), rec.copy(), host.copy()
    assert not native_impl.record_gestures(crowded, seen, gp, gn3, menace, got_rec, got_host)
    np.testing.assert_array_equal(got_rec, rec)  # nothing changed
    np.testing.assert_array_equal(seen, 0)


def test_prospective_levels_sum_few_terms_and_refuse_the_rest() -> None:
    level = RNG.normal(size=(N, N_I))
    low, high = np.full(N_I, -1.5), np.full(N_I, 1.5)
    eff_f, eff_o = _sparse((1, K_F, N_I)), _sparse((1, K_O, N_I))
    pend_f, pend_o = _two_each(K_F), _two_each(K_O)
    active_f = (RNG.random((N, K_F)) < 0.3).astype(np.uint8) & (pend_f ^ 1)
    active_o = (RNG.random((N, K_O)) < 0.3).astype(np.uint8) & (pend_o ^ 1)
    start_f = np.where(pend_f == 1, 5, NEVER).astype(np.int64)
    start_o = np.where(pend_o == 1, 5, NEVER).astype(np.int64)

    def run(s_f: np.ndarray, e_f: np.ndarray) -> tuple:
        return native_positions.prospective_levels(level, s_f, active_f, start_o, active_o,
                                                   NEVER, e_f, eff_o, low, high)

    got, got_f, got_o = run(start_f, eff_f)
    np.testing.assert_array_equal(got_f, pend_f.astype(bool))
    np.testing.assert_array_equal(got_o, pend_o.astype(bool))
    assert got is not None
    want = native_positions.prospective(level, pend_f @ eff_f[0], pend_o @ eff_o[0], low, high)
    np.testing.assert_array_equal(got, want)
    e3 = eff_f.copy()
    crowded = _crowd(pend_f, e3[0].T, 3)  # (a view: the effects of steps 0-2 on every issue)
    active_f[3] = 0
    s3 = np.where(crowded == 1, 5, NEVER).astype(np.int64)
    none, m_f, _ = run(s3, e3)
    assert none is None
    np.testing.assert_array_equal(m_f, crowded.astype(bool) & (active_f == 0))
