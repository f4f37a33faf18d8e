"""Access control: keys, roles on every route, rate limits, body size and CORS."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_setup import add_key, bearer, settings_in

from tailor.service import create_app
from tailor.service.auth import key_id_of
from tailor.settings import Role
from tailor.store import open_store

OPEN = None
# The role each route needs (None: open to all). A route missing here fails the test below.
ROUTE_ROLES: dict[tuple[str, str], Role | None] = {
    ("POST", "/v1/events"): Role.ingest,
    ("PUT", "/v1/items"): Role.ingest,
    ("PUT", "/v1/users"): Role.ingest,
    ("DELETE", "/v1/items/{item_id}"): Role.admin,
    ("DELETE", "/v1/users/{user_id}"): Role.admin,
    ("GET", "/v1/items/{item_id}/similar"): Role.read,
    ("GET", "/v1/users/{user_id}/recommendations"): Role.read,
    ("GET", "/v1/users/{user_id}/profile"): Role.read,
    ("GET", "/v1/users/{user_id}/purchase-probability"): Role.read,
    ("GET", "/v1/items/{item_id}/review-insights"): Role.read,
    ("POST", "/v1/push/plans"): Role.admin,
    ("GET", "/v1/risk/users"): Role.admin,
    ("GET", "/v1/risk/users/{user_id}"): Role.admin,
    ("GET", "/v1/popular"): Role.read,
    ("GET", "/v1/items/{item_id}/bought-together"): Role.read,
    ("GET", "/v1/users/{user_id}/continue-shopping"): Role.read,
    ("GET", "/v1/search"): Role.read,
    ("POST", "/v1/assistant/ask"): Role.read,
    ("GET", "/v1/items/{item_id}/forecast"): Role.read,
    ("GET", "/v1/forecast/categories"): Role.read,
    ("GET", "/v1/forecast/restock"): Role.read,
    ("GET", "/v1/items/{item_id}/audience"): Role.read,
    ("POST", "/v1/campaigns/coupon"): Role.admin,
    ("POST", "/v1/feedback"): Role.ingest,
    ("POST", "/v1/purge"): Role.admin,
    ("GET", "/v1/audit-log"): Role.admin,
    ("GET", "/metrics"): Role.metrics,
    ("GET", "/healthz"): OPEN,
    ("GET", "/openapi.json"): OPEN,
    ("GET", "/docs"): OPEN,
    ("GET", "/docs/oauth2-redirect"): OPEN,
    ("GET", "/redoc"): OPEN,
}


def every_route(app) -> set[tuple[str, str]]:
    """(method, path template) of every route, through included routers too; HEAD left out."""
    found = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        pairs = (
            [(c.original_route.methods, c.path) for c in contexts()]
            if contexts
            else [(route.methods, route.path)]
        )
        found |= {(method, path) for methods, path in pairs for method in methods - {"HEAD"}}
    return found


def test_every_route_needs_the_role_in_the_table(settings, shop):
    keys = {role: add_key(settings, role) for role in Role}
    app = create_app(settings)
    # The console's pages need a signed-in session, not a key: tests/console checks every one.
    routes = {route for route in every_route(app) if not route[1].startswith("/console")}
    assert routes == set(ROUTE_ROLES), "a route without an entry in ROUTE_ROLES (or a stale entry)"
    with TestClient(app) as client:
        for (method, template), needed in sorted(ROUTE_ROLES.items()):
            path = template.format(item_id="no-such-item", user_id="no-such-user")
            body = b"[]" if method in ("POST", "PUT") else None
            anonymous = client.request(method, path, content=body).status_code
            if needed is OPEN:
                assert anonymous < 400, (method, path, anonymous)
                continue
            assert anonymous == 401, (method, path)
            for role, key in keys.items():
                status = client.request(method, path, content=body, headers=bearer(key)).status_code
                allowed = role in (needed, Role.admin)
                assert (status not in (401, 403)) if allowed else status == 403, (
                    method,
                    path,
                    role,
                    status,
                )


def test_missing_unknown_and_wrong_role_keys_say_what_to_do(settings, shop):
    read_key = add_key(settings, Role.read)
    with TestClient(create_app(settings)) as client:
        missing = client.get("/v1/popular")
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["error"] == "MissingKeyError"
        assert "tailor keys create --role read" in missing.json()["message"]
        forged = read_key[:-4] + "AAAA"
        unknown = client.get("/v1/popular", headers=bearer(forged))
        assert unknown.status_code == 401 and "unknown or revoked" in unknown.json()["message"]
        assert client.get("/v1/popular", headers=bearer("not-a-tailor-key")).status_code == 401
        assert client.get("/v1/popular", headers={"X-API-Key": read_key}).status_code == 200
        denied = client.post("/v1/events", json=[], headers=bearer(read_key))
        body = denied.json()
        assert denied.status_code == 403 and body["error"] == "ForbiddenError"
        assert key_id_of(read_key) in body["message"] and "'ingest'" in body["message"]
        assert read_key not in denied.text


def test_a_revoked_key_is_refused_once_its_cache_entry_expires(tmp_path, shop):
    for cache_seconds, after_revoking in ((0, 401), (60, 200)):
        settings = settings_in(tmp_path, key_cache_seconds=cache_seconds)
        key = add_key(settings, Role.read)
        with TestClient(create_app(settings), headers=bearer(key)) as client:
            assert client.get("/v1/popular").status_code == 200
            with open_store(settings.store_url) as store:
                assert store.revoke_api_key(key_id_of(key), 1)
            assert client.get("/v1/popular").status_code == after_revoking


def test_auth_off_opens_every_route(tmp_path, shop):
    with TestClient(create_app(settings_in(tmp_path, auth=False))) as client:
        assert client.get("/v1/popular").status_code == 200
        assert client.get("/metrics").status_code == 200


def test_keys_are_stored_only_as_salted_hashes(settings):
    keys = [add_key(settings, Role.read) for _ in range(2)]
    with open_store(settings.store_url) as store:
        stored = store.api_keys()
    assert len({k.salt for k in stored}) == 2 and len({k.digest for k in stored}) == 2
    database = Path(settings.store_url.removeprefix("sqlite:///"))
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(FULL)")
    files = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert stored[0].key_id.encode() in files  # the search below can find what is there
    for key in keys:
        secret_part = key.split("_", 2)[2]
        assert key.encode() not in files and secret_part.encode() not in files


def test_over_the_rate_limit_answers_429_with_retry_after(tmp_path):
    settings = settings_in(tmp_path, rate_limits={"read": {"per_second": 0.5, "burst": 2}})
    key, other = add_key(settings, Role.read), add_key(settings, Role.read)
    with TestClient(create_app(settings)) as client:
        statuses = [client.get("/v1/popular", headers=bearer(key)).status_code for _ in range(3)]
        assert statuses == [503, 503, 429]  # no model yet: 503 once past the gate
        limited = client.get("/v1/popular", headers=bearer(key))
        assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
        assert limited.json()["error"] == "RateLimitedError"
        assert "service.rate_limits" in limited.json()["message"]
        assert client.get("/v1/popular", headers=bearer(other)).status_code == 503


def test_an_oversized_body_is_refused_with_413(tmp_path):
    settings = settings_in(tmp_path, max_body_bytes=1000)
    key = add_key(settings, Role.ingest)
    event = b'{"user_id": "u", "item_id": "i", "kind": "view"}'
    big = b"[" + b",".join([event] * 40) + b"]"

    def chunks():
        for start in range(0, len(big), 100):
            yield big[start : start + 100]

    with TestClient(create_app(settings), headers=bearer(key)) as client:
        assert client.post("/v1/events", content=event).json()["accepted"] == 1
        declared = client.post("/v1/events", content=big)
        streamed = client.post("/v1/events", content=chunks())  # no Content-Length
        for response in (declared, streamed):
            assert response.status_code == 413, response.text
            assert response.json()["error"] == "PayloadTooLargeError"
            assert "1,000 bytes" in response.json()["message"]
        assert client.get("/healthz").json()["counts"]["events"] == 1


@pytest.mark.parametrize("origins", [["https://shop.example"], []])
def test_cors_headers_only_for_allowed_origins(tmp_path, origins):
    settings = settings_in(tmp_path, cors_origins=origins)
    with TestClient(create_app(settings)) as client:
        allowed = client.get("/healthz", headers={"Origin": "https://shop.example"})
        other = client.get("/healthz", headers={"Origin": "https://evil.example"})
        refused = client.get("/v1/popular", headers={"Origin": "https://shop.example"})
        preflight = client.options(
            "/v1/popular",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
    assert "access-control-allow-origin" not in other.headers
    if origins:
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == "https://shop.example"
        assert preflight.status_code == 200
    else:
        assert "access-control-allow-origin" not in allowed.headers
        assert "access-control-allow-origin" not in preflight.headers
