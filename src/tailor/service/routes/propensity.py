"""`GET /v1/users/{user_id}/purchase-probability`: calibrated purchase probabilities."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tailor.ingest.fields import MAX_TS_MS
from tailor.service.auth import requires
from tailor.service.routes import EngineDep
from tailor.service.schemas import ErrorOut
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/users", tags=["purchase prediction"])
    default_days = settings.propensity.days[0]

    @api.get(
        "/{user_id}/purchase-probability",
        responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
        summary="P(the user buys anything, this item, or in this category within N days)",
        dependencies=[requires(Role.read)],
    )
    def purchase_probability(
        user_id: str,
        engine: EngineDep,
        days: int = Query(  # not Annotated: the enum comes from the settings
            default_days,
            ge=1,
            description="horizon; one of propensity.days",
            json_schema_extra={"enum": settings.propensity.days},
        ),
        item_id: Annotated[str | None, Query(description="also P(buys this item)")] = None,
        category: Annotated[
            str | None, Query(description="also P(buys in this category); default: the item's")
        ] = None,
        at: Annotated[
            int | None,
            Query(ge=0, lt=MAX_TS_MS, description="as of (ms since the epoch); default now"),
        ] = None,
    ) -> dict[str, Any]:
        """Calibrated probabilities from the user's latest events, with the expected days to the
        next purchase in the category when it is a consumable the user has bought."""
        return engine.propensity.probability(
            user_id, days, item_id=item_id, category=category, now=at
        )

    return api
