"""The delays' uniforms computed where they are read (``native/pcg64.pxd``,
:class:`detente.sim.world_state.StreamUniforms`) against the numbers NumPy draws.

The engine no longer draws the delay streams: a kernel computes a uniform from its block's
seeded PCG64 state only where a step is approved. These tests check the computed numbers
equal ``WorldRNG.random(T, K)`` bit for bit, for one state and for stacked states, for a
chunk starting past the first block and a last block used in part, and that the step
function gives the start steps the drawn numbers give.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detente.scenario import load_scenario
from detente.sim import compile_system
from detente.sim.engine import Layout, schedule
from detente.sim.native import implementation as native_impl
from detente.sim.rng import BLOCK, WorldRNG
from detente.sim.world_state import StreamUniforms

MINI = Path(__file__).parent / "data" / "mini-system.yaml"


def _computed(table: StreamUniforms) -> np.ndarray:
    """Every number of ``table`` as the kernel computes it: ``[n, T, K]``."""
    n = table.layout.n
    w, t, k = (x.ravel().astype(np.int64) for x in np.meshgrid(
        np.arange(n), np.arange(table.steps), np.arange(table.width), indexing="ij"))
    got = native_impl.stream_uniforms(table.states, table.layout.n_each, BLOCK, table.steps,
                                      table.width, w, t, k)
    return got.reshape(n, table.steps, table.width)


@pytest.mark.parametrize(
    ("seeds", "start", "n_each"),
    [((7,), 0, 2 * BLOCK + 37), ((7,), 3 * BLOCK, 300), ((1, 2, 3), BLOCK, 45)],
    ids=["one state, last block in part", "a chunk past the first block", "stacked states"],
)
def test_computed_uniforms_are_the_drawn_ones(
    seeds: tuple[int, ...], start: int, n_each: int
) -> None:
    table = StreamUniforms.of(Layout(seeds, start, n_each), ("sim", "delay-us"), 5, 3)
    np.testing.assert_array_equal(_computed(table), table.values())


def test_initial_states_do_not_depend_on_what_was_drawn() -> None:
    rng = WorldRNG(4, (9, 9), BLOCK, 3 * BLOCK)
    before = rng.initial_states()
    rng.random(2)
    np.testing.assert_array_equal(rng.initial_states(), before)
    assert before.shape == (3, 4) and len({tuple(r) for r in before}) == 3


def test_a_different_stream_gives_different_numbers() -> None:
    lay = Layout((7,), 0, 64)
    a = _computed(StreamUniforms.of(lay, ("sim", "delay-us"), 4, 2))
    b = _computed(StreamUniforms.of(lay, ("sim", "delay-iran"), 4, 2))
    assert not np.array_equal(a, b)


def test_schedule_starts_uses_the_numbers_schedule_gets_drawn() -> None:
    sy = compile_system(load_scenario(MINI), "engage")
    sf, so = sy.focal, sy.internal
    rng = np.random.default_rng(5)
    n, steps, t, never = 2 * BLOCK + 11, 6, 4, 10**12
    lay = Layout((3,), 0, n)
    tables = [StreamUniforms.of(lay, ("sim", name), steps, max(side.n_instruments, 1))
              for name, side in (("delay-us", sf), ("delay-iran", so))]
    approved = [rng.random((n, side.n_instruments)) < 0.3 for side in (sf, so)]
    got = [np.full((n, side.n_instruments), never, dtype=np.int64) for side in (sf, so)]
    rows = [np.ascontiguousarray(x[None]) for x in (
        sf.delay_low, sf.delay_mode, sf.delay_high, so.delay_low, so.delay_mode, so.delay_high)]
    native_impl.schedule_starts(
        approved[0].view(np.uint8), approved[1].view(np.uint8), np.zeros((0, 0), np.uint8),
        tables[0].states, tables[1].states, n, BLOCK, steps, got[0], got[1],
        np.zeros(n, np.uint8), *rows, np.zeros((1, sf.n_instruments), np.uint8), t)
    for side, table, app, start in zip((sf, so), tables, approved, got, strict=True):
        want = np.full_like(start, never)
        schedule(side, app, table.values()[:, t], want, t)
        np.testing.assert_array_equal(start, want)
        assert (start[app] != never).all() and (start[~app] == never).all()
    # the focal offer: a conciliatory step approved or forced, with one row of gestures per
    # state (three states of n / 3 worlds)
    m = 3
    gest = rng.random((m, sf.n_instruments)) < 0.5
    forced = rng.random((n, sf.n_instruments)) < 0.05
    offered = np.zeros(n, np.uint8)
    native_impl.schedule_starts(
        approved[0].view(np.uint8), approved[1].view(np.uint8), forced.view(np.uint8),
        tables[0].states, tables[1].states, n, BLOCK, steps, got[0].copy(), got[1].copy(),
        offered, *rows, gest.view(np.uint8), t)
    state = np.arange(n) * m // n
    np.testing.assert_array_equal(offered, (gest[state] & (approved[0] | forced)).any(1))
