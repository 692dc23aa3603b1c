"""Command ``serve``: the what-if and exploration page in the browser (:mod:`detente.serve`)."""

from __future__ import annotations

import errno
import signal
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from detente.cli.output import ReadableHelp
from detente.errors import InputError

console = Console(highlight=False, soft_wrap=True)


def _check_port(host: str, port: int) -> None:
    """Refuse a port outside 1..65535 or one already taken, before the server starts."""
    if not 0 < port < 65536:
        raise InputError.single("<command line>", f"--port must be 1 to 65535 (got {port})")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError.single("<command line>", f"--host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            why = ("is in use (another server?); choose another with --port"
                   if exc.errno == errno.EADDRINUSE else exc.strerror)
            raise InputError.single("<command line>", f"{host}:{port} {why}") from None


def serve(
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 8765,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to bind. Anything but loopback requires the access token printed "
            "at start and limits runs per client.",
        ),
    ] = "127.0.0.1",
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            metavar="PATH",
            help="Results database whose runs the page shows (default "
            "detente-out/results.duckdb); its folder's runs/ are read.",
        ),
    ] = None,
) -> None:
    """Start the what-if and stored-run explorer page (Ctrl-C stops it)."""
    import uvicorn

    from detente.serve.app import create_app
    from detente.serve.guard import Guard

    if db is not None and db.exists() and not (db.is_file() or db.is_dir()):
        raise InputError.single("<command line>", f"--db {db}: not a file or folder")
    _check_port(host, port)
    guard = Guard.for_host(host)
    app = create_app(db, guard)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    if guard.token is not None:
        url += f"?token={guard.token}"
        console.print(f"access token: {guard.token} (the page asks for it; share it only with "
                      f"whom may run simulations here; at most "
                      f"{guard.limits.runs_per_minute} runs a minute per client)", markup=False)
    root = app.state.detente.root
    console.print(f"detente serve: open {url}  (stored runs from {root}; Ctrl-C stops)",
                  markup=False)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)

    def interrupted(signum: int, frame: object) -> None:
        # Ctrl-C before uvicorn installs its own handlers (while it starts) would be lost
        server.should_exit = True

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    if server.should_exit:
        raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the app."""
    app.command("serve", cls=ReadableHelp)(serve)
