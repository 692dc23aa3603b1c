"""U.S. domestic politics that can reverse policy (docs/model.md 4c; issue 12 item 4).

Four mechanisms of the focal side's domestic politics beyond the executive's own choice, each
a pure function over arrays of worlds (rows) and instruments or issues (columns):

* :func:`initiative_candidates` and :func:`veto_override`: the legislature acts on its own.
  When policy has drifted from its floor majority's view by more than it tolerates, it
  proposes the sanctions steps it may initiate; the executive vetoes the ones that go
  against its line; a two-thirds floor majority overrides with a sampled reliability.
  :func:`statute_lock`: a statute in force (``locks``) makes the executive's steps that
  undo it need the floor too.
* :func:`sunset_expiry` and :func:`renewal_stance`: a law with a sunset (ILSA's, August 2001)
  lapses at its date unless renewed; a later renewal re-enacts it.
* :func:`cost_retreat`: past its cost tolerance the executive withdraws reversible
  conciliatory steps in force, the costliest first, at a sampled rate.
* :func:`trade_discount`: a trade for legislative support (the article's: accept ILSA's
  renewal for Congress's support of other measures) makes later conciliatory steps cheaper.

Shapes: ``n`` worlds, ``K`` instruments of the focal side, ``I`` issues. A per-instrument or
per-issue number is ``[K]``/``[I]`` when shared by all worlds and ``[n, K]``/``[n, I]`` when it
differs by world (stacked states, :mod:`detente.sim.stacked`); ``effects`` is ``[K, I]`` or
``[n, K, I]``. Every function gives the same numbers in both forms, and in a third the engine
passes: one row per state of a stacked run (``[m, K]``, ``[m, K, I]`` for ``m`` states of
``n / m`` consecutive worlds each, world ``w`` reading row ``w * m // n``).

The formulas are compiled, world by world (:mod:`detente.sim.native.congress`): each function
here prepares its arrays and calls the kernel the engine's own steps call too, so a formula
exists once.

Sources (before July 2001): the article (THE MIDDLE PATH: strong support for ILSA in
Congress; should not waste political capital; agree to ILSA's renewal in exchange for
congressional support; hard time finding support in Congress; looking naive; political costs
manageable but need careful handling. LIBERATION THEOLOGIST: the 1995 sanctions followed
pressure from the Republican-dominated Congress. DETAILS, DETAILS: Congress deeply concerned;
a growing number of legislators), and the record: ILSA (Pub. L. 104-172, 5 Aug 1996) passed
without opposition and carried a five-year sunset; President Clinton's June 1998 veto of the
Iran Missile Proliferation Sanctions Act stood, and Congress passed the Iran Nonproliferation
Act in 2000 instead; the 1996 LIBERTAD (Helms-Burton) Act wrote the Cuba embargo into statute,
so that only Congress could lift it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.sim.native import congress as native
from detente.sim.native import mask

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: The constitutional share of the floor that overrides an executive veto.
SUPERMAJORITY = 2.0 / 3.0


def _per_world(x: Any) -> Any:
    """``[K]`` (shared) as ``[1, K]``; ``[n, K]`` (per world) as it is."""
    return np.atleast_2d(np.asarray(x))


def _f64(x: Any, nd: int) -> Any:
    """A number or array as float64 of ``nd`` dims, a shared one with a leading axis of 1."""
    a = np.asarray(x, dtype=np.float64)
    return a.reshape((1,) * (nd - a.ndim) + a.shape) if a.ndim < nd else a


def renewal_steps(renewed_by: BoolArray) -> BoolArray:
    """``[K]``: the steps that renew some law (a column of ``renewed_by`` with a True)."""
    return np.asarray(renewed_by.any(axis=0))


def retreat_chance(rate: Any, dt: float) -> Any:
    """The retreat's chance per step, ``1 − exp(−rate·dt)`` (a number, or one per world)."""
    return 1.0 - np.exp(-np.asarray(rate) * dt)


def initiative_candidates(
    judged: FloatArray,
    start_level: FloatArray,
    floor_now: FloatArray,
    floor_start: FloatArray,
    stake: BoolArray,
    tolerance: FloatArray,
    effects: FloatArray,
    eligible: BoolArray,
) -> BoolArray:
    """The steps the legislature would put to its floor this step, ``[n, K]``.

    What: on each issue ``i`` where the floor has a stake, the *drift*
    ``D_i = |L_i − x_i| − |L0_i − x0_i|`` compares how far the judged level ``L`` lies from the
    floor's current (balance-adjusted) ideal point ``x`` with how far the starting level
    ``L0`` lay from the scenario's floor ``x0``. Where ``D_i > τ_i`` (its tolerance on ``i``:
    its veto tolerance there, else the approval tolerance) the legislature acts: every
    ``eligible`` step that moves some such issue toward ``x_i`` is a candidate (the floor
    vote then decides, with the balance-adjusted clout and positions).

    Why: positions are observed at the start (docs/model.md 2), so the 2001 Congress, which
    let the executive run Iran policy between its own acts, finds the 2001 status quo
    acceptable (``D = 0``); it acts when the executive relieves sanctions beyond what it
    tolerates ("hard time finding support in Congress", THE MIDDLE PATH), when a law it
    supports is about to lapse ("strong support for ILSA in Congress"), or when an election
    has moved its floor toward the hawks by more than it tolerates. The tolerance that bounds
    its veto bounds its initiative: a body that blocks moves hurting it by more than ``τ``
    also reverses drift beyond ``τ``.

    Parameters
    ----------
    judged : ndarray [n, I]
        The levels the floor judges: the current ones plus moves pending or approved, and
        a law's lapse that is due now (the default a renewal is weighed against).
    start_level : ndarray [I] or [n, I]
    floor_now, floor_start : ndarray [n, I] and [I] or [n, I]
    stake : ndarray [I] of bool
        Issues on which the floor holds a position.
    tolerance : ndarray [I] or [n, I]
    effects : ndarray [K, I] or [n, K, I]
    eligible : ndarray [n, K] of bool
        Steps the legislature may propose now (its ``initiative``, not in force, pending,
        renewed already or killed by a sustained veto this term).
    """
    floor = np.atleast_2d(np.asarray(floor_now, dtype=np.float64))
    c = np.ascontiguousarray
    return native.initiative_rows(
        c(_f64(judged, 2)), c(_f64(start_level, 2)), floor.T[:, :, None], 0,
        c(_f64(floor_start, 2)), mask(stake), c(_f64(tolerance, 2)), c(_f64(effects, 3)),
        mask(eligible))


def against_executive(gesture: Any, level: FloatArray, neutral: Any) -> BoolArray:
    """Steps that go against the executive's current line, ``[n, K]``.

    A hostile step (gesture < 0) while the executive's level is above ``neutral`` (it is
    conciliating), or a conciliatory one while it is below: ``gesture·(l − neutral) < 0``.
    At the neutral level (containment's baseline) nothing is against its line.
    """
    g = _f64(gesture, 2)
    lv = np.asarray(level, dtype=np.float64)
    mask = np.ones((lv.shape[0], g.shape[1]), dtype=np.uint8)
    return native.against_rows(g, lv, _f64(neutral, 1), mask)


def veto_override(
    majority: BoolArray, against: BoolArray, supermajority: BoolArray, u: FloatArray, hold: Any
) -> tuple[BoolArray, BoolArray]:
    """The legislature's bills that become law, and those whose veto is sustained.

    What: a bill the floor passes (``majority``) becomes law unless it goes against the
    executive's line (``against``); then the executive vetoes it and it becomes law only if
    the floor's support reaches two thirds (``supermajority``, :data:`SUPERMAJORITY`) *and*
    that majority holds against the veto, with probability ``hold`` per vote (``u`` one
    uniform per world and step, shared by that step's bills: one coalition).

    Why: the Constitution's override needs two thirds of both chambers; whether members
    who voted for a bill vote to override their party's president is the uncertain part.
    The 1998 Iran Missile Proliferation Sanctions Act passed both chambers by wide margins,
    was vetoed and the veto stood (Congress came back with the Iran Nonproliferation Act in
    2000); ILSA passed without opposition in 1996 and was signed. ``hold`` = 0 gives the
    executive the last word, ``hold`` = 1 a veto-proof majority always wins.

    Returns
    -------
    enacted, sustained : ndarray [n, K] of bool
        Bills that become law; bills vetoed and not overridden (not re-proposed before the
        next congressional election: a vetoed bill dies with its Congress).
    """
    return native.override_rows(mask(majority), mask(against), mask(supermajority),
                                np.asarray(u, dtype=np.float64), _f64(hold, 1))


def legislative_initiative(
    bills: BoolArray,
    gesture: Any,
    level: FloatArray,
    neutral: Any,
    u: FloatArray,
    hold: Any,
    majority: Any,
    floor_vote: Callable[[BoolArray, Any], BoolArray],
) -> tuple[BoolArray, BoolArray]:
    """The legislature's own bills this step: those enacted and those killed by a veto.

    What: the floor votes the candidate ``bills`` (:func:`initiative_candidates`) at the
    ``majority`` threshold; the executive vetoes the passed ones against its line
    (:func:`against_executive`); the floor votes those again at :data:`SUPERMAJORITY`, and
    :func:`veto_override` decides which overrides hold. ``floor_vote(cand, threshold)`` is the
    weighted vote of the floor's members (section 2 of docs/model.md, with the clout and
    positions the hawk/engager balance gives them), supplied by the engine.

    Why: a bill is Congress's own act, so it needs its own floor, not the executive's
    agenda power or approvals, and it must survive the executive's veto (Art. I, sec. 7).

    Returns
    -------
    enacted, killed : ndarray [n, K] of bool
    """
    none = np.zeros(bills.shape, dtype=bool)
    if not bills.any():
        return none, none
    passed = floor_vote(bills, majority)
    against = native.against_rows(_f64(gesture, 2), np.asarray(level, dtype=np.float64),
                                  _f64(neutral, 1), mask(passed))
    two_thirds = floor_vote(against, SUPERMAJORITY) if against.any() else none
    return veto_override(passed, against, two_thirds, u, hold)


def statute_lock(active: BoolArray, locks: BoolArray, effects: FloatArray) -> BoolArray:
    """Steps that would undo a statute in force and so need the legislature, ``[n, K]``.

    What: a step with ``locks`` in force fixes the direction of the issues it moves (the
    sign of its effects); any other step moving one of them the other way needs a majority
    of the legislature's floor, as a bill would.

    Why: a sanctions regime written into law can only be lifted by law (the 1996 LIBERTAD
    Act did this to the Cuba embargo, which executive orders had carried until then); the
    flagship's embargo rests on executive orders, which "would not require new
    legislation" to ease (THE MIDDLE PATH) until Congress codifies them.
    """
    return native.lock_rows(mask(active), mask(locks), np.ascontiguousarray(_f64(effects, 3)))


def renewed_laws(steps: BoolArray, renewed_by: BoolArray) -> BoolArray:
    """``[n, K]``: True at a law's lapse ``k`` where one of its renewals is among ``steps``."""
    return native.renewed_rows(mask(renewed_by), mask(steps))


def spent_renewals(steps: BoolArray, renewed_by: BoolArray) -> BoolArray:
    """``[n, K]``: True at every renewal of a law already renewed by one of ``steps``.

    One renewal is enough: nobody proposes a second (Congress does not renew ILSA again
    once the executive's trade has renewed it).
    """
    return native.spent_rows(mask(renewed_by), mask(steps))


def sunset_expiry(
    t: int,
    sunset_step: IntArray,
    renewed_by: BoolArray,
    committed: BoolArray,
    approved_now: BoolArray,
    lapse_active: BoolArray,
) -> tuple[BoolArray, BoolArray]:
    """Laws that lapse this step, and lapsed laws re-enacted this step, ``[n, K]`` each.

    What: the lapse ``k`` of a law takes effect at its sunset step unless one of its renewals
    (``renewed_by[k]``) is committed (in force, pending or approved); it is then in force like
    any step (its effects move the levels, its gesture is seen by the other side and its
    cost is booked). A renewal approved later re-enacts the law: the lapse is withdrawn.

    Why: ILSA (Pub. L. 104-172, 1996) expired five years after enactment, in August 2001,
    unless renewed ("when it expires in August", THE MIDDLE PATH); its lapse was
    "symbolically important to Iran". Letting a law lapse is a different act from fighting
    its renewal (``us-oppose-ilsa-renewal``): no one proposes it, so no vote can stop it.
    """
    return native.sunset_rows(t, np.asarray(sunset_step, dtype=np.int64), mask(renewed_by),
                              mask(committed), mask(approved_now), mask(lapse_active))


def renewal_stance(
    t: int,
    sunset_step: IntArray,
    renewed_by: BoolArray,
    committed: BoolArray,
    menu: BoolArray,
    gesture: Any,
) -> BoolArray:
    """The renewals the executive wants this step, ``[n, K]``.

    What: at the sunset step of a law not yet renewed, the executive proposes the least
    hostile renewal on its strategy's menu (the highest gesture); a menu without one leaves
    the renewal to the legislature. The proposal is then voted and approved like any of its
    steps. A renewal already committed (in force or pending) stays wanted: a renewed law is
    not the executive's to withdraw, nor a pending renewal to cancel, whatever its ladder asks.

    Why: an expiring law forces a decision the executive's ladder does not describe: the
    article's advice is to accept the renewal in exchange for Congress's support rather than
    to fight it (THE MIDDLE PATH: agree to ILSA's renewal in exchange); a strategy that lists
    that trade on its menu takes it, one that lists only the plain renewal renews as is.
    """
    return native.renewal_rows(t, np.asarray(sunset_step, dtype=np.int64), mask(renewed_by),
                               mask(renewal_steps(renewed_by)), mask(committed), mask(menu),
                               _f64(gesture, 2))


def cost_retreat(
    withdrawable: BoolArray,
    cost: Any,
    since: IntArray,
    over: BoolArray,
    u: FloatArray,
    rate: Any,
    dt: float,
) -> BoolArray:
    """The step a retreating executive withdraws this step, ``[n, K]`` (at most one per world).

    What: while the domestic cost ``C`` exceeds the tolerance (``over``), with probability
    ``1 − exp(−rate·dt)`` per step the executive withdraws one of its reversible conciliatory
    steps in force (``withdrawable``): the one with the highest domestic cost, the most
    recent among equals. Withdrawn steps stay blocked while ``C`` is over the tolerance (no
    new conciliatory step is proposed then, docs/model.md 1).

    Why: the article warns of "looking naive" if Iran does not respond and calls the
    political costs "manageable" but needing "careful handling" (THE MIDDLE PATH): an
    administration over its tolerance manages the cost by taking back what draws most fire,
    one step at a time, rather than abandoning everything at once. ``rate`` = 0 is the former
    model (it only stops new steps). How fast an administration moves under such pressure:
    the 1995 executive orders followed "pressure from the Republican-dominated Congress"
    (LIBERATION THEOLOGIST), the first of them within days of the Conoco contract's
    announcement.
    """
    return native.retreat_rows(mask(withdrawable), _f64(cost, 2), np.asarray(since, np.int64),
                               mask(np.atleast_1d(over)), np.asarray(u, dtype=np.float64),
                               _f64(retreat_chance(rate, dt), 1))


def trade_discount(in_force: BoolArray, discount: Any, conciliatory: Any) -> FloatArray:
    """Cost multipliers of the steps started this step, ``[n, K]``.

    What: every step in force with a ``cost_discount`` ``d_j`` (a trade for legislative
    support) multiplies the domestic cost of the owner's conciliatory steps that follow by
    ``1 − d_j``: ``m_k = Π_j (1 − d_j)^[j in force]`` for conciliatory ``k``, 1 otherwise.

    Why: the article's trade, ILSA's renewal "in exchange for congressional support for other
    Iran-related measures" (THE MIDDLE PATH): support bought once lowers the political price
    of the steps that need it. The trade is not free: the renewal itself reads as a hostile
    step to Iran and forgoes the lapse, and ``d`` = 0 (Congress does not deliver) leaves only
    that cost, so the mechanism can work against engagement.
    """
    factor = trade_factor(in_force, discount)
    return np.asarray(np.where(_per_world(conciliatory), factor[:, None], 1.0))


def trade_factor(
    in_force: BoolArray, discount: Any, started: BoolArray | None = None,
    *, keep: FloatArray | None = None,
) -> FloatArray:
    """``Π_j (1 − d_j)^[j in force]`` of every world, ``[n]``: :func:`trade_discount`'s
    multiplier of the conciliatory steps (the others' is 1). ``started``: steps left out of
    ``in_force`` (those started this step), so the caller need not form ``in_force & ~started``.
    ``discount``'s rows (shared, per world or per state) are kept: ``log1p`` runs on them only.
    ``keep``: :func:`trade_keep` of ``discount``, if already computed (a run's steps share it).
    """
    if keep is None:
        keep = trade_keep(discount)
    return np.asarray(np.exp(native.discount_log_sums(mask(in_force), keep, mask(started))))


def trade_keep(discount: Any) -> FloatArray:
    """``log(1 − d)`` of ``discount``'s rows, ``[m, K]`` C-order: what :func:`trade_factor`
    sums over the steps in force."""
    return np.ascontiguousarray(np.log1p(-_f64(discount, 2)))


__all__ = [
    "SUPERMAJORITY",
    "against_executive",
    "cost_retreat",
    "initiative_candidates",
    "legislative_initiative",
    "renewal_stance",
    "renewal_steps",
    "renewed_laws",
    "retreat_chance",
    "spent_renewals",
    "statute_lock",
    "sunset_expiry",
    "trade_discount",
    "trade_factor",
    "trade_keep",
    "veto_override",
]
