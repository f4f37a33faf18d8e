from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tailor.engine.scenarios import Served
from tailor.engine.serve import FeedRequest
from tailor.rank.explain import language
from tailor.service.auth import requires
from tailor.service.batching import Coalescer
from tailor.service.body import parse_rows, refuse_invalid_single_row
from tailor.service.routes import EngineDep, json_response, served_response, split_ids
from tailor.service.row_schemas import rows_body, user_row
from tailor.service.schemas import (
    ErrorOut,
    RecommendationsOut,
    RulesQuery,
    WriteOut,
)
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/users", tags=["users"])
    max_rows = settings.service.max_batch_events
    K = Annotated[int, Query(ge=1, le=settings.service.max_k, description="how many items")]
    UserId = Annotated[str, Path(max_length=settings.ingest.max_id_length)]
    feeds: Coalescer[FeedRequest, Served] = Coalescer()

    @api.put(
        "",
        response_model=WriteOut,
        responses={422: {"model": ErrorOut}},
        openapi_extra=rows_body(user_row(settings.ingest), max_rows, "user"),
        summary="Insert or replace one user or a batch",
        dependencies=[requires(Role.ingest)],
    )
    async def put_users(request: Request, engine: EngineDep) -> Response:
        rows = parse_rows(await request.body(), max_rows, "user")
        result = await run_in_threadpool(engine.put_users, rows)
        refuse_invalid_single_row(result, rows)
        return json_response(result)

    @api.get(
        "/{user_id}/recommendations",
        response_model=RecommendationsOut,
        responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
        summary="Recommendations for a user",
        dependencies=[requires(Role.read)],
    )
    async def recommendations(
        user_id: UserId,
        engine: EngineDep,
        k: K = 10,
        exclude: Annotated[
            list[str], Query(description="item ids to leave out; repeat or comma-separate")
        ] = [],  # noqa: B006
        category: Annotated[
            str | None, Query(description="only items in this category path or below")
        ] = None,
        rules: Annotated[RulesQuery, Query()] = RulesQuery(),  # noqa: B008
        accept_language: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Scored from the user's latest events, so an event just posted counts at once, under the
        configured business rules (overridable here). A user without usable history gets popular
        items. Each item carries a reason in the asked language and what produced it. The
        response's `request_id` names this list in POST /v1/feedback; under an A/B experiment,
        the user's variant (and its rule overrides) apply."""
        request = engine.scenarios.home_request(
            user_id,
            k,
            exclude=split_ids(exclude),
            category=category,
            rules=rules.overrides(split_ids(rules.brand)),
            lang=language(rules.lang, accept_language),
        )
        served = await feeds.answer(engine.scenarios.home_feeds, request)
        return served_response(served)

    return api
