"""The tempered SMC sampler against posteriors known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from detente.calibration.smc import (
    SMCSettings,
    effective_sample_size,
    next_beta,
    systematic_resample,
    tempered_smc,
)


def _gaussian_case(d: int, sd: float, y: np.ndarray):  # type: ignore[no-untyped-def]
    def loglik(z: np.ndarray) -> np.ndarray:
        return np.asarray(stats.norm.logpdf(y, z[:, : y.size], sd).sum(axis=1))

    return loglik


@pytest.mark.parametrize("d", [3, 400])
def test_linear_gaussian_posterior_and_evidence(d: int) -> None:
    """Prior N(0, I) in d dimensions, two of them observed with noise sd: the posterior mean,
    sd and evidence are known exactly; pCN keeps working in hundreds of dimensions."""
    sd, y = 0.4, np.array([1.2, -0.7])
    loglik = _gaussian_case(d, sd, y)
    z0 = np.random.default_rng(1).standard_normal((800, d))
    gens = list(tempered_smc(loglik, z0, SMCSettings(particles=800, moves=6), seed=3))
    last = gens[-1]
    assert last.done and last.index >= 1
    post_var = sd**2 / (1 + sd**2)
    mean = np.average(last.z[:, :2], axis=0, weights=last.weights)
    np.testing.assert_allclose(mean, y / (1 + sd**2), atol=0.08)
    np.testing.assert_allclose(last.z[:, :2].std(axis=0), np.sqrt(post_var), rtol=0.2)
    # the unobserved dimensions keep their prior
    assert abs(last.z[:, 2].std() - 1.0) < 0.2
    evidence = stats.norm.logpdf(y, 0, np.sqrt(1 + sd**2)).sum()
    assert abs(last.log_evidence - evidence) < 0.25


def test_same_seed_same_particles_and_resume_is_seamless() -> None:
    loglik = _gaussian_case(5, 0.3, np.array([0.5]))
    z0 = np.random.default_rng(0).standard_normal((64, 5))
    settings = SMCSettings(particles=64, moves=2)
    a = list(tempered_smc(loglik, z0, settings, seed=9))
    b = list(tempered_smc(loglik, z0, settings, seed=9))
    assert len(a) >= 3
    np.testing.assert_array_equal(a[-1].z, b[-1].z)
    resumed = list(tempered_smc(loglik, z0, settings, seed=9, resume_from=a[1]))
    assert [g.index for g in resumed] == [g.index for g in a[2:]]
    np.testing.assert_array_equal(resumed[-1].z, a[-1].z)
    other = list(tempered_smc(loglik, z0, settings, seed=10))
    assert not np.array_equal(other[-1].z, a[-1].z)


def test_next_beta_keeps_the_target_ess() -> None:
    ll = np.random.default_rng(2).normal(0, 30, 200)
    w = np.full(200, 1 / 200)
    beta = next_beta(0.0, ll, w, 100.0)
    assert 0 < beta < 1
    inc = np.exp(beta * (ll - ll.max()))
    assert effective_sample_size(inc / inc.sum()) == pytest.approx(100.0, rel=1e-3)
    assert next_beta(0.0, np.zeros(200), w, 100.0) == 1.0


def test_systematic_resampling_follows_the_weights() -> None:
    w = np.array([0.5, 0.25, 0.25, 0.0])
    idx = systematic_resample(w, 0.3)
    assert np.bincount(idx, minlength=4).tolist() == [2, 1, 1, 0]


def test_a_particle_the_data_rule_out_never_survives() -> None:
    def loglik(z: np.ndarray) -> np.ndarray:
        return np.where(z[:, 0] > 0, 0.0, -np.inf)

    z0 = np.random.default_rng(4).standard_normal((100, 2))
    last = list(tempered_smc(loglik, z0, SMCSettings(particles=100, moves=2), seed=1))[-1]
    assert (last.z[:, 0] > 0).all()
