"""One place that turns every failure into JSON: {"error": <condition>, "message": ..., "field": ...}."""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from tailor.errors import TailorError

log = logging.getLogger(__name__)


def error_response(
    status: int, error: str, message: str, field: str | None = None, **details: object
) -> Response:
    body = {"error": error, "message": message, "field": field, **details}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _tailor_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TailorError)
    return error_response(
        exc.status_code,
        type(exc).__name__,
        exc.message,
        getattr(exc, "field", None),
        **getattr(exc, "details", {}),
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    field = str(first["loc"][-1]) if first["loc"] else None
    message = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'][1:]) or 'request'}: {err['msg']}" for err in problems
    )
    return error_response(422, "InvalidInputError", message, field)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no such route: {request.method} {request.url.path} (the API is listed at /docs)"
        return error_response(404, "NotFoundError", message)
    return error_response(exc.status_code, "HTTPError", str(exc.detail))


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        500, "InternalError", f"internal error ({type(exc).__name__}); see the server log"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TailorError, _tailor_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
