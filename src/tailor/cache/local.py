"""The shared cache inside one process: right for one `tailor serve`, and for several engines in
one Python process. Replicas in other processes need the Redis one (`tailor.cache.redis_cache`)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from tailor.cache.base import READ_CHANGES, ItemChange, SharedCache, retry_seconds
from tailor.settings import RateLimit

MAX_BUCKETS = 10_000


class InProcessCache(SharedCache):
    """Token buckets in an LRU of `max_buckets` (a dropped key starts again with a full bucket)
    and the latest `max_changes` catalogue changes."""

    remote = False

    def __init__(self, max_changes: int, max_buckets: int = MAX_BUCKETS) -> None:
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._changes: deque[tuple[int, ItemChange]] = deque(maxlen=max_changes)
        self._latest = 0
        self._lock = threading.Lock()

    def take_token(self, bucket: str, limit: RateLimit) -> float | None:
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.pop(bucket, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - then) * limit.per_second)
            allowed = tokens >= 1.0
            self._buckets[bucket] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_buckets:
                self._buckets.popitem(last=False)
        return None if allowed else retry_seconds(tokens, limit)

    def publish_items(self, change: ItemChange) -> int:
        with self._lock:
            self._latest += 1
            self._changes.append((self._latest, change))
            return self._latest

    def latest_change(self) -> int:
        with self._lock:
            return self._latest

    def _numbered_after(self, after: int) -> tuple[int, list[tuple[int, ItemChange]]]:
        with self._lock:
            found = [(n, change) for n, change in self._changes if n > after]
            return self._latest, found[:READ_CHANGES]
