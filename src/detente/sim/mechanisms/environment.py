"""The international environment of the two principals (docs/model.md, section 5).

Three quantities per world, each moved by one pure function the engine calls in section 5 of
its step (:func:`detente.sim.engine.run_layout`):

* the **regional threat** to the internal side ``θ`` in [0, 1] (:func:`threat_update`): the
  neighbourhood Iran had "good reason to fear" (UNLIKELY ALLIES: Iraq, which used chemical
  weapons against it) plus U.S. forces and pressure; it rises with the focal side's hostile
  steps and with shocks, and relaxes toward its starting level, scaled by the strength of the
  hostile neighbours (third parties with ``threat_to``);
* the **regional settlement** ``S`` in [0, 1] (:func:`settlement_update`): the comprehensive
  Arab-Israeli settlement that would "cause Syria to ask Iran to withdraw" (UNLIKELY ALLIES);
  0 in July 2001 (Camp David failed in July 2000, the intifada since September 2000), it
  advances by sampled breakthroughs and is pushed back by shocks;
* **allied support** ``A`` in [0, 1] (:func:`alignment_update`), now the allies' alignment
  with the focal side's line: it erodes with the *friction* between that line and the allies'
  own positions (:func:`allied_friction`; THE MIDDLE PATH: containment "will generate
  significant friction" with Japan and Europe, ILSA "does more damage to U.S. relations with
  Europe"), more so while the internal side moderates, and recovers with its menacing
  behaviour.

The threat and the settlement are for the internal side's response to read (its WMD effort
with the threat, its support for armed groups with the settlement; until that piece of issue
12 is connected they are only reported); allied support sets the
sanctions' allied bite (:func:`detente.sim.engine.sanctions_bite`, section 5b). A scenario
without allies (``ally_of``) has no friction; one without threats (``threat_to``) has a
threat that relaxes to its starting level; one with ``settlement_hazard = 0`` and no shock
moving the settlement keeps it at 0.

Each formula is computed by the compiled kernels of :mod:`detente.sim.native.environment`
(the engine calls them for all of section 5 at once, :func:`detente.sim.engine.environment_step`);
the functions here prepare their arguments: NumPy's ``exp`` (:func:`threat_pace`,
:func:`settlement_chance`) and the broadcasting of shared parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.sim.native import environment as native
from detente.sim.native import leaf

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def threat_pace(
    hostility: FloatArray, hostility_gain: Any, decay: Any, dt: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The step's push, rate and fading of the threat (:func:`threat_update`), ``[n]`` each.

    ``push = k·h``, ``rate = k·h + d`` and ``exp(−rate·dt)``: NumPy's ``exp``, whose last
    bit the C library's does not always give, so the kernels receive it computed.
    """
    push = np.asarray(hostility_gain * hostility, dtype=np.float64)
    rate = np.asarray(push + decay, dtype=np.float64)
    fade = np.negative(rate, out=np.empty(rate.shape))  # exp(-rate dt) in one new array
    np.multiply(fade, dt, out=fade)
    return push, rate, np.asarray(np.exp(fade, out=fade), dtype=np.float64)


def settlement_chance(hazard: Any, dt: float) -> FloatArray:
    """Chance of a breakthrough in one step, ``1 − exp(−λ·dt)``, as parameter rows."""
    return leaf(1.0 - np.exp(-hazard * dt))


def _worlds(*arrays: Any) -> list[FloatArray]:
    """Per-world arrays broadcast to one length, as float64."""
    return [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*arrays)]


def regional_strength(clout: FloatArray, clout0: FloatArray, threat: BoolArray) -> FloatArray:
    """Strength of the hostile neighbours relative to the start, ``r = R / R0``.

    ``R = Σ_a c_a`` over the third parties menacing the internal side (``threat`` mask), with
    their clout now (``clout``, ``[n, X]``: shocks and events scale it) and at the start
    (``clout0``, ``[X]`` or ``[n, X]``). Their clouts weight each other, so a war that
    weakens Iraq lowers the regional part of the threat in proportion to Iraq's weight among
    the neighbours. 1 when the scenario names none.
    """
    c = np.ascontiguousarray(clout, dtype=np.float64)
    c0 = np.ascontiguousarray(clout0, dtype=np.float64)
    mask = np.ascontiguousarray(threat, dtype=np.bool_).view(np.uint8)
    return np.asarray(native.regional_rows(c, c0[None] if c0.ndim == 1 else c0, mask))


def threat_update(
    threat: FloatArray,
    hostility: FloatArray,
    regional: FloatArray,
    jump: FloatArray,
    *,
    start: Any,
    regional_share: Any,
    hostility_gain: Any,
    decay: Any,
    dt: float,
) -> FloatArray:
    """The regional threat to the internal side after one step, in [0, 1].

    Between shocks ``dθ/dt = k·h·(1 − θ) − d·(θ − θ*)``, solved exactly over the step for
    the step's hostile share ``h``::

        θ* = clip(θ0·((1 − ρ) + ρ·r), 0, 1)
        θ_eq = (k·h + d·θ*) / (k·h + d),   θ ← θ_eq + (θ − θ_eq)·exp(−(k·h + d)·dt)

    then the step's shocks and events add ``jump`` (clipped to [0, 1]).

    Parameters
    ----------
    threat : ndarray [n]
        The threat before the step.
    hostility : ndarray [n]
        ``h``: the focal side's hostile share in force (gesture-weighted, section 3).
    regional : ndarray [n]
        ``r``: the hostile neighbours' strength relative to the start
        (:func:`regional_strength`).
    jump : ndarray [n]
        Sum of the ``threat`` changes of the shocks and events that hit this step.
    start : float or ndarray [n]
        ``θ0 = threat_initial``: the threat in the scenario's starting conditions.
    regional_share : float or ndarray [n]
        ``ρ = threat_regional_share``: the part of ``θ0`` due to the hostile neighbours (the
        rest, U.S. forces and pressure, does not scale with their clout).
    hostility_gain : float or ndarray [n]
        ``k = threat_hostility``: yearly rise per unit of hostile share.
    decay : float or ndarray [n]
        ``d = threat_decay``: yearly rate of relaxation toward ``θ*``.
    dt : float
        Step length in years.

    Notes
    -----
    Why: the internal side's WMD effort follows "the promise of a safer neighborhood"
    (UNLIKELY ALLIES); in July 2001 Iraq was under sanctions and no-fly zones, U.S. forces were
    in the Gulf, and the Taliban had killed Iranian diplomats at Mazar-i-Sharif (1998). A
    campaign of U.S. pressure (containment "sought to isolate Iran", LIBERATION THEOLOGIST)
    adds to it. Without hostility or shocks the threat stays at ``θ*``; with ``r = 1`` that
    is its starting level.
    """
    push, rate, fade = threat_pace(hostility, hostility_gain, decay, dt)
    th, pu, ra, fa, r, j = _worlds(threat, push, rate, fade, regional, jump)
    return np.asarray(native.threat_rows(th, pu, ra, fa, r, j, leaf(start),
                                         leaf(regional_share), leaf(decay)))


def settlement_update(
    settlement: FloatArray,
    uniform: FloatArray,
    jump: FloatArray,
    *,
    hazard: Any,
    progress: Any,
    dt: float,
) -> FloatArray:
    """The regional (Arab-Israeli) settlement after one step, in [0, 1].

    A breakthrough arrives with probability ``1 − exp(−λ·dt)`` (``λ = settlement_hazard``
    per year; ``uniform`` is the step's pre-drawn uniform per world) and covers the share
    ``g = settlement_progress`` of the remaining way, ``S ← S + g·(1 − S)``; the shocks and
    events of the step then add ``jump`` (an escalation pushes it back), clipped to [0, 1].

    Why: the internal side's support for armed groups is unlikely to end "until a
    comprehensive settlement is struck" (UNLIKELY ALLIES). In July 2001 there was none
    (Camp David failed in July 2000, Taba in January 2001, the intifada since September
    2000: ``S = 0``); the 1990s saw partial breakthroughs (Oslo 1993, Israel-Jordan 1994,
    Wye 1998), hence progress by steps rather than all at once.
    """
    s, u, j = _worlds(settlement, uniform, jump)
    return np.asarray(native.settlement_rows(s, u, j, settlement_chance(hazard, dt),
                                             leaf(progress)))


def allied_friction(
    level: FloatArray,
    position: FloatArray,
    weight: FloatArray,
    span: FloatArray,
    direction: FloatArray,
    symmetry: Any,
    hostility: FloatArray,
) -> FloatArray:
    """Friction between the focal side's line and its allies, ``F ≥ 0`` per world.

    ``F = G·(1 + h)`` with the allies' weighted gap to the focal side's policy::

        G = Σ_a Σ_i w_ai·d_ai / Σ_a Σ_i w_ai,   w_ai = c_a·s_ai   (0 where Σ w = 0)
        d_ai = [max(0, −δ_i·g_ai) + σ·max(0, δ_i·g_ai)],   g_ai = (L_i − x_ai)/range_i

    ``c_a`` the ally's clout now, ``s_ai`` its salience on the focal side's policy issue
    ``i`` (0 elsewhere), ``x_ai`` its ideal point, ``L_i`` the issue level, ``δ_i`` the
    direction in which the focal side's conciliatory steps move the issue (a gap against it
    is the focal side being *harder* than the ally; ``|g|`` where ``δ_i = 0``), ``σ`` the
    weight of gaps where the focal side is *softer* than the ally, ``h`` the focal side's
    hostile share in force: a campaign of hostile steps presses the allies to follow and
    amplifies the disagreement there is (none when the allies share the line).

    Parameters
    ----------
    level : ndarray [n, I]
    position : ndarray [X, I] or [n, X, I]
        Allies' ideal points (anything finite where the weight is 0).
    weight : ndarray [n, X, I]
        ``c_a·s_ai`` (zero off the focal side's policy issues and for non-allies).
    span : ndarray [I]
    direction : ndarray [I]
        ``δ``: +1/−1 where the focal side's conciliatory steps raise/lower the issue, else 0.
    symmetry : float or ndarray [n]
        ``σ = friction_symmetry`` in [0, 1].
    hostility : ndarray [n]
        ``h``: the focal side's hostile share in force.

    Notes
    -----
    Why: persisting with containment "will generate significant friction with American allies
    in Japan and Europe" and ILSA "does more damage to U.S. relations with Europe, which
    objects strongly" (THE MIDDLE PATH); moderate engagement brings "closer alignment" and
    "decreasing friction" (UNLIKELY ALLIES). Whether allies also object when the focal side
    concedes more than they would is not in the article: ``σ`` spans both readings.
    """
    lev = np.ascontiguousarray(level, dtype=np.float64)
    pos = np.ascontiguousarray(position, dtype=np.float64)
    wt = np.ascontiguousarray(weight, dtype=np.float64)
    return np.asarray(native.friction_rows(
        lev, pos[None] if pos.ndim == 2 else pos, np.ones((lev.shape[0], wt.shape[1])), wt,
        np.asarray(span, dtype=np.float64), np.asarray(direction, dtype=np.float64),
        leaf(symmetry),
        np.broadcast_to(np.asarray(hostility, dtype=np.float64), lev.shape[:1]),
    ))


def alignment_update(
    allied: FloatArray,
    friction: FloatArray,
    moderation: FloatArray,
    menace: FloatArray,
    *,
    erosion: Any,
    recovery: Any,
    via_friction: Any,
    dt: float,
) -> FloatArray:
    """Allied support for the focal side's line after one step, in [0, 1].

    ``A ← clip(A + dt·(−e·A·(F + M·((1 − μ) + μ·F)) + r·(1 − A)·B), 0, 1)``: erosion
    (``e = allied_erosion``) with the friction ``F`` (:func:`allied_friction`) and the internal
    side's moderation ``M``, recovery (``r = allied_recovery``) with its menace ``B``.

    Why: Europe and Japan grew "even less willing to cooperate with the United States in
    applying pressure" once Khatami reached out, and Iran's "extreme behavior helped justify
    U.S. policy" (LIBERATION THEOLOGIST). The passage is about cooperation *in applying
    pressure*: read so, moderation erodes support only through the pressure the allies
    reject, ``μ = 1`` (moderation scales the friction; none where the allies share the line).
    The former model let moderation erode support for any line, ``μ = 0``.
    ``μ = moderation_via_friction`` is sampled between the two forms.
    """
    a, f, m, b = _worlds(allied, friction, moderation, menace)
    return np.asarray(native.alignment_rows(a, f, m, b, leaf(erosion),
                                            leaf(recovery),
                                            leaf(via_friction), float(dt)))


__all__ = [
    "alignment_update",
    "allied_friction",
    "regional_strength",
    "settlement_chance",
    "settlement_update",
    "threat_pace",
    "threat_update",
]
