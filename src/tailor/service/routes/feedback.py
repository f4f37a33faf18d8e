from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from tailor.online.feedback import record_feedback
from tailor.service.auth import requires
from tailor.service.body import parse_rows
from tailor.service.routes import EngineDep
from tailor.service.schemas import ErrorOut, FeedbackIn, FeedbackOut, batch_body_schema
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(tags=["feedback"])
    max_rows = settings.service.max_batch_events

    @api.post(
        "/v1/feedback",
        response_model=FeedbackOut,
        responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
        openapi_extra=batch_body_schema(FeedbackIn, max_rows),
        summary="Impressions, clicks and conversions of the items a response served",
        dependencies=[requires(Role.ingest)],
    )
    async def post_feedback(request: Request, engine: EngineDep) -> FeedbackOut:
        """One row or a batch, each naming the `request_id` of a response. The batch is checked
        whole and stored only if every row is valid: an unknown request_id answers 404, an item
        not in that response 422, each naming the row and field. `tailor report online` turns the
        feedback into CTR and conversion per scenario and A/B variant."""
        rows = parse_rows(await request.body(), max_rows, "feedback")
        accepted = await run_in_threadpool(record_feedback, engine.scenarios.log, rows)
        return FeedbackOut(accepted=accepted)

    return api
