"""Evaluators: where experiment tasks run, as context managers (EMA Workbench style).

The experiment code hands an evaluator a function and a list of tasks; the evaluator
yields results as they finish. Changing the backend never changes the numbers, because
each chunk's seed depends only on the run seed and its state (see
:mod:`detente.experiments.chunks`), never on where or in which order it ran.

- :class:`InProcessEvaluator`: runs tasks one after another in this process (default).
- :class:`DaskEvaluator`: runs them on a Dask distributed cluster -- an existing scheduler
  (``tcp://HOST:PORT``, or the address a ``dask scheduler --scheduler-file`` file holds:
  :func:`scheduler_file_address`) or a :class:`distributed.LocalCluster` sized to the
  machine (``"local"``: one single-threaded worker per usable CPU).

An evaluator tells the experiment how much it runs at once (``slots``), so an experiment
can cut its work into enough tasks to keep every worker busy, and whether its workers may
write their results as shard files instead of sending them back (``shards``). A Dask
evaluator refuses workers that run another detente than the client
(:func:`worker_identity`): on connecting, and again in every task, so a worker that joins
later is caught too.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import logging
import os
import platform
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar
from urllib.parse import urlsplit

from detente.errors import InputError
from detente.source_digest import source_digest

T = TypeVar("T")
R = TypeVar("R")

SCHEDULER_ENV = "DETENTE_SCHEDULER"
IN_PROCESS = ("", "none", "in-process", "inprocess")
"""Scheduler choices (lower case) that mean the in-process evaluator."""
_CLIENT_LOG = logging.getLogger("distributed.client")
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
    """Run ``fn(item, **shared)`` for every item, yielding results as they complete.

    Evaluators may also say how many tasks they run at once (``slots``, an int; 1 when
    absent) and whether their tasks may write shard files (``shards``, a bool; False when
    absent): experiments read both with ``getattr`` so that any object with
    ``imap_unordered`` and the context-manager methods still serves.
    """

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
    slots = 1
    """Tasks run at once."""
    shards = False
    """Results come back to the caller (there is no one else to write them)."""

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
    n_workers : int, optional
        Workers of a local cluster (default: :func:`usable_cpus`, one thread each, and the
        machine's memory shared equally between them).
    processes : bool
        Local cluster workers as processes (default) or threads in this process.
    shards : bool
        Whether experiment tasks may write their results as Parquet shard files next to the
        results database instead of sending every row back (they send rows back anyway when
        they cannot see that folder; see :mod:`detente.store.shards`).

    Notes
    -----
    Shared arguments (the scenario, the model) are scattered to every worker once rather
    than shipped with each task. Workers must be able to import the model function, and
    must run the same detente as the client (:func:`worker_identity`): a worker that does
    not is named in an :class:`~detente.errors.InputError`.
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str = "local",
        n_workers: int | None = None,
        processes: bool = True,
        shards: bool = True,
    ):
        self.scheduler = scheduler
        self.n_workers = n_workers
        self.processes = processes
        self.shards = shards
        self._cluster: Any = None
        self._client: Any = None
        self._log_level = logging.NOTSET

    @property
    def slots(self) -> int:
        """Worker threads of the cluster (tasks it runs at once); 1 before connecting."""
        if self._client is None:
            return 1
        try:
            return max(1, sum(self._client.nthreads().values()))
        except Exception:  # a scheduler gone away: the tasks will say so
            return 1

    def __enter__(self) -> Self:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - optional dependency
            raise InputError.single(
                "<command line>",
                "--scheduler needs Dask: pip install 'detente[dask]'",
            ) from None
        # A lost scheduler is said in one line (imap_unordered); the client's own log
        # would add a traceback per reconnection attempt.
        self._log_level = _CLIENT_LOG.level
        _CLIENT_LOG.setLevel(logging.CRITICAL)
        try:
            if self.scheduler == "local":
                self._cluster = LocalCluster(
                    n_workers=self.n_workers or usable_cpus(),
                    threads_per_worker=1,
                    processes=self.processes,
                    memory_limit="auto",
                    dashboard_address=None,
                )
                self._client = Client(self._cluster)
            else:
                self._client = _connect(Client, self.scheduler)
                _wait_for_a_worker(self._client, self.scheduler)
            check_workers(self._client, self.scheduler)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._client is not None:
                with contextlib.suppress(*_cluster_faults(), OSError, TimeoutError):
                    self._client.close()
            if self._cluster is not None:
                self._cluster.close()
        finally:
            self._client = self._cluster = None
            _CLIENT_LOG.setLevel(self._log_level)

    def imap_unordered(
        self, fn: Callable[..., R], items: Sequence[Any], **shared: Any
    ) -> Iterator[R]:
        """Submit every item, then yield results in completion order.

        Each task first checks that its worker runs the client's detente
        (:func:`worker_identity`); a worker that does not ends the call with an
        :class:`~detente.errors.InputError` naming it.
        """
        import cloudpickle
        from distributed import as_completed

        client = self._client
        if client is None:
            raise RuntimeError("use DaskEvaluator as a context manager")
        try:
            # hash=False: a fresh key per call. With content-hashed keys, a second call with
            # the same shared data (calibration and hindcast call many times) can re-scatter
            # a key the scheduler is still releasing from the first, and its tasks are then
            # cancelled for "lost dependencies". The task's function goes along pickled, to
            # be unpickled on the worker only once its code is checked (_checked_call).
            scattered = {
                k: _scatter(client, v)
                for k, v in {**shared, "detente_fn": cloudpickle.dumps(fn)}.items()
            }
            futures = client.map(
                _by_value(_checked_call),
                list(items),
                pure=False,
                detente_identity=worker_identity(),
                **scattered,
            )
        except _cluster_faults() as exc:
            raise self._fault(exc) from None
        try:
            for fut in as_completed(futures):
                try:
                    result = fut.result()
                except RuntimeError as exc:
                    if not str(exc).startswith(_MISMATCH):
                        raise
                    raise _scheduler_problem(self.scheduler, _mismatch_line(str(exc))) from None
                except _cluster_faults() as exc:
                    raise self._fault(exc) from None
                yield result
        finally:
            with contextlib.suppress(*_cluster_faults()):
                client.cancel(futures)

    def _fault(self, exc: BaseException) -> InputError:
        """One line for a cluster that failed under the run: tasks whose workers kept dying,
        or a scheduler gone."""
        name = type(exc).__name__
        cancelled = getattr(exc, "reason", None)
        if name == "KilledWorker":
            task = exc.args[0] if exc.args else "?"
            tries = exc.args[2] if len(exc.args) > 2 else "several"
            what = (f"Dask gave up on task {task}: the workers running it died {tries} times "
                    "(out of memory, or killed)")
        elif cancelled == "scheduler-connection-lost":
            what = "lost the Dask scheduler"
        elif cancelled:
            what = (f"Dask cancelled the run's tasks ({cancelled}): every worker holding the "
                    "run's shared data (the scenario) died")
        else:
            reason = " ".join(str(exc).split())[:160] or name
            what = f"the Dask cluster failed under the run ({reason})"
        return _scheduler_problem(
            self.scheduler, f"{what}; what finished is kept: rerun with --resume"
        )


def _scatter(client: Any, value: Any, attempts: int = 3) -> Any:
    """``value`` scattered to every worker; tried again when a worker dies during the
    broadcast (the scheduler then closes the call's connection)."""
    from distributed.comm import CommClosedError

    for _ in range(attempts - 1):
        try:
            return client.scatter(value, broadcast=True, hash=False)
        except CommClosedError:
            time.sleep(1.0)
    return client.scatter(value, broadcast=True, hash=False)


def _cluster_faults() -> tuple[type[BaseException], ...]:
    """The exceptions of a cluster failing under a run (not of a task's own code)."""
    import concurrent.futures

    from distributed.client import FutureCancelledError
    from distributed.comm import CommClosedError
    from distributed.scheduler import KilledWorker

    return (KilledWorker, FutureCancelledError, concurrent.futures.CancelledError,
            CommClosedError)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask: what a container or ``taskset``
    allows), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


# -- who runs the tasks ---------------------------------------------------------------------

#: Packages whose versions can change the numbers besides detente's own source.
_LIBRARIES = ("numpy", "numba", "pandas", "scipy")



@functools.lru_cache(maxsize=1)
def worker_identity() -> str:
    """What a process runs: detente's version and source digest, Python's and the numeric
    libraries' versions. Two processes with the same identity compute the same numbers."""
    import detente

    parts = [f"detente {detente.__version__} (source {source_digest(('detente',))})"]
    parts.append(f"python {platform.python_version()}")
    for lib in _LIBRARIES:
        try:
            parts.append(f"{lib} {importlib.import_module(lib).__version__}")
        except (ImportError, AttributeError):
            parts.append(f"{lib} absent")
    return ", ".join(parts)


_MISMATCH = "detente-worker-mismatch: "
"""Start of the error a task raises on a worker that runs another detente (a built-in
exception, so that a worker with another detente can still send it back)."""


def _identity_probe() -> str:
    """This process's :func:`worker_identity`, or what stands in for it.

    Sent to workers *by value* (see :func:`_by_value`), so that a worker running another
    detente -- one without this module's functions, or none at all -- can still answer.
    """
    import importlib

    try:
        module = importlib.import_module("detente.experiments.executors")
        return str(module.worker_identity())
    except Exception:
        try:
            version = importlib.import_module("detente").__version__
        except Exception:
            return "no importable detente"
        return f"detente {version} (without worker checks: an older detente)"


def _checked_call(item: Any, *, detente_fn: bytes, detente_identity: str, **shared: Any) -> Any:
    """Run the pickled ``detente_fn(item, **shared)`` after checking this worker runs the
    client's detente; else raise a ``RuntimeError`` starting with ``_MISMATCH``.

    Sent by value; unpickles the task's function only after the check, so a worker with
    another detente fails with the check's message rather than an unpickling error.
    """
    import os as _os

    import cloudpickle

    mine = _identity_probe()
    if mine != detente_identity:
        try:
            from distributed import get_worker

            where = str(get_worker().address)
        except Exception:
            where = f"pid {_os.getpid()}"
        raise RuntimeError(
            f"{_MISMATCH}Dask worker {where} runs {mine}, but this client runs "
            f"{detente_identity}"
        )
    from detente.allocator import retain_freed_memory

    retain_freed_memory()  # as the command line does in its own process
    return cloudpickle.loads(detente_fn)(item, **shared)


def _by_value(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` as a fresh function object that cloudpickle sends by value (its code, not a
    reference to this module, which a worker with another detente may not have)."""
    import types

    copy = types.FunctionType(
        fn.__code__, {"__builtins__": __builtins__, "_MISMATCH": _MISMATCH,
                      "_identity_probe": _by_value(_identity_probe)
                      if fn is not _identity_probe else None,
                      "Any": Any},
        fn.__name__, fn.__defaults__, fn.__closure__,
    )
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__qualname__ = f"<by value>.{fn.__name__}"
    copy.__module__ = "__main__"
    return copy


def _mismatch_line(text: str) -> str:
    """One line saying which worker differs and how (only the parts of the two identities
    that differ)."""
    head, _, rest = text.removeprefix(_MISMATCH).partition(" runs ")
    theirs, _, ours = rest.partition(", but this client runs ")
    a, b = theirs.split(", "), ours.split(", ")
    diff = [i for i in range(max(len(a), len(b))) if a[i:i + 1] != b[i:i + 1]] or [0]
    return (
        f"{head} runs {', '.join(a[i] for i in diff if i < len(a))}, but this client runs "
        f"{', '.join(b[i] for i in diff if i < len(b))}; start the workers from the same "
        "detente installation and libraries"
    )


def check_workers(client: Any, scheduler: str) -> None:
    """Refuse a cluster with a worker whose :func:`worker_identity` is not the client's.

    Raises
    ------
    InputError
        One line naming the first mismatching worker.
    """
    ours = worker_identity()
    theirs: dict[str, str] = client.run(_by_value(_identity_probe))
    for address, identity in sorted(theirs.items()):
        if identity != ours:
            raise _scheduler_problem(
                scheduler,
                _mismatch_line(f"Dask worker {address} runs {identity}, but this client "
                               f"runs {ours}"),
            )


def _wait_for_a_worker(client: Any, scheduler: str) -> None:
    """Wait (saying so) until the scheduler has a worker: launchers often start it first."""
    if client.nthreads():
        return
    print(
        f"note: the Dask scheduler at {scheduler} has no workers yet; waiting for one "
        "(Ctrl-C to stop)",
        file=sys.stderr,
        flush=True,
    )
    client.wait_for_workers(1)


def make_evaluator(
    scheduler: str | None = None, scheduler_file: str | Path | None = None
) -> InProcessEvaluator | DaskEvaluator:
    """The evaluator a command asked for: ``--scheduler``, ``--scheduler-file`` or
    ``$DETENTE_SCHEDULER``.

    ``None``/``""``/``"none"``/``"in-process"`` give the in-process evaluator, ``"local"``
    a LocalCluster sized to the machine, anything else is taken as a scheduler address;
    ``scheduler_file`` names the JSON file ``dask scheduler --scheduler-file`` writes
    (:func:`scheduler_file_address`).

    Raises
    ------
    InputError
        For both ``scheduler`` and ``scheduler_file``, a bad address or a bad file.
    """
    scheduler = resolve_scheduler(scheduler, scheduler_file)
    choice = scheduler if scheduler is not None else os.environ.get(SCHEDULER_ENV, "")
    choice = choice.strip()
    if choice.lower() in IN_PROCESS:
        return InProcessEvaluator()
    if choice == "local":
        return DaskEvaluator(choice)
    return DaskEvaluator(scheduler_address(choice))


def resolve_scheduler(scheduler: str | None, scheduler_file: str | Path | None) -> str | None:
    """``--scheduler``, or the address in ``--scheduler-file`` (at most one of them).

    Raises
    ------
    InputError
        When both are given, or the file is not a usable scheduler file.
    """
    if scheduler_file is None:
        return scheduler
    if scheduler is not None:
        raise InputError.single(
            "<command line>",
            "--scheduler and --scheduler-file both name a scheduler; give one of them",
        )
    return scheduler_file_address(scheduler_file)


def scheduler_file_address(path: str | Path) -> str:
    """The scheduler address in a scheduler file (``dask scheduler --scheduler-file PATH``,
    dask-jobqueue and dask-mpi write one: JSON with an ``"address"``).

    Raises
    ------
    InputError
        One line when the file is missing, unreadable, not such JSON, or its address is
        not one detente can use (:func:`scheduler_address`).
    """
    where = f"--scheduler-file {str(path)!r}"
    expected = "expected the JSON file 'dask scheduler --scheduler-file PATH' writes"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError.single("<command line>", f"{where}: no such file; {expected}") from None
    except IsADirectoryError:
        raise InputError.single("<command line>", f"{where}: is a folder; {expected}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = os.strerror(exc.errno).lower() if isinstance(exc, OSError) and exc.errno else (
            "not text")
        raise InputError.single("<command line>", f"{where}: cannot read it ({reason}); "
                                f"{expected}") from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    address = data.get("address") if isinstance(data, dict) else None
    if not isinstance(address, str) or not address.strip():
        raise InputError.single(
            "<command line>", f"{where}: holds no scheduler address; {expected}"
        )
    try:
        return scheduler_address(address.strip())
    except InputError as exc:
        why = exc.problems[0].message.split(": ", 1)[-1]
        raise InputError.single(
            "<command line>", f"{where}: its address {address.strip()!r}: {why}"
        ) from None


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
