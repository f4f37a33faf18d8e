"""`GET /v1/items/{item_id}/audience` and `POST /v1/campaigns/coupon`: who is most likely to buy an
item, and whom a coupon pays off for."""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations.
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from tailor.campaigns.coupons import CouponCampaign
from tailor.ingest.fields import MAX_TS_MS
from tailor.service.auth import requires
from tailor.service.routes import EngineDep
from tailor.service.schemas import CONTEXT_FIELDS, ErrorOut
from tailor.settings import Role, Settings


class CouponCampaignIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={  # exactly one target: an item or a category
            "oneOf": [
                {"properties": {"item_id": {"type": "string"}}, "required": ["item_id"]},
                {"properties": {"category": {"type": "string"}}, "required": ["category"]},
            ]
        },
    )

    item_id: str | None = Field(None, min_length=1, description="the item the coupon is for")
    category: str | None = Field(None, min_length=1, description="or: any item of this category")
    value: float = Field(
        gt=0,
        description="the coupon's face value, in the shop's currency: at most half the price "
        "(an item's, or a category's median); it covers items priced at least twice the value",
    )
    budget: float = Field(
        gt=0, description="the most the campaign may pay, were every coupon redeemed"
    )
    margin: float = Field(gt=0, le=1, description="share of the price that is profit")
    days: int | None = Field(None, ge=1, description="propensity horizon (default: the first)")
    at: int | None = Field(
        None, ge=0, lt=MAX_TS_MS, description="as of (ms since the epoch); default now"
    )

    def to_campaign(self) -> CouponCampaign:
        return CouponCampaign(**self.model_dump())


def router(settings: Settings) -> APIRouter:
    api = APIRouter(tags=["campaigns"])
    errors = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}}
    limit = settings.campaigns.max_audience

    @api.get(
        "/v1/items/{item_id}/audience",
        responses=errors,
        summary="The users most likely to buy an item within N days",
        dependencies=[requires(Role.read)],
    )
    def audience(
        item_id: Annotated[str, Path(max_length=settings.ingest.max_id_length)],
        engine: EngineDep,
        k: Annotated[int, Query(ge=1, le=limit, description="how many users")] = min(100, limit),
        days: int | None = Query(  # not Annotated: the enum comes from the settings
            None,
            ge=1,
            description="horizon; one of propensity.days (default: the first)",
            json_schema_extra={"enum": settings.propensity.days},
        ),
        at: Annotated[
            int | None, Query(ge=0, lt=MAX_TS_MS, description="as of (ms); default now")
        ] = None,
    ) -> dict[str, Any]:
        """Every user with events in the last `campaigns.lookback_days`, ranked by the calibrated
        P(buys this item within `days`)."""
        return engine.campaigns.audience(item_id, k, days=days, now=at)

    @api.post(
        "/v1/campaigns/coupon",
        responses=errors,
        summary="Whom to give a coupon: users by expected incremental profit, within a budget",
        dependencies=[requires(Role.admin)],
        openapi_extra={CONTEXT_FIELDS: ["value", "budget"]},  # half the price; one coupon's worth
    )
    def coupon(body: CouponCampaignIn, engine: EngineDep) -> dict[str, Any]:
        """Expected incremental profit = (P(buy | coupon) - P(buy)) x margin x price - value x
        P(buy | coupon), the price being the item's or the category's median; the response
        states the uplift assumption. At most budget / value coupons are given, so the budget
        holds even if every one is redeemed. Admin only: it reads every recent user's behaviour."""
        return engine.campaigns.coupon(body.to_campaign())

    return api
