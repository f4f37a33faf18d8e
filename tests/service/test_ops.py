"""Operations: Prometheus metrics and the JSON request log."""

from __future__ import annotations

import io
import json
import logging

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from service_setup import add_key, bearer

from tailor.service import create_app
from tailor.service.auth import key_id_of
from tailor.service.logs import ACCESS_LOGGER, JsonFormatter
from tailor.settings import Role


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_requests_latency_events_and_the_model(settings, shop):
    reader, ingester, scraper = (
        add_key(settings, r) for r in (Role.read, Role.ingest, Role.metrics)
    )
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            assert client.get("/v1/popular?k=3", headers=bearer(reader)).status_code == 200
        events = [
            {"user_id": "u", "item_id": "i", "kind": "view", "ts": 1_700_000_000_000 + i}
            for i in range(4)
        ]
        assert client.post("/v1/events", json=events, headers=bearer(ingester)).status_code == 200
        client.get("/v1/popular")  # 401
        client.get("/v1/users/someone/recommendations", headers=bearer(reader))
        version = client.get("/healthz").json()["model_version"]
        assert client.get("/metrics", headers=bearer(reader)).status_code == 403
        response = client.get("/metrics", headers=bearer(scraper))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    popular = (("method", "GET"), ("route", "/v1/popular"))
    assert found[("tailor_http_requests_total", (*popular, ("status", "200")))] == 3
    assert found[("tailor_http_requests_total", (*popular, ("status", "401")))] == 1
    template = (("method", "GET"), ("route", "/v1/users/{user_id}/recommendations"))
    assert found[("tailor_http_requests_total", (*template, ("status", "200")))] == 1
    assert found[("tailor_http_request_duration_seconds_count", popular)] == 4
    assert found[("tailor_http_request_duration_seconds_bucket", (("le", "+Inf"), *popular))] == 4
    assert found[("tailor_events_ingested_total", ())] == 4
    assert found[("tailor_model_info", (("version", version),))] == 1
    assert not any("someone" in str(labels) for _, labels in found)


@pytest.fixture
def access_log():
    """The access logger's lines, formatted as in `tailor serve`."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(ACCESS_LOGGER)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_one_json_line_per_request_without_the_key_or_the_user_id(settings, shop, access_log):
    key = add_key(settings, Role.read)
    user = "alice.private@example.com"
    with TestClient(create_app(settings)) as client:
        client.get(f"/v1/users/{user}/recommendations?k=2", headers=bearer(key))
        client.get(f"/v1/users/{user}/recommendations?k=2", headers={"X-API-Key": key})
        client.get(f"/v1/users/{user}/recommendations?k=2")
    text = access_log.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 3
    assert key not in text and key.split("_", 2)[2] not in text and user not in text
    first, second, anonymous = lines
    assert first["route"] == "/v1/users/{user_id}/recommendations" and first["method"] == "GET"
    assert first["status"] == 200 and anonymous["status"] == 401
    assert first["key_id"] == second["key_id"] == key_id_of(key) and anonymous["key_id"] is None
    assert first["user"] == second["user"] == anonymous["user"] and len(first["user"]) == 16
    assert first["duration_ms"] > 0 and first["ts"].endswith("+00:00")
