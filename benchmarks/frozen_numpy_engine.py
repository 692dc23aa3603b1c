"""A frozen copy of the NumPy engine, for benchmarks only (not part of the package).

This is ``src/detente/sim/engine.py`` as it was at commit 04142fd, before its hot steps were
compiled, kept here so ``benchmarks/bench_engine.py`` can time the NumPy engine and the
current one in the same process on the same worlds. Its mechanisms are the frozen copies of
``benchmarks/frozen_numpy_mechanisms``; state, random streams and strategies come from the
package; nothing in ``src`` imports it.
Do not edit it except to keep it importable.
"""
# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.metrics import REGISTRY, metrics_for, step_metrics
from frozen_numpy_mechanisms.domestic_bargain import veto_loss
from frozen_numpy_mechanisms import congress
from frozen_numpy_mechanisms.closing import (
    backlash_hazard,
    disillusion_update,
    election_vote_share,
    reform_blocked,
    vetting_update,
    visible_backing,
)
from frozen_numpy_mechanisms.environment import (
    alignment_update,
    allied_friction,
    regional_strength,
    settlement_update,
    threat_update,
)
from frozen_numpy_mechanisms.iran_response import (
    IranDrivers,
    condition_fulfilment,
    dictation_pressure,
    iran_positions,
    response_spans,
)
from detente.sim.rng import StackedRNG, WorldRNG, name_key
from detente.sim.strategies import Strategy, View
from detente.sim.system import LegislativePlan, Side, System
from detente.sim.world_state import (
    NEVER,
    StepDraws,
    WorldState,
    draw_step_numbers,
    initial_state,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


def _drawn(draws: StepDraws) -> StepDraws:
    """The draws as this engine read them: the delays' uniforms drawn up front as arrays
    (the package's engine computes them where it uses them; the numbers are the same)."""
    import dataclasses

    return dataclasses.replace(draws, delay_f=draws.delay_f.values(),
                               delay_o=draws.delay_o.values())


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
    """A leaf of ``nd`` dims shared by all worlds gets a leading axis of 1; per world, as is."""
    return x[None] if x.ndim == nd else x


def _at(x: Any, nd: int, w: Any, *idx: Any) -> Any:
    """``x[idx]`` of a shared leaf of ``nd`` dims, ``x[w, *idx]`` of a per-world one."""
    return x[(w, *idx)] if x.ndim > nd else x[idx]


def _dot(a: Any, b: Any, lay: Layout | None, nd: int = 1) -> Any:
    """``a @ b`` for ``b`` shared (``nd`` dims) or per world (one matrix per state).

    Per world, each state's rows are multiplied by that state's matrix: the same product,
    on the same rows, as a run of that state alone (so the same floating-point sums).
    """
    if b.ndim == nd:
        return a @ b
    assert lay is not None
    out = np.empty(a.shape[:1] + b.shape[2:])
    for sl in lay.slices:
        out[sl] = a[sl] @ b[sl.start]
    return out


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
    conc = _clip((level - neutral) / np.maximum(1.0 - neutral, 1e-9), 0.0, 1.0)
    host = _clip((neutral - level) / np.maximum(neutral, 1e-9), 0.0, 1.0)
    return np.asarray(
        (_rows(side.conc_rank, 1) <= conc[:, None] + 1e-9)
        | (_rows(side.host_rank, 1) <= host[:, None] + 1e-9)
    )


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
    w = active.astype(np.float64) + _col(p.announce_weight) * pending.astype(np.float64)
    conc = _ratio(_dot(w, gp, lay), sp)
    host = _ratio(_dot(w, gn, lay), sn)
    nl = p.neutral_level
    return _clip(nl + (1 - nl) * conc - nl * host, 0.0, 1.0), conc, host


@dataclass(frozen=True)
class VotePlan:
    """Static per-side quantities of :func:`vote`, computed once per chunk.

    Single-issue instruments use the median rule (an actor prefers a move ``d`` on one issue
    iff its ideal point lies beyond ``L + d/2``); multi-issue ones sum salience-weighted gains.
    """

    single_k: IntArray
    single_i: IntArray
    single_d: FloatArray
    single_w: NDArray[np.float32]  # [A, S] salience of the pair's issue
    multi_k: IntArray  # instruments with several issues
    pair_k: IntArray  # their (instrument, issue) pairs
    pair_i: IntArray
    pair_d: FloatArray
    pair_m: NDArray[np.float32]  # [P, Km] pair -> instrument (position in multi_k)
    multi_w: NDArray[np.float32]  # [A, Km] salience summed over the instrument's issues
    sal_k: NDArray[np.float32]  # [A, K] salience summed over each instrument's issues
    tol: NDArray[np.float32]  # [K] gains within this of zero are indifference
    sal_kt: NDArray[np.float32]  # [K, A] sal_k transposed
    n_iss: IntArray  # [K] number of issues each instrument moves
    iss_pad: IntArray  # [K, J] issues per instrument, padded with its first issue
    usal_pad: NDArray[np.float32]  # [K, J, A] salience / issue range, zero where padded


def vote_plan(side: Side, span: FloatArray) -> VotePlan:
    """Precompute the static index arrays and weights :func:`vote` needs for ``side``."""
    nz = side.effects != 0
    n_iss = nz.sum(axis=1)
    single = np.flatnonzero(n_iss == 1)
    multi = np.flatnonzero(n_iss > 1)
    s_i = np.array([int(np.flatnonzero(nz[k])[0]) for k in single], dtype=np.int64)
    kk, ii = np.nonzero(nz[multi]) if multi.size else (np.zeros(0, int), np.zeros(0, int))
    pm = np.zeros((kk.size, multi.size), dtype=np.float32)
    pm[np.arange(kk.size), kk] = 1.0
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
        single_k=single.astype(np.int64),
        single_i=s_i,
        single_d=side.effects[single, s_i] if single.size else np.zeros(0),
        single_w=sal[:, s_i].astype(np.float32),
        multi_k=multi.astype(np.int64),
        pair_k=multi[kk].astype(np.int64),
        pair_i=ii.astype(np.int64),
        pair_d=side.effects[multi[kk], ii] if kk.size else np.zeros(0),
        pair_m=pm,
        multi_w=(sal[:, ii] @ pm.astype(np.float64)).astype(np.float32)
        if kk.size
        else np.zeros((side.n_actors, 0), dtype=np.float32),
        sal_k=(sal @ nz.T.astype(np.float64)).astype(np.float32),
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
    )


def vote(
    side: Side,
    level: FloatArray,
    position: FloatArray | NDArray[np.float32],
    clout: FloatArray,
    span: FloatArray,
    sign: float,
    only: BoolArray | None = None,
    plan: VotePlan | None = None,
) -> FloatArray:
    """Weighted-majority support for each of the side's instruments (``sign=-1``: reversal).

    ``position`` (``[A, I]`` or ``[n, A, I]``) must have no NaN (actors without a stake carry
    zero salience). Only the sign of each actor's gain matters, so a single-issue move is
    decided by comparing ideal points with the midpoint ``L + d/2`` (Black's median rule, no
    distances computed); multi-issue moves sum salience-weighted gains in float32.
    Instruments outside ``only`` get 0.5 (not computed).

    Returns ``[n, K]`` shares of clout x salience preferring the move to the status quo.
    """
    if plan is None:
        plan = vote_plan(side, span)
    n = level.shape[0]
    sup = np.full((n, side.n_instruments), 0.5)
    f32 = np.float32
    c = clout.astype(f32)
    pos = position if position.ndim == 3 else position[None, :, :]
    # single-issue instruments: median rule
    sel = np.ones(plan.single_k.size, bool) if only is None else only[plan.single_k]
    if sel.any():
        ks, is_ = plan.single_k[sel], plan.single_i[sel]
        d = sign * plan.single_d[sel]
        thr = (level[:, is_] + 0.5 * d).astype(f32)
        diff = pos[:, :, is_] - thr[:, None, :]
        diff *= np.sign(d).astype(f32)
        tol = (1e-9 * span[is_]).astype(f32)
        cw = c[:, :, None] * plan.single_w[None, :, sel]
        pro = (cw * (diff > tol)).sum(axis=1)
        con = (cw * (diff < -tol)).sum(axis=1)
        tot = pro + con
        sup[:, ks] = np.where(tot > 0, pro / np.where(tot > 0, tot, 1), 0.5)
    # multi-issue instruments: salience-weighted gains summed over their issues
    if plan.multi_k.size and (only is None or only[plan.multi_k].any()):
        ii = plan.pair_i
        d = (sign * plan.pair_d).astype(f32)
        lv = level[:, ii].astype(f32)[:, None, :]
        pp = pos[:, :, ii]
        g = np.abs(lv - pp)
        g -= np.abs(lv + d - pp)
        g *= (side.salience[:, ii] / span[ii]).astype(f32)
        gain = g @ plan.pair_m
        eps = f32(1e-7)
        w = plan.multi_w
        pro = np.einsum("wa,wak->wk", c, (gain > eps) * w)
        con = np.einsum("wa,wak->wk", c, (gain < -eps) * w)
        tot = pro + con
        sup[:, plan.multi_k] = np.where(tot > 0, pro / np.where(tot > 0, tot, 1), 0.5)
    return sup


@dataclass(frozen=True)
class Check:
    """One consent check of :func:`ratify`: an actor's loss on some issues against a tolerance.

    ``stake`` is the actor's stake on those issues (all True for a third party, whose
    position is ``position``; ``holder`` is -1 then). ``veto`` marks a veto player's check
    (its margin counts in the reported excess).
    """

    holder: int
    issues: IntArray
    stake: BoolArray
    tol: float
    position: FloatArray | None = None
    veto: bool = False


@dataclass(frozen=True)
class CheckBatch:
    """An instrument's one- and two-issue consent checks, evaluated in one pass.

    Each check's loss is the sum of at most two (actor, issue) terms, so it can be computed
    for all checks at once with exactly the same floating-point operations as one by one.
    Holder pairs come first (``n_holder`` of them), third-party pairs after.
    """

    issue: IntArray  # [P] issue of each (check, issue) pair
    holder: IntArray  # [n_holder] actor of each holder pair
    stake: BoolArray  # [n_holder]
    ext_x: FloatArray  # [1, P - n_holder] third parties' ideal points
    first: IntArray  # [C] each check's first pair
    two: IntArray  # checks with a second issue
    second: IntArray  # their second pair
    limit: FloatArray  # [C] tolerance + 1e-9
    tol: FloatArray  # [C]
    veto: IntArray  # the veto players' checks (positions in C)
    full_stake: bool  # every holder pair's actor has a stake in its issue

    @property
    def n_holder(self) -> int:
        """Number of holder pairs."""
        return int(self.holder.size)


def check_batch(checks: list[Check]) -> CheckBatch:
    """Lay out one- and two-issue checks (:class:`Check`) as a :class:`CheckBatch`."""
    pairs = [(c, j) for c in checks if c.holder >= 0 for j in range(c.issues.size)]
    pairs += [(c, j) for c in checks if c.holder < 0 for j in range(c.issues.size)]
    where = {(id(c), j): n for n, (c, j) in enumerate(pairs)}
    hold = [(c, j) for c, j in pairs if c.holder >= 0]
    ext = [(c, j) for c, j in pairs if c.holder < 0]
    two = [n for n, c in enumerate(checks) if c.issues.size == 2]
    return CheckBatch(
        issue=np.array([c.issues[j] for c, j in pairs], dtype=np.int64),
        holder=np.array([c.holder for c, _ in hold], dtype=np.int64),
        stake=np.array([c.stake[j] for c, j in hold], dtype=bool),
        ext_x=np.array([[c.position[0, j] for c, j in ext if c.position is not None]]),
        first=np.array([where[id(c), 0] for c in checks], dtype=np.int64),
        two=np.array(two, dtype=np.int64),
        second=np.array([where[id(checks[n]), 1] for n in two], dtype=np.int64),
        limit=np.array([c.tol + 1e-9 for c in checks]),
        tol=np.array([c.tol for c in checks]),
        veto=np.array([n for n, c in enumerate(checks) if c.veto], dtype=np.int64),
        full_stake=all(bool(c.stake[j]) for c, j in hold),
    )


@dataclass(frozen=True)
class RatifyPlan:
    """Static per-instrument consent checks of :func:`ratify` for one side and exemption.

    Built once per chunk (:func:`ratify_plan`), so the per-step loop only runs the checks
    that can bind: veto players with a stake in the issues the instrument touches, its
    non-exempt approval holders and third parties with a position on them. Checks on one or
    two issues are batched (:class:`CheckBatch`); wider ones (``wide``) run one by one.
    """

    batches: tuple[CheckBatch, ...]  # per instrument
    wide: tuple[tuple[Check, ...], ...]
    rel: FloatArray  # |gesture| / max |gesture|


def ratify_plan(
    side: Side, stake: BoolArray, tolerance_default: float, exempt: BoolArray | None = None
) -> RatifyPlan:
    """Precompute the consent checks of :func:`ratify` (same arguments)."""
    if exempt is None:
        exempt = np.zeros(side.n_actors, dtype=bool)
    batches, wide = [], []
    for k in range(side.n_instruments):
        touched = side.effects[k] != 0
        idx = np.flatnonzero(touched)
        checks = []
        for v in range(side.veto_holder.size):
            mask = side.veto_issues[v] & touched
            h = int(side.veto_holder[v])
            if mask.any() and not exempt[h]:
                checks.append(Check(h, np.flatnonzero(mask), stake[h][mask],
                                    float(side.veto_tol[v]), veto=True))
        checks += [  # a step that moves no issue costs no approval holder anything
            Check(int(a), idx, stake[a][touched], float(side.approval_tol[a]))
            for a in np.flatnonzero(side.approvals[k] & ~exempt)
            if idx.size
        ]
        if side.ext_approvals.size:
            for e in np.flatnonzero(side.ext_approvals[k]):
                xe = side.ext_position[e]
                has = touched & ~np.isnan(xe)
                if has.any():
                    checks.append(
                        Check(-1, np.flatnonzero(has), np.ones(int(has.sum()), dtype=bool),
                              tolerance_default, xe[has][None, :])
                    )
        batches.append(check_batch([c for c in checks if c.issues.size <= 2]))
        wide.append(tuple(c for c in checks if c.issues.size > 2))
    gmax = np.abs(side.gesture).max() if side.n_instruments else 1.0
    rel = np.abs(side.gesture) / (gmax if gmax > 0 else 1.0)
    return RatifyPlan(tuple(batches), tuple(wide), rel)


def _loss(
    check: Check,
    p0: FloatArray,
    d: FloatArray,
    position: FloatArray | NDArray[np.float32],
    worlds: IntArray,
) -> FloatArray:
    """An actor's stake-weighted loss ``[worlds]`` from moving ``p0`` by ``d``."""
    i = check.issues
    if check.holder < 0:
        assert check.position is not None
        x = check.position if check.position.ndim == 2 else check.position[worlds, 0]
        return np.asarray(veto_loss(p0[:, i], d[:, i], x).sum(axis=1))
    x = _holder_position(position, i, worlds, check.holder)
    return np.asarray((veto_loss(p0[:, i], d[:, i], x) * check.stake).sum(axis=1))


def _batch_losses(
    b: CheckBatch,
    p0: FloatArray,
    d: FloatArray,
    position: FloatArray | NDArray[np.float32],
    worlds: IntArray,
) -> FloatArray:
    """Every check's loss ``[worlds, C]`` (the same numbers as :func:`_loss` one by one)."""
    nh = b.n_holder
    ih = b.issue[:nh]
    if position.ndim == 2:
        x = np.asarray(position[b.holder, ih][None, :], dtype=np.float64)
    else:
        x = np.asarray(position[ih[None, :], worlds[:, None], b.holder[None, :]], dtype=np.float64)
    pair = veto_loss(p0[:, ih], d[:, ih], x)
    if not b.full_stake:  # x * True is x: skip the multiply when every stake is held
        pair = pair * b.stake
    if nh < b.issue.size:
        ie = b.issue[nh:]
        ext = b.ext_x if b.ext_x.ndim == 2 else b.ext_x[worlds, 0]
        pair = np.concatenate([pair, veto_loss(p0[:, ie], d[:, ie], ext)], axis=1)
    loss = pair[:, b.first]
    if b.two.size:
        loss[:, b.two] += pair[:, b.second]
    return np.asarray(loss)


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
    takes its candidates in its own ladder order.

    Returns
    -------
    approved : ndarray [n, K] of bool
    excess : ndarray [n]
        The largest ``loss - tolerance`` among approved moves (<= 0 by construction).
    """
    n, n_k = cand.shape
    approved = np.zeros((n, n_k), dtype=bool)
    excess = np.full(n, -np.inf)
    any_k: BoolArray = np.asarray(cand.any(axis=0))
    if not any_k.any():
        return approved, excess
    if plan is None:
        plan = ratify_plan(side, stake, tolerance_default, exempt)
    rows = np.flatnonzero(cand.any(axis=1))
    if rows.size < n:  # only worlds with a candidate: the rest approve nothing
        cand, prospective, belief = cand[rows], prospective[rows], belief[rows]
    m = rows.size
    app = np.zeros((m, n_k), dtype=bool)
    exc = np.full(m, -np.inf)
    pros = prospective.copy()
    cand_t = np.ascontiguousarray(cand.T)

    def check(k: int, rk: IntArray) -> None:
        """Candidate ``k`` in the worlds ``rk`` (among ``rows``), against their prospects."""
        p0 = pros[rk]
        wr = rows[rk]  # the same worlds as indices into the full chunk
        target = np.minimum(np.maximum(p0 + sign * _at(side.effects, 2, wr, k), low), high)
        d = target - p0
        b = plan.batches[k]
        if b.first.size:
            loss = _batch_losses(b, p0, d, position, wr)
            ok = (loss <= _at(b.limit, 1, wr)).all(axis=1)
            if b.veto.size:
                tol = b.tol[wr][:, b.veto] if b.tol.ndim > 1 else b.tol[b.veto]
                worst = (loss[:, b.veto] - tol).max(axis=1)
            else:
                worst = np.full(rk.size, -np.inf)
        else:
            ok = np.ones(rk.size, dtype=bool)
            worst = np.full(rk.size, -np.inf)
        for c in plan.wide[k]:
            wl = _loss(c, p0, d, position, wr)
            tol = _at(np.asarray(c.tol), 0, wr)
            ok &= wl <= tol + 1e-9
            if c.veto:
                worst = np.maximum(worst, wl - tol)
        if gate[k]:
            ok &= belief[rk] >= _at(np.asarray(threshold), 0, wr) * _at(plan.rel, 1, wr, k)
        app[rk, k] = ok
        e = exc[rk]
        exc[rk] = np.where(ok, np.maximum(e, worst), e)
        pros[rk[ok]] = target[ok]

    if side.order.ndim == 1:
        for k in side.order[any_k[side.order]].tolist():
            check(k, np.flatnonzero(cand_t[k]))  # worlds where k is a candidate
    else:  # one ladder order per world: at each rank, the worlds whose k it is
        order = side.order[rows]
        for j in range(n_k):
            at_j = order[:, j]
            for k in np.unique(at_j[any_k[at_j]]).tolist():
                rk = np.flatnonzero(cand_t[k] & (at_j == k))
                if rk.size:
                    check(k, rk)
    approved[rows] = app
    excess[rows] = exc
    return approved, excess


def _holder_position(
    position: FloatArray | NDArray[np.float32],
    issues: BoolArray | IntArray,
    worlds: IntArray,
    actor: int,
) -> FloatArray:
    """An actor's ideal points on some issues (a mask or indices): ``[worlds, issues]``.

    ``[1, issues]`` when ``position`` is static.

    ``position`` is static ``[A, I]`` or per world and issue-major ``[I, n, A]``.
    """
    if position.ndim == 2:
        return np.asarray(position[actor][issues][None, :], dtype=np.float64)
    idx = np.flatnonzero(issues) if issues.dtype == np.bool_ else issues
    return np.asarray(position[idx[:, None], worlds[None, :], actor].T, dtype=np.float64)


def sanctions_bite(allied: FloatArray, allied0: float, share: float) -> FloatArray:
    """How hard sanctions bite on the internal side, relative to the start (docs/model.md 5b).

    ``b(A) = (1 - θ + θ·A) / (1 - θ + θ·A0)`` with ``θ = allied_sanctions_share``: the part
    ``θ`` of the economic bite needs allies to join, so containment without allies (``A = 0``)
    costs Iran less than with them (``A = 1``). Normalised to 1 at the starting support
    ``A0``, because the scenario's positions and support are observed under the sanctions as
    they bit then.
    """
    den = np.maximum(1.0 - share + share * allied0, 1e-9)
    return np.asarray((1.0 - share + share * np.asarray(allied, dtype=np.float64)) / den)


def election_verdict(
    reciprocated: FloatArray, unreciprocated: FloatArray, hostile: FloatArray, swing: float
) -> FloatArray:
    """The voters' verdict at a focal legislature election, in ``[-1, 1]`` (docs/model.md 4b).

    ``v = clip(swing·(G − U − H), -1, 1)``: ``G`` is the internal side's conciliatory gesture
    started since the last such election (reciprocation the public has seen), ``U`` the
    unreciprocated concessions outstanding (the naivety the administration is blamed for),
    ``H`` the internal side's hostile gesture started plus menacing shocks since then.
    Positive: the engagers gain; negative: the sanctions hawks gain.
    """
    return np.asarray(_clip(swing * (reciprocated - unreciprocated - hostile), -1.0, 1.0))


def floor_position(
    base: FloatArray, hawk: FloatArray, engager: FloatArray, balance: FloatArray
) -> FloatArray:
    """The legislature floor majority's ideal points ``[n, I]`` at a hawk/engager balance.

    ``x = x0 + max(β, 0)·(x_engagers − x0) + max(−β, 0)·(x_hawks − x0)``: at ``β = 0`` the
    scenario's floor, at ``β = ±1`` the clout-weighted position of the engagers (hawks).
    """
    up = np.clip(balance, 0, None)[:, None]
    down = np.clip(-balance, 0, None)[:, None]
    shift = up * _rows(engager - base, 1) + down * _rows(hawk - base, 1)
    return np.asarray(_rows(base, 1) + shift)


def balance_clout(balance: FloatArray, hawk: BoolArray, engager: BoolArray) -> FloatArray:
    """Clout multipliers ``[n, A]``: engagers ``1 + β``, hawks ``1 − β``, others 1."""
    b = balance[:, None]
    return np.asarray(1.0 + b * engager[None, :] - b * hawk[None, :])


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
    """The static quantities :func:`run_layout` needs for ``system`` (one state)."""
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
    focal_unitary: bool  # the focal side ratifies nothing (a unitary government)
    menu_f: BoolArray  # [K_f] the focal strategy's menu
    status_quo_rows: FloatArray  # [1 or n, I]
    demand_rows: FloatArray  # [1 or n, I] Iran's stated conditions
    o_base_rows: FloatArray  # [1 or n, A_o] Iran's actors' base clout
    menace_issues: tuple[int, ...]  # the terror-support and WMD issues present
    event_steps: frozenset[int]  # steps with scheduled events (history replays)
    election_steps: frozenset[int]  # steps with an internal election
    focal_election_steps: frozenset[int]  # steps with a focal election (4b)


def step_context(
    system: System, plans: Plans, layout: Layout, focal_unitary: bool
) -> StepContext:
    """The read-only context of a run of ``system`` over ``layout``."""
    sy, r = system, system.roles
    events, fe = sy.events, sy.focal_elections
    return StepContext(
        system=sy,
        plans=plans,
        layout=layout,
        legislature=None if focal_unitary else sy.legislative,
        focal_unitary=focal_unitary,
        menu_f=sy.focal_menu if sy.focal_menu is not None
        else np.ones(sy.focal.n_instruments, dtype=bool),
        status_quo_rows=_rows(sy.status_quo, 1),
        demand_rows=_rows(sy.demand, 1),
        o_base_rows=_rows(sy.internal.clout, 1),
        menace_issues=tuple(r[x] for x in ("terror", "wmd") if r[x] >= 0),
        event_steps=frozenset(int(x) for x in events.step) if events is not None
        else frozenset(),
        election_steps=frozenset(int(s) for s in sy.elections.step),
        focal_election_steps=frozenset(int(x) for x in fe.step) if fe is not None
        else frozenset(),
    )


def issue_share(level: FloatArray, system: System, i: int) -> FloatArray:
    """Issue ``i``'s level as a share of its range, ``[n]``; zeros without the issue (``i < 0``)."""
    if i < 0:
        return np.zeros(level.shape[0])
    return np.asarray((level[:, i] - system.low[i]) / system.span[i])


def requires_met(side: Side, active: BoolArray) -> BoolArray:
    """``[n, K]``: every instrument another one ``requires`` is in force (section 2)."""
    if not side.requires.any():
        return np.ones(active.shape, dtype=bool)
    missing = (~active).astype(np.float64) @ side.requires.T.astype(np.float64)
    return np.asarray(missing == 0)


def floor_vote(
    ctx: StepContext, f_pos: FloatArray, cand: BoolArray, threshold: Any, at: FloatArray,
    clout: FloatArray,
) -> BoolArray:
    """The focal legislature's floor vote (its members only) on ``cand`` at levels ``at``.

    ``f_pos`` is the focal side's ideal points now (section 4b: the floor follows the
    hawk/engager balance); docs/model.md 4c.
    """
    leg = ctx.legislature
    assert leg is not None
    sy = ctx.system
    return voted(sy.focal, ctx.plans.vote_f, cand, at, f_pos, clout * leg.members[None, :],
                 sy.span, 1.0, threshold)


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
    b_f, b_o = _expit(st.log_odds_f), _expit(st.log_odds_o)
    lev_f = _clip(
        strategy.move(View(t, st.own_f[:, :t], st.perceived_f[:, :t], b_f, view_rng)), 0.0, 1.0
    )
    return b_f, b_o, lev_f


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
    nl = p.neutral_level
    sanc_now = issue_share(st.level, sy, sy.roles["sanctions"])
    drivers = IranDrivers(
        gesture=(st.smooth_perceived_o - nl) / (1 - nl),
        belief=belief_o - pl.b_o0,
        sanctions=bite * sanc_now - pl.sanc_n0,
        fulfilment=condition_fulfilment(st.level, ctx.status_quo_rows, ctx.demand_rows),
        # visible U.S. backing of reformers: the previous step's (section 4)
        pressure=dictation_pressure(st.hostile_f, _clip(sanc_now - pl.sanc_n0, 0, 1),
                                    st.backing),
        threat=st.threat - p.threat_initial,
        settlement=st.settlement,
    )
    return iran_positions(pl.o_pos32, pl.alt_pos32, st.o_control, st.o_reform, drivers,
                          pl.camp_span32, pl.dict_span32, p, sy, pl.o_used)


@dataclass(frozen=True, eq=False)
class Proposals:
    """The focal side's agenda this step (:func:`focal_proposals`)."""

    candidates: BoolArray  # [n, K_f] steps to put to ratification
    withdrawn: BoolArray  # [n, K_f] steps in force the executive withdraws
    cancelled: BoolArray  # [n, K_f] pending steps it cancels
    forced: BoolArray | None  # [n, K_f] scripted steps forced into force now (1b)
    scripted: bool  # the step is inside the history script's span


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
    sy, p, pl = ctx.system, ctx.system.params, ctx.plans
    sf, scr = sy.focal, sy.script
    f_active, f_by_leg = st.f_active, st.f_by_leg
    f_menu, f_gest_pos = ctx.menu_f, pl.f_gest_pos
    want_f = ladder(sf, level_f, p.neutral_level) & f_menu[None, :]
    scripted = scr is not None and t <= scr.until
    if not scripted and (sf.sunset_step >= 0).any():  # an expiring law: renewal on the agenda
        want_f |= congress.renewal_stance(t, sf.sunset_step, sf.renewed_by,
                                          f_active | pending_f, f_menu & sf.by_executive,
                                          sf.gesture)
    if np.any(p.us_cost_tolerance >= 0):
        retreat = (st.cost > p.us_cost_tolerance) & (p.us_cost_tolerance >= 0)
        want_f &= ~(retreat[:, None] & f_gest_pos[None, :] & ~f_active & ~pending_f)
        want_f &= ~congress.cost_retreat(
            f_active & f_gest_pos[None, :] & sf.reversible[None, :] & ~f_by_leg, sf.cost,
            st.f_since, retreat, draws.congress[:, t, 1], p.us_retreat_rate, sy.dt)
    forced = None
    if scripted:
        assert scr is not None
        # scripted switches override the ladder: held on (forced on at its date, never
        # put to ratification), held off (withdrawn, or cancelled while pending)
        held = scr.held[t]
        want_f = (want_f & (held >= 0)[None, :]) | (held > 0)[None, :]
        forced = scr.force_on[t][None, :] & ~f_active
    # withdrawals by the executive: reversible steps no longer wanted (not the
    # legislature's acts: a law is not the executive's to withdraw)
    drop_f = f_active & ~want_f & sf.reversible[None, :] & ~f_by_leg
    cancel_f = pending_f & ~want_f & ~f_by_leg
    st.f_start = np.where(cancel_f, NEVER, st.f_start)
    cand_f = want_f & ~f_active & ~pending_f & requires_met(sf, f_active)
    if forced is not None:
        cand_f &= (scr.held[t] <= 0)[None, :]  # type: ignore[union-attr]
    return Proposals(cand_f, drop_f, cancel_f, forced, scripted)


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
    sy, lay = ctx.system, ctx.layout
    pending_f = (st.f_start < NEVER) & ~st.f_active
    pending_o = (st.o_start < NEVER) & ~st.o_active
    pend_eff = _dot(pending_f.astype(np.float64), sy.focal.effects, lay, 2) + _dot(
        pending_o.astype(np.float64), sy.internal.effects, lay, 2
    )
    return _clip(st.level + pend_eff, sy.low, sy.high), pending_f, pending_o


def ratify_focal(
    ctx: StepContext, st: WorldState, candidates: BoolArray, belief_f: FloatArray,
    prospective: FloatArray,
) -> tuple[BoolArray, FloatArray | None]:
    """The focal side's level II: trust gate, statute lock, vote, vetoes (docs/model.md 2, 4c).

    The executive's proposals need the trust gate where a legislature must approve them,
    the floor's majority where they would undo a statute in force, a weighted majority less
    the agenda power (the executive counting in favour) and every veto player's and
    approval holder's consent (:func:`ratify`); ``st.excess`` records the largest veto
    excess. A unitary focal side approves every candidate.

    Returns
    -------
    approved : ndarray [n, K_f] of bool
    clout : ndarray [n, A_f] or None
        The focal actors' clout this step (with the hawk/engager balance), None if unitary.
    """
    if ctx.focal_unitary:
        return candidates, None
    sy, p, pl = ctx.system, ctx.system.params, ctx.plans
    sf = sy.focal
    theta_f = p.reciprocity_threshold_us
    # the trust gate is a condition of approval: apply it before the (costlier) vote
    cand_f = candidates & (
        ~pl.f_gate[None, :] | (belief_f[:, None] >= _col(theta_f) * _rows(pl.rel_f, 1))
    )
    f_cl = st.f_clout if st.f_factor is None else np.clip(st.f_clout * st.f_factor, 0, None)
    if ctx.legislature is not None:  # undoing a statute in force needs the floor, as a bill would
        lock = congress.statute_lock(st.f_active, sf.locks, sf.effects) & cand_f
        if lock.any():
            cand_f &= ~lock | floor_vote(ctx, st.f_pos, lock, p.majority_threshold, st.level,
                                         f_cl)
    cand_f = voted(sf, pl.vote_f, cand_f, st.level, st.f_pos, f_cl, sy.span, 1.0,
                   p.majority_threshold - p.agenda_power, sf.executive)
    app_f, ex_f = ratify(
        sf,
        cand_f,
        prospective,
        st.f_pos,
        pl.f_stake,
        belief_f,
        theta_f,
        pl.f_gate,
        1.0,
        sy.low,
        sy.high,
        p.approval_tolerance,
        pl.f_exempt,
        pl.ratify_f,
    )
    st.excess = np.maximum(st.excess, ex_f)
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
    majority plus the revocation margin and passes the vetoes.

    Returns
    -------
    approved, reversed : ndarray [n, K_o] of bool
    """
    sy, p, pl = ctx.system, ctx.system.params, ctx.plans
    so, span, low, high = sy.internal, sy.span, sy.low, sy.high
    o_active, o_clout = st.o_active, st.o_clout
    theta_o = p.reciprocity_threshold_iran
    cand_o = ~o_active & ~pending_o & requires_met(so, o_active)
    cand_o &= ~pl.o_gate[None, :] | (belief_o[:, None] >= _col(theta_o) * _rows(pl.rel_o, 1))
    cand_o = voted(so, pl.vote_o, cand_o, st.level, positions_o, o_clout, span, 1.0,
                   p.majority_threshold)
    app_o, ex_o = ratify(
        so,
        cand_o,
        prospective,
        positions_o,
        pl.o_stake,
        belief_o,
        theta_o,
        pl.o_gate,
        1.0,
        low,
        high,
        p.approval_tolerance,
        so.subordinate,
        pl.ratify_o,
    )
    st.excess = np.maximum(st.excess, ex_o)
    rev_cand = o_active & so.reversible[None, :]
    if rev_cand.any():
        rev_cand = voted(so, pl.vote_o, rev_cand, st.level, positions_o, o_clout, span, -1.0,
                         p.majority_threshold + p.revocation_margin)
        drop_o, ex_r = ratify(
            so,
            rev_cand,
            prospective,
            positions_o,
            pl.o_stake,
            belief_o,
            0.0,
            np.zeros(so.n_instruments, dtype=bool),
            -1.0,
            low,
            high,
            p.approval_tolerance,
            so.subordinate,
            pl.ratify_o,
        )
        st.excess = np.maximum(st.excess, ex_r)
    else:
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
    want_o = ladder(so, lev_o, ctx.system.params.neutral_level)
    drop_o = o_active & ~want_o & so.reversible[None, :]
    st.o_start = np.where(pending_o & ~want_o, NEVER, st.o_start)
    app_o = want_o & ~o_active & ~pending_o & requires_met(so, o_active)
    return app_o, drop_o


def congress_bills(
    ctx: StepContext, st: WorldState, t: int, level_f: FloatArray, approved_f: BoolArray,
    committed: BoolArray, prospective: FloatArray, clout_f: FloatArray | None,
    draws: StepDraws,
) -> BoolArray:
    """The focal legislature's own bills, the executive's veto and its override (docs/model.md 4c).

    Congress judges the levels with the step's approved moves and the laws lapsing now;
    where they drift from its floor beyond its tolerance it passes its own steps; a bill
    against the executive's line is vetoed and becomes law only if a two-thirds majority
    holds. Not while a history script runs, nor without a legislature or bills.
    Enacted bills join ``committed`` (in place), ``st.f_by_leg``; killed ones ``st.killed``.

    Returns
    -------
    approved : ndarray [n, K_f] of bool
        ``approved_f`` with the enacted bills.
    """
    sy, p, pl, lay = ctx.system, ctx.system.params, ctx.plans, ctx.layout
    sf, leg = sy.focal, ctx.legislature
    if leg is None or not sf.by_legislature.any():
        return approved_f
    assert clout_f is not None
    f_active, f_pos = st.f_active, st.f_pos
    renewed = congress.renewed_laws(committed, sf.renewed_by)
    due = (sf.sunset_step == t)[None, :] & ~f_active & ~renewed
    judged = _clip(prospective + _dot((approved_f | due).astype(np.float64), sf.effects, lay, 2),
                   sy.low, sy.high)
    x_now = f_pos[leg.floor][None, :] if f_pos.ndim == 2 else f_pos[:, :, leg.floor].T
    eligible = (sf.by_legislature[None, :] & ~committed & ~st.killed
                & ~congress.spent_renewals(committed, sf.renewed_by)
                & requires_met(sf, f_active))
    bills = congress.initiative_candidates(
        judged, sy.status_quo, x_now, pl.f_pos0[..., leg.floor, :], pl.f_stake[leg.floor],
        pl.leg_tol, sf.effects, eligible)
    enact_f, dead = congress.legislative_initiative(
        bills, sf.gesture, level_f, p.neutral_level, draws.congress[:, t, 0],
        p.us_veto_override, p.majority_threshold,
        partial(floor_vote, ctx, f_pos, at=judged, clout=clout_f))
    st.killed |= dead
    st.f_by_leg |= enact_f
    committed |= enact_f
    return approved_f | enact_f


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
    sf = ctx.system.focal
    lapse_now, reenact = congress.sunset_expiry(
        t, sf.sunset_step, sf.renewed_by, committed, committed & ~st.f_active,
        st.f_active & (sf.sunset_step >= 0))
    if lapse_now.any():
        forced = lapse_now if forced is None else forced | lapse_now
    withdrawn_f |= reenact
    return forced


def schedule_starts(
    ctx: StepContext, st: WorldState, t: int, approved_f: BoolArray, approved_o: BoolArray,
    forced: BoolArray | None, draws: StepDraws,
) -> None:
    """Approved steps start after their sampled delays (docs/model.md 2, "Delay").

    Also notes in ``st.f_offered`` whether the focal side has offered a conciliatory step
    (the clock of the time to reciprocation, section 5).
    """
    sy, f_gest_pos = ctx.system, ctx.plans.f_gest_pos
    schedule(sy.focal, approved_f, draws.delay_f[:, t], st.f_start, t)
    st.f_offered |= (approved_f & f_gest_pos[None, :]).any(axis=1)
    if forced is not None:
        st.f_offered |= (forced & f_gest_pos[None, :]).any(axis=1)
    schedule(sy.internal, approved_o, draws.delay_o[:, t], st.o_start, t)


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
    sf, so, low, high = sy.focal, sy.internal, sy.low, sy.high
    for active, dropped, side in ((st.f_active, withdrawn_f, sf), (st.o_active, withdrawn_o, so)):
        if dropped.any():
            st.level = _clip(st.level - _dot(dropped.astype(np.float64), side.effects, lay, 2),
                             low, high)
            active &= ~dropped
    f_new = ~st.f_active & (st.f_start <= t)
    if forced is not None:
        f_new |= forced
    o_new = ~st.o_active & (st.o_start <= t)
    st.f_active |= f_new
    st.o_active |= o_new
    st.f_since = np.where(f_new, t, st.f_since)
    st.f_start = np.where(f_new | withdrawn_f, NEVER, st.f_start)
    st.o_start = np.where(o_new | withdrawn_o, NEVER, st.o_start)
    st.level = _clip(
        st.level
        + _dot(f_new.astype(np.float64), sf.effects, lay, 2)
        + _dot(o_new.astype(np.float64), so.effects, lay, 2),
        low,
        high,
    )
    return f_new, o_new


def played_levels(ctx: StepContext, st: WorldState, t: int) -> tuple[FloatArray, FloatArray]:
    """Each side's played level from its steps in force and pending (docs/model.md 1).

    Records them in the sides' own histories and keeps the focal hostile share
    (``st.hostile_f``) for the rest of this step and the next.

    Returns
    -------
    played_f, played_o : ndarray [n]
    """
    p, pl, lay = ctx.system.params, ctx.plans, ctx.layout
    f_pending = (st.f_start < NEVER) & ~st.f_active
    o_pending = (st.o_start < NEVER) & ~st.o_active
    play_f, _, st.hostile_f = _posture(st.f_active, f_pending, p, pl.gp_f, pl.gn_f,
                                       pl.gp_f_sum, pl.gn_f_sum, lay)
    play_o, _, _ = _posture(st.o_active, o_pending, p, pl.gp_o, pl.gn_o, pl.gp_o_sum,
                            pl.gn_o_sum, lay)
    st.own_f[:, t], st.own_o[:, t] = play_f, play_o
    return play_f, play_o


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
    p, pl = ctx.system.params, ctx.plans
    q_f = _clip(played_o + p.perception_bias_us + p.perception_noise_us
                * draws.perception_f[:, t], 0, 1)
    q_o = _clip(
        played_f + p.perception_bias_iran + p.perception_noise_iran * draws.perception_o[:, t],
        0, 1
    )
    st.perceived_f[:, t], st.perceived_o[:, t] = q_f, q_o
    # Bayesian type update: reciprocating type shows max(my smoothed level, benign level)
    for lb, q, sm_own, noise, prior in (
        (st.log_odds_f, q_f, st.smooth_own_f, p.perception_noise_us, pl.prior_f),
        (st.log_odds_o, q_o, st.smooth_own_o, p.perception_noise_iran, pl.prior_o),
    ):
        mu_r = np.maximum(sm_own, p.type_benign_level)
        var = p.type_noise**2 + noise**2
        llr = ((q - p.type_hostile_level) ** 2 - (q - mu_r) ** 2) / (2 * var)
        lb += p.belief_learning_rate * llr - p.belief_forgetting * (lb - prior)
        _clip(lb, -8, 8, out=lb)
    a = p.memory
    st.smooth_own_f = (1 - a) * st.smooth_own_f + a * played_f
    st.smooth_own_o = (1 - a) * st.smooth_own_o + a * played_o
    st.smooth_perceived_o = (1 - a) * st.smooth_perceived_o + a * q_o


# ------------------------------------------------------------------ 4. domestic politics
def public_support(
    ctx: StepContext, st: WorldState, t: int, bite: FloatArray, draws: StepDraws
) -> None:
    """Iran's public reform support ``S`` (docs/model.md 4).

    It drifts with demography, rises with visible gains from engagement (sanctions relief as
    it bites, section 5b, and U.S. multilateral steps in force), falls with the rally under
    U.S. hostility and sanctions read as dictation, plus noise.
    """
    sy, p, pl, lay = ctx.system, ctx.system.params, ctx.plans, ctx.layout
    r = sy.roles
    # what Iran feels: the sanctions level weighted by its allied bite (relative to start)
    sanc_n = bite * issue_share(st.level, sy, r["sanctions"])
    relief = _clip(pl.sanc_n0 - sanc_n, 0, 1) if r["sanctions"] >= 0 else np.zeros(ctx.layout.n)
    multi = _ratio(_dot(st.f_active, pl.f_multi, lay), pl.f_multi_sum)
    gain = relief + 0.5 * multi
    rally = st.hostile_f + p.dictation_effect * sanc_n
    st.support = _clip(
        st.support
        + sy.dt * (p.demographic_drift + p.engagement_gain * gain - p.rally_effect * rally)
        + p.support_noise * draws.support[:, t],
        0.01,
        0.99,
    )


def backlash(
    ctx: StepContext, st: WorldState, t: int, draws: StepDraws
) -> tuple[BoolArray, FloatArray]:
    """Visible U.S. backing of the reformers and conservative backlash events (docs/model.md 4).

    ``st.backing`` is the backing of the focal steps in force now (the next step's choice
    sees it too). Events arrive at a hazard rising with the reformists' clout share and the
    backing; an event cuts the unelected reformists' clout and the reform issue (fading).

    Returns
    -------
    hit : ndarray [n] of bool
        The worlds with a backlash event this step.
    share : ndarray [n]
        The reformists' clout share before the event.
    """
    sy, p = ctx.system, ctx.system.params
    so, r, dtt = sy.internal, sy.roles, sy.dt
    tot = st.o_clout.sum(axis=1)
    share = (st.o_clout * st.o_reform).sum(axis=1) / np.where(tot > 0, tot, 1)
    st.backing = visible_backing(st.f_active, sy.focal.reform_backing)
    lam = backlash_hazard(share, st.backing, p.backlash_hazard, p.backlash_threat_elasticity,
                          p.backlash_backing_elasticity)
    hit = draws.backlash[:, t] < 1 - np.exp(-lam * dtt)
    st.backlash_events += hit
    victims = st.o_reform & so.mobile[None, :]
    st.o_clout = np.where(
        hit[:, None] & victims, st.o_clout * (1 - _col(p.backlash_severity)), st.o_clout
    )
    if r["reform"] >= 0:
        j = r["reform"]
        level, span = st.level, sy.span
        new = _clip(level[:, j] - hit * p.backlash_severity * 0.5 * span[j], sy.low[j],
                    sy.high[j])
        st.transient[:, j] += new - level[:, j]
        level[:, j] = new
    return hit, share


def vetting_and_disillusion(
    ctx: StepContext, st: WorldState, hit: BoolArray, share: FloatArray
) -> None:
    """The closing of the system: candidate vetting and reformist disillusion (docs/model.md 4).

    Vetting rises with the reformists' share beyond its start and jumps after a backlash
    event; disillusion grows while the reform issue stands below its start and moves after
    an event (:mod:`detente.sim.mechanisms.closing`).
    """
    sy, p = ctx.system, ctx.system.params
    r, dtt = sy.roles, sy.dt
    st.vetting = vetting_update(st.vetting, share, st.share0, hit, base=p.vetting_base,
                                threat_rate=p.vetting_threat_rate,
                                backlash_jump=p.vetting_backlash_jump, decay=p.vetting_decay,
                                dt=dtt)
    blocked = (reform_blocked(st.level[:, r["reform"]], st.reform0, sy.span[r["reform"]])
               if st.reform0 is not None else np.zeros(ctx.layout.n))
    st.disillusion = disillusion_update(st.disillusion, blocked, hit, rate=p.disillusion_rate,
                                        backlash_jump=p.disillusion_backlash_jump,
                                        decay=p.disillusion_decay, dt=dtt)


def clout_drift(ctx: StepContext, st: WorldState) -> None:
    """Mobile factions' and society's clout relaxes toward its base scaled by support
    (docs/model.md 4): ``S/S0`` for the reformists, ``(1 - S)/(1 - S0)`` for the others."""
    sy, p = ctx.system, ctx.system.params
    so = sy.internal
    s0 = p.public_reform_support
    o_clout, support, o_base_rows = st.o_clout, st.support, ctx.o_base_rows
    target = np.where(
        so.reform,
        o_base_rows * (support / s0)[:, None],
        o_base_rows * ((1 - support) / (1 - s0))[:, None],
    )
    rate = _col(1 - np.exp(-p.clout_adjustment_rate * sy.dt))
    st.o_clout = np.where(so.mobile[None, :], o_clout + rate * (target - o_clout), o_clout)


def internal_elections(ctx: StepContext, st: WorldState, t: int) -> None:
    """Iran's elections this step (docs/model.md 4, "Elections").

    The reform vote share among the admitted candidates, net of vetting and of the
    disillusioned reformists' abstention, decides who holds the institution; its holder
    takes the winning camp and a clout bonus growing with the margin.
    """
    if t not in ctx.election_steps:
        return
    sy, p = ctx.system, ctx.system.params
    o_base = sy.internal.clout
    for jj in np.flatnonzero(sy.elections.step == t).tolist():
        e = int(sy.elections.holder[jj])
        h = sy.elected[e]
        v = election_vote_share(st.support, st.vetting, sy.elections.vetting[..., jj],
                                st.disillusion, p.turnout_sensitivity)
        win = v > 0.5
        st.o_control[:, e] = win
        st.o_reform[:, h] = win
        st.o_clout[:, h] = o_base[..., h] * (1 + p.election_bonus * 2 * np.abs(v - 0.5))


# ------------------------------------------------------------------ 5. environment, outcomes
@dataclass(frozen=True, eq=False)
class Jolts:
    """What this step's shocks and events did beyond the levels and clouts (section 5)."""

    menace: FloatArray  # [n] menace B: terror and WMD levels (shares) plus menacing hits
    menace_hits: FloatArray  # [n] menacing shocks and events (4b: what U.S. voters see)
    threat: FloatArray  # [n] jump of the regional threat
    settlement: FloatArray  # [n] jump of the settlement


def shocks_and_events(ctx: StepContext, st: WorldState, t: int, draws: StepDraws) -> Jolts:
    """The transient part of the levels fades; shocks and scheduled events hit (docs/model.md 5).

    Shocks arrive at their rates, move the levels (the moves fade at ``shock_decay``) and
    scale the clout of both sides' actors and of the third parties; a history replay's
    events do the same at their dates, right after the shocks.
    """
    sy, p, pl, lay = ctx.system, ctx.system.params, ctx.plans, ctx.layout
    low, high, n = sy.low, sy.high, lay.n
    relax = st.transient * _col(1 - np.exp(-p.shock_decay * sy.dt))
    new = _clip(st.level - relax, low, high)
    st.transient -= st.level - new
    st.level = new
    bad = np.zeros(n)
    roles_bad = ctx.menace_issues
    if roles_bad:
        bad = np.mean([issue_share(st.level, sy, j) for j in roles_bad], axis=0)
    menace_hits = np.zeros(n)
    jump_threat, jump_settle = np.zeros(n), np.zeros(n)
    if sy.shock_rate.shape[-1]:
        hits = draws.shocks[:, t, : sy.shock_rate.shape[-1]] < 1 - np.exp(
            -_rows(sy.shock_rate, 1) * sy.dt)
        hf = hits.astype(np.float64)
        new = _clip(st.level + _dot(hf, sy.shock_effects, lay, 2), low, high)
        st.transient += new - st.level
        st.level = new
        _scale_clouts(st, _dot(hf, sy.shock_clout_focal, lay, 2),
                      _dot(hf, sy.shock_clout_internal, lay, 2),
                      _dot(hf, sy.shock_clout_third, lay, 2))
        jump_threat = _dot(hf, sy.shock_threat, lay)
        jump_settle = _dot(hf, sy.shock_settlement, lay)
        if roles_bad:
            menace = _rows(pl.shock_menace, 1)
            menace_hits = (hits & menace).sum(axis=1).astype(np.float64)
            bad = bad + (hits & menace).any(axis=1)
    if t in ctx.event_steps:
        events = sy.events
        assert events is not None
        now = events.step == t
        new = _clip(st.level + _event_sum(events.effects, now, lay), low, high)
        st.transient += new - st.level
        st.level = new
        _scale_clouts(st, _event_sum(events.clout_focal, now, lay),
                      _event_sum(events.clout_internal, now, lay),
                      _event_sum(events.clout_third, now, lay))
        jump_threat = jump_threat + _event_total(events.threat, now)
        jump_settle = jump_settle + _event_total(events.settlement, now)
        if roles_bad:
            event_menace = pl.event_menace
            if event_menace.ndim == 1:
                n_menace: Any = int(event_menace[now].sum())
            else:
                n_menace = event_menace[:, now].sum(axis=1)
            menace_hits = menace_hits + n_menace
            bad = bad + (n_menace > 0)
    return Jolts(bad, menace_hits, jump_threat, jump_settle)


def _scale_clouts(st: WorldState, focal: Any, internal: Any, third: Any) -> None:
    """Scale the clout of each side's actors and the third parties by ``1 + change``."""
    st.f_clout *= 1 + focal
    st.o_clout *= 1 + internal
    st.third_clout *= 1 + third
    np.clip(st.f_clout, 0, None, out=st.f_clout)
    np.clip(st.o_clout, 0, None, out=st.o_clout)
    np.clip(st.third_clout, 0, None, out=st.third_clout)


def environment_step(
    ctx: StepContext, st: WorldState, t: int, jolts: Jolts, played_o: FloatArray,
    draws: StepDraws,
) -> FloatArray:
    """The regional threat, the settlement and allied alignment move (docs/model.md 5).

    In this order (:mod:`detente.sim.mechanisms.environment`): the threat relaxes toward a
    target set by the hostile neighbours' clout and rises with U.S. hostility; the
    settlement advances at its hazard; the allies' friction with the focal side's line and
    Iran's moderation erode allied support, which menace restores.

    Returns
    -------
    friction : ndarray [n]
        The allies' friction this step (metric ``allied_friction``).
    """
    sy, p = ctx.system, ctx.system.params
    env, dtt, nl = sy.environment, sy.dt, p.neutral_level
    st.threat = threat_update(
        st.threat, st.hostile_f, regional_strength(st.third_clout, env.clout, env.threat),
        jolts.threat, start=p.threat_initial, regional_share=p.threat_regional_share,
        hostility_gain=p.threat_hostility, decay=p.threat_decay, dt=dtt,
    )
    st.settlement = settlement_update(st.settlement, draws.settlement[:, t], jolts.settlement,
                                      hazard=p.settlement_hazard,
                                      progress=p.settlement_progress, dt=dtt)
    friction = allied_friction(st.level, env.position,
                               st.third_clout[:, :, None] * _rows(env.friction_weight, 2),
                               sy.span, sy.focal.direction, p.friction_symmetry, st.hostile_f)
    moderation = _clip((played_o - nl) / (1 - nl), 0, 1)
    st.allied = alignment_update(st.allied, friction, moderation, jolts.menace,
                                 erosion=p.allied_erosion, recovery=p.allied_recovery,
                                 via_friction=p.moderation_via_friction, dt=dtt)
    return friction


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
    sy, p, pl, lay = ctx.system, ctx.system.params, ctx.plans, ctx.layout
    sf = sy.focal
    g_f_new = _dot(new_f.astype(np.float64), pl.gp_f, lay)
    g_o_new = _dot(new_o.astype(np.float64), pl.gp_o, lay)
    recip = (g_o_new > 0) & st.f_offered & (st.first_reciprocation > sy.horizon)
    st.first_reciprocation = np.where(recip, t + 1, st.first_reciprocation)
    st.unreciprocated = np.maximum(0.0, st.unreciprocated + g_f_new - g_o_new)
    # the legislature's own acts cost the executive nothing; a trade for its support
    # cheapens the concessions that follow (4c)
    paid = (new_f & ~st.f_by_leg) * congress.trade_discount(st.f_active & ~new_f, sf.discount,
                                                            pl.f_gest_pos)
    st.cost = ((1 - p.us_cost_decay) * st.cost + _dot(paid, sf.cost, lay)
               + p.naivety_cost * st.unreciprocated)


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
    if t > 0:  # the first step sets the starting posture the scenario's Congress saw
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
        f_pos0 = pl.f_pos0
        if f_pos0.ndim == 2:
            fp = np.broadcast_to(f_pos0.T[:, None, :],
                                 (len(sy.issues), n, sy.focal.n_actors)).copy()
        else:
            fp = f_pos0.transpose(2, 0, 1).copy()
        x0 = f_pos0[..., fe.floor, :]
        moves = pl.f_stake[fe.floor]
        fx = floor_position(
            x0,
            np.where(moves & ~np.isnan(fe.hawk_position), fe.hawk_position, x0),
            np.where(moves & ~np.isnan(fe.engager_position), fe.engager_position, x0),
            st.balance,
        )
        fp[:, :, fe.floor] = _clip(fx, sy.low, sy.high).T
        st.f_pos = fp


def rapprochement(ctx: StepContext, st: WorldState) -> None:
    """Rapprochement: the dialogue level has reached ``dialogue_threshold`` of its range
    (docs/model.md 5); once reached it stays reached (``st.opened``)."""
    sy, p = ctx.system, ctx.system.params
    j = sy.roles["dialogue"]
    if j >= 0:
        st.opened |= st.level[:, j] >= sy.low[j] + p.dialogue_threshold * sy.span[j]


def record_metrics(
    ctx: StepContext, st: WorldState, played_f: FloatArray, played_o: FloatArray,
    friction: FloatArray,
) -> dict[str, Any]:
    """Every step metric of :data:`METRICS` at the end of the step, ``[n]`` each
    (docs/model.md, "Metrics")."""
    sy, n, r = ctx.system, ctx.layout.n, ctx.system.roles
    level, o_clout, o_ctrl = st.level, st.o_clout, st.o_control
    tot = o_clout.sum(axis=1)
    share = (o_clout * st.o_reform).sum(axis=1) / np.where(tot > 0, tot, 1)
    return {
        "reform_share": share,
        "legislature_reform_majority": o_ctrl[:, sy.reported["legislature"]]
        if "legislature" in sy.reported
        else np.zeros(n),
        "presidency_reform": o_ctrl[:, sy.reported["presidency"]]
        if "presidency" in sy.reported
        else np.zeros(n),
        **{
            m: level[:, r[role]] if r[role] >= 0 else np.zeros(n)
            for m, role in _ISSUE_LEVEL_METRICS.items()
        },
        "rapprochement": st.opened,
        "allied_support": st.allied,
        "focal_domestic_cost": st.cost,
        "unreciprocated": st.unreciprocated,
        "public_support": st.support,
        "focal_belief": _expit(st.log_odds_f),
        "internal_belief": _expit(st.log_odds_o),
        "focal_level": played_f,
        "internal_level": played_o,
        "focal_legislature_balance": st.balance,
        "vetting": st.vetting,
        "disillusion": st.disillusion,
        "regional_threat": st.threat,
        "settlement": st.settlement,
        "allied_friction": friction,
    }


@dataclass(eq=False)
class Trajectories:
    """What a run keeps per step: the metrics and, when asked, the steps in force and levels."""

    metrics: dict[str, NDArray[np.float32]]  # step-major [T, n] while running
    in_force: BoolArray | None  # [T, n, K_f + K_o]
    levels: NDArray[np.float32] | None  # [T, n, I]

    @classmethod
    def allocate(cls, system: System, n: int, steps: int, record_state: bool) -> Trajectories:
        """Zeroed arrays for ``steps`` steps of ``n`` worlds."""
        k = system.focal.n_instruments + system.internal.n_instruments
        return cls(
            {m: np.zeros((steps, n), dtype=np.float32) for m in METRICS},
            np.zeros((steps, n, k), dtype=bool) if record_state else None,
            np.zeros((steps, n, len(system.issues)), dtype=np.float32) if record_state else None,
        )

    def store(self, t: int, metrics: dict[str, Any], st: WorldState) -> None:
        """Keep step ``t``'s metrics (and state, when recorded)."""
        if t == 0 and metrics.keys() != set(METRICS):
            raise RuntimeError(
                "the engine records metrics the registry (detente.metrics) does not list, or "
                f"misses some it lists: {sorted(metrics.keys() ^ set(METRICS))}"
            )
        for m in METRICS:
            self.metrics[m][t] = metrics[m]
        if self.in_force is not None and self.levels is not None:
            k_f = st.f_active.shape[1]
            self.in_force[t, :, :k_f] = st.f_active
            self.in_force[t, :, k_f:] = st.o_active
            self.levels[t] = st.level

    def result(self, st: WorldState) -> ChunkResult:
        """The run's :class:`ChunkResult` (world-major) from the final state."""
        metrics = {m: np.ascontiguousarray(self.metrics[m].T) for m in METRICS}
        res = ChunkResult(metrics, st.first_reciprocation, st.backlash_events, st.excess,
                          st.f_active, st.o_active)
        if self.in_force is not None and self.levels is not None:
            res.in_force = np.ascontiguousarray(self.in_force.transpose(1, 0, 2))
            res.levels = np.ascontiguousarray(self.levels.transpose(1, 0, 2))
        return res


def _world_major_history(st: WorldState) -> WorldState:
    """``st`` with its per-step histories (``own_f``, ``perceived_f``, ``own_o``,
    ``perceived_o``) laid out world-major, ``[n, T]`` C-ordered, as this engine had them when
    it was frozen: the package's :func:`initial_state` now lays them out step-major (each
    step's column contiguous), which this copy must not inherit."""
    for name in ("own_f", "perceived_f", "own_o", "perceived_o"):
        setattr(st, name, np.ascontiguousarray(getattr(st, name)))
    return st


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
    draws = _drawn(draw_step_numbers(sy, layout))
    focal_strategy.reset(n, layout.stream("strategy", "focal"))
    view_rng_f = layout.stream("strategy", "focal", "view")
    view_rng_o = None
    if opponent is not None:
        opponent.reset(n, layout.stream("strategy", "internal"))
        view_rng_o = layout.stream("strategy", "internal", "view")
    ctx = step_context(sy, plans, layout, focal_unitary)
    st = _world_major_history(initial_state(sy, plans, layout))
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
                                   draws)
        forced = law_sunsets(ctx, st, t, committed, prop.forced, prop.withdrawn)
        schedule_starts(ctx, st, t, app_f, app_o, forced, draws)
        # 3. implementation, perception and beliefs
        new_f, new_o = implement(ctx, st, t, prop.withdrawn, drop_o, forced)
        play_f, play_o = played_levels(ctx, st, t)
        perceive_and_learn(ctx, st, t, play_f, play_o, draws)
        # 4. Iranian domestic politics
        public_support(ctx, st, t, bite, draws)
        hit, share = backlash(ctx, st, t, draws)
        vetting_and_disillusion(ctx, st, hit, share)
        clout_drift(ctx, st)
        internal_elections(ctx, st, t)
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
    a, c, b = (_at(x, 1, w, k) for x in (side.delay_low, side.delay_mode, side.delay_high))
    w = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(w > 0, (c - a) / np.where(w > 0, w, 1), 0.5)
        lo = a + np.sqrt(np.clip(u * w * (c - a), 0, None))
        hi = b - np.sqrt(np.clip((1 - u) * w * (b - c), 0, None))
    return np.asarray(np.where(w > 0, np.where(u < cut, lo, hi), c))


def schedule(side: Side, approved: BoolArray, u: FloatArray, start: IntArray, t: int) -> None:
    """Set the start step of newly approved instruments in place: ``t + round(delay)``.

    Delays are drawn (from the pre-drawn uniforms ``u[n, K']``) only where a step was approved,
    which gives the same numbers as drawing them everywhere.
    """
    w, k = np.nonzero(approved)
    if w.size:
        start[w, k] = t + np.rint(triangular_delay(side, k, u[w, k], w)).astype(np.int64)


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
) -> BoolArray:
    """Candidates that win the weighted vote (``support >= threshold``).

    ``proposer`` (an actor index, -1 for none) is the executive whose own proposals these are:
    it counts in favour whatever its ideal point (the strategy under test is its choice).

    Equivalent to ``cand & (vote(...) >= threshold)``, but each instrument's vote is computed
    only in the worlds where it is a candidate (elsewhere the result is not used), which is
    where the time goes: typically a fifth to a half of the worlds per instrument. All the
    (world, instrument) candidate pairs are voted at once, one batch per number of issues
    the instruments move (:func:`_pair_gains`).
    """
    out = np.zeros_like(cand)
    ww, kk = np.nonzero(cand)
    if ww.size == 0:
        return out
    clout32 = clout.astype(np.float32)
    n_iss = plan.n_iss[kk]
    for n_j in range(int(n_iss.max()) + 1):
        sel = n_iss == n_j
        if not sel.any():
            continue
        w, k = ww[sel], kk[sel]
        gain = _pair_gains(side, plan, w, k, level, position, sign, n_j)
        if proposer >= 0:
            gain[:, proposer] = 1.0  # gain is a fresh array here
        tol = plan.tol[k][:, None]
        c = clout32[w]
        c *= _at(plan.sal_kt, 2, w, k)
        pro = np.einsum("wa,wa->w", c, gain > tol, dtype=np.float32)
        con = np.einsum("wa,wa->w", c, gain < -tol, dtype=np.float32)
        tot = pro + con
        sup = np.where(tot > 0, pro / np.where(tot > 0, tot, 1), 0.5)
        out[w, k] = sup >= _at(np.asarray(threshold), 0, w)
    return out


def _pair_gains(
    side: Side,
    plan: VotePlan,
    w: IntArray,
    k: IntArray,
    level: FloatArray,
    position: FloatArray | NDArray[np.float32],
    sign: float,
    n_issues: int,
) -> NDArray[np.float32]:
    """Each actor's gain ``[P, A]`` (float32) from instrument ``k[p]`` in world ``w[p]``.

    All the instruments ``k`` move ``n_issues`` issues. Single-issue moves keep only the
    sign that matters: ``x - (L + d/2)`` (times ``sgn d``). Multi-issue ones sum
    ``|L - x| - |L + d - x| = clip(sgn(d) (2 (x - L) - d), -|d|, |d|)`` weighted by
    salience / range over their issues, in issue order.
    """
    f32 = np.float32
    if n_issues == 0:  # a step that moves no issue (its effects sampled at 0): no one gains
        return np.zeros((w.size, side.n_actors), dtype=f32)
    gain: NDArray[np.float32] | None = None
    for j in range(n_issues):
        i = plan.iss_pad[k, j]
        d = sign * _at(side.effects, 2, w, k, i)
        if position.ndim == 3:  # issue-major [I, n, A]: rows of the flattened [I * n, A]
            n_w = position.shape[1]
            x = np.take(position.reshape(-1, position.shape[2]), i * n_w + w, axis=0)
        else:
            x = position[:, i].T  # [P, A]
        h = np.asarray(x, dtype=f32) - (level[w, i] + 0.5 * d).astype(f32)[:, None]
        if n_issues == 1:
            h *= np.sign(d).astype(f32)[:, None]  # exact negation where d < 0
            return h
        h *= (2.0 * np.sign(d)).astype(f32)[:, None]
        # clipping in float32 at the float32-rounded bound gives the same float32 as in
        # float64 at the exact bound (no float32 lies strictly between a bound and its rounding)
        ad = np.abs(d).astype(f32)[:, None]
        _clip(h, -ad, ad, out=h)
        h *= _at(plan.usal_pad, 3, w, k, j)
        gain = h if gain is None else gain + h
    assert gain is not None
    return gain


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
    "vote",
]
