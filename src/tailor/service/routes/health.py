from fastapi import APIRouter
from starlette.responses import Response

from tailor.service.routes import EngineDep
from tailor.service.schemas import HealthOut
from tailor.settings import Settings


def router(settings: Settings) -> APIRouter:
    api = APIRouter(tags=["health"])

    @api.get(
        "/healthz",
        response_model=HealthOut,
        responses={503: {"model": HealthOut}},
        summary="Store reachable, row counts and the model version served",
    )
    def healthz(engine: EngineDep, response: Response) -> HealthOut:
        """503 when the store does not answer; a missing model is listed under `problems`."""
        health = HealthOut.model_validate(engine.health())
        if not health.store_reachable:
            response.status_code = 503
        return health

    return api
