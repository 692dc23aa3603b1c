"""What can be wrong with a results database file, told in one line.

:func:`check_database_path` refuses paths that can never hold a database (a directory, a
device, ``/proc``, a name too long) before anything is opened or created;
:func:`check_database_header` refuses an existing file that is not a DuckDB database
without handing it to DuckDB (which would, for a SQLite file, try to download an
extension); :func:`database_error` turns a DuckDB exception met while opening, reading or
writing into an :class:`~detente.errors.InputError` that says what is wrong (damaged,
truncated, written by an incompatible version, disk full) and what to do.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from detente.errors import InputError
from detente.fileio import check_output_file, check_path_length, os_error, shown

DUCKDB_MAGIC = b"DUCK"
_MAGIC_OFFSET = 8

# DuckDB reports operating-system failures with the system's own words.
_OS_REASONS = {
    "no space left on device": "write",
    "file too large": "write",
    "disk quota exceeded": "write",
    "read-only file system": "write",
    "permission denied": "read or write",
    "input/output error": "read or write",
}


def check_database_path(path: Path) -> None:
    """Refuse a path that cannot be a results database file.

    Raises
    ------
    InputError
        When the path is a directory, a device or other special file, lies under a
        directory that is a file, under ``/proc`` or ``/sys``, or has a name too long.
    """
    check_path_length(path)
    if os.path.isdir(path):
        raise InputError.single(
            shown(path),
            "is a directory; expected a results database file, e.g. "
            + shown(path / "results.duckdb"),
        )
    check_output_file(path)


def check_database_header(path: Path) -> None:
    """Refuse an existing, non-empty file whose header is not DuckDB's."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_MAGIC_OFFSET + len(DUCKDB_MAGIC))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise os_error(path, "read the results database", exc) from None
    if head[_MAGIC_OFFSET:] != DUCKDB_MAGIC:
        what = "is empty" if not head else "is not a DuckDB database"
        raise InputError.single(
            shown(path),
            f"{what}; expected a results database written by detente "
            "(move the file away or choose another --db)",
        )


def database_error(path: Path, exc: duckdb.Error) -> InputError | None:
    """The one-line InputError for a DuckDB failure on ``path``; None for a program error.

    Failures of the file (damage, truncation, an incompatible version) or of the system
    (disk full, permissions) are the user's to fix and get their own words; anything else
    (a SQL mistake in detente) is left to surface as the bug it is.
    """
    text = str(exc)
    low = text.lower()
    where = shown(path)
    for reason, doing in _OS_REASONS.items():
        if reason in low:
            return InputError.single(
                where,
                f"cannot {doing} the results database: {reason}; chunks finished "
                "before this are kept (fix the cause, then rerun with --resume)",
            )
    if "not a valid duckdb database" in low:
        return InputError.single(
            where, "is not a DuckDB database; expected a results database written by detente"
        )
    if "could not read enough bytes" in low:
        return InputError.single(
            where,
            "is damaged: the file is truncated (DuckDB found it shorter than its own index "
            "says); restore it from a copy or choose another --db",
        )
    if "corrupt database file" in low or "checksum" in low:
        return InputError.single(
            where,
            "is damaged: a block's checksum does not match (the file was altered or partly "
            "overwritten); restore it from a copy or choose another --db",
        )
    version = re.search(r"storage version number (\d+).*?versions? between (\d+) and (\d+)", text)
    if version or "incompatible" in low or "created with a newer version" in low:
        found = (
            f" (its storage version is {version[1]}; DuckDB {duckdb.__version__} reads "
            f"{version[2]} to {version[3]})"
            if version
            else ""
        )
        return InputError.single(
            where,
            f"was written by an incompatible DuckDB version{found}; open it with the "
            "DuckDB that wrote it, or choose another --db",
        )
    if "invalidated" in low:
        return InputError.single(
            where,
            "cannot be used after an earlier failure in this process (DuckDB: "
            f"{_first_line(text)}); rerun with --resume",
        )
    if isinstance(exc, duckdb.IOException | duckdb.FatalException):
        return InputError.single(
            where, f"cannot read or write the results database: {_first_line(text)}"
        )
    return None


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return re.sub(r"^[A-Za-z ]*Error: ", "", line)
