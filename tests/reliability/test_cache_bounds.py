"""Every in-process cache of the serving path is bounded: filled far past its bound, it holds at
most its bound and keeps the newest entries (the soak, `benchmarks/soak.py`, measures the rest)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tailor.cache.local import InProcessCache
from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.profiles import ProfileBook
from tailor.rank.items import MAX_CACHED_CATEGORIES, ItemFacts
from tailor.service.auth import KeyRing, create_key
from tailor.settings import RateLimit, Role, load_settings
from tailor.types import IdMap


def test_profile_states_are_kept_for_at_most_cached_users(tmp_path: Path) -> None:
    settings = load_settings(
        store_url=f"sqlite:///{tmp_path}/tailor.db", profiles={"cached_users": 5}
    )
    shop = generate_shop(30, 40, days=10, seed=1)
    users = shop.users["user_id"].astype(str).tolist()
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        book = ProfileBook(engine.store, settings)
        for user in users:
            book.state(user)
        held = [user for user in users if book.holds_user(user)]
    assert held == users[-5:]


def test_verified_api_keys_are_remembered_up_to_the_ring_capacity(tmp_path: Path) -> None:
    ring = KeyRing(cache_seconds=600, capacity=3)
    with Engine(load_settings(store_url=f"sqlite:///{tmp_path}/tailor.db")) as engine:
        keys = [create_key(engine.store, Role.read, f"k{n}")[0] for n in range(10)]
        for key in keys:
            assert ring.verify(engine.store, key) is not None
    assert [ring.cached(key) is not None for key in keys] == [False] * 7 + [True] * 3


def test_rate_limit_buckets_and_catalogue_changes_are_bounded() -> None:
    cache = InProcessCache(max_changes=100, max_buckets=4)
    one_a_day = RateLimit(per_second=1 / 86_400, burst=1)
    assert cache.take_token("first", one_a_day) is None
    assert cache.take_token("first", one_a_day) is not None  # its bucket is empty
    for n in range(10):
        cache.take_token(f"other-{n}", one_a_day)
    assert cache.take_token("first", one_a_day) is None  # dropped: it starts again full
    assert len(cache._buckets) == 4
    assert cache._changes.maxlen == 100


def test_category_masks_are_cached_for_at_most_max_cached_categories() -> None:
    n = MAX_CACHED_CATEGORIES + 50
    catalogue = pd.DataFrame({"category": [f"c{i}/leaf" for i in range(n)]})
    facts = ItemFacts(IdMap([f"i{i}" for i in range(n)]), catalogue)
    for i in range(n):
        assert facts.under(f"c{i}").sum() == 1
    assert len(facts._under) <= MAX_CACHED_CATEGORIES
