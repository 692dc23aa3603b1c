"""The engine's world state: every array that persists from one step to the next.

:func:`initial_state` builds it for the worlds of a layout (the state of mid-2001 in every
world); the step functions of :mod:`detente.sim.engine` read and update it, one mechanism
each (docs/model.md, "State"). :func:`draw_step_numbers` draws the random numbers of every
step up front, from the streams the engine has always used, so any chunking of whole blocks
gives the same worlds (docs/contracts.md).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from detente.scenario.memo import Lru
from detente.sim.system import System

if TYPE_CHECKING:
    from detente.sim.engine import Layout, Plans

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: Start step of an instrument that is not pending (never starts).
NEVER = np.iinfo(np.int64).max // 4


@dataclass(frozen=True, eq=False)
class StreamUniforms:
    """A stream's uniforms ``[n, T, K]``, not drawn: computed where a kernel reads one.

    The delays use a few of their numbers (a step's delay only where it is approved), so
    the kernel computes those from the blocks' seeded states
    (``detente/sim/native/pcg64.pxd``): the same numbers as ``random(T, K)`` of the stream,
    without drawing and storing the rest (two thirds of a step's numbers).
    """

    layout: Layout
    names: tuple[str, ...]  # the stream (:meth:`~detente.sim.engine.Layout.stream`)
    states: NDArray[np.uint64]  # [blocks, 4] the blocks' seeded PCG64 states, state by state
    steps: int  # T
    width: int  # K (at least 1)

    @classmethod
    def of(cls, layout: Layout, names: tuple[str, ...], steps: int, width: int) -> StreamUniforms:
        """The uniforms of stream ``names`` for the worlds of ``layout``."""
        return cls(layout, names, layout.stream(*names).initial_states(), steps, width)

    def values(self) -> FloatArray:
        """All of them, drawn: ``[n, T, K]`` (for checks; the engine never draws them)."""
        return self.layout.stream(*self.names).random(self.steps, self.width)


@dataclass(frozen=True, eq=False)
class StepDraws:
    """The random numbers of every step, drawn once per run: ``[n, T, ...]`` each.

    Each comes from its own :class:`~detente.sim.rng.WorldRNG` stream (the name in the
    comment), so the numbers of a world do not depend on the other draws or the chunking.
    The delays' are computed where they are used (:class:`StreamUniforms`).
    """

    delay_f: StreamUniforms  # sim/delay-us [n, T, K_f]: the focal side's start delays (section 2)
    delay_o: StreamUniforms  # sim/delay-iran [n, T, K_o]
    perception_f: FloatArray  # sim/perception-us [n, T]: the focal side's perception noise (3)
    perception_o: FloatArray  # sim/perception-iran [n, T]
    support: FloatArray  # sim/support [n, T]: public reform support noise (4)
    backlash: FloatArray  # sim/backlash [n, T]: backlash events (4)
    shocks: FloatArray  # sim/shocks [n, T, S]: exogenous shocks (5)
    settlement: FloatArray  # sim/settlement [n, T]: settlement breakthroughs (5)
    congress: FloatArray  # sim/congress [n, T, 2]: veto override, retreat (4c)


def draw_step_numbers(system: System, layout: Layout) -> StepDraws:
    """Draw every step's random numbers for the worlds of ``layout`` (full horizon).

    Each stream is drawn once (``last``: a block used in part draws only its rows kept).
    The draws a step reads one column of (all but the shocks', which are read once per
    run) are laid out step-major (:func:`step_major`).
    """
    sf, so = system.focal, system.internal
    n_t = system.horizon
    stream = layout.stream
    return StepDraws(
        delay_f=StreamUniforms.of(layout, ("sim", "delay-us"), n_t, max(sf.n_instruments, 1)),
        delay_o=StreamUniforms.of(layout, ("sim", "delay-iran"), n_t,
                                  max(so.n_instruments, 1)),
        perception_f=step_major(layout, ("sim", "perception-us"), "standard_normal", n_t),
        perception_o=step_major(layout, ("sim", "perception-iran"), "standard_normal", n_t),
        support=step_major(layout, ("sim", "support"), "standard_normal", n_t),
        backlash=step_major(layout, ("sim", "backlash"), "random", n_t),
        shocks=stream("sim", "shocks").random(n_t, max(system.shock_rate.shape[-1], 1),
                                             last=True),
        settlement=step_major(layout, ("sim", "settlement"), "random", n_t),
        congress=step_major(layout, ("sim", "congress"), "random", n_t, 2),
    )


#: At most this many bytes of drawn numbers :func:`shared_step_numbers` keeps (a stacked
#: batch of 4,000 rows of the flagship draws about 16 MB).
SHARED_DRAWS_BYTES = 48 * 2**20


def _arrays_of(draws: StepDraws) -> list[NDArray[Any]]:
    """The arrays a draw holds (a stream computed where it is read: its seeded states)."""
    out = []
    for f in fields(draws):
        a = getattr(draws, f.name)
        out.append(a.states if isinstance(a, StreamUniforms) else a)
    return out


def _nbytes(draws: StepDraws) -> int:
    return sum(a.nbytes for a in _arrays_of(draws))


def _read_only(draws: StepDraws) -> StepDraws:
    for a in _arrays_of(draws):
        a.flags.writeable = False
    return draws


_shared_draws: Lru[tuple[object, ...], StepDraws] = Lru(SHARED_DRAWS_BYTES, _nbytes)


def shared_step_numbers(system: System, layout: Layout) -> StepDraws:
    """:func:`draw_step_numbers`, drawn once for runs that draw the same numbers.

    A run's numbers depend only on its layout (seeds, first world, worlds per state), the
    horizon and the widths of the streams (instruments of each side, shock kinds), not on
    the strategy: the strategies compared on the same states and seeds (``compare``,
    ``run``, the stacked calls, one per strategy) see the same numbers (common random
    numbers). The last draws, up to :data:`SHARED_DRAWS_BYTES`, are kept and handed out
    read-only (a kernel that wrote into them would fail, not change another run's numbers).
    """
    key = (layout.seeds, layout.start, layout.n_each, system.horizon,
           system.focal.n_instruments, system.internal.n_instruments,
           system.shock_rate.shape[-1])
    return _shared_draws.get(key, lambda: _read_only(draw_step_numbers(system, layout)))


def step_major(
    layout: Layout, names: tuple[str, ...], method: str, *tail: int
) -> FloatArray:
    """Stream ``names``' ``method(*tail, last=True)`` numbers (``[n, *tail]``, the worlds of
    ``layout``), laid out so that one step's numbers for all worlds (``draws[:, t, ...]``)
    are contiguous: the same shape and values, drawn straight into that layout
    (:meth:`~detente.sim.rng.WorldRNG.fill_step_major`).

    A step reads one column of each; world-major, consecutive worlds' numbers of a step lie
    a row of ``T`` numbers apart, and the kernels waited on memory for each.
    """
    out = np.empty((*tail, layout.n))
    layout.stream(*names).fill_step_major(method, out, last=True)
    return np.moveaxis(out, -1, 0)


@dataclass(eq=False)
class WorldState:
    """Everything that persists between steps, one row per world (docs/model.md, "State").

    ``_f`` is the focal side (the U.S.), ``_o`` the internal side (Iran). The step functions
    of :mod:`detente.sim.engine` update these arrays, some in place: a field may be rebound
    to a new array or written into, never shared with another field.
    """

    # issues and instruments (sections 1-3)
    level: FloatArray  # [n, I] issue levels
    transient: FloatArray  # [n, I] the part of the levels due to shocks and repression (fades)
    f_active: BoolArray  # [n, K_f] instruments in force
    o_active: BoolArray  # [n, K_o]
    f_start: IntArray  # [n, K_f] start step of approved instruments, NEVER if none pending
    o_start: IntArray  # [n, K_o]
    f_since: IntArray  # [n, K_f] step each focal instrument in force started (-1: never)
    f_by_leg: BoolArray  # [n, K_f] the focal legislature's own acts (4c)
    killed: BoolArray  # [n, K_f] bills a sustained veto killed this congressional term (4c)
    hostile_f: FloatArray  # [n] the focal hostile share in force (section 1; the last step's)
    # clout and control (sections 4, 4b, 5)
    f_clout: FloatArray  # [n, A_f]
    o_clout: FloatArray  # [n, A_o]
    o_reform: BoolArray  # [n, A_o] actors taking the reformist camp's positions
    o_control: BoolArray  # [n, E] reformists hold Iran's elected institution e
    third_clout: FloatArray  # [n, X] third parties of the environment (section 5)
    # perception and beliefs (section 3)
    log_odds_f: FloatArray  # [n] the focal side's log-odds that the other reciprocates
    log_odds_o: FloatArray  # [n]
    # the histories are [n, T] views of step-major [T, n] arrays: a step writes and the
    # strategies read one contiguous column (world-major, each was a strided pass)
    own_f: FloatArray  # [n, T] the focal side's played level per step
    perceived_f: FloatArray  # [n, T] the internal side's level as the focal side saw it
    own_o: FloatArray  # [n, T]
    perceived_o: FloatArray  # [n, T]
    smooth_own_f: FloatArray  # [n] exponentially smoothed own played level
    smooth_own_o: FloatArray  # [n]
    smooth_perceived_o: FloatArray  # [n] Iran's smoothed perception of the U.S.
    # Iranian domestic politics (section 4)
    support: FloatArray  # [n] public reform support S
    backing: FloatArray  # [n] visible U.S. backing of the reformers V (the last step's)
    vetting: FloatArray  # [n] the vetting state v
    disillusion: FloatArray  # [n] reformist disillusion d added since the start
    share0: FloatArray  # [n] the reformists' clout share at the start (read only)
    reform0: FloatArray | None  # [n] the reform issue's starting level, None without one
    # the environment (section 5)
    allied: FloatArray  # [n] allied support A
    threat: FloatArray  # [n] regional threat to the internal side
    settlement: FloatArray  # [n] regional settlement
    # U.S. costs and elections (sections 4b, 4c, 5)
    cost: FloatArray  # [n] U.S. domestic cost C
    unreciprocated: FloatArray  # [n] unreciprocated concessions U
    balance: FloatArray  # [n] Congress's hawk/engager balance
    f_factor: FloatArray | None  # [n, A_f] clout multipliers once the balance has moved
    f_pos: FloatArray  # the focal ideal points: static [A, I], or per world [I, n, A]
    reciprocated_since: FloatArray  # [n] Iran's conciliatory gesture since the last election
    hostile_since: FloatArray  # [n] Iran's hostile gesture and menacing shocks since then
    counted_this_term: BoolArray  # [n, K_o] Iranian steps already counted this term
    # outcomes
    opened: BoolArray  # [n] the dialogue has reached its threshold (rapprochement)
    f_offered: BoolArray  # [n] a focal conciliatory step has been approved
    first_reciprocation: IntArray  # [n] step of Iran's first answer (horizon + 1: none)
    backlash_events: IntArray  # [n]
    excess: FloatArray  # [n] the largest veto excess of an approved move


def initial_state(system: System, plans: Plans, layout: Layout) -> WorldState:
    """The state of every world of ``layout`` at the start (docs/model.md, "State")."""
    sy, p = system, system.params
    sf, so = sy.focal, sy.internal
    n = layout.n
    n_t, n_i = sy.horizon, len(sy.issues)
    nl = p.neutral_level
    r = sy.roles
    level = np.broadcast_to(sy.status_quo, (n, n_i)).copy()
    o_clout = np.broadcast_to(so.clout, (n, so.n_actors)).copy()
    o_reform = np.broadcast_to(so.reform, (n, so.n_actors)).copy()
    f_pos0 = plans.f_pos0
    return WorldState(
        level=level,
        transient=np.zeros((n, n_i)),
        f_active=np.zeros((n, sf.n_instruments), dtype=bool),
        o_active=np.zeros((n, so.n_instruments), dtype=bool),
        f_start=np.full((n, sf.n_instruments), NEVER, dtype=np.int64),
        o_start=np.full((n, so.n_instruments), NEVER, dtype=np.int64),
        f_since=np.full((n, sf.n_instruments), -1, dtype=np.int64),
        f_by_leg=np.zeros((n, sf.n_instruments), dtype=bool),
        killed=np.zeros((n, sf.n_instruments), dtype=bool),
        hostile_f=np.zeros(n),
        f_clout=np.broadcast_to(sf.clout, (n, sf.n_actors)).copy(),
        o_clout=o_clout,
        o_reform=o_reform,
        o_control=np.broadcast_to(so.reform[sy.elected], (n, sy.elected.size)).copy(),
        third_clout=np.broadcast_to(sy.environment.clout, (n, sy.environment.n_actors)).copy(),
        log_odds_f=np.full(n, plans.prior_f),
        log_odds_o=np.full(n, plans.prior_o),
        own_f=np.zeros((n_t, n)).T,
        perceived_f=np.zeros((n_t, n)).T,
        own_o=np.zeros((n_t, n)).T,
        perceived_o=np.zeros((n_t, n)).T,
        smooth_own_f=np.full(n, nl),
        smooth_own_o=np.full(n, nl),
        smooth_perceived_o=np.full(n, nl),
        support=np.full(n, p.public_reform_support),
        backing=np.zeros(n),
        vetting=np.zeros(n) + p.vetting_base,
        disillusion=np.zeros(n),
        share0=(o_clout * o_reform).sum(axis=1) / np.where(o_clout.sum(axis=1) > 0,
                                                            o_clout.sum(axis=1), 1),
        reform0=level[:, r["reform"]].copy() if r["reform"] >= 0 else None,
        allied=np.full(n, p.allied_support_initial),
        threat=np.full(n, p.threat_initial),
        settlement=np.zeros(n),  # no regional (Arab-Israeli) settlement in the start year
        cost=np.zeros(n),
        unreciprocated=np.zeros(n),
        balance=np.zeros(n),
        f_factor=None,
        # static [A, I] until the balance moves, per world [I, n, A] after (from the start
        # if it differs by state)
        f_pos=f_pos0 if f_pos0.ndim == 2 else np.ascontiguousarray(f_pos0.transpose(2, 0, 1)),
        reciprocated_since=np.zeros(n),
        hostile_since=np.zeros(n),
        counted_this_term=np.zeros((n, so.n_instruments), dtype=bool),
        opened=np.zeros(n, dtype=bool),
        f_offered=np.zeros(n, dtype=bool),
        first_reciprocation=np.full(n, n_t + 1, dtype=np.int64),
        backlash_events=np.zeros(n, dtype=np.int64),
        excess=np.full(n, -np.inf),
    )


__all__ = ["NEVER", "StepDraws", "StreamUniforms", "WorldState", "draw_step_numbers",
           "initial_state", "shared_step_numbers"]
