"""The ``detente`` command line (Typer + Rich).

Each group of commands lives in its own module exposing ``register(app)``; this module
builds the app and turns every :class:`~detente.errors.InputError` into one line per problem
on stderr and exit code 2, and every usage error (unknown option, missing argument, a value
of the wrong type, whatever click typer vendors) into one line and exit code 2, never a
traceback; an interrupt exits 130 saying how to resume.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from detente.allocator import retain_freed_memory
from detente.errors import InputError, InstallError

app = typer.Typer(
    name="detente",
    help="Turn a foreign-policy argument into a model you can run, question and stress-test.",
    no_args_is_help=False,
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
    for name in (
        "forecast_cmds",
        "sim_cmds",
        "experiment_cmds",
        "report_cmds",
        "calibrate_cmds",
        "history_cmds",
        "ablation_cmds",
        "design_cmds",
        "serve_cmds",
    ):
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


def _click_exception_types() -> tuple[type[BaseException], ...]:
    """Click's usage-error base class from every click the installed typer may raise.

    Typer up to 0.15 raises the exceptions of the ``click`` package; later releases raise
    those of a vendored copy (``typer._click``). Catching both keeps usage errors on one line
    whatever version an install resolves.
    """
    found: list[type[BaseException]] = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(module).ClickException)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _abort_types() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [typer.Abort]
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(module).Abort)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _command_names() -> list[str]:
    return sorted(getattr(typer.main.get_command(app), "commands", {}))


def _takes_resume(argv: list[str]) -> bool:
    """Whether the command named on the command line has a ``--resume`` option."""
    command = typer.main.get_command(app)
    sub = getattr(command, "commands", {}).get(argv[0]) if argv else None
    return sub is not None and any(p.name == "resume" for p in sub.params)


def usage_line(exc: BaseException) -> str:
    """One line for a click/typer usage error: the command, what is wrong, where to look."""
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "detente"
    message = " ".join(str(exc.format_message()).split())  # type: ignore[attr-defined]
    if type(exc).__name__ == "NoArgsIsHelpError" or message.startswith("Missing command"):
        if ctx is not None and ctx.parent is None:
            message = "no command given; commands: " + ", ".join(_command_names())
        else:
            message = "missing a subcommand or arguments"
    return f"<command line>: {where}: {message} (see '{where} --help')"


def _exit_interrupted(argv: list[str]) -> NoReturn:
    if _takes_resume(argv):
        err_console.print(
            "interrupted: finished chunks are kept in the results database; "
            "rerun the same command with --resume to continue",
            markup=False,
        )
    else:
        err_console.print("interrupted", markup=False)
    sys.exit(130)


def main() -> None:
    """Console-script entry point: usage errors and bad input exit 2 with one line each.

    Exit codes: 0 success, 2 bad input or usage, 130 interrupted (Ctrl-C), 1 for a fault
    inside detente itself (one line naming it; ``DETENTE_DEBUG=1`` shows the traceback).
    """
    argv = sys.argv[1:]
    retain_freed_memory()  # the simulation chunks reuse each other's pages (detente.allocator)
    empty = [i for i, arg in enumerate(argv, 1) if not arg.strip()]
    if empty:
        # Typer turns '' into Path('.'): an empty file name would silently mean "here".
        err_console.print(
            f"error: <command line>: argument {empty[0]} is empty; expected a value "
            "(a scenario, a path, a number or an option)",
            markup=False,
        )
        sys.exit(2)
    try:
        returned = app(args=argv, prog_name="detente", standalone_mode=False)
    except InputError as exc:
        report_input_error(exc)
        sys.exit(2)
    except InstallError as exc:
        err_console.print(f"error: {exc}", markup=False)
        sys.exit(2)
    except KeyboardInterrupt:
        _exit_interrupted(argv)
    except typer.Exit as exc:
        returned = exc.exit_code
    except _abort_types():
        _exit_interrupted(argv)
    except _click_exception_types() as exc:
        err_console.print(f"error: {usage_line(exc)}", markup=False)
        sys.exit(2)
    except BrokenPipeError:
        # ``detente show ... | head``: the reader left; nothing more to say.
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        sys.exit(1)
    except MemoryError:
        err_console.print(
            "error: <command line>: out of memory; use fewer worlds or states per run",
            markup=False,
        )
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("DETENTE_DEBUG"):
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        err_console.print(
            f"internal error: {type(exc).__name__}: {exc} (at {Path(where.filename).name}:"
            f"{where.lineno}; a bug in detente - please report it; DETENTE_DEBUG=1 shows the "
            "traceback)",
            markup=False,
        )
        sys.exit(1)
    if isinstance(returned, int) and not isinstance(returned, bool) and returned != 0:
        if returned == 130:
            _exit_interrupted(argv)
        sys.exit(returned)
