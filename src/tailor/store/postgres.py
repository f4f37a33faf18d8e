"""The production backend: PostgreSQL through psycopg 3, shared by stateless service replicas.

Big event batches are COPYed into a temporary table and moved over with one
INSERT ... SELECT ... ON CONFLICT DO NOTHING; small ones go through executemany.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from tailor.store.sql import SqlStore, dump_json, quote_name
from tailor.types import EVENT_COLUMNS

CONNECT_TIMEOUT_S = 5
COPY_MIN_ROWS = 1_000
_NAMES = ", ".join(map(quote_name, EVENT_COLUMNS))
_INSERT_EVENTS = (
    f"INSERT INTO events ({_NAMES}) VALUES ({', '.join('%s' for _ in EVENT_COLUMNS)}) "
    "ON CONFLICT (event_id) DO NOTHING"
)
_STAGE = (
    f"CREATE TEMPORARY TABLE incoming_events ON COMMIT DROP AS SELECT {_NAMES} FROM events "
    "WITH NO DATA",
    "ALTER TABLE incoming_events ADD COLUMN arrival bigint GENERATED ALWAYS AS IDENTITY",
)
_COPY = f"COPY incoming_events ({_NAMES}) FROM STDIN"
_MOVE = (
    f"INSERT INTO events ({_NAMES}) SELECT {_NAMES} FROM incoming_events ORDER BY arrival "
    "ON CONFLICT (event_id) DO NOTHING"
)
_SCHEMA_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('tailor.store.schema'))")
_DUPLICATE_EVENT_IDS = text(
    "SELECT event_id FROM events GROUP BY event_id HAVING count(*) > 1 ORDER BY event_id LIMIT 10"
)
_INVALID_INDEXES = text(
    "SELECT indexrelid::regclass::text FROM pg_index "
    "WHERE NOT (indisvalid AND indisready) "
    "AND indrelid = ANY(ARRAY['events', 'items', 'users']::regclass[])"
)


class PostgresStore(SqlStore):
    def __init__(self, url: str) -> None:
        engine = create_engine(
            make_url(url).set(drivername="postgresql+psycopg"),
            pool_pre_ping=True,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
            json_serializer=dump_json,
        )
        super().__init__(url, engine, serialise_writes=False)

    def _lock_schema(self, conn: Connection) -> None:
        conn.execute(_SCHEMA_LOCK)

    def _insert_events(self, conn: Connection, columns: list[list[Any]], n_rows: int) -> int:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            if n_rows < COPY_MIN_ROWS:
                cursor.executemany(_INSERT_EVENTS, list(zip(*columns)))
                return cursor.rowcount
            for statement in _STAGE:
                cursor.execute(statement)
            with cursor.copy(_COPY) as copy:
                for row in zip(*columns):
                    copy.write_row(row)
            cursor.execute(_MOVE)
            return cursor.rowcount

    def check_integrity(self) -> list[str]:
        with self._reading("check integrity") as conn:
            duplicates = conn.execute(_DUPLICATE_EVENT_IDS).scalars().all()
            invalid = conn.execute(_INVALID_INDEXES).scalars().all()
        return [f"event_id stored more than once: {d!r}" for d in duplicates] + [
            f"index not valid: {name}" for name in invalid
        ]
