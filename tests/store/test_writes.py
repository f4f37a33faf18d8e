"""Write contract shared by every backend: idempotency, atomicity, upserts, deletes, durability."""

from __future__ import annotations

import pandas as pd
import pytest
from store_samples import event_rows, numbered_events

from tailor.errors import InvalidInputError, StoreError
from tailor.store import Store, open_store
from tailor.store.postgres import COPY_MIN_ROWS

# Both sides of the PostgreSQL COPY threshold (executemany below, COPY above).
BATCH_SIZES = [5, COPY_MIN_ROWS + 7]


def test_same_event_id_is_stored_once(store: Store) -> None:
    first = event_rows({"event_id": "a", "user_id": "u"}, {"event_id": "b", "user_id": "u"})
    again = event_rows({"event_id": "b", "user_id": "u"}, {"event_id": "c", "user_id": "u"})
    assert store.add_events(first) == 2
    assert store.add_events(again) == 1
    assert store.add_events(again) == 0
    assert store.events()["event_id"].tolist() == ["a", "b", "c"]


@pytest.mark.parametrize("n", BATCH_SIZES)
def test_duplicates_inside_one_batch_keep_the_first(store: Store, n: int) -> None:
    events = numbered_events(n)
    twin = events.iloc[[0]].assign(user_id="someone else")
    assert store.add_events(pd.concat([events, twin], ignore_index=True)) == n
    assert store.add_events(events) == 0
    stored = store.events()
    assert len(stored) == n
    assert stored.loc[stored["event_id"] == "e0", "user_id"].tolist() == ["u0"]


@pytest.mark.parametrize("n", BATCH_SIZES)
def test_a_batch_failing_midway_writes_nothing(store: Store, n: int) -> None:
    store.add_events(numbered_events(3, prefix="before"))
    broken = numbered_events(n).astype({"user_id": object})
    broken.loc[n // 2, "user_id"] = None
    with pytest.raises(StoreError, match="user_id"):
        store.add_events(broken)
    assert store.counts()["events"] == 3
    assert store.add_events(numbered_events(n)) == n


def test_missing_required_column_is_invalid_input(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="user_id"):
        store.add_events(pd.DataFrame({"event_id": ["a"], "kind": ["view"], "ts": [1]}))
    with pytest.raises(InvalidInputError, match="ts"):
        store.add_events(event_rows({"event_id": "a", "user_id": "u"}).assign(ts=1.5))


def test_empty_batches_write_nothing(store: Store) -> None:
    assert store.add_events(numbered_events(0)) == 0
    assert store.upsert_items(pd.DataFrame({"item_id": []})) == 0
    assert store.counts() == {"events": 0, "items": 0, "users": 0}


def test_upsert_items_replaces_by_id(store: Store) -> None:
    assert (
        store.upsert_items(
            pd.DataFrame({"item_id": ["a", "b"], "title": ["A", "B"], "price": [1.0, 2.0]})
        )
        == 2
    )
    replaced = pd.DataFrame(
        {"item_id": ["b", "c", "c"], "title": ["B2", "C", "C2"], "hidden": [True, None, False]}
    )
    assert store.upsert_items(replaced) == 2
    items = store.items()
    assert items["item_id"].tolist() == ["a", "b", "c"]
    assert items["title"].tolist() == ["A", "B2", "C2"]
    assert items["price"].isna().tolist() == [False, True, True]  # a replace is whole
    assert items["hidden"].tolist() == [False, True, False]


def test_upsert_items_accepts_nullable_pandas_dtypes(store: Store) -> None:
    items = pd.DataFrame(
        {
            "item_id": pd.array(["a", "b"], dtype="str"),
            "price": [9.5, float("nan")],
            "stock": pd.array([3, None], dtype="Int64"),
            "created_at": pd.array([None, 1_700_000_000_000], dtype="Int64"),
            "hidden": pd.array([True, None], dtype="boolean"),
            "tags": [["x"], None],
        }
    )
    assert store.upsert_items(items) == 2
    stored = store.items()
    assert stored["stock"].tolist() == [3, pd.NA]
    assert stored["created_at"].tolist() == [pd.NA, 1_700_000_000_000]
    assert stored["hidden"].tolist() == [True, False]
    assert stored["tags"].tolist() == [["x"], None]
    assert stored["price"].tolist()[0] == 9.5 and pd.isna(stored["price"].tolist()[1])


def test_upsert_users_replaces_by_id(store: Store) -> None:
    store.upsert_users(
        pd.DataFrame({"user_id": ["u1", "u2"], "attributes": [{"region": "north"}, None]})
    )
    assert (
        store.upsert_users(
            pd.DataFrame(
                {"user_id": ["u1"], "attributes": [{"region": "south"}], "created_at": [5]}
            )
        )
        == 1
    )
    users = store.users()
    assert users["attributes"].tolist() == [{"region": "south"}, None]
    assert users["created_at"].tolist() == [5, pd.NA]
    assert store.users(["u2", "nobody"])["user_id"].tolist() == ["u2"]


def test_delete_users_removes_their_events(store: Store) -> None:
    store.upsert_users(pd.DataFrame({"user_id": ["u0", "u1", "u2"]}))
    store.add_events(numbered_events(30, users=4))  # u3 has events but no user row
    assert store.delete_users(["u1", "u3", "nobody"]) == 2
    assert sorted(store.events()["user_id"].unique()) == ["u0", "u2"]
    assert store.users()["user_id"].tolist() == ["u0", "u2"]
    assert store.recent_events("u1", 10).empty


def test_delete_items_keeps_their_events(store: Store) -> None:
    store.upsert_items(pd.DataFrame({"item_id": ["i0", "i1"]}))
    store.add_events(numbered_events(26))
    assert store.delete_items(["i0", "missing"]) == 1
    assert store.items()["item_id"].tolist() == ["i1"]
    assert (store.events()["item_id"] == "i0").sum() == 2


def test_writes_survive_closing_and_reopening(store_url: str) -> None:
    with open_store(store_url) as store:
        store.add_events(numbered_events(50))
        store.upsert_items(pd.DataFrame({"item_id": ["i0"], "tags": [["红色", "sale"]]}))
    with open_store(store_url) as reopened:
        assert reopened.counts() == {"events": 50, "items": 1, "users": 0}
        assert reopened.items()["tags"].tolist() == [["红色", "sale"]]
        assert reopened.add_events(numbered_events(50)) == 0


def test_a_closed_store_refuses_work(store: Store) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.counts()
