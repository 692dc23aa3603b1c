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
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from detente.errors import InputError

T = TypeVar("T")
R = TypeVar("R")

SCHEDULER_ENV = "DETENTE_SCHEDULER"


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
            try:
                self._client = Client(self.scheduler, timeout=10)
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError.single(
                    "<command line>",
                    f"cannot reach Dask scheduler {self.scheduler!r}: {exc}; "
                    "expected tcp://HOST:PORT of a running scheduler, or 'local'",
                ) from None
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
        scattered = {k: client.scatter(v, broadcast=True) for k, v in shared.items()}
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
    if choice != "local" and "://" not in choice and ":" not in choice:
        raise InputError.single(
            "<command line>",
            f"--scheduler {choice!r}: expected 'local' or a scheduler address tcp://HOST:PORT",
        )
    return DaskEvaluator(choice)
