"""Demand forecasts: `GET /v1/items/{item_id}/forecast`, `GET /v1/forecast/categories` and
`GET /v1/forecast/restock` (items whose stock the forecast runs out within the horizon)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from tailor.forecast.service import MAX_DAYS, ForecastService
from tailor.service.auth import requires
from tailor.service.schemas import ErrorOut
from tailor.settings import Role, Settings

Days = Annotated[int, Query(ge=1, le=MAX_DAYS, description="horizon in days")]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}


def forecasts_of(request: Request) -> ForecastService:
    """The app's forecast service, kept on the app so its fitted forecasts are reused."""
    state = request.app.state
    service = getattr(state, "forecasts", None)
    if service is None or service.store is not state.engine.store:
        state.forecasts = service = ForecastService(state.engine.store)
    return service


ForecastDep = Annotated[ForecastService, Depends(forecasts_of)]


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["forecasts"])
    ItemId = Annotated[str, Path(max_length=settings.ingest.max_id_length)]

    @api.get(
        "/items/{item_id}/forecast",
        responses=ERRORS,
        summary="Daily unit sales of an item over the next days, with an 80% interval",
        dependencies=[requires(Role.read)],
    )
    def item_forecast(item_id: ItemId, forecasts: ForecastDep, days: Days = 14) -> dict[str, Any]:
        """The method is `lightgbm` for items that sell most days, else a simple one (`croston`
        for sparse sales); `no_history` (zero sales ahead) for an item the fit had no series of.
        Fitted on the first request and after the events change."""
        return forecasts.item(item_id, days)

    @api.get(
        "/forecast/categories",
        responses=ERRORS,
        summary="Daily unit sales of a category (any level of its path) over the next days",
        dependencies=[requires(Role.read)],
    )
    def category_forecast(
        category: Annotated[
            str, Query(min_length=1, max_length=1000, description="category path, e.g. 美妆 Beauty")
        ],
        forecasts: ForecastDep,
        days: Days = 14,
    ) -> dict[str, Any]:
        return forecasts.category(category, days)

    @api.get(
        "/forecast/restock",
        responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
        summary="Items whose stock runs out within the horizon at the forecast demand",
        dependencies=[requires(Role.read)],
    )
    def restock(forecasts: ForecastDep, days: Days = 14) -> dict[str, Any]:
        """Soonest first; `runs_out_step` counts days from the first forecast day (0 = that day),
        `runs_out_high` is the day at the interval's upper demand."""
        return forecasts.restock(days)

    return api
