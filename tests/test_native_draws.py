"""The compiled seeding and uniforms (``detente.sim.native.draws``) against NumPy's own objects.

A stream drawn by the kernels must be the stream NumPy's ``Generator(PCG64(SeedSequence(...)))``
would give, bit for bit: otherwise results would depend on which path drew them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.sim.native import draws
from detente.sim.rng import (
    BLOCK,
    StackedRNG,
    WorldRNG,
    _SeedWords,
    pcg64_state_row,
    seed_entropy,
)

SEEDS = st.integers(0, 2**70)
KEYS = st.lists(st.integers(0, 2**40), min_size=0, max_size=4).map(tuple)


def _numpy_words(seed: int, key: tuple[int, ...], block: int) -> np.ndarray:
    return np.random.SeedSequence(seed, spawn_key=(*key, block)).generate_state(4, np.uint64)


@settings(max_examples=60, deadline=None)
@given(seed=SEEDS, key=KEYS, first=st.integers(0, 2**63 - 8))
def test_seed_words_and_states_are_numpys(seed: int, key: tuple[int, ...], first: int) -> None:
    words = np.empty((3, 4), dtype=np.uint64)
    draws.seed_words(seed_entropy(seed, key), first, words)
    states = np.empty_like(words)
    draws.seeded_states(words, states)
    for r in range(3):
        np.testing.assert_array_equal(words[r], _numpy_words(seed, key, first + r))
        bits = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(*key, first + r)))
        assert tuple(int(x) for x in states[r]) == pcg64_state_row(bits.state)


@pytest.mark.parametrize("n", [1, 100, BLOCK, 700, 4 * BLOCK, 5 * BLOCK + 3, 2048])
@pytest.mark.parametrize("tail", [(), (3,), (34, 2)])
def test_uniforms_in_both_layouts_are_the_generators(n: int, tail: tuple[int, ...]) -> None:
    """Whole groups of four blocks, a lone block and a partial last block alike."""
    expected = WorldRNG(11, (5, 6), 0, n).random(*tail)  # the generators' path
    per_row = int(np.prod(tail, dtype=np.int64))
    rng = WorldRNG(11, (5, 6), 0, n)
    states, spans = rng.initial_states(), rng._block_spans()
    world_major = np.empty((n, per_row))
    draws.uniforms_world_major(states, *spans, world_major)
    np.testing.assert_array_equal(world_major, expected.reshape(n, per_row))
    wide = np.full((per_row, n + 5), -1.0)  # a strided target: columns of a wider array
    draws.uniforms_step_major(states, *spans, wide[:, 2:n + 2])
    np.testing.assert_array_equal(wide[:, 2:n + 2].T, expected.reshape(n, per_row))
    assert (wide[:, :2] == -1.0).all() and (wide[:, n + 2:] == -1.0).all()


def test_streams_drawn_once_match_streams_drawn_by_the_generators() -> None:
    """``WorldRNG`` draws uniforms of a fresh stream used once in compiled code; a stream
    whose generators already exist draws them with NumPy: the same numbers."""
    once = WorldRNG(3, (9,), 512, 600)
    used = WorldRNG(3, (9,), 512, 600)
    _ = used.generators  # built: the NumPy path
    np.testing.assert_array_equal(once.random(34, 8, last=True), used.random(34, 8, last=True))
    step_major = np.empty((34, 600))
    WorldRNG(3, (9,), 512, 600).fill_step_major("random", step_major, last=True)
    numpy_made = np.empty((34, 600))
    fresh = WorldRNG(3, (9,), 512, 600)
    _ = fresh.generators
    fresh.fill_step_major("random", numpy_made, last=True)
    np.testing.assert_array_equal(step_major, numpy_made)


@pytest.mark.parametrize("n_each", [100, BLOCK, 300])
def test_stacked_streams_drawn_once_are_each_states_stream(n_each: int) -> None:
    """One compiled call for every state's blocks (spans of the states' rows) gives each
    state's rows what a stream of that state alone gives."""
    seeds = [4, 8, 15, 16, 23, 42]  # six states: a group of four blocks and two alone
    stacked = StackedRNG(seeds, (2,), 0, n_each)
    drawn = stacked.random(34, 2, last=True)
    laid = np.empty((34, 2, stacked.n))
    StackedRNG(seeds, (2,), 0, n_each).fill_step_major("random", laid, last=True)
    for s, seed in enumerate(seeds):
        alone = WorldRNG(seed, (2,), 0, n_each).random(34, 2)
        rows = slice(s * n_each, (s + 1) * n_each)
        np.testing.assert_array_equal(drawn[rows], alone)
        np.testing.assert_array_equal(np.moveaxis(laid, -1, 0)[rows], alone)


def test_generators_made_from_seed_words_continue_like_numpys() -> None:
    words = _numpy_words(7, (1, 2), 3)
    ours = np.random.Generator(np.random.PCG64(_SeedWords(words)))
    theirs = np.random.Generator(np.random.PCG64(np.random.SeedSequence(7, spawn_key=(1, 2, 3))))
    np.testing.assert_array_equal(ours.standard_normal(50), theirs.standard_normal(50))
    with pytest.raises(ValueError, match="four uint64 words"):
        _SeedWords(words).generate_state(8, np.uint32)


def test_bad_shapes_are_refused() -> None:
    rng = WorldRNG(1, (1,), 0, 300)  # two blocks
    states, (first, count) = rng.initial_states(), rng._block_spans()
    with pytest.raises(ValueError, match="outside out"):
        draws.uniforms_world_major(states, first, count, np.empty((299, 2)))
    with pytest.raises(ValueError, match="must agree"):
        draws.uniforms_step_major(states[:1], first, count, np.empty((2, 300)))
    with pytest.raises(ValueError, match="four words"):
        draws.seed_words(np.zeros(3, dtype=np.uint32), 0, np.empty((1, 4), dtype=np.uint64))
    with pytest.raises(ValueError, match="non-negative"):
        draws.seed_words(np.zeros(4, dtype=np.uint32), -1, np.empty((1, 4), dtype=np.uint64))
