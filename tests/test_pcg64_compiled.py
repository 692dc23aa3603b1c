"""NumPy's PCG64 reproduced in compiled code (detente.sim.pcg64_compiled) draws NumPy's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from detente.sim.pcg64_compiled import JUMPS, advance_map, affine, step, stream_states, to_double


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
