"""Backlash and the closing of the Iranian system (``docs/model.md``, section 4).

Four mechanisms of the internal side's domestic politics, each a pure function over arrays
with one value per world (``[n]``; a parameter is a scalar or one value per world):

- **visible U.S. backing of reformers** ``V`` (:func:`visible_backing`): how openly the focal
  side's steps in force back the other country's reformers (a democracy-promotion programme
  fully, a licence for civic NGOs a little). The article warns against it twice (BACKLASH:
  avoid embracing any particular domestic faction; THE MIDDLE PATH: avoid appearing to take
  sides), and the record before July 2001 shows why: the U.S. covert-action money for Iran
  voted in 1995-96 was answered by a counter-fund of the Majlis against U.S. "plots";
- the **backlash hazard** (:func:`backlash_hazard`) rises with the reformist threat and with
  ``V`` (BACKLASH: the hard-liners' fear of being eclipsed; the conservative offensive after
  the 2000 landslide);
- **candidate vetting** is a state (:func:`vetting_update`): it rises with the reformist
  threat and after each backlash event, and relaxes slowly toward its base otherwise. The
  Guardian Council's supervision of elections (THE HARD-LINERS STRIKE BACK: the Council of
  Guardians can veto) was heavier in 1996 than in 2000; the offensive after the 2000
  landslide reached the electoral machinery (BACKLASH: the deputy interior minister sentenced
  to keep him from overseeing the 2001 election);
- **disillusion** (:func:`disillusion_update`) grows while reform is rolled back below its
  mid-2001 level and after backlash events, and fades otherwise (THE HARD-LINERS STRIKE BACK:
  many "sorely disappointed", frustration directed at Khatami; turnout fell between the 1997
  and June 2001 presidential elections); it lowers reformist turnout, so an election can be
  lost at unchanged public support (:func:`election_vote_share`).

With every parameter of this module at its default (0) the mechanisms are inert and the
model is the former one: a fixed backlash rate in the reform share, each election's own
vetting number, full turnout.

The formulas are compiled (:mod:`detente.sim.native.domestic`, one ``cdef inline`` function
of one world per mechanism), and the engine's section 4 runs them in one pass over the
worlds (:func:`detente.sim.native.domestic.domestic_step`); the functions here call the same
compiled code, one mechanism over arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.sim.native import domestic as native
from detente.sim.native import leaf

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Reform share of clout at which the backlash hazard equals its base rate.
HAZARD_PIVOT: float = native.HAZARD_PIVOT


def _flat_hit(hit: Any) -> NDArray[np.uint8]:
    """Backlash events per world (or shared) as the kernels read them."""
    return np.asarray(hit, dtype=np.bool_).reshape(-1).view(np.uint8)


def visible_backing(active: BoolArray, reform_backing: Any) -> FloatArray:
    """Visible backing of the other country's reformers by the steps in force, ``V`` in [0, 1].

    ``V = 1 − Π_k (1 − b_k·a_k)``: the chance that at least one step in force is read as
    backing the reformers, each step ``k`` with its own visibility ``b_k``
    (``Instrument.reform_backing``). One fully visible programme makes ``V = 1`` whatever
    else the scenario lists (a share of the listed backing would let an unrelated listing
    dilute it); two half-visible steps make ``V = 0.75``.

    Parameters
    ----------
    active : ndarray [n, K] of bool
        The side's instruments in force.
    reform_backing : ndarray [K], or [n, K] per world
        ``b_k`` in [0, 1].
    """
    b = np.ascontiguousarray(reform_backing, dtype=np.float64)
    rows = b[None] if b.ndim == 1 else b
    return np.asarray(native.visible_backing(
        np.ascontiguousarray(active, dtype=np.bool_).view(np.uint8), rows))


def backlash_hazard(
    share: FloatArray, backing: FloatArray, hazard: Any, threat_elasticity: Any,
    backing_elasticity: Any,
) -> FloatArray:
    """Yearly rate of conservative backlash events, ``λ``.

    ``λ = h·exp(e·(r − ½) + e_V·V)``: base rate ``h`` (``backlash_hazard``) at a reform share
    ``r`` of one half, steeper with the reformist threat (``e``,
    ``backlash_threat_elasticity``; BACKLASH: fear of being eclipsed) and with visible U.S.
    backing of the reformers (``e_V``, ``backlash_backing_elasticity``; BACKLASH and THE
    MIDDLE PATH: do not embrace a faction; the Majlis's counter-fund of 1996). ``e_V < 0``
    is the protective reading (outside attention raises the price of repression).
    """
    return np.asarray(native.backlash_hazard(leaf(share), leaf(backing), leaf(hazard),
                                             leaf(threat_elasticity),
                                             leaf(backing_elasticity)))


def vetting_update(
    vetting: FloatArray, share: FloatArray, share0: FloatArray, hit: BoolArray, *,
    base: Any, threat_rate: Any, backlash_jump: Any, decay: Any, dt: float,
) -> FloatArray:
    """The vetting state after one step: the share of the reform vote barred from the ballot.

    ``dv/dt = κ·max(0, r − r₀)·(1 − v) − δ·(v − v₀)``, then after a backlash event
    ``v ← v + j·(1 − v)``. ``r₀`` is the reform share at the start (the threat the Council of
    Guardians already answered in mid-2001), ``v₀`` the base (``vetting_base``, also the
    starting value), ``κ`` = ``vetting_threat_rate``, ``j`` = ``vetting_backlash_jump``,
    ``δ`` = ``vetting_decay``. Rates per year; ``dt`` in years.
    """
    return np.asarray(native.vetting_update(
        leaf(vetting), leaf(share), leaf(share0), _flat_hit(hit), leaf(base),
        leaf(threat_rate), leaf(backlash_jump), leaf(decay), dt,
    ))


def disillusion_update(
    disillusion: FloatArray, blocked: FloatArray, hit: BoolArray, *,
    rate: Any, backlash_jump: Any, decay: Any, dt: float,
) -> FloatArray:
    """Reformist voters' disillusion after one step, ``d`` in [0, 1] (0 in mid-2001).

    ``dd/dt = g·B·(1 − d) − δ·d``, then after a backlash event ``d ← d + j·(1 − d)`` (``j < 0``:
    repression mobilises, ``d ← d + j·d``). ``B`` is how far reform is rolled back below its
    mid-2001 level (:func:`reform_blocked`), ``g`` = ``disillusion_rate``, ``δ`` =
    ``disillusion_decay``, ``j`` = ``disillusion_backlash_jump``. ``d`` counts the disillusion
    *added* since the start: the turnout of June 2001 is already in the starting support.
    """
    return np.asarray(native.disillusion_update(
        leaf(disillusion), leaf(blocked), _flat_hit(hit), leaf(rate), leaf(backlash_jump),
        leaf(decay), dt,
    ))


def reform_blocked(level: FloatArray, level0: FloatArray, span: float) -> FloatArray:
    """How far the reform issue stands below its starting level, a share of its range in [0, 1]."""
    return np.asarray(native.reform_blocked(leaf(level), leaf(level0), span))


def election_vote_share(
    support: FloatArray, vetting: FloatArray, election_vetting: Any, disillusion: FloatArray,
    turnout_sensitivity: Any,
) -> FloatArray:
    """Reformists' share of the vote cast for admitted candidates.

    ``v = S·t_R·(1 − vet) / (S·t_R·(1 − vet) + (1 − S)·t_C)`` with reformist turnout
    ``t_R = 1 − σ·d`` (``σ`` = ``turnout_sensitivity``) and the conservatives' base turning
    out (``t_C = 1``), so a disillusioned reform majority can lose at unchanged support.
    ``1 − vet = (1 − v_state)·(1 − v_e)``: the reform vote that survives both the system's
    vetting state and the election's own screening (the scenario's ``vetting`` of that
    election, e.g. the stricter screening of presidential candidates). With no vetting state,
    no disillusion this is the former ``S(1 − v_e)/(S(1 − v_e) + 1 − S)``, bit for bit.
    """
    return np.asarray(native.election_vote_share(
        leaf(support), leaf(vetting), leaf(election_vetting), leaf(disillusion),
        leaf(turnout_sensitivity),
    ))


__all__ = [
    "HAZARD_PIVOT",
    "backlash_hazard",
    "disillusion_update",
    "election_vote_share",
    "reform_blocked",
    "vetting_update",
    "visible_backing",
]
