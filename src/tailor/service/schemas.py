"""Request and response shapes, as the OpenAPI page at /docs shows them.

Incoming rows are not parsed into these models (the vectorised validator in `tailor.ingest`
checks whole batches at once); `EventIn`, `ItemIn` and `UserIn` document what it accepts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tailor.ingest.fields import MAX_TS_MS

# What `tailor.rank.explain.language` accepts: zh or en in any case, or a tag such as zh-CN;
# empty means "from Accept-Language". ASCII blanks only, so the schema and the check agree.
LANG_PATTERN = r"^([ \t\n\r\f\v]*([zZ][hH]|[eE][nN])(-[\s\S]*|[ \t\n\r\f\v]*))?$"
# OpenAPI extension naming body fields whose validity depends on what the schema cannot describe
# (a push audience's segment expression; a coupon's value against its target's price and budget):
# schema-valid input there may still be refused with a 422 naming the field. Fuzzers read it to
# skip their "valid input is accepted" check on that body.
CONTEXT_FIELDS = "x-tailor-context-fields"


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


class ExplanationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(
        description="viewed, cart, favorite, purchase, rated, popular_in, popular, new; "
        "bought_together, similar_not_bought_together, in_cart, favorited, viewed_before, "
        "search_match, search_match_taste"
    )
    text: str = Field(description="the reason in the asked language")
    anchor_item_id: str | None = Field(None, description="the history item the reason names")


class ModelRankOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rank: int = Field(description="1-based, in that model's own list for this user")
    score: float = Field(description="that model's own score")


class ContributionsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    models: dict[str, ModelRankOut] = Field(description="the models that ranked the item")
    rules: list[str] = Field(description="the boosts applied, e.g. new_boost, promoted_boost")
    features: dict[str, float] = Field(
        default_factory=dict,
        description="with a learned ranker: the 3 features that moved its score most, with "
        "their credit along the item's decision paths through the ranker's trees",
    )


class RecommendationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_id: str
    score: float
    reason: str = Field(
        description="why the item is here, for a shopper; on user recommendations in the asked "
        "language, e.g. 'because you viewed X' or '热销于 美妆'"
    )
    source: str = Field(description="the model that contributed most")
    explanation: ExplanationOut | None = Field(None, description="on user recommendations")
    contributions: ContributionsOut | None = Field(None, description="on user recommendations")


class RulesQuery(BaseModel):
    """Per-request overrides of the configured business rules ([rules] in tailor.toml)."""

    lang: str | None = Field(
        None,
        pattern=LANG_PATTERN,
        description="zh or en; default from Accept-Language, else en",
    )
    brand: list[str] = Field([], description="only these brands; repeat or comma-separate")
    price_min: float | None = Field(None, ge=0)
    price_max: float | None = Field(None, ge=0)
    in_stock: bool | None = Field(None, description="leave out items whose stock is known and 0")
    exclude_seen: bool | None = None
    exclude_purchased: bool | None = None
    diversity: Literal["none", "cap", "mmr"] | None = None
    category_cap: int | None = Field(None, ge=1, description="most items per top-level category")
    mmr_lambda: float | None = Field(None, ge=0, le=1, description="1 = relevance only")

    def overrides(self, brands: list[str]) -> dict[str, Any]:
        """The rule overrides (None keeps the configured default); `brands` already split."""
        return {
            "brands": tuple(brands) or None,
            "price_min": self.price_min,
            "price_max": self.price_max,
            "in_stock_only": self.in_stock,
            "exclude_seen": self.exclude_seen,
            "exclude_purchased": self.exclude_purchased,
            "diversity": self.diversity,
            "category_cap": self.category_cap,
            "mmr_lambda": self.mmr_lambda,
        }


class RecommendationsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_version: str | None
    items: list[RecommendationOut]
    request_id: str | None = Field(
        None, description="name it in POST /v1/feedback to attribute impressions, clicks, orders"
    )
    scenario: str | None = Field(
        None,
        description="home, similar, bought_together, continue_shopping, search or popular",
    )
    experiment: str | None = Field(None, description="the A/B experiment running here, if any")
    variant: str | None = Field(None, description="the user's variant in that experiment")


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # attribution comes from the served list alone

    request_id: str = Field(min_length=1, description="from the response that showed the items")
    kind: Literal["impression", "click", "conversion"]
    item_id: str | None = Field(
        None, description="one of that response's items; an impression without it: the whole list"
    )
    ts: int | None = Field(
        None, ge=0, lt=MAX_TS_MS, description="milliseconds since the epoch; default: now"
    )
    value: float | None = Field(None, description="e.g. the order amount of a conversion")


class FeedbackOut(BaseModel):
    accepted: int


class HealthOut(BaseModel):
    store_reachable: bool
    counts: dict[str, int]
    model_version: str | None
    problems: list[str]
    warming_up: bool = Field(
        description="loading the language model and campaign snapshot after start (service.warm_up)"
    )


class ErrorOut(BaseModel):
    error: str = Field(description="the condition, e.g. UnknownItemError")
    message: str
    field: str | None = None
    rejected: list[RejectedRowOut] | None = Field(
        None, description="on a write none of whose rows was valid: each row's field and reason"
    )


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
