"""NumPy's PCG64 reproduced in compiled code (detente.sim.pcg64_compiled) draws NumPy's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from detente.sim.pcg64_compiled import (
    JUMPS,
    advance_map,
    affine,
    step,
    stream_states,
    threshold53,
    to_double,
)


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
