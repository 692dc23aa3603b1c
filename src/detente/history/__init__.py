"""History as a test: observations of a scenario evaluated on simulated worlds.

A scenario's ``history:`` section (docs/history.md) holds scripted policy, dated events and
dated observations; the scripts and events are run by the engine (:mod:`detente.sim`). This
package turns simulated worlds into the observations' values (:func:`observe`), scores them
against what was observed (:func:`observation_log_probabilities`, :func:`log_likelihood`)
and reads held-out observation files (:func:`load_observations`). These are the building
blocks calibration and hindcast call on batches of states.
"""

from detente.history.heldout import load_observations
from detente.history.observe import observation_kind, observe, observe_states
from detente.history.predictive import prior_predictive
from detente.history.scoring import log_likelihood, observation_log_probabilities

__all__ = [
    "load_observations",
    "log_likelihood",
    "observation_kind",
    "observation_log_probabilities",
    "observe",
    "observe_states",
    "prior_predictive",
]
