"""A cap on what one client may send in a body. (The rate limit per API key is a token bucket in
the shared cache: see `tailor.service.auth.Gate` and `tailor.cache`.)"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tailor.errors import TailorError
from tailor.service.errors import error_response


class PayloadTooLargeError(TailorError):
    status_code = 413


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
