"""Request and response shapes, as the OpenAPI page at /docs shows them.

Incoming rows are not parsed into these models (the vectorised validator in `tailor.ingest`
checks whole batches at once); `EventIn`, `ItemIn` and `UserIn` document what it accepts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventIn(BaseModel):
    event_id: str | None = Field(
        None, description="client-supplied id: sending it twice stores it once"
    )
    user_id: str
    item_id: str | None = Field(
        None, description="optional only for kinds without an item (search)"
    )
    kind: str = Field(
        description="view, click, search, favorite, cart, purchase, rating, ... or a shop kind"
    )
    ts: int | str | None = Field(None, description="milliseconds since the epoch, or ISO 8601")
    value: float | None = Field(None, description="rating, quantity or amount")
    session_id: str | None = None
    channel: str | None = Field(None, description="web, app, mini-program, ...")
    query: str | None = None
    text: str | None = None


class ItemIn(BaseModel):
    item_id: str
    title: str | None = None
    description: str | None = None
    category: str | None = Field(None, description="path such as 'beauty/skin/cream'")
    brand: str | None = None
    price: float | None = None
    stock: int | None = None
    tags: list[str] | None = None
    attributes: dict[str, Any] | None = None
    created_at: int | str | None = None
    hidden: bool | None = None


class UserIn(BaseModel):
    user_id: str
    attributes: dict[str, Any] | None = None
    created_at: int | str | None = None


class RejectedRowOut(BaseModel):
    row: int = Field(description="0-based position in the request")
    field: str | None
    reason: str


class IngestOut(BaseModel):
    accepted: int = Field(description="new events stored")
    duplicates: int = Field(description="valid events whose event_id was already stored")
    rejected: list[RejectedRowOut]


class WriteOut(BaseModel):
    written: int
    rejected: list[RejectedRowOut]


class DeletedOut(BaseModel):
    deleted: int


class RecommendationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: str
    score: float
    reason: str = Field(description="why the item is here, e.g. 'personalized' or 'popular: ...'")
    source: str = Field(description="the model that contributed most")


class RecommendationsOut(BaseModel):
    model_version: str | None
    items: list[RecommendationOut]


class HealthOut(BaseModel):
    store_reachable: bool
    counts: dict[str, int]
    model_version: str | None
    problems: list[str]


class ErrorOut(BaseModel):
    error: str = Field(description="the condition, e.g. UnknownItemError")
    message: str
    field: str | None = None


def batch_body_schema(row: type[BaseModel], max_rows: int) -> dict[str, Any]:
    """OpenAPI request body for 'one object or an array of up to `max_rows` of them'."""
    schema = row.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            schema,
                            {"type": "array", "items": schema, "maxItems": max_rows},
                        ]
                    }
                }
            },
        }
    }
