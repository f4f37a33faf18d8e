"""PostgreSQL specifics: unreachable servers, lost connections, URL forms."""

from __future__ import annotations

import psycopg
import pytest
from store_samples import numbered_events

from tailor.errors import StoreError
from tailor.store import open_store
from tailor.store.postgres import PostgresStore


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError, match="127.0.0.1:1") as caught:
        open_store("postgresql+psycopg://postgres:hunter2@127.0.0.1:1/tailor")
    assert "hunter2" not in str(caught.value)


@pytest.mark.postgres
def test_plain_postgresql_urls_use_psycopg(empty_postgres_url: str) -> None:
    with open_store(empty_postgres_url.replace("+psycopg", "")) as store:
        assert isinstance(store, PostgresStore)
        assert store.counts()["events"] == 0


@pytest.mark.postgres
def test_a_store_outlives_a_dropped_connection(empty_postgres_url: str) -> None:
    with open_store(empty_postgres_url) as store:
        store.add_events(numbered_events(10))
        with psycopg.connect(empty_postgres_url.replace("+psycopg", ""), autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert killed and killed[0] >= 1
        assert store.counts()["events"] == 10
        assert store.add_events(numbered_events(20)) == 10
