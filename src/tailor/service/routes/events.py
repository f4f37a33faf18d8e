from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tailor.service.auth import requires
from tailor.service.body import parse_rows, refuse_invalid_single_row
from tailor.service.routes import EngineDep, json_response
from tailor.service.row_schemas import event_row, rows_body
from tailor.service.schemas import ErrorOut, IngestOut
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/events", tags=["events"])
    max_rows = settings.service.max_batch_events

    @api.post(
        "",
        response_model=IngestOut,
        responses={422: {"model": ErrorOut}},
        openapi_extra=rows_body(event_row(settings.ingest), max_rows, "event"),
        summary=f"Record one event or a batch of up to {max_rows:,}",
        dependencies=[requires(Role.ingest)],
    )
    async def post_events(request: Request, engine: EngineDep) -> Response:
        """Valid rows are stored even when others are rejected; each rejection names its row and field.
        An event_id already stored counts as a duplicate and is not stored again."""
        rows = parse_rows(await request.body(), max_rows, "event")
        result = await run_in_threadpool(engine.ingest_events, rows)
        request.app.state.metrics.events_ingested.inc(result.accepted)
        refuse_invalid_single_row(result, rows)
        return json_response(result)

    return api
