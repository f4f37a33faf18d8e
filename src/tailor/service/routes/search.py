from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tailor.rank.explain import language
from tailor.service.auth import requires
from tailor.service.routes import EngineDep, served_response
from tailor.service.schemas import LANG_PATTERN, ErrorOut, RecommendationsOut
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(tags=["scenarios"])
    K = Annotated[int, Query(ge=1, le=settings.service.max_k, description="how many items")]

    @api.get(
        "/v1/search",
        response_model=RecommendationsOut,
        responses={400: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
        summary="Search the catalogue by meaning, re-ranked for the user",
        dependencies=[requires(Role.read)],
    )
    async def search(
        engine: EngineDep,
        q: Annotated[
            str, Query(pattern=r"\S", description="the query, in Chinese or English")
        ],
        k: K = 10,
        user_id: Annotated[str | None, Query(description="re-rank for this shopper")] = None,
        lang: Annotated[
            str | None, Query(pattern=LANG_PATTERN, description="zh or en, for the reasons")
        ] = None,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> Response:
        """The query and the items' text go through the same multilingual encoder (the trained
        `content` model's); the best matches are re-ranked by the user's category affinity
        (`scenarios.search_personalization`). A known user's search is stored as an event."""
        served = await run_in_threadpool(
            engine.scenarios.search, q, k, user_id=user_id, lang=language(lang, accept_language)
        )
        return served_response(served)

    return api
