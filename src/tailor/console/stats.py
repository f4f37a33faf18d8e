"""Aggregates the console shows, computed by the database rather than by reading every event.

Both stores (SQLite and PostgreSQL) are `SqlStore`s over the tables of `tailor.store.schema`, so
one set of SQLAlchemy Core queries serves both. Days are UTC days: `ts // DAY_MS`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Table, cast, distinct, func, or_, select
from sqlalchemy.sql import ColumnElement

from tailor.store.schema import events, items, users
from tailor.store.sql import SqlStore

DAY_MS = 86_400_000
ACTIVE_DAYS = 7
SEARCH_LIMIT = 20
TABLES: dict[str, Table] = {"events": events, "items": items, "users": users}


@dataclass(frozen=True)
class DailyCounts:
    """Counts per UTC day (ms at midnight) and per series (an event kind or a channel)."""

    days: list[int]
    series: dict[str, list[int]]

    @property
    def total(self) -> int:
        return sum(sum(values) for values in self.series.values())


@dataclass(frozen=True)
class Volumes:
    daily_by_channel: DailyCounts
    by_channel: dict[str, int]  # events per channel, largest first
    by_kind: dict[str, int]  # events per kind, largest first


@dataclass(frozen=True)
class ItemActivity:
    daily: DailyCounts  # events on the item per day and kind
    audience: dict[str, int]  # distinct users per kind, largest first
    buyers: list[tuple[str, int]]  # (user_id, purchases), most first


@dataclass(frozen=True)
class ColumnFill:
    table: str
    column: str
    type: str
    filled: int
    rows: int


class ConsoleStats:
    """Read-only aggregate queries over one store."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def _rows(self, stmt: Any) -> list[Any]:
        with self.store.engine.connect() as conn:
            return list(conn.execute(stmt).all())

    def _scalar(self, stmt: Any) -> Any:
        with self.store.engine.connect() as conn:
            return conn.execute(stmt).scalar()

    def daily(self, where: ColumnElement[bool] | None = None) -> DailyCounts:
        """Events per day and kind, optionally filtered."""
        day = (events.c.ts // DAY_MS).label("day")
        stmt = select(day, events.c.kind, func.count()).group_by(day, events.c.kind)
        if where is not None:
            stmt = stmt.where(where)
        return _daily((int(d), label, int(n)) for d, label, n in self._rows(stmt))

    def latest_event_ts(self) -> int | None:
        return self._scalar(select(func.max(events.c.ts)))

    def active_users(self, until_ts: int, days: int = ACTIVE_DAYS) -> int:
        """Distinct users with an event in the `days` before `until_ts`."""
        since = until_ts - days * DAY_MS
        stmt = select(func.count(distinct(events.c.user_id))).where(events.c.ts > since)
        return int(self._scalar(stmt) or 0)

    def catalogue(self) -> dict[str, Any]:
        stmt = select(
            func.count(),
            func.sum(cast(items.c.hidden, Integer)),
            func.sum(cast(items.c.stock <= 0, Integer)),
            func.max(items.c.created_at),
            func.count(distinct(items.c.category)),
        )
        n, hidden, sold_out, newest, categories = self._rows(stmt)[0]
        return {
            "items": int(n),
            "hidden": int(hidden or 0),
            "sold_out": int(sold_out or 0),
            "newest_created_at": newest,
            "categories": int(categories),
        }

    def volumes(self) -> Volumes:
        """Events per day by channel, and totals by channel and by kind, from one grouped scan."""
        day = (events.c.ts // DAY_MS).label("day")
        stmt = select(day, events.c.channel, events.c.kind, func.count()).group_by(
            day, events.c.channel, events.c.kind
        )
        per_day: Counter[tuple[int, str | None]] = Counter()
        by_channel: Counter[str] = Counter()
        by_kind: Counter[str] = Counter()
        for day_index, channel, kind, n in self._rows(stmt):
            per_day[int(day_index), channel] += int(n)
            by_channel[channel if channel is not None else "-"] += int(n)
            by_kind[kind] += int(n)
        return Volumes(
            daily_by_channel=_daily((d, c, n) for (d, c), n in per_day.items()),
            by_channel=dict(by_channel.most_common()),
            by_kind=dict(by_kind.most_common()),
        )

    def column_fill(self) -> list[ColumnFill]:
        """How many rows of each table have each column filled (not NULL)."""
        fills = []
        for name, table in TABLES.items():
            columns = [c for c in table.columns if c.name != "seq"]
            stmt = select(func.count(), *[func.count(c) for c in columns]).select_from(table)
            rows, *filled = self._rows(stmt)[0]
            fills.extend(
                ColumnFill(name, c.name, str(c.type), int(f), int(rows))
                for c, f in zip(columns, filled)
            )
        return fills

    def find_users(self, query: str) -> list[str]:
        """User ids starting with `query`, from the users table and from events."""
        pattern = _prefix(query)
        known = select(users.c.user_id).where(users.c.user_id.like(pattern, escape="\\"))
        seen = select(events.c.user_id).where(events.c.user_id.like(pattern, escape="\\"))
        union = known.union(seen).order_by("user_id").limit(SEARCH_LIMIT)
        return [row[0] for row in self._rows(union)]

    def find_items(self, query: str) -> list[tuple[str, str | None]]:
        """(item_id, title) of items whose id starts with, or whose title contains, `query`."""
        stmt = (
            select(items.c.item_id, items.c.title)
            .where(
                or_(
                    items.c.item_id.like(_prefix(query), escape="\\"),
                    items.c.title.like("%" + _prefix(query), escape="\\"),
                )
            )
            .order_by(items.c.item_id)
            .limit(SEARCH_LIMIT)
        )
        return [(row[0], row[1]) for row in self._rows(stmt)]

    def push_events(self, user_id: str, limit: int = 20) -> list[tuple[int, str, str | None]]:
        """A user's latest push log events (kinds `push_*`): (ts, kind, item_id), newest first."""
        stmt = (
            select(events.c.ts, events.c.kind, events.c.item_id)
            .where(events.c.user_id == user_id, events.c.kind.like("push\\_%", escape="\\"))
            .order_by(events.c.ts.desc(), events.c.seq.desc())
            .limit(limit)
        )
        return [(int(ts), kind, item_id) for ts, kind, item_id in self._rows(stmt)]

    def item_activity(self, item_id: str, top_buyers: int = 10) -> ItemActivity:
        """Everything the item page counts, from one read of the item's events (events are not
        indexed by item, so each read is a scan)."""
        stmt = select(events.c.user_id, events.c.kind, events.c.ts).where(
            events.c.item_id == item_id
        )
        rows = self._rows(stmt)
        per_day: Counter[tuple[int, str]] = Counter((ts // DAY_MS, kind) for _, kind, ts in rows)
        audience: dict[str, set[str]] = defaultdict(set)
        bought: Counter[str] = Counter()
        for user_id, kind, _ in rows:
            audience[kind].add(user_id)
            if kind == "purchase":
                bought[user_id] += 1
        return ItemActivity(
            daily=_daily((day, kind, n) for (day, kind), n in per_day.items()),
            audience={
                kind: len(users)
                for kind, users in sorted(audience.items(), key=lambda kv: -len(kv[1]))
            },
            buyers=sorted(bought.items(), key=lambda kv: (-kv[1], kv[0]))[:top_buyers],
        )


def _daily(triples: Iterable[tuple[int, str | None, int]]) -> DailyCounts:
    """DailyCounts from (day index, label, count), with every day of the span present."""
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for day_index, label, n in triples:
        counts[label if label is not None else "-"][day_index] = n
    if not counts:
        return DailyCounts([], {})
    present = {d for per_day in counts.values() for d in per_day}
    span = range(min(present), max(present) + 1)
    return DailyCounts(
        days=[d * DAY_MS for d in span],
        series={
            label: [per_day.get(d, 0) for d in span] for label, per_day in sorted(counts.items())
        },
    )


def _prefix(query: str) -> str:
    """`query` escaped for LIKE, followed by %."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
