"""States of the world drawn from a calibrated posterior (``--posterior RUN``).

``compare``, ``explore`` and ``run`` sample their states from the scenario's ranges (the
prior) unless given a calibration or hindcast run: then the states are drawn from that run's
posterior particles (:meth:`detente.calibration.posterior.Posterior.sample_states`). This
module finds the run, checks that its posterior belongs to the scenario being run, and draws
the states in the column order the prior sampler uses, so the rest of an experiment cannot
tell where its states came from. It also words the one sentence every output uses to say
so.

Checks (each one line, exit 2): the run is unknown or of another kind
(:func:`detente.calibration.stored.load_posterior`), the posterior is of another scenario,
or its uncertainties (by name) are not this scenario's (the scenario file changed since the
calibration).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from detente.calibration.posterior import Posterior
from detente.errors import InputError, InputProblem
from detente.runs.directory import DEFAULT_ROOT, RUNS
from detente.scenario import Scenario, uncertainties
from detente.scenario.uncertainty import HISTORY_PREFIX

OPTION = "--posterior"
#: Names listed in a "missing/extra uncertainties" message before "...".
LISTED = 3


@dataclass(frozen=True)
class PosteriorSource:
    """The posterior an experiment draws its states from, and how to say so.

    Attributes
    ----------
    posterior : Posterior
    ref : str
        What the user gave (``--posterior RUN``), for messages.
    folder : Path
        The posterior run's folder (the report reads its tables from there).
    """

    posterior: Posterior
    ref: str
    folder: Path

    @property
    def settings(self) -> dict[str, str]:
        """What a run records about its posterior (in its settings, hence its id, and in
        ``run.json``)."""
        return {
            "posterior_run_id": self.posterior.run_id,
            "posterior_sha256": self.posterior.content_sha256,
        }

    @property
    def record(self) -> dict[str, Any]:
        """``run.json`` keys: the run's id and content hash, its cut-off and the sentence."""
        return {
            **self.settings,
            "posterior_until": self.posterior.until,
            "posterior_run_dir": str(self.folder),
            "states_from": states_phrase(self.posterior.run_id, self.posterior.until),
        }

    def draw(self, scenario: Scenario, n: int, seed: int) -> pd.DataFrame:
        """``n`` states drawn from the posterior, columns in the scenario's uncertainty order
        (the order of :func:`detente.experiments.sampling.sample_states`)."""
        drawn = self.posterior.sample_states(n, seed)
        return drawn[[p.name for p in uncertainties(scenario)]].copy()  # one block, not 890


def states_phrase(run_id: str, until: str) -> str:
    """``"states drawn from the posterior of calibration run <id> (observations up to
    <until>)"``: the words the terminal, the summary and the report share."""
    cut = f" (observations up to {until})" if until else ""
    return f"states drawn from the posterior of calibration run {run_id}{cut}"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return f"{len(names)} ({shown}{', ...' if len(names) > LISTED else ''})"


def check_posterior(scenario: Scenario, posterior: Posterior, ref: str) -> None:
    """The posterior must be the scenario's, over the same uncertainties (by name).

    Raises
    ------
    InputError
        One line: the posterior is of another scenario, or which uncertainties the
        scenario has that the posterior lacks (missing) and the reverse (extra), a few
        names and the count of each.
    """
    where = f"{OPTION} {ref}"
    if posterior.scenario_id != scenario.id:
        raise InputError.single(
            where,
            f"run {posterior.run_id} calibrated scenario {posterior.scenario_id!r}, "
            f"not {scenario.id!r}; calibrate this scenario first",
        )
    columns = [str(c) for c in posterior.values.columns]
    with_history = any(c.startswith(HISTORY_PREFIX) for c in columns)
    expected = [p.name for p in uncertainties(scenario, history=with_history)]
    missing = [n for n in expected if n not in set(columns)]
    extra = [c for c in columns if c not in set(expected)]
    if missing or extra:
        parts = ([f"missing {_names(missing)}"] if missing else []) + (
            [f"extra {_names(extra)}"] if extra else []
        )
        raise InputError.single(
            where,
            f"the posterior of run {posterior.run_id} is over other uncertainties than "
            f"scenario {scenario.id!r} has now ({'; '.join(parts)}); the scenario changed "
            "since the calibration: calibrate it again",
        )


def posterior_source(
    scenario: Scenario, ref: str | Path, out: str | Path | None
) -> PosteriorSource:
    """Load the posterior ``ref`` names (a run id or prefix under ``out``, or a run folder)
    and check it against ``scenario`` (:func:`check_posterior`)."""
    from detente.calibration.stored import load_posterior

    try:
        posterior = load_posterior(ref, out)
    except InputError as exc:  # name the option the user gave, whatever folder was searched
        raise InputError(
            [
                InputProblem(
                    f"{OPTION} {ref}",
                    p.message if p.source == OPTION else f"{p.source}: {p.message}",
                )
                for p in exc.problems
            ]
        ) from None
    check_posterior(scenario, posterior, str(ref))
    given = Path(ref)
    folder = given if given.is_dir() else Path(out or DEFAULT_ROOT) / RUNS / posterior.run_id
    return PosteriorSource(posterior, str(ref), folder.resolve())


__all__ = ["PosteriorSource", "check_posterior", "posterior_source", "states_phrase"]
