"""Retention on both stores: events older than the cutoff go, with what depends on them."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from privacy_setup import DAY_MS, user_events

from tailor.errors import InvalidInputError
from tailor.privacy import PurgeResult, parse_age, purge
from tailor.store import open_store
from tailor.store.base import Feedback, ServedList, WriteRecord

NOW = 20_000 * DAY_MS  # 2024-10-04
YEAR = 365 * DAY_MS


def test_purge_deletes_old_rows_and_what_depends_on_them(store_url: str) -> None:
    with open_store(store_url) as store:
        store.add_events(user_events("old", ["i1"], NOW - 2 * YEAR))  # all before the cutoff
        store.add_events(user_events("both", ["i1"], NOW - YEAR - 120_000))  # 2 of 5 before it
        store.add_events(user_events("new", ["i2"], NOW - DAY_MS))
        users = pd.DataFrame(
            {"user_id": ["old", "both", "new", "quiet"], "created_at": [NOW - 3 * YEAR] * 4}
        )
        store.upsert_users(users)
        store.add_served(
            [
                ServedList("r-old", "home", ["i1"], NOW - 2 * YEAR, user_id="old"),
                ServedList("r-new", "home", ["i2"], NOW - DAY_MS, user_id="new"),
            ]
        )
        store.add_feedback([Feedback("r-old", "click", NOW - 2 * YEAR, "i1")])
        store.add_feedback([Feedback("r-new", "click", NOW - DAY_MS, "i2")])
        store.add_write_record(WriteRecord(NOW - 2 * YEAR, "events", "api", 1, 0, 1))
        store.add_write_record(WriteRecord(NOW - DAY_MS, "events", "api", 1, 0, 1))

        result = purge(store, parse_age("365d"), actor="tests", now_ms=NOW)

        assert result.tables == {
            "events": 5 + 2, "served": 1, "feedback": 1, "write_log": 1, "users": 2,
        }  # fmt: skip
        assert result.before.startswith("2023-10-05")
        left = store.events()
        assert set(left["user_id"]) == {"both", "new"} and left["ts"].min() >= NOW - YEAR
        assert store.users()["user_id"].tolist() == ["both", "new"]  # "quiet" had no events
        assert list(store.served_lists(["r-old", "r-new"])) == ["r-new"]
        assert len(store.write_log()) == 1
        (entry,) = store.audit_entries()
        assert (entry.action, entry.target) == ("purge", f"before {result.before}")
        assert purge(store, timedelta(days=365), actor="tests", now_ms=NOW).tables == {}
        ages_ago = purge(store, parse_age("200000w"), actor="tests", now_ms=NOW)  # before year 1
        assert ages_ago == PurgeResult(before="1970-01-01T00:00:00+00:00", tables={})


@pytest.mark.parametrize(
    "text", ["", "365", "d", "0d", "1y", "-5d", "1.5d", "9999999d", " 365d", "365d\n", "３６５d"]
)
def test_an_age_that_is_not_whole_hours_days_or_weeks_is_refused(text: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_age(text)
    assert refused.value.field == "older_than"


def test_ages_in_hours_days_and_weeks() -> None:
    assert parse_age("48h") == timedelta(hours=48)
    assert parse_age("365d") == timedelta(days=365)
    assert parse_age("52w") == timedelta(weeks=52)
