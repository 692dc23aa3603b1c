"""The compiled shocks (``native.environment.shock_rows``) against the NumPy formulation
written here: hits ``u < chance``; the hits' moves ``hits @ effects`` (and the clout changes,
the threat and settlement jumps) applied only where a shock hit; menace from the faded levels.

The golden digests cover the flagship's shocks; these cover what they may not reach: three
or more shocks hitting one world at once (their moves added in the shocks' order), one
effect matrix per state of a stacked run, per-world chances, and worlds that no shock hits
(left exactly as the fade left them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from detente.sim.native import environment as native_env

STATES, EACH, S, N_I, A_F, A_O, X = 3, 40, 5, 4, 3, 6, 2
N = STATES * EACH


def _case(rng: np.random.Generator) -> dict[str, Any]:
    low, high = np.zeros(N_I), np.full(N_I, 10.0)
    return {
        "level_now": rng.uniform(0, 10, (N, N_I)),
        "transient": rng.uniform(-1, 1, (N, N_I)),
        "fade": rng.uniform(0.1, 0.5, STATES),
        "low": low,
        "high": high,
        "span": high - low,
        "menace_issues": np.array([1, 3], dtype=np.int64),
        # step 2 of 4 of [n, T, S] draws: a strided slice, as the engine passes it
        "uniforms": rng.random((N, 4, S))[:, 2],
        "chance": rng.uniform(0.1, 0.7, (N, S)),  # high: many worlds with 3+ hits
        "menace": (rng.random((1, S)) < 0.5).astype(np.uint8),
        "effects": rng.normal(0, 3, (STATES, S, N_I)),
        "clout_focal": rng.uniform(-0.5, 0.5, (STATES, S, A_F)),
        "clout_internal": rng.uniform(-0.5, 0.5, (STATES, S, A_O)),
        "clout_third": rng.uniform(-0.5, 0.5, (STATES, S, X)),
        "threat": rng.normal(0, 1, (STATES, S)),
        "settlement": rng.normal(0, 1, (STATES, S)),
        "f_clout": rng.uniform(0, 2, (N, A_F)),
        "o_clout": rng.uniform(0, 2, (N, A_O)),
        "third_clout": rng.uniform(0, 2, (N, X)),
    }


def _reference(c: dict[str, Any]) -> dict[str, Any]:
    """The NumPy formulation: fade, then every world jolted by its hits' summed moves."""
    state = np.arange(N) // EACH
    f = c["fade"][state][:, None]
    level = np.clip(c["level_now"] - c["transient"] * f, c["low"], c["high"])
    transient = c["transient"] - (c["level_now"] - level)
    hits = c["uniforms"] < c["chance"]

    def summed(x: np.ndarray) -> np.ndarray:  # hits @ x[state], the shocks in their order
        out = np.zeros((N, *x.shape[2:]))
        for s in range(S):
            out = out + np.where(hits[:, s].reshape(-1, *[1] * (x.ndim - 2)), x[state, s], 0.0)
        return out

    hit_any = hits.any(axis=1)
    moved = np.clip(level + summed(c["effects"]), c["low"], c["high"])
    new_level = np.where(hit_any[:, None], moved, level)
    new_transient = np.where(hit_any[:, None], transient + (moved - level), transient)
    clouts = {k: np.where(hit_any[:, None],
                          np.maximum(c[k] * (1.0 + summed(c[d])), 0.0), c[k])
              for k, d in (("f_clout", "clout_focal"), ("o_clout", "clout_internal"),
                           ("third_clout", "clout_third"))}
    shares = (level[:, c["menace_issues"]] - c["low"][c["menace_issues"]]) / c["span"][
        c["menace_issues"]]
    menacing = (hits & c["menace"].astype(bool)).sum(axis=1).astype(np.float64)
    return {
        "level": new_level, "transient": new_transient, **clouts,
        "bad": shares.sum(axis=1) / 2 + (menacing > 0), "menace_hits": menacing,
        "threat": summed(c["threat"]), "settlement": summed(c["settlement"]),
    }


def _run(c: dict[str, Any]) -> dict[str, Any]:
    level = np.empty_like(c["level_now"])
    transient, f_clout, o_clout, third = (c[k].copy() for k in (
        "transient", "f_clout", "o_clout", "third_clout"))
    bad, menace_hits, threat, settle = native_env.shock_rows(
        c["level_now"], level, transient, c["fade"], c["low"], c["high"], c["span"],
        c["menace_issues"], (c["uniforms"] < c["chance"]).view(np.uint8), c["menace"],
        native_env.shock_moves(c["effects"], c["clout_focal"], c["clout_internal"],
                               c["clout_third"], c["threat"], c["settlement"]),
        f_clout, o_clout, third)
    return {"level": level, "transient": transient, "f_clout": f_clout, "o_clout": o_clout,
            "third_clout": third, "bad": bad, "menace_hits": menace_hits, "threat": threat,
            "settlement": settle}


def test_shocks_equal_the_numpy_formulation_with_many_hits_and_state_rows() -> None:
    c = _case(np.random.default_rng(11))
    hits = (c["uniforms"] < c["chance"]).sum(axis=1)
    assert (hits >= 3).sum() > 10 and (hits == 0).sum() > 3  # the cases this test is for
    got, want = _run(c), _reference(c)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-12, err_msg=key)
    untouched = hits == 0
    for key in ("f_clout", "o_clout", "third_clout"):
        np.testing.assert_array_equal(got[key][untouched], c[key][untouched])


def test_shock_moves_are_added_in_the_shocks_order() -> None:
    c = _case(np.random.default_rng(12))
    c["chance"][:] = 1.0  # every shock hits every world
    c["effects"][:] = 0.0
    c["effects"][:, :3, 0] = [1.0, 1e16, -1e16]  # in order (1 + 1e16) - 1e16 = 0; else 1
    c["level_now"][:, 0] = 5.0
    c["transient"][:, 0] = 0.0
    c["high"] = np.full(N_I, 1e20)
    c["low"] = np.full(N_I, -1e20)
    c["span"] = c["high"] - c["low"]
    got = _run(c)
    np.testing.assert_array_equal(got["level"][:, 0], 5.0)


def test_shock_hits_are_each_steps_uniforms_below_the_chance() -> None:
    rng = np.random.default_rng(13)
    uniforms = rng.random((N, 5, S))  # [n, T, S], as drawn
    for chance in (rng.uniform(0.1, 0.7, (1, S)), rng.uniform(0.1, 0.7, (N, S))):
        got = native_env.shock_hits(uniforms, chance)
        want = (uniforms < chance[:, None, :]).transpose(1, 0, 2)  # [T, n, S]
        np.testing.assert_array_equal(got, want.view(np.uint8))


def test_shock_moves_repeat_a_shared_leaf_for_every_state() -> None:
    c = _case(np.random.default_rng(14))
    shared = c["threat"][:1]  # one row for all states
    moves = native_env.shock_moves(c["effects"], c["clout_focal"], c["clout_internal"],
                                   c["clout_third"], shared, c["settlement"])
    assert moves.shape == (STATES, S, N_I + A_F + A_O + X + 2)
    np.testing.assert_array_equal(moves[:, :, :N_I], c["effects"])
    np.testing.assert_array_equal(moves[:, :, -2], np.repeat(shared, STATES, axis=0))
    np.testing.assert_array_equal(moves[:, :, -1], c["settlement"])
