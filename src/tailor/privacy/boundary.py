"""Pseudonymisation at the HTTP boundary: the API takes the shop's ids, everything behind it
sees only their pseudonyms (with `privacy.pseudonymize`).

ASGI middleware, run before routing, replaces every user id a request carries by its pseudonym:
the `{user_id}` segment of `/v1/users/{user_id}/...` and `/v1/risk/users/{user_id}`, a `user_id`
query parameter, the `user_id` of each JSON row sent to `/v1/events` and `/v1/users`, and the
`users` list of a push plan. Answers carry pseudonyms (a risk list, a push plan, a profile): the
shop, which holds the key, maps them back by computing the same HMAC over its own ids. A body that
is not JSON passes unchanged, so the route's own 422 names the problem.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tailor.privacy.pseudonyms import Pseudonymizer

_USER_PATH = re.compile(r"^(/v1/(?:risk/)?users/)([^/]+)(/.*)?$")
# Bodies holding user ids: path -> (rows' id field, a list field of ids).
_BODIES: dict[str, tuple[str | None, str | None]] = {
    "/v1/events": ("user_id", None),
    "/v1/users": ("user_id", None),
    "/v1/push/plans": (None, "users"),
}


class PseudonymizeUserIds:
    def __init__(self, app: ASGIApp, pseudonyms: Pseudonymizer) -> None:
        self.app = app
        self.pseudonyms = pseudonyms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._rewrite_path(scope)  # in place: the request log and metrics see the pseudonym
        self._rewrite_query(scope)
        fields = _BODIES.get(scope["path"].rstrip("/"))
        if fields is not None and scope["method"] in ("POST", "PUT"):
            receive = await self._rewritten_body(scope, receive, *fields)
        await self.app(scope, receive, send)

    def _rewrite_path(self, scope: Scope) -> None:
        match = _USER_PATH.match(scope["path"])
        if match is None:
            return
        head, user_id, tail = match[1], match[2], match[3] or ""  # ASGI paths come decoded
        scope["path"] = f"{head}{self.pseudonyms.pseudonym(user_id)}{tail}"
        scope["raw_path"] = quote(scope["path"]).encode()

    def _rewrite_query(self, scope: Scope) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        if "user_id" not in query:
            return
        pairs = parse_qsl(query, keep_blank_values=True)
        scope["query_string"] = urlencode(
            [(k, self.pseudonyms.pseudonym(v) if k == "user_id" and v else v) for k, v in pairs]
        ).encode()

    async def _rewritten_body(
        self, scope: Scope, receive: Receive, row_field: str | None, list_field: str | None
    ) -> Receive:
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return _replay(message, receive)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _replay({"type": "http.request", "body": body}, receive)
        rows = parsed if isinstance(parsed, list) else [parsed]
        for row in rows:
            if isinstance(row, dict):
                self._rewrite_row(row, row_field, list_field)
        body = orjson.dumps(parsed)
        scope["headers"] = [
            (name, str(len(body)).encode() if name == b"content-length" else value)
            for name, value in scope["headers"]
        ]
        return _replay({"type": "http.request", "body": body}, receive)

    def _rewrite_row(
        self, row: dict[str, Any], row_field: str | None, list_field: str | None
    ) -> None:
        if row_field and isinstance(row.get(row_field), str):
            row[row_field] = self.pseudonyms.pseudonym(row[row_field])
        ids = row.get(list_field) if list_field else None
        if isinstance(ids, list):
            row[list_field] = [
                self.pseudonyms.pseudonym(i) if isinstance(i, str) else i for i in ids
            ]


def _replay(first: Message, rest: Receive) -> Receive:
    """A receive that gives `first`, then what the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await rest()

    return receive
