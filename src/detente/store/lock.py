"""The results database's sidecar lock: who holds it, how long to wait, what to say.

Every access to a results database holds an exclusive ``fcntl`` lock on
``<database>.lock``. The holder writes who it is into that file (pid, host, command, since
when) and empties it on release, so a process that has to wait can say at once, on
stderr, whom it waits for. The wait is bounded by ``$DETENTE_LOCK_TIMEOUT`` seconds
(default 300); at the end comes a one-line :class:`~detente.errors.InputError` naming the
database and the holder. The kernel drops the lock when its holder dies (even on
``kill -9``); a record left behind then is overwritten by the next holder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import math
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from detente.errors import InputError
from detente.fileio import os_error, shown

LOCK_TIMEOUT_ENV = "DETENTE_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 300.0
NOTICE_AFTER = 0.5
"""Seconds of waiting before the notice is printed (turn-taking between runs is shorter)."""


def lock_timeout(explicit: float | None = None) -> float:
    """Seconds to wait for a held database: ``explicit``, else ``$DETENTE_LOCK_TIMEOUT``."""
    if explicit is not None:
        return explicit
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InputError.single(f"${LOCK_TIMEOUT_ENV}", f"{raw!r} is not a number of seconds >= 0")
    return value


def lock_path(database: Path) -> Path:
    """The sidecar lock file of a database."""
    return database.with_name(database.name + ".lock")


@dataclass(frozen=True)
class LockHolder:
    """Who holds a database's lock, as its holder wrote it down."""

    pid: int
    host: str
    command: str
    since: str

    def __str__(self) -> str:
        here = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"pid {self.pid}{here} ({self.command}), since {self.since}"


def read_holder(path: Path) -> LockHolder | None:
    """The holder recorded in a lock file, or None when it records none (or is unreadable)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return LockHolder(
            int(record["pid"]), str(record["host"]), str(record["command"]), str(record["since"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


PROC_LOCKS = Path("/proc/locks")


def flock_holder_pid(path: Path, locks: Path = PROC_LOCKS) -> int | None:
    """The pid the kernel lists as holding an ``flock`` on ``path`` (Linux), else None.

    A holder that did not write its record (another program, or a detente too old to write
    one) is still named: ``/proc/locks`` lists each lock as ``FLOCK ADVISORY WRITE PID
    MAJOR:MINOR:INODE ...`` (device numbers in hexadecimal).
    """
    try:
        info = path.stat()
        lines = locks.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return None
    wanted = (os.major(info.st_dev), os.minor(info.st_dev), info.st_ino)
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK" or "->" in fields:
            continue
        try:
            major, minor, inode = fields[5].split(":")
            if (int(major, 16), int(minor, 16), int(inode)) == wanted:
                return int(fields[4])
        except ValueError:
            continue
    return None


def describe_holder(path: Path) -> str:
    """Who holds a lock file: its record, else the pid the kernel lists, else 'another process'."""
    recorded = read_holder(path)
    if recorded is not None:
        return str(recorded)
    pid = flock_holder_pid(path)
    return f"another process (pid {pid})" if pid is not None else "another process"


def _record_self(fd: int) -> None:
    argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else ["python"]
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join(argv)[:200],
        "since": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)


def say_on_stderr(message: str) -> None:
    """Default notice: one line on stderr."""
    print(message, file=sys.stderr, flush=True)


def waiting_notice(database: Path, holder: object, timeout: float) -> str:
    """The line printed when a database is held by someone else."""
    return (
        f"note: {shown(database)} is in use by {holder}; waiting up to {timeout:g} s "
        f"(set {LOCK_TIMEOUT_ENV}=SECONDS to change)"
    )


def timeout_error(database: Path, holder: object, timeout: float) -> InputError:
    """The error when the wait ends without the database coming free."""
    return InputError.single(
        shown(database),
        f"still in use after {timeout:g} s by {holder}; expected it to be free: let that "
        f"run finish or stop it, or wait longer with {LOCK_TIMEOUT_ENV}=SECONDS",
    )


@contextlib.contextmanager
def exclusive(
    database: Path, timeout: float, notify: Callable[[str], None] = say_on_stderr
) -> Iterator[float]:
    """Hold the database's sidecar lock; yields the deadline (``time.monotonic()``).

    Raises
    ------
    InputError
        When the lock file cannot be opened, or another process holds the lock for
        longer than ``timeout`` seconds.
    """
    path = lock_path(database)
    try:
        # unbuffered: a full disk must not fail a later flush, e.g. on close
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise os_error(path, "open the lock file", exc) from None
    try:
        start = time.monotonic()
        deadline = start + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if now > deadline:
                    raise timeout_error(database, describe_holder(path), timeout) from None
                if not told and now - start >= min(NOTICE_AFTER, timeout):
                    notify(waiting_notice(database, describe_holder(path), timeout))
                    told = True
                time.sleep(0.02)
        try:
            with contextlib.suppress(OSError):  # the record is a courtesy, not a need
                _record_self(fd)
            yield deadline
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
