from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from tailor.service.auth import requires
from tailor.service.routes import EngineDep, served_response
from tailor.service.schemas import ErrorOut, RecommendationsOut
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter()
    K = Annotated[int, Query(ge=1, le=settings.service.max_k, description="how many items")]

    @api.get(
        "/v1/popular",
        response_model=RecommendationsOut,
        tags=["items"],
        responses={503: {"model": ErrorOut}},
        summary="The most popular items",
        dependencies=[requires(Role.read)],
    )
    def popular(
        engine: EngineDep,
        k: K = 10,
        category: Annotated[
            str | None, Query(description="only items in this category path or below")
        ] = None,
    ) -> Response:
        served = engine.scenarios.popular(k, category)
        return served_response(served)

    return api
