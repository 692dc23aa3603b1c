"""The random numbers runs on the same layout share (``world_state.shared_step_numbers``).

Strategies compared on the same states and seeds draw the same numbers; the engine draws
them once and hands the kept draws out read-only. These tests check that what is shared is
exactly what a fresh draw gives, that it cannot be written, that another layout or stream
width gets its own numbers, and that the memo stays within its byte budget.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import detente.sim.world_state as world_state
from detente.scenario import load_scenario
from detente.sim.engine import Layout
from detente.sim.system import compile_system
from detente.sim.world_state import (
    StepDraws,
    StreamUniforms,
    draw_step_numbers,
    shared_step_numbers,
)


@pytest.fixture(scope="module")
def systems() -> dict[str, object]:
    sc = load_scenario("us-iran-2001")
    return {s: compile_system(sc, s) for s in ("containment", "dismantle-sanctions")}


def _arrays(draws: StepDraws) -> dict[str, np.ndarray]:
    out = {}
    for f in dataclasses.fields(draws):
        a = getattr(draws, f.name)
        out[f.name] = a.states if isinstance(a, StreamUniforms) else a
    return out


def test_shared_draws_equal_fresh_ones_and_are_shared_across_strategies(systems) -> None:
    world_state._shared_draws.clear()
    layout = Layout((5, 9), 256, 100)
    a = shared_step_numbers(systems["containment"], layout)
    b = shared_step_numbers(systems["dismantle-sanctions"], layout)
    assert b is a  # the same numbers, drawn once
    fresh = _arrays(draw_step_numbers(systems["containment"], layout))
    for name, got in _arrays(a).items():
        assert np.array_equal(got, fresh[name]), name


def test_shared_draws_are_read_only(systems) -> None:
    world_state._shared_draws.clear()
    draws = shared_step_numbers(systems["containment"], Layout((1,), 0, 64))
    for name, a in _arrays(draws).items():
        with pytest.raises(ValueError, match="read-only"):
            a[(0,) * a.ndim] = 0
        assert not a.flags.writeable, name


def test_another_layout_or_width_draws_its_own_numbers(systems) -> None:
    world_state._shared_draws.clear()
    sy = systems["containment"]
    base = shared_step_numbers(sy, Layout((1,), 0, 64))
    for layout in (Layout((2,), 0, 64), Layout((1,), 256, 64), Layout((2, 1), 0, 64)):
        other = shared_step_numbers(sy, layout)
        assert other is not base
        assert not np.array_equal(other.support[:64], base.support), layout
    # fewer worlds of the same stream: the first worlds' numbers, kept apart
    fewer = shared_step_numbers(sy, Layout((1,), 0, 32))
    assert fewer is not base and np.array_equal(fewer.support, base.support[:32])
    wider = dataclasses.replace(sy, shock_rate=np.concatenate([sy.shock_rate] * 2, axis=-1))
    assert shared_step_numbers(wider, Layout((1,), 0, 64)).shocks.shape[-1] \
        == 2 * base.shocks.shape[-1]


def test_kept_draws_stay_within_the_byte_budget(systems, monkeypatch) -> None:
    world_state._shared_draws.clear()
    sy = systems["containment"]
    one = shared_step_numbers(sy, Layout((0,), 0, 256))
    size = world_state._shared_draws.weight
    monkeypatch.setattr(world_state._shared_draws, "size", int(2.5 * size))
    for seed in range(1, 6):
        shared_step_numbers(sy, Layout((seed,), 0, 256))
    kept = world_state._shared_draws
    assert len(kept) == 2
    assert kept.weight <= 2.5 * size
    assert shared_step_numbers(sy, Layout((0,), 0, 256)) is not one  # evicted: drawn again
