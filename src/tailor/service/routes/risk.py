"""`GET /v1/risk/users` and `GET /v1/risk/users/{user_id}`: risk scores with their reasons (admin)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from tailor.risk import RiskBook
from tailor.service.auth import requires
from tailor.service.routes import EngineDep
from tailor.service.schemas import ErrorOut
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/risk", tags=["risk control"])
    errors = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}}

    def book(request: Request) -> RiskBook:
        state = request.app.state
        if getattr(state, "risk_book", None) is None:
            state.risk_book = RiskBook(settings.risk)
        return state.risk_book

    @api.get(
        "/users",
        responses=errors,
        summary="Users by risk score, highest first, with the reasons",
        dependencies=[requires(Role.admin)],
    )
    def risky_users(
        request: Request,
        engine: EngineDep,
        min_score: Annotated[
            float | None, Query(ge=0, le=1, description="default: risk.min_score")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    ) -> dict[str, Any]:
        """Bots, fake orders and collusive rings, scored from each user's events."""
        scores = book(request).users(engine.store, min_score, limit)
        threshold = settings.risk.min_score if min_score is None else min_score
        return {"min_score": threshold, "users": [asdict(s) for s in scores]}

    @api.get(
        "/users/{user_id}",
        responses=errors,
        summary="One user's risk score and the reasons for it",
        dependencies=[requires(Role.admin)],
    )
    def risky_user(user_id: str, request: Request, engine: EngineDep) -> dict[str, Any]:
        """A user with no events scores 0; an unknown user is a 404."""
        return asdict(book(request).user(engine.store, user_id))

    return api
