from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tailor.data.dataset import Dataset
from tailor.data.splits import drop_items, leave_one_out, sample_items, time_split


def _items(data: Dataset, idx: np.ndarray) -> list[str]:
    return data.item_ids.ids(idx)


def test_leave_one_out_by_hand() -> None:
    data = Dataset.from_sequences(
        {"a": ["1", "2", "3", "4"], "b": ["5", "6"], "c": ["2", "2", "7"]}
    )
    split = leave_one_out(data)
    a, b, c = (data.user_ids.index(u) for u in "abc")
    assert _items(data, split.train.history(a)) == ["1", "2"]
    assert _items(data, split.train.history(b)) == ["5", "6"]  # too short: train only
    assert _items(data, split.train.history(c)) == ["2"]
    assert _items(data, split.train_valid.history(a)) == ["1", "2", "3"]
    assert _items(data, split.train_valid.history(b)) == ["5", "6"]
    assert split.train.n_items == data.n_items and split.train.n_users == data.n_users

    assert split.test.users.user_idx.tolist() == [a, c]
    assert [_items(data, h) for h in split.test.users.histories] == [["1", "2", "3"], ["2", "2"]]
    assert [_items(data, t) for t in split.test.targets] == [["4"], ["7"]]
    assert [_items(data, h) for h in split.valid.users.histories] == [["1", "2"], ["2"]]
    assert [_items(data, t) for t in split.valid.targets] == [["3"], ["2"]]
    assert split.test.users.kinds is not None and len(split.test.users.kinds[0]) == 3


def test_leave_one_out_keeps_file_order_of_ties() -> None:
    events = pd.DataFrame(
        {
            "user_id": ["u"] * 4,
            "item_id": ["x", "y", "z", "w"],
            "kind": ["view"] * 4,
            "ts": [5, 5, 5, 5],
        }
    )
    data = Dataset.from_events(events)
    split = leave_one_out(data)
    assert _items(data, split.test.targets[0]) == ["w"]
    assert _items(data, split.valid.targets[0]) == ["z"]


def test_time_split_by_hand() -> None:
    events = pd.DataFrame(
        [
            ("u1", "a", "view", 1),
            ("u1", "b", "view", 2),
            ("u1", "c", "view", 10),
            ("u1", "a", "cart", 11),
            ("u1", "c", "purchase", 12),
            ("u2", "b", "view", 3),
            ("u3", "d", "view", 20),  # only after the cutoff: not a test user
        ],
        columns=["user_id", "item_id", "kind", "ts"],
    )
    data = Dataset.from_events(events)
    split = time_split(data, cutoff_ts=10)
    assert split.train.n_events == 3 and int(split.train.ts.max()) < 10
    assert split.test.users.user_idx.tolist() == [data.user_ids.index("u1")]
    assert _items(data, split.test.users.histories[0]) == ["a", "b"]
    assert _items(data, split.test.targets[0]) == [
        "c",
        "a",
    ]  # distinct, in order of first appearance


def test_drop_items_keeps_catalogue_users_and_text() -> None:
    data = Dataset.from_sequences(
        {"a": ["1", "2", "3", "2"], "b": ["2", "2"], "c": ["4", "1"]},
        {"1": "rose soap", "2": "lip balm", "3": "mascara", "4": "sunscreen", "5": "toner"},
    )
    cold = np.array([data.item_ids.index("2"), data.item_ids.index("5")])
    kept = drop_items(data, cold)
    a, b, c = (data.user_ids.index(u) for u in "abc")
    assert _items(data, kept.history(a)) == ["1", "3"]
    assert len(kept.history(b)) == 0
    assert _items(data, kept.history(c)) == ["4", "1"]
    assert kept.n_items == data.n_items == 5 and kept.n_users == data.n_users
    assert kept.item_text() == data.item_text()
    assert not np.isin(kept.items, cold).any() and kept.n_events == 4


def test_sample_items_is_seeded_and_sized() -> None:
    cold = sample_items(1000, 0.1, seed=3)
    assert len(cold) == 100 and len(np.unique(cold)) == 100
    assert np.all((cold >= 0) & (cold < 1000)) and np.all(np.diff(cold) > 0)
    np.testing.assert_array_equal(cold, sample_items(1000, 0.1, seed=3))
    assert not np.array_equal(cold, sample_items(1000, 0.1, seed=4))
    assert len(sample_items(5, 0.01, seed=0)) == 1
    with pytest.raises(ValueError, match="fraction"):
        sample_items(10, 1.0, seed=0)
