"""Read contract shared by every backend: ordering, bounds, recent events, round trips, counts."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from store_samples import event_rows, numbered_events

from tailor.errors import InvalidInputError
from tailor.store import Store, sql
from tailor.store.postgres import COPY_MIN_ROWS
from tailor.store.schema import EVENT_DTYPES
from tailor.types import EVENT_COLUMNS, ITEM_COLUMNS

AWKWARD = [
    "红色连衣裙",
    "🛒 cart 🚀",
    "'; DROP TABLE events; --",
    'quote " and \\ backslash',
    "%s %(x)s ? :name $1",
    "line\nbreak\ttab",
    "",
    "ｆｕｌｌ－ｗｉｄｔｈ",
]


def test_events_are_ordered_by_user_then_time_then_insertion(store: Store) -> None:
    store.add_events(
        event_rows(
            {"event_id": "late", "user_id": "b", "ts": 30},
            {"event_id": "tie-1", "user_id": "b", "ts": 10},
            {"event_id": "a-only", "user_id": "a", "ts": 99},
            {"event_id": "tie-2", "user_id": "b", "ts": 10},
        )
    )
    store.add_events(event_rows({"event_id": "tie-3", "user_id": "b", "ts": 10}))
    stored = store.events()
    assert stored["event_id"].tolist() == ["a-only", "tie-1", "tie-2", "tie-3", "late"]


def test_user_ids_order_by_code_point_on_every_backend(store: Store) -> None:
    ids = ["b", "B", "a", "é", "中", "Z", "_", "😀"]
    store.add_events(event_rows(*({"event_id": f"e{i}", "user_id": u} for i, u in enumerate(ids))))
    assert store.events()["user_id"].tolist() == sorted(ids)


def test_since_is_inclusive_and_until_exclusive(store: Store) -> None:
    store.add_events(
        event_rows(*({"event_id": f"e{ts}", "user_id": "u", "ts": ts} for ts in range(10)))
    )
    assert store.events(since=3, until=6)["ts"].tolist() == [3, 4, 5]
    assert store.events(since=8)["ts"].tolist() == [8, 9]
    assert store.events(until=1)["ts"].tolist() == [0]
    assert store.events(since=5, until=5).empty
    assert store.events(since=np.int64(9))["ts"].tolist() == [9]


def test_events_of_given_users_stay_ordered_across_id_chunks(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql, "ID_CHUNK", 2)
    store.add_events(numbered_events(70, users=7))
    wanted = ["u5", "u1", "u3", "u6", "u1", "nobody"]
    picked = store.events(user_ids=wanted, since=1_700_000_003_000)
    expected = store.events(since=1_700_000_003_000)
    expected = expected[expected["user_id"].isin(wanted)].reset_index(drop=True)
    pd.testing.assert_frame_equal(picked, expected)
    assert picked["user_id"].unique().tolist() == ["u1", "u3", "u5", "u6"]
    assert store.events(user_ids=[]).empty


def test_recent_events_are_the_latest_oldest_first(store: Store) -> None:
    store.add_events(numbered_events(40, users=2))
    recent = store.recent_events("u1", 4)
    everything = store.events(user_ids=["u1"])
    pd.testing.assert_frame_equal(recent, everything.tail(4).reset_index(drop=True))
    assert len(store.recent_events("u1", 1000)) == 20
    assert store.recent_events("u1", 0).empty
    with pytest.raises(InvalidInputError, match="limit"):
        store.recent_events("u1", -1)


def test_frames_have_the_canonical_columns_and_dtypes(store: Store) -> None:
    for frame in (store.events(), store.recent_events("nobody", 5)):
        assert tuple(frame.columns) == EVENT_COLUMNS
        assert frame.empty
    store.add_events(
        event_rows({"event_id": "s", "user_id": "u", "kind": "search", "query": "靴子"})
    )
    for frame in (store.events(), store.recent_events("u", 5)):
        assert {c: str(frame[c].dtype) for c in frame} == EVENT_DTYPES
        assert frame["item_id"].isna().all() and frame["value"].isna().all()
    assert tuple(store.items().columns) == ITEM_COLUMNS


@pytest.mark.parametrize("copies", [1, COPY_MIN_ROWS // len(AWKWARD) + 1])
def test_awkward_event_text_round_trips_unchanged(store: Store, copies: int) -> None:
    texts = AWKWARD * copies
    n = len(texts)
    events = pd.DataFrame(
        {
            "event_id": [f"{i} {t}" for i, t in enumerate(texts)],
            "user_id": texts,
            "item_id": texts[::-1],
            "kind": ["view"] * n,
            "ts": range(n),
            "value": [0.1 * i for i in range(n)],
            "session_id": texts,
            "channel": ["mini-program"] * n,
            "query": texts,
            "text": texts[::-1],
        }
    )
    assert store.add_events(events) == n
    stored = store.events().set_index("event_id").loc[events["event_id"]].reset_index()
    for column in EVENT_COLUMNS:
        assert stored[column].tolist() == events[column].tolist(), column


def test_awkward_item_text_and_json_round_trip_unchanged(store: Store) -> None:
    items = pd.DataFrame(
        {
            "item_id": AWKWARD,
            "title": AWKWARD,
            "tags": [[t, "标签"] for t in AWKWARD],
            "attributes": [
                {"颜色": t, "nested": {"emoji": "🎁", "list": [1, 2.5, None]}} for t in AWKWARD
            ],
        }
    )
    store.upsert_items(items)
    got = store.items(AWKWARD).set_index("item_id").loc[AWKWARD]
    assert got["title"].tolist() == AWKWARD
    assert got["tags"].tolist() == items["tags"].tolist()
    assert got["attributes"].tolist() == items["attributes"].tolist()


def test_counts(store: Store) -> None:
    store.add_events(numbered_events(12))
    store.upsert_items(pd.DataFrame({"item_id": ["a", "b"]}))
    store.upsert_users(pd.DataFrame({"user_id": ["u"]}))
    assert store.counts() == {"events": 12, "items": 2, "users": 1}


def test_a_healthy_store_passes_its_integrity_check(store: Store) -> None:
    store.add_events(numbered_events(100))
    assert store.check_integrity() == []


def test_threads_can_write_and_read_at_once(store: Store) -> None:
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for batch in range(10):
                store.add_events(numbered_events(5, prefix=f"w{worker}b{batch}-"))
                store.recent_events(f"u{worker}", 10)
                store.counts()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.counts()["events"] == 6 * 10 * 5
