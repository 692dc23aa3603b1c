"""The report of ``detente run``, built in a process forked at the command's start.

``detente run --quick`` spends about as long on its report as on its simulation, and the
simulation runs in one process, leaving a core idle. :class:`BackgroundReport` forks a
process when the command starts, before it loads the simulation, which imports the
report's modules (matplotlib) and starts drawing the figures that depend on the scenario
alone (structure, position maps, expected-utility rounds: about half the drawing) in a
pool of its own (:class:`~detente.report.predraw.PoolDrawn`) on the cores the simulation
leaves idle (one fewer than the report's workers: one on two cores, so that the
simulation, which the rest of the report waits for, keeps a core to itself). When the
run is stored, :meth:`BackgroundReport.build` hands it the run's folder; it builds the
report from the stored artifacts exactly as ``detente report`` would
(:func:`~detente.report.html.build_report`, which takes those figures by cache key: the
same bytes), and answers with the file written, the input problems, or the failure. So
the command's own process never loads matplotlib, and the report is the same bytes
whichever process builds it.

The process runs in a process group of its own with its pool, ignores Ctrl-C (the
command handles it) and never prints: it reports the figures drawn and its answer as JSON
lines down a pipe. Leaving the ``with`` block kills the group and reaps the process, so
nothing outlives the command, interrupted or not; if the command itself is killed, the
process sees its request pipe close and ends its pool and itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from detente.errors import InputError, InputProblem
from detente.report.cores import ReportProgress, can_fork, default_workers


class BackgroundGoneError(RuntimeError):
    """The background process ended without an answer (the caller builds the report)."""


class ReportFailedError(RuntimeError):
    """The report could not be built (a fault, not bad input); the message says why."""


def _child_main(scenario: str | Path, requests: IO[str], replies: IO[str]) -> None:
    """In the child: draw the scenario's figures, wait for the run's folder, build its
    report and answer (``{"drew": id, "total": n}`` lines, then one of ``{"report":
    path}``, ``{"problems": [...]}`` or ``{"error": text}``)."""
    from detente.report.html import build_report, scenario_figures
    from detente.report.predraw import PoolDrawn
    from detente.runs.scenario_text import load_scenario_with_text

    def send(message: dict[str, Any]) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    try:
        makers = scenario_figures(load_scenario_with_text(scenario)[0])
    except Exception:  # the command reports the scenario's problems itself
        makers = []
    # the simulation keeps one core busy: the others draw (one worker on two cores)
    with PoolDrawn(makers, max(1, default_workers() - 1)) as predrawn:
        line = requests.readline()
        if not line.endswith("\n"):  # the command ended without asking for a report
            return
        try:
            path = build_report(
                json.loads(line)["run_dir"],
                progress=lambda figure, total: send({"drew": figure, "total": total}),
                predrawn=predrawn,
            )
        except InputError as exc:
            send({"problems": [asdict(p) for p in exc.problems]})
            return
        except Exception as exc:
            send({"error": str(exc) or type(exc).__name__})
            return
    send({"report": str(path)})


class BackgroundReport:
    """A forked process that draws the scenario's figures during ``detente run`` and then
    builds the run's report.

    Use :meth:`start` in a ``with`` block around the run and its report; leaving the block
    ends the process and its pool (Ctrl-C included) and frees everything.
    """

    def __init__(self, pid: int, requests: IO[str], replies: IO[str]) -> None:
        self.pid: int | None = pid
        self._requests = requests
        self._replies = replies

    @classmethod
    def start(cls, scenario: str | Path) -> BackgroundReport | None:
        """Fork the process for ``scenario`` (a built-in name or a YAML file, as ``detente
        run`` takes it), or None where it would not help: no fork (Windows), one CPU or
        ``$DETENTE_REPORT_WORKERS=1`` (no free core to draw on)."""
        if not can_fork() or default_workers() < 2:
            return None
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
        except OSError:  # no process to spare: the command builds the report itself
            pid = -1
        finally:
            if pid != 0:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        if pid == 0:  # the child: never returns
            code = 0
            try:
                os.setpgid(0, 0)  # its own group, which its pool joins: killed as one
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # discards a pending Ctrl-C
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                os.close(request_write)
                os.close(reply_read)
                with (
                    open(request_read, encoding="utf-8") as requests,
                    open(reply_write, "w", encoding="utf-8") as replies,
                ):
                    _child_main(scenario, requests, replies)
            except BaseException:  # the command reports problems; this process just stops
                code = 1
            finally:
                os._exit(code)
        os.close(request_read)
        os.close(reply_write)
        if pid < 0:
            os.close(request_write)
            os.close(reply_read)
            return None
        with contextlib.suppress(OSError):  # also set here, so that no kill can miss it
            os.setpgid(pid, pid)
        return cls(
            pid, open(request_write, "w", encoding="utf-8"), open(reply_read, encoding="utf-8")
        )

    def build(self, run_dir: Path, progress: ReportProgress | None = None) -> Path:
        """Have the process build the report of the run stored in ``run_dir``; the file
        written (see :func:`~detente.report.html.build_report`).

        Raises
        ------
        InputError
            The report's input problems (e.g. its file cannot be written).
        ReportFailedError
            A fault while building it.
        BackgroundGoneError
            The process ended without an answer: build the report here instead.
        """
        try:
            self._requests.write(json.dumps({"run_dir": str(run_dir)}) + "\n")
            self._requests.flush()
        except (OSError, ValueError):
            raise BackgroundGoneError("the report process has ended") from None
        while True:
            message = self._next_message()
            if "drew" in message and progress is not None:
                progress(str(message["drew"]), int(message["total"]))
            elif "report" in message:
                return Path(str(message["report"]))
            elif "problems" in message:
                raise InputError([InputProblem(**p) for p in message["problems"]])
            elif "error" in message:
                raise ReportFailedError(str(message["error"]))

    def _next_message(self) -> dict[str, Any]:
        try:
            line = self._replies.readline()
            message = json.loads(line) if line.endswith("\n") else None
        except (OSError, ValueError):
            message = None
        if not isinstance(message, dict):  # gone, or cut off mid-line
            raise BackgroundGoneError("the report process ended without an answer")
        return message

    def close(self) -> None:
        """End the process and its pool if they still run, reap it, free its pipes."""
        if self.pid is not None:
            for kill in (os.killpg, os.kill):  # the group; the process if it had none yet
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = None
        for pipe in (self._requests, self._replies):
            with contextlib.suppress(OSError):
                pipe.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
