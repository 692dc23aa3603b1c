"""Draw the report's scenario-only figures while ``detente run`` simulates.

The simulation of ``detente run`` keeps one core busy; the structure chart, the position
maps and the expected-utility rounds depend on the scenario alone (about half the report's
drawing), so :class:`ScenarioDrawer` draws them meanwhile in a forked process, on the core
the simulation leaves free. The report then takes them by cache key
(:func:`~detente.report.figure_cache.figure_key`, :func:`~detente.report.html.
scenario_figures`): the key covers the figure's function, its arguments and the drawing
code, so a figure taken from the drawer is the one the report would draw, byte for byte;
a figure whose key the drawer does not have (or a drawer that failed) is drawn as usual.

The child writes nothing a user can see: the PNGs go to an anonymous temporary file (no
name, so nothing is left behind whatever happens) and their keys and places down a pipe.
It ignores Ctrl-C (the command handles it and ends the child), never prints, and leaves by
``os._exit``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol, Self

from detente.report.figure_pool import can_fork, default_workers


class Predrawn(Protocol):
    """Figures drawn elsewhere, by cache key."""

    def keys(self) -> frozenset[str]:
        """The keys of the figures promised (they may not be finished yet)."""
        ...

    def collect(self) -> dict[str, bytes]:
        """Every promised figure that was finished, by key (waits for the rest)."""
        ...


def _drawer_main(scenario: str | Path, messages: IO[str], store: IO[bytes]) -> None:
    """In the child: draw the scenario's figures into ``store``, announcing them on
    ``messages`` (first a JSON list of the keys, then one ``[key, offset, size]`` line per
    figure as it is finished)."""
    from detente.report.figure_cache import figure_key
    from detente.report.figure_pool import png_of
    from detente.report.html import scenario_figures
    from detente.runs.scenario_text import load_scenario_with_text

    makers = scenario_figures(load_scenario_with_text(scenario)[0])
    keyed = [(key, make) for make in makers if (key := figure_key(make)) is not None]
    messages.write(json.dumps([key for key, _ in keyed]) + "\n")
    messages.flush()
    for key, make in keyed:
        png = png_of(make)
        offset = store.seek(0, os.SEEK_END)
        store.write(png)
        store.flush()
        messages.write(json.dumps([key, offset, len(png)]) + "\n")
        messages.flush()


class ScenarioDrawer:
    """A forked process drawing the figures of a scenario's report that need only it.

    Use :meth:`start` in a ``with`` block around the run and its report; leaving the block
    ends the process (Ctrl-C included) and frees everything.
    """

    def __init__(self, pid: int, messages: IO[str], store: IO[bytes]) -> None:
        self.pid: int | None = pid
        self._messages = messages
        self._store = store
        self._keys: frozenset[str] | None = None
        self._ready: dict[str, bytes] = {}
        self._finished = False

    @classmethod
    def start(cls, scenario: str | Path) -> ScenarioDrawer | None:
        """Fork a drawer for ``scenario`` (a built-in name or a YAML file, as ``detente run``
        takes it), or None where it would not help: no fork (Windows), one CPU or
        ``$DETENTE_REPORT_WORKERS=1`` (no free core to draw on)."""
        if not can_fork() or default_workers() < 2:
            return None
        import detente.report.html  # noqa: F401  (loaded once, here: the child inherits it)

        # anonymous, gone with its last descriptor; the drawer owns it (closed by close())
        store = tempfile.TemporaryFile()  # noqa: SIM115
        read_end, write_end = os.pipe()
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
        except OSError:  # no process to spare: the report draws them all
            pid = -1
        finally:
            if pid != 0:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        if pid == 0:  # the child: never returns
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # discards a pending Ctrl-C
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                os.close(read_end)
                with open(write_end, "w", encoding="utf-8") as messages:
                    _drawer_main(scenario, messages, store)
            except BaseException:  # the command reports problems; the drawer just stops
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        if pid < 0:
            os.close(read_end)
            store.close()
            return None
        return cls(pid, open(read_end, encoding="utf-8"), store)

    def keys(self) -> frozenset[str]:
        """The keys of the figures the drawer promised (waits for its first message; empty
        when it failed before sending it)."""
        if self._keys is None:
            line = self._readline()
            try:
                keys = json.loads(line) if line else []
            except ValueError:
                keys = []
            self._keys = frozenset(k for k in keys if isinstance(k, str))
        return self._keys

    def collect(self) -> dict[str, bytes]:
        """The figures the drawer finished, by key: waits until it has drawn them all (or
        stopped), then ends it."""
        self.keys()
        while not self._finished:
            line = self._readline()
            if not line:
                break
            try:
                key, offset, size = json.loads(line)
                png = os.pread(self._store.fileno(), int(size), int(offset))
            except (ValueError, TypeError, OSError):
                break
            if key in self.keys() and len(png) == size:
                self._ready[key] = png
        self.close()
        return dict(self._ready)

    def _readline(self) -> str:
        if self._finished:
            return ""
        try:
            line = self._messages.readline()
        except (OSError, ValueError):
            line = ""
        if not line.endswith("\n"):  # the child is gone, or cut off mid-line
            self._finished = True
            return ""
        return line

    def close(self) -> None:
        """End the drawer if it still runs, reap it and free its pipe and file."""
        self._finished = True
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = None
        self._messages.close()
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
