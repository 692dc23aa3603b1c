"""How the CLI prints: narrow tables, rendered Markdown, one number format.

Every command's tables are built by :func:`narrow_table` so they fit an 80-column terminal:
a light box, one space between columns, no outer padding, and cells that fold rather than
end in an ellipsis. Numbers come from :mod:`detente.formatting`; Markdown text (a run's
``summary.md``) is rendered for the terminal by :func:`print_markdown`, never printed raw.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

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
