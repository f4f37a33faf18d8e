"""The SQL of erasure, retention and the search for a user's traces, shared by both backends.

Erasure finds its tables by their columns, not by name: any table with a `user_id` column (a
table added later included) loses the user's rows. The search for traces reads the live
database's own catalogue, so it also covers tables this schema does not declare.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    cast,
    delete,
    exists,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.sql.sqltypes import NullType

from tailor.store.schema import events, feedback, metadata, rejections, served, users, write_log

# (haystack, needle) -> a condition that is true when the needle occurs in the haystack, exactly
# (LIKE would ignore ASCII case on SQLite and read % and _ in ids as wildcards).
Contains = Callable[[ColumnElement[str], str], ColumnElement[bool]]
CONTAINS: dict[str, Contains] = {
    "sqlite": lambda haystack, needle: func.instr(haystack, needle) > 0,
    "postgresql": lambda haystack, needle: func.strpos(haystack, needle) > 0,
}
# Logs whose rows may name a user in their text (a rejected row's message, a file name).
_LOGS = (rejections, write_log)


def erase_user_rows(conn: Connection, user_id: str) -> dict[str, int]:
    """Delete every row of `user_id` (see `Store.erase_user`); rows deleted per table."""
    contains = CONTAINS[conn.dialect.name]
    deleted: Counter[str] = Counter()

    def remove(table: Table, where: ColumnElement[bool]) -> None:
        deleted[table.name] += conn.execute(delete(table).where(where)).rowcount

    their_lists = select(served.c.request_id).where(served.c.user_id == user_id)
    remove(feedback, feedback.c.request_id.in_(their_lists))  # before the lists themselves go
    for table in metadata.sorted_tables:
        if "user_id" in table.c:
            remove(table, table.c.user_id == user_id)
    for table in _LOGS:
        naming = or_(*[contains(column, user_id) for column in _text_columns(table)])
        if table is write_log:  # a logged write that names them takes its rejections along
            remove(rejections, rejections.c.write_seq.in_(select(write_log.c.seq).where(naming)))
        remove(table, naming)
    return {name: count for name, count in deleted.items() if count}


def purge_rows(conn: Connection, before: int) -> dict[str, int]:
    """Delete what is older than `before` (ms; see `Store.purge_before`); rows per table."""
    old_lists = select(served.c.request_id).where(served.c.ts < before)
    steps: list[tuple[Table, ColumnElement[bool]]] = [
        (events, events.c.ts < before),
        (feedback, feedback.c.request_id.in_(old_lists)),
        (served, served.c.ts < before),
        (rejections, rejections.c.ts < before),
        (write_log, write_log.c.ts < before),
        (
            users,
            (users.c.created_at < before) & ~exists().where(events.c.user_id == users.c.user_id),
        ),
    ]
    deleted = {
        table.name: conn.execute(delete(table).where(where)).rowcount for table, where in steps
    }
    return {name: count for name, count in deleted.items() if count}


def count_rows_naming(conn: Connection, needles: Sequence[str]) -> dict[str, int]:
    """Rows per live table holding any needle in a text or JSON column (see `Store.rows_naming`)."""
    needles = [needle for needle in needles if needle]
    if not needles:
        return {}
    contains = CONTAINS[conn.dialect.name]
    live = MetaData()
    found: dict[str, int] = {}
    for name in inspect(conn).get_table_names():
        table = Table(name, live, autoload_with=conn)
        columns = _text_columns(table)
        if not columns:
            found[name] = 0
            continue
        naming = or_(*[contains(c, n) for c in columns for n in needles])
        found[name] = conn.execute(
            select(func.count()).select_from(table).where(naming)
        ).scalar_one()
    return found


def _text_columns(table: Table) -> list[ColumnElement[str]]:
    """The table's text, JSON and untyped columns, as text."""
    return [
        column if isinstance(column.type, String) else cast(column, Text)
        for column in table.columns
        if isinstance(column.type, String | JSON | NullType)
    ]
