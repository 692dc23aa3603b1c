"""Iran's response per issue and per camp (``docs/model.md``, section 2, "Internal side").

Each step the internal side's actors vote and veto on its instruments with *effective* ideal
points: the scenario's positions (observed in July 2001, under that moment's sanctions and
mistrust) shifted by what has changed since the start. The shift differs by camp and by issue:

- the **reformist camp** answers U.S. gestures as goodwill (LIBERATION THEOLOGIST: Albright's
  overture "received favorably by many"), and its belief that Washington reciprocates;
- the **other camp** (the Leader, the Guardians, the judiciary, the Guards, the clergy, the
  hard-liners, the bazaaris) answers the fulfilment of Iran's stated conditions - lifting all
  sanctions, settling the legal claims, dropping opposition to the Caspian transit route
  (DETAILS, DETAILS: "dignity and honor") - rather than the size of a gesture; it pockets a
  gesture made under pressure or read as dictation (DETAILS, DETAILS: "arrogantly trying to
  dictate terms"; the food and carpet easing of March 2000 went unanswered); a rising regional
  threat moves it with a sign nobody knows (it may seek a bargain or close ranks);
- **support for armed groups** moves with an Arab-Israeli settlement, barely with U.S.
  gestures (UNLIKELY ALLIES: "until a comprehensive settlement"), and the **WMD effort** with
  the regional threat (UNLIKELY ALLIES: "a safer neighborhood", fear of Iraq);
- dialogue reads as capitulation while sanctions bite harder than at the start (the dictation
  term, unchanged).

Everything is measured from the start, so at the first step every effective position is the
scenario's own. A scenario without demands, without a terror-support or WMD issue, or without
the threat and settlement states leaves the corresponding term inert.

The formulas are compiled (:mod:`detente.sim.native.positions`, one ``cdef`` function each):
the functions below prepare their arguments and call it, as the engine's
:func:`~detente.sim.engine.internal_positions` does. Only :func:`saturation` is NumPy's
(its ``expm1`` is not libm's on every machine, so C would not give the same numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.sim.native import leaf, leaf_rows
from detente.sim.native import positions as native
from detente.sim.system import System

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
Float32Array = NDArray[np.float32]


@dataclass(frozen=True)
class IranDrivers:
    """What the internal side's actors respond to this step: one value per world, ``[n]``.

    Attributes
    ----------
    gesture : ndarray
        Perceived U.S. gesture ``G = (q̄ − n)/(1 − n)``: Iran's smoothed perception of the U.S.
        played level above the neutral level (negative for a hostile U.S.).
    belief : ndarray
        Iran's belief that the U.S. reciprocates, minus its starting value.
    sanctions : ndarray
        The sanctions level as it bites (share of its range) minus its starting value.
    fulfilment : ndarray
        Share of Iran's stated conditions met, ``κ`` (:func:`condition_fulfilment`).
    pressure : ndarray
        Pressure under which U.S. concessions come, ``P`` in [0, 1] (:func:`dictation_pressure`).
    threat : ndarray
        Regional threat to Iran minus its starting value, in [-1, 1].
    settlement : ndarray
        Arab-Israeli comprehensive settlement, in [0, 1].
    """

    gesture: FloatArray
    belief: FloatArray
    sanctions: FloatArray
    fulfilment: FloatArray
    pressure: FloatArray
    threat: FloatArray
    settlement: FloatArray


def condition_fulfilment(level: FloatArray, start: FloatArray, demand: FloatArray) -> FloatArray:
    """Share of the internal side's stated conditions met, ``κ`` per world ``[n]``.

    ``κ = mean_j clip((L0_j − L_j)/(L0_j − D_j), 0, 1)`` over the issues ``j`` with a demand
    ``D_j``: how far each issue has moved from its starting level ``L0_j`` toward the demanded
    level, counting a move away as 0 and an overshoot as 1. An issue that starts at its
    demand is already part of the observed starting conditions and is left out of the mean.
    0 at the start; 0 for a scenario without demands.

    Parameters
    ----------
    level : ndarray [n, I]
        Issue levels now.
    start : ndarray [I] or [n, I]
        Issue levels at the start (the status quo).
    demand : ndarray [I] or [n, I]
        Demanded levels, NaN where none (length 0: no demand anywhere).
    """
    return native.fulfilment(_matrix(level), _matrix(start), _matrix(demand))


def _matrix(x: FloatArray) -> FloatArray:
    """``[I]`` as one row ``[1, I]`` (shared by all worlds); ``[n, I]`` as it is."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    return x[None] if x.ndim == 1 else x


def saturation(k: FloatArray, form: Any, curvature: Any) -> FloatArray:
    """The response to a share ``k`` of the conditions met: a family of three forms.

    ``sat(k) = (1 − |c|)·k + |c|·g(k)`` with ``c = form`` in [-1, 1] and curvature ``a``:
    ``g(k) = (1 − e^(−a·k))/(1 − e^(−a))`` for ``c > 0`` (saturating: the first real steps
    toward the conditions count most, their value being the respect they show) and
    ``g(k) = (e^(a·k) − 1)/(e^a − 1)`` for ``c < 0`` (accelerating: only near-full fulfilment
    counts, "first lifting all sanctions"); ``c = 0`` is linear. Every form maps 0 to 0 and
    1 to 1 and rises monotonically, so the forms differ only in how much partial fulfilment
    is worth. ``form`` and ``curvature`` are scalars or one value per world.
    """
    return Saturation.of(form, curvature)(k)


@dataclass(frozen=True)
class Saturation:
    """:func:`saturation` for one ``form`` and ``curvature``, with what does not depend on
    ``k`` computed once (:meth:`of`): a run applies it every step."""

    a: Any  # the curvature, clipped to [1e-6, 50]
    c: Any  # the form, clipped to [-1, 1]
    abs_c: Any
    linear: Any  # 1 - |c|
    shared: bool  # one form and curvature for every world: only its branch is evaluated
    scale: Any  # -a (saturating) or a (accelerating), the factor of k (one or one per world)
    denominator: Any  # expm1(scale)

    @classmethod
    def of(cls, form: Any, curvature: Any) -> Saturation:
        """The constants of ``form`` and ``curvature`` (scalars or one value per world).

        Per world, each world's branch and its denominator are chosen once here, so that a
        step evaluates one ``expm1`` per world, as with shared ones (the same operations on
        each world's numbers as :func:`saturation`'s ``np.where`` of both branches)."""
        a = np.clip(curvature, 1e-6, 50.0)
        c = np.clip(form, -1.0, 1.0)
        shared = bool(np.ndim(c) == 0 and np.ndim(a) == 0)
        if not shared:
            scale = np.where(c >= 0, np.negative(a), a)
            return cls(a, c, np.abs(c), 1.0 - np.abs(c), False, scale, np.expm1(scale))
        scale = -a if c >= 0 else a
        return cls(a, c, np.abs(c), 1.0 - np.abs(c), True, scale, np.expm1(scale))

    def __call__(self, k: FloatArray) -> FloatArray:
        """``sat(k)``, the same numbers as :func:`saturation`."""
        a, c = self.a, self.c
        if isinstance(k, np.ndarray) and k.dtype == np.float64 and k.ndim and (
                self.shared or (np.shape(self.scale) == k.shape
                                and np.shape(self.linear) in ((), k.shape))):
            # the same operations, into two arrays instead of five
            scaled = np.multiply(self.scale, k)
            bent = np.expm1(scaled)
            np.divide(bent, self.denominator, out=bent)
            linear = np.multiply(self.linear, k, out=scaled)
            np.multiply(self.abs_c, bent, out=bent)
            return np.asarray(np.add(linear, bent, out=linear))
        if self.shared:
            bent = np.expm1(self.scale * k) / self.denominator
        else:
            bent = np.where(
                c >= 0, np.expm1(-a * k) / np.expm1(-a), np.expm1(a * k) / np.expm1(a)
            )
        return np.asarray(self.linear * k + self.abs_c * bent)


def dictation_pressure(
    hostile: FloatArray, tightening: FloatArray, backing: FloatArray
) -> FloatArray:
    """The pressure ``P`` in [0, 1] under which U.S. concessions come.

    ``P = clip(H + T + V, 0, 1)``: the U.S. hostile share in force ``H``, sanctions tightened
    beyond their starting level ``T`` (share of the range) and visible U.S. backing of Iran's
    reformers ``V``. Hard-liners read a concession made under pressure as dictation.
    """
    return native.pressure(leaf(hostile), leaf(tightening), leaf(backing))


def conservative_willingness(d: IranDrivers, p: Any) -> FloatArray:
    """The other camp's shift on the response issues, share of the range, before ``ρ``.

    ``g_C·sat(κ) + g_b·(b − b0) + g_T·ΔThreat − g_P·max(G, 0)·P``: conditions met, belief,
    threat (either sign) and concessions pocketed under pressure.
    """
    met = saturation(d.fulfilment, p.condition_saturation, p.condition_curvature)
    return native.willingness(
        leaf(met), leaf(d.belief), leaf(d.threat), leaf(d.gesture), leaf(d.pressure),
        leaf(p.conditions_gain), leaf(p.belief_gain), leaf(p.threat_gain),
        leaf(p.pocketing_gain),
    )


def reformist_goodwill(d: IranDrivers, p: Any) -> FloatArray:
    """The reformist camp's shift on the response issues, share of the range, before ``ρ``:
    ``g_R·G + g_b·(b − b0)``."""
    return native.goodwill(leaf(d.gesture), leaf(d.belief), leaf(p.goodwill_gain),
                           leaf(p.belief_gain))


def response_spans(
    direction: FloatArray, span: FloatArray, roles: dict[str, int]
) -> tuple[Float32Array, Float32Array]:
    """Per issue ``[I]``: where the camp shifts and the dictation term act, in issue units.

    Returns
    -------
    camp_span : ndarray [I] of float32
        ``dir_i·range_i`` on the *response issues*: those the internal side's conciliatory
        instruments move (``dir_i ≠ 0``), other than the terror-support and WMD issues, which
        have their own terms; 0 elsewhere.
    dict_span : ndarray [I] of float32
        ``dir_i·range_i`` on the dialogue issue, 0 elsewhere.
    """
    camp = direction * span
    dictation = np.zeros(span.size)
    for role in ("terror", "wmd"):
        if roles[role] >= 0:
            camp[roles[role]] = 0.0
    if roles["dialogue"] >= 0:
        dictation[roles["dialogue"]] = camp[roles["dialogue"]]
    return camp.astype(np.float32), dictation.astype(np.float32)


def position_parameters(p: Any) -> FloatArray:
    """The parameters :func:`iran_positions` hands the kernel (a run computes them once):
    ``ρ_R, ρ_O, g_R, g_b, g_C, g_T, g_P, g_S, g_Rt, g_Rw, g_W, δ`` as the columns of one
    ``[m, 12]`` array, one row shared by all worlds (scalars) or one per world (any of them
    one value per world: :func:`~detente.sim.native.leaf_rows`)."""
    return leaf_rows((
        p.responsiveness_reformist, p.responsiveness_other, p.goodwill_gain, p.belief_gain,
        p.conditions_gain, p.threat_gain, p.pocketing_gain, p.settlement_gain,
        p.terror_goodwill_gain, p.wmd_goodwill_gain, p.wmd_threat_gain, p.dictation_effect,
    ))


def iran_positions(
    base: Float32Array,
    alt: Float32Array,
    control: BoolArray,
    reform: BoolArray,
    drivers: IranDrivers,
    camp_span: Float32Array,
    dict_span: Float32Array,
    p: Any,
    sy: System,
    used: IntArray,
    fill_unused: bool = True,
    *,
    parameters: FloatArray | None = None,
    saturate: Saturation | None = None,
    out: Float32Array | None = None,
    run: native.PositionsRun | None = None,
) -> Float32Array:
    """Effective ideal points of the internal side's actors this step, issue-major ``[I, n, A]``.

    Why: Iran's response differs by camp and by issue (module docstring; docs/model.md
    section 2, "Internal side"). With ``ρ_a`` the responsiveness of actor ``a``'s current
    camp, on a response issue ``i`` (:func:`response_spans`)
    ``x̃_ai = clip(x_ai + dir_i·range_i·ρ_a·m_a − [i = dialogue]·dir_i·range_i·δ·ΔS)``,
    ``m_a`` = :func:`reformist_goodwill` for reformist-camp actors and
    :func:`conservative_willingness` for the others, ``δ = dictation_effect`` and ``ΔS`` the
    sanctions as they bite minus their starting value; on the terror-support issue
    ``x̃_ai = clip(x_ai − range_i·(g_S·settlement + g_Rt·G))`` and on the WMD issue
    ``x̃_ai = clip(x_ai − range_i·(g_Rw·G − g_W·ΔThreat))`` for every actor (a national
    interest, not a camp's: both scales grow with the effort, so curbing is down).

    An elected institution whose holder's camp lost the election takes the other camp's
    positions (``alt``) and responds as its new camp (``reform`` is each actor's camp now).
    Only the issues in ``used`` (those the side's instruments move: the only ones votes and
    vetoes read) are computed; the others are NaN, or left unwritten without
    ``fill_unused`` (the engine, which never reads them, saves the fill).

    Parameters
    ----------
    base : ndarray [A, I] or [m, A, I] of float32
        Scenario positions (NaN read as the issue's low end); ``m`` rows: one per world, or
        one per state of a stacked run (``m`` states of ``n / m`` consecutive worlds each).
    alt : ndarray [E, I] or [m, E, I] of float32
        Each elected institution's positions when the other camp holds it (rows as ``base``).
    control : ndarray [n, E] of bool
        Whether each elected institution is held by the reform camp.
    reform : ndarray [n, A] of bool
        Each actor's camp now.
    drivers : IranDrivers
    camp_span, dict_span : ndarray [I] of float32
        From :func:`response_spans`.
    p : SimParameters
        Scalars, or one value per world (stacked states).
    sy : System
    used : ndarray of int
    fill_unused : bool
        Fill the issues not in ``used`` with NaN (else their values are undefined).
    parameters : ndarray [m, 12], optional
        :func:`position_parameters` of ``p``, if already computed.
    saturate : Saturation, optional
        ``Saturation.of(p.condition_saturation, p.condition_curvature)``, if already computed.
    out : ndarray [I, n, A] of float32, optional
        Where to write the positions (returned), else a new array.
    run : PositionsRun, optional
        :func:`positions_run` of the same ``base``, ``alt``, ``camp_span``, ``dict_span``,
        ``p``, ``sy``, ``used`` and ``fill_unused``, if already laid out (a run's steps share
        it): the kernel then reads those from it.
    """
    d = drivers
    if saturate is None:
        saturate = Saturation.of(p.condition_saturation, p.condition_curvature)
    met = saturate(d.fulfilment)
    if run is None:
        run = positions_run(base, alt, camp_span, dict_span, p, sy, used, fill_unused,
                            parameters)
    return native.positions_of(
        run, control.view(np.uint8),
        np.ascontiguousarray(reform).view(np.uint8),  # (one world's camps at one address)
        _leaf(d.gesture), _leaf(d.belief), _leaf(d.sanctions), _leaf(met),
        _leaf(d.pressure), _leaf(d.threat), _leaf(d.settlement), out)


def _leaf(x: Any) -> FloatArray:
    """:func:`~detente.sim.native.leaf` of ``x``: ``x`` itself when it is one already (a
    float64 vector: the engine's drivers, one value per world)."""
    if type(x) is np.ndarray and x.ndim == 1 and x.dtype == np.float64:
        return x
    return leaf(x)


def positions_run(
    base: Float32Array,
    alt: Float32Array,
    camp_span: Float32Array,
    dict_span: Float32Array,
    p: Any,
    sy: System,
    used: IntArray,
    fill_unused: bool = True,
    parameters: FloatArray | None = None,
) -> native.PositionsRun:
    """What :func:`iran_positions` hands its kernel besides the step's drivers and camps,
    laid out once (its ``run``): the arguments of the same names, as it takes them."""
    return native.PositionsRun(
        base if base.ndim == 3 else base[None], alt if alt.ndim == 3 else alt[None],
        sy.elected, sy.internal.reform[sy.elected].view(np.uint8), camp_span, dict_span,
        sy.span, sy.low, sy.high, sy.roles["terror"], sy.roles["wmd"], used,
        position_parameters(p) if parameters is None else parameters, fill_unused)


__all__ = [
    "IranDrivers",
    "Saturation",
    "condition_fulfilment",
    "conservative_willingness",
    "dictation_pressure",
    "iran_positions",
    "position_parameters",
    "positions_run",
    "reformist_goodwill",
    "response_spans",
    "saturation",
]
