"""`GET /v1/users/{user_id}/profile`: a user's profile (用户画像), readable in zh or en."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from tailor.ingest.fields import MAX_TS_MS
from tailor.rank.explain import language
from tailor.service.auth import requires
from tailor.service.routes import EngineDep
from tailor.service.schemas import LANG_PATTERN, ErrorOut
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/users", tags=["profiles"])

    @api.get(
        "/{user_id}/profile",
        responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}},
        summary="A user's profile: interests, price band, activity, lifecycle, channel, hours",
        dependencies=[requires(Role.read)],
    )
    def profile(
        user_id: str,
        engine: EngineDep,
        lang: Annotated[
            str | None,
            Query(pattern=LANG_PATTERN, description="zh or en (else Accept-Language)"),
        ] = None,
        vector: Annotated[bool, Query(description="include the interest vector itself")] = False,
        at: Annotated[
            int | None,
            Query(
                ge=0, lt=MAX_TS_MS, description="as of this time (ms since the epoch); default now"
            ),
        ] = None,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """Built from all of the user's events on first request, then kept current: each request
        folds in only the events stored since. Weights decay with `profiles.half_life_days`."""
        return engine.profiles.profile(
            user_id, language(lang, accept_language), now=at, vector=vector
        )

    return api
