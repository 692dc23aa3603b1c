"""Read scenario YAML files safely and report every problem with its line and column.

The loader refuses what would hurt a user before parsing: empty files, binary files, files
over :data:`MAX_BYTES` and YAML alias bombs (expanded size above :data:`MAX_NODES`). It then
validates against :class:`~detente.scenario.schema.Scenario` and the cross-reference checks,
turning each pydantic error into one :class:`~detente.errors.InputProblem` that names the
file, the line and column of the offending node, the field path, what was found and what was
expected.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from detente.errors import InputError, InputProblem, did_you_mean
from detente.scenario import schema
from detente.scenario.schema import ID_SECTIONS, Loc, Scenario, reference_problems
from detente.scenario.textfile import read_bounded

MAX_BYTES = 5_000_000
"""Largest scenario file accepted (5 MB): the flagship is about 60 kB."""

MAX_NODES = 200_000
"""Largest number of YAML nodes after alias expansion (defends against alias bombs)."""

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""LibYAML's loader when available (about 5x faster on the flagship), else the pure one."""

_UNION_TAGS = {"float", "Uncertain", "int", "str", "bool", "date"}


def _model_owners() -> dict[str, list[str]]:
    """Field name -> names of the schema models that have it (for unknown-key hints)."""
    owners: dict[str, list[str]] = {}
    for obj in vars(schema).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            for name in obj.model_fields:
                owners.setdefault(name, []).append(_MODEL_WORDS.get(obj.__name__, obj.__name__))
    return owners


_MODEL_WORDS = {"Uncertain": "range mappings", "Provenance": "any element"}


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The schema model that holds the mapping at ``loc`` (None when it cannot be told)."""
    current: Any = Scenario
    for part in loc:
        current = _model_member(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            continue
        origin = get_origin(current)
        if origin in (list, dict) and get_args(current):
            current = get_args(current)[-1]  # list item or dict value
        else:
            return None
    model = _model_member(current)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _model_member(annotation: Any) -> Any:
    """Unwrap ``Annotated``/``Optional``/unions down to their one model member, if any."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        models = [
            a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if len(models) == 1:
            return models[0]
        lists = [a for a in get_args(annotation) if get_origin(a) in (list, dict)]
        return lists[0] if len(lists) == 1 else annotation
    return annotation


def _unknown_key(loc: Loc) -> str:
    """``unknown key 'x'`` with the closest key valid at that place, never ``x`` itself."""
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    here = set(model.model_fields) if model is not None else set()
    hint = did_you_mean(key, here - {key})
    if not hint:
        elsewhere = sorted(set(_model_owners().get(key, [])))
        if elsewhere:
            hint = f" ({key!r} is a key of {', '.join(elsewhere)}, not here)"
    return f"unknown key {key!r}{hint}"


def read_text(path: Path, max_bytes: int | None = None) -> str:
    """Read a user's text file, refusing missing, empty, oversized and binary files."""
    src = str(path)
    raw = read_bounded(path, MAX_BYTES if max_bytes is None else max_bytes)
    if b"\x00" in raw[:8192]:
        raise InputError.single(src, "binary file (contains NUL bytes), expected UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.single(
            src, f"not UTF-8 text (invalid byte at offset {exc.start}), expected UTF-8 text"
        ) from None
    if not text.strip():
        raise InputError.single(src, "file is empty, expected a scenario")
    return text


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # guards recursive aliases
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[key] = total
    return total


def _duplicate_keys(node: yaml.Node, src: str, seen: set[int]) -> list[InputProblem]:
    if id(node) in seen:
        return []
    seen.add(id(node))
    problems: list[InputProblem] = []
    if isinstance(node, yaml.MappingNode):
        keys: dict[str, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in keys:
                    problems.append(
                        InputProblem(
                            src,
                            f"duplicate key {k.value!r} (first at line {keys[k.value]})",
                            line=k.start_mark.line + 1,
                            column=k.start_mark.column + 1,
                        )
                    )
                else:
                    keys[k.value] = k.start_mark.line + 1
            problems.extend(_duplicate_keys(v, src, seen))
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            problems.extend(_duplicate_keys(child, src, seen))
    return problems


def parse_yaml(text: str, src: str) -> tuple[Any, yaml.Node]:
    """Parse YAML text into Python data and its node tree (for line numbers)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        what = exc.problem or "invalid YAML"
        return _raise_syntax(src, what, mark)
    except yaml.reader.ReaderError as exc:
        line, column = _line_column(text, exc.position)
        raise InputError.single(
            src,
            f"character #x{_code(exc.character):04x} is not allowed in YAML ({exc.reason})",
            line=line,
            column=column,
        ) from None
    except yaml.YAMLError as exc:
        raise InputError.single(src, "invalid YAML: " + " ".join(str(exc).split())) from None
    if node is None:
        raise InputError.single(src, "file holds no YAML document, expected a scenario")
    size = _expanded_size(node, {})
    if size > MAX_NODES:
        raise InputError.single(
            src,
            f"YAML expands to {size:,} nodes through aliases, over the {MAX_NODES:,} limit "
            "(alias bomb?)",
            line=1,
        )
    dupes = _duplicate_keys(node, src, set())
    if dupes:
        raise InputError(dupes)
    try:
        data = _Loader(text).construct_document(node)
    except yaml.MarkedYAMLError as exc:
        return _raise_syntax(src, exc.problem or "invalid YAML", exc.problem_mark)
    return data, node


def _code(character: str | int) -> int:
    return character if isinstance(character, int) else ord(character)


def _line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset in ``text``."""
    before = text[:position]
    line_start = before.rfind("\n") + 1
    return before.count("\n") + 1, position - line_start + 1


def _raise_syntax(src: str, what: str, mark: Any) -> Any:
    if mark is None:
        raise InputError.single(src, f"YAML syntax error: {what}")
    raise InputError.single(
        src, f"YAML syntax error: {what}", line=mark.line + 1, column=mark.column + 1
    )


def _node_at(node: yaml.Node, loc: Loc, key_node: bool = False) -> yaml.Node:
    """The deepest node along ``loc``; with ``key_node`` a final mapping key resolves to the key."""
    current = node
    for i, key in enumerate(loc):
        if isinstance(current, yaml.MappingNode):
            match = None
            for k, v in current.value:
                if isinstance(k, yaml.ScalarNode) and _same_key(k.value, key):
                    match = (k, v)
                    break
            if match is None:
                return current
            is_last = i == len(loc) - 1
            use_key = is_last and (key_node or not isinstance(match[1], yaml.ScalarNode))
            current = match[0] if use_key else match[1]
        elif isinstance(current, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(current.value):
                return current
            current = current.value[key]
        else:
            return current
    return current


def _same_key(text: str, key: str | int) -> bool:
    if text == str(key):
        return True
    try:
        return float(text) == float(key)
    except (TypeError, ValueError):
        return False


def _value_at(data: Any, loc: Loc) -> Any:
    for key in loc:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            try:
                data = data[float(key)]  # numeric keys (anchors)
            except (KeyError, IndexError, TypeError, ValueError):
                return None
    return data


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _split_union(loc: tuple[Any, ...], data: Any) -> tuple[Loc, str | None, Loc]:
    """Split a pydantic loc at a union-member tag: (base, tag, rest).

    A tag is a type name pydantic inserts (``float``, ``Uncertain``, ``date``...); a part that
    is a key of the document at that place is a field (an election's ``date``), not a tag.
    """
    for i, part in enumerate(loc):
        if isinstance(part, str) and (part in _UNION_TAGS or part.startswith("function-")):
            here = _value_at(data, tuple(loc[:i]))
            if isinstance(here, dict) and part in here:
                continue
            return tuple(loc[:i]), part, tuple(loc[i + 1 :])
    return tuple(loc), None, ()


def _message(err: Any, loc: Loc) -> str:
    kind = err["type"]
    found = err.get("input")
    if kind == "missing":
        return f"missing required field {err['loc'][-1]!r}"
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind == "finite_number":
        return f"expected a finite number, got {found}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if " got " in msg or isinstance(found, dict):
        return msg
    return f"{msg}; found {_describe(found)}"


def validation_problems(
    exc: ValidationError, data: Any, node: yaml.Node | None, src: str
) -> list[InputProblem]:
    """Turn a pydantic ValidationError into one problem per offending field."""
    problems: dict[Loc, InputProblem] = {}
    union_seen: set[Loc] = set()
    for err in exc.errors():
        base, tag, rest = (
            (tuple(err["loc"]), None, ())  # a missing field is never a union member
            if err["type"] == "missing"
            else _split_union(err["loc"], data)
        )
        if tag is not None:
            value = _value_at(data, base)
            if isinstance(value, dict):
                if "Uncertain" not in tag:
                    continue
                loc: Loc = (*base, *rest)
                message = _message(err, loc)
            else:
                if base in union_seen:
                    continue
                union_seen.add(base)
                loc = base
                message = (
                    f"expected a number or a range mapping like {{low: 1, mode: 2, high: 3}}; "
                    f"found {_describe(value)}"
                    if not (isinstance(value, float) and not math.isfinite(value))
                    else f"expected a finite number; found {value}"
                )
        else:
            loc = base
            message = _message(err, loc)
        key_node = err["type"] == "extra_forbidden"
        if loc and loc[-1] == "[key]":  # a mapping key failed (e.g. an anchor written 'nan')
            loc, key_node = loc[:-1], True
        problems.setdefault((*loc, len(problems)), _problem(src, node, loc, message, key_node))
    return list(problems.values())


def _problem(
    src: str, node: yaml.Node | None, loc: Loc, message: str, key_node: bool = False
) -> InputProblem:
    if node is None:
        return InputProblem(src, message, path=_path(loc) or None)
    target = _node_at(node, loc, key_node)
    return InputProblem(
        src,
        message,
        line=target.start_mark.line + 1,
        column=target.start_mark.column + 1,
        path=_path(loc) or None,
    )


def scenario_from_data(data: Any, src: str, node: yaml.Node | None = None) -> Scenario:
    """Validate parsed data as a scenario, reporting every problem at once."""
    if not isinstance(data, dict):
        raise InputError(
            [
                _problem(
                    src, node, (), f"expected a mapping at the top level, found {_describe(data)}"
                )
            ]
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, data, node, src)
        problems += [_problem(src, node, loc, msg) for loc, msg in _references_despite(exc, data)]
        if not problems:  # every error was folded into another: still say what pydantic saw
            problems = [
                _problem(src, node, tuple(e["loc"]), _message(e, tuple(e["loc"])))
                for e in exc.errors()[:5]
            ]
        raise InputError(problems) from None
    refs = reference_problems(scenario)
    if refs:
        raise InputError([_problem(src, node, loc, msg) for loc, msg in refs])
    return scenario


_REQUIRED_TEXT = {"id": "placeholder", "title": "placeholder"}


def _references_despite(exc: ValidationError, data: dict[str, Any]) -> list[tuple[Loc, str]]:
    """Cross-reference problems among the elements that did pass the schema.

    So that one run reports every problem, the elements with schema errors are set aside,
    the rest is validated again and checked for references; references to set-aside
    elements still count as known. Returns nothing when the damage is too broad to say.
    """
    drop: dict[str, set[int]] = {section: set() for section in ID_SECTIONS}
    pruned = dict(data)
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) >= 2 and loc[0] in drop and isinstance(loc[1], int):
            drop[str(loc[0])].add(loc[1])
        elif len(loc) == 1 and loc[0] in _REQUIRED_TEXT:
            pruned[str(loc[0])] = _REQUIRED_TEXT[str(loc[0])]
        else:
            return []
    known: dict[str, set[str]] = {}
    kept_index: dict[str, list[int]] = {}
    for section in ID_SECTIONS:
        items = data.get(section)
        if not isinstance(items, list):
            continue
        known[section] = {str(it["id"]) for it in items if isinstance(it, dict) and "id" in it}
        kept_index[section] = [i for i in range(len(items)) if i not in drop[section]]
        pruned[section] = [items[i] for i in kept_index[section]]
    try:
        partial = Scenario.model_validate(pruned)
    except ValidationError:
        return []
    problems = []
    for loc, msg in reference_problems(partial, known):
        if loc and loc[0] in kept_index and len(loc) > 1 and isinstance(loc[1], int):
            loc = (loc[0], kept_index[str(loc[0])][loc[1]], *loc[2:])
        problems.append((loc, msg))
    return problems


def load_scenario_file(path: Path | str) -> Scenario:
    """Load and validate a scenario YAML (or JSON) file (a path, as a ``Path`` or a string)."""
    src = str(path)
    text = read_text(Path(path))
    data, node = parse_yaml(text, src)
    return scenario_from_data(data, src, node)
