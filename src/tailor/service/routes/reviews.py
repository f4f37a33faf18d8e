"""`GET /v1/items/{item_id}/review-insights`: what an item's reviews say, in zh or en."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from tailor.rank.explain import language
from tailor.service.auth import requires
from tailor.service.routes import EngineDep
from tailor.service.schemas import LANG_PATTERN, ErrorOut
from tailor.settings import Role, Settings

MAX_ASPECTS = 10
MAX_EXAMPLES = 5


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/items", tags=["reviews"])

    @api.get(
        "/{item_id}/review-insights",
        responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
        summary="Sentiment shares and the aspects an item's reviews praise and complain about",
        dependencies=[requires(Role.read)],
    )
    def review_insights(
        item_id: str,
        engine: EngineDep,
        lang: Annotated[
            str | None,
            Query(pattern=LANG_PATTERN, description="zh or en (else Accept-Language)"),
        ] = None,
        k: Annotated[int, Query(ge=1, le=MAX_ASPECTS, description="aspects listed per side")] = 5,
        examples: Annotated[
            int, Query(ge=0, le=MAX_EXAMPLES, description="example snippets per aspect")
        ] = 2,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """From the item's latest stored reviews (`reviews.max_reviews`): how many are positive,
        neutral and negative by their text, and per side the k aspects (quality, size, delivery,
        price, packaging, service) most reviews mention, with example clauses in `lang` first.
        Needs `tailor train reviews`; 404 for an unknown item."""
        return engine.reviews.insights(
            item_id, language(lang, accept_language), k=k, examples=examples
        )

    return api
