"""The two-level simulation engine: one chunk of Monte Carlo worlds, stepped quarter by quarter.

Each step, in every world at once (arrays shaped ``[worlds, ...]``):

1. **Choice.** The focal government's strategy picks a cooperation level from its own played
   and *perceived* histories and its belief; the level becomes a ladder of instruments
   (:func:`ladder`). The internal side (Iran) has no fixed rule: every instrument it could take
   is put to its internal bargain, with actors' positions shifted by what they perceive.
2. **Ratification** (Putnam 1988; Tsebelis 2002). A proposed instrument needs a weighted
   majority of its country's actors (clout x salience; the executive's own proposals pass a
   little below a majority, ``agenda_power``), the consent of every veto player on the issues it
   touches (no loss beyond tolerance against the status quo including moves already agreed),
   of every approval holder, and - for conciliatory steps - enough trust
   (``belief >= threshold * gesture/max gesture``). Approved instruments start after a delay
   drawn from their triangular delay distribution (bureaucratic foot-dragging).
3. **Implementation and perception.** Started instruments move issue levels (clipped to the
   issue bounds). Each side's *posture* is what its instruments in force (and, partly, those
   announced) say; the other side perceives it through its own noisy, biased channel and updates
   a Bayesian belief that the other is a reciprocating type.
4. **Iranian domestic politics.** Public reform support drifts with demography, rises with
   visible gains from engagement, falls with nationalist rally under hostility and sanctions
   read as dictation; conservative backlash events arrive with a hazard that grows with the
   reformists' share of clout and with visible U.S. backing of the reformers; candidate
   vetting and reformist disillusion are states that close the system after backlash;
   faction clout follows support; elections convert support, net of vetting and of the
   turnout disillusion costs, into control of elected institutions
   (:mod:`detente.sim.mechanisms.closing`).
5. **The international environment, shocks and outcomes.** Exogenous shocks hit at their
   rates; the regional threat to the internal side, the regional settlement and allied
   alignment (eroded by friction with the focal side's line) move
   (:mod:`detente.sim.mechanisms.environment`); U.S. domestic cost and unreciprocated
   concessions are booked and the metrics recorded.

Each of these is a named step function over an explicit
:class:`~detente.sim.world_state.WorldState` (:func:`choose`, :func:`internal_positions`,
:func:`focal_proposals`, :func:`ratify_focal`, :func:`internal_bargain`,
:func:`congress_bills`, :func:`law_sunsets`, :func:`schedule_starts`, :func:`implement`,
:func:`played_levels`, :func:`perceive_and_learn`, :func:`public_support`, :func:`backlash`,
:func:`vetting_and_disillusion`, :func:`clout_drift`, :func:`internal_elections`,
:func:`shocks_and_events`, :func:`environment_step`, :func:`costs_and_reciprocity`,
:func:`us_elections`, :func:`rapprochement`, :func:`record_metrics`); :func:`run_layout`
calls them in that order (docs/model.md maps each to its section), section 4's five in one
compiled pass (:func:`domestic_politics`).

Every random number comes from :class:`~detente.sim.rng.WorldRNG` streams drawn up front for
the chunk, so a chunk of whole blocks of worlds reproduces the same worlds of a larger run.
The full equations and their sources are in ``docs/model.md``.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from detente.metrics import REGISTRY, metrics_for, step_metrics
from detente.sim.mechanisms import congress
from detente.sim.mechanisms.environment import (
    settlement_chance,
)
from detente.sim.mechanisms.iran_response import (
    IranDrivers,
    Saturation,
    iran_positions,
    position_parameters,
    positions_run,
    response_spans,
)
from detente.sim.native import NO_MASK, leaf, leaf_rows, mask
from detente.sim.native import congress as native_congress
from detente.sim.native import consent as native_consent
from detente.sim.native import domestic as native_domestic
from detente.sim.native import environment as native_env
from detente.sim.native import implementation as native_impl
from detente.sim.native import perception as native_perception
from detente.sim.native import positions as native_positions
from detente.sim.native import recording as native_recording
from detente.sim.native import votes as native_votes
from detente.sim.rng import BLOCK, StackedRNG, WorldRNG, name_key
from detente.sim.strategies import Strategy, View
from detente.sim.system import LegislativePlan, Side, System
from detente.sim.world_state import (
    NEVER,
    StepDraws,
    WorldState,
    initial_state,
    shared_step_numbers,
)

_T = TypeVar("_T")
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


#: Metrics recorded per world and step, in this order: the registry's step metrics
#: (:mod:`detente.metrics`, which the scenario schema reads without importing the engine).
METRICS: tuple[str, ...] = step_metrics()
#: The registry's issue-level metrics: metric id -> the ``ISSUE_ROLES`` key of its issue.
_ISSUE_LEVEL_METRICS: dict[str, str] = {
    m.id: m.issue_role for m in REGISTRY if m.rule == "step" and m.issue_role is not None
}


def reported_metrics(system: System) -> tuple[str, ...]:
    """The metrics of :data:`METRICS` that ``system`` supports, in that order.

    A metric tied to a role (``terror_support`` needs an issue with ``role: terror-support``,
    ``legislature_reform_majority`` an elected ``role: legislature`` institution of the internal
    side, ...; :attr:`detente.metrics.Metric.needs`) is left out for a scenario that lacks the
    role, so a case with no such issue or institution neither reports nor ranks it. Absent
    the role, the engine would record a constant 0 that reads as an outcome. The flagship
    supports all of them.
    """
    return tuple(m.id for m in metrics_for(system))


def _logit(p: FloatArray | float) -> FloatArray:
    q = _clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.asarray(np.log(q / (1 - q)))


def _expit(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _clip(x: Any, low: Any, high: Any, out: Any = None) -> Any:
    """``np.clip`` without its Python dispatch (the same numbers: max with ``low``, then min).

    The per-step arrays are small, so the wrapper's overhead is a good part of the cost.
    """
    return np.minimum(np.maximum(x, low, out=out), high, out=out)


@dataclass(frozen=True)
class Layout:
    """Where a run's worlds come from: ``len(seeds)`` states laid end to end.

    State ``s`` occupies rows ``[s * n_each, (s + 1) * n_each)`` and draws the random numbers
    of worlds ``[start, start + n_each)`` of seed ``seeds[s]``. A per-state run is the
    layout with one seed.
    """

    seeds: tuple[int, ...]
    start: int
    n_each: int

    @property
    def n(self) -> int:
        """Number of rows (worlds of all states)."""
        return self.n_each * len(self.seeds)

    @property
    def slices(self) -> list[slice]:
        """Each state's rows."""
        return [slice(s * self.n_each, (s + 1) * self.n_each) for s in range(len(self.seeds))]

    def stream(self, *names: str) -> WorldRNG:
        """The random stream ``names`` for every row (each state's from its own seed)."""
        key = name_key(*names)
        if len(self.seeds) == 1:
            return WorldRNG(self.seeds[0], key, self.start, self.n_each)
        return StackedRNG(self.seeds, key, self.start, self.n_each)


# Per-world leaves (the stacked engine, :mod:`detente.sim.stacked`): a number of the system
# that differs across the states of one run carries a leading axis of one row per world; a
# shared one keeps its own shape. The helpers below read either form.
def _col(x: Any) -> Any:
    """A per-world parameter ``[n]`` as a column ``[n, 1]``; a scalar as it is."""
    return x[:, None] if isinstance(x, np.ndarray) and x.ndim == 1 else x


def _rows(x: Any, nd: int) -> Any:
    """A leaf of ``nd`` dims shared by all worlds gets a leading axis of 1; per world, as is.

    C-contiguous (a copy only of a sliced leaf), as the compiled kernels read their arrays.
    """
    return np.ascontiguousarray(x[None] if x.ndim == nd else x)


def _dot(a: Any, b: Any, lay: Layout | None, nd: int = 1) -> Any:
    """``a @ b`` for ``b`` shared (``nd`` dims) or per world (one matrix per state).

    Per world, each state's rows are multiplied by that state's matrix: the same product,
    on the same rows, as a run of that state alone (so the same floating-point sums).
    """
    if b.ndim == nd:
        return a @ b
    assert lay is not None
    if a.ndim == 2 and nd in (1, 2):  # one batched matmul: the same BLAS call per state
        n_s, m = len(lay.seeds), lay.n_each
        mats = b[::m] if nd == 2 else b[::m, :, None]
        per_state = np.matmul(a.reshape(n_s, m, a.shape[1]), mats)
        return per_state.reshape(a.shape[0], *b.shape[2:])
    out = np.empty(a.shape[:1] + b.shape[2:])
    for sl in lay.slices:
        out[sl] = a[sl] @ b[sl.start]
    return out


def _dot_states(a: Any, b: Any, lay: Layout, states: IntArray) -> Any:
    """:func:`_dot` (``nd`` 1) of the rows of some states of ``lay`` only: ``a`` holds the
    rows of ``states`` (ascending), ``len(states) * lay.n_each`` of them, or every row.

    Each state's rows get that state's product, the same BLAS call on the same rows as
    :func:`_dot` of all the states (and as a run of the state alone) gives them.
    """
    if b.ndim == 1 or a.shape[0] == lay.n:
        return _dot(a, b, lay)
    m = lay.n_each
    mats = np.ascontiguousarray(b[::m][states])[:, :, None]
    return np.matmul(a.reshape(len(states), m, a.shape[1]), mats).reshape(a.shape[0])


_NO_LEVELS = np.zeros((0, 0))
_NO_GATE = np.zeros(0, dtype=np.uint8)  # :func:`voted` without the trust gate
_NO_BELIEF = np.zeros(0)
_NO_REL = np.zeros((0, 0))


def _ratio(num: Any, den: Any) -> Any:
    """``num / den`` where ``den > 0``, else 0 (``den`` a scalar or one per world)."""
    if np.ndim(den) == 0:
        return num / den if den > 0 else np.zeros(num.shape)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def ladder(side: Side, level: FloatArray, neutral: Any) -> BoolArray:
    """Instruments a cooperation level asks for, ``[n, K]``.

    Levels above ``neutral`` climb the conciliatory ladder (instruments sorted by gesture,
    entered when their cumulative gesture share is within ``(l - neutral) / (1 - neutral)``);
    levels below it take hostile instruments up to cumulative hostility share
    ``(neutral - l) / neutral``.
    """
    return native_congress.ladder_rows(
        np.asarray(level, dtype=np.float64), leaf(neutral),
        _rows(side.conc_rank, 1), _rows(side.host_rank, 1))


def posture(
    side: Side, active: BoolArray, pending: BoolArray, p: Any
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """A side's played level from its instruments in force (announced ones count partly).

    Returns
    -------
    level, conc, host : ndarray [n]
        ``level = neutral + (1 - neutral) * conc - neutral * host`` where ``conc`` (``host``)
        is the gesture-weighted share of conciliatory (hostile) instruments in force.
    """
    g = side.gesture
    gp, gn = np.clip(g, 0, None), np.clip(-g, 0, None)
    return _posture(active, pending, p, gp, gn, gp.sum(), gn.sum(), None)


def _posture(
    active: BoolArray, pending: BoolArray, p: Any, gp: Any, gn: Any, sp: Any, sn: Any,
    lay: Layout | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`posture` from the positive and negative gestures and their sums (per state)."""
    # a pending step is never in force: its weight is announce_weight (the products go to
    # BLAS, so they stay here; native_impl.posture_levels does the rest)
    w = active.astype(np.float64) + _col(p.announce_weight) * pending.astype(np.float64)
    level, conc, host = native_impl.posture_levels(
        _dot(w, gp, lay), _dot(w, gn, lay), leaf(sp), leaf(sn), leaf(p.neutral_level))
    return level, conc, host


@dataclass(frozen=True)
class VotePlan:
    """Static per-side quantities of :func:`voted`, computed once per chunk.

    Single-issue instruments use the median rule (an actor prefers a move ``d`` on one issue
    iff its ideal point lies beyond ``L + d/2``); multi-issue ones sum salience-weighted gains.
    """

    tol: NDArray[np.float32]  # [K] gains within this of zero are indifference
    sal_kt: NDArray[np.float32]  # [K, A] salience summed over each instrument's issues
    n_iss: IntArray  # [K] number of issues each instrument moves
    iss_pad: IntArray  # [K, J] issues per instrument, padded with its first issue
    usal_pad: NDArray[np.float32]  # [K, J, A] salience / issue range, zero where padded
    effects: FloatArray  # [K, I] the side's instrument effects (the moves voted on)


def vote_plan(side: Side, span: FloatArray) -> VotePlan:
    """Precompute the static index arrays and weights :func:`voted` needs for ``side``."""
    nz = side.effects != 0
    n_iss = nz.sum(axis=1)
    sal = side.salience
    n_j = max(int(n_iss.max(initial=0)), 1)
    iss_pad = np.zeros((side.n_instruments, n_j), dtype=np.int64)
    usal_pad = np.zeros((side.n_instruments, n_j, side.n_actors), dtype=np.float32)
    for k in range(side.n_instruments):
        ik = np.flatnonzero(nz[k])
        if ik.size:
            iss_pad[k] = ik[0]
            iss_pad[k, : ik.size] = ik
            usal_pad[k, : ik.size] = (sal[:, ik] / span[ik]).T
    return VotePlan(
        tol=np.array(
            [
                1e-9 * span[nz[k]].max() if n_iss[k] == 1 else 1e-7
                for k in range(side.n_instruments)
            ],
            dtype=np.float32,
        ),
        sal_kt=np.ascontiguousarray((sal @ nz.T.astype(np.float64)).astype(np.float32).T),
        n_iss=n_iss.astype(np.int64),
        iss_pad=iss_pad,
        usal_pad=usal_pad,
        effects=side.effects,
    )


def per_state_rows(x: Any, layout: Layout, nd: int) -> Any:
    """A leaf of ``nd`` dims as the compiled kernels read it at least memory: one row per state.

    A per-world leaf of a stacked run repeats its state's row for each of the state's
    worlds (:func:`detente.sim.stacked.stack_leaves`); a kernel given ``m`` rows for ``n``
    worlds reads row ``w * m // n`` (0 when shared, ``w`` per world, the world's state when
    one row per state), so the same numbers come from ``n / m`` times less memory.
    """
    rows = _rows(x, nd)
    if len(layout.seeds) > 1 and rows.shape[0] == layout.n:
        return np.ascontiguousarray(rows[:: layout.n_each])
    return rows


def per_state_param(x: Any, layout: Layout) -> NDArray[np.float64]:
    """A scalar parameter (a number, or one per world) as :func:`leaf` gives it, with one
    value per state of a stacked run instead of one per world (:func:`per_state_rows`)."""
    v = leaf(x)
    if len(layout.seeds) > 1 and v.shape[0] == layout.n:
        return np.ascontiguousarray(v[:: layout.n_each])
    return v


def per_state_vote_plan(plan: VotePlan, layout: Layout) -> VotePlan:
    """``plan`` with its per-world leaves as one row per state (:func:`per_state_rows`)."""
    return dataclasses.replace(
        plan,
        sal_kt=per_state_rows(plan.sal_kt, layout, 2),
        usal_pad=per_state_rows(plan.usal_pad, layout, 3),
        effects=per_state_rows(plan.effects, layout, 2),
    )



@dataclass(frozen=True)
class RatifyPlan:
    """Static per-instrument consent checks of :func:`ratify` for one side and exemption.

    Built once per chunk (:func:`ratify_plan`), so the per-step kernel only runs the checks
    that can bind: veto players with a stake in the issues the instrument touches, its
    non-exempt approval holders and third parties with a position on them. The checks
    (:func:`consent_layout`) are laid out flat for the compiled kernel
    (:func:`detente.sim.native.consent.ratify_worlds`): instrument ``k``'s checks are
    ``check_start[k]:check_start[k + 1]`` (those on one or two issues first), check ``c``'s
    (issue, actor) pairs ``pair_start[c]:pair_start[c + 1]``, in issue order.
    """

    check_start: IntArray  # [K + 1]
    pair_start: IntArray  # [C + 1]
    issue: IntArray  # [P] issue of each (check, issue) pair
    holder: IntArray  # [P] the checking actor, -1 for a third party
    stake: FloatArray  # [P] 1.0 where the actor has a stake in the issue, else 0.0
    veto: NDArray[np.uint8]  # [C] 1 for a veto player's check (its margin is the excess)
    tol: FloatArray  # [C] tolerance
    limit: FloatArray  # [C] tolerance + 1e-9
    ext_x: FloatArray  # [P] a third party's ideal point (0 on an actor's pair)
    rel: FloatArray  # |gesture| / max |gesture|


def ratify_plan(
    side: Side, stake: BoolArray, tolerance_default: float, exempt: BoolArray | None = None
) -> RatifyPlan:
    """Precompute the consent checks of :func:`ratify` (same arguments).

    A plan is kept for the next call with the same numbers (each chunk of a run asks for
    its side's again: :func:`chunk_plans`); it is read only."""
    if exempt is None:
        exempt = np.zeros(side.n_actors, dtype=bool)
    key = tuple((a.shape, a.dtype.str, a.tobytes()) for a in (
        side.effects, side.veto_holder, side.veto_issues, side.veto_tol, side.approvals,
        side.approval_tol, side.ext_approvals, side.ext_position, side.gesture,
        np.asarray(stake), np.asarray(exempt), np.asarray(tolerance_default)))
    plan = _RATIFY_PLANS.get(key)
    if plan is None:
        if len(_RATIFY_PLANS) >= 64:  # (a few sides per process; the oldest goes)
            del _RATIFY_PLANS[next(iter(_RATIFY_PLANS))]
        plan = _RATIFY_PLANS[key] = _ratify_plan(side, stake, tolerance_default, exempt)
    return plan


_RATIFY_PLANS: dict[tuple[Any, ...], RatifyPlan] = {}


def _ratify_plan(
    side: Side, stake: BoolArray, tolerance_default: float, exempt: BoolArray
) -> RatifyPlan:
    """:func:`ratify_plan`, computed: the checks' layout (:func:`consent_layout`, kept for
    sides of the same structure) with this side's tolerances and positions gathered in."""
    lay = consent_layout(side, stake, exempt)
    tolerances = np.concatenate([
        np.asarray(side.veto_tol, dtype=np.float64).ravel(),
        np.asarray(side.approval_tol, dtype=np.float64).ravel(),
        [float(tolerance_default)],
    ])
    tol = tolerances[lay.tol_source]
    ext_x = np.zeros(lay.issue.size)
    third = lay.ext_row >= 0
    if third.any():
        ext_x[third] = np.asarray(side.ext_position, dtype=np.float64)[
            lay.ext_row[third], lay.issue[third]]
    gmax = np.abs(side.gesture).max() if side.n_instruments else 1.0
    return RatifyPlan(
        check_start=lay.check_start,
        pair_start=lay.pair_start,
        issue=lay.issue,
        holder=lay.holder,
        stake=lay.stake,
        veto=lay.veto,
        tol=tol,
        limit=tol + 1e-9,
        ext_x=ext_x,
        rel=np.abs(side.gesture) / (gmax if gmax > 0 else 1.0),
    )


@dataclass(frozen=True)
class ConsentLayout:
    """Which consent checks a side's instruments have, laid out as :class:`RatifyPlan`, and
    where each check's numbers come from (so states that differ only in numbers share it).

    ``tol_source[c]`` indexes ``[*veto_tol, *approval_tol, tolerance_default]``;
    ``ext_row[p]`` is the third party whose position pair ``p`` reads (-1: an actor's pair).
    """

    check_start: IntArray
    pair_start: IntArray
    issue: IntArray
    holder: IntArray
    stake: FloatArray
    veto: NDArray[np.uint8]
    tol_source: IntArray
    ext_row: IntArray


def consent_layout(side: Side, stake: BoolArray, exempt: BoolArray) -> ConsentLayout:
    """The consent checks of each of ``side``'s instruments (docs/model.md 2, ratification).

    A veto player checks the issues of its veto the instrument touches, unless exempt; each
    non-exempt approval holder of the instrument checks every issue it touches; each
    outside approver checks the touched issues it has a position on. An instrument's checks
    on one or two issues come first (the kernel's short path). Kept per structure (the
    touched issues, holders, approvals, stakes, exemptions and which positions are set).
    """
    touched = np.asarray(side.effects) != 0
    has_position = ~np.isnan(np.asarray(side.ext_position, dtype=np.float64))
    key = tuple((a.shape, a.dtype.str, a.tobytes()) for a in (
        touched, np.asarray(side.veto_holder), np.asarray(side.veto_issues),
        np.asarray(side.approvals), np.asarray(side.ext_approvals), has_position,
        np.asarray(stake), np.asarray(exempt)))
    found = _CONSENT_LAYOUTS.get(key)
    if found is None:
        if len(_CONSENT_LAYOUTS) >= 64:  # (a few structures per process; the oldest goes)
            del _CONSENT_LAYOUTS[next(iter(_CONSENT_LAYOUTS))]
        found = _CONSENT_LAYOUTS[key] = _consent_layout(side, touched, has_position, stake,
                                                        exempt)
    return found


_CONSENT_LAYOUTS: dict[tuple[Any, ...], ConsentLayout] = {}


def _consent_layout(
    side: Side, touched_all: BoolArray, has_position: BoolArray, stake: BoolArray,
    exempt: BoolArray,
) -> ConsentLayout:
    n_veto = side.veto_holder.size
    default = n_veto + np.asarray(side.approval_tol).size  # tolerance_default's index
    check_start, laid = [0], []  # per check: (holder, issues, stake, tol index, ext row, veto)
    for k in range(side.n_instruments):
        touched = touched_all[k]
        idx = np.flatnonzero(touched)
        checks = []
        for v in range(n_veto):
            mask = side.veto_issues[v] & touched
            h = int(side.veto_holder[v])
            if mask.any() and not exempt[h]:
                checks.append((h, np.flatnonzero(mask), stake[h][mask], v, -1, True))
        checks += [  # a step that moves no issue costs no approval holder anything
            (int(a), idx, stake[a][touched], n_veto + int(a), -1, False)
            for a in np.flatnonzero(side.approvals[k] & ~exempt)
            if idx.size
        ]
        if side.ext_approvals.size:
            for e in np.flatnonzero(side.ext_approvals[k]):
                has = touched & has_position[e]
                if has.any():
                    checks.append((-1, np.flatnonzero(has), np.ones(int(has.sum()), dtype=bool),
                                   default, int(e), False))
        laid += [c for c in checks if c[1].size <= 2] + [c for c in checks if c[1].size > 2]
        check_start.append(len(laid))
    sizes = [c[1].size for c in laid]
    return ConsentLayout(
        check_start=np.array(check_start, dtype=np.int64),
        pair_start=np.cumsum([0, *sizes], dtype=np.int64),
        issue=np.array([i for c in laid for i in c[1]], dtype=np.int64),
        holder=np.array([c[0] for c in laid for _ in c[1]], dtype=np.int64),
        stake=np.array([1.0 if x else 0.0 for c in laid for x in c[2]], dtype=np.float64),
        veto=np.array([c[5] for c in laid], dtype=np.uint8),
        tol_source=np.array([c[3] for c in laid], dtype=np.int64),
        ext_row=np.array([c[4] for c in laid for _ in c[1]], dtype=np.int64),
    )


def ratify(
    side: Side,
    cand: BoolArray,
    prospective: FloatArray,
    position: FloatArray | NDArray[np.float32],
    stake: BoolArray,
    belief: FloatArray,
    threshold: Any,
    gate: BoolArray,
    sign: float,
    low: FloatArray,
    high: FloatArray,
    tolerance_default: float,
    exempt: BoolArray | None = None,
    plan: RatifyPlan | None = None,
    rows: Callable[[Any, int], Any] = _rows,
) -> tuple[BoolArray, FloatArray]:
    """Sequential veto and approval check (Tsebelis's win-set with tolerance).

    Candidates are taken in ladder order; each is checked against the *prospective* level (the
    status quo plus moves already agreed this step), so several small moves cannot together
    hurt a veto player beyond its tolerance within one step.

    ``exempt`` marks actors whose vetoes and approvals do not bind here: subordinate
    bureaucracies (always) and, for the focal side's own proposals, the executive that made
    them (a proposer does not veto its own proposal). ``plan`` (:func:`ratify_plan` of the
    same side, stake, tolerance and exemption) saves rebuilding the checks on every call.

    Per-world leaves (:mod:`detente.sim.stacked`): ``side.effects``, ``side.order``,
    ``threshold`` and the plan's tolerances may carry one row per world; each world then
    takes its candidates in its own ladder order. ``rows(leaf, nd)`` lays out those of the
    side and the plan for the kernel (the engine's :meth:`StepContext.rows`: one row per
    state; by default as they are).

    The loops over worlds, candidates and checks are compiled
    (:func:`detente.sim.native.consent.ratify_tabled`, the plan's arrays laid out once per
    plan by :func:`_consent_tables`): a check's loss is the sum over its
    issues of :func:`~detente.sim.domestic_bargain.veto_loss` at the actor's ideal point,
    times its stake; a move passes when every loss is within its tolerance (and the trust
    gate, where it applies); it then moves that world's prospective levels.

    Returns
    -------
    approved : ndarray [n, K] of bool
    excess : ndarray [n]
        The largest ``loss - tolerance`` among approved moves (<= 0 by construction).
    """
    if plan is None:
        plan = ratify_plan(side, stake, tolerance_default, exempt)
    pos = position if position.ndim == 3 else position.T[:, None, :]
    c = np.ascontiguousarray  # (a copy only of a transposed static position, [I, 1, A])
    laid = _consent_laid(side, plan, rows)
    approved, excess = native_consent.ratify_tabled(
        mask(cand), c(prospective, dtype=np.float64), c(pos), c(belief, dtype=np.float64),
        leaf(threshold), mask(gate), float(sign), _rows(np.asarray(low, dtype=np.float64), 1),
        _rows(np.asarray(high, dtype=np.float64), 1), _consent_tables(plan, laid),
    )
    return np.asarray(approved, dtype=bool), np.asarray(excess)


_PLAN_TABLES: dict[tuple[str, int], tuple[tuple[Any, ...], Any]] = {}


def _plan_tables(
    kind: str, plan: object, inputs: tuple[Any, ...], build: Callable[[], _T]
) -> _T:
    """A kernel's tables of ``plan`` (``build()``), kept while the plan lives and the same
    ``inputs`` (by identity) come: a chunk's many calls convert the plan's static arrays once,
    not once per call. ``kind`` names the kernel."""
    key = (kind, id(plan))
    hit = _PLAN_TABLES.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], inputs, strict=True)):
        return cast(_T, hit[1])
    tables = build()
    if hit is None:
        weakref.finalize(plan, _PLAN_TABLES.pop, key, None)
    _PLAN_TABLES[key] = (inputs, tables)
    return tables


def _consent_laid(
    side: Side, plan: RatifyPlan, rows: Callable[[Any, int], Any]
) -> tuple[Any, ...]:
    """The arrays of :class:`~detente.sim.native.consent.ConsentTables` for ``plan`` of
    ``side``, its leaves laid out by ``rows`` (:func:`ratify`'s)."""
    c = np.ascontiguousarray
    return (rows(side.effects, 2), rows(side.order, 1), c(plan.check_start),
            c(plan.pair_start), c(plan.issue), c(plan.holder), c(plan.stake), c(plan.veto),
            rows(plan.tol, 1), rows(plan.limit, 1), rows(plan.ext_x, 1), rows(plan.rel, 1))


def _consent_tables(plan: RatifyPlan, laid: tuple[Any, ...]) -> native_consent.ConsentTables:
    """The consent kernel's tables (:class:`~detente.sim.native.consent.ConsentTables`) of
    ``plan``'s arrays as ``laid`` out for it: the same tables while the same arrays come
    (a run's :meth:`StepContext.rows` keeps what it lays out), dropped with the plan."""
    return _plan_tables("consent", plan, laid, lambda: native_consent.ConsentTables(*laid))


_GIVEN, _NEW, _REVERSAL = 0, 1, 2  # the candidates of a pass (native_consent.Ratification)


@dataclass(frozen=True, eq=False)
class _RatifyConstants:
    """What :func:`ratify_focal` and :func:`internal_bargain` hand their kernel
    (:func:`detente.sim.native.consent.vote_and_ratify`) every step, as it reads it (once per
    run: ``ctx.once``): each pass's vote and consent tables, gates, thresholds and bounds."""

    focal: native_consent.Ratification | None  # None: a unitary focal side
    internal: native_consent.Ratification
    reversal: native_consent.Ratification | None  # None: no reversible step
    requires_o: bool  # some internal step requires another
    # the focal side's static ideal points [A, I] as the kernel reads them, [I, 1, A]
    # (kept with their array, by identity)
    f_pos: dict[int, tuple[Any, Any]]


def _issue_major(kept: dict[int, tuple[Any, Any]], position: Any) -> Any:
    """``position`` as the vote and consent kernels read it, issue-major ``[I, n or 1, A]``:
    as it is when per world, else ``[A, I]`` transposed once (``kept`` by identity)."""
    if position.ndim == 3:
        return np.ascontiguousarray(position)
    hit = kept.get(id(position))
    if hit is None or hit[0] is not position:
        kept.clear()  # (one kept: the focal side's, the same array until its balance moves)
        hit = kept[id(position)] = (position, np.ascontiguousarray(position.T[:, None, :]))
    return hit[1]


def _ratify_constants(ctx: StepContext) -> _RatifyConstants:
    """The run's :class:`_RatifyConstants`."""
    sy, p, pl = ctx.system, ctx.system.params, ctx.plans
    sf, so = sy.focal, sy.internal
    low, high = (_rows(np.asarray(x, dtype=np.float64), 1) for x in (sy.low, sy.high))
    no_gate = np.zeros(so.n_instruments, dtype=np.uint8)

    def consent(side: Side, plan: RatifyPlan) -> native_consent.ConsentTables:
        return native_consent.ConsentTables(*_consent_laid(side, plan, ctx.rows))

    focal = None
    if not ctx.focal_unitary:
        focal = native_consent.Ratification(
            _vote_tables(pl.vote_f), consent(sf, pl.ratify_f), 1.0,
            leaf(p.majority_threshold - p.agenda_power), sf.executive, mask(pl.f_gate),
            leaf(p.reciprocity_threshold_us), _rows(ctx.rows(pl.rel_f, 1), 1),
            mask(pl.f_gate), low, high, _GIVEN, _NO_GATE)
    o_consent = consent(so, pl.ratify_o)
    o_votes = _vote_tables(pl.vote_o)
    internal = native_consent.Ratification(
        o_votes, o_consent, 1.0, leaf(p.majority_threshold), -1, mask(pl.o_gate),
        leaf(p.reciprocity_threshold_iran), _rows(ctx.rows(pl.rel_o, 1), 1), mask(pl.o_gate),
        low, high, _NEW, _NO_GATE)
    reversal = None
    if so.reversible.any():
        reversal = native_consent.Ratification(
            o_votes, o_consent, -1.0, leaf(p.majority_threshold + p.revocation_margin), -1,
            _NO_GATE, leaf(0.0), _NO_REL, no_gate, low, high, _REVERSAL, mask(so.reversible))
    return _RatifyConstants(focal=focal, internal=internal, reversal=reversal,
                            requires_o=bool(so.requires.any()), f_pos={})


def sanctions_bite(allied: FloatArray, allied0: float, share: float) -> FloatArray:
    """How hard sanctions bite on the internal side, relative to the start (docs/model.md 5b).

    ``b(A) = (1 - θ + θ·A) / (1 - θ + θ·A0)`` with ``θ = allied_sanctions_share``: the part
    ``θ`` of the economic bite needs allies to join, so containment without allies (``A = 0``)
    costs Iran less than with them (``A = 1``). Normalised to 1 at the starting support
    ``A0``, because the scenario's positions and support are observed under the sanctions as
    they bit then.
    """
    return np.asarray(native_env.bite_rows(np.asarray(allied, dtype=np.float64),
                                           leaf(allied0), leaf(share)))


def election_verdict(
    reciprocated: FloatArray, unreciprocated: FloatArray, hostile: FloatArray, swing: float
) -> FloatArray:
    """The voters' verdict at a focal legislature election, in ``[-1, 1]`` (docs/model.md 4b).

    ``v = clip(swing·(G − U − H), -1, 1)``: ``G`` is the internal side's conciliatory gesture
    started since the last such election (reciprocation the public has seen), ``U`` the
    unreciprocated concessions outstanding (the naivety the administration is blamed for),
    ``H`` the internal side's hostile gesture started plus menacing shocks since then.
    Positive: the engagers gain; negative: the sanctions hawks gain. Compiled:
    ``_election_verdict`` of :mod:`detente.sim.native.domestic`.
    """
    return np.asarray(native_domestic.election_verdict(
        leaf(reciprocated), leaf(unreciprocated), leaf(hostile), leaf(swing)
    ))


def floor_position(
    base: FloatArray, hawk: FloatArray, engager: FloatArray, balance: FloatArray
) -> FloatArray:
    """The legislature floor majority's ideal points ``[n, I]`` at a hawk/engager balance.

    ``x = x0 + max(β, 0)·(x_engagers − x0) + max(−β, 0)·(x_hawks − x0)``: at ``β = 0`` the
    scenario's floor, at ``β = ±1`` the clout-weighted position of the engagers (hawks).
    """
    return native_congress.floor_rows(
        _rows(np.asarray(base, dtype=np.float64), 1), _rows(np.asarray(hawk, dtype=np.float64), 1),
        _rows(np.asarray(engager, dtype=np.float64), 1), np.asarray(balance, dtype=np.float64))


def balance_clout(balance: FloatArray, hawk: BoolArray, engager: BoolArray) -> FloatArray:
    """Clout multipliers ``[n, A]``: engagers ``1 + β``, hawks ``1 − β``, others 1.

    Compiled: ``_balance_clout`` of :mod:`detente.sim.native.domestic`.
    """
    return np.asarray(native_domestic.balance_clout(
        leaf(balance), np.asarray(hawk, dtype=np.bool_).view(np.uint8),
        np.asarray(engager, dtype=np.bool_).view(np.uint8),
    ))


@dataclass
class ChunkResult:
    """Trajectories of one chunk: ``metrics[name]`` is ``[n, T]`` (float32); per-world extras."""

    metrics: dict[str, NDArray[np.float32]]
    time_to_reciprocation: NDArray[np.int64]
    backlash_events: NDArray[np.int64]
    veto_excess: FloatArray
    active_focal: BoolArray
    active_internal: BoolArray
    in_force: BoolArray | None = None
    """``[n, T, K_focal + K_internal]``: instruments in force after each step (when recorded)."""
    levels: NDArray[np.float32] | None = None
    """``[n, T, I]``: issue levels at the end of each step (when recorded)."""


@dataclass(frozen=True)
class Plans:
    """What :func:`run_layout` derives from a system before stepping (one state's numbers).

    The stacked engine builds one per state and stacks them like the systems
    (:mod:`detente.sim.stacked`), so every derived number of a world is the one its own
    state gives, computed by the same code.
    """

    f_stake: BoolArray
    o_stake: BoolArray
    f_pos0: FloatArray  # [A, I] ideal points, NaN (no stake) read as the issue's low end
    o_pos32: NDArray[np.float32]
    alt_pos32: NDArray[np.float32]
    camp_span32: NDArray[np.float32]  # where Iran's camps respond (response_spans)
    dict_span32: NDArray[np.float32]
    vote_f: VotePlan
    vote_o: VotePlan
    ratify_f: RatifyPlan
    ratify_o: RatifyPlan
    f_exempt: BoolArray
    o_used: IntArray
    rel_f: FloatArray
    rel_o: FloatArray
    f_gate: BoolArray
    o_gate: BoolArray
    f_multi: FloatArray
    f_multi_sum: float
    gp_f: FloatArray  # positive gestures (conciliatory), negative ones, and their sums
    gn_f: FloatArray
    gp_f_sum: float
    gn_f_sum: float
    gp_o: FloatArray
    gn_o: FloatArray
    gp_o_sum: float
    gn_o_sum: float
    prior_f: float  # prior log-odds of each side's belief
    prior_o: float
    b_o0: float
    sanc0: float
    sanc_n0: float
    f_gest_pos: BoolArray  # the focal side's conciliatory instruments
    shock_menace: BoolArray  # shocks that raise a menace issue (terror support, WMD)
    event_menace: BoolArray  # scheduled events that do
    leg_tol: FloatArray  # [I] the focal legislature's veto tolerance per issue, NaN if none (4c)


def chunk_plans(system: System) -> Plans:
    """The static quantities :func:`run_layout` needs for ``system`` (one state).

    Computed once per system and kept while it lives (a system is not changed once
    compiled): the chunks of a run (:func:`run_chunk`) share them, and with them the kernels'
    tables of their plans (:func:`_plan_tables`).
    """
    return _plan_tables("chunk_plans", system, (), partial(_chunk_plans, system))


def _chunk_plans(system: System) -> Plans:
    """:func:`chunk_plans`, computed."""
    sy, p = system, system.params
    sf, so = sy.focal, sy.internal
    low, span = sy.low, sy.span
    f_stake, o_stake = ~np.isnan(sf.position), ~np.isnan(so.position)
    f_pos0 = np.where(f_stake, sf.position, low[None, :])
    o_pos0 = np.where(o_stake, so.position, low[None, :])
    alt_pos = np.where(np.isnan(sy.alt_position), low[None, :], sy.alt_position)
    r = sy.roles
    roles_bad = [r[x] for x in ("terror", "wmd") if r[x] >= 0]
    camp_span32, dict_span32 = response_spans(so.direction, span, r)
    f_exempt = sf.subordinate.copy()
    if sf.executive >= 0:
        f_exempt[sf.executive] = True
    f_multi = np.clip(sf.gesture, 0, None) * sf.multilateral
    gp_f, gn_f = np.clip(sf.gesture, 0, None), np.clip(-sf.gesture, 0, None)
    gp_o, gn_o = np.clip(so.gesture, 0, None), np.clip(-so.gesture, 0, None)
    prior_f, prior_o = _logit(p.prior_reciprocating_us), _logit(p.prior_reciprocating_iran)
    leg_tol = np.full(len(sy.issues), np.nan)  # NaN: not its domain (it holds no veto there)
    if sy.legislative is not None:  # its veto tolerance on each issue its vetoes cover
        for v in np.flatnonzero(sf.veto_holder == sy.legislative.floor).tolist():
            leg_tol = np.where(sf.veto_issues[v], np.fmin(leg_tol, sf.veto_tol[v]), leg_tol)
    sanc0 = sy.status_quo[r["sanctions"]] if r["sanctions"] >= 0 else 0.0
    sanc_n0 = (sanc0 - low[r["sanctions"]]) / span[r["sanctions"]] if r["sanctions"] >= 0 else 0.0
    return Plans(
        f_stake=f_stake,
        o_stake=o_stake,
        f_pos0=f_pos0,
        o_pos32=o_pos0.astype(np.float32),
        alt_pos32=alt_pos.astype(np.float32),
        camp_span32=camp_span32,
        dict_span32=dict_span32,
        vote_f=vote_plan(sf, span),
        vote_o=vote_plan(so, span),
        ratify_f=ratify_plan(sf, f_stake, p.approval_tolerance, f_exempt),
        ratify_o=ratify_plan(so, o_stake, p.approval_tolerance, so.subordinate),
        f_exempt=f_exempt,
        o_used=np.flatnonzero((so.effects != 0).any(axis=0)),
        rel_f=np.abs(sf.gesture) / max(float(np.abs(sf.gesture).max(initial=0.0)), 1e-12),
        rel_o=np.abs(so.gesture) / max(float(np.abs(so.gesture).max(initial=0.0)), 1e-12),
        f_gate=(sf.approvals & sf.legislature[None, :]).any(axis=1) & (sf.gesture > 0),
        o_gate=so.gesture > 0,
        f_multi=f_multi,
        f_multi_sum=float(f_multi.sum()),
        gp_f=gp_f,
        gn_f=gn_f,
        gp_f_sum=float(gp_f.sum()),
        gn_f_sum=float(gn_f.sum()),
        gp_o=gp_o,
        gn_o=gn_o,
        gp_o_sum=float(gp_o.sum()),
        gn_o_sum=float(gn_o.sum()),
        prior_f=float(prior_f),
        prior_o=float(prior_o),
        b_o0=float(_expit(np.asarray(prior_o))),
        sanc0=float(sanc0),
        sanc_n0=float(sanc_n0),
        f_gest_pos=sf.gesture > 0,
        shock_menace=np.asarray((sy.shock_effects[:, roles_bad] > 0).any(axis=1)),
        event_menace=np.asarray((sy.events.effects[:, roles_bad] > 0).any(axis=1))
        if sy.events is not None
        else np.zeros(0, dtype=bool),
        leg_tol=leg_tol,
    )


def run_chunk(
    system: System,
    focal_strategy: Strategy,
    seed: int,
    start: int,
    n: int,
    opponent: Strategy | None = None,
    focal_unitary: bool = False,
    record_state: bool = False,
) -> ChunkResult:
    """Simulate worlds ``[start, start + n)``.

    Parameters
    ----------
    system : System
        The compiled scenario (:func:`detente.sim.system.compile_system`).
    focal_strategy : Strategy
        The focal government's strategy (reset here).
    seed : int
    start : int
        First world; a multiple of :data:`detente.sim.rng.BLOCK`.
    n : int
        Number of worlds.
    opponent : Strategy, optional
        Replace the internal side's bargaining by a fixed strategy played by a *unitary* actor
        (no ratification): used for sanity checks and the IPD-like reductions.
    focal_unitary : bool
        Skip the focal side's ratification (a unitary government).
    record_state : bool
        Also keep, per step, which instruments are in force and every issue level
        (``ChunkResult.in_force``, ``ChunkResult.levels``; observations read them).
    """
    return run_layout(
        system, chunk_plans(system), focal_strategy, Layout((seed,), start, n),
        opponent=opponent, focal_unitary=focal_unitary, record_state=record_state,
    )


@dataclass(frozen=True, eq=False)
class StepContext:
    """What the step functions read and never change: one run's system, plans and layout.

    Built once per run (:func:`step_context`); the per-step state is a
    :class:`~detente.sim.world_state.WorldState`.
    """

    system: System
    plans: Plans
    layout: Layout
    legislature: LegislativePlan | None  # the focal legislature acting on its own (4c)
    floor_start_rows: FloatArray  # [m, I] its floor's starting ideal points (ctx.rows form)
    focal_unitary: bool  # the focal side ratifies nothing (a unitary government)
    menu_f: BoolArray  # [K_f] the focal strategy's menu
    # leaves the kernels read by row w * m // n (one row shared, per state or per world)
    status_quo_rows: FloatArray  # [m, I]
    demand_rows: FloatArray  # [m, I] Iran's stated conditions
    o_base_rows: FloatArray  # [m, A_o] Iran's actors' base clout
    shock_chance: FloatArray  # [1 or n, S] each shock's chance per step, 1 - exp(-rate dt)
    # functions of parameters the kernels take each step, once per run (one value or one
    # per state, :func:`per_state_param`)
    shock_fade: FloatArray  # 1 - exp(-shock_decay dt)
    settle_chance: FloatArray  # the settlement's chance per step, 1 - exp(-hazard dt)
    retreat_chance: FloatArray  # the retreat's chance per step (congress.retreat_chance)
    clout_pace: FloatArray  # the clout drift's 1 - exp(-clout_adjustment_rate dt)
    menace_issues: tuple[int, ...]  # the terror-support and WMD issues present
    event_steps: frozenset[int]  # steps with scheduled events (history replays)
    election_steps: frozenset[int]  # steps with an internal election
    focal_election_steps: frozenset[int]  # steps with a focal election (4b)
    # the leaves :meth:`rows` and :meth:`param` have laid out, by identity and form (each
    # kept with its leaf, so that no other object takes its id during the run)
    _kernel_rows: dict[tuple[int, int], tuple[Any, Any]] = dataclasses.field(
        default_factory=dict)
    # what :meth:`once` has built, by name
    _built: dict[str, Any] = dataclasses.field(default_factory=dict)

    def rows(self, x: Any, nd: int) -> Any:
        """Leaf ``x`` of the run (``nd`` dims when shared) as a kernel reading row
        ``w * m // n`` of ``m`` rows takes it: one row per state of a stacked run
        (:func:`per_state_rows`), laid out once per run and kept."""
        kept = self._kernel_rows.get((id(x), nd))
        if kept is not None and kept[0] is x:  # the step's usual case, without a closure
            return kept[1]
        return self._laid_out(x, nd, lambda: per_state_rows(x, self.layout, nd))

    def param(self, x: Any) -> NDArray[np.float64]:
        """A scalar parameter of the run (a number, or one per world) as :func:`leaf` gives
        it, with one value per state of a stacked run instead of one per world: for the
        kernels reading row ``w * m // n``, and for the functions of it computed each step
        (an ``exp`` of ``m`` values, not ``n``). Laid out once per run and kept."""
        kept = self._kernel_rows.get((id(x), -1))
        laid: NDArray[np.float64]
        if kept is not None and kept[0] is x:
            laid = kept[1]
        else:
            laid = self._laid_out(x, -1, lambda: per_state_param(x, self.layout))
        return laid

    def once(self, name: str, build: Callable[[], _T]) -> _T:
        """``build()`` the first time this run asks for ``name``, then the same object: the
        run's constants a step function hands its kernel every step (its parameters as
        :func:`leaf` gives them) and the buffers a kernel writes anew each step, which
        nothing reads after the step."""
        built: _T | None = self._built.get(name)
        if built is None:
            built = self._built[name] = build()
        return built

    def _laid_out(self, x: Any, form: int, lay_out: Callable[[], Any]) -> Any:
        """``lay_out()`` for leaf ``x`` in ``form``, the first time this run asks."""
        kept = self._kernel_rows.get((id(x), form))
        if kept is None or kept[0] is not x:
            kept = (x, lay_out())
            self._kernel_rows[id(x), form] = kept
        return kept[1]


def step_context(
    system: System, plans: Plans, layout: Layout, focal_unitary: bool
) -> StepContext:
    """The read-only context of a run of ``system`` over ``layout``."""
    sy, r, p = system, system.roles, system.params
    events, fe = sy.events, sy.focal_elections
    return StepContext(
        system=sy,
        plans=dataclasses.replace(
            plans, vote_f=per_state_vote_plan(plans.vote_f, layout),
            vote_o=per_state_vote_plan(plans.vote_o, layout)),
        layout=layout,
        legislature=None if focal_unitary else sy.legislative,
        floor_start_rows=_NO_LEVELS if sy.legislative is None
        else per_state_rows(plans.f_pos0[..., sy.legislative.floor, :], layout, 1),
        focal_unitary=focal_unitary,
        menu_f=sy.focal_menu if sy.focal_menu is not None
        else np.ones(sy.focal.n_instruments, dtype=bool),
        status_quo_rows=per_state_rows(sy.status_quo, layout, 1),
        demand_rows=per_state_rows(sy.demand, layout, 1),
        o_base_rows=per_state_rows(sy.internal.clout, layout, 1),
        shock_chance=_shock_chance(sy, layout),
        shock_fade=leaf(1 - np.exp(-per_state_param(p.shock_decay, layout) * sy.dt)),
        settle_chance=settlement_chance(per_state_param(p.settlement_hazard, layout), sy.dt),
        retreat_chance=leaf(congress.retreat_chance(
            per_state_param(p.us_retreat_rate, layout), sy.dt)),
        clout_pace=leaf(1 - np.exp(-per_state_param(p.clout_adjustment_rate, layout) * sy.dt)),
        menace_issues=tuple(r[x] for x in ("terror", "wmd") if r[x] >= 0),
        event_steps=frozenset(int(x) for x in events.step) if events is not None
        else frozenset(),
        election_steps=frozenset(int(s) for s in sy.elections.step),
        focal_election_steps=frozenset(int(x) for x in fe.step) if fe is not None
        else frozenset(),
    )


def _shock_chance(sy: System, layout: Layout) -> FloatArray:
    """Each shock's chance per step ``1 - exp(-rate dt)``, ``[1 or n, S]``: computed once per
    state (the same numbers as per world, per step) and repeated over its worlds."""
    chance = 1 - np.exp(-per_state_rows(sy.shock_rate, layout, 1) * sy.dt)
    if chance.shape[0] not in (1, layout.n):
        chance = np.repeat(chance, layout.n_each, axis=0)
    return np.asarray(chance)


def issue_share(level: FloatArray, system: System, i: int) -> FloatArray:
    """Issue ``i``'s level as a share of its range, ``[n]``; zeros without the issue (``i < 0``)."""
    if i < 0:
        return np.zeros(level.shape[0])
    return native_positions.issue_share(level, i, system.low[i], system.span[i])


def requires_met(side: Side, active: BoolArray) -> BoolArray:
    """``[n, K]``: every instrument another one ``requires`` is in force (section 2)."""
    if not side.requires.any():  # (most scenarios: no kernel call)
        return np.ones(active.shape, dtype=bool)
    return native_positions.requires_met(active.view(np.uint8), side.requires.view(np.uint8))


def floor_vote(
    ctx: StepContext, f_pos: FloatArray, cand: BoolArray, threshold: Any, at: FloatArray,
    clout: FloatArray,
) -> BoolArray:
    """The focal legislature's floor vote (its members only) on ``cand`` at levels ``at``.

    ``f_pos`` is the focal side's ideal points now (section 4b: the floor follows the
    hawk/engager balance); docs/model.md 4c.
    """
    assert ctx.legislature is not None
    k = ctx.once("ratify_constants", partial(_ratify_constants, ctx))
    c = np.ascontiguousarray
    # :func:`voted` of the members' clout ``clout * members`` (the product in the kernel),
    # in the worlds with a candidate only
    return np.asarray(native_congress.floor_votes(
        ctx.once("floor_constants", partial(_floor_constants, ctx)), mask(cand),
        c(at, dtype=np.float64), _issue_major(k.f_pos, f_pos), c(clout, dtype=np.float64),
        leaf(threshold)), dtype=bool)


def _floor_constants(ctx: StepContext) -> native_congress.FloorRun:
    """The run's :class:`~detente.sim.native.congress.FloorRun`: the focal legislature's
    floor vote as :func:`floor_vote` and :func:`congress_bills` hand it to their kernels
    (the focal side's vote tables, the floor's members, the thresholds of passage and
    override and the override's reliability, per state where they differ)."""
    p, leg = ctx.system.params, ctx.legislature
    assert leg is not None
    c = np.ascontiguousarray
    return native_congress.FloorRun(
        _vote_tables(ctx.plans.vote_f), c(leg.members, dtype=np.float64),
        c(ctx.param(p.majority_threshold)), leaf(congress.SUPERMAJORITY),
        c(ctx.param(p.us_veto_override)))


def _event_sum(x: FloatArray, now: BoolArray, layout: Layout) -> FloatArray:
    """The summed effects of the events of this step: ``[I]``, or ``[n, I]`` per world."""
    if x.ndim == 2:
        return np.asarray(x[now].sum(axis=0))
    summed = np.empty((layout.n, x.shape[2]))
    for sl in layout.slices:
        summed[sl] = x[sl.start][now].sum(axis=0)
    return summed


def _event_total(x: FloatArray, now: BoolArray) -> FloatArray:
    """The summed value of the events of this step: ``x`` is ``[E]``, or ``[n, E]``."""
    return np.asarray(x[now].sum() if x.ndim == 1 else x[:, now].sum(axis=1))


# ------------------------------------------------------------------ 1. choice
def choose(
    ctx: StepContext, st: WorldState, t: int, strategy: Strategy, view_rng: WorldRNG
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The focal strategy's cooperation level this step (docs/model.md 1).

    The strategy sees its own played levels, the other side's levels as it perceived them
    and its belief that the other reciprocates.

    Returns
    -------
    belief_f, belief_o, level_f : ndarray [n]
        Both sides' beliefs (probabilities) at the start of the step, and the focal level.
    """
    b_f, b_o = _belief(st.log_odds_f), _belief(st.log_odds_o)
    lev_f = _clip(
        strategy.move(View(t, st.own_f[:, :t], st.perceived_f[:, :t], b_f, view_rng)), 0.0, 1.0,
        out=np.empty(b_f.shape),
    )
    return b_f, b_o, lev_f


def _belief(log_odds: FloatArray) -> FloatArray:
    """:func:`_expit` of the log-odds in one new array (the same operations, in place)."""
    b = np.negative(log_odds)
    np.exp(b, out=b)
    np.add(1.0, b, out=b)
    return np.asarray(np.divide(1.0, b, out=b))


def internal_positions(
    ctx: StepContext, st: WorldState, belief_o: FloatArray, bite: FloatArray
) -> FloatArray | NDArray[np.float32]:
    """Iran's effective positions per issue and camp this step (docs/model.md 2, "Internal side").

    Its actors answer what has changed since the start: the U.S. gesture as Iran perceives
    it, its belief, the sanctions as they bite (``bite``, section 5b), its conditions met,
    the pressure under which concessions are pocketed (with the last step's visible U.S.
    backing of the reformers), the regional threat and the settlement
    (:func:`detente.sim.mechanisms.iran_response.iran_positions`).
    """
    sy, p, pl = ctx.system, ctx.system.params, ctx.plans
    c = ctx.once("internal_positions", partial(_positions_constants, ctx))
    # (the rows of the run's [6, n] buffer, written anew each step)
    gesture, belief, sanctions, fulfilment, pressure, threat = native_positions.drivers_of(
        c.drivers, st.smooth_perceived_o, belief_o, np.ascontiguousarray(st.level), leaf(bite),
        st.hostile_f,
        st.backing,  # visible U.S. backing of reformers: the previous step's (section 4)
        st.threat,
    )
    drivers = IranDrivers(gesture, belief, sanctions, fulfilment, pressure, threat,
                          st.settlement)
    # the scenario positions one row per state (stacked states): the kernel reads w * m // n;
    # written to the run's buffer (only internal_bargain reads them, within the step)
    return iran_positions(c.base, c.alt, st.o_control, st.o_reform, drivers, pl.camp_span32,
                          pl.dict_span32, p, sy, pl.o_used,
                          fill_unused=False,  # votes and vetoes read only pl.o_used
                          parameters=c.parameters, saturate=c.saturate, out=c.out, run=c.run)


@dataclass(frozen=True)
class _PositionsConstants:
    """What :func:`internal_positions` hands its kernels every step, computed once per run."""

    drivers: native_positions.DriversRun  # the drivers' constants and output
    base: NDArray[np.float32]
    alt: NDArray[np.float32]
    parameters: FloatArray  # [m, 12] (position_parameters)
    saturate: Saturation
    out: NDArray[np.float32]  # [I, n, A] the positions, written anew each step
    run: native_positions.PositionsRun  # the positions kernel's constants (positions_run)


def _positions_constants(ctx: StepContext) -> _PositionsConstants:
    """The run's :class:`_PositionsConstants` (:meth:`StepContext.once`)."""
    sy, p, pl = ctx.system, ctx.system.params, ctx.plans
    s = sy.roles["sanctions"]
    base, alt, parameters = ctx.rows(pl.o_pos32, 2), ctx.rows(pl.alt_pos32, 2), \
        position_parameters(p)
    return _PositionsConstants(
        drivers=native_positions.DriversRun(
            ctx.layout.n, leaf(p.neutral_level), leaf(pl.b_o0), s,
            float(sy.low[s]) if s >= 0 else 0.0, float(sy.span[s]) if s >= 0 else 1.0,
            leaf(pl.sanc_n0), ctx.status_quo_rows, ctx.demand_rows, leaf(p.threat_initial)),
        base=base, alt=alt, parameters=parameters,
        saturate=Saturation.of(p.condition_saturation, p.condition_curvature),
        out=np.empty((len(sy.issues), ctx.layout.n, sy.internal.n_actors), dtype=np.float32),
        run=positions_run(base, alt, pl.camp_span32, pl.dict_span32, p, sy, pl.o_used,
                          fill_unused=False, parameters=parameters),
    )


@dataclass(frozen=True, eq=False)
class Proposals:
    """The focal side's agenda this step (:func:`focal_proposals`)."""

    candidates: BoolArray  # [n, K_f] steps to put to ratification
    withdrawn: BoolArray  # [n, K_f] steps in force the executive withdraws
    cancelled: BoolArray  # [n, K_f] pending steps it cancels
    forced: BoolArray | None  # [n, K_f] scripted steps forced into force now (1b)
    scripted: bool  # the step is inside the history script's span
    requires_ok: NDArray[np.uint8]  # [n, K_f] requirements met (no rows: all are), for 4c


@dataclass(frozen=True, eq=False)
class _CongressConstants:
    """What :func:`focal_proposals`, :func:`ratify_focal` (the statute lock),
    :func:`congress_bills` and :func:`law_sunsets` hand their kernels every step, as the
    kernels read it (once per run: ``ctx.once``)."""

    run: native_congress.CongressRun  # the leaves the kernels read
    requires: bool  # some focal step requires another
    sunset: bool  # some law has a sunset
    retreat: bool  # some cost tolerance is set
    bills: bool  # a legislature with steps of its own
    locks: bool  # a legislature and steps that lock as statutes (the statute lock)
    gesture: FloatArray


def _congress_constants(ctx: StepContext) -> _CongressConstants:
    """The run's :class:`_CongressConstants`."""
    sy, p, pl = ctx.system, ctx.system.params, ctx.plans
    sf, leg = sy.focal, ctx.legislature
    tolerance = ctx.param(p.us_cost_tolerance)
    gesture = ctx.rows(sf.gesture, 1)
    c = np.ascontiguousarray
    run = native_congress.CongressRun(
        leaf(p.neutral_level), ctx.rows(sf.conc_rank, 1), ctx.rows(sf.host_rank, 1),
        mask(ctx.menu_f), mask(sf.reversible), mask(pl.f_gest_pos), sf.sunset_step,
        mask(sf.renewed_by), mask(congress.renewal_steps(sf.renewed_by)),
        mask(ctx.menu_f & sf.by_executive), gesture, tolerance, ctx.retreat_chance,
        ctx.rows(sf.cost, 1), c(sy.low), c(sy.high), c(ctx.status_quo_rows),
        c(ctx.floor_start_rows) if leg is not None else np.zeros((1, len(sy.issues))),
        mask(pl.f_stake[leg.floor]) if leg is not None else np.zeros(0, dtype=np.uint8),
        c(ctx.rows(pl.leg_tol, 1)), c(ctx.rows(sf.effects, 2)), mask(sf.by_legislature),
        mask(sf.locks))
    return _CongressConstants(
        run=run, requires=bool(sf.requires.any()), sunset=bool((sf.sunset_step >= 0).any()),
        locks=leg is not None and bool(sf.locks.any()),
        retreat=bool(np.any(tolerance >= 0)),
        bills=leg is not None and bool(sf.by_legislature.any()), gesture=gesture)


_NO_HOLDS = np.zeros(0, dtype=np.int8)


def focal_proposals(
    ctx: StepContext, st: WorldState, t: int, level_f: FloatArray, pending_f: BoolArray,
    draws: StepDraws,
) -> Proposals:
    """The focal side's ladder, withdrawals and cancellations (docs/model.md 1, 1b, 4c).

    The level becomes the instruments it asks for (:func:`ladder`) on the strategy's menu;
    a law's sunset puts its renewal on the agenda; past the cost tolerance no new
    concession is proposed and, at a sampled rate, one in force is withdrawn (retreat); a
    history script forces and holds its switches. Reversible steps in force that are no
    longer wanted are withdrawn and pending ones cancelled (``st.f_start``), never the
    legislature's own acts.
    """
    sf, scr = ctx.system.focal, ctx.system.script
    k = ctx.once("congress_constants", partial(_congress_constants, ctx))
    f_active = st.f_active
    scripted = scr is not None and t <= scr.until
    forced, held = None, _NO_HOLDS
    if scripted:
        assert scr is not None
        # scripted switches override the ladder: held on (forced on at its date, never
        # put to ratification), held off (withdrawn, or cancelled while pending)
        held = np.ascontiguousarray(scr.held[t])
        forced = scr.force_on[t][None, :] & ~f_active
    req_ok = mask(requires_met(sf, f_active)) if k.requires else NO_MASK
    cand_f, drop_f, cancel_f = native_congress.proposals(
        k.run, np.asarray(level_f, dtype=np.float64), mask(f_active), mask(pending_f),
        mask(st.f_by_leg), req_ok,
        # an expiring law: its renewal on the agenda
        not scripted and k.sunset, t,
        # past the cost tolerance: no new concession; the retreat
        k.retreat, st.cost, draws.congress[:, t, 1],
        st.f_since, held, st.f_start, NEVER,
    )
    return Proposals(cand_f, drop_f, cancel_f, forced, scripted, req_ok)


# ------------------------------------------------------------------ 2. ratification
def prospective_levels(
    ctx: StepContext, st: WorldState
) -> tuple[FloatArray, BoolArray, BoolArray]:
    """The levels with every pending step's moves, and the pending steps (docs/model.md 2).

    Returns
    -------
    prospective : ndarray [n, I]
        The status quo veto players judge a move against (earlier agreed moves included).
    pending_f, pending_o : ndarray [n, K] of bool
    """
    sy, lay, c = ctx.system, ctx.layout, np.ascontiguousarray
    effects_f, effects_o, low, high, scratch = ctx.once("prospective_constants", partial(
        _prospective_constants, ctx))
    # the pending steps' moves summed in the kernel where their order cannot matter, else
    # by BLAS (the masks' products with the effects, in BLAS's order)
    if len(lay.seeds) > 1:  # stacked states: BLAS for those states only that need it
        levels, pending_f, pending_o, loose = native_positions.prospective_levels_states(
            c(st.level), c(st.f_start), mask(st.f_active), c(st.o_start), mask(st.o_active),
            NEVER, effects_f, effects_o, low, high, scratch, len(lay.seeds))
        if loose is not None:
            _loose_prospective(levels, c(st.level), pending_f, pending_o, effects_f,
                               effects_o, low, high, loose, lay)
        return levels, pending_f, pending_o
    prospective, pending_f, pending_o = native_positions.prospective_levels(
        c(st.level), c(st.f_start), mask(st.f_active), c(st.o_start), mask(st.o_active), NEVER,
        effects_f, effects_o, low, high, scratch)
    if prospective is None:
        moves_f = _dot(pending_f.astype(np.float64), sy.focal.effects, lay, 2)
        moves_o = _dot(pending_o.astype(np.float64), sy.internal.effects, lay, 2)
        prospective = native_positions.prospective(c(st.level), c(moves_f), c(moves_o),
                                                   low, high)
    return prospective, pending_f, pending_o


def _loose_prospective(
    prospective: FloatArray, level: FloatArray, pending_f: BoolArray, pending_o: BoolArray,
    effects_f: FloatArray, effects_o: FloatArray, low: FloatArray, high: FloatArray,
    loose: NDArray[np.uint8], lay: Layout,
) -> None:
    """:func:`prospective_levels`' rows of the states of a stacked run marked ``loose``,
    where the pending steps' sums could depend on their order: into ``prospective``, from
    each state's masks' products with its effects (``[1 or states, K, I]``), the BLAS call a
    run of that state alone makes (one batched product: the same rows and matrix each; one
    product of all their rows with a matrix the states share, as :func:`_dot` does)."""
    states = np.flatnonzero(loose)
    m = lay.n_each
    rows = (states[:, None] * m + np.arange(m)).ravel()
    moves = []
    for pending, effects in ((pending_f, effects_f), (pending_o, effects_o)):
        picked = pending[rows].astype(np.float64)
        if len(effects) == 1:
            moves.append(picked @ effects[0])
        else:
            per_state = np.matmul(picked.reshape(len(states), m, -1), effects[states])
            moves.append(per_state.reshape(len(rows), -1))
    prospective[rows] = native_positions.prospective(level[rows], moves[0], moves[1], low, high)


def _prospective_constants(ctx: StepContext) -> tuple[Any, Any, Any, Any, Any]:
    """What :func:`prospective_levels` hands its kernels every step, once per run: both
    sides' effects (:meth:`StepContext.rows`), the issues' bounds, C-contiguous, and the
    kernel's scratch laid out from them (:class:`~detente.sim.native.positions.
    ProspectiveScratch`)."""
    sy, c = ctx.system, np.ascontiguousarray
    low, high = c(sy.low, dtype=np.float64), c(sy.high, dtype=np.float64)
    return (ctx.rows(sy.focal.effects, 2), ctx.rows(sy.internal.effects, 2), low, high,
            native_positions.ProspectiveScratch(low, high))


def ratify_focal(
    ctx: StepContext, st: WorldState, candidates: BoolArray, belief_f: FloatArray,
    prospective: FloatArray,
) -> tuple[BoolArray, FloatArray | None]:
    """The focal side's level II: trust gate, statute lock, vote, vetoes (docs/model.md 2, 4c).

    The executive's proposals need the trust gate where a legislature must approve them,
    the floor's majority where they would undo a statute in force, a weighted majority less
    the agenda power (the executive counting in favour) and every veto player's and
    approval holder's consent (:func:`ratify`); ``st.excess`` records the largest veto
    excess. The vote (:func:`voted`) and the consent checks run in one kernel call
    (:func:`detente.sim.native.consent.vote_and_ratify`, or its ``vote_and_ratify_states``
    for stacked states; the run's tables laid out once by :func:`_ratify_constants`). The
    statute lock (:func:`congress.statute_lock`) is tested on the candidates only
    (:func:`detente.sim.native.congress.statute_candidates`). A unitary focal side approves
    every candidate.

    Returns
    -------
    approved : ndarray [n, K_f] of bool
    clout : ndarray [n, A_f] or None
        The focal actors' clout this step (with the hawk/engager balance), None if unitary.
    """
    if ctx.focal_unitary:
        return candidates, None
    p = ctx.system.params
    cand_f = candidates
    f_cl = st.f_clout
    factor = st.f_factor
    if factor is not None:  # np.clip(f_cl * factor, 0, None), np.maximum(f_cl * factor, 0)
        f_cl = native_congress.balanced_clout(f_cl, factor) if factor.shape == f_cl.shape \
            else np.maximum(f_cl * factor, 0)
    c_k = ctx.once("congress_constants", partial(_congress_constants, ctx))
    if c_k.locks:  # undoing a statute in force needs the floor, as a bill would
        # (on candidates the trust gate will stop too: each pair's floor vote is its own);
        # congress.statute_lock(st.f_active, locks, effects) & cand_f, None if none is
        lock = native_congress.statute_candidates(c_k.run, mask(st.f_active), mask(cand_f))
        if lock is not None:
            cand_f = cand_f & (~lock | floor_vote(ctx, st.f_pos, lock, p.majority_threshold,
                                                  st.level, f_cl))
    # the trust gate is a condition of approval: the vote's kernel applies it first; the
    # vote (:func:`voted`) and the consent checks (:func:`ratify`) in one kernel call
    k = ctx.once("ratify_constants", partial(_ratify_constants, ctx))
    assert k.focal is not None
    c = np.ascontiguousarray
    args = (k.focal, None, mask(cand_f), NO_MASK, NO_MASK, NO_MASK, c(st.level),
            _issue_major(k.f_pos, st.f_pos), c(f_cl), c(belief_f, dtype=np.float64),
            c(prospective), st.excess)
    n_states = len(ctx.layout.seeds)
    # (stacked states: each state's leaves found once per state, not world by world)
    app_f, _ = native_consent.vote_and_ratify(*args) if n_states == 1 \
        else native_consent.vote_and_ratify_states(*args, n_states)
    return app_f, f_cl


def internal_bargain(
    ctx: StepContext, st: WorldState, belief_o: FloatArray,
    positions_o: FloatArray | NDArray[np.float32], prospective: FloatArray,
    pending_o: BoolArray,
) -> tuple[BoolArray, BoolArray]:
    """Iran's internal bargaining over every step it could take or reverse (docs/model.md 2).

    Every instrument not in force and not pending is put to the weighted vote at the
    actors' effective positions (:func:`internal_positions`), behind the trust gate, then
    to the vetoes and approvals; a reversible step in force is reversed if reversal wins a
    majority plus the revocation margin and passes the vetoes. Both passes, each a vote
    (:func:`voted`) then the consent checks (:func:`ratify`), run in one kernel call
    (:func:`detente.sim.native.consent.vote_and_ratify`, or its ``vote_and_ratify_states``
    for stacked states); ``st.excess`` records the largest veto excess.

    Returns
    -------
    approved, reversed : ndarray [n, K_o] of bool
    """
    so = ctx.system.internal
    o_active, o_clout = st.o_active, st.o_clout
    k = ctx.once("ratify_constants", partial(_ratify_constants, ctx))
    c = np.ascontiguousarray
    # the steps not in force, not pending, requirements met, then the reversible ones in
    # force (against the same prospective levels): each put to the vote (:func:`voted`)
    # and to the consent checks (:func:`ratify`), in one kernel call
    args = (k.internal, k.reversal, NO_MASK, mask(o_active), mask(pending_o),
            mask(requires_met(so, o_active)) if k.requires_o else NO_MASK, c(st.level),
            _issue_major(k.f_pos, positions_o), c(o_clout), c(belief_o, dtype=np.float64),
            c(prospective), st.excess)
    n_states = len(ctx.layout.seeds)
    # (stacked states: each state's leaves found once per state, not world by world)
    app_o, drop_o = native_consent.vote_and_ratify(*args) if n_states == 1 \
        else native_consent.vote_and_ratify_states(*args, n_states)
    if drop_o is None:
        drop_o = np.zeros_like(o_active)
    return app_o, drop_o


def unitary_opponent(
    ctx: StepContext, st: WorldState, t: int, belief_o: FloatArray, pending_o: BoolArray,
    opponent: Strategy, view_rng: WorldRNG,
) -> tuple[BoolArray, BoolArray]:
    """The internal side played by a unitary strategy instead of its bargaining (run_chunk's
    ``opponent``): its level's ladder is taken without ratification.

    Returns
    -------
    approved, withdrawn : ndarray [n, K_o] of bool
    """
    so = ctx.system.internal
    o_active = st.o_active
    lev_o = _clip(
        opponent.move(View(t, st.own_o[:, :t], st.perceived_o[:, :t], belief_o, view_rng)),
        0.0, 1.0,
    )
    return native_congress.opponent_steps(
        np.asarray(lev_o, dtype=np.float64), leaf(ctx.system.params.neutral_level),
        ctx.rows(so.conc_rank, 1), ctx.rows(so.host_rank, 1), mask(o_active), mask(pending_o),
        mask(so.reversible), mask(requires_met(so, o_active)), st.o_start, NEVER)


def congress_bills(
    ctx: StepContext, st: WorldState, t: int, level_f: FloatArray, approved_f: BoolArray,
    committed: BoolArray, prospective: FloatArray, clout_f: FloatArray | None,
    draws: StepDraws, requires_ok: NDArray[np.uint8] | None = None,
) -> BoolArray:
    """The focal legislature's own bills, the executive's veto and its override (docs/model.md 4c).

    Congress judges the levels with the step's approved moves and the laws lapsing now;
    where they drift from its floor beyond its tolerance it passes its own steps; a bill
    against the executive's line is vetoed and becomes law only if a two-thirds majority
    holds. Not while a history script runs, nor without a legislature or bills.
    Enacted bills join ``committed`` (in place), ``st.f_by_leg``; killed ones ``st.killed``.
    ``requires_ok`` is :attr:`Proposals.requires_ok` of this step (``st.f_active`` has not
    changed since), computed here when not given.

    One kernel call (:func:`detente.sim.native.congress.bills_enacted`) finds the bills
    (:func:`congress.initiative_candidates`) and, only in the worlds that have one, votes,
    vetoes and overrides them (:func:`congress.legislative_initiative`: the floor's vote of
    :func:`floor_vote`, :func:`congress.against_executive`, :func:`congress.veto_override`),
    by the same per-world code as those functions.

    Returns
    -------
    approved : ndarray [n, K_f] of bool
        ``approved_f`` with the enacted bills.
    """
    sf, leg = ctx.system.focal, ctx.legislature
    k = ctx.once("congress_constants", partial(_congress_constants, ctx))
    if leg is None or not k.bills:
        return approved_f
    assert clout_f is not None
    f_active, f_pos = st.f_active, st.f_pos
    if requires_ok is None:
        requires_ok = mask(requires_met(sf, f_active)) if k.requires else NO_MASK
    c = np.ascontiguousarray
    approved = native_congress.bills_enacted(
        k.run, ctx.once("floor_constants", partial(_floor_constants, ctx)), t,
        mask(approved_f), mask(f_active), prospective,
        _issue_major(ctx.once("ratify_constants", partial(_ratify_constants, ctx)).f_pos,
                     f_pos),
        leg.floor, committed.view(np.uint8), st.killed.view(np.uint8), requires_ok,
        st.f_by_leg.view(np.uint8), c(clout_f, dtype=np.float64),
        c(level_f, dtype=np.float64), draws.congress[:, t, 0])
    # (most steps: no bill enacted anywhere, and no array formed)
    return approved_f if approved is None else np.asarray(approved, dtype=bool)


def law_sunsets(
    ctx: StepContext, st: WorldState, t: int, committed: BoolArray, forced: BoolArray | None,
    withdrawn_f: BoolArray,
) -> BoolArray | None:
    """A law lapses at its sunset unless renewed; a later renewal re-enacts it (docs/model.md 4c).

    A lapse is forced into force like a scripted step; a re-enactment withdraws the lapse
    (added to ``withdrawn_f`` in place).

    Returns
    -------
    forced : ndarray [n, K_f] of bool or None
        ``forced`` with the lapses due now.
    """
    k = ctx.once("congress_constants", partial(_congress_constants, ctx))
    lapse_now, _ = native_congress.law_sunset_rows(
        k.run, t, mask(committed), mask(st.f_active), mask(withdrawn_f))
    if lapse_now is not None:  # (None: no law lapses now, most steps)
        forced = lapse_now if forced is None else forced | lapse_now
    return forced


def schedule_starts(
    ctx: StepContext, st: WorldState, t: int, approved_f: BoolArray, approved_o: BoolArray,
    forced: BoolArray | None, draws: StepDraws,
) -> None:
    """Approved steps start after their sampled delays (docs/model.md 2, "Delay").

    Also notes in ``st.f_offered`` whether the focal side has offered a conciliatory step
    (the clock of the time to reciprocation, section 5). A delay's uniform is computed only
    where a step is approved (:class:`~detente.sim.world_state.StreamUniforms`).
    """
    # the run's delays and streams, laid out once (the run's draws are drawn once too)
    run = ctx.once("schedule_starts", partial(_schedule_run, ctx, draws))
    native_impl.schedule_starts_of(
        run, mask(approved_f), mask(approved_o), mask(forced), st.f_start, st.o_start,
        st.f_offered.view(np.uint8), t)


def _schedule_run(ctx: StepContext, draws: StepDraws) -> native_impl.ScheduleRun:
    """:func:`schedule_starts`' kernel object: the delay streams' block states and
    :func:`_schedule_constants`, once per run."""
    return native_impl.ScheduleRun(
        draws.delay_f.states, draws.delay_o.states, ctx.layout.n_each, BLOCK,
        draws.delay_f.steps, *_schedule_constants(ctx))


def _schedule_constants(
    ctx: StepContext,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray,
           NDArray[np.uint8]]:
    """What :func:`schedule_starts` hands its kernel every step, once per run: both sides'
    delay bounds and modes (:meth:`StepContext.rows`), the focal steps that are gestures."""
    sf, so = ctx.system.focal, ctx.system.internal
    return (ctx.rows(sf.delay_low, 1), ctx.rows(sf.delay_mode, 1), ctx.rows(sf.delay_high, 1),
            ctx.rows(so.delay_low, 1), ctx.rows(so.delay_mode, 1), ctx.rows(so.delay_high, 1),
            mask(ctx.rows(ctx.plans.f_gest_pos, 1)))


# ------------------------------------------------------------------ 3. implementation
def implement(
    ctx: StepContext, st: WorldState, t: int, withdrawn_f: BoolArray, withdrawn_o: BoolArray,
    forced: BoolArray | None,
) -> tuple[BoolArray, BoolArray]:
    """Withdrawn steps undo their effects; steps due start and add theirs (docs/model.md 3).

    Levels are clipped to the issues' bounds after each.

    Returns
    -------
    new_f, new_o : ndarray [n, K] of bool
        The steps started this step.
    """
    sy, lay = ctx.system, ctx.layout
    sf, so = sy.focal, sy.internal
    run = ctx.once("implement", partial(_implement_run, ctx))
    # the steps starting do not depend on the levels: found first, so that the levels move
    # in one pass (in each world the withdrawals, then the starts), in one kernel call; each
    # state of a stacked run is judged alone, so only the crowded ones are left
    f_new, o_new, crowded, dropped, left = native_impl.implement_step(
        run, st.level, st.f_active.view(np.uint8), st.o_active.view(np.uint8), st.f_start,
        st.o_start, st.f_since, mask(withdrawn_f), mask(withdrawn_o), mask(forced), t, NEVER,
        len(lay.seeds))
    if crowded:
        # the moves whose sums' order could matter are BLAS's products, as before: of every
        # row, or of the crowded states' rows only (each its state's product, as a run of
        # the state alone forms it)
        def moves(m: BoolArray, side: Side) -> FloatArray:
            if left is None:
                return _dot(m.astype(np.float64), side.effects, lay, 2)
            return _state_moves(m, side.effects, lay, left)

        native_impl.implement_levels_of(
            run, st.level, mask(withdrawn_f) if dropped & 1 else NO_MASK,
            mask(withdrawn_o) if dropped & 2 else NO_MASK, f_new.view(np.uint8),
            o_new.view(np.uint8), moves(withdrawn_f, sf) if crowded & 1 else _NO_LEVELS,
            moves(withdrawn_o, so) if crowded & 2 else _NO_LEVELS,
            *((moves(f_new, sf), moves(o_new, so)) if crowded & 4 else (_NO_LEVELS,) * 2),
            left)
    return f_new, o_new


def _state_moves(
    m: BoolArray, effects: FloatArray, lay: Layout, states: NDArray[np.uint8]
) -> FloatArray:
    """The moves ``m @ effects`` (``[n, I]``) of the rows of the flagged ``states`` of a
    stacked run, each state's rows times its matrix: the product a run of that state alone
    asks of BLAS. The other rows are left unspecified."""
    out = np.empty((m.shape[0], effects.shape[-1]))
    per = lay.n_each
    for s in np.flatnonzero(states).tolist():
        rows = slice(s * per, (s + 1) * per)
        out[rows] = m[rows].astype(np.float64) @ (effects if effects.ndim == 2
                                                  else effects[s * per])
    return out


def _implement_run(ctx: StepContext) -> native_impl.ImplementRun:
    """What :func:`implement` hands its kernel every step besides the state: both sides'
    effects and the issues' bounds (:meth:`StepContext.rows`), once per run."""
    sy = ctx.system
    return native_impl.ImplementRun(
        ctx.layout.n, ctx.rows(sy.focal.effects, 2), ctx.rows(sy.internal.effects, 2),
        ctx.rows(sy.low, 1), ctx.rows(sy.high, 1))


def played_levels(ctx: StepContext, st: WorldState, t: int) -> tuple[FloatArray, FloatArray]:
    """Each side's played level from its steps in force and pending (docs/model.md 1).

    Records them in the sides' own histories and keeps the focal hostile share
    (``st.hostile_f``) for the rest of this step and the next.

    Returns
    -------
    played_f, played_o : ndarray [n]
    """
    pl, lay = ctx.plans, ctx.layout
    run = ctx.once("played_levels", partial(_played_parameters, ctx))
    # the posture (:func:`posture`) of both sides; the weighted sums go to BLAS (the weights
    # written to the run's buffers: nothing reads them after the products)
    w_f, w_o = native_impl.posture_weights_of(
        run, st.f_active.view(np.uint8), st.f_start, st.o_active.view(np.uint8), st.o_start)
    play_f, play_o, st.hostile_f = native_impl.played_levels_of(
        run, _dot(w_f, pl.gp_f, lay), _dot(w_f, pl.gn_f, lay), _dot(w_o, pl.gp_o, lay),
        _dot(w_o, pl.gn_o, lay), st.own_f, st.own_o, t)
    return play_f, play_o


def _played_parameters(ctx: StepContext) -> native_impl.PlayedRun:
    """What :func:`played_levels` hands its kernels besides the state, one value or one per
    state of a stacked run (:meth:`StepContext.param`: the kernels then take each state's
    worlds together), and the buffers of the posture's weights ``[n, K]``: once per run."""
    sy, p, pl, n = ctx.system, ctx.system.params, ctx.plans, ctx.layout.n
    return native_impl.PlayedRun(
        ctx.param(p.announce_weight), ctx.param(pl.gp_f_sum), ctx.param(pl.gn_f_sum),
        ctx.param(pl.gp_o_sum), ctx.param(pl.gn_o_sum), ctx.param(p.neutral_level), NEVER,
        np.empty((n, sy.focal.n_instruments)), np.empty((n, sy.internal.n_instruments)))


def perceive_and_learn(
    ctx: StepContext, st: WorldState, t: int, played_f: FloatArray, played_o: FloatArray,
    draws: StepDraws,
) -> None:
    """Perception through each side's noisy, biased channel and the Bayesian type update
    (docs/model.md 3).

    A reciprocating type is expected to show ``max(own smoothed level, benign level)``, a
    hostile type the hostile level; the log-odds move by the likelihood ratio of the
    perceived level and are pulled back toward the prior (forgetting). Then the smoothed
    own and perceived levels move at the memory rate.
    """
    # q = clip(played + bias + noise * eps, 0, 1); mu_R = max(smoothed own level, benign);
    # llr = ((q - mu_H)^2 - (q - mu_R)^2) / (2 var); lb += rate * llr - forgetting *
    # (lb - prior), clipped to [-8, 8]; smoothed = (1 - a) * smoothed + a * new (in place)
    native_perception.perceive_and_learn(
        t, played_f, played_o, draws.perception_f, draws.perception_o,
        ctx.once("perceive_and_learn", partial(_perception_parameters, ctx)),
        st.smooth_own_f, st.smooth_own_o, st.smooth_perceived_o, st.perceived_f,
        st.perceived_o, st.log_odds_f, st.log_odds_o)


def _perception_parameters(ctx: StepContext) -> FloatArray:
    """The parameters :func:`perceive_and_learn` hands its kernel as one ``[m, 14]`` array
    (:data:`detente.sim.native.perception.PARAMETERS` its columns; one row or one per world,
    :func:`~detente.sim.native.leaf_rows`): once per run."""
    p, pl = ctx.system.params, ctx.plans
    var_f = p.type_noise**2 + p.perception_noise_us**2
    var_o = p.type_noise**2 + p.perception_noise_iran**2
    return leaf_rows((
        p.perception_bias_us, p.perception_noise_us, p.perception_bias_iran,
        p.perception_noise_iran, p.type_benign_level, p.type_hostile_level, 2 * var_f,
        2 * var_o, p.belief_learning_rate, p.belief_forgetting, pl.prior_f, pl.prior_o,
        p.memory, 1 - p.memory))


# ------------------------------------------------------------------ 4. domestic politics
# Section 4 is compiled (:mod:`detente.sim.native.domestic`): :func:`domestic_politics` runs its
# five mechanisms in one pass over the worlds; each function below runs its own mechanism
# alone and documents it (the kernel's ``cdef inline`` function of the same name holds the
# formula).
_NO_ELECTION = np.zeros(0, dtype=np.int64)


def _domestic(
    ctx: StepContext, st: WorldState, first: int, last: int, *, t: int = -1,
    bite: FloatArray | None = None, draws: StepDraws | None = None,
    hit: BoolArray | None = None, share: FloatArray | None = None,
) -> tuple[BoolArray, FloatArray]:
    """Section 4's mechanisms ``first`` to ``last`` (``native_domestic.PUBLIC_SUPPORT`` ...
    ``INTERNAL_ELECTIONS``) in one kernel call; returns the backlash events and the
    reformists' clout share before them (``hit``, ``share``: read when the range starts
    after ``BACKLASH``)."""
    sy, pl, lay = ctx.system, ctx.plans, ctx.layout
    n = lay.n
    c = ctx.once("domestic", partial(_domestic_constants, ctx))
    zeros = c.zeros  # (read only)
    runs = range(first, last + 1)
    if hit is None and share is None and native_domestic.BACKLASH in runs \
            and native_domestic.VETTING_AND_DISILLUSION in runs:
        hit, share = c.hit, c.share  # written and read within this call: the run's buffers
    if hit is None:  # written by BACKLASH when it runs
        hit = np.empty(n, dtype=np.bool_) if native_domestic.BACKLASH in runs \
            else np.zeros(n, dtype=np.bool_)
    if share is None:
        share = np.empty(n) if native_domestic.BACKLASH in runs else np.zeros(n)
    multi = zeros
    if native_domestic.PUBLIC_SUPPORT in runs:
        # the kernel's sums where no world has more than two weighted steps in force; else
        # (the steps in force as float64 in the run's buffer: the product NumPy forms of
        # the bool mask, without a new [n, K] array) NumPy's product
        summed = native_domestic.multilateral_share(c.multilateral, st.f_active.view(np.uint8))
        if summed is None:
            np.copyto(c.active, st.f_active)
            summed = _ratio(_dot(c.active, pl.f_multi, lay), pl.f_multi_sum)
        multi = summed
    e_holder, e_actor, e_col = _NO_ELECTION, _NO_ELECTION, _NO_ELECTION
    if native_domestic.INTERNAL_ELECTIONS in runs and t in ctx.election_steps:
        e_col = np.flatnonzero(sy.elections.step == t).astype(np.int64)
        e_holder = sy.elections.holder[e_col].astype(np.int64)
        e_actor = sy.elected[e_holder].astype(np.int64)
    # the state arrays are updated in place (none is held beyond the step)
    native_domestic.domestic_step(
        c.run, first, last, st.support, st.backing, st.vetting, st.disillusion, st.o_clout,
        st.o_reform.view(np.uint8), st.o_control.view(np.uint8), st.level, st.transient,
        st.backlash_events, hit.view(np.uint8), share,
        zeros if bite is None else bite, multi, st.hostile_f,
        st.f_active.view(np.uint8),
        st.share0, zeros[:0] if st.reform0 is None else st.reform0,
        zeros if draws is None else draws.support[:, t],
        zeros if draws is None else draws.backlash[:, t],
        e_holder, e_actor, e_col,
    )
    return hit, share


@dataclass(frozen=True)
class _DomesticConstants:
    """What :func:`_domestic` hands its kernel every step, computed once per run."""

    zeros: FloatArray  # [n] (read only)
    run: native_domestic.DomesticRun  # the kernel's constants and scratch
    hit: BoolArray  # [n] the backlash events of a call that also reads them
    share: FloatArray  # [n] the reformists' share before them, likewise
    active: FloatArray  # [n, K_f] the focal steps in force, as float64 (written each step)
    multilateral: native_domestic.MultilateralRun  # their multilateral share, in the kernel


def _domestic_constants(ctx: StepContext) -> _DomesticConstants:
    """The run's :class:`_DomesticConstants` (:meth:`StepContext.once`)."""
    sy, p, pl = ctx.system, ctx.system.params, ctx.plans
    so, r, n = sy.internal, sy.roles, ctx.layout.n
    reform_backing = ctx.rows(sy.focal.reform_backing, 1)
    return _DomesticConstants(
        zeros=np.zeros(n),
        run=native_domestic.DomesticRun(
            n, sy.low, sy.high, sy.span, r["sanctions"], r["reform"], sy.dt,
            so.mobile.view(np.uint8), so.reform.view(np.uint8), ctx.o_base_rows,
            reform_backing, ctx.rows(sy.elections.vetting, 1),
            leaf(pl.sanc_n0), leaf(p.demographic_drift), leaf(p.engagement_gain),
            leaf(p.rally_effect), leaf(p.dictation_effect), leaf(p.support_noise),
            leaf(p.backlash_hazard), leaf(p.backlash_threat_elasticity),
            leaf(p.backlash_backing_elasticity), leaf(p.backlash_severity),
            leaf(p.vetting_base), leaf(p.vetting_threat_rate), leaf(p.vetting_backlash_jump),
            leaf(p.vetting_decay), leaf(p.disillusion_rate), leaf(p.disillusion_backlash_jump),
            leaf(p.disillusion_decay), leaf(p.public_reform_support), ctx.clout_pace,
            leaf(p.turnout_sensitivity), leaf(p.election_bonus),
            native_domestic.backed_steps(reform_backing),
        ),
        hit=np.empty(n, dtype=np.bool_), share=np.empty(n),
        active=np.empty((n, sy.focal.n_instruments)),
        multilateral=native_domestic.MultilateralRun(
            n, ctx.rows(pl.f_multi, 1), leaf(pl.f_multi_sum)),
    )


def domestic_politics(
    ctx: StepContext, st: WorldState, t: int, bite: FloatArray, draws: StepDraws
) -> None:
    """Iranian domestic politics (docs/model.md 4): :func:`public_support`, :func:`backlash`,
    :func:`vetting_and_disillusion`, :func:`clout_drift` and :func:`internal_elections`, in
    that order, in one pass of the compiled kernel
    (:func:`detente.sim.native.domestic.domestic_step`).

    The same numbers as calling the five in turn; ``bite`` is :func:`sanctions_bite`.
    """
    _domestic(ctx, st, native_domestic.PUBLIC_SUPPORT, native_domestic.INTERNAL_ELECTIONS,
              t=t, bite=bite, draws=draws)


def public_support(
    ctx: StepContext, st: WorldState, t: int, bite: FloatArray, draws: StepDraws
) -> None:
    """Iran's public reform support ``S`` (docs/model.md 4).

    It drifts with demography, rises with visible gains from engagement (sanctions relief as
    it bites, section 5b, and U.S. multilateral steps in force), falls with the rally under
    U.S. hostility and sanctions read as dictation, plus noise. Compiled: ``_public_support``
    of :mod:`detente.sim.native.domestic` (the kernel takes the sanctions level's share of its
    range, as :func:`issue_share`; the U.S. multilateral share in force is taken before it:
    by :func:`detente.sim.native.domestic.multilateral_share` where no world has more than
    two such steps in force, else by a product).
    """
    _domestic(ctx, st, native_domestic.PUBLIC_SUPPORT, native_domestic.PUBLIC_SUPPORT, t=t,
              bite=bite, draws=draws)


def backlash(
    ctx: StepContext, st: WorldState, t: int, draws: StepDraws
) -> tuple[BoolArray, FloatArray]:
    """Visible U.S. backing of the reformers and conservative backlash events (docs/model.md 4).

    ``st.backing`` is the backing of the focal steps in force now (the next step's choice
    sees it too). Events arrive at a hazard rising with the reformists' clout share and the
    backing; an event cuts the unelected reformists' clout and the reform issue (fading).
    Compiled: ``_reform_share``, ``_visible_backing``, ``_backlash_hazard``,
    ``_backlash_hit`` and ``_backlash_reform_level`` of :mod:`detente.sim.native.domestic`.

    Returns
    -------
    hit : ndarray [n] of bool
        The worlds with a backlash event this step.
    share : ndarray [n]
        The reformists' clout share before the event.
    """
    return _domestic(ctx, st, native_domestic.BACKLASH, native_domestic.BACKLASH, t=t,
                     draws=draws)


def vetting_and_disillusion(
    ctx: StepContext, st: WorldState, hit: BoolArray, share: FloatArray
) -> None:
    """The closing of the system: candidate vetting and reformist disillusion (docs/model.md 4).

    Vetting rises with the reformists' share beyond its start and jumps after a backlash
    event; disillusion grows while the reform issue stands below its start and moves after
    an event (:mod:`detente.sim.mechanisms.closing`; compiled: ``_vetting_threat``,
    ``_reform_blocked``, ``_relax`` and ``_jump`` of :mod:`detente.sim.native.domestic`).
    """
    _domestic(ctx, st, native_domestic.VETTING_AND_DISILLUSION,
              native_domestic.VETTING_AND_DISILLUSION, hit=hit, share=share)


def clout_drift(ctx: StepContext, st: WorldState) -> None:
    """Mobile factions' and society's clout relaxes toward its base scaled by support
    (docs/model.md 4): ``S/S0`` for the reformists, ``(1 - S)/(1 - S0)`` for the others.
    Compiled: ``_clout_drift`` of :mod:`detente.sim.native.domestic`."""
    _domestic(ctx, st, native_domestic.CLOUT_DRIFT, native_domestic.CLOUT_DRIFT)


def internal_elections(ctx: StepContext, st: WorldState, t: int) -> None:
    """Iran's elections this step (docs/model.md 4, "Elections").

    The reform vote share among the admitted candidates, net of vetting and of the
    disillusioned reformists' abstention, decides who holds the institution; its holder
    takes the winning camp and a clout bonus growing with the margin. Compiled:
    ``_election_vote_share`` of :mod:`detente.sim.native.domestic`.
    """
    if t not in ctx.election_steps:
        return
    _domestic(ctx, st, native_domestic.INTERNAL_ELECTIONS, native_domestic.INTERNAL_ELECTIONS,
              t=t)


# ------------------------------------------------------------------ 5. environment, outcomes
@dataclass(frozen=True, eq=False)
class Jolts:
    """What this step's shocks and events did beyond the levels and clouts (section 5): read
    within the step (without events, rows of the shock kernel's run buffer, which the next
    step's shocks overwrite)."""

    menace: FloatArray  # [n] menace B: terror and WMD levels (shares) plus menacing hits
    menace_hits: FloatArray  # [n] menacing shocks and events (4b: what U.S. voters see)
    threat: FloatArray  # [n] jump of the regional threat
    settlement: FloatArray  # [n] jump of the settlement


def shocks_and_events(ctx: StepContext, st: WorldState, t: int, draws: StepDraws) -> Jolts:
    """The transient part of the levels fades; shocks and scheduled events hit (docs/model.md 5).

    Shocks arrive at their rates, move the levels (the moves fade at ``shock_decay``) and
    scale the clout of both sides' actors and of the third parties; a history replay's
    events do the same at their dates, right after the shocks.

    Compiled (:func:`detente.sim.native.environment.shock_rows_of`, ``jolt_rows`` for the
    events): a world's hits, and their summed moves only where a shock hit.
    """
    sy, pl, lay = ctx.system, ctx.plans, ctx.layout
    low, high = sy.low, sy.high
    c = ctx.once("shocks_and_events", partial(_shock_constants, ctx))
    level = np.empty_like(st.level)  # a new array, as the levels of every step are
    bad, menace_hits, jump_threat, jump_settle = native_env.shock_rows_of(
        c.run, st.level, level, st.transient, _shock_hits(ctx, draws)[t], st.f_clout,
        st.o_clout, st.third_clout,
    )
    if t in ctx.event_steps:
        events = sy.events
        assert events is not None
        now = events.step == t
        e_level, e_focal, e_internal, e_third = (
            _rows(_event_sum(x, now, lay), 1) for x in (
            events.effects, events.clout_focal, events.clout_internal, events.clout_third))
        native_env.jolt_rows(level, st.transient, low, high, e_level, e_focal, e_internal,
                             e_third, st.f_clout, st.o_clout, st.third_clout)
        jump_threat = jump_threat + _event_total(events.threat, now)
        jump_settle = jump_settle + _event_total(events.settlement, now)
        if ctx.menace_issues:
            event_menace = pl.event_menace
            if event_menace.ndim == 1:
                n_menace: Any = int(event_menace[now].sum())
            else:
                n_menace = event_menace[:, now].sum(axis=1)
            menace_hits = menace_hits + n_menace
            bad = bad + (n_menace > 0)
    st.level = level
    return Jolts(bad, menace_hits, jump_threat, jump_settle)


@dataclass(frozen=True)
class _ShockConstants:
    """What :func:`shocks_and_events` hands its kernel every step, computed once per run
    (the shocks' leaves as :meth:`StepContext.rows` lays them out)."""

    run: native_env.ShockRun  # the issues' bounds, the fade, the menace and the moves


def _shock_hits(ctx: StepContext, draws: StepDraws) -> NDArray[np.uint8]:
    """Every step's shock hits of the run, ``[T, n, S]``: ``uniform < chance``
    (:func:`detente.sim.native.environment.shock_hits`), formed once per run from the
    draws: a step's uniforms are a cache line apart (``[n, T, S]``), its hits contiguous."""
    # the draws' hits, by the draws' identity (each kept with its draws)
    kept: dict[int, tuple[StepDraws, NDArray[np.uint8]]] = ctx.once("shock_hits", dict)
    hits = kept.get(id(draws))
    if hits is None or hits[0] is not draws:
        n_s = ctx.system.shock_rate.shape[-1]
        hits = kept[id(draws)] = (draws, native_env.shock_hits(
            np.ascontiguousarray(draws.shocks[:, :, :n_s]), ctx.shock_chance))
    return hits[1]


def _shock_constants(ctx: StepContext) -> _ShockConstants:
    """The run's :class:`_ShockConstants` (:meth:`StepContext.once`)."""
    sy = ctx.system
    return _ShockConstants(run=native_env.ShockRun(
        ctx.layout.n, ctx.shock_fade, sy.low, sy.high, sy.span,
        np.array(ctx.menace_issues, dtype=np.int64), mask(_rows(ctx.plans.shock_menace, 1)),
        native_env.shock_moves(
            ctx.rows(sy.shock_effects, 2), ctx.rows(sy.shock_clout_focal, 2),
            ctx.rows(sy.shock_clout_internal, 2), ctx.rows(sy.shock_clout_third, 2),
            ctx.rows(sy.shock_threat, 1), ctx.rows(sy.shock_settlement, 1)),
        sy.focal.n_actors, sy.internal.n_actors, sy.environment.n_actors))


def environment_step(
    ctx: StepContext, st: WorldState, t: int, jolts: Jolts, played_o: FloatArray,
    draws: StepDraws,
) -> FloatArray:
    """The regional threat, the settlement and allied alignment move (docs/model.md 5).

    In this order (:mod:`detente.sim.mechanisms.environment`): the threat relaxes toward a
    target set by the hostile neighbours' clout and rises with U.S. hostility; the
    settlement advances at its hazard; the allies' friction with the focal side's line and
    Iran's moderation erode allied support, which menace restores. One compiled pass over
    the worlds (:func:`detente.sim.native.environment.environment_rows`) after NumPy's
    ``exp`` (:func:`~detente.sim.mechanisms.environment.threat_pace`, its push, rate and
    exponent formed by :func:`~detente.sim.native.environment.threat_pace_rows` in the run's
    buffers; the settlement's chance,
    :func:`~detente.sim.mechanisms.environment.settlement_chance`, once per run in
    :func:`step_context`).

    Returns
    -------
    friction : ndarray [n]
        The allies' friction this step (metric ``allied_friction``).
    """
    c = ctx.once("environment_step", partial(_environment_constants, ctx))
    # threat_pace's push, rate and exponent in the run's buffers, its exp in place
    push, rate, fade = native_env.threat_pace_rows(c, st.hostile_f)
    np.exp(fade, out=fade)
    st.threat, st.settlement, st.allied, friction = native_env.environment_rows(
        c, st.threat, push, rate, fade, st.third_clout, jolts.threat, st.settlement,
        draws.settlement[:, t], jolts.settlement, st.level, st.hostile_f, st.allied, played_o,
        jolts.menace,
    )
    return friction


def _environment_constants(ctx: StepContext) -> native_env.EnvironmentRun:
    """What :func:`environment_step` hands its kernel every step besides the state, laid out
    once per run (:meth:`StepContext.once`): parameters as :func:`leaf` gives them, the
    allies' rows as :meth:`StepContext.rows`."""
    sy, p = ctx.system, ctx.system.params
    env = sy.environment
    salience = ctx.rows(env.friction_weight, 2)
    return native_env.EnvironmentRun(
        ctx.rows(env.clout, 1), env.threat.view(np.uint8), leaf(p.threat_initial),
        leaf(p.threat_regional_share), leaf(p.threat_decay), ctx.settle_chance,
        leaf(p.settlement_progress), ctx.rows(env.position, 2), salience, sy.span,
        sy.focal.direction, leaf(p.friction_symmetry), leaf(p.neutral_level),
        leaf(p.allied_erosion), leaf(p.allied_recovery), leaf(p.moderation_via_friction),
        float(sy.dt), native_env.weighted_terms(salience), leaf(p.threat_hostility),
        ctx.layout.n,
    )


def costs_and_reciprocity(
    ctx: StepContext, st: WorldState, t: int, new_f: BoolArray, new_o: BoolArray
) -> None:
    """Unreciprocated concessions, U.S. domestic cost and the time to reciprocation
    (docs/model.md 5 and 4c, "The trade").

    ``U`` grows with the focal conciliatory gesture started and falls with Iran's; the cost
    decays, adds the executive's own steps started (discounted by a trade in force;
    Congress's acts cost it nothing) and the naivety of ``U``; Iran's first conciliatory
    start after a U.S. offer sets the time to reciprocation.
    """
    sy, pl, lay = ctx.system, ctx.plans, ctx.layout
    sf = sy.focal
    c = ctx.once("costs_and_reciprocity", partial(_cost_constants, ctx))
    # the legislature's own acts cost the executive nothing; a trade for its support
    # cheapens the concessions that follow (4c)
    # (congress.trade_discount: its factor multiplies the conciliatory steps' cost)
    offered = st.f_offered.view(np.uint8)
    new_f8, new_o8, by_leg = mask(new_f), mask(new_o), mask(st.f_by_leg)
    factor = congress.trade_factor(st.f_active, c.discount, started=new_f, keep=c.log_keep)
    # recip = gesture_o > 0 & offered & not yet, U = max(0, U + gesture_f - gesture_o),
    # C = (1 - decay) C + paid cost + naivety U; the sums over the steps started are formed
    # in the kernel where their order cannot matter, else by BLAS
    first, unreciprocated, cost, redo = native_impl.started_costs_by_state(
        new_f8, new_o8, by_leg, factor, c.gest_pos, c.gp_f, c.gp_o, c.cost, offered,
        st.first_reciprocation, st.unreciprocated, st.cost, c.keep, c.naivety, sy.horizon, t,
        len(lay.seeds))
    if redo is not None:
        # the states where that order could matter: their books from BLAS's sums, formed on
        # their rows only (all rows at once when every state needs them, as in a one-state run)
        states = np.flatnonzero(redo)
        every = len(states) == len(redo)
        rows: Any = slice(None) if every else (
            states[:, None] * lay.n_each + np.arange(lay.n_each)).ravel()
        gest_pos = _rows(pl.f_gest_pos, 1)
        w_f, w_o, paid = native_impl.started_weights(
            new_f8[rows], new_o8[rows], by_leg[rows], factor[rows],
            mask(gest_pos if every or gest_pos.shape[0] == 1 else gest_pos[rows]))
        books = native_impl.book_costs(
            _dot_states(w_f, pl.gp_f, lay, states), _dot_states(w_o, pl.gp_o, lay, states),
            _dot_states(paid, sf.cost, lay, states), offered[rows],
            st.first_reciprocation[rows], st.unreciprocated[rows], st.cost[rows],
            c.keep if every or c.keep.shape[0] == 1 else c.keep[states],
            c.naivety if every or c.naivety.shape[0] == 1 else c.naivety[states], sy.horizon, t)
        if every:
            first, unreciprocated, cost = books
        else:
            first[rows], unreciprocated[rows], cost[rows] = books
    st.first_reciprocation, st.unreciprocated, st.cost = first, unreciprocated, cost


@dataclass(frozen=True)
class _CostConstants:
    """What :func:`costs_and_reciprocity` and :func:`us_elections` hand their kernels every
    step, computed once per run (leaves as :meth:`StepContext.rows` lays them out)."""

    discount: FloatArray  # [m, K_f] the trades' discounts
    log_keep: FloatArray  # congress.trade_keep of discount
    gest_pos: NDArray[np.uint8]  # [m, K_f] the focal conciliatory steps
    gp_f: FloatArray
    gp_o: FloatArray
    gn_o: FloatArray
    cost: FloatArray
    keep: FloatArray  # 1 - us_cost_decay (one value or one per state, StepContext.param)
    naivety: FloatArray  # (one value or one per state)


def _cost_constants(ctx: StepContext) -> _CostConstants:
    """The run's :class:`_CostConstants` (:meth:`StepContext.once`)."""
    p, pl, sf = ctx.system.params, ctx.plans, ctx.system.focal
    discount = ctx.rows(sf.discount, 1)
    return _CostConstants(
        discount=discount, log_keep=congress.trade_keep(discount),
        gest_pos=mask(ctx.rows(pl.f_gest_pos, 1)), gp_f=ctx.rows(pl.gp_f, 1),
        gp_o=ctx.rows(pl.gp_o, 1), gn_o=ctx.rows(pl.gn_o, 1), cost=ctx.rows(sf.cost, 1),
        keep=ctx.param(1 - p.us_cost_decay), naivety=ctx.param(p.naivety_cost),
    )


def us_elections(
    ctx: StepContext, st: WorldState, t: int, new_o: BoolArray, menace_hits: FloatArray
) -> None:
    """The voters' verdict at focal elections (docs/model.md 4b).

    Between congressional elections the record accumulates: Iran's conciliatory and hostile
    gestures started (each step once a term) and the menacing shocks. A congressional
    election sets Congress's hawk/engager balance to the verdict on that record (moving its
    factions' clout and its floor's positions), revives vetoed bills and starts a new
    record; a presidential one restores political capital.
    """
    fe = ctx.system.focal_elections
    if fe is None:
        return
    p, pl, lay = ctx.system.params, ctx.plans, ctx.layout
    # the first step sets the starting posture the scenario's Congress saw; the gestures of
    # the steps not yet counted are summed in the kernel where their order cannot matter
    c = ctx.once("costs_and_reciprocity", partial(_cost_constants, ctx))
    if t > 0 and not native_impl.record_gestures(
            mask(new_o), st.counted_this_term.view(np.uint8), c.gp_o, c.gn_o, menace_hits,
            st.reciprocated_since, st.hostile_since):
        fresh = (new_o & ~st.counted_this_term).astype(np.float64)
        st.counted_this_term |= new_o
        st.reciprocated_since += _dot(fresh, pl.gp_o, lay)
        st.hostile_since += _dot(fresh, pl.gn_o, lay) + menace_hits
    if t not in ctx.focal_election_steps:
        return
    here = fe.step == t
    if (here & fe.legislature).any():
        _new_congress(ctx, st)
    if (here & ~fe.legislature).any():
        st.cost = (1 - p.us_mandate_renewal) * st.cost


def _new_congress(ctx: StepContext, st: WorldState) -> None:
    """A congressional election (docs/model.md 4b): the new balance and what it moves."""
    sy, p, pl = ctx.system, ctx.system.params, ctx.plans
    fe, n = sy.focal_elections, ctx.layout.n
    assert fe is not None
    verdict = election_verdict(st.reciprocated_since, st.unreciprocated, st.hostile_since,
                               p.us_election_swing)
    st.balance = verdict  # the new Congress reflects the last term's record
    st.reciprocated_since = np.zeros(n)
    st.hostile_since = np.zeros(n)
    st.counted_this_term[:] = False
    st.killed[:] = False  # a new Congress may bring back a vetoed bill
    st.f_factor = balance_clout(st.balance, fe.hawk, fe.engager)
    if fe.floor >= 0:
        f_pos0, shape = pl.f_pos0, (len(sy.issues), n, sy.focal.n_actors)
        k = ctx.once("new_congress", partial(_election_constants, ctx))
        # the positions a former election of this run built ([I, n, A], the run's own):
        # only the floor's column moves, written in place; else a new array (a copy of the
        # starting ones laid out so, as the initial state has them per world)
        if k.built and st.f_pos is k.built[0]:
            fp = st.f_pos
        else:
            if f_pos0.ndim == 2:
                fp = np.broadcast_to(f_pos0.T[:, None, :], shape).copy()
            elif st.f_pos.shape == shape and st.f_pos.dtype == np.float64:
                fp = np.array(st.f_pos, order="C")  # f_pos0.transpose(2, 0, 1), copied
            else:
                fp = f_pos0.transpose(2, 0, 1).copy()
            k.built[:] = [fp]
        # _clip(floor_position(x0, hawk, engager, balance), low, high) into the floor's
        # column, world by world
        native_congress.floor_positions_into(
            k.base, k.hawk, k.engager, np.asarray(st.balance, dtype=np.float64), k.low, k.high,
            fp, fe.floor)
        st.f_pos = fp


@dataclass(frozen=True, eq=False)
class _ElectionConstants:
    """What :func:`_new_congress` hands its kernel at each congressional election, once per
    run (``ctx.once``): the arguments of :func:`floor_position` but the balance (the
    scenario's floor ``x0``, and the hawks' and engagers' positions where the floor has a
    stake and the group a position, else ``x0``), one row or one per state, and the issues'
    bounds; and the positions an election of this run built."""

    base: FloatArray  # [1 or m, I]
    hawk: FloatArray
    engager: FloatArray
    low: FloatArray  # [I]
    high: FloatArray
    built: list[FloatArray]  # the run's own [I, n, A] positions, once built


def _election_constants(ctx: StepContext) -> _ElectionConstants:
    """The run's :class:`_ElectionConstants`."""
    sy, pl, lay = ctx.system, ctx.plans, ctx.layout
    fe = sy.focal_elections
    assert fe is not None and fe.floor >= 0
    c = np.ascontiguousarray
    x0 = per_state_rows(pl.f_pos0[..., fe.floor, :], lay, 1)
    moves = pl.f_stake[fe.floor]

    def group(position: FloatArray) -> FloatArray:
        at = per_state_rows(position, lay, 1)
        return c(np.where(moves & ~np.isnan(at), at, x0), dtype=np.float64)

    return _ElectionConstants(
        base=c(x0, dtype=np.float64), hawk=group(fe.hawk_position),
        engager=group(fe.engager_position), low=c(sy.low, dtype=np.float64),
        high=c(sy.high, dtype=np.float64), built=[])


def rapprochement(ctx: StepContext, st: WorldState) -> None:
    """Rapprochement: the dialogue level has reached ``dialogue_threshold`` of its range
    (docs/model.md 5); once reached it stays reached (``st.opened``)."""
    j = ctx.system.roles["dialogue"]
    if j >= 0:
        native_env.opened_rows(st.level, j, ctx.once("rapprochement", partial(
            _dialogue_threshold, ctx, j)), st.opened.view(np.uint8))


def _dialogue_threshold(ctx: StepContext, j: int) -> FloatArray:
    """The dialogue level of rapprochement, ``low + dialogue_threshold · span`` of issue
    ``j`` (one value, or one per world, as :func:`leaf` gives it): once per run."""
    sy = ctx.system
    return leaf(sy.low[j] + sy.params.dialogue_threshold * sy.span[j])


def record_metrics(
    ctx: StepContext, st: WorldState, played_f: FloatArray, played_o: FloatArray,
    friction: FloatArray,
) -> tuple[tuple[Any, ...], _Recording]:
    """Every step metric of :data:`METRICS` at the end of the step (docs/model.md, "Metrics"):
    the values in the order of :data:`_RECORDED` and how to read each (the run's
    :class:`_Recording`), as :meth:`Trajectories.store` keeps them.

    A value is ``[n]``, or an ``[n, k]`` array of which the metric is a column (an issue's
    level, a reformist institution), or none (its role is missing: the metric is 0). The
    beliefs are handed over as ``exp(-log odds)``; the kernel finishes :func:`_expit`.
    """
    rec = ctx.once("record_metrics", partial(_recording, ctx))
    # the beliefs' exp(-x) of _expit, for both sides in one call
    np.negative(st.log_odds_f, out=rec.exp_f)
    np.negative(st.log_odds_o, out=rec.exp_o)
    np.exp(rec.exps, out=rec.exps)
    level, o_ctrl = st.level, st.o_control
    # clout-weighted share of the reformist camp; NumPy's pairwise sums (float64 C order)
    share = native_domestic.reform_share(st.o_clout, mask(st.o_reform))
    values = (
        share, o_ctrl, o_ctrl, *(level,) * len(_ISSUE_LEVEL_METRICS), st.opened, st.allied,
        st.cost, st.unreciprocated, st.support, rec.exp_f, rec.exp_o, played_f, played_o,
        st.balance, st.vetting, st.disillusion, st.threat, st.settlement, friction,
    )
    return values, rec


#: The metrics :func:`record_metrics` gives, in the order it gives them.
_RECORDED: tuple[str, ...] = (
    "reform_share", "legislature_reform_majority", "presidency_reform", *_ISSUE_LEVEL_METRICS,
    "rapprochement", "allied_support", "focal_domestic_cost", "unreciprocated",
    "public_support", "focal_belief", "internal_belief", "focal_level", "internal_level",
    "focal_legislature_balance", "vetting", "disillusion", "regional_threat", "settlement",
    "allied_friction",
)


@dataclass(frozen=True, eq=False)
class _Recording:
    """How a run's :func:`record_metrics` values are read, and its buffers (once per run)."""

    codes: NDArray[np.int64]  # per value: a column of an [n, k] array, or native VECTOR, ...
    rows: NDArray[np.int64]  # per value: its metric's row in METRICS' order
    exps: FloatArray  # [2, n] the beliefs' exp(-log odds), focal then internal
    exp_f: FloatArray  # exps[0]
    exp_o: FloatArray  # exps[1]


def _recording(ctx: StepContext) -> _Recording:
    """The run's :class:`_Recording`; refuses a registry the engine does not match."""
    if set(_RECORDED) != set(METRICS):
        raise RuntimeError(
            "the engine records metrics the registry (detente.metrics) does not list, or "
            f"misses some it lists: {sorted(set(_RECORDED) ^ set(METRICS))}"
        )
    sy, r = ctx.system, ctx.system.roles
    vector, zero = native_recording.VECTOR, native_recording.ZERO
    codes = dict.fromkeys(_RECORDED, vector)
    codes["focal_belief"] = codes["internal_belief"] = native_recording.EXPIT
    for m, role in (("legislature_reform_majority", "legislature"),
                    ("presidency_reform", "presidency")):
        codes[m] = sy.reported.get(role, zero)
    for m, role in _ISSUE_LEVEL_METRICS.items():
        codes[m] = r[role] if r[role] >= 0 else zero
    exps = np.empty((2, ctx.layout.n))
    return _Recording(
        codes=np.array([codes[m] for m in _RECORDED], dtype=np.int64),
        rows=np.array([METRICS.index(m) for m in _RECORDED], dtype=np.int64),
        exps=exps, exp_f=exps[0], exp_o=exps[1],
    )


@dataclass(eq=False)
class Trajectories:
    """What a run keeps per step: the metrics and, when asked, the steps in force and levels.

    Each step's metrics are staged step-major (one contiguous row per metric and step, which
    a step writes cheaply) and moved into the result's world-major layout once, after the
    last step (staging a few steps at a time and moving them more often cost 2.7 times as
    much: each move wrote part of every world's cache lines). The state, when recorded, is
    written straight into the result's ``[n, T, ...]`` layout.
    """

    metrics: NDArray[np.float32]  # [M, n, T] metric by metric (METRICS' order), world-major
    staged: NDArray[np.float32]  # [M, T, n] the steps, step-major
    in_force: BoolArray | None  # [n, T, K_f + K_o] (the result's layout)
    levels: NDArray[np.float32] | None  # [n, T, I]

    @classmethod
    def allocate(cls, system: System, n: int, steps: int, record_state: bool) -> Trajectories:
        """Arrays for ``steps`` steps of ``n`` worlds (each step's entries written by
        :meth:`store`)."""
        k = system.focal.n_instruments + system.internal.n_instruments
        return cls(
            np.empty((len(METRICS), n, steps), dtype=np.float32),
            np.empty((len(METRICS), steps, n), dtype=np.float32),
            np.empty((n, steps, k), dtype=bool) if record_state else None,
            np.empty((n, steps, len(system.issues)), dtype=np.float32) if record_state else None,
        )

    def store(self, t: int, metrics: tuple[tuple[Any, ...], _Recording], st: WorldState) -> None:
        """Keep step ``t``'s metrics (:func:`record_metrics`; and state, when recorded)."""
        values, rec = metrics
        if t == 0:
            kinds = {np.dtype(np.float64), np.dtype(np.bool_)}
            odd = [m for m, v, c in zip(_RECORDED, values, rec.codes, strict=True)
                   if c != native_recording.ZERO and np.asarray(v).dtype not in kinds]
            if odd:
                raise TypeError(f"metrics neither float64 nor bool: {odd}")
        native_recording.record_step(self.staged, t, values, rec.codes, rec.rows)
        if t == self.metrics.shape[2] - 1:
            native_recording.flush(self.staged, self.metrics, 0, t + 1)
        if self.in_force is not None and self.levels is not None:
            k_f = st.f_active.shape[1]
            self.in_force[:, t, :k_f] = st.f_active
            self.in_force[:, t, k_f:] = st.o_active
            self.levels[:, t] = st.level

    def result(self, st: WorldState) -> ChunkResult:
        """The run's :class:`ChunkResult` (world-major) from the final state."""
        metrics = dict(zip(METRICS, self.metrics, strict=True))
        res = ChunkResult(metrics, st.first_reciprocation, st.backlash_events, st.excess,
                          st.f_active, st.o_active)
        res.in_force, res.levels = self.in_force, self.levels
        return res


def run_layout(
    system: System,
    plans: Plans,
    focal_strategy: Strategy,
    layout: Layout,
    *,
    opponent: Strategy | None = None,
    focal_unitary: bool = False,
    record_state: bool = False,
    horizon: int | None = None,
) -> ChunkResult:
    """Simulate the worlds of ``layout``: :func:`run_chunk` for one or several states.

    ``system`` and ``plans`` may carry per-world leaves (one row per world of the layout)
    where the states differ (:func:`detente.sim.stacked.stack_leaves`); each state's rows
    then give exactly what a run of that state alone gives. ``horizon`` stops stepping after
    that many steps (the random numbers are still drawn for the full horizon, so the steps
    run are the same); the result then covers those steps only.

    Each step calls the mechanisms in the order of docs/model.md's sections, each a function
    over the explicit :class:`~detente.sim.world_state.WorldState`.
    """
    sy, p = system, system.params
    n = layout.n
    n_run = sy.horizon if horizon is None else max(0, min(int(horizon), sy.horizon))
    draws = shared_step_numbers(sy, layout)
    focal_strategy.reset(n, layout.stream("strategy", "focal"))
    view_rng_f = layout.stream("strategy", "focal", "view")
    view_rng_o = None
    if opponent is not None:
        opponent.reset(n, layout.stream("strategy", "internal"))
        view_rng_o = layout.stream("strategy", "internal", "view")
    ctx = step_context(sy, plans, layout, focal_unitary)
    st = initial_state(sy, plans, layout)
    out = Trajectories.allocate(sy, n, n_run, record_state)
    for t in range(n_run):
        # 1. choice; Iran's response to the changes since the start (section 2)
        b_f, b_o, lev_f = choose(ctx, st, t, focal_strategy, view_rng_f)
        bite = sanctions_bite(st.allied, p.allied_support_initial, p.allied_sanctions_share)
        pos_o = internal_positions(ctx, st, b_o, bite)
        # 2. ratification, Congress's own acts (4c), delays
        prospective, pending_f, pending_o = prospective_levels(ctx, st)
        prop = focal_proposals(ctx, st, t, lev_f, pending_f, draws)
        app_f, clout_f = ratify_focal(ctx, st, prop.candidates, b_f, prospective)
        if opponent is not None:
            assert view_rng_o is not None
            app_o, drop_o = unitary_opponent(ctx, st, t, b_o, pending_o, opponent, view_rng_o)
        else:
            app_o, drop_o = internal_bargain(ctx, st, b_o, pos_o, prospective, pending_o)
        committed = st.f_active | (pending_f & ~prop.cancelled) | app_f
        if prop.forced is not None:
            committed |= prop.forced
        if not prop.scripted:
            app_f = congress_bills(ctx, st, t, lev_f, app_f, committed, prospective, clout_f,
                                   draws, prop.requires_ok)
        forced = law_sunsets(ctx, st, t, committed, prop.forced, prop.withdrawn)
        schedule_starts(ctx, st, t, app_f, app_o, forced, draws)
        # 3. implementation, perception and beliefs
        new_f, new_o = implement(ctx, st, t, prop.withdrawn, drop_o, forced)
        play_f, play_o = played_levels(ctx, st, t)
        perceive_and_learn(ctx, st, t, play_f, play_o, draws)
        # 4. Iranian domestic politics
        domestic_politics(ctx, st, t, bite, draws)
        # 5. shocks, the environment, costs, U.S. elections (4b), outcomes
        jolts = shocks_and_events(ctx, st, t, draws)
        friction = environment_step(ctx, st, t, jolts, play_o, draws)
        costs_and_reciprocity(ctx, st, t, new_f, new_o)
        us_elections(ctx, st, t, new_o, jolts.menace_hits)
        rapprochement(ctx, st)
        out.store(t, record_metrics(ctx, st, play_f, play_o, friction), st)
    return out.result(st)


def triangular_delay(
    side: Side, k: IntArray, u: FloatArray, w: IntArray | None = None
) -> FloatArray:
    """Inverse-CDF draw of instrument ``k``'s triangular delay from uniforms ``u`` (same shape).

    ``w``: the worlds of the draws, where the delays are per world (the stacked engine).
    """
    # a + sqrt(u w (c - a)) below the mode's quantile (c - a) / w, b - sqrt((1 - u) w (b - c))
    # above it, w = b - a; the mode where w = 0
    k_, u_ = np.broadcast_arrays(np.asarray(k, dtype=np.int64), np.asarray(u, dtype=np.float64))
    w_ = np.zeros(k_.shape, dtype=np.int64) if w is None else np.broadcast_to(w, k_.shape)
    return np.asarray(native_impl.triangular_delays(
        _rows(side.delay_low, 1), _rows(side.delay_mode, 1), _rows(side.delay_high, 1),
        k_.ravel(), u_.ravel(), np.asarray(w_, dtype=np.int64).ravel(),
    )).reshape(k_.shape)


def schedule(side: Side, approved: BoolArray, u: FloatArray, start: IntArray, t: int) -> None:
    """Set the start step of newly approved instruments in place: ``t + round(delay)``.

    Delays are drawn (from the pre-drawn uniforms ``u[n, K']``) only where a step was approved,
    which gives the same numbers as drawing them everywhere.
    """
    native_impl.schedule(mask(approved), u, start, _rows(side.delay_low, 1),
                         _rows(side.delay_mode, 1), _rows(side.delay_high, 1), t)


def voted(
    side: Side,
    plan: VotePlan,
    cand: BoolArray,
    level: FloatArray,
    position: FloatArray | NDArray[np.float32],
    clout: FloatArray,
    span: FloatArray,
    sign: float,
    threshold: Any,
    proposer: int = -1,
    trust: tuple[BoolArray, FloatArray, Any, FloatArray] | None = None,
) -> BoolArray:
    """Candidates that win the weighted vote (``support >= threshold``).

    ``proposer`` (an actor index, -1 for none) is the executive whose own proposals these are:
    it counts in favour whatever its ideal point (the strategy under test is its choice).
    ``trust`` ``(gate, belief, threshold, rel)``: the trust gate (docs/model.md 2), a
    condition of approval checked before the vote, so that a gated candidate without the
    belief ``threshold * rel`` loses (``threshold`` and ``rel`` shared or per world).

    Each instrument's vote is computed only in the worlds where it is a candidate (elsewhere
    the result is not used): a share of clout x salience preferring the move, 0.5 where no
    actor cares. The loops over (world, candidate) pairs are compiled
    (:func:`detente.sim.native.votes.voted_pairs`): a single-issue move keeps only the sign
    that matters, ``x - (L + d/2)`` (times ``sgn d``); a multi-issue one sums
    ``|L - x| - |L + d - x| = clip(sgn(d) (2 (x - L) - d), -|d|, |d|)`` weighted by
    salience / range over its issues, in issue order, in float32.
    """
    pos = position if position.ndim == 3 else position.T[:, None, :]
    c = np.ascontiguousarray
    if trust is None:
        gate, belief, trusted, rel = _NO_GATE, _NO_BELIEF, _NO_BELIEF, _NO_REL
    else:
        gate, belief, trusted, rel = (mask(trust[0]), c(trust[1], dtype=np.float64),
                                      leaf(trust[2]), _rows(trust[3], 1))
    return np.asarray(native_votes.voted_pairs(
        mask(cand), c(level), c(pos), c(clout), _vote_tables(plan), float(sign),
        leaf(threshold), proposer, gate, belief, trusted, rel,
    ), dtype=bool)


def _vote_tables(plan: VotePlan) -> native_votes.VoteTables:
    """The vote kernel's tables of ``plan`` (:class:`~detente.sim.native.votes.VoteTables`),
    laid out on its first vote and dropped with it (:func:`_plan_tables`)."""
    return _plan_tables("vote", plan, (), lambda: native_votes.VoteTables(
        _rows(plan.effects, 2), np.ascontiguousarray(plan.n_iss),
        np.ascontiguousarray(plan.iss_pad), _rows(plan.usal_pad, 3),
        np.ascontiguousarray(plan.tol), _rows(plan.sal_kt, 2)))



__all__ = [
    "METRICS",
    "ChunkResult",
    "Jolts",
    "Layout",
    "Plans",
    "Proposals",
    "StepContext",
    "Trajectories",
    "backlash",
    "balance_clout",
    "choose",
    "chunk_plans",
    "clout_drift",
    "congress_bills",
    "costs_and_reciprocity",
    "domestic_politics",
    "election_verdict",
    "environment_step",
    "floor_position",
    "floor_vote",
    "focal_proposals",
    "implement",
    "internal_bargain",
    "internal_elections",
    "internal_positions",
    "issue_share",
    "ladder",
    "law_sunsets",
    "perceive_and_learn",
    "played_levels",
    "posture",
    "prospective_levels",
    "public_support",
    "rapprochement",
    "ratify",
    "ratify_focal",
    "ratify_plan",
    "record_metrics",
    "reported_metrics",
    "requires_met",
    "run_chunk",
    "run_layout",
    "sanctions_bite",
    "schedule_starts",
    "shocks_and_events",
    "step_context",
    "unitary_opponent",
    "us_elections",
    "vetting_and_disillusion",
]
