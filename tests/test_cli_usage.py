"""Usage errors: one line on stderr and exit code 2, whatever typer/click version is installed.

The cases are the misuses a newcomer makes on a fresh install. They run in-process through
:func:`detente.cli.main` (fast) and, once, all together through the installed console script:
that is the path that printed 34-59 line tracebacks when typer started vendoring click.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CliResult

MISUSES: list[tuple[list[str], str]] = [
    ([], "no command given"),
    (["simulate", "us-iran-2001", "--worlds", "10"], "--strategy"),
    (["simulate", "us-iran-2001", "--strategy", "containment", "--wrolds", "10"], "--wrolds"),
    (["simulate", "us-iran-2001", "--strategy", "containment", "--worlds", "abc"], "--worlds"),
    (["run", "--states", "1.5"], "--states"),
    (["forecast", "emission-standards-1994", "--rounds", "-1"], "--rounds"),
    (["export"], "--out"),
    (["simlate"], "simulate"),
    (["backtest"], "backtest"),
    (["validate"], "SCENARIO"),  # named as in the usage line
]


def _check_one_line(result: CliResult, needle: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: <command line>: detente")
    assert needle in lines[0]


@pytest.mark.parametrize(("args", "needle"), MISUSES, ids=[" ".join(a) or "-" for a, _ in MISUSES])
def test_usage_error_in_process(args: list[str], needle: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    _check_one_line(run_cli(*args), needle)


def test_misspelt_command_suggests_the_right_one(run_cli) -> None:  # type: ignore[no-untyped-def]
    line = run_cli("simlate").stderr.strip()
    assert "Did you mean 'simulate'" in line


def test_help_still_exits_zero(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "simulate" in result.stdout


#: One misuse of each kind click raises (no command, missing option, unknown option, bad value,
#: unknown command) through the real script; the in-process test above covers every case.
CONSOLE_SAMPLE = [MISUSES[i] for i in (0, 1, 2, 3, 7)]


def test_usage_errors_through_the_console_script() -> None:
    """A sample of the misuses, run by the installed ``detente`` script, all at once."""
    script = Path(sys.executable).with_name("detente")
    if not script.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    procs = [
        (args, needle, subprocess.Popen(
            [str(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ))
        for args, needle in CONSOLE_SAMPLE
    ]
    for _args, needle, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode is not None
        _check_one_line(CliResult(proc.returncode, out, err), needle)


def test_interrupt_exits_130_and_says_how_to_resume(run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C inside a resumable command: exit 130 and one line naming --resume (was exit 0)."""
    import detente.experiments.jobs as jobs

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(jobs, "load_scenario_with_text", interrupted)
    result = run_cli("compare", "us-iran-2001", "--states", "2", "--worlds", "2")
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines() == [
        "interrupted: finished chunks are kept in the results database; "
        "rerun the same command with --resume to continue"
    ]


def test_exit_raised_inside_a_command_is_not_success(run_cli, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A ``typer.Exit(1)`` inside a command used to be swallowed (exit 0)."""
    monkeypatch.setenv("DETENTE_MODEL", "nosuch:fn")
    result = run_cli(
        "compare", "us-iran-2001", "--states", "2", "--worlds", "2", "--db",
        str(tmp_path / "r.duckdb"),
    )
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: $DETENTE_MODEL: cannot load the model 'nosuch:fn'")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["backtest", "deu", ""], ["validate", " "], ["export", "--out", ""]])
def test_empty_arguments_are_refused_not_read_as_here(args, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(*args)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: <command line>: argument ") and "is empty" in line


INTERRUPTED_IMPORT = """
import sys

class InterruptTheCommandLine:
    # a Ctrl-C arriving while detente.cli (Typer, Rich, the command groups) is imported
    def find_spec(self, name, path=None, target=None):
        if name == "detente.cli":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, InterruptTheCommandLine())
from detente.__main__ import main
main()
"""


def test_interrupt_while_the_command_line_imports_exits_130() -> None:
    """The console script's entry catches Ctrl-C during its imports: no traceback."""
    proc = subprocess.run([sys.executable, "-c", INTERRUPTED_IMPORT], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 130
    assert proc.stderr.strip().splitlines() == ["interrupted"]


def test_console_script_enters_through_the_guarded_entry() -> None:
    """pyproject's ``detente`` script is the entry that guards the import."""
    import tomllib

    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
    assert scripts["detente"] == "detente.__main__:main"
