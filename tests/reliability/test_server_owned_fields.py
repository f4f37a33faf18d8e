"""OWASP API3 (mass assignment): fields the server owns cannot be set by a client. Each attempt
is refused with 422 naming the field, and nothing of the request is stored."""

from __future__ import annotations

import pytest

EVENT = {
    "event_id": "e-owned",
    "user_id": "u-1",
    "item_id": "i-1",
    "kind": "view",
    "ts": 1_700_000_000_000,
}


@pytest.mark.parametrize("field, value", [("seq", 1), ("received_at", 1_700_000_000_000)])
def test_events_cannot_set_store_fields(client, field, value):
    before = client.app.state.engine.store.counts()["events"]
    answer = client.post("/v1/events", json={**EVENT, field: value})
    assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
    assert client.app.state.engine.store.counts()["events"] == before


def served_list(client) -> dict:
    answer = client.get("/v1/users/u1/recommendations", params={"k": 3})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize(
    "field, value",
    [("scenario", "home"), ("variant", "B"), ("experiment", "x"), ("user_id", "u2"),
     ("model_version", "v0"), ("position", 1)],
)  # fmt: skip
def test_feedback_attribution_comes_from_the_served_list_only(client, field, value):
    served = served_list(client)
    row = {
        "request_id": served["request_id"],
        "kind": "click",
        "item_id": served["items"][0]["item_id"],
    }
    answer = client.post("/v1/feedback", json={**row, field: value})
    assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
    assert client.post("/v1/feedback", json=row).status_code == 200
