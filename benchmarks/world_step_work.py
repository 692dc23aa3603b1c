"""What a world-step of the flagship must compute, against what the engine spends.

The physical limit of a world-step (issue "Speed: the whole flagship study in seconds") is
set by the work the model cannot avoid and by the memory it must move. This script counts
both on the flagship us-iran-2001 under the three options, one chunk of ``--worlds`` worlds
each, by wrapping the engine's vote and consent-check functions (nothing else changes; the
wrapped functions return what they always return; the kernel that runs a side's vote and
consent checks in one call, ``consent.vote_and_ratify``, has each of its passes replayed
through them):

* ``vote_terms``: (world, candidate instrument, actor, issue) terms of the weighted votes
  (:func:`detente.sim.engine.voted`): each is a
  subtraction, a sign or clip, a salience product and a compare; the sums over actors add
  one multiply-add per (world, candidate, actor);
* ``check_terms``: (world, candidate, check, issue) terms of the consent checks
  (:func:`detente.sim.engine.ratify`, every (issue, actor) pair of each candidate's checks
  in its :class:`~detente.sim.engine.RatifyPlan`): each is one ``veto_loss`` (about six
  operations);
* ``state_bytes_per_world``: the per-world part of the persistent state
  (:class:`detente.sim.world_state.WorldState`), what a kernel that keeps a world in
  registers and L1 reads and writes once per step at most;
* ``draw_bytes_per_world_step``: the random numbers each world-step consumes;
* ``engine_us_per_world_step``: the engine's time on the same chunks (one thread; the
  compiled engine since 2026-12-06, the NumPy engine before).

Prints one JSON line. Usage: .venv/bin/python benchmarks/world_step_work.py [--worlds 2048]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse
import dataclasses
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from detente.scenario import load_scenario
from detente.sim import engine
from detente.sim.api import build_strategy
from detente.sim.native import consent as native_consent
from detente.sim.system import compile_system
from detente.sim.world_state import draw_step_numbers, initial_state

STRATEGIES = ("containment", "moderate-engagement", "dismantle-sanctions")
COUNTS: Counter[str] = Counter()


def _count_voted(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(side: Any, plan: Any, cand: Any, *args: Any, **kwargs: Any) -> Any:
        _, kk = np.nonzero(cand)
        n_iss = plan.n_iss[kk]
        COUNTS["vote_terms"] += int(np.maximum(n_iss, 1).sum()) * side.n_actors
        COUNTS["vote_sums"] += int(kk.size) * side.n_actors
        return original(side, plan, cand, *args, **kwargs)

    return wrapped


def _count_ratify(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(side: Any, cand: Any, *args: Any, **kwargs: Any) -> Any:
        # args: prospective, position, stake, belief, threshold, gate, sign, low, high,
        # tolerance_default, exempt, plan
        plan = args[11] if len(args) > 11 else kwargs.get("plan")
        if plan is None:
            exempt = args[10] if len(args) > 10 else kwargs.get("exempt")
            plan = engine.ratify_plan(side, args[2], args[9], exempt)
        pairs = np.diff(plan.pair_start[plan.check_start])  # pairs of each instrument's checks
        COUNTS["check_terms"] += int(cand.sum(axis=0) @ pairs)
        return original(side, cand, *args, **kwargs)

    return wrapped


def _replayed(original: Callable[..., Any]) -> Callable[..., Any]:
    """``consent.vote_and_ratify`` (a side's vote and consent checks in one kernel call,
    ``engine.ratify_focal`` and ``engine.internal_bargain``) that also replays each pass as
    ``engine.voted`` then ``engine.ratify``, so that their wrappers count its terms; it
    returns the kernel's own results."""
    passes: dict[int, Any] = {}
    constants = engine._ratify_constants

    def kept(ctx: Any) -> Any:
        k = constants(ctx)
        for name in ("focal", "internal", "reversal"):
            if getattr(k, name) is not None:
                passes[id(getattr(k, name))] = (name, ctx)
        return k

    def replay(name: str, ctx: Any, cand: Any, active: Any, pending: Any, req_ok: Any,
               level: Any, position: Any, clout: Any, belief: Any, prospective: Any) -> None:
        sy, p, pl = ctx.system, ctx.system.params, ctx.plans
        if name == "focal":
            side, vote, plan = sy.focal, pl.vote_f, pl.ratify_f
            stake, exempt = pl.f_stake, pl.f_exempt
            theta, gate, rel = p.reciprocity_threshold_us, pl.f_gate, ctx.rows(pl.rel_f, 1)
            cand, sign = cand.view(bool), 1.0
            cand = engine.voted(side, vote, cand, level, position, clout, sy.span, 1.0,
                                p.majority_threshold - p.agenda_power, side.executive,
                                trust=(gate, belief, theta, rel))
        else:
            side, vote, plan = sy.internal, pl.vote_o, pl.ratify_o
            stake, exempt = pl.o_stake, sy.internal.subordinate
            theta, gate, rel = p.reciprocity_threshold_iran, pl.o_gate, ctx.rows(pl.rel_o, 1)
            active = active.view(bool)
            if name == "internal":
                cand, sign = ~active & ~pending.view(bool), 1.0
                if req_ok.size:
                    cand &= req_ok.view(bool)
                cand = engine.voted(side, vote, cand, level, position, clout, sy.span, 1.0,
                                    p.majority_threshold, trust=(gate, belief, theta, rel))
            else:
                cand, sign = active & side.reversible[None, :], -1.0
                theta, gate = 0.0, np.zeros(side.n_instruments, dtype=bool)
                cand = engine.voted(side, vote, cand, level, position, clout, sy.span, -1.0,
                                    p.majority_threshold + p.revocation_margin)
        engine.ratify(side, cand, prospective, position, stake, belief, theta, gate, sign,
                      sy.low, sy.high, p.approval_tolerance, exempt, plan, rows=ctx.rows)

    def wrapped(run: Any, reversal: Any, *args: Any) -> Any:
        for one in (run, reversal):
            if one is not None:
                replay(*passes[id(one)], *args[:-1])
        return original(run, reversal, *args)

    engine._ratify_constants = kept  # type: ignore[assignment]
    wrapped.restore = (  # type: ignore[attr-defined]
        lambda: setattr(engine, "_ratify_constants", constants))
    return wrapped


def per_world_bytes(obj: Any, n: int, per: int = 1) -> int:
    """Bytes of the ``[n, ...]`` arrays of a dataclass, per world (and per ``per`` steps)."""
    total = 0
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == n:
            total += value.nbytes
    return total // (n * per)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worlds", type=int, default=2048)
    n = parser.parse_args().worlds
    scenario = load_scenario("us-iran-2001")
    systems = [compile_system(scenario, k) for k in STRATEGIES]
    for sy in systems:  # warm-up (caches, first-call costs), not counted
        engine.run_chunk(sy, build_strategy(sy), 0, 0, 256)

    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        for sy in systems:
            engine.run_chunk(sy, build_strategy(sy), 0, 0, n)
        best = min(best, time.perf_counter() - t0)
    world_steps = n * systems[0].horizon * len(systems)

    originals = {name: getattr(engine, name) for name in ("voted", "ratify")}
    wrappers = {"voted": _count_voted, "ratify": _count_ratify}
    kernel = native_consent.vote_and_ratify
    replaying = _replayed(kernel)
    try:
        for name, wrap in wrappers.items():
            setattr(engine, name, wrap(originals[name]))
        native_consent.vote_and_ratify = replaying
        for sy in systems:
            engine.run_chunk(sy, build_strategy(sy), 0, 0, n)
    finally:
        for name, fn in originals.items():
            setattr(engine, name, fn)
        native_consent.vote_and_ratify = kernel
        replaying.restore()  # type: ignore[attr-defined]

    sy = systems[1]
    layout = engine.Layout((0,), 0, n)
    state = initial_state(sy, engine.chunk_plans(sy), layout)
    draws = draw_step_numbers(sy, layout)
    row = {
        "bench": "world_step_work",
        "worlds": n,
        "world_steps": world_steps,
        "actors": {"focal": sy.focal.n_actors, "internal": sy.internal.n_actors},
        "instruments": {"focal": sy.focal.n_instruments, "internal": sy.internal.n_instruments},
        "issues": len(sy.issues),
        "vote_terms_per_world_step": round(COUNTS["vote_terms"] / world_steps, 1),
        "vote_sums_per_world_step": round(COUNTS["vote_sums"] / world_steps, 1),
        "check_terms_per_world_step": round(COUNTS["check_terms"] / world_steps, 1),
        "state_bytes_per_world": per_world_bytes(state, n),
        "draw_bytes_per_world_step": per_world_bytes(draws, n, sy.horizon),
        "engine_us_per_world_step": round(best / world_steps * 1e6, 3),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
