"""`POST /v1/push/plans`: a personalised push plan within frequency caps and quiet hours."""

# No `from __future__ import annotations`: the body model is built per settings, and FastAPI
# reads the handler's annotation at definition time.
from typing import Any

from fastapi import APIRouter

from tailor.push.request import plan_request_model, plan_rows
from tailor.service.auth import requires
from tailor.service.routes import EngineDep
from tailor.service.schemas import CONTEXT_FIELDS, ErrorOut
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/push", tags=["push"])
    plan_in = plan_request_model(settings.push.max_k)

    @api.post(
        "/plans",
        responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
        summary="Plan pushes: audience, items, send time, probability and reason per user",
        dependencies=[requires(Role.admin)],
        openapi_extra={CONTEXT_FIELDS: ["segment"]},
    )
    def plan(body: plan_in, engine: EngineDep) -> dict[str, Any]:
        """Users below `min_probability`, without an item left after the exclusions, or whose
        caps a push at their send time would break get no push. Admin only: with `record` the
        plan is written to the push log."""
        planned = engine.plan_push(body.to_request(), now=body.at, record=body.record)
        return {
            "model_version": engine.propensity.current().version,
            "users": len(planned),
            "plans": plan_rows(planned, body.channel, body.lang),
        }

    return api
