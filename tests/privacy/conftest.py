"""A small shop with one distinctively named user, in SQLite or PostgreSQL, for the privacy tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.settings import Settings, load_settings

# Chinese, quotes and a backslash: the id must be found in every form it is written in.
ERASED_USER = '顾客-被遗忘的"人"\\42'
KEY = "k" * 40  # a privacy key of the least accepted length and then some
DAY_MS = 86_400_000


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/tailor.db"
        return
    yield request.getfixturevalue("empty_postgres_url")


def shop_settings(folder: Path, store_url: str, **overrides: object) -> Settings:
    return load_settings(
        store_url=store_url,
        artifacts_dir=folder / "artifacts",
        train={"models": ["popular", "itemknn"], "ranker": {"enabled": False}},
        service={"auth": False},
        online={"served_flush_seconds": 3600},  # served lists stay pending until flushed
        risk={"exclude_flagged": False, "n_estimators": 10},  # quick: scored once, in a test
        **overrides,
    )


def user_events(user_id: str, items: list[str], start_ms: int) -> pd.DataFrame:
    """A view, cart and purchase of each item, a search and a push sent, one minute apart."""
    rows = []
    for item in items:
        for kind in ("view", "cart", "purchase"):
            rows.append({"user_id": user_id, "item_id": item, "kind": kind})
    rows.append({"user_id": user_id, "kind": "search", "query": "面霜"})
    rows.append({"user_id": user_id, "item_id": items[0], "kind": "push_sent"})
    for n, row in enumerate(rows):
        row.update(event_id=f"{user_id}/{n}", ts=start_ms + n * 60_000)
    return pd.DataFrame(rows)


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
