from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tailor.service.auth import requires
from tailor.service.body import parse_rows, refuse_invalid_single_row
from tailor.service.routes import EngineDep, json_response, served_response
from tailor.service.row_schemas import item_row, rows_body
from tailor.service.schemas import (
    DeletedOut,
    ErrorOut,
    RecommendationsOut,
    WriteOut,
)
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/items", tags=["items"])
    max_rows = settings.service.max_batch_events
    K = Annotated[int, Query(ge=1, le=settings.service.max_k, description="how many items")]
    ItemId = Annotated[str, Path(max_length=settings.ingest.max_id_length)]

    @api.put(
        "",
        response_model=WriteOut,
        responses={422: {"model": ErrorOut}},
        openapi_extra=rows_body(item_row(settings.ingest), max_rows, "item"),
        summary="Insert or replace one item or a batch",
        dependencies=[requires(Role.ingest)],
    )
    async def put_items(request: Request, engine: EngineDep) -> Response:
        """Hidden and sold-out items stop being recommended at once; other changes reach the
        models at the next training."""
        rows = parse_rows(await request.body(), max_rows, "item")
        result = await run_in_threadpool(engine.put_items, rows)
        refuse_invalid_single_row(result, rows)
        return json_response(result)

    @api.delete(
        "/{item_id}",
        response_model=DeletedOut,
        summary="Delete an item",
        dependencies=[requires(Role.admin)],
    )
    def delete_item(item_id: ItemId, engine: EngineDep) -> DeletedOut:
        """The item stops being recommended at once; its past events stay as history."""
        return DeletedOut(deleted=engine.delete_items([item_id]))

    @api.get(
        "/{item_id}/similar",
        response_model=RecommendationsOut,
        responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
        summary="Items similar to an item",
        dependencies=[requires(Role.read)],
    )
    def similar(item_id: ItemId, engine: EngineDep, k: K = 10) -> Response:
        served = engine.scenarios.similar(item_id, k)
        return served_response(served)

    return api
