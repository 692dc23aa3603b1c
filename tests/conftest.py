"""Shared test helpers: paths to the reference data and an in-process CLI runner."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The reference data shipped inside the package (a copy of the project's ../shared/data).
SHARED_DATA = REPO / "src" / "detente" / "data" / "reference"


@dataclass
class CliResult:
    """Exit code and captured streams of one CLI invocation."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def shared_data() -> Path:
    """The read-only reference data directory shipped with the package."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


def invoke_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> CliResult:
    """Run ``detente ARGS`` in-process through the real entry point (exit codes included)."""
    from detente.cli import main

    monkeypatch.setattr(sys, "argv", ["detente", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return CliResult(code, out, err)


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """``run_cli("validate", path)``: :func:`invoke_cli` bound to this test's fixtures."""

    def run(*args: str) -> CliResult:
        return invoke_cli(list(args), capsys, monkeypatch)

    return run


@pytest.fixture()
def synthetic_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A user's own scenario run by the synthetic model ($DETENTE_MODEL), in-process, in a
    temporary working directory: the path of its YAML file."""
    from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML

    monkeypatch.setenv("DETENTE_MODEL", "detente.experiments.testing:synthetic_model")
    monkeypatch.delenv("DETENTE_SCHEDULER", raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "mine.yaml"
    path.write_text(SYNTHETIC_SCENARIO_YAML)
    return str(path)
