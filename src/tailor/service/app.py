"""`create_app(settings)`: the HTTP face of the engine. It parses, validates and answers; the engine scores.

At start-up the app opens the store and loads the current artifact. A background task looks at
`CURRENT` every few seconds and swaps in a new version without dropping a request. Before the
first training, recommendation routes answer 503 with a message saying to run `tailor train`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from tailor import __version__
from tailor.engine import Engine
from tailor.errors import ArtifactError
from tailor.service.errors import install_error_handlers
from tailor.service.routes import events, health, items, popular, users
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
    for module in (events, items, users, popular, health):
        app.include_router(module.router(settings))
    return app


def _load_current(engine: Engine) -> None:
    if engine.version is not None:
        return
    try:
        engine.load()
    except ArtifactError as exc:
        log.warning("serving without a model: %s", exc.message)


async def _watch_artifacts(engine: Engine) -> None:
    while True:
        await asyncio.sleep(RELOAD_SECONDS)
        try:
            if await asyncio.to_thread(engine.reload_if_changed):
                log.info("now serving model version %s", engine.version)
        except ArtifactError as exc:
            log.error("kept model version %s: %s", engine.version, exc.message)
