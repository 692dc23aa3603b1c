"""Compile a system scenario into the arrays the engine steps forward.

The engine never touches pydantic objects: :func:`compile_system` resolves the scenario
(every uncertain number at its nominal value, or at the values given), and lays out issues,
each side's actors, instruments, veto players, elections and shocks as NumPy arrays. The
*focal* side is the country whose strategy is being tested (the United States in the
flagship); the *internal* side is the other principal, whose moves come from its own internal
bargaining (Iran).

Which issue is the sanctions level, the dialogue level, ... is read from the issues' ``role:``
fields (:data:`ISSUE_ROLES`; ``sanctions`` and ``dialogue`` are required); the institutions
behind the ``legislature_reform_majority`` and ``presidency_reform`` metrics are the internal
side's elected institutions with ``role: legislature`` and ``role: presidency``
(:data:`REPORTED_ROLES`). Nothing is inferred from ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from detente.errors import InputError
from detente.scenario.numbers import Uncertain, nominal
from detente.scenario.schema import (
    Actor,
    Calendar,
    DesignedStrategy,
    Scenario,
    ScheduledEvent,
    Script,
    Shock,
    StrategySpec,
)
from detente.scenario.uncertainty import resolve
from detente.sim.internal import KIND as INTERNAL_KIND
from detente.sim.parameters import SimParameters, parameters_from

#: The registered kind that replays a history script (:class:`~detente.sim.strategies.Scripted`).
SCRIPTED_KIND = "scripted"

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Engine role name -> the issue ``role:`` value that fills it.
ISSUE_ROLES: dict[str, str] = {
    "sanctions": "sanctions",
    "dialogue": "dialogue",
    "terror": "terror-support",
    "wmd": "wmd",
    "reform": "reform",
}
#: Issue roles a scenario must give for the simulation's mechanisms (relief, rally and
#: dictation read the sanctions level; rapprochement is the dialogue level).
REQUIRED_ISSUE_ROLES: tuple[str, ...] = ("sanctions", "dialogue")
#: Metric institution name -> institution ``role:`` (internal side, elected).
REPORTED_ROLES: dict[str, str] = {"legislature": "legislature", "presidency": "presidency"}
#: Actor kinds whose clout follows public support between elections.
MOBILE_KINDS = ("faction", "society")
#: Default relative spread (low, high) of an implementation delay given as a plain number.
DEFAULT_DELAY_SPREAD = (0.5, 2.0)


@dataclass(frozen=True)
class Side:
    """One country's actors, instruments and veto players as arrays.

    Attributes
    ----------
    country : str
    actors : tuple of str
    position : ndarray [A, I]
        Ideal points (NaN = no stake on the issue).
    salience : ndarray [A, I]
        Saliences on 0-1 (0 = no stake).
    clout : ndarray [A]
    reform : ndarray [A] of bool
        Actor belongs to a camp whose label contains "reform".
    camp : ndarray [A] of bool
        Actor has a camp label at all.
    mobile : ndarray [A] of bool
        Unelected faction/society actors whose clout follows public support.
    legislature : ndarray [A] of bool
        Actors of kind ``legislature`` (their approval of a conciliatory step needs trust).
    instruments : tuple of str
    effects : ndarray [K, I]
    gesture, cost : ndarray [K]
    reversible, multilateral : ndarray [K] of bool
    reform_backing : ndarray [K]
        How visibly each step backs the other country's reformers (0-1; docs/model.md 4).
    delay_low, delay_mode, delay_high : ndarray [K]
        Triangular delay distribution in steps.
    approvals : ndarray [K, A] of bool
    requires : ndarray [K, K] of bool
        ``requires[k, j]``: instrument ``j`` must be in force before ``k`` starts.
    order : ndarray [K] of int
        Conciliatory instruments by increasing gesture, then hostile ones by increasing
        hostility: the order of the ladder and of sequential approval.
    conc_rank, host_rank : ndarray [K]
        Cumulative gesture share at which a conciliatory (hostile) instrument enters the
        ladder (inf for the other kind).
    veto_holder : ndarray [V] of int
    veto_issues : ndarray [V, I] of bool
    veto_tol : ndarray [V]
    approval_tol : ndarray [A]
        Tolerance of each actor when it must approve (its veto tolerance if it has one).
    direction : ndarray [I]
        +1/-1 where this side's conciliatory instruments move an issue up/down, else 0.
    subordinate : ndarray [A] of bool
        Bureaucracies (actor kind ``bureaucracy`` or holder of an institution with
        ``role: bureaucracy``): they implement, so their resistance is the instruments' delay;
        they vote with their clout but neither veto nor block by withholding approval.
    executive : int
        Actor index of the holder of the country's ``role: presidency`` institution (else
        ``role: leader``), -1 if none: the proposer of the focal strategy's steps.
    ext_position : ndarray [E, I]
        Ideal points of approval holders from other countries (third parties such as the
        UN Drug Control Program or the World Bank; NaN = no stake): they consent to a step
        only if it leaves them no worse off than ``approval_tolerance``.
    ext_approvals : ndarray [K, E] of bool
    ext_actors : tuple of str
    by_executive, by_legislature : ndarray [K] of bool
        Who may propose each step (``initiative``): the executive's ladder takes only the
        first; the focal side's legislature may propose the second on its own (4c).
    locks : ndarray [K] of bool
        Statutes: while in force, the side's steps moving their issues the other way need
        the legislature's floor majority.
    discount : ndarray [K]
        ``cost_discount``: while in force, the side's later conciliatory steps cost
        ``x (1 - discount)``.
    sunset_step : ndarray [K] of int
        The step at which a law's lapse takes effect unless renewed; -1 for other steps.
    renewed_by : ndarray [K, K] of bool
        ``renewed_by[k, j]``: step ``j`` renews the law whose lapse is ``k``.
    """

    country: str
    actors: tuple[str, ...]
    position: FloatArray
    salience: FloatArray
    clout: FloatArray
    reform: BoolArray
    camp: BoolArray
    mobile: BoolArray
    legislature: BoolArray
    instruments: tuple[str, ...]
    effects: FloatArray
    gesture: FloatArray
    cost: FloatArray
    reversible: BoolArray
    multilateral: BoolArray
    reform_backing: FloatArray
    delay_low: FloatArray
    delay_mode: FloatArray
    delay_high: FloatArray
    approvals: BoolArray
    requires: BoolArray
    order: IntArray
    conc_rank: FloatArray
    host_rank: FloatArray
    veto_holder: IntArray
    veto_issues: BoolArray
    veto_tol: FloatArray
    approval_tol: FloatArray
    direction: FloatArray
    subordinate: BoolArray
    executive: int
    ext_position: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    ext_approvals: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    ext_actors: tuple[str, ...] = ()
    by_executive: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    by_legislature: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    locks: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    discount: FloatArray = field(default_factory=lambda: np.zeros(0))
    sunset_step: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    renewed_by: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))

    @property
    def n_actors(self) -> int:
        """Number of actors."""
        return len(self.actors)

    @property
    def n_instruments(self) -> int:
        """Number of instruments."""
        return len(self.instruments)


@dataclass(frozen=True)
class ElectionPlan:
    """Elections of the internal side: step, elected holder (actor index) and vetting."""

    step: IntArray
    holder: IntArray
    vetting: FloatArray
    institution: tuple[str, ...]


@dataclass(frozen=True)
class FocalElections:
    """Elections of the focal side's elected institutions (the U.S. rule, docs/model.md 4b).

    Attributes
    ----------
    step : ndarray [E] of int
    legislature : ndarray [E] of bool
        True for an election of the ``role: legislature`` institution (the voters' verdict
        moves its hawk/engager balance), False for the ``role: presidency`` one (a new mandate
        clears part of the accumulated domestic cost).
    institution : tuple of str
    floor : int
        Actor index of the legislature's holder (its floor majority), -1 if none.
    hawk, engager : ndarray [A] of bool
        The focal side's factions (kind ``faction``) whose ideal point on the sanctions issue
        is at or above (hawks), or below (engagers), the floor's.
    hawk_position, engager_position : ndarray [I]
        Clout-weighted ideal points of each group (the floor's own where a group has none).
    """

    step: IntArray
    legislature: BoolArray
    institution: tuple[str, ...]
    floor: int
    hawk: BoolArray
    engager: BoolArray
    hawk_position: FloatArray
    engager_position: FloatArray


@dataclass(frozen=True)
class LegislativePlan:
    """The focal side's legislature acting on its own (docs/model.md 4c).

    Attributes
    ----------
    floor : int
        Actor index of the ``role: legislature`` institution's holder (its floor majority).
    members : ndarray [A] of bool
        The actors who vote on the floor: the holder and the hawk and engager factions
        (:class:`FocalElections`), with the clout and positions the balance gives them.
    """

    floor: int
    members: BoolArray


def _weighted_mean(x: FloatArray, weights: FloatArray) -> float:
    """``np.average(x, weights=weights)`` for 1-d float64 arrays with a positive weight sum:
    the same products, sums and division (so the same bits), without its argument checks,
    which cost more than the sums at the dozens of actors a compile averages over."""
    return float(np.multiply(x, weights).sum() / weights.sum())


def focal_elections(s: Scenario, raw: Scenario, side: Side, sanctions: int,
                    dates: list[dt.date], step: str, horizon: int) -> FocalElections:
    """Lay out the focal side's elections and the hawk and engager factions of its legislature.

    Only elections of the side's elected ``role: legislature`` and ``role: presidency``
    institutions are kept; any other election of the focal country stays inert. The floor is
    the holder of the side's ``role: legislature`` institution, elected or not. Factions are
    classed by their *nominal* sanctions ideal point (``raw``, before resolving), so a sampled
    state never turns a hawk into an engager; the groups' positions are the resolved ones.
    """
    a_idx = {x: i for i, x in enumerate(side.actors)}
    roles: dict[str, str] = {}
    floor = -1
    for inst in s.institutions:
        if inst.country == side.country and inst.holder in a_idx:
            if inst.elected and inst.role in ("legislature", "presidency"):
                roles[inst.id] = str(inst.role)
            if inst.role == "legislature" and floor < 0:  # elected or not: it also legislates
                floor = a_idx[inst.holder]
    n_i = side.position.shape[1]
    hawk = np.zeros(side.n_actors, dtype=bool)
    eng = np.zeros(side.n_actors, dtype=bool)
    x_h = np.full(n_i, np.nan)
    x_e = np.full(n_i, np.nan)
    if floor >= 0:
        kinds = {a.id: a.kind for a in s.actors}
        faction = np.array([kinds[a] == "faction" for a in side.actors], dtype=bool)
        x_s = np.full(side.n_actors, np.nan)
        if sanctions >= 0:
            key = s.issues[sanctions].id
            nom = {a.id: a.positions.get(key) for a in raw.actors}
            x_s = np.array([np.nan if nom.get(a) is None else nominal(nom[a])  # type: ignore[arg-type]
                            for a in side.actors], dtype=np.float64)
        ref = x_s[floor]
        has = faction & ~np.isnan(x_s) & ~np.isnan(ref)
        hawk = has & (np.nan_to_num(x_s, nan=-np.inf) >= ref)
        eng = has & (np.nan_to_num(x_s, nan=np.inf) < ref)
        counted = ~np.isnan(side.position) & (side.clout > 0)[:, None]
        for grp, out in ((hawk, x_h), (eng, x_e)):
            for i in range(n_i):
                ok = grp & counted[:, i]
                out[i] = (
                    _weighted_mean(side.position[ok, i], side.clout[ok])
                    if ok.any()
                    else side.position[floor, i]
                )
    ev_step, ev_leg, ev_inst = [], [], []
    cal = s.calendar
    assert cal is not None
    month = {"month": 1, "quarter": 3, "year": 12}[step]
    start_m = dates[0].year * 12 + dates[0].month - 1
    for el in cal.elections:
        if el.country != side.country or el.institution not in roles:
            continue
        k = (el.date.year * 12 + el.date.month - 1 - start_m) // month
        if 0 <= k < horizon:
            ev_step.append(k)
            ev_leg.append(roles[el.institution] == "legislature")
            ev_inst.append(el.institution)
    return FocalElections(
        step=np.array(ev_step, dtype=np.int64),
        legislature=np.array(ev_leg, dtype=bool),
        institution=tuple(ev_inst),
        floor=floor,
        hawk=hawk,
        engager=eng,
        hawk_position=x_h,
        engager_position=x_e,
    )


@dataclass(frozen=True)
class ScriptPlan:
    """A history script laid out per step of the focal side (docs/history.md).

    Attributes
    ----------
    id : str
    until : int
        The last scripted step; the hand-over strategy plays after it.
    levels : ndarray [until + 1]
        The scripted cooperation level per step (NaN: none yet, the ladder asks for nothing).
    held : ndarray [until + 1, K] of int8
        +1: the script keeps the instrument on; -1: keeps it off; 0: left to the level.
    force_on : ndarray [until + 1, K] of bool
        Switched on at this step: in force at once, without ratification or delay.
    """

    id: str
    until: int
    levels: FloatArray
    held: NDArray[np.int8]
    force_on: BoolArray


@dataclass(frozen=True)
class EventPlan:
    """Scheduled events (``history.events``): their steps and effects, as for shocks."""

    step: IntArray
    effects: FloatArray  # [E, I]
    clout_focal: FloatArray  # [E, A_focal]
    clout_internal: FloatArray  # [E, A_internal]
    ids: tuple[str, ...]
    clout_third: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    """[E, X]: relative clout change of the :class:`Environment`'s third parties."""
    threat: FloatArray = field(default_factory=lambda: np.zeros(0))
    """[E]: change of the regional threat."""
    settlement: FloatArray = field(default_factory=lambda: np.zeros(0))
    """[E]: change of the settlement."""


@dataclass(frozen=True)
class Environment:
    """The third parties with a role in the international environment (docs/model.md 5).

    Attributes
    ----------
    actors : tuple of str
        Third-party actors that are an ally of the focal side (``ally_of``) or a threat to
        the internal side (``threat_to``); the others play no part here.
    ally, threat : ndarray [X] of bool
        Which role each has.
    clout : ndarray [X]
        Clout at the start (shocks and events scale it during a run).
    position : ndarray [X, I]
        Ideal points (the issue's low end where the actor has no stake: its weight is 0).
    friction_weight : ndarray [X, I]
        An ally's salience (0-1) on each of the focal side's policy issues
        (:func:`policy_issues`), zero elsewhere and for non-allies: the weight of its gap to
        the focal side's line in the friction.
    """

    actors: tuple[str, ...] = ()
    ally: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    threat: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    clout: FloatArray = field(default_factory=lambda: np.zeros(0))
    position: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    friction_weight: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def n_actors(self) -> int:
        """Number of third parties with a role."""
        return len(self.actors)


@dataclass(frozen=True)
class System:
    """A compiled system scenario: everything the engine needs, as arrays."""

    scenario_id: str
    params: SimParameters
    issues: tuple[str, ...]
    low: FloatArray
    high: FloatArray
    span: FloatArray
    status_quo: FloatArray
    roles: dict[str, int]
    focal: Side
    internal: Side
    elected: IntArray
    """Actor indices (internal side) of elected institutions' holders."""
    alt_position: FloatArray
    """[E, I]: the position an elected holder takes when the other camp wins it."""
    elections: ElectionPlan
    reported: dict[str, int]
    """Metric institution name -> index into ``elected`` (absent if not found)."""
    shock_rate: FloatArray
    shock_effects: FloatArray
    shock_clout_focal: FloatArray
    shock_clout_internal: FloatArray
    shock_ids: tuple[str, ...]
    horizon: int
    dt: float
    dates: tuple[str, ...]
    focal_strategy: str
    focal_params: dict[str, float] = field(default_factory=dict)
    focal_menu: BoolArray | None = None
    focal_elections: FocalElections | None = None
    """The focal side's elections (None: no focal election has an effect)."""
    script: ScriptPlan | None = None
    """The history script the focal side replays before its strategy (None: no script)."""
    events: EventPlan | None = None
    """Scheduled events inside the horizon (None: none)."""
    demand: FloatArray = field(default_factory=lambda: np.zeros(0))
    """[I]: the level the internal side demands on each issue as a condition (the issues'
    ``demand:`` by the internal side's country), NaN where it states none."""
    environment: Environment = field(default_factory=Environment)
    """Third parties with a role in the international environment (allies, threats)."""
    shock_clout_third: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    """[S, X]: relative clout change of the environment's third parties per shock."""
    shock_threat: FloatArray = field(default_factory=lambda: np.zeros(0))
    """[S]: change of the regional threat per shock."""
    shock_settlement: FloatArray = field(default_factory=lambda: np.zeros(0))
    """[S]: change of the settlement per shock."""
    legislative: LegislativePlan | None = None
    """The focal legislature acting on its own (None: no such legislature, or no step it may
    propose or lock)."""


# ------------------------------------------------------------------------------ helpers
def quarter_label(d: dt.date) -> str:
    """``2001-07-01`` -> ``"2001Q3"``."""
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def step_dates(start: dt.date, step: str, horizon: int) -> tuple[list[dt.date], list[str]]:
    """The first day of each step's period and its label (quarters as ``2001Q3``)."""
    months = {"month": 1, "quarter": 3, "year": 12}[step]
    base = start.year * 12 + (start.month - 1)
    if step == "quarter":
        base -= base % 3
    out, labels = [], []
    for t in range(horizon):
        m = base + t * months
        d = dt.date(m // 12, m % 12 + 1, 1)
        out.append(d)
        if step == "quarter":
            labels.append(quarter_label(d))
        elif step == "month":
            labels.append(f"{d.year}-{d.month:02d}")
        else:
            labels.append(str(d.year))
    return out, labels


def issue_roles(s: Scenario) -> dict[str, int]:
    """Engine role name -> issue index (-1 if no issue has that role).

    Raises
    ------
    InputError
        A role in :data:`REQUIRED_ISSUE_ROLES` is given to no issue.
    """
    by_role: dict[str, int] = {str(i.role): j for j, i in enumerate(s.issues) if i.role is not None}
    missing = [ISSUE_ROLES[r] for r in REQUIRED_ISSUE_ROLES if ISSUE_ROLES[r] not in by_role]
    if missing:
        from detente.errors import InputProblem

        raise InputError(
            [
                InputProblem(
                    f"scenario {s.id}",
                    f"the simulation needs an issue with 'role: {m}' "
                    f"(add it to the issue that measures {_ROLE_MEANING[m]})",
                    path="issues",
                )
                for m in missing
            ]
        )
    return {name: by_role.get(role, -1) for name, role in ISSUE_ROLES.items()}


_ROLE_MEANING = {
    "sanctions": "the focal side's sanctions on the other",
    "dialogue": "direct dialogue/relations between the principals",
}


def _delay_shape(x: float | Uncertain) -> tuple[float, float]:
    """Relative (low, high) of a delay distribution around its nominal value."""
    if isinstance(x, Uncertain) and x.is_range:
        lo, hi = x.bounds()
        nom = x.nominal
        if nom > 0:
            return max(lo, 0.0) / nom, hi / nom
        return 0.0, 0.0
    return DEFAULT_DELAY_SPREAD


def _stakes(actors: Sequence[Actor], idx: Mapping[str, int]) -> tuple[FloatArray, FloatArray]:
    """Actors' ideal points ``[A, I]`` (NaN: no stake) and saliences on 0-1 (0: no stake)."""
    pos = np.full((len(actors), len(idx)), np.nan)
    sal = np.zeros((len(actors), len(idx)))
    rows: list[int] = []
    cols: list[int] = []
    ideal: list[float] = []
    weight: list[float] = []
    for j, a in enumerate(actors):
        saliences = a.saliences
        for key, v in a.positions.items():
            rows.append(j)
            cols.append(idx[key])
            ideal.append(nominal(v))
            s = saliences.get(key)
            weight.append(nominal(s) / 100.0 if s is not None else 0.5)
    pos[rows, cols] = ideal
    sal[rows, cols] = weight
    return pos, sal


def _side(s: Scenario, raw: Scenario, country: str, issues: list[str], p: SimParameters) -> Side:
    idx = {x: i for i, x in enumerate(issues)}
    actors = s.actors_of(country)
    aid = [a.id for a in actors]
    a_idx = {x: i for i, x in enumerate(aid)}
    n_a, n_i = len(actors), len(issues)
    pos, sal = _stakes(actors, idx)
    clout = np.array([nominal(a.clout) for a in actors], dtype=np.float64)
    reform = np.array([a.camp is not None and "reform" in a.camp.lower() for a in actors])
    camp = np.array([a.camp is not None for a in actors])
    holders = {inst.holder for inst in s.institutions if inst.elected}
    mobile = np.array(
        [a.kind in MOBILE_KINDS and a.camp is not None and a.id not in holders for a in actors]
    )

    raw_ins = {i.id: i for i in raw.instruments}
    ins = [i for i in s.instruments if i.owner == country]
    kid = [i.id for i in ins]
    k_idx = {x: i for i, x in enumerate(kid)}
    n_k = len(ins)
    eff = np.zeros((n_k, n_i))
    gest = np.zeros(n_k)
    cost = np.zeros(n_k)
    rev = np.zeros(n_k, dtype=bool)
    multi = np.zeros(n_k, dtype=bool)
    backing = np.zeros(n_k)
    dmode = np.zeros(n_k)
    dlo = np.zeros(n_k)
    dhi = np.zeros(n_k)
    appr = np.zeros((n_k, n_a), dtype=bool)
    req = np.zeros((n_k, n_k), dtype=bool)
    others = {a.id: a for a in s.actors if a.id not in a_idx}
    ext_ids = sorted({r for x in ins for r in x.approvals if r in others})
    e_idx = {x: i for i, x in enumerate(ext_ids)}
    ext_pos = np.full((len(ext_ids), n_i), np.nan)
    for e, ref in enumerate(ext_ids):
        for key, v in others[ref].positions.items():
            ext_pos[e, idx[key]] = nominal(v)
    ext_appr = np.zeros((n_k, len(ext_ids)), dtype=bool)
    for k, x in enumerate(ins):
        for key, v in x.effects.items():
            eff[k, idx[key]] = nominal(v)
        gest[k] = nominal(x.gesture)
        cost[k] = nominal(x.domestic_cost)
        rev[k] = x.reversible
        multi[k] = x.multilateral
        backing[k] = nominal(x.reform_backing)
        d = nominal(x.delay)
        rlo, rhi = _delay_shape(raw_ins[x.id].delay if x.id in raw_ins else x.delay)
        dmode[k], dlo[k], dhi[k] = d, d * rlo, max(d * rhi, d)
        for ref in x.approvals:
            if ref in a_idx:
                appr[k, a_idx[ref]] = True
            elif ref in e_idx:
                ext_appr[k, e_idx[ref]] = True
        for ref in x.requires:
            if ref in k_idx:
                req[k, k_idx[ref]] = True
    by_exec = np.array(["executive" in x.initiative and x.sunset is None for x in ins], dtype=bool)
    by_leg = np.array(["legislature" in x.initiative for x in ins], dtype=bool)
    sunset_step = np.full(n_k, -1, dtype=np.int64)
    renewed_by = np.zeros((n_k, n_k), dtype=bool)
    for k, x in enumerate(ins):
        if x.sunset is not None and s.calendar is not None:
            sunset_step[k] = max(s.calendar.step_of(x.sunset.date), 0)
            for ref in x.sunset.renewed_by:
                if ref in k_idx:
                    renewed_by[k, k_idx[ref]] = True
    # the executive's ladder climbs only the steps it may propose (a legislature's statute
    # or a law's lapse has no rank there, though its gesture counts in the posture)
    conc = np.flatnonzero((gest > 0) & by_exec)
    host = np.flatnonzero((gest < 0) & by_exec)
    conc_sorted = conc[np.argsort(gest[conc], kind="stable")]
    host_sorted = host[np.argsort(-gest[host], kind="stable")]
    conc_rank = np.full(n_k, np.inf)
    host_rank = np.full(n_k, np.inf)
    if conc.size:
        cum = np.cumsum(gest[conc_sorted]) / gest[conc_sorted].sum()
        conc_rank[conc_sorted] = cum
    if host.size:
        cum = np.cumsum(-gest[host_sorted]) / (-gest[host_sorted]).sum()
        host_rank[host_sorted] = cum
    neutral = np.flatnonzero(~(((gest > 0) | (gest < 0)) & by_exec))
    order = np.concatenate([conc_sorted, host_sorted, neutral]).astype(np.int64)

    vh, vi, vt = [], [], []
    appr_tol = np.full(n_a, p.approval_tolerance)
    for inst in s.institutions:
        if inst.country != country or inst.holder not in a_idx:
            continue
        for veto in inst.vetoes:
            mask = np.zeros(n_i, dtype=bool)
            for ref in veto.issues:
                mask[idx[ref]] = True
            vh.append(a_idx[inst.holder])
            vi.append(mask)
            vt.append(nominal(veto.tolerance))
            h = a_idx[inst.holder]
            appr_tol[h] = min(appr_tol[h], nominal(veto.tolerance))
    own_inst = [inst for inst in s.institutions if inst.country == country]
    bureau = {inst.holder for inst in own_inst if inst.role == "bureaucracy"}
    subordinate = np.array([a.kind == "bureaucracy" or a.id in bureau for a in actors], dtype=bool)
    executive = -1
    for role in ("presidency", "leader"):
        heads = [inst.holder for inst in own_inst if inst.role == role and inst.holder in a_idx]
        if heads:
            executive = a_idx[heads[0]]
            break
    direction = np.sign((gest[:, None].clip(0, None) * eff).sum(axis=0)) if n_k else np.zeros(n_i)
    return Side(
        country=country,
        actors=tuple(aid),
        position=pos,
        salience=sal,
        clout=clout,
        reform=reform,
        camp=camp,
        mobile=mobile,
        legislature=np.array([a.kind == "legislature" for a in actors], dtype=bool),
        instruments=tuple(kid),
        effects=eff,
        gesture=gest,
        cost=cost,
        reversible=rev,
        multilateral=multi,
        reform_backing=backing,
        delay_low=dlo,
        delay_mode=dmode,
        delay_high=dhi,
        approvals=appr,
        requires=req,
        order=order,
        conc_rank=conc_rank,
        host_rank=host_rank,
        veto_holder=np.array(vh, dtype=np.int64),
        veto_issues=np.array(vi, dtype=bool).reshape(len(vh), n_i),
        veto_tol=np.array(vt, dtype=np.float64),
        approval_tol=appr_tol,
        direction=direction.astype(np.float64),
        subordinate=subordinate,
        executive=executive,
        ext_position=ext_pos,
        ext_approvals=ext_appr,
        ext_actors=tuple(ext_ids),
        by_executive=by_exec,
        by_legislature=by_leg,
        locks=np.array([x.locks for x in ins], dtype=bool),
        discount=np.array([nominal(x.cost_discount) for x in ins], dtype=np.float64),
        sunset_step=sunset_step,
        renewed_by=renewed_by,
    )


def resolve_strategy(s: Scenario, strategy: str) -> tuple[str, str, dict[str, float], list[str]]:
    """Find a strategy by scenario strategy id or registered kind.

    Returns
    -------
    (country, kind, params, menu)
        The focal country, the registered strategy kind, its nominal parameters and the
        instrument menu (empty = all the country's instruments).

    Raises
    ------
    InputError
        Unknown strategy (neither a scenario strategy nor a registered one).
    """
    from detente.sim.strategies import get_strategy

    designed = find_designed(s, strategy)
    if designed is not None:
        country, kind, params, menu = resolve_strategy(s, designed.strategy)
        return country, kind, {**params, **designed_params(s, strategy)}, menu
    script = find_script(s, strategy)
    if script is not None:
        try:
            _, kind, params, menu = resolve_strategy(s, script.then)
        except InputError as exc:
            i = s.history.scripts.index(script) if s.history is not None else 0
            raise InputError(
                [
                    replace(p, source=f"scenario {s.id}", path=f"history.scripts[{i}].then")
                    for p in exc.problems
                ]
            ) from None
        return script.country, kind, params, menu
    if strategy == SCRIPTED_KIND:
        raise InputError.single(
            "--strategy",
            f"{SCRIPTED_KIND!r} replays a scenario's history script; name the script's id: "
            f"{', '.join(script_ids(s)) or 'this scenario has none'}",
        )
    for spec in s.strategies:
        if spec.id == strategy or (spec.kind == INTERNAL_KIND and strategy == INTERNAL_KIND):
            if spec.kind == INTERNAL_KIND:
                choices = [sp.id for sp in s.strategies if sp.kind != INTERNAL_KIND]
                raise InputError.single(
                    "--strategy",
                    f"strategy {strategy!r} is {spec.country}'s decision rule "
                    f"({INTERNAL_KIND}), which the engine runs for the side whose strategy is "
                    f"not tested; choose a strategy of the other principal: "
                    f"{', '.join(choices) or 'none'}",
                )
            return (
                spec.country,
                spec.kind,
                {k: nominal(v) for k, v in spec.params.items()},
                list(spec.instruments),
            )
    try:
        get_strategy(strategy)
    except InputError:
        from detente.errors import did_you_mean
        from detente.sim.strategies import strategy_names

        ids = [sp.id for sp in s.strategies] + script_ids(s)
        raise InputError.single(
            "--strategy",
            f"unknown strategy {strategy!r}{did_you_mean(strategy, ids + strategy_names())}; "
            f"scenario strategies: {', '.join(ids) or 'none'}; "
            f"registered: {', '.join(strategy_names())}",
        ) from None
    # a registered kind: use the scenario's spec of that kind if any, else the options' country
    if strategy == INTERNAL_KIND:
        raise InputError.single(
            "--strategy",
            f"{INTERNAL_KIND!r} is the internal side's decision rule, not a focal strategy",
        )
    for spec in s.strategies:
        if spec.kind == strategy:
            return (
                spec.country,
                spec.kind,
                {k: nominal(v) for k, v in spec.params.items()},
                list(spec.instruments),
            )
    options = [sp for sp in s.strategies if sp.option] or list(s.strategies)
    principals = [c.id for c in s.countries if c.role == "principal"]
    country = options[0].country if options else principals[0]
    return country, strategy, {}, []


def strategy_spec(s: Scenario, strategy: str) -> StrategySpec | None:
    """The scenario's spec of a strategy, found as :func:`resolve_strategy` finds it.

    A script's spec is that of its hand-over strategy; a registered kind's is the
    scenario's first spec of that kind; None when the scenario has no such spec.
    """
    designed = find_designed(s, strategy)
    if designed is not None:
        return strategy_spec(s, designed.strategy)
    script = find_script(s, strategy)
    if script is not None:
        return strategy_spec(s, script.then)
    by_id = next((spec for spec in s.strategies if spec.id == strategy), None)
    return by_id or next((spec for spec in s.strategies if spec.kind == strategy), None)


def modest_ceiling_of(
    s: Scenario, spec: StrategySpec, kind: str, side: Side, neutral: float
) -> float:
    """The ``ceiling`` parameter of a strategy listing ``after_reciprocation`` steps.

    The ladder level just below the first of those steps in this state's ladder order
    (:func:`detente.sim.strategies.modest_ceiling`).

    Raises
    ------
    InputError
        The strategy's kind takes no ceiling, or the spec also gives one as a parameter.
    """
    from detente.sim.strategies import get_strategy, modest_ceiling

    path = f"strategies[{spec.id}].after_reciprocation"
    if "ceiling" not in get_strategy(kind).params():
        raise InputError.single(
            f"scenario {s.id}",
            f"strategy kind {kind!r} takes no modest ceiling (no 'ceiling' parameter), so it "
            "cannot hold steps back until the other side reciprocates; drop the list",
            path=path,
        )
    if "ceiling" in spec.params:
        raise InputError.single(
            f"scenario {s.id}",
            "the ceiling is given twice (params.ceiling and after_reciprocation); keep one",
            path=path,
        )
    bold = np.array([k in spec.after_reciprocation for k in side.instruments], dtype=bool)
    return float(modest_ceiling(side.conc_rank, bold, neutral))


def find_designed(s: Scenario, strategy: str) -> DesignedStrategy | None:
    """The scenario's designed strategy with this id (``designed:``), or None."""
    return next((d for d in s.designed if d.id == strategy), None)


def designed_params(s: Scenario, strategy: str) -> dict[str, float]:
    """The parameters a designed strategy fixes (nominal values; a resolved scenario's
    are the state's own, which is how ``detente design`` moves its candidates)."""
    designed = find_designed(s, strategy)
    return {} if designed is None else {k: nominal(v) for k, v in designed.params.items()}


def script_ids(s: Scenario) -> list[str]:
    """The ids of the scenario's history scripts (usable as strategy ids)."""
    return [x.id for x in s.history.scripts] if s.history is not None else []


def find_script(s: Scenario, strategy: str) -> Script | None:
    """The history script with this id, or None."""
    if s.history is None:
        return None
    return next((x for x in s.history.scripts if x.id == strategy), None)


def script_plan(script: Script, cal: Calendar, side: Side) -> ScriptPlan:
    """Lay out a script's dated steps per calendar step (steps in one period: date order)."""
    until = min(cal.step_of(script.last_date), cal.horizon - 1)
    k_of = {x: k for k, x in enumerate(side.instruments)}
    levels = np.full(until + 1, np.nan)
    held = np.zeros((until + 1, side.n_instruments), dtype=np.int8)
    force_on = np.zeros((until + 1, side.n_instruments), dtype=bool)
    for st in sorted(script.steps, key=lambda x: x.date):
        t = cal.step_of(st.date)
        if st.level is not None:
            levels[t:] = st.level
        elif st.instrument is not None:
            k = k_of[st.instrument]
            held[t:, k] = 1 if st.action == "on" else -1
            force_on[t, k] = st.action == "on"
    return ScriptPlan(script.id, until, levels, held, force_on)


def _clout_changes(
    items: Sequence[Shock | ScheduledEvent], *sides: tuple[str, ...]
) -> list[FloatArray]:
    """Each item's relative clout changes laid out per group of actors: ``[len(items), A]``
    for each tuple of actor ids in ``sides`` (an actor in none of them is left out)."""
    out = [np.zeros((len(items), len(ids))) for ids in sides]
    where = {a: (g, k) for g, ids in enumerate(sides) for k, a in enumerate(ids)}
    for j, x in enumerate(items):
        for key, v in x.clout.items():
            if key in where:
                g, k = where[key]
                out[g][j, k] = nominal(v)
    return out


def event_plan(
    s: Scenario, focal: Side, internal: Side, issues: list[str], env: Environment | None = None
) -> EventPlan | None:
    """Lay out the scenario's scheduled events inside the horizon (None when there are none)."""
    cal = s.calendar
    if s.history is None or cal is None or not s.history.events:
        return None
    evs = s.history.events
    env = env if env is not None else Environment()
    eff = np.zeros((len(evs), len(issues)))
    for j, ev in enumerate(evs):
        for key, v in ev.effects.items():
            eff[j, issues.index(key)] = nominal(v)
    cf, ci, cx = _clout_changes(evs, focal.actors, internal.actors, env.actors)
    return EventPlan(
        step=np.array([cal.step_of(ev.date) for ev in evs], dtype=np.int64),
        effects=eff,
        clout_focal=cf,
        clout_internal=ci,
        ids=tuple(ev.id for ev in evs),
        clout_third=cx,
        threat=np.array([nominal(ev.threat) for ev in evs], dtype=np.float64),
        settlement=np.array([nominal(ev.settlement) for ev in evs], dtype=np.float64),
    )


def policy_issues(s: Scenario, focal: str, roles: Mapping[str, int]) -> BoolArray:
    """The focal side's own policy issues: the one with ``role: sanctions`` and those with
    ``policy_of`` the focal country (its allies judge the focal side's line on them)."""
    out = np.array([i.policy_of == focal for i in s.issues], dtype=bool)
    if roles["sanctions"] >= 0:
        out[roles["sanctions"]] = True
    return out


def environment(
    s: Scenario, focal: str, internal: str, issues: list[str], policy: BoolArray
) -> Environment:
    """Lay out the third parties that are an ally of ``focal`` or a threat to ``internal``.

    Actors of the two principals never count here (their clout is their side's).
    """
    idx = {x: i for i, x in enumerate(issues)}
    actors = [
        a for a in s.actors
        if a.country not in (focal, internal) and (a.ally_of == focal or a.threat_to == internal)
    ]
    ally = np.array([a.ally_of == focal for a in actors], dtype=bool)
    pos, sal = _stakes(actors, idx)
    low = np.array([i.low for i in s.issues], dtype=np.float64)
    weight = np.where(ally[:, None] & policy[None, :] & ~np.isnan(pos), sal, 0.0)
    return Environment(
        actors=tuple(a.id for a in actors),
        ally=ally,
        threat=np.array([a.threat_to == internal for a in actors], dtype=bool),
        clout=np.array([nominal(a.clout) for a in actors], dtype=np.float64),
        position=np.where(np.isnan(pos), low[None, :], pos),
        friction_weight=weight,
    )


def compile_system(
    scenario: Scenario,
    strategy: str,
    values: Mapping[str, float] | None = None,
    *,
    resolved: Scenario | None = None,
    bases: MutableMapping[str, System] | None = None,
) -> System:
    """Resolve a system scenario and lay it out as arrays for the engine.

    Parameters
    ----------
    scenario : Scenario
        A ``kind: system`` scenario as written, not a resolved copy: the spread of each
        implementation delay is read from its range, and a resolved copy has only plain
        numbers (which take :data:`DEFAULT_DELAY_SPREAD`). Pass the state in ``values``.
    strategy : str
        A scenario strategy id or a registered strategy name for the focal side.
    values : mapping, optional
        Values for some of the scenario's uncertainties (see :func:`detente.scenario.resolve`).
    resolved : Scenario, optional
        ``resolve(scenario, values)`` when the caller has it already (one state compiled
        under several strategies resolves once).
    bases : mutable mapping, optional
        A memo of this state's strategy-free systems by focal country
        (:func:`base_system`), read and filled here: compiling the same state (same
        ``scenario`` and ``values``) under several strategies then lays it out once. The
        result is the same object-for-object as without the memo.

    Raises
    ------
    InputError
        Not a system scenario, fewer than two principal countries, unknown strategy or
        model parameter.
    """
    src = f"scenario {scenario.id}"
    if scenario.kind != "system" or scenario.calendar is None:
        raise InputError.single(src, "simulation needs a 'kind: system' scenario with a calendar")
    s = resolve(scenario, values) if resolved is None else resolved
    # bad model parameters are refused before the strategy is looked at
    p = next(iter(bases.values())).params if bases else parameters_from(s)
    country, kind, sparams, menu = resolve_strategy(s, strategy)
    principals = [c.id for c in s.countries if c.role == "principal"]
    others = [c for c in principals if c != country]
    if country not in principals or not others:
        raise InputError.single(
            src,
            f"strategy {strategy!r} belongs to {country!r}; the simulation needs it and "
            "another principal country (role: principal)",
        )
    base = bases.get(country) if bases is not None else None
    if base is None:
        base = base_system(s, scenario, country, others[0], p)
        if bases is not None:
            bases[country] = base
    focal = base.focal
    menu_mask = None
    if menu:
        menu_mask = np.array([k in menu for k in focal.instruments])
    spec = strategy_spec(s, strategy)
    if spec is not None and spec.after_reciprocation:
        ceiling = modest_ceiling_of(s, spec, kind, focal, p.neutral_level)
        # a designed strategy's own ceiling replaces the one its steps would give
        sparams = {"ceiling": ceiling, **sparams} if find_designed(s, strategy) else {
            **sparams, "ceiling": ceiling}
    script = find_script(s, strategy)
    cal = s.calendar
    assert cal is not None
    return replace(
        base,
        focal_strategy=kind,
        focal_params=sparams,
        focal_menu=menu_mask,
        script=script_plan(script, cal, focal) if script is not None else None,
        # Dated events are part of a history replay: they come with a script, never with the
        # options judged from the scenario's start (later facts reach those only through
        # calibration).
        events=(
            event_plan(s, focal, base.internal, list(base.issues), base.environment)
            if script is not None
            else None
        ),
    )


def base_system(
    s: Scenario, scenario: Scenario, country: str, other: str, p: SimParameters | None = None
) -> System:
    """The system of a resolved scenario ``s`` with ``country`` focal, before a strategy is
    chosen: every field but the focal strategy's (kind, parameters, menu, script, events).

    ``scenario`` is ``s`` as written (delay spreads are read from its ranges); ``p`` is
    ``parameters_from(s)`` when the caller has it.
    """
    p = parameters_from(s) if p is None else p
    issues = [i.id for i in s.issues]
    low = np.array([i.low for i in s.issues])
    high = np.array([i.high for i in s.issues])
    sq = np.array(
        [
            nominal(i.status_quo) if i.status_quo is not None else 0.5 * (i.low + i.high)
            for i in s.issues
        ]
    )
    roles = issue_roles(s)
    focal = _side(s, scenario, country, issues, p)
    internal = _side(s, scenario, other, issues, p)

    # elected institutions of the internal side
    cal = s.calendar
    assert cal is not None
    dates, labels = step_dates(cal.start, cal.step, cal.horizon)
    a_idx = {x: i for i, x in enumerate(internal.actors)}
    inst_ids, holders, inst_roles = [], [], []
    for inst in s.institutions:
        if inst.country == other and inst.elected and inst.holder in a_idx:
            inst_ids.append(inst.id)
            holders.append(a_idx[inst.holder])
            inst_roles.append(inst.role)
    elected = np.array(holders, dtype=np.int64)
    alt = np.full((len(holders), len(issues)), np.nan)
    pos = internal.position
    staked = ~np.isnan(pos)
    for e, h in enumerate(holders):
        other_camp = internal.camp & (internal.reform != internal.reform[h])
        w = internal.clout * other_camp
        weighed = w > 0
        for i in range(len(issues)):
            ok = staked[:, i] & weighed
            if ok.any() and staked[h, i]:
                alt[e, i] = _weighted_mean(pos[ok, i], w[ok])
            else:
                alt[e, i] = pos[h, i]
    reported = {}
    for name, role in REPORTED_ROLES.items():
        if role in inst_roles:
            reported[name] = inst_roles.index(role)
    ev_step, ev_holder, ev_vet, ev_inst = [], [], [], []
    for el in cal.elections:
        if el.country != other or el.institution not in inst_ids:
            continue
        step = cal.step_of(el.date)
        if 0 <= step < cal.horizon:
            ev_step.append(step)
            ev_holder.append(inst_ids.index(el.institution))
            ev_vet.append(nominal(el.vetting))
            ev_inst.append(el.institution)
    elections = ElectionPlan(
        step=np.array(ev_step, dtype=np.int64),
        holder=np.array(ev_holder, dtype=np.int64),
        vetting=np.array(ev_vet, dtype=np.float64),
        institution=tuple(ev_inst),
    )

    n_i = len(issues)
    demand = np.array(
        [
            nominal(i.demand.level) if i.demand is not None and i.demand.country == other
            else np.nan
            for i in s.issues
        ],
        dtype=np.float64,
    )
    env = environment(s, country, other, issues, policy_issues(s, country, roles))
    sh_rate = np.array([nominal(x.rate) for x in s.shocks], dtype=np.float64)
    sh_eff = np.zeros((len(s.shocks), n_i))
    for j, x in enumerate(s.shocks):
        for key, v in x.effects.items():
            sh_eff[j, issues.index(key)] = nominal(v)
    sh_cf, sh_ci, sh_cx = _clout_changes(s.shocks, focal.actors, internal.actors, env.actors)
    year_frac = {"month": 1 / 12, "quarter": 0.25, "year": 1.0}[cal.step]
    f_el = focal_elections(s, scenario, focal, roles["sanctions"], dates, cal.step, cal.horizon)
    return System(
        scenario_id=s.id,
        params=p,
        issues=tuple(issues),
        low=low,
        high=high,
        span=high - low,
        status_quo=sq,
        roles=roles,
        focal=focal,
        internal=internal,
        elected=elected,
        alt_position=alt,
        elections=elections,
        reported=reported,
        shock_rate=sh_rate,
        shock_effects=sh_eff,
        shock_clout_focal=sh_cf,
        shock_clout_internal=sh_ci,
        shock_ids=tuple(x.id for x in s.shocks),
        horizon=cal.horizon,
        dt=year_frac,
        dates=tuple(labels),
        focal_strategy="",
        focal_elections=f_el if f_el.step.size else None,
        demand=demand,
        environment=env,
        shock_clout_third=sh_cx,
        shock_threat=np.array([nominal(x.threat) for x in s.shocks], dtype=np.float64),
        shock_settlement=np.array([nominal(x.settlement) for x in s.shocks], dtype=np.float64),
        legislative=legislative_plan(f_el, focal),
    )


def legislative_plan(f_el: FocalElections, focal: Side) -> LegislativePlan | None:
    """The focal legislature's floor and voting members (None when it has nothing to do)."""
    if f_el.floor < 0 or not (focal.by_legislature.any() or focal.locks.any()):
        return None
    members = f_el.hawk | f_el.engager
    members[f_el.floor] = True
    return LegislativePlan(floor=f_el.floor, members=members)


__all__ = [
    "SCRIPTED_KIND",
    "ElectionPlan",
    "Environment",
    "EventPlan",
    "FocalElections",
    "LegislativePlan",
    "ScriptPlan",
    "Side",
    "System",
    "base_system",
    "compile_system",
    "environment",
    "event_plan",
    "find_script",
    "legislative_plan",
    "modest_ceiling_of",
    "policy_issues",
    "quarter_label",
    "script_ids",
    "script_plan",
    "step_dates",
    "strategy_spec",
]
