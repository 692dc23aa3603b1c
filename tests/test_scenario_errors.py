"""Bad scenario input: one located line per problem, exit code 2, never a traceback."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from detente.errors import InputError
from detente.scenario import load_scenario, yaml_loader

MINIMAL = Path(__file__).parent / "data" / "minimal-system.yaml"
BASE = MINIMAL.read_text()


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def _edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


CASES: list[tuple[str, Callable[[], str], str, str | None]] = [
    # (case id, text factory, expected message regex, line marker in the edited text)
    ("yaml syntax", lambda: _edit("  - {id: north, name: North}", "  - {id: north, name: North"),
     r"YAML syntax error", None),
    ("unknown key", lambda: _edit("    camp: dove", "    cmap: dove"),
     r"unknown key 'cmap' \(did you mean \"camp\"\?\)", "cmap: dove"),
    ("missing field", lambda: _edit("    name: North reformers\n", ""),
     r"actors\[1\]\.name: missing required field 'name'", None),
    ("wrong type", lambda: _edit("    clout: 30", "    clout: thirty"),
     r"actors\[1\]\.clout: expected a number or a range mapping.*found 'thirty'", "clout: thirty"),
    ("nan", lambda: _edit("    clout: 30", "    clout: .nan"),
     r"actors\[1\]\.clout: expected a finite number", "clout: .nan"),
    ("inf in range", lambda: _edit("clout: {low: 40, mode: 50, high: 60",
                                  "clout: {low: 40, mode: 50, high: .inf"),
     r"actors\[0\]\.clout.*finite", None),
    ("out of bounds", lambda: _edit("positions: {trade: 20, talks: 80}",
                                   "positions: {trade: 20, talks: 180}"),
     r"actors\[1\]\.positions\.talks: value 180\.\.180 lies outside issue 'talks''s bounds \[0, 100\]",
     "talks: 180"),
    ("negative clout", lambda: _edit("    clout: 30", "    clout: -3"),
     r"actors\[1\]\.clout: clout must be >= 0, got -3", "clout: -3"),
    ("negative salience", lambda: _edit("saliences: {trade: 50, talks: 70}",
                                       "saliences: {trade: -5, talks: 70}"),
     r"actors\[1\]\.saliences\.trade: salience must lie in \[0, 100\], got -5", None),
    ("duplicate id", lambda: _edit("  - id: south-gov", "  - id: reformers"),
     r"actors\[2\]\.id: duplicate id 'reformers' \(first used at actors\[1\]\)", None),
    ("duplicate key", lambda: _edit("    camp: dove", "    camp: dove\n    camp: dovish"),
     r"duplicate key 'camp' \(first at line \d+\)", "camp: dovish"),
    ("unknown actor", lambda: _edit("approvals: [south-gov]", "approvals: [south-gv]"),
     r"instruments\[0\]\.approvals\[0\]: unknown actor 'south-gv' \(did you mean \"south-gov\"\?\)",
     None),
    ("unknown issue", lambda: _edit("effects: {trade: -10}", "effects: {trad: -10}"),
     r"instruments\[0\]\.effects\.trad: unknown issue 'trad' \(did you mean \"trade\"\?\)", None),
    ("unknown instrument", lambda: _edit("requires: []", "requires: [ease-trad]"),
     r"instruments\[1\]\.requires\[0\]: unknown instrument 'ease-trad'", None),
    ("unknown country", lambda: _edit("    country: south\n    kind: government",
                                     "    country: sout\n    kind: government"),
     r"actors\[2\]\.country: unknown country 'sout'", None),
    ("unknown veto holder", lambda: _edit("    holder: leader", "    holder: leeder"),
     r"institutions\[0\]\.holder: unknown actor 'leeder'", "holder: leeder"),
    ("position without salience", lambda: _edit("saliences: {trade: 50, talks: 70}",
                                               "saliences: {trade: 50}"),
     r"actors\[1\]\.positions\.talks: position given for issue 'talks' but no salience", None),
    ("top-level list", lambda: "- 1\n- 2\n", r"expected a mapping at the top level", None),
]


@pytest.mark.parametrize("case, factory, pattern, marker", CASES, ids=[c[0] for c in CASES])
def test_each_bad_input_gives_a_located_message(
    tmp_path: Path, case: str, factory: Callable[[], str], pattern: str, marker: str | None
) -> None:
    text = factory()
    path = _write(tmp_path, text)
    problems = _problems(path)
    assert any(re.search(pattern, p) for p in problems), problems
    for p in problems:
        assert p.startswith(str(path)), p
    if marker is not None:
        line = _line_of(text, marker)
        assert any(p.startswith(f"{path}:{line}:") for p in problems), (line, problems)


def test_all_problems_are_reported_in_one_pass(tmp_path: Path) -> None:
    text = BASE.replace("    camp: dove", "    cmap: dove").replace("    clout: 30", "    clout: x")
    text = text.replace("name: Ally government", "nam: Ally government")
    problems = _problems(_write(tmp_path, text))
    assert len(problems) >= 3, problems


@pytest.mark.parametrize(
    "content, pattern",
    [
        (b"", r"file is empty"),
        (b"   \n\n# only a comment\n", r"file is empty|holds no YAML document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"binary file"),
        (b"id: \xff\xfe bad", r"not UTF-8 text"),
    ],
)
def test_empty_and_binary_files(tmp_path: Path, content: bytes, pattern: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    problems = _problems(path)
    assert len(problems) == 1 and re.search(pattern, problems[0]), problems


def test_file_over_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_loader, "MAX_BYTES", 1000)
    path = _write(tmp_path, BASE)
    assert len(BASE) > 1000
    problems = _problems(path)
    assert re.search(r"over the 1,000-byte limit", problems[0]), problems


def test_real_size_limit_rejects_a_huge_file(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("x: " + "a" * (yaml_loader.MAX_BYTES + 10))
    assert "byte limit" in _problems(path)[0]


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    path = _write(tmp_path, "\n".join(lines) + "\n")
    problems = _problems(path)
    assert re.search(r"alias bomb", problems[0]), problems


def test_missing_file_and_unknown_builtin_suggests(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or built-in scenario"):
        load_scenario(tmp_path / "nope.yaml")


def test_cli_validate_prints_one_line_per_problem_and_exits_2(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    # a schema error in one actor and a bounds error in another: both in one run
    text = BASE.replace("    camp: dove", "    cmap: dove").replace("    clout: 100", "    clout: -3")
    path = _write(tmp_path, text)
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2, result.stderr
    assert all(line.startswith(f"error: {path}:") for line in lines)
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_validate_accepts_valid_file(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("validate", str(MINIMAL))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: minimal - 4 actors, 2 issues")
