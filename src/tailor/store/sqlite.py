"""The default backend: one SQLite file in WAL mode, many readers and one writer across processes.

`synchronous=FULL` syncs the WAL at every commit, so an acknowledged write survives a power cut.
Python's sqlite3 is put in autocommit mode and we issue BEGIN ourselves: writers take the write
lock up front (BEGIN IMMEDIATE, waiting up to `BUSY_TIMEOUT_MS`), readers run without a transaction.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from tailor.errors import ConfigError, StoreError
from tailor.store.schema import events
from tailor.store.sql import SqlStore, dump_json, quote_name
from tailor.types import EVENT_COLUMNS

BUSY_TIMEOUT_MS = 30_000
CACHE_KIB = 64 * 1024
WAL_LIMIT_BYTES = 64 * 1024 * 1024
INSERT_CHUNK = 50_000
_EVENT_INDEXES = sorted(events.indexes, key=lambda index: str(index.name))
_DELETE_KNOWN = text(
    "DELETE FROM events WHERE seq > :last_seq "
    "AND event_id IN (SELECT event_id FROM events WHERE seq <= :last_seq)"
)
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=OFF",
    f"PRAGMA cache_size=-{CACHE_KIB}",
    f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}",
)
# A batch of at least BULK_MIN_ROWS into a table holding at most a quarter as many events is a
# bulk load (see `_bulk_load`); into a bigger table, rebuilding its indexes would cost more.
BULK_MIN_ROWS = 100_000
BULK_TABLE_SHARE = 0.25
# Rows per INSERT statement: multi-row VALUES halve the per-row cost of executemany.
ROWS_PER_STATEMENT = 100


def _configure(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    for pragma in _PRAGMAS:
        dbapi_connection.execute(pragma)


def _begin(conn: Connection) -> None:
    if conn.get_execution_options().get("tailor_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class SqliteStore(SqlStore):
    def __init__(self, url: str) -> None:
        path = make_url(url).database
        if not path or path == ":memory:":
            raise ConfigError(
                f"{url}: a SQLite store needs a file path, e.g. sqlite:///var/tailor.db"
            )
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of {path}: {exc}") from exc
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            json_serializer=dump_json,
        )
        event.listen(engine, "connect", _configure)
        event.listen(engine, "begin", _begin)
        super().__init__(url, engine, serialise_writes=True)

    def _insert_events(self, conn: Connection, columns: list[list[Any]], n_rows: int) -> int:
        # Columns with no value at all are left to their default (NULL) instead of being bound.
        present = [
            (name, values)
            for name, values in zip(EVENT_COLUMNS, columns)
            if values.count(None) < len(values)
        ]
        names = tuple(name for name, _ in present)
        values = [column for _, column in present]
        last_seq = _max_seq(conn)
        bulk = n_rows >= BULK_MIN_ROWS and last_seq <= BULK_TABLE_SHARE * n_rows
        if bulk and "event_id" in names:
            return _bulk_load(conn, names, values, last_seq)
        raw = conn.connection.driver_connection
        before = raw.total_changes
        _insert_chunks(raw.cursor(), names, values, skip_known=True)
        return raw.total_changes - before

    def check_integrity(self) -> list[str]:
        try:
            with self._reading("check integrity") as conn:
                found = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
        except StoreError as exc:
            if _is_corruption(exc):
                return [exc.message]
            raise
        return [line for line in found if line != "ok"]


def _is_corruption(exc: StoreError) -> bool:
    cause = getattr(exc.__cause__, "orig", exc.__cause__)
    return getattr(cause, "sqlite_errorname", None) in {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


def _max_seq(conn: Connection) -> int:
    return conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()


def _bulk_load(
    conn: Connection, names: tuple[str, ...], columns: list[list[Any]], last_seq: int
) -> int:
    """Insert without the events indexes, drop repeated and known event ids, rebuild the indexes.

    Sorting keys once is several times cheaper than a million random B-tree inserts (a hashed
    event id is random). All of it is one transaction: readers keep the old table until commit.
    """
    ids = columns[names.index("event_id")]
    if len(set(ids)) < len(ids):
        seen: set[str] = set()
        first = [not (id_ in seen or seen.add(id_)) for id_ in ids]  # type: ignore[func-returns-value]
        columns = [list(itertools.compress(values, first)) for values in columns]
    for index in _EVENT_INDEXES:
        index.drop(conn)
    _insert_chunks(conn.connection.driver_connection.cursor(), names, columns, skip_known=False)
    known = conn.execute(_DELETE_KNOWN, {"last_seq": last_seq}).rowcount if last_seq else 0
    for index in _EVENT_INDEXES:
        index.create(conn)
    return len(columns[0]) - known


def _insert_chunks(
    cursor: sqlite3.Cursor, names: tuple[str, ...], columns: list[list[Any]], *, skip_known: bool
) -> None:
    for start in range(0, len(columns[0]), INSERT_CHUNK):
        chunk = [values[start : start + INSERT_CHUNK] for values in columns]
        _insert_rows(cursor, names, chunk, skip_known)


def _insert_rows(
    cursor: sqlite3.Cursor, names: tuple[str, ...], columns: list[list[Any]], skip_known: bool
) -> None:
    """INSERT column-wise values, ROWS_PER_STATEMENT rows per statement."""
    width, n_rows = len(names), len(columns[0])
    flat: list[Any] = [None] * (width * n_rows)
    for offset, values in enumerate(columns):
        flat[offset::width] = values
    step = ROWS_PER_STATEMENT * width
    whole = n_rows - n_rows % ROWS_PER_STATEMENT
    cursor.executemany(
        _insert_sql(names, ROWS_PER_STATEMENT, skip_known),
        (flat[i : i + step] for i in range(0, whole * width, step)),
    )
    if whole < n_rows:
        cursor.execute(_insert_sql(names, n_rows - whole, skip_known), flat[whole * width :])


@functools.cache
def _insert_sql(names: tuple[str, ...], n_rows: int, skip_known: bool) -> str:
    row = f"({', '.join('?' for _ in names)})"
    return (
        f"INSERT INTO events ({', '.join(map(quote_name, names))}) "
        f"VALUES {', '.join([row] * n_rows)}"
        + (" ON CONFLICT (event_id) DO NOTHING" if skip_known else "")
    )
