"""Calibration: what a scenario's recorded history teaches about its uncertain numbers.

``detente calibrate`` (:func:`~detente.calibration.job.calibrate`) replays the policy
actually followed over states drawn from the scenario's ranges and weighs them by how
probable they make the observations up to a cut-off (docs/history.md), with an adaptive
tempered SMC sampler (:mod:`detente.calibration.smc`). The posterior
(:class:`~detente.calibration.posterior.Posterior`) feeds ``--posterior`` runs and the
hindcast.
"""

from detente.calibration.cutoff import observations_after, observations_until, parse_cutoff
from detente.calibration.posterior import Posterior, learned
from detente.calibration.smc import SMCSettings, tempered_smc
from detente.calibration.stored import load_posterior

__all__ = [
    "Posterior",
    "SMCSettings",
    "learned",
    "load_posterior",
    "observations_after",
    "observations_until",
    "parse_cutoff",
    "tempered_smc",
]
