"""The ``detente`` command line (Typer + Rich).

Each group of commands lives in its own module exposing ``register(app)``; this module
builds the app and turns every :class:`~detente.errors.InputError` into one line per problem
on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import typer
from rich.console import Console

from detente.errors import InputError

app = typer.Typer(
    name="detente",
    help="Turn a foreign-policy argument into a model you can run, question and stress-test.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def report_input_error(exc: InputError) -> None:
    """Print one line per problem to stderr."""
    for problem in exc.problems:
        err_console.print(f"error: {problem}", markup=False)


def _registrars() -> list[Callable[[typer.Typer], None]]:
    from detente.cli import scenario_cmds

    found: list[Callable[[typer.Typer], None]] = [scenario_cmds.register]
    for name in ("forecast_cmds", "sim_cmds", "experiment_cmds", "report_cmds"):
        try:
            module = __import__(f"detente.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"detente.cli.{name}":
                raise
            continue
        found.append(module.register)
    return found


for _register in _registrars():
    _register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app(standalone_mode=False)
    except InputError as exc:
        report_input_error(exc)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted; finished work is kept (rerun with --resume to continue)")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
