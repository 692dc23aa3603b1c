"""Helpers the cluster benchmarks share (``bench_cluster.py``, ``bench_design.py``).

Running a script from ``benchmarks/`` puts this folder on ``sys.path``, so they import it
as ``cluster_support``.
"""

from __future__ import annotations

import socket
import subprocess
import time


def load_text() -> str:
    """``uptime``'s line: the load average the figures were measured under."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def workers_cpu(address: str) -> float:
    """CPU seconds the worker processes of the cluster at ``address`` have used so far."""
    from distributed import Client

    with Client(address, timeout=60) as client:
        return float(sum(client.run(time.process_time).values()))
