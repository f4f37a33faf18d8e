"""The shared cache in Redis, for several `tailor serve` replicas (`cache.redis_url`).

Keys, all under `cache.key_prefix`:
- `rate:<bucket>`: a hash (tokens, at) updated by one Lua script on Redis's own clock, so the
  bucket holds across replicas whatever their clocks say; it expires once it would be full again.
- `items:latest` and `items:changes`: the number of the newest catalogue change, and a stream of
  the changes (entry id `<number>-0`), trimmed to about `cache.item_changes` entries. Both expire
  a week after the last catalogue write.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from tailor.cache.base import (
    CHANGES_TTL_SECONDS,
    READ_CHANGES,
    ItemChange,
    SharedCache,
)
from tailor.errors import CacheError
from tailor.settings import CacheSettings, RateLimit

T = TypeVar("T")

# KEYS: bucket; ARGV: per_second, burst. Returns -1 when a token was taken, else the seconds
# to wait (as a string: Redis would truncate a Lua number to an integer).
TAKE_TOKEN = """
local per_second = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(held[1]) or burst
local at = tonumber(held[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_second)
local allowed = tokens >= 1
if allowed then tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / per_second * 1000) + 1000)
if allowed then return -1 end
return tostring((1 - tokens) / per_second)
"""

# KEYS: latest, changes; ARGV: max length, ttl seconds, origin, kind, ids (JSON). Returns the
# change's number. A feed whose counter expired starts again from 1, without its old entries.
PUBLISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[2]) end
local number = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], number .. '-0',
           'origin', ARGV[3], 'kind', ARGV[4], 'ids', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return number
"""


class RedisCache(SharedCache):
    remote = True

    def __init__(self, settings: CacheSettings) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise CacheError(
                "cache.redis_url is set but the Redis client is not installed: "
                "pip install 'tailor[redis]'"
            ) from exc
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self.url = _without_password(settings.redis_url)
        self.prefix = settings.key_prefix
        self.max_changes = settings.item_changes
        self.client = redis.Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.timeout_seconds,
            socket_connect_timeout=settings.timeout_seconds,
            decode_responses=True,
        )
        self._take = self.client.register_script(TAKE_TOKEN)
        self._publish = self.client.register_script(PUBLISH)
        self._latest_key = f"{self.prefix}items:latest"
        self._changes_key = f"{self.prefix}items:changes"

    def take_token(self, bucket: str, limit: RateLimit) -> float | None:
        key = f"{self.prefix}rate:{bucket}"
        wait = self._call(lambda: self._take(keys=[key], args=[limit.per_second, limit.burst]))
        return None if int(float(wait)) == -1 else float(wait)

    def publish_items(self, change: ItemChange) -> int:
        keys = [self._latest_key, self._changes_key]
        args: list[Any] = [
            self.max_changes, CHANGES_TTL_SECONDS, change.origin, change.kind,
            json.dumps(change.item_ids, ensure_ascii=False),
        ]  # fmt: skip
        return int(self._call(lambda: self._publish(keys=keys, args=args)))

    def latest_change(self) -> int:
        return int(self._call(lambda: self.client.get(self._latest_key)) or 0)

    def _numbered_after(self, after: int) -> tuple[int, list[tuple[int, ItemChange]]]:
        def read() -> list[Any]:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.get(self._latest_key)
                pipe.xrange(self._changes_key, f"{after + 1}-0", "+", count=READ_CHANGES)
                return pipe.execute()

        latest, entries = self._call(read)
        found = [
            (int(entry_id.split("-")[0]), _change(fields)) for entry_id, fields in entries
        ]
        return int(latest or 0), found

    def ping(self) -> None:
        self._call(self.client.ping)

    def close(self) -> None:
        self.client.close()

    def _call(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except self._errors as exc:
            raise CacheError(f"the shared cache at {self.url} (cache.redis_url) failed: {exc}") from exc


def _change(fields: dict[str, str]) -> ItemChange:
    kind = fields["kind"]
    assert kind in ("upsert", "delete", "all"), kind
    return ItemChange(fields["origin"], kind, tuple(json.loads(fields["ids"])))


def _without_password(url: str) -> str:
    """The URL as it may be shown: a password in it becomes ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:" if parts.username else ":"
    return parts._replace(netloc=f"{user}***@{host}").geturl()
