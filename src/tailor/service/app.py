"""`create_app(settings)`: the HTTP face of the engine. It parses, validates and answers; the engine scores.

At start-up the app opens the store and loads the current artifact. A background task looks at
`CURRENT` every few seconds and swaps in a new version without dropping a request. Before the
first training, recommendation routes answer 503 with a message saying to run `tailor train`.

Around the routes, outermost first: CORS (when origins are configured), metrics and the request
log, the body size limit; each route names the key role it needs (see `tailor.service.auth`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from tailor import __version__
from tailor.console import install as install_console
from tailor.engine import Engine
from tailor.errors import ArtifactError
from tailor.privacy.boundary import PseudonymizeUserIds
from tailor.privacy.pseudonyms import Pseudonymizer
from tailor.service.auth import AccessError, Gate, access_error
from tailor.service.batching import one_thread_per_pool
from tailor.service.errors import install_error_handlers
from tailor.service.limits import BodyLimit
from tailor.service.logs import RequestLog
from tailor.service.metrics import Metrics, ObserveRequests
from tailor.service.routes import assistant as assistant_routes
from tailor.service.routes import campaigns as campaign_routes
from tailor.service.routes import (
    events,
    feedback,
    health,
    items,
    metrics,
    popular,
    scenarios,
    search,
    users,
)
from tailor.service.routes import forecast as forecast_routes
from tailor.service.routes import privacy as privacy_routes
from tailor.service.routes import profiles as profile_routes
from tailor.service.routes import propensity as propensity_routes
from tailor.service.routes import push as push_routes
from tailor.service.routes import reviews as review_routes
from tailor.service.routes import risk as risk_routes
from tailor.settings import Settings

log = logging.getLogger(__name__)
RELOAD_SECONDS = 2.0


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The FastAPI app; pass `engine` to serve one you own (it is then not closed on shutdown)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = engine is None
        app.state.engine = served = Engine(settings) if owned else engine
        _load_current(served)
        one_thread_per_pool()
        _freeze_loaded()
        if settings.service.warm_up:
            served.warm_up_in_background(then=_freeze_loaded)
        watcher = asyncio.create_task(_watch_artifacts(served))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            if owned:
                served.close()

    app = FastAPI(
        title="Tailor",
        version=__version__,
        description="Self-hosted personalization for online shops: events in, recommendations out.",
        lifespan=lifespan,
    )
    if engine is not None:
        app.state.engine = engine
    install_error_handlers(app)
    app.add_exception_handler(AccessError, access_error)
    for module in (
        events,
        items,
        users,
        popular,
        health,
        metrics,
        profile_routes,
        propensity_routes,
        push_routes,
        scenarios,
        search,
        feedback,
        risk_routes,
        campaign_routes,
        forecast_routes,
        assistant_routes,
    ):
        app.include_router(module.router(settings))
    app.include_router(review_routes.router(settings))
    app.include_router(privacy_routes.router(settings))
    install_console(app, settings)
    _add_middleware(app, settings)
    return app


def app_from_environment() -> FastAPI:
    """The app for `uvicorn --factory tailor.service.app:app_from_environment --workers N`: each
    worker process reads ./tailor.toml and TAILOR_* variables, and logs like `tailor serve`."""
    from tailor.service.logs import configure_json_logging
    from tailor.settings import load_settings

    configure_json_logging()
    return create_app(load_settings())


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    service = settings.service
    app.state.gate = Gate(service)
    app.state.metrics = Metrics(app)
    pseudonyms = Pseudonymizer.of(settings.privacy)
    if pseudonyms is not None:  # inside the body limit: it reads bodies already bounded
        app.add_middleware(PseudonymizeUserIds, pseudonyms=pseudonyms)
    app.add_middleware(BodyLimit, max_bytes=service.max_body_bytes)
    app.add_middleware(ObserveRequests, metrics=app.state.metrics, log=RequestLog())
    if service.cors_origins:  # added last, so it is outermost: errors carry its headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=service.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
            expose_headers=["Retry-After"],
        )


def _load_current(engine: Engine) -> None:
    if engine.version is not None:
        return
    try:
        engine.load()
    except ArtifactError as exc:
        log.warning("serving without a model: %s", exc.message)


def _freeze_loaded() -> None:
    """Moves what is alive now (the loaded models, their id maps) out of the garbage collector's
    sight: a full collection walked them all, a 150 ms pause at 100k x 100k that every request in
    flight waited out. They are still freed by reference counting when a new version replaces
    them; only reference cycles among them would stay."""
    gc.freeze()


async def _watch_artifacts(engine: Engine) -> None:
    while True:
        await asyncio.sleep(RELOAD_SECONDS)
        try:
            if await asyncio.to_thread(engine.reload_if_changed):
                one_thread_per_pool()  # the new models may have loaded another thread pool
                _freeze_loaded()
                log.info("now serving model version %s", engine.version)
        except ArtifactError as exc:
            log.error("kept model version %s: %s", engine.version, exc.message)
        except Exception:  # the watcher must outlive any one bad look
            log.exception("kept model version %s", engine.version)
