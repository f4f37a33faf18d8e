"""Hostile input, case by case: each is answered 4xx with a JSON message naming the field, never
5xx, and nothing of a refused request is stored. Odd but valid ids round-trip unchanged."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from conftest import admin_client, settings_in
from fastapi.testclient import TestClient

from tailor.engine import Engine
from tailor.settings import Settings

EVENT = {
    "event_id": "e-1",
    "user_id": "u-1",
    "item_id": "i-1",
    "kind": "view",
    "ts": 1_700_000_000_000,
}
LONG_ID = "x" * 10_000
WRITES = {"/v1/events": "POST", "/v1/items": "PUT", "/v1/users": "PUT"}
JSON = {"content-type": "application/json"}


def send(client: TestClient, path: str, body: bytes) -> object:
    return client.request(WRITES[path], path, content=body, headers=JSON)


def stored_events(client: TestClient) -> int:
    return client.app.state.engine.store.counts()["events"]


def assert_refused(response, field: str | None, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["message"] and body["error"]
    if field is not None:
        assert body["field"] == field, body
    return body


@pytest.mark.parametrize(
    "body",
    [b'{"user_id": ', b'{"user_id": "u",}', b"[{]", b"{'user_id': 'u'}", b'{"a": 1}{"b": 2}', b""],
)
@pytest.mark.parametrize("path", WRITES)
def test_malformed_json(client, path, body):
    assert_refused(send(client, path, body), "body")


@pytest.mark.parametrize(
    "body",
    [
        b'{"user_id": "u\xff", "item_id": "i", "kind": "view"}',  # not UTF-8 at all
        b'{"user_id": "u\xed\xa0\x80", "item_id": "i", "kind": "view"}',  # an encoded surrogate
        b'{"user_id": "u\xc0\xaf", "item_id": "i", "kind": "view"}',  # an overlong encoding
    ],
)
def test_invalid_utf8(client, body):
    before = stored_events(client)
    assert_refused(send(client, "/v1/events", body), "body")
    assert stored_events(client) == before


def test_bodies_over_the_size_limit_are_refused_unread(tmp_path):
    settings = settings_in(tmp_path, max_body_bytes=2_000)
    events = [{**EVENT, "event_id": f"e-{n}"} for n in range(40)]  # about 3 kB
    body = str(events).replace("'", '"').encode()
    with admin_client(settings) as client:
        declared = client.post("/v1/events", content=body, headers=JSON)
        assert_refused(declared, None, status=413)
        chunked = client.post(
            "/v1/events", content=iter([body[:1_500], body[1_500:]]), headers=JSON
        )
        assert_refused(chunked, None, status=413)
        assert "2,000" in declared.json()["message"]
        assert stored_events(client) == 0


@pytest.mark.parametrize(
    ("path", "row"),
    [
        ("/v1/events", {**EVENT, "colour": "red"}),
        ("/v1/items", {"item_id": "i-1", "colour": "red"}),
        ("/v1/users", {"user_id": "u-1", "colour": "red"}),
    ],
)
def test_unknown_fields(client, path, row):
    body = assert_refused(client.request(WRITES[path], path, json=row), "colour")
    assert [r["field"] for r in body["rejected"]] == ["colour"]


def test_a_batch_answers_row_by_row_even_when_every_row_is_invalid(client):
    before = stored_events(client)
    rows = [{**EVENT, "colour": "red"}, {**EVENT, "event_id": "e-2", "ts": -1}, "not an object"]
    assert_refused(client.post("/v1/events", json=rows), "body")  # a non-object: the body is wrong
    answer = client.post("/v1/events", json=rows[:2])
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 0
    assert [(r["row"], r["field"]) for r in answer.json()["rejected"]] == [(0, "colour"), (1, "ts")]
    assert stored_events(client) == before


def test_a_batch_with_some_valid_rows_is_stored_and_lists_the_rest(client):
    before = stored_events(client)
    answer = client.post("/v1/events", json=[EVENT, {**EVENT, "event_id": "e-2", "colour": 1}])
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 1
    assert [(r["row"], r["field"]) for r in answer.json()["rejected"]] == [(1, "colour")]
    assert stored_events(client) == before + 1


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999"])
@pytest.mark.parametrize(
    ("path", "template", "field"),
    [
        ("/v1/events", b'{"user_id": "u", "item_id": "i", "kind": "rating", "value": %s}', "value"),
        ("/v1/events", b'{"user_id": "u", "item_id": "i", "kind": "view", "ts": %s}', "ts"),
        ("/v1/items", b'[{"item_id": "a"}, {"item_id": "b", "price": %s}]', "price"),
        ("/v1/items", b'{"item_id": "a", "attributes": {"size": [1, %s]}}', "attributes"),
        ("/v1/users", b'{"user_id": "u", "attributes": {"score": %s}}', "attributes"),
    ],
)
def test_nan_and_infinity(client, path, template, field, token):
    before = client.app.state.engine.store.counts()
    assert_refused(send(client, path, template % token), field)
    assert client.app.state.engine.store.counts() == before


@pytest.mark.parametrize("field", ["event_id", "user_id", "item_id", "session_id", "channel"])
def test_ten_thousand_character_ids_in_events(client, field):
    body = assert_refused(client.post("/v1/events", json={**EVENT, field: LONG_ID}), field)
    assert "256" in body["message"]


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("PUT", "/v1/items", "item_id"),
        ("PUT", "/v1/users", "user_id"),
        ("GET", f"/v1/users/{LONG_ID}/recommendations", "user_id"),
        ("GET", f"/v1/items/{LONG_ID}/similar", "item_id"),
        ("DELETE", f"/v1/users/{LONG_ID}", "user_id"),
        ("DELETE", f"/v1/items/{LONG_ID}", "item_id"),
    ],
)
def test_ten_thousand_character_ids_elsewhere(client, method, path, field):
    body = {field: LONG_ID} if method == "PUT" else None
    assert_refused(client.request(method, path, json=body), field)


@pytest.mark.parametrize(
    ("path", "row", "field"),
    [
        ("/v1/events", {**EVENT, "user_id": "u\x00-1"}, "user_id"),
        ("/v1/events", {**EVENT, "kind": "search", "query": "red\x00dress"}, "query"),
        ("/v1/items", {"item_id": "i-1", "tags": ["ok", "b\x00d"]}, "tags"),
        ("/v1/items", {"item_id": "i-1", "attributes": {"k\x00": 1}}, "attributes"),
    ],
)
def test_nul_characters_which_postgresql_cannot_store(client, path, row, field):
    assert_refused(client.request(WRITES[path], path, json=row), field)


def test_nesting_deeper_than_the_store_writes(client):
    deep = b'{"item_id": "a", "attributes": ' + b'{"x": ' * 300 + b"1" + b"}" * 300 + b"}"
    assert_refused(send(client, "/v1/items", deep), "attributes")
    deeper = b"[" * 100_000 + b"]" * 100_000  # past any parser's recursion limit
    assert_refused(send(client, "/v1/events", deeper), "body")


@pytest.mark.parametrize(
    ("field", "value"),
    [("user_id", {"$ne": None}), ("user_id", ["u"]), ("user_id", True), ("item_id", 1.5)],
)
def test_wrong_json_types_for_ids(client, field, value):
    assert_refused(client.post("/v1/events", json={**EVENT, field: value}), field)


@pytest.mark.parametrize("k", ["-1", "0", "501", str(10**30), "1e3", "NaN", "", "ten"])
@pytest.mark.parametrize(
    "path", ["/v1/popular", "/v1/users/u-1/recommendations", "/v1/items/i-1/similar"]
)
def test_negative_huge_and_non_integer_k(client, path, k):
    assert_refused(client.get(path, params={"k": k}), "k")


@pytest.mark.parametrize(
    "ts",
    [
        10**16,  # year ~318,857 as ms
        -1,
        -(10**15),
        2**64,
        1e300,
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "+275760-09-13T00:00:00Z",
    ],
)
def test_timestamps_far_in_the_future_or_past(client, ts):
    assert_refused(client.post("/v1/events", json={**EVENT, "ts": ts}), "ts")
    assert_refused(client.put("/v1/items", json={"item_id": "i-1", "created_at": ts}), "created_at")
    assert_refused(client.put("/v1/users", json={"user_id": "u-1", "created_at": ts}), "created_at")
    served = client.get("/v1/users/u-1/recommendations").json()
    feedback = {"request_id": served["request_id"], "kind": "impression", "ts": ts}
    assert_refused(client.post("/v1/feedback", json=feedback), "ts")


@pytest.mark.parametrize("at", [10**16, 2**63 - 1, -1])
@pytest.mark.parametrize(
    "path",
    [
        "/v1/users/u-1/profile",
        "/v1/users/u-1/purchase-probability",
        "/v1/items/i-1/audience",
    ],
)
def test_as_of_times_far_in_the_future_or_past(client, path, at):
    assert_refused(client.get(path, params={"at": at}), "at")


def test_a_batch_of_10001_events_stores_nothing(client):
    before = stored_events(client)
    batch = [{**EVENT, "event_id": f"e-{n}"} for n in range(10_001)]
    body = assert_refused(client.post("/v1/events", json=batch), "body")
    assert "10,000" in body["message"]
    assert stored_events(client) == before


ODD_IDS = [
    "'; DROP TABLE events; --",
    'x" OR "1"="1',
    '{"$ne": null}',
    'a\\b"c}{][,:',
    "%20?#&=+;",
    "😀🛒👗",
    "连衣裙·红色 XL",
    "Robert'); DELETE FROM users WHERE ('1'='1",
]


def test_odd_ids_round_trip_unchanged(settings: Settings):
    """SQL and JSON metacharacters, emoji and Chinese, written through the API and read back."""
    users = [f"用户 {n} {odd}" for n, odd in enumerate(ODD_IDS)]
    events = [
        {"event_id": f"{odd} #{n}", "user_id": user, "item_id": odd, "kind": "purchase"}
        for n, (user, odd) in enumerate(zip(users, ODD_IDS))
    ]
    with admin_client(settings) as client:
        items = [{"item_id": odd, "title": odd, "stock": 5} for odd in ODD_IDS]
        assert client.put("/v1/items", json=items).json()["written"] == len(ODD_IDS)
        assert client.put("/v1/users", json=[{"user_id": u} for u in users]).status_code == 200
        assert client.post("/v1/events", json=events).json()["accepted"] == len(events)
        again = client.post("/v1/events", json=events).json()
        assert again["accepted"] == 0 and again["duplicates"] == len(events)
    with Engine(settings) as engine:
        stored = engine.store.events(user_ids=users)
        assert sorted(zip(stored["event_id"], stored["user_id"], stored["item_id"])) == sorted(
            (e["event_id"], e["user_id"], e["item_id"]) for e in events
        )
        engine.train()
    with admin_client(settings) as client:
        popular = client.get("/v1/popular", params={"k": 500}).json()["items"]
        assert set(ODD_IDS) <= {item["item_id"] for item in popular}
        for user, odd in zip(users, ODD_IDS):
            if "%" in odd:  # Starlette's TestClient decodes a path twice (uvicorn, once)
                continue
            similar = client.get(f"/v1/items/{quote(odd, safe='')}/similar", params={"k": 3})
            assert similar.status_code == 200, (odd, similar.text)
            recs = client.get(
                f"/v1/users/{quote(user, safe='')}/recommendations",
                params={"k": 500, "diversity": "none"},
            ).json()["items"]
            got = {item["item_id"] for item in recs}
            assert odd not in got  # the user's own purchase, found under the exact id
            assert set(ODD_IDS) - {odd} <= got
