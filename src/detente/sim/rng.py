"""Chunk-invariant random streams for Monte Carlo worlds.

Every random number in a simulation belongs to one *world* and one *stream*. Worlds are
grouped in fixed blocks of :data:`BLOCK` worlds; block ``b`` of the stream named by the
integer tuple ``key`` draws from its own generator::

    numpy.random.Generator(PCG64(SeedSequence(seed, spawn_key=(*key, b))))

A :class:`WorldRNG` covering worlds ``[start, start + n)`` (``start`` a multiple of
:data:`BLOCK`) holds the generators of the blocks it touches. Each draw asks every block for
a *full* block of numbers (``[BLOCK, *tail]``), concatenates them and keeps the first ``n``
rows. Because a block's generator always advances by the same amount whatever the chunk it
sits in, splitting the worlds of a run into chunks of whole blocks (run serially, in
processes, or on a Dask cluster) yields exactly the same numbers: the design's requirement
"same seed, same result, whatever the chunking or the executor".

The generators are created on first use, from seeds the compiled
:func:`detente.sim.native.draws.seed_words` computes exactly as ``SeedSequence`` would (a
thirtieth of the cost of NumPy's objects); compiled code that only needs their states gets
them from :meth:`WorldRNG.initial_states` or :meth:`WorldRNG.pcg64_states` without creating
them, and a stream's uniforms drawn once (``last``) are computed by
:mod:`detente.sim.native.draws` straight into the layout asked for: NumPy's numbers, bit
for bit.

Discrete draws (binomial, Poisson) are made by inverting the distribution function at one
uniform per cell, so the generator state never depends on the parameters either.

Notes
-----
``SeedSequence`` spawn keys are the standard NumPy mechanism for independent parallel
streams (O'Neill 2014, "PCG: A family of simple fast space-efficient statistically good
algorithms for random number generation"; NumPy's "Parallel random number generation").
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from numpy.random.bit_generator import ISeedSequence
from numpy.typing import ArrayLike, NDArray

from detente.sim.native import draws as native_draws

__all__ = [
    "BLOCK", "StackedRNG", "WorldRNG", "name_key", "pcg64_state_row", "seed_entropy",
    "stream_states",
]

#: Number of worlds sharing one generator. Changing it changes every number drawn.
BLOCK = 256

FloatArray = NDArray[np.float64]


def pcg64_state_row(state: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """A PCG64 bit generator's ``state`` dict as ``(state hi, state lo, inc hi, inc lo)``.

    Raises ``TypeError`` for a bit generator other than PCG64 (its numbers could not be
    reproduced by the compiled readers of these states).
    """
    if state["bit_generator"] != "PCG64":
        raise TypeError(f"expected a PCG64 bit generator, got {state['bit_generator']}")
    mask64 = (1 << 64) - 1
    x, inc = int(state["state"]["state"]), int(state["state"]["inc"])
    return (x >> 64) & mask64, x & mask64, (inc >> 64) & mask64, inc & mask64


def stream_states(generators: list[np.random.Generator]) -> NDArray[np.uint64]:
    """The current PCG64 states of ``generators`` as a ``[len, 4]`` uint64 array.

    Columns are ``(state hi, state lo, inc hi, inc lo)``. Raises ``TypeError`` for a bit
    generator other than PCG64 (its numbers could not be reproduced here).
    """
    out = np.empty((len(generators), 4), dtype=np.uint64)
    for row, g in zip(out, generators, strict=True):
        row[:] = pcg64_state_row(g.bit_generator.state)
    return out


def name_key(*names: str | int) -> tuple[int, ...]:
    """Turn stream names into a stable integer key for :class:`WorldRNG`.

    Strings are hashed with CRC-32 (stable across processes and Python versions, unlike
    :func:`hash`); integers are kept.

    Examples
    --------
    >>> name_key("perception", 1)
    (499346405, 1)
    """
    out: list[int] = []
    for name in names:
        if isinstance(name, str):
            out.append(zlib.crc32(name.encode("utf-8")))
        else:
            out.append(int(name))
    return tuple(out)


_POOL = 4  # SeedSequence's default pool size (words)


def _words32(x: int) -> list[int]:
    """``x`` as uint32 words, lowest first (``0`` is one word), as ``SeedSequence`` splits it."""
    out = [x & 0xFFFFFFFF]
    x >>= 32
    while x:
        out.append(x & 0xFFFFFFFF)
        x >>= 32
    return out


def seed_entropy(seed: int, key: tuple[int, ...]) -> NDArray[np.uint32]:
    """The uint32 words ``SeedSequence(seed, spawn_key=(*key, b))`` mixes, before ``b``'s.

    The seed's words are padded with zeros to the pool size (NumPy does so whenever there
    is a spawn key, and ``b`` always makes one), then each key entry's words follow.
    """
    words = _words32(seed)
    words += [0] * (_POOL - len(words))
    for k in key:
        words += _words32(k)
    return np.array(words, dtype=np.uint32)


def _as_2d(out: FloatArray, rows: int, columns: int) -> FloatArray:
    """``out`` seen as ``[rows, columns]``, a view (writing to it writes ``out``); raises
    ``AttributeError`` where only a copy could have that shape."""
    view = out.view()
    view.shape = (rows, columns)
    return view


class _SeedWords(ISeedSequence):
    """A seed sequence whose state is already known: the four uint64 words
    ``SeedSequence.generate_state(4, np.uint64)`` would give (``PCG64`` asks for nothing
    else), so ``PCG64(_SeedWords(words))`` is the generator ``PCG64(SeedSequence(...))``."""

    __slots__ = ("words",)

    def __init__(self, words: NDArray[np.uint64]) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> NDArray[Any]:
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError("_SeedWords holds the four uint64 words of a PCG64 seed only")
        return self.words


class WorldRNG:
    """Random draws for worlds ``[start, start + n)`` of one stream.

    Parameters
    ----------
    seed : int
        The run's seed (non-negative).
    key : tuple of int
        The stream's name as non-negative integers (see :func:`name_key`). Different keys
        give statistically independent streams.
    start : int
        First world; must be a multiple of :data:`BLOCK` so that chunks align with blocks.
    n : int
        Number of worlds (any non-negative number; the last block may be partial).

    Notes
    -----
    Each method returns an array shaped ``[n, *tail]``. Distribution parameters may be
    scalars, ``[n]`` arrays (one value per world, broadcast over ``tail``) or arrays
    broadcastable to ``[n, *tail]``. Draws are sequential: the k-th call on a stream gives
    the same numbers for a world whatever the chunking, provided every chunk makes the same
    sequence of calls with the same ``tail`` shapes.

    Raises
    ------
    ValueError
        If ``start`` is not a multiple of :data:`BLOCK`, or ``seed``, ``key``, ``start``
        or ``n`` is negative.
    """

    def __init__(self, seed: int, key: Sequence[int], start: int, n: int) -> None:
        if start < 0 or n < 0:
            raise ValueError(f"start and n must be non-negative (got start={start}, n={n})")
        if start % BLOCK:
            raise ValueError(f"start must be a multiple of BLOCK={BLOCK} (got {start})")
        if seed < 0 or any(k < 0 for k in key):
            raise ValueError("seed and key entries must be non-negative integers")
        self.seed = int(seed)
        self.key: tuple[int, ...] = tuple(int(k) for k in key)
        self.start = int(start)
        self.n = int(n)
        self._first_block = start // BLOCK
        self._n_blocks = -(-n // BLOCK)
        self._built: list[np.random.Generator] | None = None  # made on first use
        self._words: NDArray[np.uint64] | None = None  # the blocks' seed words, once

    def __repr__(self) -> str:
        return f"WorldRNG(seed={self.seed}, key={self.key}, start={self.start}, n={self.n})"

    @property
    def _generators(self) -> list[np.random.Generator]:
        """The blocks' generators, created on first use (seeding them is most of the cost of
        a small stream, and compiled code needs only their states: :meth:`pcg64_states`)."""
        if self._built is None:
            self._built = [np.random.Generator(self._seeded(b)) for b in self._blocks]
        return self._built

    @property
    def generators(self) -> tuple[np.random.Generator, ...]:
        """The blocks' generators, first block first (for compiled code that reproduces their
        numbers, :mod:`detente.sim.pcg64_compiled`; drawing from them advances this stream)."""
        return tuple(self._generators)

    def initial_states(self) -> NDArray[np.uint64]:
        """The blocks' PCG64 states as seeded, before any draw: ``[n_blocks, 4]`` uint64.

        Columns as :meth:`pcg64_states`; computed by the compiled seeding (NumPy's
        algorithm, no numba), whatever has been drawn since. For compiled code that computes
        the numbers where it reads them (``detente/sim/native/pcg64.pxd``): the ``i``-th
        number of a block (from 0) is the draw ``i + 1`` steps past its row.
        """
        out = np.empty((self._n_blocks, 4), dtype=np.uint64)
        native_draws.seeded_states(self._seed_words(), out)
        return out

    @property
    def _blocks(self) -> range:
        """The indices of the blocks this stream's worlds touch."""
        return range(self._first_block, self._first_block + self._n_blocks)

    def _seed_words(self) -> NDArray[np.uint64]:
        """The blocks' seed words ``[n_blocks, 4]``, computed once
        (:func:`~detente.sim.native.draws.seed_words`)."""
        if self._words is None:
            self._words = np.empty((self._n_blocks, 4), dtype=np.uint64)
            native_draws.seed_words(seed_entropy(self.seed, self.key), self._first_block,
                                    self._words)
        return self._words

    def _seeded(self, block: int) -> np.random.PCG64:
        """Block ``block``'s bit generator, freshly seeded: ``PCG64(SeedSequence(seed,
        spawn_key=(*key, block)))``, from its precomputed seed words."""
        words = _SeedWords(self._seed_words()[block - self._first_block])
        # NumPy takes any ISeedSequence; its type stubs name SeedSequence only
        return np.random.PCG64(cast(np.random.SeedSequence, words))

    def pcg64_states(self) -> NDArray[np.uint64]:
        """The blocks' current PCG64 states, ``[n_blocks, 4]`` uint64, first block first.

        Columns are ``(state hi, state lo, inc hi, inc lo)`` (:func:`stream_states`). While
        nothing has been drawn they are the seeded states (:meth:`initial_states`, computed
        without creating the generators); afterwards they are read from the generators.
        """
        if self._built is not None:
            return stream_states(self._built)
        return self.initial_states()

    def substream(self, *extra_key: int | str) -> WorldRNG:
        """Return an independent stream for the same worlds, keyed ``(*key, *extra_key)``.

        Strings in ``extra_key`` are hashed with :func:`name_key`. The substream starts
        fresh: it does not depend on how much has been drawn from this stream.
        """
        return WorldRNG(self.seed, (*self.key, *name_key(*extra_key)), self.start, self.n)

    # ------------------------------------------------------------------ primitives
    def _fill(self, method: str, tail: tuple[int, ...], last: bool = False) -> FloatArray:
        """Draw a full block per generator; keep the first ``n`` rows (``[n, *tail]``)."""
        out = np.empty((self.n, *tail))
        self._fill_into(method, out, {}, last)
        return out

    def _block_spans(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Each block's first world (from 0) and number of worlds kept, ``[n_blocks]`` each."""
        first = np.arange(self._n_blocks, dtype=np.int64) * BLOCK
        return first, np.minimum(self.n - first, BLOCK)

    def _drawn_once(self, method: str, last: bool) -> bool:
        """Whether compiled code draws these numbers (:mod:`detente.sim.native.draws`):
        uniforms of a stream nothing was drawn from before and nothing will be after, so
        no generator need exist; the numbers are those the generators would give."""
        return method == "random" and last and self._built is None and self.n > 0

    def _fill_into(
        self, method: str, out: FloatArray, scratch: dict[tuple[int, ...], FloatArray],
        last: bool = False,
    ) -> None:
        """Write this stream's ``[n, *tail]`` numbers into ``out`` (C-contiguous), block by
        block, each generator drawing a full block.

        Uniforms of a last block the stream uses only in part are drawn for the rows kept,
        and the generator is then advanced past the rest (one 64-bit output per uniform
        double): the same numbers and the same generator state as drawing the whole block,
        without computing the rows thrown away (most of a 100-world state's block). Other
        draws of such a block go to ``scratch`` (one buffer per shape, reused by the caller
        across streams) and its first rows are copied; with ``last`` (nothing will be drawn
        from this stream again) only the rows kept are drawn: the same numbers, the
        generator left where no later draw reads it. Uniforms drawn once are computed in
        compiled code (:meth:`_drawn_once`).
        """
        tail = out.shape[1:]
        per_row = int(np.prod(tail, dtype=np.int64))
        if self._drawn_once(method, last):
            native_draws.uniforms_world_major(self.initial_states(), *self._block_spans(),
                                              _as_2d(out, self.n, per_row))
            return
        for b, g in enumerate(self._generators):
            rows = out[b * BLOCK:(b + 1) * BLOCK]
            rest = BLOCK - rows.shape[0]  # rows of this block the stream does not keep
            if rest and not last and method != "random":
                block = scratch.get(tail)
                if block is None:
                    block = scratch[tail] = np.empty((BLOCK, *tail))
                getattr(g, method)(out=block)
                rows[...] = block[:-rest]
                continue
            getattr(g, method)(out=rows)
            if rest and not last:
                cast(np.random.PCG64, g.bit_generator).advance(rest * per_row)

    def fill_step_major(self, method: str, out: FloatArray, last: bool = False) -> None:
        """Write the numbers ``_fill(method, tail, last)`` gives into ``out``, laid out
        step-major: ``out`` is ``[*tail, n]`` (C-contiguous) and ``out[..., w]`` holds world
        ``w``'s ``[*tail]`` numbers.

        Block by block, as :meth:`_fill_into` draws them (the same numbers and generator
        states): each block is drawn into one ``[BLOCK, *tail]`` buffer and copied into its
        worlds' columns, so no world-major copy of the whole stream is made.
        """
        tail = out.shape[:-1]
        per_row = int(np.prod(tail, dtype=np.int64))
        if self._drawn_once(method, last):
            native_draws.uniforms_step_major(self.initial_states(), *self._block_spans(),
                                             _as_2d(out, per_row, self.n))
            return
        block = np.empty((min(BLOCK, self.n), *tail))
        for b, g in enumerate(self._generators):
            first = b * BLOCK
            kept = min(BLOCK, self.n - first)
            rest = BLOCK - kept  # rows of this block the stream does not keep
            if rest and not last and method != "random":
                whole = np.empty((BLOCK, *tail))
                getattr(g, method)(out=whole)
                rows = whole[:kept]
            else:
                rows = block[:kept]
                getattr(g, method)(out=rows)
                if rest and not last:
                    cast(np.random.PCG64, g.bit_generator).advance(rest * per_row)
            out[..., first:first + kept] = np.moveaxis(rows, 0, -1)

    def _param(self, x: ArrayLike, tail: tuple[int, ...]) -> FloatArray:
        """Shape a parameter so it broadcasts against ``[n, *tail]``."""
        a = np.asarray(x, dtype=np.float64)
        if a.ndim >= 1 and a.shape[0] == self.n and a.ndim <= len(tail):
            a = a.reshape(a.shape + (1,) * (len(tail) + 1 - a.ndim))
        return a

    def random(self, *tail: int, last: bool = False) -> FloatArray:
        """Uniform floats in ``[0, 1)`` shaped ``[n, *tail]``.

        ``last``: nothing will be drawn from this stream again (:meth:`_fill_into`).
        """
        return self._fill("random", tail, last)

    def standard_normal(self, *tail: int, last: bool = False) -> FloatArray:
        """Standard normal floats shaped ``[n, *tail]`` (``last`` as for :meth:`random`)."""
        return self._fill("standard_normal", tail, last)

    # --------------------------------------------------------------- distributions
    def normal(self, loc: ArrayLike = 0.0, scale: ArrayLike = 1.0, *tail: int) -> FloatArray:
        """Normal draws ``loc + scale * z`` shaped ``[n, *tail]``."""
        z = self.standard_normal(*tail)
        return self._param(loc, tail) + self._param(scale, tail) * z

    def uniform(self, low: ArrayLike = 0.0, high: ArrayLike = 1.0, *tail: int) -> FloatArray:
        """Uniform draws on ``[low, high)`` shaped ``[n, *tail]``."""
        u = self.random(*tail)
        lo = self._param(low, tail)
        return lo + (self._param(high, tail) - lo) * u

    def triangular(
        self, left: ArrayLike, mode: ArrayLike, right: ArrayLike, *tail: int
    ) -> FloatArray:
        """Triangular draws (by inverse CDF) shaped ``[n, *tail]``.

        A degenerate triangle (``left == right``) returns ``left``.
        """
        u = self.random(*tail)
        a = self._param(left, tail)
        c = self._param(mode, tail)
        b = self._param(right, tail)
        width = b - a
        with np.errstate(divide="ignore", invalid="ignore"):
            cut = np.where(width > 0, (c - a) / np.where(width > 0, width, 1.0), 0.5)
            lower = a + np.sqrt(np.clip(u * width * (c - a), 0.0, None))
            upper = b - np.sqrt(np.clip((1.0 - u) * width * (b - c), 0.0, None))
        out = np.where(u < cut, lower, upper)
        return np.where(width > 0, out, a + 0.0 * u)

    def bernoulli(self, p: ArrayLike, *tail: int) -> NDArray[np.bool_]:
        """Boolean draws, True with probability ``p``, shaped ``[n, *tail]``."""
        return self.random(*tail) < self._param(p, tail)

    def binomial(self, trials: ArrayLike, p: ArrayLike, *tail: int) -> NDArray[np.int64]:
        """Binomial counts (by inverse CDF at one uniform per cell) shaped ``[n, *tail]``."""
        from scipy import stats

        u = self.random(*tail)
        k = stats.binom.ppf(u, self._param(trials, tail), self._param(p, tail))
        return np.asarray(np.nan_to_num(k, nan=0.0), dtype=np.float64).astype(np.int64)

    def poisson(self, lam: ArrayLike, *tail: int) -> NDArray[np.int64]:
        """Poisson counts (by inverse CDF at one uniform per cell) shaped ``[n, *tail]``."""
        from scipy import stats

        u = self.random(*tail)
        lam_a = self._param(lam, tail)
        k = stats.poisson.ppf(u, np.where(lam_a > 0, lam_a, 1.0))
        k = np.where(lam_a > 0, k, 0.0)
        return np.asarray(k, dtype=np.float64).astype(np.int64)


class StackedRNG(WorldRNG):
    """One stream for several states' worlds laid end to end (the stacked engine).

    State ``s`` occupies rows ``[s * n_each, (s + 1) * n_each)`` and draws what
    ``WorldRNG(seeds[s], key, start, n_each)`` draws, so each state's rows hold exactly
    the numbers of a run of that state alone.

    Parameters
    ----------
    seeds : sequence of int
        One seed per state.
    key, start :
        As for :class:`WorldRNG` (shared by every state).
    n_each : int
        Worlds per state.
    """

    def __init__(self, seeds: Sequence[int], key: Sequence[int], start: int, n_each: int) -> None:
        self._parts = [WorldRNG(s, key, start, n_each) for s in seeds]
        first = self._parts[0]
        self.seed, self.key, self.start = first.seed, first.key, first.start
        self.seeds = tuple(int(s) for s in seeds)
        self.n_each = int(n_each)
        self.n = self.n_each * len(self._parts)

    def __repr__(self) -> str:
        return (
            f"StackedRNG(seeds={self.seeds}, key={self.key}, start={self.start}, "
            f"n_each={self.n_each})"
        )

    def substream(self, *extra_key: int | str) -> StackedRNG:
        """An independent stream for the same states and worlds (see :meth:`WorldRNG.substream`)."""
        return StackedRNG(self.seeds, (*self.key, *name_key(*extra_key)), self.start, self.n_each)

    def _block_spans(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Every state's blocks' spans in turn, in this stream's rows."""
        spans = [part._block_spans() for part in self._parts]
        first = np.concatenate([f + s * self.n_each for s, (f, _) in enumerate(spans)])
        return first, np.concatenate([c for _, c in spans])

    def _drawn_once(self, method: str, last: bool) -> bool:
        """Every state's stream is drawn once (:meth:`WorldRNG._drawn_once`): one compiled
        call for all of them."""
        return all(part._drawn_once(method, last) for part in self._parts)

    def _fill(self, method: str, tail: tuple[int, ...], last: bool = False) -> FloatArray:
        out = np.empty((self.n, *tail))
        if self._drawn_once(method, last):
            per_row = int(np.prod(tail, dtype=np.int64))
            native_draws.uniforms_world_major(self.initial_states(), *self._block_spans(),
                                              _as_2d(out, self.n, per_row))
            return out
        scratch: dict[tuple[int, ...], FloatArray] = {}
        for s, part in enumerate(self._parts):
            part._fill_into(method, out[s * self.n_each:(s + 1) * self.n_each], scratch, last)
        return out

    def fill_step_major(self, method: str, out: FloatArray, last: bool = False) -> None:
        """Each state's numbers into its worlds' columns (:meth:`WorldRNG.fill_step_major`)."""
        if self._drawn_once(method, last):
            per_row = int(np.prod(out.shape[:-1], dtype=np.int64))
            native_draws.uniforms_step_major(self.initial_states(), *self._block_spans(),
                                             _as_2d(out, per_row, self.n))
            return
        for s, part in enumerate(self._parts):
            part.fill_step_major(method, out[..., s * self.n_each:(s + 1) * self.n_each], last)

    def initial_states(self) -> NDArray[np.uint64]:
        """Every state's block states in turn (:meth:`WorldRNG.initial_states`)."""
        return np.concatenate([part.initial_states() for part in self._parts])
