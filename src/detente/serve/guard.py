"""What keeps the server up and private: limits, the access token, runs per client.

* Every request body is capped (:attr:`Limits.max_body`), whatever its ``Content-Length``
  says, so a 10 MB upload is refused without being held in memory.
* A simulation holds one of :attr:`Limits.concurrent` slots; a request that waits longer
  than :attr:`Limits.wait_seconds` for one is told the server is busy. A simulation that
  runs past :attr:`Limits.run_seconds` is stopped between two chunks of worlds.
* Bound to loopback (the default), the server answers only requests addressed to a
  loopback name (a web page elsewhere cannot reach it by DNS rebinding). Bound to another
  address, every request needs the token printed at start (in the URL once, then a
  cookie) and each client may start at most :attr:`Limits.runs_per_minute` runs a minute.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

#: Host names a loopback server answers to (TestClient's ``testserver`` included).
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]", "testserver"})
TOKEN_COOKIE = "detente_token"


class RefusedError(Exception):
    """A request the limits refuse: its HTTP status and one line saying why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Size and time limits per request (see the module's docstring)."""

    max_body: int = 2_000_000
    concurrent: int = 2
    wait_seconds: float = 20.0
    run_seconds: float = 30.0
    runs_per_minute: int = 30


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is this machine only."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The host name of a ``Host`` header (without the port)."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


@dataclass
class Guard:
    """The server's limits and access control, shared by all requests."""

    limits: Limits = field(default_factory=Limits)
    public: bool = False
    token: str | None = None
    _slots: threading.BoundedSemaphore = field(init=False)
    _runs: dict[str, deque[float]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.limits.concurrent)
        if self.public and self.token is None:
            self.token = secrets.token_urlsafe(18)

    @classmethod
    def for_host(cls, host: str, limits: Limits | None = None) -> Guard:
        """A guard for a server bound to ``host``: a token unless it is loopback."""
        return cls(limits=limits or Limits(), public=not is_loopback(host))

    def host_allowed(self, header: str) -> bool:
        """A loopback server answers only requests addressed to a loopback name."""
        return self.public or host_name(header.lower()) in LOOPBACK_NAMES

    def token_ok(self, offered: str | None) -> bool:
        """Whether the request carries the token (always true without one)."""
        if self.token is None:
            return True
        return offered is not None and hmac.compare_digest(offered, self.token)

    def admit_run(self, client: str) -> None:
        """Count a run for ``client``; refuse past the per-minute limit (public servers)."""
        if not self.public:
            return
        now = time.monotonic()
        with self._lock:
            seen = self._runs.setdefault(client, deque())
            while seen and now - seen[0] > 60:
                seen.popleft()
            if len(seen) >= self.limits.runs_per_minute:
                raise RefusedError(429, f"at most {self.limits.runs_per_minute} runs a minute per "
                                   "client; wait a moment and try again")
            seen.append(now)

    def slot(self) -> _Slot:
        """A simulation slot (a context manager), or :class:`RefusedError` (503) when busy."""
        return _Slot(self)

    def deadline(self) -> Callable[[int], None]:
        """A progress callback that stops a run past :attr:`Limits.run_seconds`."""
        end = time.monotonic() + self.limits.run_seconds
        limit = self.limits.run_seconds

        def check(_: int) -> None:
            if time.monotonic() > end:
                raise RefusedError(408, f"the run took longer than {limit:g} s and was stopped; "
                                   "ask for fewer worlds")

        return check


class _Slot:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def __enter__(self) -> None:
        if not self.guard._slots.acquire(timeout=self.guard.limits.wait_seconds):
            raise RefusedError(503, "the server is busy with other runs; try again in a moment")

    def __exit__(self, *exc: object) -> None:
        self.guard._slots.release()


__all__ = ["LOOPBACK_NAMES", "TOKEN_COOKIE", "Guard", "Limits", "RefusedError", "host_name",
           "is_loopback"]
