"""Sizes from the command line are checked before anything is allocated or run."""

from __future__ import annotations

import time

import pytest

from detente.errors import InputError
from detente.experiments import budget
from detente.experiments.sampling import unit_sample


def test_human_bytes() -> None:
    assert budget.human_bytes(512) == "512 bytes"
    assert budget.human_bytes(1536) == "1.5 KiB"
    assert budget.human_bytes(19.0 * 2**40) == "19.0 TiB"


def test_a_sample_that_cannot_fit_is_refused_before_allocating() -> None:
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"sampling 1,000,000,000 states x 871 uncertainties"):
        unit_sample(10**9, 871)
    assert time.perf_counter() - t0 < 1.0


def test_a_sample_that_fits_is_drawn() -> None:
    assert unit_sample(4, 3).shape == (4, 3)


def test_plan_refuses_too_many_worlds_per_cell() -> None:
    with pytest.raises(InputError, match="more than the 10,000,000 worlds"):
        budget.check_plan(2, 3, budget.MAX_WORLDS + 1, 256)
    budget.check_plan(2, 3, budget.MAX_WORLDS, 256)


def test_disk_check_names_the_directory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        budget.check_disk(tmp_path / "new" / "dir", 10**6, 3, 10**7)
    assert str(tmp_path / "new" / "dir") in str(info.value)
    budget.check_disk(tmp_path, 2, 3, 100)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["compare", "us-iran-2001", "--states", "1000000000", "--worlds", "2"], "TiB of memory"),
        (["compare", "us-iran-2001", "--states", "2", "--worlds", "100000000"], "10,000,000"),
        (["simulate", "us-iran-2001", "-s", "containment", "--worlds", "100000000000"], "10,000,000"),
        (["simulate", "us-iran-2001", "-s", "containment", "--seed", "-1"], "--seed"),
        (["simulate", "us-iran-2001", "-s", "containment", "--seed", str(2**63)], "--seed"),
    ],
)
def test_sizes_and_seeds_from_the_command_line(args, needle, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if args[0] == "compare":
        args = [*args, "--db", str(tmp_path / "r.duckdb")]
    result = run_cli(*args)
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines
    assert not (tmp_path / "r.duckdb").exists()


@pytest.mark.parametrize("seed", ["-1", str(2**63)])
@pytest.mark.parametrize("command", ["compare", "explore", "sensitivity"])
def test_experiment_seeds_are_checked_at_the_edge(command, seed, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = {
        "compare": [],
        "explore": ["--strategy", "containment", "--outcome", "dialogue < 20"],
        "sensitivity": ["--strategy", "containment", "--outcome", "dialogue"],
    }[command]
    result = run_cli(
        command, "us-iran-2001", *extra, "--seed", seed, "--worlds", "2",
        "--db", str(tmp_path / "r.duckdb"),
    )
    assert result.exit_code == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "--seed" in line


def test_jobs_check_the_seed_for_python_callers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from detente.experiments import jobs

    with pytest.raises(InputError, match=r"--seed must lie in 0 \.\. 2\*\*63-1, got -5"):
        jobs.compare("us-iran-2001", states=2, worlds=2, seed=-5, db=tmp_path / "r.duckdb")
