"""The recording kernel (``native/recording.pyx``) against NumPy's float32 cast and layout."""

from __future__ import annotations

import numpy as np
import pytest

from detente.sim.native import recording

N = 5


def _values() -> tuple[tuple[object, ...], np.ndarray, np.ndarray]:
    """One value of each kind, and what NumPy makes of each: ``[len, N]`` float32."""
    big = np.array([1e300, -1e300, np.nan, np.inf, 1 / 3])  # beyond float32, NaN, rounding
    flags = np.array([True, False, True, True, False])
    table = np.arange(3 * N, dtype=np.float64).reshape(N, 3) / 7
    odds = np.array([-800.0, -1.5, 0.0, 2.5, 800.0])
    with np.errstate(over="ignore"):
        exps = np.exp(-odds)
    values = (big, flags, table, flags[::-1], exps, None, big[::-1])
    codes = np.array([recording.VECTOR, recording.VECTOR, 2, recording.VECTOR, recording.EXPIT,
                      recording.ZERO, recording.VECTOR], dtype=np.int64)
    with np.errstate(over="ignore"):
        want = np.stack([
            big.astype(np.float32), flags.astype(np.float32), table[:, 2].astype(np.float32),
            flags[::-1].astype(np.float32), (1.0 / (1.0 + np.exp(-odds))).astype(np.float32),
            np.zeros(N, np.float32), big[::-1].astype(np.float32)])
    return values, codes, want


def test_a_step_is_numpys_float32_cast_in_the_rows_asked() -> None:
    values, codes, want = _values()
    rows = np.array([6, 0, 3, 1, 5, 2, 4], dtype=np.int64)
    out = np.full((7, 3, N), -1.0, dtype=np.float32)
    recording.record_step(out, 1, values, codes, rows)
    np.testing.assert_array_equal(out[rows, 1], want)
    assert (out[:, [0, 2]] == -1.0).all()


def test_flushed_steps_are_the_world_major_trajectories() -> None:
    values, codes, want = _values()
    rows = np.arange(7, dtype=np.int64)
    staged = np.empty((7, 2, N), dtype=np.float32)
    out = np.zeros((7, N, 4), dtype=np.float32)
    recording.record_step(staged, 0, values, codes, rows)
    recording.record_step(staged, 1, values, codes, rows)
    recording.flush(staged, out, 1, 2)
    np.testing.assert_array_equal(out[:, :, 1], want)
    np.testing.assert_array_equal(out[:, :, 2], want)
    assert (out[:, :, [0, 3]] == 0).all()


def test_a_value_of_another_shape_or_type_is_refused() -> None:
    out = np.empty((1, 1, N), dtype=np.float32)
    one = np.array([recording.VECTOR], dtype=np.int64)
    row = np.zeros(1, dtype=np.int64)
    for bad in (np.zeros(N + 1), np.zeros(N, dtype=np.float32), np.zeros((N, 2))):
        with pytest.raises(ValueError, match="record_step"):
            recording.record_step(out, 0, (bad,), one, row)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 100, 4096])
def test_flush_is_the_transpose_whatever_the_count_of_worlds(n: int) -> None:
    staged = np.random.default_rng(n).random((3, 5, n)).astype(np.float32)
    out = np.full((3, n, 7), -1.0, dtype=np.float32)
    recording.flush(staged, out, 2, 4)
    np.testing.assert_array_equal(out[:, :, 2:6], staged[:, :4].transpose(0, 2, 1))
    assert (out[:, :, [0, 1, 6]] == -1.0).all()
