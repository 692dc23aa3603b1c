"""Loaders of actor tables: real files load, bad files give located problems all at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_DATA
from detente.errors import InputError
from detente.scenario import load_scenario
from detente.scenario import tables as tables_mod
from detente.scenario.tables import (
    load_actor_csv,
    load_deu,
    load_ktab,
    load_tables,
    tables_from_scenario,
)

DATA = SHARED_DATA
KTAB = sorted((DATA / "ktab").glob("*.csv"))


@pytest.mark.parametrize("path", KTAB, ids=lambda p: p.name)
def test_every_ktab_file_loads_with_announced_shape(path: Path) -> None:
    first = [c.strip() for c in path.read_text().splitlines()[0].split(",")]
    n_actors, n_dims = int(first[2]), int(first[3])
    tables = load_ktab(path)
    assert len(tables) == n_dims
    for t in tables:
        assert t.n == n_actors
        assert np.all((t.position >= 0) & (t.position <= 100))
        assert np.all(t.salience >= 0) and np.all(np.isfinite(t.capability))
    assert load_tables(path)[0].issue == tables[0].issue  # content dispatch finds KTAB


def test_ktab_dimension_names_and_trailing_cells() -> None:
    six = load_ktab(DATA / "ktab" / "dummyData_6Dim.csv")
    assert [t.issue for t in six] == [f"Dim{k}" for k in range(6)]
    soe = load_ktab(DATA / "ktab" / "SOE-Pol-Comp.csv")
    assert [t.issue for t in soe] == ["Policy", "Competitive"]
    assert soe[0].actors[0] == "XJ" and soe[0].capability[0] == 100.0


def test_deu_issues_outcomes_and_meta() -> None:
    tables = load_deu(DATA / "deu3" / "deu3.tsv")
    assert len(tables) == 364
    assert sum(t.outcome is not None for t in tables) == 353
    first = tables[0]
    assert first.meta["proposal"] == "d00032" and first.meta["voting"] == "QMV"
    assert first.meta["procedure"] == "COD" and first.outcome == 100.0 and first.reference == 0.0
    assert set(first.capability) == {1.0}
    gdp = load_deu(DATA / "deu3" / "deu3.tsv", capability="gdp")[0]
    assert gdp.capability[gdp.actors.index("fr")] == pytest.approx(2.8)
    assert gdp.capability[gdp.actors.index("de")] == pytest.approx(4.1)


def test_plain_csv_and_scenario_agree() -> None:
    (csv_table,) = load_actor_csv(DATA / "bargaining-cases" / "emission-standards-1994.csv")
    (yaml_table,) = tables_from_scenario(load_scenario("emission-standards-1994"))
    np.testing.assert_allclose(csv_table.position, yaml_table.position)
    np.testing.assert_allclose(csv_table.capability, yaml_table.capability)
    np.testing.assert_allclose(csv_table.salience, yaml_table.salience)
    assert yaml_table.scale == (0.0, 10.0)


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_tables(path)
    return [str(p) for p in info.value.problems]


def test_all_problems_of_a_csv_reported_in_one_pass(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("actor,capability,position,salience\n"
                 "a,1,abc,50\n"
                 "b,-2,30,nan\n"
                 "c,1,140,-5\n")
    found = problems(f)
    assert any(":2: position: expected a number" in p for p in found)
    assert any(":3: capability: capability must be >= 0" in p for p in found)
    assert any(":3: salience: expected a finite number" in p for p in found)
    assert any(":4: salience: salience must be >= 0" in p for p in found)
    assert len(found) >= 4


def test_missing_columns_empty_binary_and_too_large(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "m.csv"
    missing.write_text("actor,position\nA,3\n")
    assert any("missing column(s) capability, salience" in p for p in problems(missing))
    empty = tmp_path / "e.csv"
    empty.write_text("  \n")
    assert any("empty" in p for p in problems(empty))
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"actor\x00\x01\x02")
    assert any("binary" in p for p in problems(binary))
    big = tmp_path / "big.csv"
    big.write_text("actor,capability,position,salience\n" + "a,1,2,3\n" * 50)
    monkeypatch.setattr(tables_mod, "MAX_BYTES", 100)
    assert any("refused" in p for p in problems(big))


def test_bad_ktab_rows_are_located(tmp_path: Path) -> None:
    f = tmp_path / "k.csv"
    f.write_text("S, d, 2, 1,\nActor, Description, Power, P Position, P Salience,\n"
                 "A, x, 10, 50, 20,\nB, y, ten, 120, 20,\n")
    found = problems(f)
    assert any(":4: Power: expected a number" in p for p in found)
    assert any(":4: P Position: position 120 lies outside" in p for p in found)


def test_unknown_name_suggests_builtin() -> None:
    with pytest.raises(InputError, match="did you mean"):
        load_tables("emission-standards-1995")


def test_shipped_reference_data_is_the_projects_reference_set() -> None:
    """The package's copy equals ../shared/data byte for byte, where that set is present."""
    import filecmp

    upstream = SHARED_DATA.parents[4] / "shared" / "data"
    if not upstream.is_dir():
        pytest.skip(f"no upstream reference set at {upstream}")
    shipped = sorted(p.relative_to(SHARED_DATA) for p in SHARED_DATA.rglob("*") if p.is_file())
    expected = sorted(p.relative_to(upstream) for p in upstream.rglob("*") if p.is_file())
    assert [p for p in shipped if p.name != "README.md"] == [
        p for p in expected if p.name != "README.md"
    ]
    for rel in expected:
        if rel.name != "README.md":
            assert filecmp.cmp(SHARED_DATA / rel, upstream / rel, shallow=False), rel
