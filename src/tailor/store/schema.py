"""The tables (events, items, users, and the service's api_keys, served lists, feedback, write log and FAQ), declared once with SQLAlchemy Core for SQLite and PostgreSQL.

Ids use the "C" collation on PostgreSQL so both backends order them by code point, as Python does.
`events.seq` grows with every insert: it keeps insertion order among events with the same `ts`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB

_ID = Text().with_variant(Text(collation="C"), "postgresql")
_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
# SQLite only aliases the rowid (and so autoincrements) for a column typed exactly INTEGER.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("event_id", _ID, nullable=False),
    Column("user_id", _ID, nullable=False),
    Column("item_id", _ID),
    Column("kind", Text, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("value", Float),
    Column("session_id", Text),
    Column("channel", Text),
    Column("query", Text),
    Column("text", Text),
    # An index rather than a UNIQUE constraint, so a SQLite bulk load can drop and rebuild it.
    Index("ux_events_event_id", "event_id", unique=True),
    Index("ix_events_user_ts", "user_id", "ts", "seq"),
)

items = Table(
    "items",
    metadata,
    Column("item_id", _ID, primary_key=True),
    Column("title", Text),
    Column("description", Text),
    Column("category", Text),
    Column("brand", Text),
    Column("price", Float),
    Column("stock", BigInteger),
    Column("tags", _JSON),
    Column("attributes", _JSON),
    Column("created_at", BigInteger),
    Column("hidden", Boolean, nullable=False, server_default=false()),
)

users = Table(
    "users",
    metadata,
    Column("user_id", _ID, primary_key=True),
    Column("attributes", _JSON),
    Column("created_at", BigInteger),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", _ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("salt", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

# A list of items the service answered (a recommendation, search, ...): what feedback attributes
# impressions, clicks and conversions to, by `request_id`.
served = Table(
    "served",
    metadata,
    Column("request_id", _ID, primary_key=True),
    Column("scenario", Text, nullable=False),
    Column("experiment", Text),
    Column("variant", Text),
    Column("user_id", _ID),
    Column("item_ids", _JSON, nullable=False),
    Column("n_items", Integer, nullable=False),
    Column("model_version", Text),
    Column("ts", BigInteger, nullable=False),
    Index("ix_served_ts", "ts"),
    Index("ix_served_user", "user_id"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("request_id", _ID, nullable=False),
    Column("kind", Text, nullable=False),
    Column("item_id", _ID),
    Column("ts", BigInteger, nullable=False),
    Column("value", Float),
    Index("ix_feedback_request", "request_id"),
)

# One row per write that rejected rows or dropped duplicates (`source`: events, items or users;
# `origin`: "api" or the file's name), and the first rejections of each, for the Data health page.
write_log = Table(
    "write_log",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("accepted", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("duplicates", BigInteger, nullable=False),
    Index("ix_write_log_ts", "ts"),
)

rejections = Table(
    "rejections",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("write_seq", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("row", BigInteger, nullable=False),
    Column("field", Text),
    Column("message", Text, nullable=False),
    Index("ix_rejections_ts", "ts"),
)

# The shop's FAQ, for the customer-service assistant (see `tailor.assistant`): one row per entry,
# replaced whole when an entry with the same id is imported again.
faq = Table(
    "faq",
    metadata,
    Column("faq_id", _ID, primary_key=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("lang", Text, nullable=False),
    Column("topic", Text),
    Column("updated_at", BigInteger, nullable=False),
)

# One row per admin action (erasure, purge, key management, backup, restore): who acted (an API
# key's id, or "cli"), what, on what (a hash of a user id, never the id itself), and the outcome.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text),
    Column("outcome", Text, nullable=False),
    Index("ix_audit_log_ts", "ts"),
)

# Column dtypes of the frames the store returns: text is pandas' "str" (missing is NaN), "json"
# columns hold lists and dicts (or None), "Int64" is pandas' nullable integer.
EVENT_DTYPES: dict[str, str] = {
    "event_id": "str",
    "user_id": "str",
    "item_id": "str",
    "kind": "str",
    "ts": "int64",
    "value": "float64",
    "session_id": "str",
    "channel": "str",
    "query": "str",
    "text": "str",
}
ITEM_DTYPES: dict[str, str] = {
    "item_id": "str",
    "title": "str",
    "description": "str",
    "category": "str",
    "brand": "str",
    "price": "float64",
    "stock": "Int64",
    "tags": "json",
    "attributes": "json",
    "created_at": "Int64",
    "hidden": "bool",
}
USER_DTYPES: dict[str, str] = {"user_id": "str", "attributes": "json", "created_at": "Int64"}
