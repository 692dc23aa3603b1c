"""Safe file output: path checks and atomic writes that fail with one clear line.

Every file detente writes goes through :func:`atomic_target` (or the two helpers built on
it): the content is written to a temporary file in the target's directory, flushed to disk
(``fsync``) and renamed over the target, so a reader sees the old file or the new one,
never half of one. Any operating-system failure (disk full, file too large, permission
denied, a read-only file system) removes the temporary file and becomes an
:class:`~detente.errors.InputError` naming the path and the system's reason.

:func:`check_output_dir` and :func:`check_output_file` refuse, before anything is written,
paths that cannot work: a directory under a regular file, a directory where a file is
expected (or the reverse), a device, the kernel's ``/proc`` and ``/sys`` file systems, or
a name longer than the file system allows.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from detente.errors import InputError

PSEUDO_FILESYSTEMS = (Path("/proc"), Path("/sys"))
_SHOWN_MAX = 120


def shown(path: str | Path) -> str:
    """The path as printed in messages: very long paths are cut, keeping both ends."""
    text = str(path)
    if len(text) <= _SHOWN_MAX:
        return text
    return f"{text[:60]}...{text[-40:]} ({len(text)} characters)"


def os_reason(exc: OSError) -> str:
    """The system's reason for an OSError in lower case (``no space left on device``)."""
    if exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc).lower() or type(exc).__name__


def os_error(path: str | Path, doing: str, exc: OSError) -> InputError:
    """An InputError for an OSError met while ``doing`` something to ``path``."""
    return InputError.single(shown(path), f"cannot {doing}: {os_reason(exc)}")


def _name_max(directory: Path) -> int:
    """Longest file name allowed in the nearest existing ancestor of ``directory``."""
    probe = directory
    while not os.path.isdir(probe) and probe != probe.parent:
        probe = probe.parent
    try:
        return int(os.pathconf(probe, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def check_path_length(path: Path) -> None:
    """Refuse a path whose names, or whole, are longer than the file system allows."""
    limit = _name_max(path.parent)
    for part in path.parts:
        if len(part.encode("utf-8", "surrogateescape")) > limit:
            raise InputError.single(
                shown(path),
                f"a file name in this path is {len(part)} characters long; "
                f"the file system allows at most {limit}",
            )
    if len(os.fsencode(path)) >= 4096:
        raise InputError.single(
            shown(path), f"the path is {len(str(path))} characters long; at most 4095 work"
        )


def _check_pseudo(path: Path) -> None:
    absolute = Path(os.path.abspath(path))
    for root in PSEUDO_FILESYSTEMS:
        if absolute == root or root in absolute.parents:
            raise InputError.single(
                shown(path),
                f"is under {root}, a kernel file system that holds no user files; "
                "expected a path on a disk",
            )


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # an ancestor is a file: reported by _check_ancestors
    except OSError as exc:
        raise os_error(path, "look at it", exc) from None


def _check_ancestors(target: Path) -> None:
    """Refuse when the nearest existing ancestor of ``target`` is not a directory."""
    for candidate in target.parents:
        info = _lstat(candidate)
        if info is None:
            continue
        if stat.S_ISDIR(info.st_mode):
            return
        raise InputError.single(
            shown(candidate),
            f"is {_kind(info.st_mode)}, so it cannot hold {shown(target)}; "
            "expected a directory there",
        )


def check_output_dir(directory: str | Path) -> Path:
    """Check that ``directory`` is, or can become, a directory to write files in.

    Raises
    ------
    InputError
        When it (or an ancestor) is a file, it lies under ``/proc`` or ``/sys``, or a
        name in it is too long.
    """
    path = Path(directory)
    check_path_length(path)
    _check_pseudo(path)
    info = _lstat(path)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise InputError.single(
            shown(path),
            f"is {_kind(info.st_mode)}, not a directory; "
            "expected a directory or a path that does not exist yet",
        )
    _check_ancestors(path)
    return path


def check_output_file(file: str | Path) -> Path:
    """Check that ``file`` can be written as a regular file (see :func:`check_output_dir`)."""
    path = Path(file)
    if path.name in ("", ".", ".."):
        raise InputError.single(
            shown(path), "is a directory; expected the path of a file inside it"
        )
    check_path_length(path)
    _check_pseudo(path)
    _check_ancestors(path)
    info = _lstat(path)
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise InputError.single(
            shown(path), f"is {_kind(info.st_mode)}; expected a regular file (or no file yet)"
        )
    return path


def make_dirs(directory: str | Path) -> Path:
    """Create ``directory`` and its parents (checked first); OS failures as InputError."""
    path = check_output_dir(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(path, "create the directory", exc) from None
    return path


@contextlib.contextmanager
def atomic_target(file: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``file`` in one rename.

    The temporary file sits in the target's directory (so the rename stays on one file
    system), is synced to disk before the rename, and is removed on any failure.

    Raises
    ------
    InputError
        When the path cannot be written (see :func:`check_output_file`), or the system
        refuses a write (the message gives its reason, e.g. ``no space left on device``).
    """
    target = check_output_file(file)
    make_dirs(target.parent)
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name[:100]}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise os_error(target, "write", exc) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise os_error(target, "write", exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # some file systems cannot sync; the data is written
            raise
    finally:
        os.close(fd)


def write_bytes_atomic(file: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``file`` atomically (see :func:`atomic_target`); return the path."""
    with atomic_target(file) as tmp:
        tmp.write_bytes(data)
    return Path(file)


def write_text_atomic(file: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 with ``\\n`` line ends to ``file`` atomically."""
    return write_bytes_atomic(file, text.encode("utf-8"))
