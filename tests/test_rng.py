"""WorldRNG: chunk invariance (property-based), validation, independence of streams."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.sim.rng import BLOCK, StackedRNG, WorldRNG, name_key


def _draw_all(rng: WorldRNG, loc: np.ndarray) -> list[np.ndarray]:
    """A fixed sequence of calls, as a simulation chunk would make them."""
    return [
        rng.random(),
        rng.normal(loc, 2.0, 3),
        rng.uniform(-1.0, loc),
        rng.triangular(0.0, 0.3, 1.0, 2),
        rng.binomial(10, 0.3),
        rng.poisson(np.abs(loc) + 0.5),
        rng.bernoulli(0.25, 2).astype(np.float64),
    ]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    key=st.tuples(st.integers(0, 1000), st.integers(0, 5)),
    n_blocks=st.integers(1, 4),
    last=st.integers(0, BLOCK - 1),
    cuts=st.lists(st.integers(1, 4), max_size=3),
)
def test_chunked_draws_equal_unchunked(
    seed: int, key: tuple[int, int], n_blocks: int, last: int, cuts: list[int]
) -> None:
    total = (n_blocks - 1) * BLOCK + last + 1
    loc = np.linspace(-1.0, 1.0, total)
    whole = _draw_all(WorldRNG(seed, key, 0, total), loc)
    # split at block boundaries chosen by hypothesis
    bounds = sorted({0, total, *(min(c, n_blocks - 1) * BLOCK for c in cuts)})
    pieces: list[list[np.ndarray]] = []
    for lo, hi in itertools.pairwise(bounds):
        pieces.append(_draw_all(WorldRNG(seed, key, lo, hi - lo), loc[lo:hi]))
    for k, arr in enumerate(whole):
        joined = np.concatenate([p[k] for p in pieces], axis=0)
        assert joined.shape == arr.shape
        np.testing.assert_array_equal(joined, arr)


def test_shapes_and_per_world_parameters() -> None:
    rng = WorldRNG(7, (1,), 0, 10)
    assert rng.random().shape == (10,)
    assert rng.random(4, 2).shape == (10, 4, 2)
    x = rng.normal(np.arange(10) * 100.0, 0.01, 5)
    assert x.shape == (10, 5)
    # each world's loc applies to its whole row
    np.testing.assert_allclose(x.mean(axis=1), np.arange(10) * 100.0, atol=0.05)
    assert rng.triangular(2.0, 2.0, 2.0).tolist() == [2.0] * 10
    assert WorldRNG(7, (1,), 0, 0).random(3).shape == (0, 3)


def test_distributions_are_plausible() -> None:
    rng = WorldRNG(3, (2,), 0, 20_000)
    assert abs(rng.normal(1.0, 2.0).mean() - 1.0) < 0.05
    assert abs(rng.uniform(2.0, 4.0).mean() - 3.0) < 0.02
    assert abs(rng.triangular(0.0, 0.0, 1.0).mean() - 1.0 / 3.0) < 0.01
    assert abs(rng.poisson(4.0).mean() - 4.0) < 0.05
    assert abs(rng.binomial(10, 0.3).mean() - 3.0) < 0.05
    assert (rng.poisson(0.0) == 0).all()


def test_start_must_be_block_aligned() -> None:
    with pytest.raises(ValueError, match="multiple of BLOCK"):
        WorldRNG(1, (0,), 100, 10)
    with pytest.raises(ValueError):
        WorldRNG(1, (0,), -BLOCK, 10)


def test_streams_and_substreams_are_distinct_and_reproducible() -> None:
    a = WorldRNG(5, (1,), 0, 300).random()
    b = WorldRNG(5, (2,), 0, 300).random()
    c = WorldRNG(6, (1,), 0, 300).random()
    assert not np.array_equal(a, b) and not np.array_equal(a, c)
    np.testing.assert_array_equal(a, WorldRNG(5, (1,), 0, 300).random())
    base = WorldRNG(5, (1,), 0, 300)
    base.random()  # a substream does not depend on what was drawn before
    sub = base.substream("perception").random()
    np.testing.assert_array_equal(sub, WorldRNG(5, (1, *name_key("perception")), 0, 300).random())
    assert not np.array_equal(sub, a)
    # blocks are independent: world 0 and world BLOCK do not repeat each other
    assert a[0] != a[BLOCK]


def test_name_key_is_stable() -> None:
    assert name_key("perception", 1) == (499346405, 1)



def _whole_blocks(seed: int, key: tuple[int, ...], n: int, tail: tuple[int, ...],
                  methods: list[str]) -> list[np.ndarray]:
    """Successive draws of whole blocks (one per method) from fresh generators, first ``n`` rows."""
    gens = [np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(*key, b))))
            for b in range(-(-n // BLOCK))]
    out = []
    for method in methods:
        buf = np.empty((len(gens), BLOCK, *tail))
        for g, part in zip(gens, buf, strict=True):
            getattr(g, method)(out=part)
        out.append(buf.reshape(-1, *tail)[:n])
    return out


@pytest.mark.parametrize("n", [1, 37, 100, 255, 256, 300, 519])
@pytest.mark.parametrize("tail", [(), (34,), (34, 20)])
def test_a_part_block_draws_the_numbers_and_leaves_the_state_of_a_whole_block(
    n: int, tail: tuple[int, ...]
) -> None:
    """Uniforms of a last block used in part are drawn only for the rows kept, then the
    generator is advanced: the numbers, and every later draw, are those of whole blocks."""
    rng = WorldRNG(5, (1, 2), 0, n)
    got = [rng.random(*tail), rng.random(*tail), rng.standard_normal(*tail)]
    want = _whole_blocks(5, (1, 2), n, tail, ["random", "random", "standard_normal"])
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w)


@pytest.mark.parametrize("n", [37, 256, 300])
@pytest.mark.parametrize("method", ["random", "standard_normal"])
def test_a_last_draw_gives_the_numbers_of_whole_blocks(n: int, method: str) -> None:
    """``last=True`` (nothing drawn from the stream afterwards) draws only the rows kept:
    the same numbers as whole blocks, one state or several stacked."""
    want = _whole_blocks(5, (1, 2), n, (34,), [method])[0]
    assert np.array_equal(getattr(WorldRNG(5, (1, 2), 0, n), method)(34, last=True), want)
    stacked = getattr(StackedRNG([5, 8], (1, 2), 0, n), method)(34, last=True)
    other = _whole_blocks(8, (1, 2), n, (34,), [method])[0]
    assert np.array_equal(stacked, np.concatenate([want, other]))
    assert not np.array_equal(want, other)


@pytest.mark.parametrize("n", [1, 37, 256, 300])
@pytest.mark.parametrize("last", [False, True])
def test_step_major_draws_are_the_drawn_numbers_transposed(n: int, last: bool) -> None:
    """``fill_step_major`` writes what the draw gives, ``[*tail, n]``, and leaves the
    generators where the draw does (a later draw gives the same numbers), stacked too."""
    for make in (lambda: WorldRNG(5, (1, 2), 0, n), lambda: StackedRNG([5, 8], (1, 2), 0, n)):
        for method, tail in (("random", (34,)), ("standard_normal", (34, 2))):
            drawn, filled = make(), make()
            want = getattr(drawn, method)(*tail, last=last)
            got = np.empty((*tail, filled.n))
            filled.fill_step_major(method, got, last=last)
            assert np.array_equal(np.moveaxis(got, -1, 0), want)
            if not last:
                assert np.array_equal(filled.standard_normal(3), drawn.standard_normal(3))
