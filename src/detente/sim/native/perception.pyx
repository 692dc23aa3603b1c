# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Perception, the Bayesian type update and smoothing (docs/model.md 3), world by world.

Compiled form of :func:`detente.sim.engine.perceive_and_learn`: the same float64 operations,
in the same order, as the NumPy formulation it replaced. Every parameter is an array of one
element (shared) or one per world (a per-world leaf of a stacked run); the numbers NumPy
derived from parameters alone (``2 sigma^2``, ``1 - memory``) are derived by the caller, as
before, and passed in.
"""

import numpy as np


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
    const double[:] played_f,
    const double[:] played_o,
    const double[:] eps_f,
    const double[:] eps_o,
    const double[:] bias_f,
    const double[:] noise_f,
    const double[:] bias_o,
    const double[:] noise_o,
    const double[:] benign,
    const double[:] hostile,
    const double[:] two_var_f,
    const double[:] two_var_o,
    const double[:] rate,
    const double[:] forgetting,
    const double[:] prior_f,
    const double[:] prior_o,
    const double[:] memory,
    const double[:] keep,
    const double[:] smooth_own_f,
    const double[:] smooth_own_o,
    const double[:] smooth_perceived_o,
    double[:] perceived_f,
    double[:] perceived_o,
    double[:] log_odds_f,
    double[:] log_odds_o,
):
    """Both sides' perceptions and beliefs, and the smoothed levels.

    Writes the perceptions to ``perceived_*`` (the step's columns) and the log-odds in place;
    ``keep`` is ``1 - memory``. Returns the new ``(smooth_own_f, smooth_own_o,
    smooth_perceived_o)``.
    """
    cdef Py_ssize_t n = played_f.shape[0], w
    cdef double q_f, q_o, a, k
    # per-world parameters: [w] when the parameter has one value per world, else [0]
    cdef Py_ssize_t bf = bias_f.shape[0] > 1, nf = noise_f.shape[0] > 1
    cdef Py_ssize_t bo = bias_o.shape[0] > 1, no = noise_o.shape[0] > 1
    cdef Py_ssize_t be = benign.shape[0] > 1, ho = hostile.shape[0] > 1
    cdef Py_ssize_t vf = two_var_f.shape[0] > 1, vo = two_var_o.shape[0] > 1
    cdef Py_ssize_t ra = rate.shape[0] > 1, fo = forgetting.shape[0] > 1
    cdef Py_ssize_t pf = prior_f.shape[0] > 1, po = prior_o.shape[0] > 1
    cdef Py_ssize_t me = memory.shape[0] > 1, ke = keep.shape[0] > 1
    own_f_arr, own_o_arr, seen_o_arr = np.empty(n), np.empty(n), np.empty(n)
    cdef double[::1] own_f = own_f_arr, own_o = own_o_arr, seen_o = seen_o_arr
    with nogil:
        for w in range(n):
            q_f = _unit(played_o[w] + bias_f[w * bf] + noise_f[w * nf] * eps_f[w])
            q_o = _unit(played_f[w] + bias_o[w * bo] + noise_o[w * no] * eps_o[w])
            perceived_f[w] = q_f
            perceived_o[w] = q_o
            log_odds_f[w] = _learn(log_odds_f[w], q_f, smooth_own_f[w], benign[w * be],
                                   hostile[w * ho], two_var_f[w * vf], rate[w * ra],
                                   forgetting[w * fo], prior_f[w * pf])
            log_odds_o[w] = _learn(log_odds_o[w], q_o, smooth_own_o[w], benign[w * be],
                                   hostile[w * ho], two_var_o[w * vo], rate[w * ra],
                                   forgetting[w * fo], prior_o[w * po])
            a = memory[w * me]
            k = keep[w * ke]
            own_f[w] = k * smooth_own_f[w] + a * played_f[w]
            own_o[w] = k * smooth_own_o[w] + a * played_o[w]
            seen_o[w] = k * smooth_perceived_o[w] + a * q_o
    return own_f_arr, own_o_arr, seen_o_arr
