"""Run folders: one per run id, written whole, read back by the report and `open_run` only."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import CliResult
from detente.errors import InputError
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML
from detente.report.rundir import load_run
from detente.runs import RunDir, find_run, open_run


@pytest.fixture()
def synthetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The synthetic scenario file, its closed-form model, and the test folder as cwd."""
    monkeypatch.setenv("DETENTE_MODEL", "detente.experiments.testing:synthetic_model")
    monkeypatch.delenv("DETENTE_SCHEDULER", raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "mine.yaml"
    path.write_text(SYNTHETIC_SCENARIO_YAML)
    return path


def _latest(out: Path) -> str:
    return (out / "latest").read_text().strip()


def test_report_of_the_first_run_after_a_second_run_shows_the_first_runs_numbers(
    synthetic: Path, run_cli
) -> None:  # type: ignore[no-untyped-def]
    out = Path("detente-out")
    first: CliResult = run_cli("run", str(synthetic), "--states", "24", "--worlds", "16")
    assert first.exit_code == 0, first.stderr
    first_id = _latest(out)
    first_dir = out / "runs" / first_id
    first_report = (first_dir / "report.html").read_bytes()
    first_comparison = pd.read_csv(first_dir / "comparison.csv")

    second = run_cli("run", str(synthetic), "--quick")  # 12 states x 32 worlds
    assert second.exit_code == 0, second.stderr
    second_id = _latest(out)
    assert second_id != first_id
    # the second run did not touch the first run's files, its report included
    assert (first_dir / "report.html").read_bytes() == first_report
    assert (out / "report.html").read_bytes() == (out / "runs" / second_id / "report.html").read_bytes()
    second_comparison = pd.read_csv(out / "runs" / second_id / "comparison.csv")
    assert not second_comparison["mean"].equals(first_comparison["mean"])

    inputs, _ = load_run(out, first_id)
    assert inputs.run_id == first_id and inputs.method["states"] == 24
    pd.testing.assert_frame_equal(inputs.comparison, first_comparison)
    assert "lead on" in inputs.drivers_label  # the run's own drivers, not a recomputation

    rebuilt = run_cli("report", first_id, "--out", "first.html")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert Path("first.html").read_bytes() == first_report  # same run, same report, byte for byte
    assert "<td>24</td>" in Path("first.html").read_text()
    # --run picks a run within a folder (a prefix will do); the default is the latest
    assert load_run(out, first_id[:22])[0].run_id == first_id
    inputs, _ = load_run(out)
    assert inputs.run_id == second_id


def test_report_renders_the_stored_scenario_not_a_builtin_of_the_same_id(
    synthetic: Path, run_cli
) -> None:  # type: ignore[no-untyped-def]
    same_id = Path("iran-lookalike.yaml")
    same_id.write_text(
        SYNTHETIC_SCENARIO_YAML.replace("id: synthetic", "id: us-iran-2001").replace(
            "title: Synthetic two-country test scenario", "title: My own reading of 2001"
        )
    )
    new_id = Path("fresh.yaml")
    new_id.write_text(
        SYNTHETIC_SCENARIO_YAML.replace("id: synthetic", "id: a-case-never-seen").replace(
            "description: A toy system", "description: A hand-written case about fishing rights, a toy system"
        )
    )
    for path, wanted, unwanted in (
        (same_id, "My own reading of 2001", "U.S.–Iran"),
        (new_id, "fishing rights", None),
    ):
        res = run_cli("compare", str(path), "--states", "8", "--worlds", "16", "--out", "o", "--json")
        assert res.exit_code == 0, res.stderr
        payload = json.loads(res.stdout)
        run = open_run("o", payload["run_id"])
        assert run.scenario_text == path.read_text()  # the exact text, not a reload by id
        assert run.info["scenario_sha256"] == payload["scenario_sha256"]
        path.unlink()  # the report must not need the file any more
        report = run_cli("report", "o", "--run", payload["run_id"])
        assert report.exit_code == 0, report.stderr
        html = Path(report.stdout.strip()).read_text()
        assert wanted in html
        assert '<section id="scenario">' in html
        if unwanted:
            assert unwanted not in html


def test_a_changed_stored_scenario_is_refused_in_one_line(synthetic: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("compare", str(synthetic), "--states", "6", "--worlds", "8").exit_code == 0
    stored = Path("detente-out/runs", _latest(Path("detente-out")), "scenario.yaml")
    stored.write_text(stored.read_text().replace("Synthetic", "Edited"))
    res = run_cli("report")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "scenario.yaml" in lines[0] and "SHA-256" in lines[0]


def test_report_leaves_out_what_the_run_did_not_store_and_never_simulates(
    synthetic: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import detente.sim

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the report ran the simulator")

    monkeypatch.setattr(detente.sim, "simulate", refuse)
    monkeypatch.setattr(detente.sim, "trajectory_quantiles", refuse)
    assert run_cli("compare", str(synthetic), "--states", "8", "--worlds", "8").exit_code == 0
    inputs, _ = load_run(None)
    assert inputs.quantiles is None
    assert any("stored no trajectories" in c for c in inputs.caveats)


def test_explore_and_sensitivity_get_their_own_run_folders(synthetic: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    res = run_cli("explore", str(synthetic), "--strategy", "engagement", "--outcome", "cost > 0.3",
                  "--states", "60", "--worlds", "8", "--json")
    assert res.exit_code == 0, res.stderr
    explore = open_run(None, json.loads(res.stdout)["run_id"])
    assert explore.kind == "explore" and explore.prim_box is not None
    assert explore.comparison is None and explore.discovery["outcome"] == "cost > 0.3"
    res = run_cli("sensitivity", str(synthetic), "--strategy", "engagement", "--outcome", "cost",
                  "--method", "morris", "--n", "4", "--worlds", "8", "--json")
    assert res.exit_code == 0, res.stderr
    sens = open_run()
    assert sens.kind == "sensitivity" and sens.run_id == json.loads(res.stdout)["run_id"]
    assert list(sens.sensitivity.columns) == ["parameter", "mu_star", "mu_star_conf", "sigma"]
    assert explore.path.is_dir()  # the later run did not replace the earlier one
    inputs, _ = load_run(None)  # the latest run: the sensitivity analysis, its indices only
    assert inputs.sensitivity is not None and inputs.comparison is None


def test_run_folder_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    class Boom(pd.DataFrame):
        def to_csv(self, *args: object, **kwargs: object) -> str:  # type: ignore[override]
            raise OSError(28, "No space left on device")

    RunDir.write(tmp_path, "run-a", {"run.json": {"run_id": "run-a"}, "x.csv": pd.DataFrame({"v": [1]})})
    with pytest.raises(InputError, match="cannot write the run directory: no space left on device"):
        RunDir.write(tmp_path, "run-a", {"run.json": {"run_id": "run-a"}, "x.csv": Boom({"v": [2]})})
    with pytest.raises(InputError, match="cannot write the run directory"):
        RunDir.write(tmp_path, "run-b", {"run.json": {"run_id": "run-b"}, "x.csv": Boom({"v": [2]})})
    runs = tmp_path / "runs"
    assert sorted(p.name for p in runs.iterdir()) == ["run-a"]  # no staging folder left
    assert (runs / "run-a" / "x.csv").read_text() == "v\n1\n"  # the earlier copy survives
    assert (tmp_path / "latest").read_text() == "run-a\n"


def test_find_run_names_each_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="no run has been stored here yet"):
        find_run()
    old = tmp_path / "old-layout"
    old.mkdir()
    (old / "results.duckdb").write_bytes(b"")
    with pytest.raises(InputError, match="older detente"):
        find_run(old)
    for name in ("compare-x-1", "compare-x-2"):
        RunDir.write(tmp_path / "o", name, {"run.json": {"run_id": name}})
    with pytest.raises(InputError, match="is ambiguous"):
        find_run(tmp_path / "o", "compare-x")
    assert find_run(tmp_path / "o").run_id == "compare-x-2"  # latest
    assert find_run(tmp_path / "o" / "runs" / "compare-x-1").run_id == "compare-x-1"
    with pytest.raises(InputError, match="not of run"):
        find_run(tmp_path / "o" / "runs" / "compare-x-1", "compare-x-2")


def test_open_run_examples_run_as_doctests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import detente.runs.run

    monkeypatch.delenv("DETENTE_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(detente.runs.run, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0


def test_a_second_write_of_the_same_run_keeps_what_it_does_not_produce(tmp_path: Path) -> None:
    """`detente run` then `detente compare` with the same settings share a run id (same
    numbers): the compare must not delete the run's report, trajectories or discovery."""
    first = RunDir.write(
        tmp_path,
        "run-a",
        {
            "run.json": {"run_id": "run-a", "command": "run", "discovery": {"box": None}},
            "trajectories.csv": pd.DataFrame({"step": [0, 1]}),
            "report.html": "<html>first</html>",
        },
    )
    RunDir.write(
        tmp_path,
        "run-a",
        {"run.json": {"run_id": "run-a", "command": "compare"}, "comparison.csv": pd.DataFrame({"v": [1]})},
    )
    assert (first.path / "report.html").read_text() == "<html>first</html>"
    assert (first.path / "trajectories.csv").exists() and (first.path / "comparison.csv").exists()
    info = json.loads((first.path / "run.json").read_text())
    assert info["command"] == "compare" and info["discovery"] == {"box": None}
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name.startswith(".")]


def test_a_text_parsed_again_is_the_same_scenario_and_a_bad_one_is_refused_each_time() -> None:
    from detente.runs.scenario_text import scenario_from_text

    first = scenario_from_text(SYNTHETIC_SCENARIO_YAML, "a.yaml")
    assert scenario_from_text(SYNTHETIC_SCENARIO_YAML, "b.yaml") is first
    changed = SYNTHETIC_SCENARIO_YAML.replace("title:", "title: changed", 1)
    assert scenario_from_text(changed, "c.yaml") is not first
    bad = SYNTHETIC_SCENARIO_YAML + "\nunknown_section: 1\n"
    for src in ("first.yaml", "second.yaml"):
        with pytest.raises(InputError, match=src):
            scenario_from_text(bad, src)


def test_the_code_version_covers_a_module_by_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from detente.experiments.runner import _CODE_PACKAGES
    from detente.source_digest import source_digest

    assert {"detente.metrics", "detente.experiments.chunks"} <= set(_CODE_PACKAGES)
    pkg = tmp_path / "digestpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "outcomes.py").write_text("A = 1\n")
    (pkg / "other.py").write_text("B = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = source_digest(["digestpkg.outcomes"])
    (pkg / "other.py").write_text("B = 2\n")
    assert source_digest(["digestpkg.outcomes"]) == first  # a sibling does not count
    (pkg / "outcomes.py").write_text("A = 2\n")
    assert source_digest(["digestpkg.outcomes"]) != first
