"""Fixtures of the privacy tests: a store URL for each backend, an engine over a small shop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from privacy_setup import DAY_MS, ERASED_USER, shop_settings, user_events

from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/tailor.db"
        return
    yield request.getfixturevalue("empty_postgres_url")


@pytest.fixture
def shop_engine(tmp_path: Path, store_url: str) -> Iterator[Engine]:
    """An engine over a stored 60-user shop plus ERASED_USER (a profile row and 11 events)."""
    shop = generate_shop(60, 30, days=14, seed=7)
    with Engine(shop_settings(tmp_path, store_url)) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        start = int(shop.events["ts"].max()) - DAY_MS
        engine.put_users([{"user_id": ERASED_USER, "attributes": {"region": "上海"}}])
        engine.ingest_events(user_events(ERASED_USER, list(shop.items["item_id"][:3]), start))
        yield engine
