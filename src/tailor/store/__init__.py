"""The source of truth for events, items and users: `open_store(url) -> Store`.

sqlite:///var/tailor.db                              (default; one file, no server)
postgresql+psycopg://user@127.0.0.1:5432/tailor       (production; `postgresql://` works too)
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tailor.errors import ConfigError
from tailor.store.base import Store, StoredKey
from tailor.store.postgres import PostgresStore
from tailor.store.sqlite import SqliteStore

__all__ = ["Store", "StoredKey", "open_store"]

_DRIVERS = {("sqlite", "pysqlite"): SqliteStore, ("postgresql", "psycopg"): PostgresStore}
_DEFAULT_DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}


def open_store(url: str) -> Store:
    """Open (creating tables as needed) the store at `url`; ConfigError for an unsupported URL."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"not a store URL: {url!r} (expected sqlite:///path or postgresql+psycopg://...)"
        ) from exc
    backend = parsed.get_backend_name()
    driver = parsed.drivername.partition("+")[2] or _DEFAULT_DRIVERS.get(backend)
    store_class = _DRIVERS.get((backend, driver))
    if store_class is None:
        raise ConfigError(
            f"unsupported store URL {parsed.render_as_string(hide_password=True)!r}: "
            "use sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/dbname"
        )
    return store_class(url)
