"""Faults of the results store and the file system: one line, exit 2, nothing damaged.

Damaged, truncated, foreign and incompatible databases; impossible paths; a lock held by
another process; disk full (a real 1 MiB tmpfs where the machine allows mounting one, and
a file-size limit, which works anywhere). Some cases run through the installed console
script, the path users take.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from detente.errors import InputError
from detente.experiments.runner import ExperimentPlan, run_experiment
from detente.experiments.sampling import sample_states
from detente.experiments.testing import SYNTHETIC_SCENARIO_YAML, synthetic_model
from detente.scenario import load_scenario
from detente.store.duckdb import ChunkResult, ResultStore

SCRIPT = Path(sys.executable).with_name("detente")
TINY_COMPARE = ["compare", "us-iran-2001", "--states", "2", "--worlds", "2"]


def console(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``detente`` console script with this checkout's sources."""
    if not SCRIPT.exists():
        pytest.skip(f"console script not installed at {SCRIPT}")
    src = str(Path(__file__).resolve().parents[1] / "src")
    full_env = {**os.environ, "PYTHONPATH": src, **(env or {})}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def assert_one_line_error(code: int, stderr: str, *needles: str) -> str:
    """Exit 2, no traceback, exactly one ``error:`` line holding every needle."""
    assert code == 2, stderr
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- a finished store to damage ------------------------------------------------------------
@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("good")
    scenario_path = root / "synthetic.yaml"
    scenario_path.write_text(SYNTHETIC_SCENARIO_YAML)
    scenario = load_scenario(scenario_path)
    plan = ExperimentPlan(
        "compare",
        scenario,
        sample_states(scenario, 4, "lhs", 1),
        ("containment", "engagement"),
        50,
        1,
    )
    db = root / "results.duckdb"
    run_experiment(plan, ResultStore(db), model=synthetic_model, progress=False)
    assert not db.with_name(db.name + ".wal").exists()
    return db


def _duckdb_checksum(block: bytes) -> int:
    """DuckDB's header checksum (XOR of 64-bit words times a constant, seeded 5381)."""
    result = 5381
    for (word,) in struct.iter_unpack("<Q", block):
        result ^= (word * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    return result


def _damage(good: bytes, kind: str) -> bytes:
    if kind == "text":
        return b"run_id,state\nabc,1\n"
    if kind == "empty":
        return b""
    if kind == "sqlite":
        return b"SQLite format 3\x00" + bytes(4080)
    if kind == "truncated-header":
        return good[:20000]
    if kind == "truncated-data":
        return good[: len(good) // 2]
    if kind == "checksum":
        return good[:5000] + b"\xff" * 3000 + good[8000:]
    if kind == "newer-version":
        # storage version 2000 in the main header, with its checksum made right again
        head = bytearray(good[:4096])
        head[12:20] = struct.pack("<Q", 2000)
        head[0:8] = struct.pack("<Q", _duckdb_checksum(bytes(head[8:4096])))
        return bytes(head) + good[4096:]
    raise AssertionError(kind)


DAMAGE_WORDS = {
    "text": "is not a DuckDB database",
    "empty": "is empty",
    "sqlite": "is not a DuckDB database",
    "truncated-header": "is damaged: the file is truncated",
    "truncated-data": "is damaged: the file is truncated",
    "checksum": "is damaged: a block's checksum does not match",
    "newer-version": "incompatible DuckDB version (its storage version is 2000",
}


@pytest.mark.parametrize("kind", sorted(DAMAGE_WORDS))
def test_damaged_database_one_line_and_untouched(
    kind: str, good_db: Path, tmp_path: Path, run_cli
) -> None:
    db = tmp_path / "results.duckdb"
    db.write_bytes(_damage(good_db.read_bytes(), kind))
    before = digest(db)
    for args in (
        ["export", "--db", str(db), "--out", str(tmp_path / "parquet")],
        [*TINY_COMPARE, "--db", str(db)],
    ):
        result = run_cli(*args)
        assert_one_line_error(result.exit_code, result.stderr, str(db), DAMAGE_WORDS[kind])
        assert digest(db) == before
    assert not (tmp_path / "parquet").exists() or not any((tmp_path / "parquet").iterdir())


def test_damaged_database_through_console_script(good_db: Path, tmp_path: Path) -> None:
    kind = "truncated-header"
    db = tmp_path / "results.duckdb"
    db.write_bytes(_damage(good_db.read_bytes(), kind))
    before = digest(db)
    result = console("export", "--db", str(db), "--out", str(tmp_path / "out"))
    assert_one_line_error(result.returncode, result.stderr, str(db), DAMAGE_WORDS[kind])
    assert digest(db) == before


def test_foreign_duckdb_database_is_refused_not_given_a_schema(tmp_path: Path) -> None:
    db = tmp_path / "mine.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE prices (day DATE, price DOUBLE)")
    with pytest.raises(InputError, match=r"not a detente results store .*prices"):
        ResultStore(db).runs()
    with duckdb.connect(str(db)) as con:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert tables == {"prices"}


def test_sqlite_file_is_refused_before_duckdb_sees_it(tmp_path: Path) -> None:
    # DuckDB would try to download its SQLite extension for such a file
    db = tmp_path / "results.duckdb"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(InputError, match="is not a DuckDB database"):
        ResultStore(db).runs()


# -- paths that cannot work ----------------------------------------------------------------
def test_impossible_database_paths(tmp_path: Path, run_cli) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    long_name = tmp_path / ("n" * 5000 + ".duckdb")
    cases = {
        str(tmp_path): "is a directory; expected a results database file",
        ".": "is a directory; expected a results database file",
        "/dev/null": "is a character device; expected a regular file",
        "/proc/detente.duckdb": "is under /proc, a kernel file system",
        "/sys/detente.duckdb": "is under /sys, a kernel file system",
        str(a_file / "results.duckdb"): "is a regular file, so it cannot hold",
        str(long_name): "is 5007 characters long; the file system allows at most",
    }
    for db, words in cases.items():
        result = run_cli(*TINY_COMPARE, "--db", db)
        line = assert_one_line_error(result.exit_code, result.stderr, words)
        assert len(line) < 400, line  # a 5,000-character name is shown shortened
    assert a_file.read_text() == "x"


def test_impossible_output_directories(good_db: Path, tmp_path: Path, run_cli) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = {
        str(a_file): "is a regular file, not a directory",
        str(a_file / "sub"): "is a regular file, so it cannot hold",
        "/proc/detente-out": "is under /proc",
        "/sys/detente-out": "is under /sys",
        str(tmp_path / ("d" * 5000)): "is 5000 characters long",
    }
    for out, words in cases.items():
        result = run_cli("export", "--db", str(good_db), "--out", out)
        assert_one_line_error(result.exit_code, result.stderr, words)
    result = run_cli(*TINY_COMPARE, "--out", str(a_file / "x"))
    assert_one_line_error(result.exit_code, result.stderr, "a-file", "cannot hold")


def test_impossible_path_through_console_script() -> None:
    result = console(*TINY_COMPARE, "--db", "/dev/null")
    assert_one_line_error(result.returncode, result.stderr, "/dev/null", "character device")


def test_export_of_a_store_without_runs(tmp_path: Path, run_cli) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    result = run_cli("export", "--db", str(db), "--out", str(tmp_path / "out"))
    assert_one_line_error(result.exit_code, result.stderr, "holds no runs")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_export_leaves_no_temporary_files(good_db: Path, tmp_path: Path) -> None:
    files = ResultStore(good_db).export_parquet(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f.name for f in files)


# -- a lock held by another process --------------------------------------------------------
HOLD_SIDECAR = textwrap.dedent(
    """
    import sys, time
    from detente.store.duckdb import ResultStore
    with ResultStore(sys.argv[1]).connect():
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)
HOLD_DUCKDB = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


@pytest.fixture()
def holder(good_db: Path, tmp_path: Path) -> Iterator[tuple[Path, list[subprocess.Popen[str]]]]:
    db = tmp_path / "held.duckdb"
    shutil.copy(good_db, db)
    procs: list[subprocess.Popen[str]] = []
    yield db, procs
    for proc in procs:
        proc.kill()
        proc.wait()


def _hold(db: Path, script: str, procs: list[subprocess.Popen[str]]) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(db), "30"], stdout=subprocess.PIPE, text=True
    )
    procs.append(proc)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc.pid


def test_held_lock_says_who_waits_and_ends_cleanly(holder) -> None:
    db, procs = holder
    pid = _hold(db, HOLD_SIDECAR, procs)
    started = time.monotonic()
    result = console(
        "export", "--db", str(db), "--out", str(db.parent / "out"),
        env={"DETENTE_LOCK_TIMEOUT": "1"},
    )  # fmt: skip
    seconds = time.monotonic() - started
    waiting = [line for line in result.stderr.splitlines() if line.startswith("note:") and "waiting up to" in line]
    assert len(waiting) == 1 and f"pid {pid} (" in waiting[0] and "up to 1 s" in waiting[0]
    assert_one_line_error(result.returncode, result.stderr, str(db), "still in use", f"pid {pid}")
    assert seconds < 30
    assert not (db.parent / "out").exists()


def test_database_held_by_another_program(holder) -> None:
    db, procs = holder
    pid = _hold(db, HOLD_DUCKDB, procs)  # plain DuckDB: no sidecar lock, DuckDB's own lock
    notices: list[str] = []
    with pytest.raises(
        InputError, match=rf"still in use after 1 s by another program \(pid {pid}\)"
    ):
        ResultStore(db, timeout=1, notify=notices.append).runs()
    assert len(notices) == 1 and f"pid {pid}" in notices[0]


def test_held_lock_notice_comes_at_once_and_the_wait_ends_when_freed(holder) -> None:
    db, procs = holder
    pid = _hold(db, HOLD_SIDECAR, procs)
    notices: list[tuple[float, str]] = []
    started = time.monotonic()
    store = ResultStore(db, timeout=30, notify=lambda m: notices.append((time.monotonic(), m)))
    # free the database 1.5 s from now; the store must wait, say so early, then proceed
    subprocess.Popen([sys.executable, "-c", f"import os,time; time.sleep(1.5); os.kill({pid}, 9)"])
    assert not store.runs().empty
    assert len(notices) == 1 and f"pid {pid}" in notices[0][1]
    assert notices[0][0] - started < 1.2
    assert time.monotonic() - started >= 1.4


def test_lock_timeout_setting_is_checked(tmp_path: Path, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("DETENTE_LOCK_TIMEOUT", "soon")
    result = run_cli(*TINY_COMPARE, "--db", str(tmp_path / "r.duckdb"))
    assert_one_line_error(result.exit_code, result.stderr, "$DETENTE_LOCK_TIMEOUT", "'soon'")


# -- disk full and file-size limits --------------------------------------------------------
@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root and a kernel that lets this process mount)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root; the file-size-limit tests cover writes")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _grow(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)


def test_disk_full_compare_one_line_then_resume(small_disk: Path) -> None:
    db = small_disk / "results.duckdb"
    result = console(*TINY_COMPARE, "--db", str(db))
    assert_one_line_error(
        result.returncode, result.stderr, str(db), "no space left on device", "--resume"
    )
    _grow(small_disk)
    result = console(*TINY_COMPARE, "--db", str(db), "--resume")
    assert result.returncode == 0, result.stderr
    runs = ResultStore(db).runs()
    assert list(runs["status"]) == ["done"]


def _chunk(state: int, start: int, n: int = 2000) -> ChunkResult:
    return ChunkResult(state, "a", start, n, {"x": [float(i) for i in range(n)]})  # type: ignore[dict-item]


def test_disk_full_keeps_committed_chunks(small_disk: Path) -> None:
    import pandas as pd

    from detente.store.duckdb import RunInfo

    _grow(small_disk)  # room for the first chunk; a filler takes the rest
    store = ResultStore(small_disk / "results.duckdb")
    info = RunInfo("r1", "compare", "s", "h", "v", "m", 1, 2, 4000, ("a",))
    store.start_run(info, pd.DataFrame({"p": [0.1, 0.2]}), resume=False)
    assert store.write_chunks("r1", [_chunk(0, 0)]) == 1
    filler = small_disk / "filler"
    with open(filler, "wb") as fh, pytest.raises(OSError):
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()
    with pytest.raises(InputError, match="no space left on device"):
        store.write_chunks("r1", [_chunk(1, 0), _chunk(1, 2000)])
    filler.unlink()
    reopened = ResultStore(small_disk / "results.duckdb")
    assert reopened.done_chunks("r1") == {(0, "a", 0)}
    assert reopened.write_chunks("r1", [_chunk(1, 0), _chunk(1, 2000)]) == 2
    assert reopened.count_summaries("r1") == 6000


def test_disk_full_report_write_leaves_nothing(small_disk: Path, monkeypatch) -> None:
    from detente.report import html

    out = small_disk / "report.html"
    out.write_text("the old report")
    monkeypatch.setattr(html, "render_report", lambda inputs: "x" * 2_000_000)
    with pytest.raises(InputError, match=r"report\.html: cannot write: no space left on device"):
        html.write_report(None, out)  # type: ignore[arg-type]
    assert sorted(p.name for p in small_disk.iterdir()) == ["report.html"]
    assert out.read_text() == "the old report"


FSIZE_CHILD = textwrap.dedent(
    """
    import resource, sys
    from detente.errors import InputError
    from detente.fileio import write_text_atomic
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    try:
        write_text_atomic(sys.argv[1], "y" * 100_000)
    except InputError as exc:
        print(exc)
    """
)


def test_file_size_limit_is_one_line_and_leaves_the_old_file(tmp_path: Path) -> None:
    import signal

    target = tmp_path / "report.html"
    target.write_text("the old report")
    done = subprocess.run(
        [sys.executable, "-c", FSIZE_CHILD, str(target)],
        capture_output=True,
        text=True,
        # an ignored SIGXFSZ survives exec, so the write fails with EFBIG instead of killing
        preexec_fn=lambda: signal.signal(signal.SIGXFSZ, signal.SIG_IGN),
        timeout=60,
    )
    assert done.stdout.strip() == f"{target}: cannot write: file too large", done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    assert target.read_text() == "the old report"


def test_a_holder_without_a_record_is_named_by_the_kernels_lock_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Another program's plain flock: the pid comes from /proc/locks."""
    import fcntl

    from detente.store.lock import PROC_LOCKS, describe_holder, lock_path

    if not PROC_LOCKS.exists():
        pytest.skip("no /proc/locks on this system")
    db = tmp_path / "r.duckdb"
    path = lock_path(db)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time\n"
         "f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); print('ready', flush=True)\n"
         "time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        assert describe_holder(path) == f"another process (pid {holder.pid})"
    finally:
        holder.kill()
        holder.wait()
    with open(path, "a+") as f:  # free again: nobody listed
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
