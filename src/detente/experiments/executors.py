"""Evaluators: where experiment tasks run, as context managers (EMA Workbench style).

The experiment code hands an evaluator a function and a list of tasks; the evaluator
yields results as they finish. Changing the backend never changes the numbers, because
each chunk's seed depends only on the run seed and its state (see
:mod:`detente.experiments.chunks`), never on where or in which order it ran.

- :class:`InProcessEvaluator`: runs tasks one after another in this process (default).
- :class:`DaskEvaluator`: runs them on a Dask distributed cluster -- an existing scheduler
  (``tcp://HOST:PORT``) or a :class:`distributed.LocalCluster` started for the run
  (``"local"``).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar
from urllib.parse import urlsplit

from detente.errors import InputError

T = TypeVar("T")
R = TypeVar("R")

SCHEDULER_ENV = "DETENTE_SCHEDULER"
CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a remote scheduler to answer."""

_UNSUPPORTED = {
    "tls": "it needs certificates and a security configuration that detente does not take",
    "wss": "it needs certificates and a security configuration that detente does not take",
    "ucx": "it needs UCX-Py and UCX-aware workers that detente does not set up",
    "ws": "it needs a WebSocket-enabled scheduler that detente does not set up",
    "inproc": "it only reaches a scheduler inside this process; use 'local' instead",
}


class Evaluator(Protocol):
    """Run ``fn(item, **shared)`` for every item, yielding results as they complete."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def imap_unordered(
        self, fn: Callable[..., R], items: Sequence[Any], **shared: Any
    ) -> Iterator[R]: ...


class InProcessEvaluator:
    """Evaluate tasks sequentially in the calling process."""

    name = "in-process"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def imap_unordered(
        self, fn: Callable[..., R], items: Sequence[Any], **shared: Any
    ) -> Iterator[R]:
        """Yield ``fn(item, **shared)`` for each item, in order."""
        for item in items:
            yield fn(item, **shared)


class DaskEvaluator:
    """Evaluate tasks on a Dask distributed cluster.

    Parameters
    ----------
    scheduler : str
        ``"local"`` starts a :class:`~distributed.LocalCluster` for the run; otherwise the
        address of a running scheduler (``tcp://HOST:PORT``).
    n_workers : int
        Workers of a local cluster (default: 2).
    processes : bool
        Local cluster workers as processes (default) or threads in this process.

    Notes
    -----
    Shared arguments (the scenario, the model) are scattered to every worker once rather
    than shipped with each task. Workers must be able to import the model function.
    """

    name = "dask"

    def __init__(self, scheduler: str = "local", n_workers: int = 2, processes: bool = True):
        self.scheduler = scheduler
        self.n_workers = n_workers
        self.processes = processes
        self._cluster: Any = None
        self._client: Any = None

    def __enter__(self) -> Self:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - optional dependency
            raise InputError.single(
                "<command line>",
                "--scheduler needs Dask: pip install 'detente[dask]'",
            ) from None
        if self.scheduler == "local":
            self._cluster = LocalCluster(
                n_workers=self.n_workers,
                threads_per_worker=1,
                processes=self.processes,
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        else:
            self._client = _connect(Client, self.scheduler)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def imap_unordered(
        self, fn: Callable[..., R], items: Sequence[Any], **shared: Any
    ) -> Iterator[R]:
        """Submit every item, then yield results in completion order."""
        from distributed import as_completed

        client = self._client
        if client is None:
            raise RuntimeError("use DaskEvaluator as a context manager")
        # hash=False: a fresh key per call. With content-hashed keys, a second call with the
        # same shared data (calibration and hindcast call many times) can re-scatter a key
        # the scheduler is still releasing from the first, and its tasks are then cancelled
        # for "lost dependencies".
        scattered = {
            k: client.scatter(v, broadcast=True, hash=False) for k, v in shared.items()
        }
        futures = client.map(fn, list(items), pure=False, **scattered)
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            client.cancel(futures)


def make_evaluator(scheduler: str | None = None) -> InProcessEvaluator | DaskEvaluator:
    """The evaluator a command asked for: ``--scheduler`` or ``$DETENTE_SCHEDULER``.

    ``None``/``""``/``"none"``/``"in-process"`` give the in-process evaluator, ``"local"``
    a two-worker LocalCluster, anything else is taken as a scheduler address.
    """
    choice = scheduler if scheduler is not None else os.environ.get(SCHEDULER_ENV, "")
    choice = choice.strip()
    if choice.lower() in ("", "none", "in-process", "inprocess"):
        return InProcessEvaluator()
    if choice == "local":
        return DaskEvaluator(choice)
    return DaskEvaluator(scheduler_address(choice))


def _scheduler_problem(text: str, message: str) -> InputError:
    return InputError.single("<command line>", f"--scheduler {text!r}: {message}")


def scheduler_address(text: str) -> str:
    """The ``tcp://HOST:PORT`` address a ``--scheduler`` value names (``HOST:PORT`` too).

    Raises
    ------
    InputError
        For another protocol (``tls://``, ``ucx://``, ...: each needs set-up detente does
        not do), or an address without a host or a valid port.
    """
    if "://" not in text and ":" not in text:
        raise _scheduler_problem(text, "expected 'local' or a scheduler address tcp://HOST:PORT")
    address = text if "://" in text else f"tcp://{text}"
    parts = urlsplit(address)
    scheme = parts.scheme.lower()
    if scheme != "tcp":
        why = _UNSUPPORTED.get(scheme, "detente connects over tcp:// only")
        raise _scheduler_problem(
            text,
            f"the {scheme}:// protocol is not supported ({why}); "
            "expected 'local' or tcp://HOST:PORT",
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or not port:
        raise _scheduler_problem(
            text, "expected tcp://HOST:PORT with a host name and a port from 1 to 65535"
        )
    return address


def _connect(client_class: Any, address: str) -> Any:
    """A Dask client of the scheduler at ``address``, saying on stderr that it tries.

    A socket probe first turns an immediate failure (no such host, connection refused)
    into an error at once; only an address that does not answer waits for the timeout.
    """
    print(
        f"note: connecting to the Dask scheduler at {address} "
        f"(giving up after {CONNECT_TIMEOUT:g} s)",
        file=sys.stderr,
        flush=True,
    )
    parts = urlsplit(address)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=CONNECT_TIMEOUT):
            pass
        return _client_within(client_class, address)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = _reason(exc)
    except MemoryError:  # a server that is not Dask's answered; its bytes read as a huge size
        reason = "something answered there, but not a Dask scheduler"
    raise _scheduler_problem(
        address,
        f"cannot reach the Dask scheduler: {reason}; expected the address of a running "
        "scheduler (as 'dask scheduler' prints it), or 'local'",
    )


def _client_within(client_class: Any, address: str) -> Any:
    """Create the client in a daemon thread and give up after the timeout.

    Dask's own ``timeout`` does not cover a server that accepts the connection and then
    says nothing (measured: distributed 2026.8 waits for ever), so the wait is bounded here.
    """
    box: dict[str, Any] = {}

    def create() -> None:
        try:
            box["client"] = client_class(address, timeout=CONNECT_TIMEOUT)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=create, name="dask-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT + 2.0)
    if "error" in box:
        raise box["error"]
    if "client" not in box:
        raise TimeoutError(
            "something accepted the connection, but no Dask scheduler answered within "
            f"{CONNECT_TIMEOUT:g} s"
        )
    return box["client"]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror or exc})"
    if isinstance(exc, TimeoutError) and not exc.errno:
        said = str(exc)
        return said if said and said != "timed out" else f"no answer within {CONNECT_TIMEOUT:g} s"
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc)
