"""`recent_item_kinds`, the per-request read of serving, agrees with `recent_events` on every backend."""

from __future__ import annotations

import pytest
from store_samples import event_rows, numbered_events

from tailor.errors import InvalidInputError
from tailor.store import Store


def test_recent_item_kinds_are_the_recent_events_item_and_kind(store: Store) -> None:
    store.add_events(numbered_events(40, users=2))
    store.add_events(
        event_rows(
            {"event_id": "s", "user_id": "u1", "kind": "search", "query": "靴子", "ts": 2e12},
            {"event_id": "c", "user_id": "u1", "item_id": "i3", "kind": "cart", "ts": 2e12 + 1},
        )
    )
    for limit in (0, 1, 5, 1000):
        frame = store.recent_events("u1", limit)
        item_ids = frame["item_id"].astype(object).where(frame["item_id"].notna(), None)
        expected = list(zip(item_ids.tolist(), frame["kind"].tolist()))
        assert store.recent_item_kinds("u1", limit) == expected
    assert store.recent_item_kinds("u1", 2) == [(None, "search"), ("i3", "cart")]
    assert store.recent_item_kinds("nobody", 5) == []
    with pytest.raises(InvalidInputError, match="limit"):
        store.recent_item_kinds("u1", -1)


def test_the_default_reads_the_frame(store: Store) -> None:
    store.add_events(numbered_events(12, users=3))
    assert Store.recent_item_kinds(store, "u2", 3) == store.recent_item_kinds("u2", 3)
