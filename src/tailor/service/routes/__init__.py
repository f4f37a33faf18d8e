"""One router per resource; each is built from the settings so limits show in the OpenAPI page."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from tailor.engine import Engine
from tailor.service.schemas import RecommendationsOut


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


async def _engine(request: Request) -> Engine:
    """`engine_of` as a dependency: FastAPI runs a plain function dependency in a worker thread,
    a thread hop on every request."""
    return engine_of(request)


EngineDep = Annotated[Engine, Depends(_engine)]


def json_response(result: Any) -> Response:
    """A dataclass result as JSON, without a pydantic round trip (the write hot path)."""
    return Response(orjson.dumps(asdict(result)), media_type="application/json")


def served_response(served: Any) -> Response:
    """A scenario's answer as JSON, checked once against `RecommendationsOut` (returning the model
    would have FastAPI validate it a second time before serialising it)."""
    out = RecommendationsOut.model_validate(served, from_attributes=True)
    return Response(out.model_dump_json(), media_type="application/json")


def split_ids(values: list[str]) -> list[str]:
    """Ids given as repeated parameters, comma-separated, or both."""
    return [part for value in values for part in value.split(",") if part]
