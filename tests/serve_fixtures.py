"""Stored runs for the ``detente serve`` tests: the synthetic model's explore and compare runs.

The synthetic model (:mod:`detente.experiments.testing`) answers in closed form, so making
both runs takes about a second; the page reads them as it reads any run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from detente.experiments import jobs
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML


@dataclass(frozen=True)
class StoredRuns:
    """The results database and the ids of the runs in its folder."""

    db: Path
    explore_id: str
    compare_id: str


def make_runs(folder: Path) -> StoredRuns:
    """An explore run (engagement, ``rapprochement > 0.4``) and a compare run in ``folder``."""
    scenario = folder / "synthetic.yaml"
    scenario.write_text(SYNTHETIC_SCENARIO_YAML)
    out = folder / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DETENTE_MODEL", "detente.experiments.testing:synthetic_model")
        mp.delenv("DETENTE_SCHEDULER", raising=False)
        explored = jobs.explore(scenario, strategy="engagement", outcome="rapprochement > 0.4",
                                states=120, worlds=16, out=out, progress=False)
        compared = jobs.compare(scenario, states=20, worlds=16, out=out, progress=False)
    return StoredRuns(out / "results.duckdb", explored.run_id, compared.run_id)
