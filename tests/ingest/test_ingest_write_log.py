"""The write log: what each write rejected or dropped, kept bounded and never at the rows' cost."""

from __future__ import annotations

import logging

import pytest

from tailor.engine.writes import ingest_events
from tailor.errors import StoreError
from tailor.ingest.datasets import import_dataset
from tailor.ingest.files import import_file
from tailor.ingest.write_log import MAX_MESSAGE_CHARS, MAX_REJECTIONS_LOGGED
from tailor.settings import IngestSettings
from tailor.store import open_store

SETTINGS = IngestSettings()


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/t.db") as s:
        yield s


def view(event_id: str, kind: str = "view") -> dict:
    return {"event_id": event_id, "user_id": "u", "item_id": "i", "kind": kind, "ts": 1_700_000_000}


def test_a_clean_write_logs_nothing(store):
    ingest_events(store, [view("e1")], SETTINGS)
    assert store.write_log().empty and store.recent_rejections(10).empty


def test_duplicates_are_counted_per_write(store):
    ingest_events(store, [view("e1")], SETTINGS)
    ingest_events(store, [view("e1"), view("e2"), view("e2")], SETTINGS)
    log = store.write_log()
    assert log[["accepted", "rejected", "duplicates"]].values.tolist() == [[1, 0, 2]]


def test_rejections_are_capped_per_write_and_messages_cut(store):
    bad = [view(f"bad{n}", kind="x" * 1_000) for n in range(MAX_REJECTIONS_LOGGED + 20)]
    ingest_events(store, [view("good"), *bad], SETTINGS)
    assert store.events()["event_id"].tolist() == ["good"]
    log = store.write_log().iloc[0]
    assert (log["source"], log["accepted"], log["rejected"]) == ("events", 1, len(bad))
    kept = store.recent_rejections(1_000)
    assert len(kept) == MAX_REJECTIONS_LOGGED and set(kept["field"]) == {"kind"}
    assert kept["message"].str.len().tolist() == [MAX_MESSAGE_CHARS] * MAX_REJECTIONS_LOGGED
    assert min(kept["row"]) == 2  # the bad rows follow the good one


def test_a_file_import_is_logged_under_the_file_name(tmp_path, store):
    path = tmp_path / "订单.jsonl"
    path.write_text(
        '{"event_id": "e1", "user_id": "u", "item_id": "i", "kind": "fly", "ts": 1}\n',
        encoding="utf-8",
    )
    import_file(store, "events", path, settings=SETTINGS)
    assert store.write_log()[["source", "origin", "rejected"]].values.tolist() == [
        ["events", "订单.jsonl", 1]
    ]
    assert store.recent_rejections(5)[["row", "field"]].values.tolist() == [[1, "kind"]]


def test_a_dataset_import_is_logged_under_the_data_set_and_file(tmp_path, store):
    path = tmp_path / "Tiny.txt"
    path.write_text("u1 i1 i2 i1\nu2 i2\n", encoding="utf-8")
    import_dataset(store, "amazon", path, SETTINGS)
    assert store.write_log().empty  # a clean first import
    import_dataset(store, "amazon", path, SETTINGS)  # the same events again: all duplicates
    assert store.write_log()[["source", "origin", "accepted", "duplicates"]].values.tolist() == [
        ["events", "amazon: Tiny.txt", 0, 4]
    ]


def test_a_failed_log_write_keeps_the_rows(store, monkeypatch, caplog):
    def refuse(record):
        raise StoreError("the log table is locked")

    monkeypatch.setattr(store, "add_write_record", refuse)
    with caplog.at_level(logging.ERROR, logger="tailor.ingest.write_log"):
        result = ingest_events(store, [view("e1"), view("e1", kind="fly")], SETTINGS)
    assert result.accepted == 1 and len(result.rejected) == 1
    assert store.events()["event_id"].tolist() == ["e1"]
    assert "could not log a write" in caplog.text
