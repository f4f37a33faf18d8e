"""The `store` fixture: every contract test runs against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tailor.store import Store, open_store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty store; the PostgreSQL one is emptied again after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/var/tailor.db"
        return
    yield request.getfixturevalue("empty_postgres_url")


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL database, with the store's tables dropped after the test."""
    yield postgres_url
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS events, items, users, api_keys, served, feedback")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened
