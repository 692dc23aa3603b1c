"""NumPy's PCG64 reproduced in compiled code (detente.sim.pcg64_compiled) draws NumPy's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from detente.sim.pcg64_compiled import (
    JUMPS,
    advance_map,
    affine,
    affine_lanes,
    block_states,
    output64,
    raw53,
    step,
    stream_states,
    threshold53,
    to_double,
)
from detente.sim.rng import WorldRNG, name_key


@njit(cache=True)
def _sequential(quad: np.ndarray, count: int) -> np.ndarray:
    hi, lo, inc_hi, inc_lo = quad[0], quad[1], quad[2], quad[3]
    out = np.empty(count)
    for i in range(count):
        hi, lo = step(hi, lo, inc_hi, inc_lo)
        out[i] = to_double(hi, lo)
    return out


@njit(cache=True)
def _at(quad: np.ndarray, indices: np.ndarray) -> np.ndarray:
    out = np.empty(len(indices))
    for i in range(len(indices)):
        m_hi, m_lo, c_hi, c_lo = advance_map(quad[2], quad[3], indices[i] + 1, JUMPS)
        hi, lo = affine(quad[0], quad[1], m_hi, m_lo, c_hi, c_lo)
        out[i] = to_double(hi, lo)
    return out


@njit(cache=True)
def _lanes(args: np.ndarray) -> np.ndarray:
    out = np.empty((len(args), 2), np.uint64)
    for i in range(len(args)):
        out[i, 0], out[i, 1] = affine_lanes(
            args[i, 0], args[i, 1], args[i, 2], args[i, 3], args[i, 4], args[i, 5]
        )
    return out


def _generator(seed: int, key: tuple[int, ...]) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


@pytest.mark.parametrize(("seed", "key"), [(0, (0, 0)), (5, (2, 7)), (2**40 + 3, (1, 196))])
def test_sequential_draws_are_numpys(seed: int, key: tuple[int, ...]) -> None:
    g = _generator(seed, key)
    quad = stream_states([g])[0]
    np.testing.assert_array_equal(_sequential(quad, 5000), g.random(5000))


def test_draws_by_index_are_numpys() -> None:
    g = _generator(9, (3,))
    quad = stream_states([g])[0]
    reference = g.random(70_000)
    indices = np.array([0, 1, 2, 255, 256, 4097, 51_199, 69_999])
    np.testing.assert_array_equal(_at(quad, indices), reference[indices])


def test_affine_in_64_bit_lanes_is_the_128_bit_map() -> None:
    # random words, and the edges of every carry (zeros, ones, all ones)
    words = _generator(2, (5,)).integers(0, 2**64, size=(3000, 6), dtype=np.uint64)
    edges = np.array([0, 1, 2**32 - 1, 2**63, 2**64 - 1], dtype=np.uint64)
    grid = np.stack(np.meshgrid(*[edges] * 6), axis=-1).reshape(-1, 6)
    args = np.concatenate([words, grid])
    got = _lanes(args)
    for row, (hi, lo) in zip(args.tolist(), got.tolist(), strict=True):
        x, m, c = ((row[k] << 64) | row[k + 1] for k in (0, 2, 4))
        assert (hi << 64) | lo == (x * m + c) % 2**128


@njit(cache=True)
def _below(states: np.ndarray, k: np.uint64) -> np.ndarray:
    out = np.empty((len(states), 2), np.bool_)
    limit = (k << np.uint64(11)) - np.uint64(1)
    for i in range(len(states)):
        out[i, 0] = raw53(states[i, 0], states[i, 1]) < k
        out[i, 1] = output64(states[i, 0], states[i, 1]) <= limit
    return out


@pytest.mark.parametrize("k", [1, 2**11, 450_359_962_737_050, 2**52 + 1, 2**53 - 1, 2**53])
def test_a_bound_on_the_64_bit_output_decides_as_raw53(k: int) -> None:
    states = _generator(6, (2,)).integers(0, 2**64, size=(20_000, 2), dtype=np.uint64)
    # and outputs at the bound: hi = 0 (no rotation), lo = the output
    lows = [((k << 11) + d) % 2**64 for d in (-2, -1, 0)]
    edge = np.array([[0, x] for x in lows], dtype=np.uint64)
    below = _below(np.concatenate([states, edge]), np.uint64(k))
    np.testing.assert_array_equal(below[:, 0], below[:, 1])


def test_states_follow_the_generator_after_draws() -> None:
    g = _generator(1, (0, 4))
    g.random(17)
    other = _generator(1, (0, 4))
    other.bit_generator.advance(17)
    np.testing.assert_array_equal(stream_states([g]), stream_states([other]))


def test_other_bit_generators_are_refused() -> None:
    with pytest.raises(TypeError, match="PCG64"):
        stream_states([np.random.Generator(np.random.MT19937(0))])


def test_integer_thresholds_decide_as_the_float_comparison() -> None:
    # u < p iff raw53 < threshold53(p), at and around the edges of both
    raw = _generator(4, (1,)).random(4000) * 2.0**53
    steps = np.array([0, 1, 2**52 - 1, 2**52, 2**53 - 2, 2**53 - 1], dtype=np.float64)
    ks = np.concatenate([raw, steps]).astype(np.uint64)
    u = ks.astype(np.float64) * 2.0**-53
    p = np.concatenate([
        u, np.nextafter(u, 2.0), np.nextafter(u, -1.0), [0.0, -0.5, 1.0, 1.5, np.nan, 5e-324, 1 / 3],
    ])
    thresholds = threshold53(p)
    assert thresholds.max() <= 2**53
    np.testing.assert_array_equal(
        ks[:, None] < thresholds[None, :], u[:, None] < p[None, :]
    )


def _numpy_states(seed: int, key: tuple[int, ...], first: int, n: int) -> np.ndarray:
    """The states NumPy's own seeding gives blocks ``first ... first + n - 1``."""
    return stream_states([_generator(seed, (*key, b)) for b in range(first, first + n)])


_SEEDS = [0, 1, 2**32 - 1, 2**32, 2**63, 2**64 + 5, 2**128 - 1, 0xDEADBEEF_0123_4567_89AB_CDEF_0F1E]
_KEYS = [
    (),
    (0,),
    (2,),
    (2**32,),
    (2**32 - 1, 2**64 + 7, 0),
    tuple(range(1, 40)),
    name_key("perception", 1),
    name_key("ipd", "noise", 3),
]


@pytest.mark.parametrize("seed", _SEEDS)
def test_block_states_equal_numpys_seeding(seed: int) -> None:
    for key in _KEYS:
        for first, n in ((0, 3), (195, 2), (2**32 - 1, 2), (2**40 + 9, 1)):
            np.testing.assert_array_equal(
                block_states(seed, key, first, n), _numpy_states(seed, key, first, n),
                err_msg=f"seed={seed} key={key} blocks {first}+{n}",
            )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**130),
    key=st.lists(st.integers(0, 2**70), max_size=6).map(tuple),
    first=st.integers(0, 2**62),
    n=st.integers(0, 3),
)
def test_block_states_equal_numpys_seeding_for_any_input(
    seed: int, key: tuple[int, ...], first: int, n: int
) -> None:
    np.testing.assert_array_equal(block_states(seed, key, first, n), _numpy_states(seed, key, first, n))


def test_block_states_refuse_negative_inputs() -> None:
    for args in ((-1, (0,), 0, 1), (0, (0, -2), 0, 1), (0, (0,), -1, 1), (0, (0,), 0, -1)):
        with pytest.raises(ValueError, match="non-negative"):
            block_states(*args)
    with pytest.raises(ValueError, match="2\\*\\*63"):
        block_states(0, (0,), 2**63 - 1, 2)


def test_world_rng_states_are_its_generators_states() -> None:
    fresh = WorldRNG(11, (2, 5), 512, 1000)
    states = fresh.pcg64_states()  # computed, the generators not made
    np.testing.assert_array_equal(states, stream_states(list(WorldRNG(11, (2, 5), 512, 1000).generators)))
    # the stream draws the same numbers after its states were read
    np.testing.assert_array_equal(fresh.random(3), WorldRNG(11, (2, 5), 512, 1000).random(3))
    # after draws the states follow the generators
    drawn = WorldRNG(11, (2, 5), 512, 1000)
    drawn.random(2)
    np.testing.assert_array_equal(drawn.pcg64_states(), stream_states(list(drawn.generators)))
    assert not np.array_equal(drawn.pcg64_states(), states)
