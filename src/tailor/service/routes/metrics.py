from fastapi import APIRouter, Request
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.responses import Response

from tailor.service.auth import requires
from tailor.settings import Role, Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(tags=["operations"])

    @api.get(
        "/metrics",
        dependencies=[requires(Role.metrics)],
        response_class=Response,
        summary="Prometheus metrics: requests, latency, events ingested, model version",
    )
    def metrics(request: Request) -> Response:
        """Text exposition format 0.0.4; needs a key of role `metrics` (or admin)."""
        body = request.app.state.metrics.exposition()
        return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)

    return api
