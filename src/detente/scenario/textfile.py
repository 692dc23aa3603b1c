"""Read a user's input file with a hard bound on how much is read.

Both the scenario loader and the table loaders read through :func:`read_bounded`. It never
trusts ``st_size`` alone: devices such as ``/dev/zero``, pipes and files that grow while
being read report a size of 0 or a stale one, so it reads at most ``max_bytes + 1`` bytes
and refuses the file when that last byte arrives.
"""

from __future__ import annotations

from pathlib import Path

from detente.errors import InputError


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """Return the bytes of ``path``, or raise InputError (missing, a directory, over the limit).

    Parameters
    ----------
    path : Path
        The file to read.
    max_bytes : int
        The largest accepted size; at most ``max_bytes + 1`` bytes are ever read.
    """
    src = str(path)
    try:
        if path.is_dir():
            raise InputError.single(src, "is a directory, expected a file")
        size = path.stat().st_size
        if path.is_file() and size > max_bytes:
            raise InputError.single(src, _over(max_bytes, size))
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError.single(src, "file not found") from None
    except PermissionError:
        raise InputError.single(src, "permission denied; cannot read the file") from None
    except OSError as exc:
        raise InputError.single(src, f"cannot read the file ({exc.strerror or exc})") from None
    if len(raw) > max_bytes:
        raise InputError.single(src, _over(max_bytes, None))
    return raw


def _over(max_bytes: int, size: int | None) -> str:
    if size is None:
        return f"file holds more than the {max_bytes:,}-byte limit (larger files are refused)"
    return f"file is {size:,} bytes, over the {max_bytes:,}-byte limit (larger files are refused)"
