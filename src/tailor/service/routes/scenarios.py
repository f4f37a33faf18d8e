"""Scenario endpoints beside the home feed: frequently bought together, continue shopping."""

from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tailor.rank.explain import language
from tailor.service.auth import requires
from tailor.service.routes import EngineDep, served_response
from tailor.service.schemas import LANG_PATTERN, ErrorOut, RecommendationsOut
from tailor.settings import Role, Settings

Lang = Annotated[
    str | None,
    Query(pattern=LANG_PATTERN, description="zh or en; default from Accept-Language, else en"),
]
UserId = Annotated[str | None, Query(description="the shopper, for their A/B variant")]


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["scenarios"])
    K = Annotated[int, Query(ge=1, le=settings.service.max_k, description="how many items")]

    @api.get(
        "/items/{item_id}/bought-together",
        response_model=RecommendationsOut,
        responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
        summary="Items frequently bought together with an item",
        dependencies=[requires(Role.read)],
    )
    async def bought_together(
        item_id: str,
        engine: EngineDep,
        k: K = 10,
        user_id: UserId = None,
        lang: Lang = None,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Items carted or bought in the same sessions as this one (the `cobought` model), best
        first. When there are fewer than k, similar items fill the list and their reason says
        they are only similar."""
        served = await run_in_threadpool(
            engine.scenarios.bought_together,
            item_id,
            k,
            user_id=user_id,
            lang=language(lang, accept_language),
        )
        return served_response(served)

    @api.get(
        "/users/{user_id}/continue-shopping",
        response_model=RecommendationsOut,
        responses={422: {"model": ErrorOut}},
        summary="Items the user viewed or carted and has not bought",
        dependencies=[requires(Role.read)],
    )
    async def continue_shopping(
        user_id: str,
        engine: EngineDep,
        k: K = 10,
        lang: Lang = None,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Carted, then favourited, then viewed items not bought since, each kind's weight halved
        every `scenarios.continue_half_life_days`; only listed, shown, in-stock items. Read from
        the store, so an event just posted counts at once, trained model or not."""
        served = await run_in_threadpool(
            engine.scenarios.continue_shopping, user_id, k, lang=language(lang, accept_language)
        )
        return served_response(served)

    return api
