"""The risk endpoints over a stored shop with planted attackers."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tailor.engine import Engine
from tailor.service import create_app
from tailor.service.auth import create_key
from tailor.settings import Role, load_settings
from tailor.store import open_store

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def client(attacked, tmp_path_factory):
    folder = tmp_path_factory.mktemp("risk")
    settings = load_settings(
        store_url=f"sqlite:///{folder}/tailor.db", artifacts_dir=folder / "artifacts"
    )
    with Engine(settings) as engine:
        engine.put_users(attacked.users)
        engine.ingest_events(attacked.events)
    with open_store(settings.store_url) as store:
        key = create_key(store, Role.admin, "risk-tests")[0]
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {key}"}) as client:
        yield client


def test_the_list_puts_the_planted_attackers_first(client, attacked):
    body = client.get("/v1/risk/users", params={"limit": len(attacked.labels)}).json()
    assert body["min_score"] == 0.5
    ids = [u["user_id"] for u in body["users"]]
    assert set(ids) == set(attacked.labels)
    scores = [u["score"] for u in body["users"]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0.5
    first = body["users"][0]
    assert first["flagged"] and first["reasons"] and "features" in first


def test_min_score_and_limit_filter_the_list(client):
    high = client.get("/v1/risk/users", params={"min_score": 0.8}).json()["users"]
    assert high and all(u["score"] >= 0.8 for u in high)
    assert len(client.get("/v1/risk/users", params={"limit": 2}).json()["users"]) == 2
    everyone = client.get("/v1/risk/users", params={"min_score": 0, "limit": 10_000}).json()
    assert len(everyone["users"]) > 200


def test_one_user_with_reasons_in_both_languages(client, attacked):
    ring_member = next(u for u, kind in attacked.labels.items() if kind == "fake_order")
    body = client.get(f"/v1/risk/users/{ring_member}").json()
    assert body["user_id"] == ring_member and body["flagged"] and body["score"] >= 0.5
    codes = {r["code"] for r in body["reasons"]}
    assert {"purchase_without_browsing", "collusive_ring"} <= codes
    assert all(CJK.search(r["zh"]) and r["en"].isascii() for r in body["reasons"])


def test_unknown_user_is_404_and_bad_input_names_the_field(client):
    missing = client.get("/v1/risk/users/nobody-at-all")
    assert missing.status_code == 404 and "nobody-at-all" in missing.json()["message"]
    for params, field in (({"min_score": 2}, "min_score"), ({"limit": 0}, "limit")):
        bad = client.get("/v1/risk/users", params=params)
        assert bad.status_code == 422 and field in bad.text, bad.text
