"""The web console: server-rendered pages on the service's app, in Chinese and English.

`install(app, settings)` adds its routes under /console (see `tailor.console.routes`).
"""

from __future__ import annotations

from fastapi import FastAPI

from tailor.console.routes import SignInRequired, router, sign_in_redirect
from tailor.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    app.include_router(router(settings))
    app.add_exception_handler(SignInRequired, sign_in_redirect)
