"""Privacy routes (admin): erase a user, purge old events, read the audit log.

`DELETE /v1/users/{user_id}` erases the user at once from the store, every cache and the artifacts
on disk (see `tailor.privacy.erasure`) and answers a receipt of what went. Every call of these
routes, and every key made or revoked with `tailor keys`, is written to the audit log.
"""

# No `from __future__ import annotations`: FastAPI reads the route-local UserId alias at runtime.
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from tailor.privacy import erase_user, parse_age, purge
from tailor.privacy.erasure import UserCache
from tailor.privacy.retention import AGE_PATTERN
from tailor.service.auth import requires
from tailor.service.routes import EngineDep
from tailor.service.schemas import ErrorOut
from tailor.settings import Role, Settings

ANONYMOUS_ACTOR = "anonymous"  # the actor when service.auth is off
MAX_AUDIT_ENTRIES = 1000


class ErasureOut(BaseModel):
    user: str = Field(description="the audit log's hash of the user id (the id is not kept)")
    erased_at: str
    found: bool = Field(description="false: nothing of this user was held")
    tables: dict[str, int] = Field(description="rows deleted per table")
    caches: dict[str, int] = Field(description="entries dropped per in-memory cache")
    artifact_versions: list[str] = Field(
        description="artifact versions written in place of those that named the user"
    )


class PurgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    older_than: str = Field(
        pattern=AGE_PATTERN,
        description="events older than this go: hours, days or weeks, e.g. 365d",
    )


class PurgeOut(BaseModel):
    before: str = Field(description="rows older than this (ISO 8601, UTC) were deleted")
    tables: dict[str, int] = Field(description="rows deleted per table")


class AuditEntryOut(BaseModel):
    ts: int = Field(description="ms since the epoch")
    actor: str = Field(description="the API key id that acted, or cli")
    action: str
    target: str | None = Field(description="a hash of the user id, a key id, a cutoff")
    outcome: str = Field(description="ok, or failed: and the reason")


def actor_of(request: Request) -> str:
    return getattr(request.state, "key_id", None) or ANONYMOUS_ACTOR


def service_caches(request: Request) -> dict[str, UserCache]:
    """The caches of users the app keeps beside the engine's."""
    book = getattr(request.app.state, "risk_book", None)
    return {"risk_scores": book} if book is not None else {}


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["privacy"])
    UserId = Annotated[str, Path(max_length=settings.ingest.max_id_length)]

    @api.delete(
        "/users/{user_id}",
        response_model=ErasureOut,
        responses={422: {"model": ErrorOut}},
        summary="Erase a user: events, profile, served lists, caches and artifacts, at once",
        dependencies=[requires(Role.admin)],
    )
    def erase(user_id: UserId, request: Request, engine: EngineDep) -> ErasureOut:
        """Right to erasure (GDPR art. 17, PIPL art. 47). The next training cannot see the user;
        the artifact versions that named them are replaced by scrubbed copies now."""
        receipt = erase_user(
            engine,
            user_id,
            actor=actor_of(request),
            caches=service_caches(request),
            pseudonymized=settings.privacy.pseudonymize,  # by `tailor.privacy.boundary`
        )
        return ErasureOut(**asdict(receipt), found=receipt.found)

    @api.post(
        "/purge",
        response_model=PurgeOut,
        responses={422: {"model": ErrorOut}},
        summary="Delete events older than an age, and the rows that depend on them",
        dependencies=[requires(Role.admin)],
    )
    def purge_old(body: PurgeIn, request: Request, engine: EngineDep) -> PurgeOut:
        result = purge(engine.store, parse_age(body.older_than), actor=actor_of(request))
        return PurgeOut(**asdict(result))

    @api.get(
        "/audit-log",
        response_model=list[AuditEntryOut],
        summary="Admin actions, newest first",
        dependencies=[requires(Role.admin)],
    )
    def audit_log(
        engine: EngineDep,
        since: Annotated[
            int | None, Query(ge=0, le=2**53, description="ms since the epoch")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_ENTRIES)] = 100,
    ) -> list[AuditEntryOut]:
        entries = engine.store.audit_entries(since=since, limit=limit)
        return [AuditEntryOut(**asdict(entry)) for entry in entries]

    return api
