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


def make_design(out: Path) -> str:
    """A small design run of the synthetic ZDT1 problem next to the other runs in ``out``;
    its id.

    The search runs ``detente.experiments.testing.design_model`` (ZDT1 in the ``step`` and
    ``threshold`` of strategy ``engage``) on ``tests/data/mini-system.yaml``, a scenario the
    real engine also runs, so the what-if can play the designs it finds.
    """
    from detente.design.job import design

    text = (Path(__file__).parent / "data" / "mini-system.yaml").read_text()
    text = text.replace("metrics:\n", "metrics:\n  - {id: f1, direction: minimize}\n"
                        "  - {id: f2, direction: minimize}\n"
                        "  - {id: dialogue, direction: maximize}\n", 1)
    text += ("levers:\n  - strategy: engage\n    judgment: ZDT1's two variables\n"
             "    params:\n      step: {low: 0.0001, high: 1.0}\n"
             "      threshold: {low: 0.0, high: 1.0}\n")
    scenario = out.parent / "mini-design.yaml"
    scenario.write_text(text)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DETENTE_MODEL", "detente.experiments.testing:design_model")
        mp.delenv("DETENTE_SCHEDULER", raising=False)
        result = design(scenario, strategy="engage", out=out, progress=False, states=4,
                        worlds=4, population=8, generations=3, fresh=4,
                        objective_metrics=["f1", "f2"])
    return result.run_id
