"""README's two opening commands are the ones CI and newcomers run."""

from __future__ import annotations

import re

from conftest import REPO


def _commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text, flags=re.S)[:2]


def test_readme_opens_with_run_and_test_commands() -> None:
    text = (REPO / "README.md").read_text()
    first_blocks = text.split("\n## ")[0]
    run, test = _commands()
    assert run in first_blocks and test in first_blocks
    assert run.endswith("detente run")
    assert "pytest" in test and "[test]" in test


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    _, test = _commands()
    pytest_cmd = test.rpartition(" && ")[2]
    assert pytest_cmd in ci
    assert "-c constraints.txt torch==2.13.0 -e '.[test]'" in ci


def test_readme_installs_from_the_constraints_file() -> None:
    for command in _commands():
        assert "pip install -c constraints.txt " in command
