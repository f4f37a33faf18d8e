"""Pseudonymisation: the API takes the shop's ids, the store and artifacts hold only HMACs."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, quote

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from privacy_setup import ERASED_USER, KEY, shop_settings
from starlette.responses import Response
from typer.testing import CliRunner

from tailor.cli import app
from tailor.engine import Engine
from tailor.errors import ConfigError
from tailor.privacy import Pseudonymizer, audit_erasure
from tailor.privacy.boundary import PseudonymizeUserIds
from tailor.service import create_app
from tailor.settings import load_settings


def shop_hmac(user_id: str) -> str:
    """What the shop computes to map a pseudonym back to its own id (docs/privacy.md)."""
    return hmac.new(KEY.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def test_the_api_stores_pseudonyms_answers_raw_ids_and_erases_them(tmp_path: Path) -> None:
    settings = shop_settings(
        tmp_path, f"sqlite:///{tmp_path}/t.db", privacy={"pseudonymize": True, "key": KEY}
    )
    pseudonym = shop_hmac(ERASED_USER)
    path = f"/v1/users/{quote(ERASED_USER, safe='')}"
    now = time.time_ns() // 1_000_000
    events = [
        {"event_id": f"e{n}", "user_id": ERASED_USER, "item_id": "i1", "kind": kind, "ts": ts}
        for n, (kind, ts) in enumerate([("view", now - 120_000), ("cart", now - 60_000)])
    ]
    with TestClient(create_app(settings)) as client:
        assert client.put("/v1/items", json=[{"item_id": "i1", "title": "面霜"}]).status_code == 200
        assert client.put("/v1/users", json={"user_id": ERASED_USER}).json()["written"] == 1
        assert client.post("/v1/events", json=events).json()["accepted"] == 2
        store = client.app.state.engine.store
        assert store.users()["user_id"].tolist() == [pseudonym]
        assert set(store.events()["user_id"]) == {pseudonym}
        assert not any(store.rows_naming([ERASED_USER]).values())

        profile = client.get(f"{path}/profile")
        assert profile.status_code == 200 and profile.json()["user_id"] == pseudonym
        shopping = client.get(f"{path}/continue-shopping?k=3").json()
        assert [item["item_id"] for item in shopping["items"]] == ["i1"]

        receipt = client.delete(path).json()
        assert receipt["tables"] == {"events": 2, "users": 1} and receipt["caches"]["profiles"] == 1
        check = audit_erasure(store, settings.artifacts_dir, ERASED_USER, privacy=settings.privacy)
        assert check.passed, check


def test_the_query_parameter_and_push_audience_are_pseudonymised_too() -> None:
    seen: dict[str, bytes] = {}

    async def recorder(scope, receive, send) -> None:  # stands for the routes behind the boundary
        seen.update(query=scope["query_string"], body=(await receive())["body"])
        await Response("ok")(scope, receive, send)

    client = TestClient(PseudonymizeUserIds(recorder, Pseudonymizer(KEY.encode())))
    client.post("/v1/push/plans?user_id=顾客&k=3", json={"users": ["a", 7], "k": 3})
    assert parse_qs(seen["query"].decode()) == {"user_id": [shop_hmac("顾客")], "k": ["3"]}
    # a non-string is left as it is, for the route's validation to refuse
    assert json.loads(seen["body"]) == {"users": [shop_hmac("a"), 7], "k": 3}
    client.post("/v1/events", content=b"{not json")
    assert seen["body"] == b"{not json"  # passed on unchanged: the route answers the 422


def test_the_key_comes_from_the_environment_and_never_reaches_an_artifact(monkeypatch) -> None:
    with pytest.raises(ConfigError, match="TAILOR_PRIVACY__KEY"):
        load_settings(privacy={"pseudonymize": True})
    monkeypatch.setenv("TAILOR_PRIVACY__KEY", KEY)
    settings = load_settings(privacy={"pseudonymize": True})
    assert Pseudonymizer.of(settings.privacy).pseudonym("u1") == shop_hmac("u1")
    assert KEY not in str(settings.model_dump(mode="json"))  # what a manifest records


def test_erasure_by_cli_takes_the_shops_id(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TAILOR_PRIVACY__KEY", KEY)
    monkeypatch.setenv("TAILOR_PRIVACY__PSEUDONYMIZE", "true")
    with Engine(load_settings()) as engine:
        engine.store.upsert_users(pd.DataFrame({"user_id": [shop_hmac("c-9")]}))
    result = CliRunner().invoke(app, ["erase", "c-9"])
    assert result.exit_code == 0, result.output
    assert '"users": 1' in result.output and "c-9" not in result.output
