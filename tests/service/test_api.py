"""Every route through TestClient: answers, limits and JSON errors."""

from __future__ import annotations

import json
import time

import orjson
import pytest
from fastapi.testclient import TestClient
from service_setup import add_key, bearer

from tailor.engine import Engine
from tailor.service import create_app


def top_user(shop) -> str:
    return str(shop.events["user_id"].value_counts().index[0])


def assert_error(response, status: int, error: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error and body["message"]
    if field is not None:
        assert body["field"] == field
    return body


def test_post_one_event_then_a_batch_with_a_bad_row(client):
    one = {
        "event_id": "e-1",
        "user_id": "u-1",
        "item_id": "i-1",
        "kind": "view",
        "ts": 1_700_000_000_000,
    }
    assert client.post("/v1/events", json=one).json() == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": [],
    }
    batch = [
        {**one, "event_id": "e-2"},
        {**one, "event_id": "e-3", "kind": "teleport"},
        {**one, "event_id": "e-4", "ts": "not a time"},
        one,
    ]
    body = client.post("/v1/events", json=batch).json()
    assert body["accepted"] == 1 and body["duplicates"] == 1
    assert [(r["row"], r["field"]) for r in body["rejected"]] == [(1, "kind"), (2, "ts")]
    assert all(r["reason"] for r in body["rejected"])


def test_too_many_events_are_refused_with_the_limit(client, settings):
    limit = settings.service.max_batch_events
    events = [{"user_id": "u", "item_id": "i", "kind": "view"}] * (limit + 1)
    body = assert_error(client.post("/v1/events", json=events), 422, "InvalidInputError", "body")
    assert f"{limit:,}" in body["message"]


@pytest.mark.parametrize("payload", [b"{not json", b"", b"42", b"[1, 2]"])
def test_malformed_bodies_get_json_errors(client, payload):
    response = client.post(
        "/v1/events", content=payload, headers={"content-type": "application/json"}
    )
    assert_error(response, 422, "InvalidInputError", "body")


def test_recommendations_follow_a_new_event(client, shop):
    user = top_user(shop)
    body = client.get(f"/v1/users/{user}/recommendations", params={"k": 5}).json()
    assert body["model_version"] and len(body["items"]) == 5
    assert all(i["reason"] == i["explanation"]["text"] for i in body["items"])
    top = body["items"][0]["item_id"]
    client.post("/v1/events", json={"user_id": user, "item_id": top, "kind": "purchase"})
    again = client.get(f"/v1/users/{user}/recommendations", params={"k": 5}).json()
    assert top not in [i["item_id"] for i in again["items"]]


def test_exclude_repeated_or_comma_separated_and_category(client, shop):
    user = top_user(shop)
    first = [
        i["item_id"] for i in client.get(f"/v1/users/{user}/recommendations?k=6").json()["items"]
    ]
    url = f"/v1/users/{user}/recommendations?k=6&exclude={first[0]},{first[1]}&exclude={first[2]}"
    after = [i["item_id"] for i in client.get(url).json()["items"]]
    assert len(after) == 6 and not set(first[:3]) & set(after)
    categories = shop.items.set_index("item_id")["category"]
    category = categories[first[-1]].split("/")[0]  # the branch of an unseen item
    items = client.get(
        f"/v1/users/{user}/recommendations", params={"k": 5, "category": category}
    ).json()
    assert items["items"] and all(
        categories[i["item_id"]].split("/")[0] == category for i in items["items"]
    )


def test_unknown_user_gets_popular_items_with_the_reason(client):
    body = client.get("/v1/users/stranger/recommendations?k=3").json()
    popular = client.get("/v1/popular?k=3").json()
    assert [i["item_id"] for i in body["items"]] == [i["item_id"] for i in popular["items"]]
    assert body["items"][0]["explanation"]["code"] in {"popular_in", "popular"}


@pytest.mark.parametrize("k", [0, 501, "ten"])
def test_k_out_of_range_names_k(client, k):
    assert_error(client.get(f"/v1/users/u/recommendations?k={k}"), 422, "InvalidInputError", "k")
    assert_error(client.get(f"/v1/popular?k={k}"), 422, "InvalidInputError", "k")


def test_similar_items_and_unknown_item(client, shop):
    item = client.get("/v1/popular?k=1").json()["items"][0]["item_id"]
    similar = client.get(f"/v1/items/{item}/similar?k=4").json()["items"]
    assert len(similar) == 4 and item not in [s["item_id"] for s in similar]
    body = assert_error(client.get("/v1/items/nope/similar"), 404, "UnknownItemError")
    assert "nope" in body["message"]


def test_put_and_delete_items_and_users(client, shop):
    hidden = client.get("/v1/popular?k=1").json()["items"][0]["item_id"]
    row = json.loads(shop.items[shop.items["item_id"] == hidden].to_json(orient="records"))[0]
    put = client.put("/v1/items", json=[{**row, "hidden": True}, {**row, "item_id": ""}])
    assert put.json()["written"] == 1 and put.json()["rejected"][0]["field"] == "item_id"
    assert hidden not in [i["item_id"] for i in client.get("/v1/popular?k=20").json()["items"]]
    gone = client.get("/v1/popular?k=1").json()["items"][0]["item_id"]
    assert client.delete(f"/v1/items/{gone}").json() == {"deleted": 1}
    assert gone not in [i["item_id"] for i in client.get("/v1/popular?k=20").json()["items"]]

    user = top_user(shop)
    profile = {"user_id": user, "attributes": {"region": "east"}}
    assert client.put("/v1/users", json=profile).json()["written"] == 1
    assert client.delete(f"/v1/users/{user}").json()["tables"]["users"] == 1
    recs = client.get(f"/v1/users/{user}/recommendations?k=3").json()["items"]
    assert list(recs[0]["contributions"]["models"]) == ["popular"]  # no history left


def test_health_docs_and_unknown_routes(client):
    health = client.get("/healthz").json()
    assert health["store_reachable"] and health["model_version"] and health["problems"] == []
    assert health["counts"]["events"] > 0
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/events", "/v1/items", "/v1/users/{user_id}/recommendations", "/healthz"} <= set(
        paths
    )
    assert_error(client.get("/v1/nothing-here"), 404, "NotFoundError")


def test_without_a_model_recommendations_say_to_train(settings):
    with TestClient(create_app(settings), headers=bearer(add_key(settings))) as client:
        body = assert_error(client.get("/v1/users/u/recommendations"), 503, "NotFittedError")
        assert "tailor train" in body["message"]
        assert client.get("/healthz").json()["model_version"] is None
        assert (
            client.post("/v1/events", json={"user_id": "u", "item_id": "i", "kind": "view"}).json()[
                "accepted"
            ]
            == 1
        )


def test_a_new_version_is_served_without_restart(client, settings):
    old = client.get("/healthz").json()["model_version"]
    with Engine(settings) as trainer:
        new = trainer.train().version
    deadline = time.monotonic() + 10
    while client.get("/healthz").json()["model_version"] != new and time.monotonic() < deadline:
        time.sleep(0.1)
    assert old != new == client.get("/healthz").json()["model_version"]


def test_event_body_is_parsed_as_one_batch(client):
    events = [
        {
            "user_id": f"u{i % 7}",
            "item_id": f"i{i % 13}",
            "kind": "view",
            "ts": 1_700_000_000_000 + i,
        }
        for i in range(2000)
    ]
    body = client.post(
        "/v1/events", content=orjson.dumps(events), headers={"content-type": "application/json"}
    ).json()
    assert body == {"accepted": 2000, "duplicates": 0, "rejected": []}
