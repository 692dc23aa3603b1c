"""``--scheduler``: unsupported protocols refused in one line; unreachable schedulers said at once."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from detente.errors import InputError
from detente.experiments import executors
from detente.experiments.executors import DaskEvaluator, make_evaluator

pytest.importorskip("distributed")


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("ucx://10.0.0.1:8786", "the ucx:// protocol is not supported"),
        ("tls://10.0.0.1:8786", "the tls:// protocol is not supported (it needs certificates"),
        ("inproc://x", "use 'local' instead"),
        ("tcp://10.0.0.1:99999", "a port from 1 to 65535"),
        ("tcp://10.0.0.1", "a port from 1 to 65535"),
        ("tcp://:8786", "with a host name"),
    ],
)
def test_unsupported_or_malformed_addresses_are_refused(address: str, words: str) -> None:
    with pytest.raises(InputError, match=f"--scheduler '{address}': .*") as info:
        make_evaluator(address)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_host_port_without_scheme_means_tcp() -> None:
    evaluator = make_evaluator("10.0.0.1:8786")
    assert isinstance(evaluator, DaskEvaluator)
    assert evaluator.scheduler == "tcp://10.0.0.1:8786"


@pytest.fixture()
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def silent_listener() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def _enter(address: str) -> tuple[float, InputError]:
    started = time.monotonic()
    with pytest.raises(InputError) as info, DaskEvaluator(address):
        pass
    return time.monotonic() - started, info.value


def test_refused_connection_fails_at_once_and_says_it_tried(
    free_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"tcp://127.0.0.1:{free_port}"
    seconds, error = _enter(address)
    assert seconds < 3
    assert "cannot reach the Dask scheduler: connection refused" in str(error)
    assert f"connecting to the Dask scheduler at {address} (giving up after 10 s)" in (
        capsys.readouterr().err
    )


def test_silent_scheduler_times_out_with_one_line(
    silent_listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 0.5)
    seconds, error = _enter(f"tcp://127.0.0.1:{silent_listener}")
    assert seconds < 5
    assert "no Dask scheduler answered within 0.5 s" in str(error) and "\n" not in str(error)
