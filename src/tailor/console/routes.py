"""The console's routes under /console: sign-in and out, the language switch, static files, pages.

Every page needs a session (see `tailor.console.session`); without one it redirects to the
sign-in form, which takes an admin API key. Pages are rendered on the server from Jinja2
templates; charts are drawn in the browser by the plotly.min.js the `plotly` package ships.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Depends, Form, Request
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response

from tailor import __version__
from tailor.console import views
from tailor.console.format import FILTERS
from tailor.console.i18n import LANG_COOKIE, LANGUAGES, Words, request_language
from tailor.console.session import SESSION_COOKIE, SESSION_SECONDS, session_key, session_token
from tailor.console.stats import ConsoleStats
from tailor.engine import Engine
from tailor.settings import Role, Settings
from tailor.store import StoredKey

PREFIX = "/console"
HERE = Path(__file__).parent
STATIC = {"console.css": "text/css", "console.js": "text/javascript"}
NAV = ("overview", "models", "users", "items", "push", "experiments", "health")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """Raised by a page reached without a valid session; answered with a redirect to sign-in."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def sign_in_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"{PREFIX}/sign-in?next={quote(exc.next_url)}", status_code=303)


def _engine(request: Request) -> Engine:
    return request.app.state.engine


def _signed_in(request: Request) -> StoredKey:
    key = session_key(_engine(request).store, request.cookies.get(SESSION_COOKIE))
    if key is None:
        raise SignInRequired(_here(request))
    return key


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _safe_next(next_url: str | None) -> str:
    """Only a console path may follow sign-in or a language switch (no open redirect)."""
    if next_url and next_url.startswith(PREFIX) and not next_url.startswith("//"):
        return next_url
    return PREFIX


SignedIn = Annotated[StoredKey, Depends(_signed_in)]


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(FILTERS)
    return Jinja2Templates(env=env)


def plotly_js() -> Path:
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix=PREFIX, include_in_schema=False)
    templates = _templates()
    plotly_path = plotly_js()
    plotly_version = _plotly_version()

    def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        words = Words(request_language(request))
        engine = _engine(request)
        response = templates.TemplateResponse(
            request,
            name,
            {
                "t": words,
                "lang": words.lang,
                "other_lang": words.other(),
                "here": quote(_here(request), safe="/?=&"),
                "nav": NAV,
                "version": __version__,
                "model_version": engine.version,
                "plotly_url": f"{PREFIX}/static/plotly.min.js?v={plotly_version}",
                "key_id": None,
                "active": None,
                **context,
            },
            status_code=status,
        )
        response.headers.update(SECURITY_HEADERS)
        return response

    async def page(
        request: Request, key: StoredKey, name: str, active: str, build: Callable[[views.Page], Any]
    ) -> Response:
        words = Words(request_language(request))
        engine = _engine(request)
        stats = ConsoleStats(engine.store)
        context = await run_in_threadpool(build, views.Page(words, engine, stats))
        status = 404 if context.get("found") is False else 200
        return render(request, name, status, active=active, key_id=key.key_id, **context)

    @api.get("/static/plotly.min.js")
    def plotly() -> Response:
        return FileResponse(
            plotly_path,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )

    @api.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC:
            return Response(status_code=404)
        return FileResponse(
            HERE / "static" / name, media_type=STATIC[name], headers={"Cache-Control": "no-cache"}
        )

    @api.get("/sign-in")
    def sign_in_form(request: Request, next: str = PREFIX) -> Response:
        return render(request, "sign_in.html", next=_safe_next(next), error=None)

    @api.post("/sign-in")
    async def sign_in(
        request: Request, key: Annotated[str, Form()] = "", next: Annotated[str, Form()] = PREFIX
    ) -> Response:
        store = _engine(request).store
        stored = await run_in_threadpool(request.app.state.gate.keys.verify, store, key.strip())
        error = None
        if stored is None:
            error = "sign_in_unknown_key"
        elif stored.role != Role.admin.value:
            error = "sign_in_not_admin"
        if error is not None:
            return render(request, "sign_in.html", 401, next=_safe_next(next), error=error)
        assert stored is not None
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session_token(stored),
            max_age=SESSION_SECONDS,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @api.post("/sign-out")
    def sign_out() -> Response:
        response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    @api.get("/lang/{lang}")
    def switch_language(lang: str, next: str = PREFIX) -> Response:
        response = RedirectResponse(_safe_next(next), status_code=303)
        if lang in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path=PREFIX, samesite="lax")
        return response

    @api.get("")
    async def overview(request: Request, key: SignedIn) -> Response:
        metrics = request.app.state.metrics
        ingested = metrics.registry.get_sample_value("tailor_events_ingested_total")
        return await page(
            request, key, "overview.html", "overview", lambda p: views.overview(p, ingested)
        )

    @api.get("/models")
    async def models(request: Request, key: SignedIn) -> Response:
        return await page(request, key, "models.html", "models", views.models)

    @api.get("/users")
    async def users(request: Request, key: SignedIn, q: str = "") -> Response:
        query = q.strip()
        stats = ConsoleStats(_engine(request).store)
        matches = await run_in_threadpool(stats.find_users, query) if query else []
        if query in matches:
            return RedirectResponse(f"{PREFIX}/users/{quote(query, safe='')}", status_code=303)
        return await page(
            request,
            key,
            "user_search.html",
            "users",
            lambda p: {"query": query, "matches": matches},
        )

    @api.get("/users/{user_id}")
    async def user(request: Request, key: SignedIn, user_id: str) -> Response:
        return await page(request, key, "user.html", "users", lambda p: views.user(p, user_id))

    @api.get("/items")
    async def items(request: Request, key: SignedIn, q: str = "") -> Response:
        query = q.strip()
        stats = ConsoleStats(_engine(request).store)
        matches = await run_in_threadpool(stats.find_items, query) if query else []
        if any(item_id == query for item_id, _ in matches):
            return RedirectResponse(f"{PREFIX}/items/{quote(query, safe='')}", status_code=303)
        return await page(
            request,
            key,
            "item_search.html",
            "items",
            lambda p: {"query": query, "matches": matches},
        )

    @api.get("/items/{item_id}")
    async def item(request: Request, key: SignedIn, item_id: str) -> Response:
        return await page(request, key, "item.html", "items", lambda p: views.item(p, item_id))

    @api.get("/push")
    async def push(request: Request, key: SignedIn) -> Response:
        params = dict(request.query_params)
        return await page(request, key, "push.html", "push", lambda p: views.push(p, params))

    @api.get("/experiments")
    async def experiments(request: Request, key: SignedIn) -> Response:
        return await page(request, key, "experiments.html", "experiments", views.experiments)

    @api.get("/health")
    async def health(request: Request, key: SignedIn, check: bool = False) -> Response:
        return await page(request, key, "health.html", "health", lambda p: views.health(p, check))

    return api


def _plotly_version() -> str:
    return metadata.version("plotly")
