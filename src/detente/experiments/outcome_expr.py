"""Safe boolean expressions over outcome names, e.g. ``rapprochement < 0.5 and cost > 1``.

``detente explore --outcome EXPR`` marks the states of interest with such an expression.
It is parsed with :mod:`ast` and evaluated by a small interpreter that accepts only outcome
names, numbers, comparisons, arithmetic and ``and``/``or``/``not`` (also ``&``, ``|``,
``~``): no attribute access, calls or other names, so a typo is reported and nothing else
can run. Expressions longer than :data:`MAX_LENGTH` characters or nested deeper than
:data:`MAX_DEPTH` levels, and numbers beyond float range, are refused with their own message.

Callers may widen the vocabulary with *functions* of one quoted id, such as a scenario
history's ``in_force('us-lift-sanctions')`` (see ``docs/history.md``): each allowed function
lists the ids it accepts, and its values are looked up in the columns under
:func:`call_key`. Nothing else becomes callable.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detente.errors import InputError, did_you_mean

_CMP: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_BIN: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.BitAnd: np.logical_and,
    ast.BitOr: np.logical_or,
}


MAX_LENGTH = 1000
"""Longest expression accepted, in characters (a real one is a line or two)."""

MAX_DEPTH = 100
"""Deepest nesting of operators accepted; keeps parsing and evaluation far from Python's
recursion limit (``not not ... x``, ``1+1+...`` and ``- - ... 1`` used to exhaust it)."""


Functions = Mapping[str, Sequence[str]]
"""Allowed function name -> the ids it accepts as its one quoted argument."""


def call_key(function: str, argument: str) -> str:
    """The column name under which ``function('argument')`` is looked up."""
    return f"{function}({argument!r})"


def _error(expr: str, message: str, label: str = "--outcome") -> InputError:
    shown = expr if len(expr) <= 80 else expr[:60] + f"... ({len(expr):,} characters)"
    return InputError.single("<command line>", f"{label} {shown!r}: {message}")


def _parse(expr: str) -> ast.Expression:
    """Parse with bounded length and depth, turning every parser failure into InputError."""
    if len(expr) > MAX_LENGTH:
        raise _error(
            expr, f"expression is {len(expr):,} characters long; the limit is {MAX_LENGTH:,}"
        )
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise _error(expr, f"not a valid expression ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise _error(expr, f"nested too deeply to parse; the limit is {MAX_DEPTH} levels") from None
    depth = _depth(tree)
    if depth > MAX_DEPTH:
        raise _error(expr, f"nested {depth} levels deep; the limit is {MAX_DEPTH} levels")
    return tree


def _depth(tree: ast.AST) -> int:
    """Nesting depth of an AST, computed without recursion."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _number(expr: str, value: int | float) -> float:
    """A literal as a finite float, or InputError (400-digit integers, ``1e400``)."""
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        what = f"a {len(str(value))}-digit number" if isinstance(value, int) else "a number"
        raise _error(expr, f"{what} is beyond the float range (about 1.8e308); use a finite number")
    return number


def check_expression(
    expr: str, names: Sequence[str], functions: Functions | None = None, label: str = "--outcome"
) -> ast.Expression:
    """Parse ``expr`` and check it only uses allowed syntax and known outcome names.

    Parameters
    ----------
    expr : str
    names : sequence of str
        The outcome names it may use.
    functions : mapping of str to sequence of str, optional
        Functions it may call, each with one quoted id among those listed.
    label : str
        What the expression is, at the start of each message (``--outcome``, ``expression``).

    Raises
    ------
    InputError
        One problem per unknown name, or one for a syntax error / disallowed construct.
    """
    try:
        return _check(expr, names, functions or {})
    except InputError as exc:
        if label == "--outcome":
            raise
        prefix = "--outcome "
        raise InputError(
            [
                replace(p, message=label + " " + p.message[len(prefix) :])
                for p in exc.problems
            ]
        ) from None


def _check(expr: str, names: Sequence[str], functions: Functions) -> ast.Expression:
    tree = _parse(expr)
    allowed = (
        ast.Expression,
        ast.Compare,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.Invert,
        ast.BinOp,
        ast.Name,
        ast.Load,
        ast.Constant,
        *_CMP,
        *_BIN,
    )
    problems = []
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    inside = {id(part) for call in calls for part in ast.walk(call) if part is not call}
    for call in calls:
        problem = _call_problem(expr, call, functions)
        if problem is not None:
            problems.append(problem)
    for node in ast.walk(tree):
        if id(node) in inside or (isinstance(node, ast.Call) and functions):
            continue
        if not isinstance(node, allowed):
            raise _error(
                expr,
                f"{type(node).__name__} is not allowed; use outcome names, numbers, "
                "comparisons and and/or/not",
            )
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise _error(expr, f"only numbers are allowed as constants, got {node.value!r}")
            _number(expr, node.value)
        if isinstance(node, ast.Name) and node.id not in names:
            problems.append(
                f"unknown outcome {node.id!r}{did_you_mean(node.id, names)}; "
                f"outcomes: {', '.join(names)}"
            )
    if problems:
        raise InputError([_error(expr, p).problems[0] for p in problems])
    return tree


def _call_problem(expr: str, call: ast.Call, functions: Functions) -> str | None:
    """What is wrong with a call (None if it is an allowed function of one known id)."""
    if not functions:
        return None  # reported as a disallowed construct
    fn = call.func.id if isinstance(call.func, ast.Name) else None
    shown = ", ".join(f"{f}('ID')" for f in functions)
    if fn is None or fn not in functions:
        return f"only these functions can be called: {shown}" + (
            did_you_mean(fn, list(functions)) if fn else ""
        )
    arg = call.args[0] if len(call.args) == 1 and not call.keywords else None
    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
        return f"{fn}() takes one quoted id, e.g. {fn}('some-id')"
    if arg.value not in functions[fn]:
        known = list(functions[fn])
        return (
            f"{fn}({arg.value!r}): unknown id{did_you_mean(arg.value, known)}; "
            f"expected one of: {', '.join(known) or 'none'}"
        )
    return None


def called(tree: ast.Expression) -> list[tuple[str, str]]:
    """The ``(function, id)`` calls of a checked expression, in order of appearance."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.append((node.func.id, arg.value))
    return out


def is_condition(
    tree: ast.Expression, binary_names: Sequence[str] = (), binary_functions: Sequence[str] = ()
) -> bool:
    """Whether a checked expression is a condition (true/false) rather than a value.

    Comparisons, ``and``/``or``/``not``, ``&``/``|``/``~`` are conditions; so are the
    ``binary_names`` (0/1 outcomes) and calls of ``binary_functions``, alone.
    """
    body = tree.body
    if isinstance(body, ast.Compare | ast.BoolOp):
        return True
    if isinstance(body, ast.UnaryOp):
        return isinstance(body.op, ast.Not | ast.Invert)
    if isinstance(body, ast.BinOp):
        return isinstance(body.op, ast.BitAnd | ast.BitOr)
    if isinstance(body, ast.Name):
        return body.id in binary_names
    if isinstance(body, ast.Call) and isinstance(body.func, ast.Name):
        return body.func.id in binary_functions
    return False


def evaluate_values(
    expr: str,
    columns: Mapping[str, NDArray[np.float64]],
    functions: Functions | None = None,
    label: str = "--outcome",
) -> NDArray[Any]:
    """Evaluate a checked expression to its raw values (bool for conditions, else float).

    Calls ``f('id')`` read ``columns[call_key(f, 'id')]``; ``functions`` is as in
    :func:`check_expression`.
    """
    names = [k for k in columns if "(" not in k]
    tree = check_expression(expr, names, functions, label)
    return _interpret(expr, tree, columns)


def evaluate(expr: str, columns: Mapping[str, NDArray[np.float64]]) -> NDArray[np.bool_]:
    """Evaluate a checked expression on arrays of outcomes, returning a boolean mask."""
    tree = check_expression(expr, list(columns))
    result = _interpret(expr, tree, columns)
    if result.dtype != bool:
        raise _error(expr, "must be a condition (a comparison), e.g. rapprochement < 0.5")
    return np.asarray(result, dtype=bool)


def _interpret(
    expr: str, tree: ast.Expression, columns: Mapping[str, NDArray[np.float64]]
) -> NDArray[Any]:
    """Run a checked tree over the columns: an array of the columns' length."""

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Call):
            func, arg = node.func, node.args[0]
            assert isinstance(func, ast.Name) and isinstance(arg, ast.Constant)  # checked
            return np.asarray(columns[call_key(func.id, str(arg.value))], dtype=float)
        if isinstance(node, ast.Name):
            return np.asarray(columns[node.id], dtype=float)
        if isinstance(node, ast.Constant):
            return np.float64(node.value)  # type: ignore[arg-type]  # checked: finite int or float
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            if isinstance(node.op, ast.Not | ast.Invert):
                return np.logical_not(v)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return _BIN[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.BoolOp):
            fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            out = ev(node.values[0])
            for v in node.values[1:]:
                out = fn(out, ev(v))
            return out
        if isinstance(node, ast.Compare):
            left = ev(node.left)
            out = None
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = ev(comp)
                part = _CMP[type(op)](left, right)
                out = part if out is None else np.logical_and(out, part)
                left = right
            return out
        raise _error(expr, f"{type(node).__name__} is not allowed")  # pragma: no cover

    n = len(next(iter(columns.values()))) if columns else 0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return np.broadcast_to(np.asarray(ev(tree)), (n,))
