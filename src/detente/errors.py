"""User-facing input errors.

Every problem with a user's input (a scenario file, an actor table, a command-line value)
is reported as one :class:`InputProblem` naming where it is and what was expected. Loaders
collect *all* problems of a file in one pass and raise a single :class:`InputError`; the CLI
prints one line per problem and exits with code 2, never a traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

_SCENARIO_SOURCE = re.compile(r"scenario [A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class InputProblem:
    """One problem in a user's input.

    Parameters
    ----------
    source : str
        The file (or ``"<command line>"``, ``"<built-in scenario NAME>"``) the problem is in.
    message : str
        What was found and what was expected, in one line.
    line, column : int, optional
        1-based position in a text file, when known.
    path : str, optional
        Field path inside a structured document (``actors[3].clout``), when known.
    """

    source: str
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.path:
            where += f": {self.path}"
        return f"{where}: {self.message}"


class InstallError(ImportError):
    """detente is not installed completely (its compiled kernels are missing); the CLI
    prints the message on one line and exits 2."""


class InputError(Exception):
    """One or more problems with a user's input; the CLI turns it into exit code 2."""

    def __init__(self, problems: Sequence[InputProblem]) -> None:
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems: tuple[InputProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def located(self, argument: str) -> InputError:
        """This error with every problem placed in ``scenario <id>`` moved to ``argument``.

        The engine knows a scenario only by its id; the command line knows the file (or
        built-in name) the user gave, which is what each line must name. A command runs one
        scenario, so every ``scenario <id>`` source is that one.
        """
        return InputError(
            [
                replace(p, source=argument) if _SCENARIO_SOURCE.fullmatch(p.source) else p
                for p in self.problems
            ]
        )

    @classmethod
    def single(cls, source: str, message: str, **where: int | str | None) -> InputError:
        """Build an error holding one problem."""
        return cls([InputProblem(source, message, **where)])  # type: ignore[arg-type]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``' (did you mean "x"?)'`` for the closest choice, or ``''`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


@contextmanager
def problems_named_after(argument: str) -> Iterator[None]:
    """Re-raise InputErrors with ``scenario <id>`` sources replaced by ``argument``."""
    try:
        yield
    except InputError as exc:
        raise exc.located(argument) from None
