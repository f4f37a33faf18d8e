"""Limits on what one client may send: a token bucket per API key, and a cap on body size."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tailor.errors import TailorError
from tailor.service.errors import error_response
from tailor.settings import RateLimit, Role

MAX_BUCKETS = 10_000


class PayloadTooLargeError(TailorError):
    status_code = 413


class RateLimiter:
    """One token bucket per key, refilled at its role's `per_second` up to `burst`.

    At most `capacity` buckets are kept; the least recently used one is dropped first (its key
    then starts again with a full bucket).
    """

    def __init__(self, limits: dict[Role, RateLimit], capacity: int = MAX_BUCKETS) -> None:
        self.limits = limits
        self.capacity = capacity
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key_id: str, role: Role) -> int | None:
        """None when the request may go ahead, else the whole seconds to wait for a token."""
        limit = self.limits[role]
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.pop(key_id, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - then) * limit.per_second)
            allowed = tokens >= 1.0
            self._buckets[key_id] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
        if allowed:
            return None
        return max(1, math.ceil((1.0 - tokens) / limit.per_second))


class BodyLimit:
    """ASGI middleware: 413 for a body over `max_bytes`, judged by Content-Length when sent and
    counted while reading otherwise, so an oversized body is never read whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(413, PayloadTooLargeError.__name__, self._message())
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise PayloadTooLargeError(self._message())
            return message

        await self.app(scope, counting_receive, send)

    def _message(self) -> str:
        return (
            f"the request body is over {self.max_bytes:,} bytes (service.max_body_bytes): "
            "send it in smaller batches"
        )
