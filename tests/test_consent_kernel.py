"""The compiled consent checks (``ratify``, docs/model.md 2) against the frozen NumPy engine.

The flagship's checks touch one or two issues each and every holder has a stake, so the
golden digests never reach the kernel's wider sums (three to seven issues, and NumPy's
eight-lane pairwise sum from eight up) nor a zero stake. Here the focal side gets dense
effects, wide vetoes, missing stakes and third parties, and ``ratify`` must give bit for bit
what the frozen NumPy formulation gives, with static and per-world positions and ladder
orders.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from detente.scenario import load_scenario
from detente.sim import engine
from detente.sim.stacked import stack_leaves
from detente.sim.system import Side, compile_system

FROZEN = Path(__file__).parents[1] / "benchmarks" / "frozen_numpy_engine.py"
WORLDS = 96


@cache
def _frozen() -> ModuleType:
    """The frozen NumPy engine (it imports its frozen mechanisms from its own directory)."""
    if str(FROZEN.parent) not in sys.path:
        sys.path.append(str(FROZEN.parent))
    return importlib.import_module(FROZEN.stem)


@cache
def _flagship() -> tuple[Side, Any, Any]:
    sy = compile_system(load_scenario("us-iran-2001"), "moderate-engagement")
    return sy.focal, sy.low, sy.high


def _wide_side(rng: np.random.Generator) -> tuple[Side, Any, Any]:
    side, low, high = _flagship()
    n_k, n_i = side.effects.shape
    n_v = side.veto_holder.size
    effects = rng.normal(0, 6, (n_k, n_i)) * (rng.random((n_k, n_i)) < 0.8)
    ext = rng.uniform(low, high, (3, n_i))
    ext[rng.random(ext.shape) < 0.2] = np.nan
    side = dataclasses.replace(
        side,
        effects=effects,
        veto_issues=rng.random(side.veto_issues.shape) < rng.uniform(0.3, 1.0, (n_v, 1)),
        veto_tol=rng.uniform(0.0, 9.0, n_v),
        approval_tol=rng.uniform(0.0, 6.0, side.approval_tol.shape),
        approvals=rng.random(side.approvals.shape) < 0.3,
        ext_position=ext,
        ext_approvals=rng.random((n_k, 3)) < 0.4,
    )
    return side, low, high


def _same_as_numpy(side: Side, args: tuple[Any, ...], low: Any, high: Any, plan: Any) -> int:
    """Assert ``ratify`` equals the frozen NumPy one bit for bit; the number approved."""
    approved = 0
    for sign in (1.0, -1.0):
        ours = engine.ratify(side, *args, sign, low, high, 2.0, side.subordinate, plan)
        theirs = _frozen().ratify(side, *args, sign, low, high, 2.0, side.subordinate)
        np.testing.assert_array_equal(ours[0], theirs[0])
        assert ours[1].tobytes() == theirs[1].tobytes()
        approved += int(ours[0].sum())
    return approved


@pytest.mark.parametrize("per_world", [False, True])
def test_ratify_matches_the_numpy_formulation_on_wide_checks(per_world: bool) -> None:
    rng = np.random.default_rng(7 + per_world)
    side, low, high = _wide_side(rng)
    n_k, n_i, n_a = side.n_instruments, low.size, side.n_actors
    stake = rng.random((n_a, n_i)) < 0.85
    plan = engine.ratify_plan(side, stake, 2.0, side.subordinate)
    widths = np.diff(plan.pair_start)
    assert widths.max() >= 8 and ((widths > 2) & (widths < 8)).any()
    assert (plan.stake == 0).any() and (plan.holder < 0).any()

    if per_world:
        side = dataclasses.replace(
            side, order=np.stack([rng.permutation(n_k) for _ in range(WORLDS)]))
        position: Any = rng.uniform(low[:, None, None], high[:, None, None],
                                    (n_i, WORLDS, n_a)).astype(np.float32)
        threshold: Any = rng.uniform(0.2, 0.8, WORLDS)
    else:
        position = rng.uniform(low, high, (n_a, n_i))
        threshold = 0.5
    args = (
        rng.random((WORLDS, n_k)) < 0.5,  # candidates
        rng.uniform(low, high, (WORLDS, n_i)),  # prospective levels
        position,
        stake,
        rng.random(WORLDS),  # belief
        threshold,
        rng.random(n_k) < 0.4,  # trust gate
    )
    approved = _same_as_numpy(side, args, low, high, plan)
    assert 0 < approved < 2 * args[0].sum()  # some candidates pass, some fail
    # one world alone: NumPy's sums over eight issues or more were pairwise then
    for w in range(WORLDS):
        one = slice(w, w + 1)
        side_w = dataclasses.replace(side, order=side.order[one]) if per_world else side
        args_w = (args[0][one], args[1][one], position[:, one] if per_world else position,
                  stake, args[4][one], threshold[one] if per_world else threshold, args[6])
        _same_as_numpy(side_w, args_w, low, high, plan)


def test_ratify_matches_the_numpy_formulation_with_stacked_third_parties() -> None:
    # two states whose third parties' ideal points differ: their plans stacked per world
    rng = np.random.default_rng(11)
    side, low, high = _wide_side(rng)
    side = dataclasses.replace(side, ext_position=np.where(np.isnan(side.ext_position),
                                                           np.nan, 50.0))
    other = dataclasses.replace(side, ext_position=side.ext_position + 10.0)
    n_i, n_a, half = low.size, side.n_actors, WORLDS // 2
    stake = rng.random((n_a, n_i)) < 0.85
    ours, theirs = (
        stack_leaves([m.ratify_plan(s, stake, 2.0, side.subordinate) for s in (side, other)],
                     half)
        for m in (engine, _frozen())
    )
    third = ours.holder[ours.pair_start[:-1]] < 0
    assert (third & (np.diff(ours.pair_start) >= 8)).any() and ours.ext_x.ndim == 2
    args = (
        rng.random((WORLDS, side.n_instruments)) < 0.5,
        rng.uniform(low, high, (WORLDS, n_i)),
        rng.uniform(low, high, (n_a, n_i)),
        stake,
        rng.random(WORLDS),
        0.5,
        rng.random(side.n_instruments) < 0.4,
    )
    for sign in (1.0, -1.0):
        got = engine.ratify(side, *args, sign, low, high, 2.0, side.subordinate, ours)
        want = _frozen().ratify(side, *args, sign, low, high, 2.0, side.subordinate, theirs)
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1].tobytes() == want[1].tobytes()


def test_a_stacked_third_partys_wide_sum_is_numpys_pairwise_one() -> None:
    # one third party on every issue; states differ in its ideal points. NumPy then summed
    # its loss pairwise: a tolerance between that sum and the one-by-one sum tells them apart
    rng = np.random.default_rng(3)
    side, low, high = _wide_side(rng)
    n_k, n_i = side.n_instruments, low.size
    effects = side.effects.copy()
    effects[0] = rng.normal(0, 6, n_i)
    side = dataclasses.replace(
        side, effects=effects, veto_issues=np.zeros_like(side.veto_issues),
        approvals=np.zeros_like(side.approvals), ext_position=rng.uniform(0, 1, (1, n_i)),
        ext_approvals=np.eye(n_k, 1, dtype=bool))
    other = dataclasses.replace(side, ext_position=side.ext_position + 0.5)
    cand = np.zeros((WORLDS, n_k), dtype=bool)
    cand[:, 0] = True
    pros = rng.uniform(0, 1, (WORLDS, n_i))  # fine terms, coarser sums: rounding differs
    d = np.clip(pros + effects[0], low, high) - pros
    x = np.repeat(np.stack([side.ext_position[0], other.ext_position[0]]), WORLDS // 2, axis=0)
    terms = np.abs(pros + d - x) - np.abs(pros - x)
    pairwise = np.array([row.sum() for row in terms])
    serial = np.array([sum(row.tolist(), 0.0) for row in terms])
    w = int(np.flatnonzero(pairwise != serial)[0])
    tol = float(min(pairwise[w], serial[w])) - 1e-9
    while tol + 1e-9 >= min(pairwise[w], serial[w]):
        tol = np.nextafter(tol, -np.inf)
    while tol + 1e-9 < min(pairwise[w], serial[w]):
        tol = np.nextafter(tol, np.inf)
    assert tol + 1e-9 < max(pairwise[w], serial[w])  # one sum passes, the other fails
    stake = np.ones((side.n_actors, n_i), dtype=bool)
    ours, theirs = (
        stack_leaves([m.ratify_plan(s, stake, tol, side.subordinate) for s in (side, other)],
                     WORLDS // 2)
        for m in (engine, _frozen())
    )
    args = (cand, pros, np.zeros((side.n_actors, n_i)), stake, np.ones(WORLDS), 0.0,
            np.zeros(n_k, dtype=bool), 1.0, low, high, tol, side.subordinate)
    got = engine.ratify(side, *args, ours)
    want = _frozen().ratify(side, *args, theirs)
    assert got[0][w, 0] == (pairwise[w] <= tol + 1e-9)
    np.testing.assert_array_equal(got[0], want[0])
