"""The `store` fixture: every contract test runs against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened
