"""The JSON Schema of one event, item or user row as the ingest validator accepts it.

The pydantic models in `tailor.service.schemas` name the fields; these schemas add what the
validator checks (id lengths, NUL characters, known kinds, timestamp ranges, no unknown fields),
built from the settings, so a client (or a fuzzer) can tell a valid row from the schema alone.
A request body is one such row or an array of objects: each array row is checked the same way,
and the answer lists every rejected row with its field, so the array's items are only `object`.
"""

from __future__ import annotations

from typing import Any

from tailor.ingest.fields import MAX_TS_MS, SAFE_INTEGER, SECONDS_BELOW
from tailor.settings import IngestSettings
from tailor.types import ITEMLESS_KINDS

NO_NUL = "^[^\\u0000]*$"  # PostgreSQL cannot store the NUL character
WHOLE = {"type": "integer", "minimum": 1 - SAFE_INTEGER, "maximum": SAFE_INTEGER - 1}
NULL = {"type": "null"}
# ISO 8601 date-times that are valid dates within 1971..2189 in any offset (days up to 28).
ISO_TIME = (
    "^(197[1-9]|19[89][0-9]|20[0-9]{2}|21[0-8][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-2]):[0-5][0-9])?$"
)
TIMESTAMP = {
    "anyOf": [
        NULL,
        {"type": "number", "minimum": 0, "maximum": (MAX_TS_MS - 1) / 1000},
        {"type": "number", "minimum": SECONDS_BELOW, "maximum": MAX_TS_MS - 1},
        {"type": "string", "pattern": ISO_TIME},
        {"type": "string", "maxLength": 0},
    ],
    "description": "epoch seconds or milliseconds (1970..2200), or ISO 8601; missing: now",
}
NUMBER = {"type": "number", "minimum": -1e308, "maximum": 1e308}
SCALAR = {"anyOf": [NULL, {"type": "boolean"}, NUMBER, {"type": "string", "pattern": NO_NUL}]}
JSON_OBJECT = {
    "type": "object",
    "propertyNames": {"pattern": NO_NUL},
    "additionalProperties": {
        "anyOf": [
            SCALAR,
            {"type": "array", "items": SCALAR},
            {
                "type": "object",
                "propertyNames": {"pattern": NO_NUL},
                "additionalProperties": SCALAR,
            },
        ]
    },
}


def _id(max_length: int, *, required: bool) -> dict[str, Any]:
    text = {"type": "string", "minLength": 1 if required else 0, "maxLength": max_length}
    return {"anyOf": [{**text, "pattern": NO_NUL}, WHOLE, *([] if required else [NULL])]}


def _text(max_length: int) -> dict[str, Any]:
    return {"anyOf": [{"type": "string", "maxLength": max_length, "pattern": NO_NUL}, NULL]}


def _optional(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, NULL]}


def _row(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": NULL,  # an unknown field is refused unless it is null
    }


def event_row(ingest: IngestSettings) -> dict[str, Any]:
    """An event: `item_id` is required unless the kind is item-less (search)."""
    ids, texts = ingest.max_id_length, ingest.max_text_length
    fields = {
        "event_id": _id(ids, required=False),
        "user_id": _id(ids, required=True),
        "ts": TIMESTAMP,
        "value": _optional(NUMBER),
        "session_id": _id(ids, required=False),
        "channel": _text(ids),
        "query": _text(texts),
        "text": _text(texts),
    }
    kinds = sorted(ingest.event_weights)
    with_item = [k for k in kinds if k not in ITEMLESS_KINDS]
    itemless = [k for k in kinds if k in ITEMLESS_KINDS]
    variants = [
        _row(
            {**fields, "kind": {"enum": with_item}, "item_id": _id(ids, required=True)},
            ["user_id", "kind", "item_id"],
        ),
        _row(
            {**fields, "kind": {"enum": itemless}, "item_id": _id(ids, required=False)},
            ["user_id", "kind"],
        ),
    ]
    return {"anyOf": variants} if itemless else variants[0]


def item_row(ingest: IngestSettings) -> dict[str, Any]:
    texts = ingest.max_text_length
    return _row(
        {
            "item_id": _id(ingest.max_id_length, required=True),
            "title": _text(texts),
            "description": _text(texts),
            "category": _text(texts),
            "brand": _text(texts),
            "price": _optional({**NUMBER, "minimum": 0}),
            "stock": _optional({"type": "integer", "minimum": 0, "maximum": SAFE_INTEGER - 1}),
            "tags": _optional({"type": "array", "items": {"type": "string", "pattern": NO_NUL}}),
            "attributes": _optional(JSON_OBJECT),
            "created_at": TIMESTAMP,
            "hidden": _optional({"type": "boolean"}),
        },
        ["item_id"],
    )


def user_row(ingest: IngestSettings) -> dict[str, Any]:
    return _row(
        {
            "user_id": _id(ingest.max_id_length, required=True),
            "attributes": _optional(JSON_OBJECT),
            "created_at": TIMESTAMP,
        },
        ["user_id"],
    )


def rows_body(row: dict[str, Any], max_rows: int, noun: str) -> dict[str, Any]:
    """OpenAPI request body: one row (422 when invalid), or an array of up to `max_rows` objects
    (each checked as one row; the answer lists the rejected ones and the rest are stored)."""
    batch = {
        "type": "array",
        "items": {"type": "object"},
        "maxItems": max_rows,
        "description": f"{noun}s checked one by one: valid ones are stored, the others listed "
        "under `rejected` with their field and reason",
    }
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"oneOf": [row, batch]}}},
        }
    }
