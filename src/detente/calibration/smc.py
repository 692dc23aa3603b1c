"""Adaptive tempered Sequential Monte Carlo with preconditioned Crank-Nicolson moves.

The sampler works on standard-normal coordinates ``z``: every uncertainty of a scenario is
a one-dimensional prior, and ``value = ppf(Phi(z))`` maps ``z ~ N(0, 1)`` onto it exactly,
so the prior of the whole state is ``N(0, I)`` whatever the marginals are. The posterior
``p(z | data) ~ N(z; 0, I) L(z)`` is reached through a sequence of tempered targets
``N(0, I) L(z)^beta`` with ``beta`` going from 0 to 1 (Neal 2001; Chopin 2002; Del Moral,
Doucet & Jasra 2006). Each generation

1. raises ``beta`` as far as the effective sample size of the reweighted particles allows
   (a share ``target_ess`` of the particles; Jasra et al. 2011), found by bisection;
2. resamples (systematic resampling; Kitagawa 1996);
3. moves every particle with ``moves`` Metropolis steps of the preconditioned
   Crank-Nicolson proposal ``z' = sqrt(1 - rho^2) z + rho xi`` (Cotter, Roberts, Stuart &
   White 2013), which leaves the Gaussian prior invariant, so the acceptance ratio involves
   the likelihood alone and does not degrade with the number of uncertainties (hundreds
   here); ``rho`` is adapted towards an acceptance rate of about a quarter.

Every random number comes from a generator seeded by ``(seed, generation, purpose, move)``
and the likelihood of a whole batch of particles is asked for at once, so the particles are
the same whatever evaluates the batch, and a sampler resumed from a stored generation
continues exactly as if it had not stopped. The running product of the mean incremental
weights estimates the marginal likelihood (the evidence) of the data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp

FloatArray = NDArray[np.float64]
LogLikelihood = Callable[[FloatArray], FloatArray]
"""Log-likelihood of a batch of particles ``z`` ([N, D]) as an array [N] (-inf allowed)."""

TARGET_ACCEPTANCE = 0.25
MIN_STEP, MAX_STEP = 0.01, 1.0


@dataclass(frozen=True)
class SMCSettings:
    """How the sampler runs.

    Attributes
    ----------
    particles : int
        Particles per generation.
    moves : int
        pCN Metropolis steps per particle and generation.
    target_ess : float
        Share of the particles the effective sample size keeps at each tempering step.
    max_generations : int
        Stop (with ``beta < 1``, reported) after this many tempering steps.
    initial_step : float
        The first pCN step ``rho`` (0-1).
    """

    particles: int = 256
    moves: int = 3
    target_ess: float = 0.5
    max_generations: int = 40
    initial_step: float = 0.5


@dataclass(frozen=True)
class Generation:
    """The particles after one generation (generation 0: the prior design).

    Attributes
    ----------
    index : int
    beta : float
        Tempering exponent reached (1: the posterior).
    z : ndarray [N, D]
    loglik : ndarray [N]
    weights : ndarray [N]
        Normalised; equal after a resample-move step.
    ess : float
        Effective sample size ``1 / sum(w^2)`` of the reweighting that opened this
        generation (``N`` for generation 0).
    acceptance : float
        Mean pCN acceptance rate over this generation's moves (NaN for generation 0).
    step : float
        The ``rho`` the next generation starts from.
    log_evidence : float
        Running estimate of ``log p(data)``.
    evaluations : int
        Likelihood evaluations (particles simulated) so far, over all generations.
    """

    index: int
    beta: float
    z: FloatArray
    loglik: FloatArray
    weights: FloatArray
    ess: float
    acceptance: float
    step: float
    log_evidence: float
    evaluations: int

    @property
    def done(self) -> bool:
        """True once the posterior (``beta == 1``) is reached."""
        return self.beta >= 1.0


def effective_sample_size(weights: FloatArray) -> float:
    """Kish's effective sample size of normalised weights, ``1 / sum(w^2)``."""
    return float(1.0 / np.sum(np.square(weights)))


def _normalise(logw: FloatArray) -> FloatArray:
    finite = np.isfinite(logw)
    if not finite.any():
        return np.full(logw.shape, np.nan)
    out = np.zeros_like(logw)
    out[finite] = np.exp(logw[finite] - logsumexp(logw[finite]))
    return out


def next_beta(beta: float, loglik: FloatArray, weights: FloatArray, target: float) -> float:
    """The largest ``beta' <= 1`` whose reweighting keeps an ESS of ``target`` particles.

    Bisection on the increment (ESS falls monotonically as the increment grows).
    """
    base = np.log(np.where(weights > 0, weights, 0.0) + 1e-300)

    def ess(delta: float) -> float:
        w = _normalise(base + delta * np.where(np.isfinite(loglik), loglik, -np.inf))
        return 0.0 if np.isnan(w).any() else effective_sample_size(w)

    if ess(1.0 - beta) >= target:
        return 1.0
    low, high = 0.0, 1.0 - beta
    for _ in range(60):
        mid = 0.5 * (low + high)
        if ess(mid) >= target:
            low = mid
        else:
            high = mid
    return beta + max(low, 1e-12)


def systematic_resample(weights: FloatArray, u: float) -> NDArray[np.int64]:
    """Indices drawn by systematic resampling with the offset ``u`` in [0, 1)."""
    n = weights.size
    edges = np.cumsum(weights)
    edges[-1] = 1.0
    return np.searchsorted(edges, (u + np.arange(n)) / n, side="right").astype(np.int64)


def _rng(seed: int, generation: int, purpose: int, move: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, generation, purpose, move])


def pcn_moves(
    z: FloatArray,
    loglik: FloatArray,
    beta: float,
    step: float,
    moves: int,
    loglikelihood: LogLikelihood,
    seed: int,
    generation: int,
) -> tuple[FloatArray, FloatArray, float, float]:
    """``moves`` pCN Metropolis steps on every particle; returns z, loglik, acceptance, step."""
    accepted = []
    for m in range(moves):
        rng = _rng(seed, generation, 2, m)
        xi = rng.standard_normal(z.shape)
        log_u = np.log(rng.random(z.shape[0]))
        proposal = math.sqrt(1.0 - step * step) * z + step * xi
        ll_new = loglikelihood(proposal)
        with np.errstate(invalid="ignore"):
            ratio = beta * (ll_new - loglik)
        accept = np.isfinite(ll_new) & ((~np.isfinite(loglik)) | (log_u < ratio))
        z = np.where(accept[:, None], proposal, z)
        loglik = np.where(accept, ll_new, loglik)
        rate = float(accept.mean())
        accepted.append(rate)
        step = float(np.clip(step * math.exp(2.0 * (rate - TARGET_ACCEPTANCE)), MIN_STEP, MAX_STEP))
    return z, loglik, float(np.mean(accepted)) if accepted else math.nan, step


def initial_generation(
    z0: FloatArray, loglikelihood: LogLikelihood, settings: SMCSettings
) -> Generation:
    """Generation 0: the prior design ``z0`` with its log-likelihoods and equal weights."""
    n = z0.shape[0]
    return Generation(
        index=0,
        beta=0.0,
        z=z0,
        loglik=np.asarray(loglikelihood(z0), dtype=np.float64),
        weights=np.full(n, 1.0 / n),
        ess=float(n),
        acceptance=math.nan,
        step=settings.initial_step,
        log_evidence=0.0,
        evaluations=n,
    )


def advance(
    gen: Generation, loglikelihood: LogLikelihood, settings: SMCSettings, seed: int
) -> Generation:
    """One tempering step: reweight to the next ``beta``, resample, move."""
    n = gen.z.shape[0]
    beta = next_beta(gen.beta, gen.loglik, gen.weights, settings.target_ess * n)
    delta = beta - gen.beta
    incr = np.where(np.isfinite(gen.loglik), delta * gen.loglik, -np.inf)
    logw = np.log(np.maximum(gen.weights, 1e-300)) + incr
    log_evidence = gen.log_evidence + float(logsumexp(logw))
    weights = _normalise(logw)
    ess = effective_sample_size(weights)
    idx = systematic_resample(weights, float(_rng(seed, gen.index + 1, 1).random()))
    z, loglik, acceptance, step = pcn_moves(
        gen.z[idx], gen.loglik[idx], beta, gen.step, settings.moves, loglikelihood, seed,
        gen.index + 1,
    )
    return Generation(
        index=gen.index + 1,
        beta=beta,
        z=z,
        loglik=loglik,
        weights=np.full(n, 1.0 / n),
        ess=ess,
        acceptance=acceptance,
        step=step,
        log_evidence=log_evidence,
        evaluations=gen.evaluations + settings.moves * n,
    )


def tempered_smc(
    loglikelihood: LogLikelihood,
    z0: FloatArray,
    settings: SMCSettings,
    seed: int,
    resume_from: Generation | None = None,
) -> Iterator[Generation]:
    """Yield generation after generation until ``beta`` reaches 1 or the cap.

    Parameters
    ----------
    loglikelihood : callable
        Batch log-likelihood (see :data:`LogLikelihood`).
    z0 : ndarray [N, D]
        The prior design in standard-normal coordinates (used only when starting afresh).
    settings : SMCSettings
    seed : int
    resume_from : Generation, optional
        A stored generation to continue from (it is not yielded again).
    """
    if resume_from is None:
        gen = initial_generation(z0, loglikelihood, settings)
        yield gen
    else:
        gen = resume_from
    while not gen.done and gen.index < settings.max_generations:
        gen = advance(gen, loglikelihood, settings, seed)
        yield gen


__all__ = [
    "Generation",
    "SMCSettings",
    "advance",
    "effective_sample_size",
    "initial_generation",
    "next_beta",
    "pcn_moves",
    "systematic_resample",
    "tempered_smc",
]
