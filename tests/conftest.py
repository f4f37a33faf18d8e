"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest

POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A uniquely named PostgreSQL database for this test session, dropped at the end.

    Skips when no server answers at 127.0.0.1:5432, unless TAILOR_REQUIRE_POSTGRES=1 (as in
    `make test` once the server is up): then the test fails instead of silently skipping.
    """
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL not reachable at 127.0.0.1:5432 as user postgres: {exc}".strip()
        if os.environ.get("TAILOR_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (TAILOR_REQUIRE_POSTGRES=1 requires it)", pytrace=False)
        pytest.skip(reason)
    name = f"tailor_test_{os.getpid()}_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL database, emptied of every table after the test."""
    yield postgres_url
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
