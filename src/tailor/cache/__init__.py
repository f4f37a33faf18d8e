"""The cache shared by service replicas: `open_cache(settings.cache)` -> SharedCache.

Empty `cache.redis_url` (the default) keeps it in the process; with a URL, every replica that
points at the same Redis and key prefix shares rate limits and catalogue changes.
"""

from __future__ import annotations

from tailor.cache.base import ItemChange, ItemChanges, SharedCache
from tailor.cache.local import InProcessCache
from tailor.settings import CacheSettings


def open_cache(settings: CacheSettings) -> SharedCache:
    if not settings.redis_url:
        return InProcessCache(settings.item_changes)
    from tailor.cache.redis_cache import RedisCache

    return RedisCache(settings)


__all__ = ["InProcessCache", "ItemChange", "ItemChanges", "SharedCache", "open_cache"]
