"""What the CLI shows: progress bars fed by engine callbacks, metrics and recommendation tables."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tailor.engine import Recommendation

console = Console()
errors = Console(stderr=True)
SHOWN_REJECTIONS = 10


@contextlib.contextmanager
def step_bar(title: str) -> Iterator[Callable[[str, int, int], None]]:
    """A bar for engine steps: the callback takes (description, done, total)."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(title, total=None)
        yield lambda step, done, total: bar.update(task, description=step, completed=done, total=total)


@contextlib.contextmanager
def rows_bar(title: str) -> Iterator[Callable[..., None]]:
    """A bar for imports: the callback takes (rows done, rows in all or None)."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed:,} rows"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(title, total=None)
        yield lambda done, total=None: bar.update(task, completed=done, total=total)


def print_rejections(rejected: Sequence[Any], first_row: int = 0) -> None:
    """The first rejected rows; `first_row` says whether rows count from 0 (a batch) or 1 (a file)."""
    if not rejected:
        return
    base = "1-based record" if first_row else "0-based row"
    title = f"rejected fields, first {min(len(rejected), SHOWN_REJECTIONS)} shown ({base} numbers)"
    table = Table("row", "field", "reason", title=title)
    for r in rejected[:SHOWN_REJECTIONS]:
        table.add_row(str(r.row), r.field or "", r.reason)
    console.print(table)


def metrics_table(metrics: dict[str, dict[str, float]], protocol: dict[str, Any]) -> Table:
    columns = list(dict.fromkeys(key for row in metrics.values() for key in row))
    masked = "seen items masked" if protocol.get("seen_items_masked") else "seen items not masked"
    table = Table("model", *columns, title=f"{protocol.get('name', 'evaluation')}, {masked}")
    for name, row in metrics.items():
        table.add_row(name, *(_cell(row.get(c)) for c in columns))
    return table


def recommendations_table(user_id: str, recs: Sequence[Recommendation]) -> Table:
    table = Table("#", "item_id", "score", "reason", "source", title=f"for user {user_id}")
    for rank, r in enumerate(recs, 1):
        table.add_row(str(rank), r.item_id, f"{r.score:.4f}", r.reason, r.source)
    return table


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) >= 1:
        return f"{value:,.0f}"
    return f"{value:.4f}"
