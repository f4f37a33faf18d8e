"""Served lists and feedback in the store, on both backends."""

from __future__ import annotations

import pandas as pd

from tailor.store import Store, open_store
from tailor.store.base import Feedback, ServedList


def served(request_id: str, ts: int, user_id: str | None = "u1", **fields) -> ServedList:
    return ServedList(
        request_id, fields.pop("scenario", "home"), ["i1", "i2", "商品3"], ts, user_id, **fields
    )


def test_served_lists_are_kept_once_and_read_back(store: Store):
    first = served("r1", 1_000, experiment="div", variant="mmr", model_version="v1")
    store.add_served([first, served("r2", 2_000, None, scenario="popular")])
    store.add_served([served("r1", 9_000)])  # a repeated request id keeps the first list
    found = store.served_lists(["r1", "r2", "nope"])
    assert found["r1"] == first and found["r2"].user_id is None and set(found) == {"r1", "r2"}


def test_online_log_joins_feedback_within_the_time_bounds(store: Store):
    store.add_served([served("r1", 1_000), served("r2", 2_000, variant="b"), served("r3", 3_000)])
    store.add_feedback(
        [
            Feedback("r1", "impression", 1_100),
            Feedback("r1", "click", 1_200, "i2"),
            Feedback("r2", "conversion", 2_500, "i1", 19.9),
        ]
    )
    lists, answers = store.online_log()
    assert lists["request_id"].tolist() == ["r1", "r2", "r3"]
    assert lists["n_items"].tolist() == [3, 3, 3] and lists["variant"].tolist()[1] == "b"
    assert answers.fillna("").values.tolist() == [
        ["r1", "impression", ""],
        ["r1", "click", "i2"],
        ["r2", "conversion", "i1"],
    ]
    lists, answers = store.online_log(since=2_000, until=3_000)
    assert lists["request_id"].tolist() == ["r2"] and answers["request_id"].tolist() == ["r2"]


def test_deleting_a_user_deletes_the_lists_served_to_them(store: Store):
    store.upsert_users(pd.DataFrame({"user_id": ["u1", "u2"]}))
    store.add_served([served("r1", 1_000, "u1"), served("r2", 1_000, "u2")])
    store.add_feedback([Feedback("r1", "click", 1_100, "i1"), Feedback("r2", "click", 1_100, "i1")])
    store.delete_users(["u1"])
    lists, answers = store.online_log()
    assert lists["request_id"].tolist() == ["r2"] and answers["request_id"].tolist() == ["r2"]


def test_served_lists_survive_reopening(store_url: str):
    with open_store(store_url) as store:
        store.add_served([served("r1", 1_000)])
    with open_store(store_url) as store:
        assert store.served_lists(["r1"])["r1"].item_ids == ["i1", "i2", "商品3"]
