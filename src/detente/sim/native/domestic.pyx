# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Domestic politics of docs/model.md sections 4 and 4b, one world at a time.

Compiled form of :func:`detente.sim.engine.public_support`, :func:`~detente.sim.engine.backlash`,
:func:`~detente.sim.engine.vetting_and_disillusion`, :func:`~detente.sim.engine.clout_drift`
and :func:`~detente.sim.engine.internal_elections` (section 4, with the closing of the system of
:mod:`detente.sim.mechanisms.closing`), and of :func:`~detente.sim.engine.election_verdict` and
:func:`~detente.sim.engine.balance_clout` (section 4b). :func:`domestic_step` runs any
consecutive range of section 4's mechanisms in one call; the other ``def`` functions run one
mechanism over arrays (those of the closing module, the reform share, the 4b pair). Each
mechanism is one ``cdef inline`` function of one world, named after it.

The numbers are those of the NumPy formulation, bit for bit: the same float64 operations in
the same order; sums over actors are NumPy's pairwise sums (``numpy_sum.pairwise_sum``);
products over instruments run instrument by instrument, as NumPy's reduction does. ``exp`` is NumPy's
own (its SIMD ``exp`` differs from the C library's in the last bit of some results), so a
mechanism needing one runs as a loop writing the exponents, ``np.exp`` over them, and a loop
reading the results.

Parameters are 1-D float64 arrays of length 1 (shared by all worlds) or ``n`` (one per world);
2-D leaves have a leading axis of 1 or ``n`` (world ``w`` reads row ``w`` or row 0), and
:func:`domestic_step`'s (base clout, reform backing, vetting; ``clout_rate`` among the
parameters) may also have one row per state of a stacked run (row ``w * m // n`` of ``m``,
:func:`detente.sim.native.rows.row_of`).
"""

from libc.math cimport fabs
from detente.sim.native.byte_double cimport as_double
from detente.sim.native.numpy_sum cimport pairwise_sum
from detente.sim.native.per_world cimport AHEAD, Param, at, param, prefetch
from detente.sim.native.rows cimport row_of

import numpy as np

cdef enum:
    _PUBLIC_SUPPORT = 0
    _BACKLASH = 1
    _VETTING_AND_DISILLUSION = 2
    _CLOUT_DRIFT = 3
    _INTERNAL_ELECTIONS = 4

cdef double _HAZARD_PIVOT = 0.5

#: Section 4's mechanisms in the order of the step loop (``domestic_step``'s ``first``/``last``).
PUBLIC_SUPPORT = _PUBLIC_SUPPORT
BACKLASH = _BACKLASH
VETTING_AND_DISILLUSION = _VETTING_AND_DISILLUSION
CLOUT_DRIFT = _CLOUT_DRIFT
INTERNAL_ELECTIONS = _INTERNAL_ELECTIONS

#: Reform share of clout at which the backlash hazard equals its base rate.
HAZARD_PIVOT = _HAZARD_PIVOT

cdef inline double _max(double a, double b) noexcept nogil:
    """``np.maximum``: NaN if either is NaN."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a >= b else b


cdef inline double _min(double a, double b) noexcept nogil:
    """``np.minimum``: NaN if either is NaN."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a <= b else b


cdef inline double _clip(double x, double low, double high) noexcept nogil:
    """The engine's ``_clip``: ``np.minimum(np.maximum(x, low), high)``."""
    return _min(_max(x, low), high)


cdef inline double _npclip(double x, double low, double high) noexcept nogil:
    """``np.clip`` of a float64: NaN stays NaN, then ``max``, then ``min``."""
    if x != x:
        return x
    x = x if x > low else low
    return x if x < high else high


cdef inline double _pw(const double[:] x, Py_ssize_t w) noexcept nogil:
    """A parameter of world ``w``: shared (length 1) or one per world."""
    return x[w] if x.shape[0] > 1 else x[0]


# ------------------------------------------------------------------ 4. public support
cdef inline double _public_support(
    double support, double bite, double sanctions_share, bint has_sanctions,
    double sanc_n0, double multi, double hostile, double u, double dt, double drift,
    double engagement_gain, double rally_effect, double dictation_effect, double noise,
) noexcept nogil:
    """``S`` after one step: drift, gain from engagement, rally, noise (engine.public_support).

    ``sanctions_share`` is the sanctions level as a share of its range, ``multi`` the share
    of the U.S. multilateral steps in force.
    """
    cdef double sanc_n = bite * sanctions_share
    cdef double relief = _clip(sanc_n0 - sanc_n, 0.0, 1.0) if has_sanctions else 0.0
    cdef double gain = relief + 0.5 * multi
    cdef double rally = hostile + dictation_effect * sanc_n
    return _clip(
        support + dt * (drift + engagement_gain * gain - rally_effect * rally) + noise * u,
        0.01, 0.99,
    )


cdef class MultilateralRun:
    """What :func:`multilateral_share` reads, laid out once per run: the focal steps' weights
    in the multilateral share (``[m, K]``, rows as :func:`detente.sim.native.rows.row_of`
    reads them), their total (a :func:`detente.sim.native.leaf`), the steps whose weight is
    not zero in some row, and the kernel's output buffer for ``n`` worlds."""

    cdef const double[:, ::1] weight
    cdef const double[:] total
    cdef Py_ssize_t[::1] steps
    cdef bint finite
    cdef object out_arr
    cdef double[::1] out

    def __init__(self, Py_ssize_t n, const double[:, ::1] weight, const double[:] total):
        w = np.asarray(weight)
        self.weight, self.total = weight, total
        self.finite = bool(np.isfinite(w).all())
        self.steps = np.flatnonzero((w != 0).any(axis=0)).astype(np.intp)
        self.out_arr = np.empty(n)
        self.out = self.out_arr


def multilateral_share(MultilateralRun run, const unsigned char[:, ::1] active):
    """The share of the focal multilateral steps in force of every world ``[n]``
    (:func:`detente.sim.engine.public_support`: the product of the steps in force with their
    weights over the weights' total; 0 where the total is not positive), or ``None`` where
    NumPy's product must form it: some world has more than two weighted steps in force (the
    order of a sum of more than two terms matters; BLAS has its own), or a weight is not
    finite (BLAS's product of 0 with it is NaN).

    With at most two nonzero terms in a world, every other term ``+0`` (a weight ``>= 0``
    times 0 or 1), every order of the sum gives the same number: the weights in force,
    added in the steps' order. The run's buffer, written anew by each call."""
    cdef Py_ssize_t n = active.shape[0], w, j, k, count
    cdef Py_ssize_t m = run.weight.shape[0], m_total = run.total.shape[0]
    cdef Py_ssize_t n_steps = run.steps.shape[0]
    cdef const Py_ssize_t* steps = &run.steps[0] if n_steps else NULL
    cdef const double* row
    cdef const unsigned char* act
    cdef double num, den
    cdef double[::1] out = run.out
    if not run.finite or active.shape[1] != run.weight.shape[1] or n != out.shape[0]:
        return None
    with nogil:
        for w in range(n):
            act = &active[w, 0]
            row = &run.weight[row_of(w, m, n), 0]
            num = 0.0
            count = 0
            for j in range(n_steps):
                k = steps[j]
                if act[k] and row[k] != 0:
                    num = num + row[k]
                    count = count + 1
            if count > 2:
                break
            den = run.total[w if m_total > 1 else 0]
            out[w] = num / den if den > 0 else 0.0
    if n and count > 2:
        return None
    return run.out_arr


# ------------------------------------------------------------------ 4. backlash
cdef inline double _reform_share(
    const double* clout, const unsigned char* reform, Py_ssize_t n_a, double *tmp
) noexcept nogil:
    """One world's reformist share of clout (0 without clout), NumPy's sums over actors;
    ``clout`` and ``reform`` are its rows. Both sums in one pass where NumPy's order is
    its eight accumulators (8 to 128 actors; ``numpy_sum.pairwise_sum``); ``tmp``: scratch
    of ``n_a`` for more."""
    cdef Py_ssize_t a, j, i
    cdef double tot, ref, c, r
    cdef double lc[8]
    cdef double lr[8]
    if n_a < 8:
        tot = 0.0
        ref = 0.0
        for a in range(n_a):
            c = clout[a]
            tot = tot + c
            ref = ref + c * as_double(reform[a])
    elif n_a <= 128:
        for j in range(8):
            lc[j] = clout[j]
            lr[j] = clout[j] * as_double(reform[j])
        i = 8
        while i < n_a - n_a % 8:
            for j in range(8):
                lc[j] = lc[j] + clout[i + j]
                lr[j] = lr[j] + clout[i + j] * as_double(reform[i + j])
            i = i + 8
        tot = ((lc[0] + lc[1]) + (lc[2] + lc[3])) + ((lc[4] + lc[5]) + (lc[6] + lc[7]))
        ref = ((lr[0] + lr[1]) + (lr[2] + lr[3])) + ((lr[4] + lr[5]) + (lr[6] + lr[7]))
        while i < n_a:
            c = clout[i]
            tot = tot + c
            ref = ref + c * as_double(reform[i])
            i = i + 1
    else:
        tot = pairwise_sum(clout, n_a)
        for a in range(n_a):
            tmp[a] = clout[a] * as_double(reform[a])
        ref = pairwise_sum(tmp, n_a)
    return ref / (tot if tot > 0 else 1.0)


cdef inline double _visible_backing(
    const unsigned char* active, const double* backing, const Py_ssize_t[::1] backed
) noexcept nogil:
    """``V = 1 − Π_k (1 − b_k·a_k)`` of one world, from its rows (closing.visible_backing),
    over the steps ``backed`` (:func:`_backed`: the others' factors are exactly 1)."""
    cdef Py_ssize_t k, m
    cdef double prod = 1.0
    for m in range(backed.shape[0]):
        k = backed[m]
        prod = prod * (1.0 - as_double(active[k]) * backing[k])
    return 1.0 - prod


cdef Py_ssize_t[::1] _backed(const double[:, ::1] backing):
    """The steps whose factor ``1 − b_k·a_k`` of :func:`_visible_backing` may differ from 1.

    Where every ``b`` is finite, a step with ``b = 0`` in every row has the factor
    ``1 − (±0) = 1``, which changes no product: only the others are multiplied. Otherwise
    (an infinite or NaN ``b``: ``0·b`` is NaN) every step is.
    """
    b = np.asarray(backing)
    if np.isfinite(b).all():
        return np.flatnonzero((b != 0).any(axis=0)).astype(np.intp)
    return np.arange(b.shape[1], dtype=np.intp)


def backed_steps(const double[:, ::1] backing):
    """The steps :func:`domestic_step` multiplies into the visible backing (``_backed``)."""
    return np.asarray(_backed(backing))


cdef inline double _backlash_hazard_exponent(
    double share, double backing, double threat_elasticity, double backing_elasticity
) noexcept nogil:
    """The exponent of ``λ = h·exp(e·(r − ½) + e_V·V)`` (closing.backlash_hazard)."""
    return threat_elasticity * (share - _HAZARD_PIVOT) + backing_elasticity * backing


cdef inline double _backlash_hazard(double hazard, double exp_exponent) noexcept nogil:
    """``λ`` from ``exp`` of :func:`_backlash_hazard_exponent`."""
    return hazard * exp_exponent


cdef inline bint _backlash_hit(double u, double exp_minus_lam_dt) noexcept nogil:
    """An event this step: ``u < 1 − exp(−λ·dt)``."""
    return u < 1 - exp_minus_lam_dt


cdef inline double _backlash_reform_level(
    double level, bint hit, double severity, double span, double low, double high
) noexcept nogil:
    """The reform issue after a step: an event cuts half its severity's share of the range."""
    return _clip(level - <double>hit * severity * 0.5 * span, low, high)


# ------------------------------------------------------------------ 4. closing of the system
cdef inline double _relax_rate(double up, double down) noexcept nogil:
    """The rate of ``dx/dt = up·(1 − x) − down·(x − floor)``."""
    return (up + down) + 0.0


cdef inline double _relax(
    double x, double up, double down, double floor, double rate, double keep
) noexcept nogil:
    """Exact step of the relaxation over ``dt``, toward ``(up + down·floor)/rate``;
    ``keep = exp(−rate·dt)``. It stays in [0, 1] for any step length, where an Euler step of
    a fast rate would overshoot."""
    cdef double target = (up + down * floor) / rate if rate > 0 else x
    return target + (x - target) * keep


cdef inline double _jump(double x, bint hit, double size) noexcept nogil:
    """After an event, close the share ``size`` of the gap to 1 (to 0 if ``size < 0``)."""
    cdef double gap = 1.0 - x if size >= 0 else x
    return _npclip(x + <double>hit * size * gap, 0.0, 1.0)


cdef inline double _keep_exponent(double up, double down, double dt) noexcept nogil:
    """``−rate·dt``: ``exp`` of it is the share of the gap to the target left after ``dt``."""
    return -_relax_rate(up, down) * dt


cdef inline double _vetting_up(double threat_rate, double share, double share0) noexcept nogil:
    """The rise term of vetting, ``κ·max(0, r − r₀)``."""
    return threat_rate * _max(share - share0, 0.0)


cdef inline double _vetting_update(
    double vetting, double up, double decay, double base, double keep, bint hit, double jump
) noexcept nogil:
    """The vetting state after one step (closing.vetting_update); ``up`` from
    :func:`_vetting_up`, ``keep`` = ``exp`` of :func:`_keep_exponent`."""
    return _jump(_relax(vetting, up, decay, base, _relax_rate(up, decay), keep), hit, jump)


cdef inline double _reform_blocked(double level, double level0, double span) noexcept nogil:
    """How far reform stands below its start, a share of its range (closing.reform_blocked)."""
    return _npclip((level0 - level) / span, 0.0, 1.0)


cdef inline double _disillusion_update(
    double disillusion, double up, double decay, double keep, bint hit, double jump
) noexcept nogil:
    """Disillusion after one step (closing.disillusion_update); ``up`` = ``g·B``, ``keep`` =
    ``exp`` of :func:`_keep_exponent`."""
    return _jump(_relax(disillusion, up, decay, 0.0, _relax_rate(up, decay), keep), hit, jump)


# ------------------------------------------------------------------ 4. clout, elections
cdef inline double _clout_drift(
    double clout, bint reform, double base, double up, double down, double rate
) noexcept nogil:
    """A mobile actor's clout relaxing toward its base scaled by support (engine.clout_drift).

    ``up = S/S0`` scales reformists, ``down = (1 − S)/(1 − S0)`` the others.
    """
    cdef double target = base * up if reform else base * down
    return clout + rate * (target - clout)


cdef inline double _election_vote_share(
    double support, double vetting, double election_vetting, double disillusion,
    double turnout_sensitivity,
) noexcept nogil:
    """The reform share of the admitted vote (closing.election_vote_share)."""
    cdef double reform = support * (1.0 - turnout_sensitivity * disillusion) * (
        (1.0 - vetting) * (1.0 - election_vetting)
    )
    return reform / (reform + (1.0 - support))


# ------------------------------------------------------------------ the step of section 4
cdef class DomesticRun:
    """What :func:`domestic_step` reads besides the state, laid out once per run: the issues'
    bounds and roles, the actors' masks, the per-run leaves (base clout, reform backing,
    election vetting) and the parameters (``sanc_n0`` to ``election_bonus``, each as
    :func:`detente.sim.native.leaf` gives it), with its scratch arrays for ``n`` worlds
    (written anew by each call)."""

    cdef const double[:] low, high, span
    cdef long i_sanctions, i_reform
    cdef double dt
    cdef const unsigned char[:] mobile, reform_camp
    cdef const double[:, ::1] o_base, reform_backing
    cdef const double[:, :] e_vetting
    cdef const double[:] sanc_n0, drift, engagement_gain, rally_effect, dictation_effect
    cdef const double[:] support_noise, hazard, threat_elasticity, backing_elasticity
    cdef const double[:] severity, vetting_base, vetting_threat_rate, vetting_jump
    cdef const double[:] vetting_decay, disillusion_rate, disillusion_jump
    cdef const double[:] disillusion_decay, public_support0, clout_rate
    cdef const double[:] turnout_sensitivity, election_bonus
    cdef const Py_ssize_t[::1] backed
    cdef readonly Py_ssize_t n
    cdef object tmp_arr, ex_arr, ex1_arr, ex2_arr, up_v_arr, up_d_arr, movers_arr, sanc_arr
    cdef double[::1] tmp, ex1, ex2, up_v, up_d, sanc
    cdef Py_ssize_t[::1] movers

    def __init__(
        self,
        Py_ssize_t n,
        const double[:] low,
        const double[:] high,
        const double[:] span,
        long i_sanctions,
        long i_reform,
        double dt,
        const unsigned char[:] mobile,
        const unsigned char[:] reform_camp,
        const double[:, ::1] o_base,
        const double[:, ::1] reform_backing,
        const double[:, :] e_vetting,
        const double[:] sanc_n0,
        const double[:] drift,
        const double[:] engagement_gain,
        const double[:] rally_effect,
        const double[:] dictation_effect,
        const double[:] support_noise,
        const double[:] hazard,
        const double[:] threat_elasticity,
        const double[:] backing_elasticity,
        const double[:] severity,
        const double[:] vetting_base,
        const double[:] vetting_threat_rate,
        const double[:] vetting_jump,
        const double[:] vetting_decay,
        const double[:] disillusion_rate,
        const double[:] disillusion_jump,
        const double[:] disillusion_decay,
        const double[:] public_support0,
        const double[:] clout_rate,
        const double[:] turnout_sensitivity,
        const double[:] election_bonus,
        const Py_ssize_t[::1] backed,
    ):
        self.n = n
        self.low, self.high, self.span = low, high, span
        self.i_sanctions, self.i_reform, self.dt = i_sanctions, i_reform, dt
        self.mobile, self.reform_camp = mobile, reform_camp
        self.o_base, self.reform_backing, self.e_vetting = o_base, reform_backing, e_vetting
        self.sanc_n0, self.drift, self.engagement_gain = sanc_n0, drift, engagement_gain
        self.rally_effect, self.dictation_effect = rally_effect, dictation_effect
        self.support_noise, self.hazard = support_noise, hazard
        self.threat_elasticity, self.backing_elasticity = threat_elasticity, backing_elasticity
        self.severity, self.vetting_base = severity, vetting_base
        self.vetting_threat_rate, self.vetting_jump = vetting_threat_rate, vetting_jump
        self.vetting_decay, self.disillusion_rate = vetting_decay, disillusion_rate
        self.disillusion_jump, self.disillusion_decay = disillusion_jump, disillusion_decay
        self.public_support0, self.clout_rate = public_support0, clout_rate
        self.turnout_sensitivity, self.election_bonus = turnout_sensitivity, election_bonus
        self.backed = backed
        self.tmp_arr = np.empty(max(o_base.shape[1], 1))
        self.movers_arr = np.empty(max(o_base.shape[1], 1), dtype=np.intp)
        self.ex_arr = np.empty((2, n))  # ex1, ex2: one exp call where both are taken
        self.ex1_arr, self.ex2_arr = self.ex_arr[0], self.ex_arr[1]
        self.up_v_arr, self.up_d_arr, self.sanc_arr = np.empty(n), np.empty(n), np.empty(n)
        self.tmp, self.movers = self.tmp_arr, self.movers_arr
        self.ex1, self.ex2 = self.ex1_arr, self.ex2_arr
        self.up_v, self.up_d, self.sanc = self.up_v_arr, self.up_d_arr, self.sanc_arr


def domestic_step(
    DomesticRun run,
    int first,
    int last,
    double[:] support,
    double[:] backing,
    double[:] vetting,
    double[:] disillusion,
    double[:, ::1] o_clout,
    unsigned char[:, ::1] o_reform,
    unsigned char[:, :] o_control,
    double[:, ::1] level,
    double[:, ::1] transient,
    long[:] backlash_events,
    unsigned char[:] hit,
    double[:] share,
    const double[:] bite,
    const double[:] multi,
    const double[:] hostile,
    const unsigned char[:, ::1] f_active,
    const double[:] share0,
    const double[:] reform0,
    const double[:] u_support,
    const double[:] u_backlash,
    const long[:] e_holder,
    const long[:] e_actor,
    const long[:] e_column,
):
    """Section 4's mechanisms ``first`` to ``last`` (:data:`PUBLIC_SUPPORT` ...
    :data:`INTERNAL_ELECTIONS`) for every world, in the step loop's order; ``run`` (a
    :class:`DomesticRun` for these ``n`` worlds) holds what does not change within a run.

    The state arrays (``support`` to ``transient``, ``backlash_events``) are updated in
    place; :data:`BACKLASH` writes ``hit`` and ``share`` (the reformists' clout share before
    the event), which :data:`VETTING_AND_DISILLUSION` reads. ``reform0`` is empty without a
    reform issue; ``e_*`` list this step's elections (holder institution, its actor, the
    column of the run's election vetting). :data:`PUBLIC_SUPPORT` reads the sanctions
    issue's share of its range (``engine.issue_share``; 0 without the issue) from ``level``.
    """
    if run.n != support.shape[0]:
        raise ValueError("domestic_step: the run's scratch is not for these worlds")
    cdef const double[:] low = run.low, high = run.high, span = run.span
    cdef long i_sanctions = run.i_sanctions, i_reform = run.i_reform
    cdef double dt = run.dt
    cdef const unsigned char[:] mobile = run.mobile, reform_camp = run.reform_camp
    cdef const double[:, ::1] o_base = run.o_base, reform_backing = run.reform_backing
    cdef const double[:, :] e_vetting = run.e_vetting
    cdef const double[:] sanc_n0 = run.sanc_n0, drift = run.drift
    cdef const double[:] engagement_gain = run.engagement_gain
    cdef const double[:] rally_effect = run.rally_effect
    cdef const double[:] dictation_effect = run.dictation_effect
    cdef const double[:] support_noise = run.support_noise, hazard = run.hazard
    cdef const double[:] threat_elasticity = run.threat_elasticity
    cdef const double[:] backing_elasticity = run.backing_elasticity
    cdef const double[:] severity = run.severity, vetting_base = run.vetting_base
    cdef const double[:] vetting_threat_rate = run.vetting_threat_rate
    cdef const double[:] vetting_jump = run.vetting_jump
    cdef const double[:] vetting_decay = run.vetting_decay
    cdef const double[:] disillusion_rate = run.disillusion_rate
    cdef const double[:] disillusion_jump = run.disillusion_jump
    cdef const double[:] disillusion_decay = run.disillusion_decay
    cdef const double[:] public_support0 = run.public_support0
    cdef const double[:] clout_rate = run.clout_rate
    cdef const double[:] turnout_sensitivity = run.turnout_sensitivity
    cdef const double[:] election_bonus = run.election_bonus
    cdef const Py_ssize_t[::1] backed = run.backed
    cdef double[::1] sanctions_share = run.sanc
    cdef Py_ssize_t n = support.shape[0], n_a = o_clout.shape[1], n_e = e_holder.shape[0]
    cdef Py_ssize_t w, a, j, m, wb, wk, we, n_mobile = 0, n_reformist
    cdef double lam, up, down, new, old, v, s0, rate
    cdef bint has_sanctions = i_sanctions >= 0, has_reform = i_reform >= 0
    cdef bint has_reform0 = reform0.shape[0] > 0
    cdef Py_ssize_t m_base = o_base.shape[0], m_backing = reform_backing.shape[0]
    cdef Py_ssize_t m_vet = e_vetting.shape[0], m_rate = clout_rate.shape[0]
    cdef double[::1] tmp = run.tmp
    ex1_arr, ex2_arr = run.ex1_arr, run.ex2_arr
    cdef double[::1] ex1 = run.ex1, ex2 = run.ex2
    cdef double[::1] up_v = run.up_v, up_d = run.up_d
    cdef Py_ssize_t[::1] movers = run.movers  # the mobile actors
    cdef double* clout
    cdef const double* base
    cdef Param p_sanc_n0, p_drift, p_gain, p_rally, p_dictation, p_noise, p_threat_el
    cdef Param p_backing_el, p_hazard, p_severity, p_vet_rate, p_vet_decay, p_dis_rate
    cdef Param p_dis_decay, p_vet_base, p_vet_jump, p_dis_jump, p_support0

    if first <= _PUBLIC_SUPPORT <= last:
        with nogil:
            p_sanc_n0, p_drift, p_gain = param(sanc_n0), param(drift), param(engagement_gain)
            p_rally, p_dictation = param(rally_effect), param(dictation_effect)
            p_noise = param(support_noise)
            for w in range(n):  # the sanctions issue's share of its range (issue_share)
                sanctions_share[w] = (
                    (level[w, i_sanctions] - low[i_sanctions]) / span[i_sanctions]
                    if has_sanctions else 0.0)
            for w in range(n):
                if w + AHEAD < n:
                    prefetch(&u_support[w + AHEAD])
                support[w] = _public_support(
                    support[w], bite[w], sanctions_share[w], has_sanctions, at(p_sanc_n0, w),
                    multi[w], hostile[w], u_support[w], dt, at(p_drift, w), at(p_gain, w),
                    at(p_rally, w), at(p_dictation, w), at(p_noise, w),
                )

    if first <= _BACKLASH <= last:
        with nogil:
            p_threat_el, p_backing_el = param(threat_elasticity), param(backing_elasticity)
            p_hazard, p_severity = param(hazard), param(severity)
            for w in range(n):
                if w + AHEAD < n:  # (read after the exp below)
                    prefetch(&u_backlash[w + AHEAD])
                wk = row_of(w, m_backing, n)
                share[w] = _reform_share(&o_clout[w, 0], &o_reform[w, 0], n_a, &tmp[0])
                backing[w] = _visible_backing(&f_active[w, 0], &reform_backing[wk, 0], backed)
                ex1[w] = _backlash_hazard_exponent(
                    share[w], backing[w], at(p_threat_el, w), at(p_backing_el, w)
                )
        np.exp(ex1_arr, out=ex1_arr)
        with nogil:
            for w in range(n):
                lam = _backlash_hazard(at(p_hazard, w), ex1[w])
                ex2[w] = -lam * dt
        np.exp(ex2_arr, out=ex2_arr)
        with nogil:
            for w in range(n):
                hit[w] = _backlash_hit(u_backlash[w], ex2[w])
                backlash_events[w] += hit[w]
                if hit[w]:
                    for a in range(n_a):
                        if o_reform[w, a] and mobile[a]:
                            o_clout[w, a] = o_clout[w, a] * (1 - at(p_severity, w))
                if has_reform:
                    j = i_reform
                    old = level[w, j]
                    new = _backlash_reform_level(old, hit[w], at(p_severity, w), span[j],
                                                 low[j], high[j])
                    transient[w, j] = transient[w, j] + (new - old)
                    level[w, j] = new

    if first <= _VETTING_AND_DISILLUSION <= last:
        # ex1: the vetting state's exp(-rate·dt), ex2: the disillusion's; up_v, up_d their rises
        with nogil:
            p_vet_rate, p_vet_decay = param(vetting_threat_rate), param(vetting_decay)
            p_dis_rate, p_dis_decay = param(disillusion_rate), param(disillusion_decay)
            p_vet_base, p_vet_jump = param(vetting_base), param(vetting_jump)
            p_dis_jump = param(disillusion_jump)
            # (vetting and disillusion in loops of their own: fewer row pointers a world)
            for w in range(n):
                up_v[w] = _vetting_up(at(p_vet_rate, w), share[w], share0[w])
                ex1[w] = _keep_exponent(up_v[w], at(p_vet_decay, w), dt)
            for w in range(n):
                up_d[w] = at(p_dis_rate, w) * (
                    _reform_blocked(level[w, i_reform], reform0[w], span[i_reform])
                    if has_reform0 else 0.0
                )
                ex2[w] = _keep_exponent(up_d[w], at(p_dis_decay, w), dt)
        np.exp(run.ex_arr, out=run.ex_arr)  # (ex1 and ex2: the rows of one array)
        with nogil:
            for w in range(n):
                vetting[w] = _vetting_update(vetting[w], up_v[w], at(p_vet_decay, w),
                                             at(p_vet_base, w), ex1[w], hit[w],
                                             at(p_vet_jump, w))
            for w in range(n):
                disillusion[w] = _disillusion_update(disillusion[w], up_d[w],
                                                     at(p_dis_decay, w), ex2[w], hit[w],
                                                     at(p_dis_jump, w))

    if first <= _CLOUT_DRIFT <= last:
        with nogil:
            p_support0 = param(public_support0)
            # only the mobile actors drift: the reformists' first, then the others'
            # (``movers[:n_reformist]``, ``movers[n_reformist:n_mobile]``)
            for a in range(n_a):
                if mobile[a] and reform_camp[a]:
                    movers[n_mobile] = a
                    n_mobile += 1
            n_reformist = n_mobile
            for a in range(n_a):
                if mobile[a] and not reform_camp[a]:
                    movers[n_mobile] = a
                    n_mobile += 1
            for w in range(n):
                wb = row_of(w, m_base, n)
                rate = clout_rate[row_of(w, m_rate, n)]  # (one value per state, too)
                s0 = at(p_support0, w)
                up = support[w] / s0
                down = (1 - support[w]) / (1 - s0)
                clout = &o_clout[w, 0]
                base = &o_base[wb, 0]
                for m in range(n_reformist):
                    a = movers[m]
                    clout[a] = _clout_drift(clout[a], True, base[a], up, down, rate)
                for m in range(n_reformist, n_mobile):
                    a = movers[m]
                    clout[a] = _clout_drift(clout[a], False, base[a], up, down, rate)

    if first <= _INTERNAL_ELECTIONS <= last:
        with nogil:
            for j in range(n_e):
                a = e_actor[j]
                for w in range(n):
                    wb = row_of(w, m_base, n)
                    we = row_of(w, m_vet, n)
                    v = _election_vote_share(support[w], vetting[w], e_vetting[we, e_column[j]],
                                             disillusion[w], _pw(turnout_sensitivity, w))
                    o_control[w, e_holder[j]] = v > 0.5
                    o_reform[w, a] = v > 0.5
                    o_clout[w, a] = o_base[wb, a] * (
                        1 + _pw(election_bonus, w) * 2 * fabs(v - 0.5)
                    )


# ------------------------------------------------------------------ the closing module's functions
cdef inline Py_ssize_t _worlds(tuple xs):
    """The number of worlds of arguments of length 1 or ``n``."""
    cdef Py_ssize_t n = 1
    for x in xs:
        if x.shape[0] != 1:
            n = x.shape[0]
    return n


def reform_share(const double[:, ::1] clout, const unsigned char[:, ::1] reform):
    """The reformists' share of clout of every world ``[n]`` (0 where no actor has clout)."""
    cdef Py_ssize_t n = clout.shape[0], w
    out_arr = np.empty(n)
    tmp_arr = np.empty(max(clout.shape[1], 1))
    cdef double[::1] out = out_arr, tmp = tmp_arr
    with nogil:
        for w in range(n):
            out[w] = _reform_share(&clout[w, 0], &reform[w, 0], clout.shape[1], &tmp[0])
    return out_arr


def visible_backing(const unsigned char[:, ::1] active, const double[:, ::1] reform_backing):
    """``V`` of every world ``[n]``; ``reform_backing`` has 1 or ``n`` rows."""
    cdef Py_ssize_t n = active.shape[0], w
    cdef bint per_world = reform_backing.shape[0] > 1
    cdef const Py_ssize_t[::1] backed = _backed(reform_backing)
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    with nogil:
        for w in range(n):
            out[w] = _visible_backing(&active[w, 0], &reform_backing[w if per_world else 0, 0],
                                      backed)
    return out_arr


def backlash_hazard(
    const double[:] share, const double[:] backing, const double[:] hazard,
    const double[:] threat_elasticity, const double[:] backing_elasticity,
):
    """``λ`` of every world ``[n]``."""
    cdef Py_ssize_t n = _worlds((share, backing, hazard, threat_elasticity,
                                 backing_elasticity)), w
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    with nogil:
        for w in range(n):
            out[w] = _backlash_hazard_exponent(_pw(share, w), _pw(backing, w),
                                               _pw(threat_elasticity, w),
                                               _pw(backing_elasticity, w))
    np.exp(out_arr, out=out_arr)
    with nogil:
        for w in range(n):
            out[w] = _backlash_hazard(_pw(hazard, w), out[w])
    return out_arr


def vetting_update(
    const double[:] vetting, const double[:] share, const double[:] share0,
    const unsigned char[:] hit, const double[:] base, const double[:] threat_rate,
    const double[:] backlash_jump, const double[:] decay, double dt,
):
    """The vetting state of every world after one step ``[n]``."""
    cdef Py_ssize_t n = _worlds((vetting, share, share0, hit, base, threat_rate, backlash_jump,
                                 decay)), w
    cdef bint hit_world = hit.shape[0] > 1
    up_arr = np.empty(n)
    out_arr = np.empty(n)
    cdef double[::1] up = up_arr, out = out_arr
    with nogil:
        for w in range(n):
            up[w] = _vetting_up(_pw(threat_rate, w), _pw(share, w), _pw(share0, w))
            out[w] = _keep_exponent(up[w], _pw(decay, w), dt)
    np.exp(out_arr, out=out_arr)
    with nogil:
        for w in range(n):
            out[w] = _vetting_update(_pw(vetting, w), up[w], _pw(decay, w), _pw(base, w), out[w],
                                     hit[w if hit_world else 0], _pw(backlash_jump, w))
    return out_arr


def disillusion_update(
    const double[:] disillusion, const double[:] blocked, const unsigned char[:] hit,
    const double[:] rate, const double[:] backlash_jump, const double[:] decay, double dt,
):
    """Disillusion of every world after one step ``[n]``."""
    cdef Py_ssize_t n = _worlds((disillusion, blocked, hit, rate, backlash_jump, decay)), w
    cdef bint hit_world = hit.shape[0] > 1
    up_arr = np.empty(n)
    out_arr = np.empty(n)
    cdef double[::1] up = up_arr, out = out_arr
    with nogil:
        for w in range(n):
            up[w] = _pw(rate, w) * _pw(blocked, w)
            out[w] = _keep_exponent(up[w], _pw(decay, w), dt)
    np.exp(out_arr, out=out_arr)
    with nogil:
        for w in range(n):
            out[w] = _disillusion_update(_pw(disillusion, w), up[w], _pw(decay, w), out[w],
                                         hit[w if hit_world else 0], _pw(backlash_jump, w))
    return out_arr


def reform_blocked(const double[:] level, const double[:] level0, double span):
    """How far reform stands below its start, every world ``[n]``."""
    cdef Py_ssize_t n = _worlds((level, level0)), w
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    with nogil:
        for w in range(n):
            out[w] = _reform_blocked(_pw(level, w), _pw(level0, w), span)
    return out_arr


def election_vote_share(
    const double[:] support, const double[:] vetting, const double[:] election_vetting,
    const double[:] disillusion, const double[:] turnout_sensitivity,
):
    """The reform share of the admitted vote, every world ``[n]``."""
    cdef Py_ssize_t n = _worlds((support, vetting, election_vetting, disillusion,
                                 turnout_sensitivity)), w
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    with nogil:
        for w in range(n):
            out[w] = _election_vote_share(_pw(support, w), _pw(vetting, w),
                                          _pw(election_vetting, w), _pw(disillusion, w),
                                          _pw(turnout_sensitivity, w))
    return out_arr


# ------------------------------------------------------------------ 4b. U.S. elections
cdef inline double _election_verdict(
    double reciprocated, double unreciprocated, double hostile, double swing
) noexcept nogil:
    """``clip(swing·(G − U − H), −1, 1)`` (engine.election_verdict)."""
    return _clip(swing * (reciprocated - unreciprocated - hostile), -1.0, 1.0)


cdef inline double _balance_clout(double balance, bint hawk, bint engager) noexcept nogil:
    """An actor's clout multiplier at the balance ``β`` (engine.balance_clout)."""
    return 1.0 + balance * <double>engager - balance * <double>hawk


def election_verdict(
    const double[:] reciprocated, const double[:] unreciprocated, const double[:] hostile,
    const double[:] swing,
):
    """The voters' verdict of every world ``[n]``."""
    cdef Py_ssize_t n = _worlds((reciprocated, unreciprocated, hostile, swing)), w
    out_arr = np.empty(n)
    cdef double[::1] out = out_arr
    with nogil:
        for w in range(n):
            out[w] = _election_verdict(_pw(reciprocated, w), _pw(unreciprocated, w),
                                       _pw(hostile, w), _pw(swing, w))
    return out_arr


def balance_clout(
    const double[:] balance, const unsigned char[:] hawk, const unsigned char[:] engager
):
    """Clout multipliers ``[n, A]``."""
    cdef Py_ssize_t n = balance.shape[0], n_a = hawk.shape[0], w, a
    out_arr = np.empty((n, n_a))
    cdef double[:, ::1] out = out_arr
    with nogil:
        for w in range(n):
            for a in range(n_a):
                out[w, a] = _balance_clout(balance[w], hawk[a], engager[a])
    return out_arr
