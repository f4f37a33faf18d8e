"""Parsing a JSON body of one object or an array of objects, with orjson and no per-row models."""

from __future__ import annotations

from typing import Any

import orjson

from tailor.errors import InvalidInputError


def parse_rows(body: bytes, max_rows: int, noun: str) -> list[dict[str, Any]]:
    """The rows of a body holding one JSON object or an array of at most `max_rows` objects."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(
            f"the request body is not valid JSON: {exc}", field="body"
        ) from None
    rows = [parsed] if isinstance(parsed, dict) else parsed
    if not isinstance(rows, list):
        raise InvalidInputError(f"send one {noun} object or an array of them", field="body")
    if len(rows) > max_rows:
        raise InvalidInputError(
            f"a batch holds at most {max_rows:,} {noun}s, this one has {len(rows):,}: split it",
            field="body",
        )
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInputError(f"row {position} is not a JSON object", field="body")
    return rows
