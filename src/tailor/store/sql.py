"""`SqlStore`: the Store on a SQLAlchemy Core engine, shared by the SQLite and PostgreSQL backends.

A backend subclass supplies the bulk event insert, the integrity check and how writers are
serialised; everything else (schema, upserts, deletes, reads, error mapping) lives here.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Select,
    Table,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from tailor.errors import InvalidInputError, StoreError
from tailor.store.base import (
    AuditEntry,
    FaqEntry,
    Feedback,
    ServedList,
    Store,
    StoredKey,
    WriteRecord,
)
from tailor.store.erasure import count_rows_naming, erase_user_rows, purge_rows
from tailor.store.frames import bind_columns, rows_to_frame
from tailor.store.schema import (
    EVENT_DTYPES,
    ITEM_DTYPES,
    USER_DTYPES,
    api_keys,
    audit_log,
    events,
    faq,
    feedback,
    items,
    metadata,
    rejections,
    served,
    users,
    write_log,
)
from tailor.types import EVENT_COLUMNS, ITEM_COLUMNS, USER_COLUMNS

# Ids per IN (...) list: far below SQLite's and PostgreSQL's bind-parameter limits.
ID_CHUNK = 500
REQUIRED_EVENT_COLUMNS = ("event_id", "user_id", "kind", "ts")
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_EVENT_SELECT = [events.c[name] for name in EVENT_COLUMNS]


def _latest(*columns: Any) -> Select[Any]:
    """`columns` of a user's latest events, newest first."""
    return (
        select(*columns)
        .where(events.c.user_id == bindparam("user_id"))
        .order_by(events.c.ts.desc(), events.c.seq.desc())
        .limit(bindparam("limit"))
    )


_RECENT = _latest(*_EVENT_SELECT)
_RECENT_KINDS = _latest(events.c.item_id, events.c.kind)


class SqlStore(Store):
    """Events, items and users in three SQL tables (see `tailor.store.schema`)."""

    def __init__(self, url: str, engine: Engine, *, serialise_writes: bool) -> None:
        self.url = url
        self.engine = engine
        self._label = make_url(url).render_as_string(hide_password=True)
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if serialise_writes else nullcontext()
        )
        self._insert = _INSERTS[engine.dialect.name]
        self._recent = DriverSql.of(_RECENT, engine.dialect)
        self._recent_kinds = DriverSql.of(_RECENT_KINDS, engine.dialect)
        self._closed = False
        with self._guard("create the tables"), self._writing() as conn:
            self._lock_schema(conn)
            metadata.create_all(conn)

    # ---- backend hooks -----------------------------------------------------------------------

    @abstractmethod
    def _insert_events(self, conn: Connection, columns: list[list[Any]], n_rows: int) -> int:
        """Insert rows given column-wise in EVENT_COLUMNS order, skipping known event ids."""

    def _lock_schema(self, conn: Connection) -> None:
        """Keep two processes from creating the tables at once (inside the write transaction)."""

    # ---- transactions and errors -------------------------------------------------------------

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn any database failure into a StoreError naming what failed and where."""
        if self._closed:
            raise StoreError(f"cannot {action}: the store {self._label} is closed")
        try:
            yield
        except StoreError:
            raise
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            raise StoreError(f"could not {action} in {self._label}: {cause}") from exc
        except (self.engine.dialect.loaded_dbapi.Error, OSError) as exc:
            raise StoreError(f"could not {action} in {self._label}: {exc}") from exc

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(tailor_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _reading(self, action: str) -> Iterator[Connection]:
        with self._guard(action), self.engine.connect() as conn:
            yield conn

    # ---- writes ------------------------------------------------------------------------------

    def add_events(self, events: pd.DataFrame) -> int:
        columns = bind_columns(events, EVENT_COLUMNS, REQUIRED_EVENT_COLUMNS, integers=("ts",))
        if not len(events):
            return 0
        with self._guard("add events"), self._writing() as conn:
            return self._insert_events(conn, columns, len(events))

    def upsert_items(self, items_frame: pd.DataFrame) -> int:
        frame = items_frame.drop_duplicates("item_id", keep="last")
        if "hidden" in frame.columns:
            frame = frame.assign(hidden=frame["hidden"].fillna(False).astype(bool))
        columns = bind_columns(frame, ITEM_COLUMNS, ("item_id",), ("stock", "created_at"))
        if "hidden" not in frame.columns:
            columns[ITEM_COLUMNS.index("hidden")] = [False] * len(frame)
        return self._upsert(items, ITEM_COLUMNS, columns, "upsert items")

    def upsert_users(self, users_frame: pd.DataFrame) -> int:
        frame = users_frame.drop_duplicates("user_id", keep="last")
        columns = bind_columns(frame, USER_COLUMNS, ("user_id",), ("created_at",))
        return self._upsert(users, USER_COLUMNS, columns, "upsert users")

    def _upsert(
        self, table: Table, names: Sequence[str], columns: list[list[Any]], action: str
    ) -> int:
        rows = [dict(zip(names, row)) for row in zip(*columns)]
        if not rows:
            return 0
        key = names[0]
        stmt = self._insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[key], set_={name: stmt.excluded[name] for name in names[1:]}
        )
        with self._guard(action), self._writing() as conn:
            conn.execute(stmt, rows)
        return len(rows)

    def delete_items(self, item_ids: Sequence[str]) -> int:
        with self._guard("delete items"), self._writing() as conn:
            return sum(
                conn.execute(delete(items).where(items.c.item_id.in_(chunk))).rowcount
                for chunk in _chunks(item_ids)
            )

    def delete_users(self, user_ids: Sequence[str]) -> int:
        existed: set[str] = set()
        with self._guard("delete users"), self._writing() as conn:
            for chunk in _chunks(user_ids):
                existed.update(
                    conn.scalars(select(users.c.user_id).where(users.c.user_id.in_(chunk)))
                )
                owners = select(events.c.user_id).where(events.c.user_id.in_(chunk)).distinct()
                existed.update(conn.scalars(owners))
                conn.execute(delete(events).where(events.c.user_id.in_(chunk)))
                theirs = select(served.c.request_id).where(served.c.user_id.in_(chunk))
                conn.execute(delete(feedback).where(feedback.c.request_id.in_(theirs)))
                conn.execute(delete(served).where(served.c.user_id.in_(chunk)))
                conn.execute(delete(users).where(users.c.user_id.in_(chunk)))
        return len(existed)

    # ---- reads -------------------------------------------------------------------------------

    def events(
        self,
        *,
        since: int | None = None,
        until: int | None = None,
        user_ids: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        stmt = select(*_EVENT_SELECT).order_by(events.c.user_id, events.c.ts, events.c.seq)
        if since is not None:
            stmt = stmt.where(events.c.ts >= int(since))
        if until is not None:
            stmt = stmt.where(events.c.ts < int(until))
        with self._reading("read events") as conn:
            if user_ids is None:
                rows = self._fetch(conn, stmt)
            else:  # chunks of sorted ids keep the concatenation ordered by user
                rows = []
                for chunk in _chunks(sorted(set(user_ids))):
                    rows.extend(self._fetch(conn, stmt.where(events.c.user_id.in_(chunk))))
        return rows_to_frame(rows, EVENT_COLUMNS, EVENT_DTYPES)

    def recent_events(self, user_id: str, limit: int) -> pd.DataFrame:
        if limit < 0:
            raise InvalidInputError(f"limit must be 0 or more, not {limit}", field="limit")
        with self._reading("read recent events") as conn:
            rows = self._fetch(conn, self._recent.bind(user_id=user_id, limit=int(limit)))
        return rows_to_frame(rows[::-1], EVENT_COLUMNS, EVENT_DTYPES)

    def recent_item_kinds(self, user_id: str, limit: int) -> list[tuple[str | None, str]]:
        return self.recent_item_kinds_of([user_id], limit)[user_id]

    def recent_item_kinds_of(
        self, user_ids: Sequence[str], limit: int
    ) -> dict[str, list[tuple[str | None, str]]]:
        if limit < 0:
            raise InvalidInputError(f"limit must be 0 or more, not {limit}", field="limit")
        found = {}
        with self._reading("read recent events") as conn:  # one connection for them all
            for user_id in user_ids:
                bound = self._recent_kinds.bind(user_id=user_id, limit=int(limit))
                found[user_id] = [(item, kind) for item, kind in reversed(self._fetch(conn, bound))]
        return found

    def items(self, item_ids: Sequence[str] | None = None) -> pd.DataFrame:
        return self._by_ids(items, ITEM_COLUMNS, ITEM_DTYPES, item_ids, "read items")

    def users(self, user_ids: Sequence[str] | None = None) -> pd.DataFrame:
        return self._by_ids(users, USER_COLUMNS, USER_DTYPES, user_ids, "read users")

    def _by_ids(
        self,
        table: Table,
        names: Sequence[str],
        dtypes: dict[str, str],
        ids: Sequence[str] | None,
        action: str,
    ) -> pd.DataFrame:
        key = table.c[names[0]]
        stmt = select(*[table.c[name] for name in names]).order_by(key)
        with self._reading(action) as conn:
            if ids is None:
                rows = conn.execute(stmt).all()
            else:
                rows = []
                for chunk in _chunks(sorted(set(ids))):
                    rows.extend(conn.execute(stmt.where(key.in_(chunk))).all())
        return rows_to_frame(rows, names, dtypes)

    def _fetch(self, conn: Connection, stmt: Select[Any] | DriverSql) -> list[tuple[Any, ...]]:
        """Rows straight from the driver's cursor: several times faster than SQLAlchemy's rows."""
        sql = stmt if isinstance(stmt, DriverSql) else DriverSql.of(stmt, conn.dialect)
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(sql.text, sql.params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def counts(self) -> dict[str, int]:
        stmt = select(
            *[
                select(func.count()).select_from(t).scalar_subquery().label(t.name)
                for t in (events, items, users)
            ]
        )
        with self._reading("count rows") as conn:
            return dict(conn.execute(stmt).one()._mapping)

    # ---- API keys ----------------------------------------------------------------------------

    def add_api_key(self, key: StoredKey) -> None:
        try:
            with self._guard("add an API key"), self._writing() as conn:
                conn.execute(api_keys.insert().values(**asdict(key)))
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise InvalidInputError(f"key id {key.key_id!r} is taken", field="key_id") from None
            raise

    def api_key(self, key_id: str) -> StoredKey | None:
        with self._reading("read an API key") as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        return None if row is None else StoredKey(**row._mapping)

    def api_keys(self) -> list[StoredKey]:
        stmt = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)
        with self._reading("list API keys") as conn:
            return [StoredKey(**row._mapping) for row in conn.execute(stmt)]

    def revoke_api_key(self, key_id: str, at: int) -> bool:
        stmt = (
            update(api_keys)
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=int(at))
        )
        with self._guard("revoke an API key"), self._writing() as conn:
            return conn.execute(stmt).rowcount == 1

    # ---- served lists and feedback -----------------------------------------------------------

    def add_served(self, lists: Sequence[ServedList]) -> None:
        if not lists:
            return
        rows = [{**asdict(s), "n_items": len(s.item_ids)} for s in lists]
        stmt = self._insert(served).on_conflict_do_nothing(index_elements=["request_id"])
        with self._guard("remember served lists"), self._writing() as conn:
            conn.execute(stmt, rows)

    def served_lists(self, request_ids: Sequence[str]) -> dict[str, ServedList]:
        columns = [served.c[name] for name in _SERVED_FIELDS]
        found: dict[str, ServedList] = {}
        with self._reading("read served lists") as conn:
            for chunk in _chunks(sorted(set(request_ids))):
                for row in conn.execute(select(*columns).where(served.c.request_id.in_(chunk))):
                    found[row.request_id] = ServedList(**row._mapping)
        return found

    def add_feedback(self, rows: Sequence[Feedback]) -> int:
        if not rows:
            return 0
        with self._guard("add feedback"), self._writing() as conn:
            conn.execute(feedback.insert(), [asdict(row) for row in rows])
        return len(rows)

    def online_log(
        self, *, since: int | None = None, until: int | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        lists = select(*[served.c[name] for name in _LOG_COLUMNS]).order_by(served.c.ts)
        answers = select(feedback.c.request_id, feedback.c.kind, feedback.c.item_id).join(
            served, feedback.c.request_id == served.c.request_id
        )
        bounds = [served.c.ts >= int(since)] if since is not None else []
        bounds += [served.c.ts < int(until)] if until is not None else []
        lists, answers = lists.where(*bounds), answers.where(*bounds)
        with self._reading("read the online log") as conn:
            served_rows = conn.execute(lists).all()
            feedback_rows = conn.execute(answers.order_by(feedback.c.seq)).all()
        return (
            pd.DataFrame(served_rows, columns=list(_LOG_COLUMNS)),
            pd.DataFrame(feedback_rows, columns=["request_id", "kind", "item_id"]),
        )

    # ---- the write log -----------------------------------------------------------------------

    def add_write_record(self, record: WriteRecord) -> None:
        counts = asdict(record)
        del counts["rejections"]
        where = {"ts": record.ts, "source": record.source, "origin": record.origin}
        with self._guard("log a write"), self._writing() as conn:
            write_seq = conn.execute(write_log.insert().values(**counts)).inserted_primary_key[0]
            if record.rejections:
                rows = [{**where, **asdict(r), "write_seq": write_seq} for r in record.rejections]
                conn.execute(rejections.insert(), rows)

    def write_log(self, *, since: int | None = None) -> pd.DataFrame:
        stmt = select(*[write_log.c[name] for name in _WRITE_LOG_COLUMNS])
        if since is not None:
            stmt = stmt.where(write_log.c.ts >= int(since))
        with self._reading("read the write log") as conn:
            rows = conn.execute(stmt.order_by(write_log.c.seq)).all()
        return pd.DataFrame(rows, columns=list(_WRITE_LOG_COLUMNS))

    def recent_rejections(self, limit: int) -> pd.DataFrame:
        stmt = select(*[rejections.c[name] for name in _REJECTION_COLUMNS])
        stmt = stmt.order_by(rejections.c.seq.desc()).limit(int(limit))
        with self._reading("read logged rejections") as conn:
            rows = conn.execute(stmt).all()
        return pd.DataFrame(rows, columns=list(_REJECTION_COLUMNS))

    # ---- the FAQ -----------------------------------------------------------------------------

    def upsert_faq(self, entries: Sequence[FaqEntry]) -> int:
        latest = {entry.faq_id: entry for entry in entries}
        names = list(_FAQ_FIELDS)
        columns = [[getattr(entry, name) for entry in latest.values()] for name in names]
        return self._upsert(faq, names, columns, "store FAQ entries")

    def faq(self) -> list[FaqEntry]:
        stmt = select(*[faq.c[name] for name in _FAQ_FIELDS]).order_by(faq.c.faq_id)
        with self._reading("read the FAQ") as conn:
            return [FaqEntry(**row._mapping) for row in conn.execute(stmt)]

    # ---- privacy -----------------------------------------------------------------------------

    def erase_user(self, user_id: str) -> dict[str, int]:
        with self._guard("erase a user"), self._writing() as conn:
            return erase_user_rows(conn, user_id)

    def purge_before(self, ts: int) -> dict[str, int]:
        with self._guard("purge old rows"), self._writing() as conn:
            return purge_rows(conn, int(ts))

    def rows_naming(self, needles: Sequence[str]) -> dict[str, int]:
        with self._reading("search every table") as conn:
            return count_rows_naming(conn, needles)

    def add_audit_entry(self, entry: AuditEntry) -> None:
        with self._guard("log an admin action"), self._writing() as conn:
            conn.execute(audit_log.insert().values(**asdict(entry)))

    def audit_entries(self, *, since: int | None = None, limit: int = 100) -> list[AuditEntry]:
        stmt = select(*[audit_log.c[name] for name in _AUDIT_FIELDS])
        if since is not None:
            stmt = stmt.where(audit_log.c.ts >= int(since))
        stmt = stmt.order_by(audit_log.c.seq.desc()).limit(int(limit))
        with self._reading("read the audit log") as conn:
            return [AuditEntry(**row._mapping) for row in conn.execute(stmt)]

    # ---- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.engine.dispose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._label!r})"


@dataclass(frozen=True)
class DriverSql:
    """A statement compiled once for the driver, with its parameters in the driver's style."""

    text: str
    names: tuple[str, ...] | None  # parameter order for positional styles (SQLite's "?")
    values: dict[str, Any]

    @classmethod
    def of(cls, stmt: Select[Any], dialect: Dialect) -> DriverSql:
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        return cls(compiled.string, names, dict(compiled.params))

    def bind(self, **values: Any) -> DriverSql:
        return replace(self, values={**self.values, **values})

    @property
    def params(self) -> tuple[Any, ...] | dict[str, Any]:
        return self.values if self.names is None else tuple(self.values[n] for n in self.names)


_SERVED_FIELDS = tuple(ServedList.__dataclass_fields__)
_AUDIT_FIELDS = tuple(AuditEntry.__dataclass_fields__)
_FAQ_FIELDS = tuple(FaqEntry.__dataclass_fields__)
_LOG_COLUMNS = ("request_id", "scenario", "experiment", "variant", "n_items", "ts")
_WRITE_LOG_COLUMNS = ("ts", "source", "origin", "accepted", "rejected", "duplicates")
_REJECTION_COLUMNS = ("ts", "source", "origin", "row", "field", "message")


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    ids = list(ids)
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


def quote_name(name: str) -> str:
    """A column name quoted for SQL text (`query`, `text` and `value` are keywords somewhere)."""
    return f'"{name}"'


def dump_json(value: Any) -> str:
    """JSON for tags and attributes: UTF-8 as is (Chinese stays readable), numpy arrays as lists."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
