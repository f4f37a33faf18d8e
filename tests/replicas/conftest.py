"""The local Redis for the shared-cache and replica tests, under a key prefix of their own."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
import redis

from tailor.settings import CacheSettings

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def redis_cache_settings() -> Iterator[CacheSettings]:
    """Cache settings on the local Redis with a key prefix unique to the module; its keys are
    deleted afterwards. Skips when Redis does not answer, unless TAILOR_REQUIRE_REDIS=1 (as in
    `make test` once the server is up): then the test fails instead."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis not reachable at 127.0.0.1:6379: {exc}"
        if os.environ.get("TAILOR_REQUIRE_REDIS") == "1":
            pytest.fail(f"{reason} (TAILOR_REQUIRE_REDIS=1 requires it)", pytrace=False)
        pytest.skip(reason)
    prefix = f"tailor-test-{os.getpid()}-{secrets.token_hex(4)}:"
    try:
        yield CacheSettings(redis_url=REDIS_URL, key_prefix=prefix)
    finally:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
        client.close()
