"""How the CLI prints: narrow tables, rendered Markdown, one number format.

Every command's tables are built by :func:`narrow_table` so they fit an 80-column terminal:
a light box, one space between columns, no outer padding, and cells that fold rather than
end in an ellipsis. Numbers come from :mod:`detente.formatting`; Markdown text (a run's
``summary.md``) is rendered for the terminal by :func:`print_markdown`, never printed raw.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table
from typer.core import TyperCommand

#: Width every console table is designed to fit.
TABLE_WIDTH = 80


def narrow_table(title: str | None = None, **kwargs: object) -> Table:
    """A Rich table that fits 80 columns: one space between columns, titles on the left."""
    options: dict[str, object] = {
        "box": box.SIMPLE_HEAD,
        "pad_edge": False,
        "collapse_padding": True,
        "title_justify": "left",
    }
    options.update(kwargs)
    return Table(title=title, **options)  # type: ignore[arg-type]


def add_columns(table: Table, names: list[str], left: tuple[str, ...] = ()) -> None:
    """Columns named ``names``; those in ``left`` are left-aligned, the others right-aligned.

    Cells fold (wrap inside a word) instead of being cut with an ellipsis.
    """
    for name in names:
        table.add_column(name, justify="left" if name in left else "right", overflow="fold")


def print_markdown(console: Console, text: str) -> None:
    """Print Markdown rendered for the terminal (headings, bold, lists), not its markup."""
    console.print(Markdown(text, hyperlinks=False))


#: Typer's type labels (``<int>``, ``<list[str]>``, ...) and what ``--help`` shows instead.
READABLE_METAVARS = {
    "<bool>": "",
    "<int>": "N",
    "<int range>": "N",
    "<float>": "X",
    "<float range>": "X",
    "<path>": "PATH",
    "<str>": "TEXT",
    "<list[str]>": "TEXT",
}


class ReadableHelp(TyperCommand):
    """A command whose ``--help`` shows readable metavars.

    Typer 0.2x labels values with Python types (``<int>``, ``<list[str]>``) and flags with
    ``<bool>``. Unless an option names its own ``metavar``, this shows ``N``, ``X``, ``PATH``
    or ``TEXT`` instead, nothing for a flag, and an argument's name in capitals
    (``SCENARIO`` rather than ``{scenario}``, with no ``<str>`` beside it). Typer versions
    that print click's own labels (``INTEGER``) have no ``display_type`` and keep them.
    """

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces: list[str] = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)
        for param in params:
            _readable_metavar(param, ctx)
        return params


def _readable_metavar(param: Any, ctx: Any) -> None:
    if param.param_type_name == "argument" and param.name:
        param.metavar = param.metavar or param.name.upper()
        if hasattr(param, "display_type_rich"):  # the name says it all: no "<str>" beside it
            param.display_type_rich = lambda ctx: None
        return
    if param.metavar is not None:
        return
    display_type = getattr(param, "display_type", None)
    if display_type is None:
        return
    label = display_type(ctx)
    if label in READABLE_METAVARS:
        param.metavar = READABLE_METAVARS[label]
