"""`POST /v1/push/plans`: a personalised push plan within frequency caps and quiet hours."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tailor.push.request import PushPlanIn, plan_rows
from tailor.service.auth import requires
from tailor.service.routes import EngineDep
from tailor.service.schemas import ErrorOut
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/push", tags=["push"])

    @api.post(
        "/plans",
        responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
        summary="Plan pushes: audience, items, send time, probability and reason per user",
        dependencies=[requires(Role.admin)],
    )
    def plan(body: PushPlanIn, engine: EngineDep) -> dict[str, Any]:
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
