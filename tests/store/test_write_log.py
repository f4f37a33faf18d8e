"""The write log (counts per write) and its rejections, on both backends."""

from __future__ import annotations

from tailor.store import Store
from tailor.store.base import LoggedRejection, WriteRecord


def test_write_records_and_their_rejections_are_read_back(store: Store):
    store.add_write_record(
        WriteRecord(
            1_000,
            "events",
            "api",
            accepted=5,
            rejected=2,
            duplicates=1,
            rejections=[
                LoggedRejection(1, "ts", "ts: not a timestamp"),
                LoggedRejection(4, None, "不是一个对象"),
            ],
        )
    )
    store.add_write_record(WriteRecord(2_000, "items", "商品.csv", 3, 0, 4))

    log = store.write_log()
    assert log.values.tolist() == [
        [1_000, "events", "api", 5, 2, 1],
        [2_000, "items", "商品.csv", 3, 0, 4],
    ]
    assert store.write_log(since=1_500)["source"].tolist() == ["items"]
    latest = store.recent_rejections(1)
    assert latest.fillna("").values.tolist() == [[1_000, "events", "api", 4, "", "不是一个对象"]]
    assert store.recent_rejections(10)["field"].fillna("").tolist() == ["", "ts"]
