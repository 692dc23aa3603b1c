"""Long runs started from the page: a comparison in a background thread, its progress, cancel.

A run is ``detente compare`` itself (:func:`detente.experiments.jobs.compare`), writing to
the same results database and run folders as the CLI, so the page and the CLI see the
same runs. Its progress is the share of chunks finished; cancelling stops it between two
batches of chunks, after the finished ones are stored (as Ctrl-C does for the CLI: the same
comparison started again, or ``detente compare ... --resume``, continues from there).
At most :data:`MAX_RUNNING` run at once, each within :data:`MAX_STATES` states and
:data:`MAX_WORLDS` worlds per cell, and :data:`MAX_SECONDS` of wall time.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detente.errors import InputError
from detente.serve.guard import RefusedError

MAX_RUNNING = 1
MAX_STATES = 512
MAX_WORLDS = 500
MAX_SECONDS = 900.0
KEPT = 20


class CancelledError(Exception):
    """Raised inside a run's progress callback to stop it."""


@dataclass
class Task:
    """One long run: what it is, how far it got, how it ended."""

    id: str
    scenario: str
    states: int
    worlds: int
    seed: int
    client: str
    status: str = "running"
    done: int = 0
    total: int = 0
    message: str = ""
    run_id: str | None = None
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)

    def view(self) -> dict[str, Any]:
        """What the page polls."""
        return {
            "id": self.id, "scenario": self.scenario, "states": self.states,
            "worlds": self.worlds, "seed": self.seed, "status": self.status,
            "done": self.done, "total": self.total, "message": self.message,
            "run_id": self.run_id, "seconds": round(time.monotonic() - self.started, 1),
        }


class Tasks:
    """The server's long runs."""

    def __init__(self, root: Path, db: Path) -> None:
        self.root, self.db = root, db
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()

    def start(self, scenario_key: str, source: str | Path, states: int, worlds: int,
              seed: int, client: str, text: str | None = None) -> Task:
        """Start a comparison of the scenario's options in a background thread.

        ``source`` is a built-in name; ``text`` (an upload's YAML) is written to a temporary
        file for the job to read.

        Raises
        ------
        InputError
            Counts out of range.
        RefusedError
            Another long run is still going.
        """
        problems = []
        if not 2 <= states <= MAX_STATES:
            problems.append(f"states must be 2 to {MAX_STATES} (got {states})")
        if not 1 <= worlds <= MAX_WORLDS:
            problems.append(f"worlds must be 1 to {MAX_WORLDS} per cell (got {worlds})")
        if problems:
            raise InputError.single("run", "; ".join(problems))
        with self._lock:
            running = [t for t in self._tasks.values() if t.status == "running"]
            if len(running) >= MAX_RUNNING:
                raise RefusedError(429, "a long run is already going; wait for it or cancel it")
            task = Task(secrets.token_hex(6), scenario_key, states, worlds, seed, client)
            self._tasks[task.id] = task
            finished = [k for k, t in self._tasks.items() if t.status != "running"]
            for k in finished[:-KEPT]:
                del self._tasks[k]
        thread = threading.Thread(target=self._run, args=(task, source, text), daemon=True)
        thread.start()
        return task

    def _run(self, task: Task, source: str | Path, text: str | None) -> None:
        from detente.experiments import jobs

        def progress(done: int, total: int) -> None:
            task.done, task.total = done, total
            if task.cancel.is_set():
                raise CancelledError
            if time.monotonic() - task.started > MAX_SECONDS:
                raise CancelledError

        try:
            with tempfile.TemporaryDirectory() as tmp:
                if text is not None:
                    source = Path(tmp) / f"{task.scenario.replace(':', '-')}.yaml"
                    source.write_text(text, encoding="utf-8")
                result = jobs.compare(source, states=task.states, worlds=task.worlds,
                                      seed=task.seed, out=self.root, db=self.db,
                                      resume=True, progress=False, on_progress=progress)
            task.run_id, task.status = result.run_id, "done"
            task.done = task.total = max(task.total, task.done)
            task.message = f"stored as run {result.run_id}"
        except CancelledError:
            task.status = "cancelled"
            task.message = ("stopped; the finished chunks are stored, and starting the same "
                            "comparison again continues from them")
        except InputError as exc:
            task.status, task.message = "failed", "; ".join(str(p) for p in exc.problems)
        except Exception as exc:  # a fault: say it, keep serving
            task.status, task.message = "failed", f"{type(exc).__name__}: {exc}"[:300]

    def get(self, task_id: str) -> Task:
        """The task ``task_id`` (InputError when unknown)."""
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None:
            raise InputError.single("task", f"no run {task_id!r} on this server")
        return task

    def cancel(self, task_id: str) -> Task:
        """Ask a run to stop (it stops after its current batch of chunks)."""
        task = self.get(task_id)
        task.cancel.set()
        return task

    def all(self) -> list[Task]:
        """Every run this server started and still remembers, newest first."""
        with self._lock:
            return sorted(self._tasks.values(), key=lambda t: -t.started)


__all__ = ["MAX_RUNNING", "MAX_STATES", "MAX_WORLDS", "CancelledError", "Task", "Tasks"]
