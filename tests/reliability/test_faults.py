"""Store faults (a full disk, an I/O error) injected into SQLite: the API answers 503 with a JSON
message, acknowledges and keeps nothing of the failed write, and recovers once the fault clears."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

import tailor.store.sqlite as sqlite_backend

EVENTS = [
    {"event_id": f"fault-{n}", "user_id": f"u-{n % 7}", "item_id": f"i-{n % 11}", "kind": "view"}
    for n in range(50)
]
FAULTS = ["database or disk is full", "disk I/O error"]


@contextmanager
def failing_event_inserts(monkeypatch: pytest.MonkeyPatch, message: str) -> Iterator[None]:
    """Every event insert writes its rows into the open transaction, then fails."""
    real = sqlite_backend._insert_rows

    def insert_then_fail(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)
        raise sqlite3.OperationalError(message)

    with monkeypatch.context() as patch:
        patch.setattr(sqlite_backend, "_insert_rows", insert_then_fail)
        yield


@contextmanager
def failing_statements(store_engine: object, message: str) -> Iterator[None]:
    """Every statement SQLAlchemy sends fails, as on a disk that stopped answering."""

    def fail(*_: object) -> None:
        raise sqlite3.OperationalError(message)

    event.listen(store_engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(store_engine, "before_cursor_execute", fail)


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "StoreError" and body["message"]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failed_event_write_acknowledges_and_keeps_nothing(client, monkeypatch, fault):
    store = client.app.state.engine.store
    before = store.counts()["events"]
    with failing_event_inserts(monkeypatch, fault):
        response = client.post("/v1/events", json=EVENTS)
        assert_unavailable(response)
        assert fault in response.json()["message"]
    assert store.counts()["events"] == before  # the rows inserted before the fault rolled back
    again = client.post("/v1/events", json=EVENTS)  # no restart: the next request succeeds
    assert again.status_code == 200 and again.json()["accepted"] == len(EVENTS)
    assert store.counts()["events"] == before + len(EVENTS)


@pytest.mark.parametrize("fault", FAULTS)
def test_item_and_user_writes_and_health_under_a_failing_disk(client, fault):
    store = client.app.state.engine.store
    before = store.counts()
    items = [{"item_id": "fault-item", "title": "故障测试", "stock": 1}]
    with failing_statements(store.engine, fault):
        assert_unavailable(client.put("/v1/items", json=items))
        assert_unavailable(client.put("/v1/users", json=[{"user_id": "fault-user"}]))
        assert_unavailable(client.delete("/v1/users/fault-user"))
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["store_reachable"] is False
    assert store.counts() == before
    assert client.put("/v1/items", json=items).json()["written"] == 1
    assert client.get("/healthz").status_code == 200
