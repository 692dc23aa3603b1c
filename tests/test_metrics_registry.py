"""The one registry of metrics (detente.metrics): the engine, the summaries, validate and the
docs agree with it, and the summaries it builds are the ones the former hand-written code made."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from numpy.typing import NDArray

from detente.metrics import (
    REGISTRY,
    binary_metrics,
    markdown_table,
    metric,
    metrics_for,
    step_metrics,
)
from detente.scenario import load_scenario
from detente.scenario.schema import BINARY_METRICS, SIMULATED_METRICS
from detente.sim import engine
from detente.sim.api import chunk_summary, iter_chunks, summarize
from detente.sim.checks import scenario_warnings
from detente.sim.engine import ChunkResult, reported_metrics
from detente.sim.system import ISSUE_ROLES, REPORTED_ROLES, System

ROOT = Path(__file__).resolve().parents[1]
FORMAT_DOC = ROOT / "docs" / "scenario-format.md"
MODEL_DOC = ROOT / "docs" / "model.md"


def _doc_example() -> dict[str, Any]:
    text = FORMAT_DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- example: system -->\s*```yaml\n(.*?)```", text, re.S)
    assert m, "no system example in docs/scenario-format.md"
    data = yaml.safe_load(m.group(1))
    assert isinstance(data, dict)
    return data


def _former_chunk_summary(res: ChunkResult, system: System) -> dict[str, NDArray[np.float64]]:
    """The per-world summaries as written by hand before the registry (frozen reference)."""
    out: dict[str, NDArray[np.float64]] = {}
    reported = reported_metrics(system)
    for m in reported:
        out[m] = res.metrics[m][:, -1].astype(np.float64)
    out["time_to_reciprocation"] = res.time_to_reciprocation.astype(np.float64)
    out["max_unreciprocated"] = res.metrics["unreciprocated"].max(axis=1).astype(np.float64)
    out["max_focal_domestic_cost"] = res.metrics["focal_domestic_cost"].max(axis=1).astype(np.float64)
    if "reform_share" in reported:
        out["mean_reform_share"] = res.metrics["reform_share"].mean(axis=1).astype(np.float64)
        out["min_reform_share"] = res.metrics["reform_share"].min(axis=1).astype(np.float64)
    rap = res.metrics["rapprochement"] > 0.5
    out["time_to_rapprochement"] = np.where(
        rap.any(axis=1), rap.argmax(axis=1) + 1, system.horizon + 1
    ).astype(np.float64)
    out["backlash_events"] = res.backlash_events.astype(np.float64)
    return out


def test_engine_records_exactly_the_registry_step_metrics() -> None:
    (system, _, res), *_ = iter_chunks(load_scenario("us-iran-2001"), "containment", 16, 1)
    assert tuple(res.metrics) == step_metrics() == engine.METRICS
    # the flagship has every role, so it gets every metric and every summary
    assert reported_metrics(system) == step_metrics()
    assert list(summarize(load_scenario("us-iran-2001"), "containment", 16, 1)) == [
        m.id for m in REGISTRY
    ]


def test_engine_refuses_a_registry_it_does_not_match(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "METRICS", (*engine.METRICS, "iran_integration"))
    with pytest.raises(RuntimeError, match="iran_integration"):
        list(iter_chunks(load_scenario("us-iran-2001"), "containment", 16, 1))


def test_former_lists_are_views_of_the_registry() -> None:
    assert step_metrics() == SIMULATED_METRICS
    assert binary_metrics() == BINARY_METRICS
    assert set(BINARY_METRICS) == {"legislature_reform_majority", "presidency_reform", "rapprochement"}
    assert len({m.id for m in REGISTRY}) == len(REGISTRY)


def test_needs_name_scenario_roles_and_summaries_name_step_metrics() -> None:
    for m in REGISTRY:
        if m.needs is not None and m.needs.kind == "issue":
            assert m.needs.role in ISSUE_ROLES, m.id
        if m.needs is not None and m.needs.kind == "institution":
            assert m.needs.role in REPORTED_ROLES, m.id
        assert (m.source != "") == (m.rule in ("max", "mean", "min", "first_step")), m.id
        if m.source:
            assert metric(m.source).rule == "step", m.id
    with pytest.raises(KeyError, match="not a metric of the registry"):
        metric("iran_integration")


@pytest.mark.parametrize("which", ["flagship", "doc"])
def test_registry_summaries_equal_the_former_code(which: str, tmp_path: Path) -> None:
    if which == "flagship":
        sc, strategy = load_scenario("us-iran-2001"), "moderate-engagement"
    else:
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump(_doc_example(), sort_keys=False), encoding="utf-8")
        sc, strategy = load_scenario(path), "grit"
    for system, _, res in iter_chunks(sc, strategy, 32, 7, chunk=16):
        new, old = chunk_summary(res, system), _former_chunk_summary(res, system)
        assert list(new) == list(old)  # same columns in the same order
        for k in old:
            assert new[k].dtype == old[k].dtype and np.array_equal(new[k], old[k]), k


def test_a_scenario_without_a_role_gets_neither_the_metric_nor_its_summaries(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_doc_example(), sort_keys=False), encoding="utf-8")
    (system, _, _), *_ = iter_chunks(load_scenario(path), "grit", 16, 0)
    got = {m.id for m in metrics_for(system, ("step", "world", "max", "mean", "min", "first_step"))}
    assert "terror_support" not in got and system.roles["terror"] < 0
    assert {"sanctions", "dialogue", "time_to_rapprochement"} <= got


def test_validate_says_a_declared_metric_is_no_registry_metric(tmp_path: Path) -> None:
    data = _doc_example()
    data["metrics"].append({"id": "north_integration", "direction": "maximize"})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    ws = [str(w) for w in scenario_warnings(load_scenario(path), str(path))]
    (w,) = [w for w in ws if "metrics[north_integration]" in w]
    assert "no metric of the registry" in w and w.endswith("is never compared")


def test_flagship_declares_only_metrics_it_gets_with_the_registry_direction() -> None:
    sc = load_scenario("us-iran-2001")
    ws = [str(w) for w in scenario_warnings(sc, "us-iran-2001") if "metrics[" in str(w)]
    assert not ws, ws
    for m in sc.metrics:
        assert m.direction == metric(m.id).direction, m.id


def test_model_doc_lists_the_registry() -> None:
    text = MODEL_DOC.read_text(encoding="utf-8")
    assert markdown_table() in text, "docs/model.md 'Metrics': paste metrics.markdown_table()"
    for m in REGISTRY:
        assert f"| `{m.id}` |" in text
