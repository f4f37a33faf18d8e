"""Parsing a JSON body of one object or an array of objects, with orjson and no per-row models;
and refusing a single-object write whose row is invalid."""

from __future__ import annotations

import json
import math
from typing import Any, Protocol

import orjson

from tailor.errors import InvalidInputError


class RowsResult(Protocol):
    """An ingest or write result: how many rows were kept and which were rejected."""

    @property
    def rejected(self) -> list[Any]: ...


class Rows(list[dict[str, Any]]):
    """The rows of a request body; `single` when the body was one object rather than an array."""

    single = False


class RejectedRowsError(InvalidInputError):
    """The row of a single-object write was invalid; `details` lists each field and reason."""

    def __init__(self, message: str, field: str | None, rejected: list[Any]) -> None:
        super().__init__(message, field=field)
        self.details = {"rejected": [vars(r) for r in rejected]}


def parse_rows(body: bytes, max_rows: int, noun: str) -> Rows:
    """The rows of a body holding one JSON object or an array of at most `max_rows` objects."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        field = _non_finite_field(body)
        if field is not None:
            raise InvalidInputError(
                f"{field}: NaN and infinity are not numbers JSON can carry: send a finite number "
                "or null",
                field=field,
            ) from None
        raise InvalidInputError(
            f"the request body is not valid JSON: {exc}", field="body"
        ) from None
    if isinstance(parsed, dict):
        rows = Rows([parsed])
        rows.single = True
        return rows
    if not isinstance(parsed, list):
        raise InvalidInputError(f"send one {noun} object or an array of them", field="body")
    rows = Rows(parsed)
    if len(rows) > max_rows:
        raise InvalidInputError(
            f"a batch holds at most {max_rows:,} {noun}s, this one has {len(rows):,}: split it",
            field="body",
        )
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInputError(f"row {position} is not a JSON object", field="body")
    return rows


def refuse_invalid_single_row(result: RowsResult, rows: Rows) -> None:
    """422 naming the field when the body was one object and it was rejected. An array is a batch:
    its valid rows are stored and it is answered 200, each rejected row listed with its field."""
    if not rows.single or not result.rejected:
        return
    first = result.rejected[0]
    problems = "; ".join(f"{r.field}: {r.reason}" for r in result.rejected)
    raise RejectedRowsError(f"invalid row: {problems}", first.field, result.rejected)


def _non_finite_field(body: bytes) -> str | None:
    """The row field holding NaN, Infinity or a number too big for a double, if that is what
    broke the parse (Python's parser reads them; orjson, rightly, does not)."""
    try:
        parsed = json.loads(body, parse_constant=float)
        rows = parsed if isinstance(parsed, list) else [parsed]
        for row in rows:
            if isinstance(row, dict):
                for key, value in row.items():
                    if _holds_non_finite(value):
                        return key
    except (ValueError, RecursionError):
        return None
    return None


def _holds_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, list) and any(_holds_non_finite(v) for v in value)
