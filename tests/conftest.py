"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tailor.engine import Engine
from tailor.ingest.synthetic import SyntheticShop, generate_shop
from tailor.settings import Settings, load_settings

POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
# Apps start hundreds of times here; each would load the language model in the background.
# tests/service/test_warm_up.py turns it back on.
os.environ.setdefault("TAILOR_SERVICE__WARM_UP", "false")


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


def _empty_database(url: str) -> None:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL database, emptied of every table after the test."""
    yield postgres_url
    _empty_database(postgres_url)


@pytest.fixture(scope="module")
def module_postgres_url(postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL database, emptied of every table after the test module."""
    yield postgres_url
    _empty_database(postgres_url)


SMALL_PROPENSITY_CONFIG = """store_url = "sqlite:///{folder}/t.db"
artifacts_dir = "{folder}/artifacts"
[service]
auth = false
[propensity]
days = [7]
windows = 3
step_days = 3
n_estimators = 20
min_child_samples = 20
"""


def _store_small_shop(
    folder: Path, seed: int, extra_config: str = ""
) -> tuple[Path, Settings, SyntheticShop]:
    """A 120-user synthetic shop stored under `folder`, with a tailor.toml set up for a quick
    purchase-prediction fit (plus `extra_config`): (config path, settings, shop)."""
    config = folder / "tailor.toml"
    config.write_text(
        SMALL_PROPENSITY_CONFIG.format(folder=folder) + extra_config, encoding="utf-8"
    )
    settings = load_settings(config)
    shop = generate_shop(120, 60, days=24, seed=seed)
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
    return config, settings, shop


@pytest.fixture(scope="session")
def stored_small_shop() -> Callable[..., tuple[Path, Settings, SyntheticShop]]:
    """`(folder, seed, extra_config="") -> (config path, settings, shop)`: see `_store_small_shop`."""
    return _store_small_shop
