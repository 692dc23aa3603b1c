"""A real Dask cluster for the tests: ``dask scheduler`` and two single-threaded ``dask worker``
processes on 127.0.0.1, started as the commands a user would type (the scheduler writes its
``--scheduler-file``), and the environment that makes the workers import this checkout.

Used by ``test_dask_cluster.py`` (a worker killed mid-run) and ``test_dask_design.py`` (the
same design front in-process and on the cluster).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import detente

SRC = str(Path(detente.__file__).resolve().parents[1])
DASK = Path(sys.executable).with_name("dask")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cluster_env(**extra: str) -> dict[str, str]:
    """This process's environment without ``$DETENTE_SCHEDULER``, with this checkout's
    ``src`` first on ``PYTHONPATH`` (workers must run the client's code), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "DETENTE_SCHEDULER"}
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def dask_command(*args: str) -> list[str]:
    """``dask ARGS`` from this interpreter's environment (the module if no script)."""
    if DASK.exists():
        return [str(DASK), *args]
    module = "distributed.cli.dask_" + args[0]
    return [sys.executable, "-m", module, *args[1:]]


def detente_command(*args: str) -> list[str]:
    """``detente ARGS`` run by this interpreter (the checkout's code through ``PYTHONPATH``)."""
    return [sys.executable, "-c", "from detente.cli import main; main()", *args]


@dataclass(frozen=True)
class Cluster:
    """A running scheduler (its address and file) and its worker processes."""

    address: str
    scheduler_file: Path
    workers: list[subprocess.Popen[bytes]]


@contextlib.contextmanager
def running_cluster(tmp: Path, env: dict[str, str], n_workers: int = 2) -> Iterator[Cluster]:
    """A scheduler and ``n_workers`` single-threaded workers without nannies (a killed worker
    stays dead), their logs in ``tmp/cluster-logs``; stopped afterwards."""
    from distributed import Client

    sched_file = tmp / "scheduler.json"
    port = free_port()
    logs = tmp / "cluster-logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    try:
        start("scheduler", dask_command("scheduler", "--host", "127.0.0.1", "--port", str(port),
                                        "--no-dashboard", "--scheduler-file", str(sched_file)))
        address = f"tcp://127.0.0.1:{port}"
        workers = [
            start(f"worker{i}", dask_command("worker", address, "--nthreads", "1",
                                             "--no-dashboard", "--no-nanny",
                                             "--host", "127.0.0.1"))
            for i in range(n_workers)
        ]
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        with Client(address, timeout=30) as client:
            client.wait_for_workers(n_workers, timeout=60)
        yield Cluster(address, sched_file, workers)
    finally:
        # Workers first, then the scheduler: a worker told to stop while it is already
        # closing because its scheduler went away can hang until killed.
        for group in (procs[1:], procs[:1]):
            for proc in group:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
            for proc in group:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
