"""One contract for both shared caches (in-process and Redis): token buckets and the feed of
catalogue changes, their bounds, and what a reader does about a gap."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
import redis

from tailor.cache import InProcessCache, ItemChange, SharedCache, open_cache
from tailor.cache.base import IDS_PER_CHANGE, READ_CHANGES, changes_after
from tailor.cache.redis_cache import RedisCache
from tailor.errors import CacheError
from tailor.settings import CacheSettings, RateLimit

SLOW = RateLimit(per_second=0.001, burst=3)


@pytest.fixture(params=["in-process", "redis"])
def cache(request) -> Iterator[SharedCache]:
    if request.param == "in-process":
        yield open_cache(CacheSettings())
        return
    shared = request.getfixturevalue("redis_cache_settings")
    # A prefix of this test's own below the module's (whose keys are deleted at the end).
    prefix = f"{shared.key_prefix}{secrets.token_hex(3)}:"
    opened = open_cache(shared.model_copy(update={"key_prefix": prefix}))
    assert isinstance(opened, RedisCache)
    yield opened
    opened.close()


def test_a_bucket_gives_its_burst_then_says_how_long_to_wait(cache):
    assert [cache.take_token("k1", SLOW) for _ in range(3)] == [None, None, None]
    wait = cache.take_token("k1", SLOW)
    assert wait is not None and 990 <= wait <= 1000  # one token at 0.001/s
    assert cache.take_token("k2", SLOW) is None  # another key has its own bucket


def test_a_bucket_refills_at_its_rate(cache):
    fast = RateLimit(per_second=20, burst=1)
    assert cache.take_token("k", fast) is None
    wait = cache.take_token("k", fast)
    assert wait is not None and 0 < wait <= 0.05
    time.sleep(0.08)
    assert cache.take_token("k", fast) is None


def test_the_feed_returns_changes_after_a_cursor_in_order(cache):
    assert cache.latest_change() == 0
    assert cache.item_changes(0).complete and cache.item_changes(0).changes == []
    published = [
        ItemChange("a", "upsert", ("i1", "商品2")),
        ItemChange("b", "delete", ("i3",)),
        ItemChange("a", "upsert", ("i4",)),
    ]
    numbers = [cache.publish_items(change) for change in published]
    assert numbers == [1, 2, 3] and cache.latest_change() == 3
    everything = cache.item_changes(0)
    assert everything.complete and everything.cursor == 3 and everything.changes == published
    rest = cache.item_changes(1)
    assert rest.complete and rest.changes == published[1:]
    assert cache.item_changes(3).changes == [] and cache.item_changes(3).cursor == 3


def test_a_reader_too_far_behind_is_told_to_reread_everything(cache):
    for n in range(READ_CHANGES + 5):
        cache.publish_items(ItemChange("a", "upsert", (f"i{n}",)))
    behind = cache.item_changes(0)
    assert not behind.complete and behind.cursor == READ_CHANGES + 5
    assert cache.item_changes(behind.cursor).complete


def test_the_in_process_feed_keeps_only_the_latest_changes():
    cache = InProcessCache(max_changes=100)
    for n in range(150):
        cache.publish_items(ItemChange("a", "upsert", (f"i{n}",)))
    assert not cache.item_changes(10).complete  # 11..50 were dropped
    kept = cache.item_changes(60)
    assert kept.complete and [c.item_ids[0] for c in kept.changes][:2] == ["i60", "i61"]


def test_a_big_write_is_announced_as_all_items():
    assert ItemChange.of("a", "upsert", [f"i{n}" for n in range(IDS_PER_CHANGE + 1)]).kind == "all"
    assert ItemChange.of("a", "delete", ["x"]) == ItemChange("a", "delete", ("x",))


def test_gaps_by_hand():
    change = ItemChange("a", "upsert", ("i",))
    assert changes_after(5, 7, [(6, change), (7, change)]).complete
    assert not changes_after(5, 7, [(7, change)]).complete  # 6 was trimmed
    assert not changes_after(5, 8, [(6, change), (7, change)]).complete  # 8 not read yet
    reset = changes_after(9, 2, [(1, change), (2, change)])  # the feed expired and restarted
    assert not reset.complete and reset.cursor == 2


def test_redis_keys_expire_and_an_expired_feed_starts_again(redis_cache_settings):
    prefix = f"{redis_cache_settings.key_prefix}{secrets.token_hex(3)}:"
    cache = open_cache(redis_cache_settings.model_copy(update={"key_prefix": prefix}))
    client = redis.Redis.from_url(redis_cache_settings.redis_url)
    cache.take_token("k", RateLimit(per_second=10, burst=5))
    assert 0 < client.pttl(f"{prefix}rate:k") <= 1_100  # full again after 0.1 s, plus 1 s
    for n in range(3):
        cache.publish_items(ItemChange("a", "upsert", (f"i{n}",)))
    assert client.ttl(f"{prefix}items:latest") > 0 and client.ttl(f"{prefix}items:changes") > 0
    client.delete(f"{prefix}items:latest")  # as if it expired
    assert cache.publish_items(ItemChange("a", "delete", ("i0",))) == 1
    assert client.xlen(f"{prefix}items:changes") == 1  # the old entries went with it
    assert not cache.item_changes(3).complete
    client.close()
    cache.close()


def test_an_unreachable_redis_is_a_cache_error_naming_the_setting():
    cache = open_cache(CacheSettings(redis_url="redis://:secret@127.0.0.1:1/0", timeout_seconds=0.5))
    with pytest.raises(CacheError, match=r"cache\.redis_url") as raised:
        cache.take_token("k", SLOW)
    assert "secret" not in raised.value.message and raised.value.status_code == 503
