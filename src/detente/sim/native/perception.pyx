# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Perception, the Bayesian type update and smoothing (docs/model.md 3), world by world.

Compiled form of :func:`detente.sim.engine.perceive_and_learn`: the same float64 operations,
in the same order, as the NumPy formulation it replaced. The parameters come as one
``[m, 14]`` array (:data:`PARAMETERS` its columns), ``m = 1`` (shared by all worlds) or one
row per world (a per-world leaf of a stacked run); the numbers NumPy derived from parameters
alone (``2 sigma^2``, ``1 - memory``) are derived by the caller, as before.
"""

import numpy as np

#: The columns of the parameter array, in order.
PARAMETERS = (
    "bias_f", "noise_f", "bias_o", "noise_o", "benign", "hostile", "two_var_f", "two_var_o",
    "rate", "forgetting", "prior_f", "prior_o", "memory", "keep",
)

cdef enum:
    _BIAS_F, _NOISE_F, _BIAS_O, _NOISE_O, _BENIGN, _HOSTILE, _TWO_VAR_F, _TWO_VAR_O, _RATE, \
        _FORGETTING, _PRIOR_F, _PRIOR_O, _MEMORY, _KEEP, _N_PARAMETERS


cdef inline double _unit(double x) noexcept nogil:
    """``clip(x, 0, 1)`` as NumPy's maximum then minimum (NaN stays NaN)."""
    if x < 0.0:
        x = 0.0
    if x > 1.0:
        x = 1.0
    return x


cdef inline double _learn(
    double lb, double q, double sm_own, double benign, double hostile, double two_var,
    double rate, double forgetting, double prior,
) noexcept nogil:
    """One side's log-odds after seeing ``q``, clipped to [-8, 8]."""
    cdef double mu_r = sm_own if (sm_own >= benign or sm_own != sm_own) else benign
    cdef double dh = q - hostile, dr = q - mu_r
    cdef double llr = (dh * dh - dr * dr) / two_var
    lb = lb + (rate * llr - forgetting * (lb - prior))
    if lb < -8.0:
        lb = -8.0
    if lb > 8.0:
        lb = 8.0
    return lb


def perceive_and_learn(
    long t,
    const double[::1] played_f,
    const double[::1] played_o,
    const double[:, :] eps_f,
    const double[:, :] eps_o,
    const double[:, ::1] params,
    double[::1] smooth_own_f,
    double[::1] smooth_own_o,
    double[::1] smooth_perceived_o,
    double[:, :] perceived_f,
    double[:, :] perceived_o,
    double[::1] log_odds_f,
    double[::1] log_odds_o,
):
    """Both sides' perceptions and beliefs at step ``t``, and the smoothed levels.

    Reads the perception draws of column ``t`` of ``eps_*``, writes the perceptions to
    column ``t`` of ``perceived_*`` and the log-odds and the smoothed levels (own played,
    Iran's perceived) in place; ``params``: the [m, 14] array of :data:`PARAMETERS`.
    """
    cdef Py_ssize_t n = played_f.shape[0], w
    cdef Py_ssize_t step = 1 if params.shape[0] > 1 else 0  # a row per world, else one
    cdef double q_f, q_o, a, k
    cdef const double* p
    if params.shape[1] != _N_PARAMETERS:
        raise ValueError("perception: params is not [m, 14]")
    if n == 0:
        return
    with nogil:
        for w in range(n):
            p = &params[w * step, 0]
            q_f = _unit(played_o[w] + p[_BIAS_F] + p[_NOISE_F] * eps_f[w, t])
            q_o = _unit(played_f[w] + p[_BIAS_O] + p[_NOISE_O] * eps_o[w, t])
            perceived_f[w, t] = q_f
            perceived_o[w, t] = q_o
            log_odds_f[w] = _learn(log_odds_f[w], q_f, smooth_own_f[w], p[_BENIGN],
                                   p[_HOSTILE], p[_TWO_VAR_F], p[_RATE], p[_FORGETTING],
                                   p[_PRIOR_F])
            log_odds_o[w] = _learn(log_odds_o[w], q_o, smooth_own_o[w], p[_BENIGN],
                                   p[_HOSTILE], p[_TWO_VAR_O], p[_RATE], p[_FORGETTING],
                                   p[_PRIOR_O])
            a = p[_MEMORY]
            k = p[_KEEP]
            smooth_own_f[w] = k * smooth_own_f[w] + a * played_f[w]
            smooth_own_o[w] = k * smooth_own_o[w] + a * played_o[w]
            smooth_perceived_o[w] = k * smooth_perceived_o[w] + a * q_o
