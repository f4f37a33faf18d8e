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
HIGHER_IS_BETTER = frozenset({"recall", "ndcg", "hit_rate", "mrr"})


@contextlib.contextmanager
def step_bar(title: str) -> Iterator[Callable[[str, int, int], None]]:
    """A bar for engine steps: the callback takes (description, done, total)."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None)
        yield lambda step, done, total: bar.update(
            task, description=step, completed=done, total=total
        )


@contextlib.contextmanager
def rows_bar(title: str) -> Iterator[Callable[..., None]]:
    """A bar for imports: the callback takes (rows done, rows in all or None)."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
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
    """One column per model, one row per metric (recall_at_10 -> recall@10); the best in bold."""
    names = list(dict.fromkeys(key for row in metrics.values() for key in row))
    masked = "seen items masked" if protocol.get("seen_items_masked") else "seen items not masked"
    users = f", {protocol['n_test_users']:,} test users" if "n_test_users" in protocol else ""
    table = Table(
        title=f"{protocol.get('name', 'evaluation')}{users}, {masked}",
        caption="novelty in bits; coverage: share of the catalogue recommended",
    )
    table.add_column("metric", no_wrap=True)
    for model in metrics:
        table.add_column(model, justify="right", no_wrap=True)
    for name in names:
        values = [row.get(name) for row in metrics.values()]
        best = max((v for v in values if v is not None), default=None)
        higher_is_better = name.split("_at_")[0] in HIGHER_IS_BETTER
        table.add_row(
            name.replace("_at_", "@"), *(_cell(v, higher_is_better and v == best) for v in values)
        )
    return table


def print_skipped(skipped: dict[str, str]) -> None:
    for name, reason in skipped.items():
        console.print(f"[yellow]skipped {name}:[/yellow] {reason}", highlight=False)


def recommendations_table(user_id: str, recs: Sequence[Recommendation]) -> Table:
    table = Table("#", "item_id", "score", "reason", "source", title=f"for user {user_id}")
    for rank, r in enumerate(recs, 1):
        table.add_row(str(rank), r.item_id, f"{r.score:.4f}", r.reason, r.source)
    return table


def _cell(value: float | None, bold: bool = False) -> str:
    if value is None:
        return ""
    text = f"{value:.4f}" if abs(value) < 1 else f"{value:.2f}"
    return f"[bold]{text}[/bold]" if bold else text
