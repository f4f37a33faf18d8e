import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tailor.ingest.validate import event_ids, validate_events, validate_items, validate_users
from tailor.settings import IngestSettings

SETTINGS = IngestSettings(max_id_length=16, max_text_length=50, event_weights={"share": 3.0})
NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def events(*records, **kwargs):
    return validate_events(list(records), SETTINGS, received_at=NOW, **kwargs)


def reasons(validated):
    return {(r.row, r.field): r.reason for r in validated.rejected}


def test_valid_rows_are_kept_in_canonical_dtypes():
    v = events(
        {"user_id": "u1", "item_id": "i1", "kind": "view", "ts": 1_700_000_000_000},
        {"user_id": 7, "item_id": 8, "kind": "share", "value": 2, "channel": "app"},
    )
    assert v.rejected == [] and v.duplicates == 0
    assert list(v.frame.columns) == [
        "event_id",
        "user_id",
        "item_id",
        "kind",
        "ts",
        "value",
        "session_id",
        "channel",
        "query",
        "text",
    ]
    assert v.frame["ts"].dtype == np.int64 and v.frame["value"].dtype == np.float64
    assert v.frame["user_id"].tolist() == ["u1", "7"] and v.frame["item_id"].tolist() == ["i1", "8"]
    assert v.frame["ts"].tolist() == [1_700_000_000_000, NOW]  # missing ts = receive time
    assert v.frame["event_id"].str.len().tolist() == [32, 32]


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        ({"item_id": "i", "kind": "view"}, "user_id", "missing"),
        ({"user_id": "", "item_id": "i", "kind": "view"}, "user_id", "missing"),
        ({"user_id": {"a": 1}, "item_id": "i", "kind": "view"}, "user_id", "got dict"),
        ({"user_id": "u", "kind": "view"}, "item_id", "search"),
        ({"user_id": "u", "item_id": "i", "kind": "teleport"}, "kind", "share, view"),
        ({"user_id": "u", "item_id": "i"}, "kind", "missing"),
        ({"user_id": "u", "item_id": "i", "kind": "view", "ts": "last tuesday"}, "ts", "ISO-8601"),
        ({"user_id": "u", "item_id": "i", "kind": "view", "ts": -5}, "ts", "out of range"),
        ({"user_id": "u", "item_id": "i", "kind": "view", "ts": 1.7e15}, "ts", "out of range"),
        ({"user_id": "u", "item_id": "i", "kind": "view", "value": math.nan}, "value", "NaN"),
        ({"user_id": "u", "item_id": "i", "kind": "view", "value": math.inf}, "value", "finite"),
        ({"user_id": "u", "item_id": "i", "kind": "view", "value": "3"}, "value", "got str"),
        ({"user_id": "u" * 17, "item_id": "i", "kind": "view"}, "user_id", "longer than 16"),
        (
            {"user_id": "u", "item_id": "i", "kind": "view", "text": "x" * 51},
            "text",
            "longer than 50",
        ),
        (
            {"user_id": "u", "item_id": "i", "kind": "view", "colour": "red"},
            "colour",
            "unknown field",
        ),
        ({"user_id": "u", "item_id": "i", "kind": "view", "channel": 5}, "channel", "got int"),
    ],
)
def test_each_rejection_names_its_field_and_keeps_the_other_rows(record, field, words):
    good = {"user_id": "ok", "item_id": "i", "kind": "view"}
    v = events(good, record, good | {"item_id": "j"})
    assert v.frame["item_id"].tolist() == ["i", "j"]
    assert [(r.row, r.field) for r in v.rejected] == [(1, field)]
    assert words in v.rejected[0].reason
    assert v.rejected_rows == 1


def test_a_row_failing_several_fields_reports_each():
    v = events({"user_id": None, "item_id": "i", "kind": "nope", "ts": "?"})
    assert {r.field for r in v.rejected} == {"user_id", "kind", "ts"} and v.rejected_rows == 1
    assert v.frame.empty


def test_search_needs_no_item():
    v = events({"user_id": "u", "kind": "search", "query": "面霜 face cream"})
    assert v.rejected == [] and pd.isna(v.frame["item_id"].iloc[0])
    assert v.frame["query"].iloc[0] == "面霜 face cream"


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (1_700_000_000, 1_700_000_000_000),  # seconds
        (1_700_000_000.25, 1_700_000_000_250),  # fractional seconds
        (1_700_000_000_123, 1_700_000_000_123),  # milliseconds
        ("2026-01-01T08:00:00+08:00", NOW),  # offset
        ("2026-01-01T00:00:00Z", NOW),
        ("2026-01-01 00:00:00", NOW),  # naive = UTC
        ("2026-01-01", NOW),
        ("1700000000", 1_700_000_000_000),  # numeric string
        (datetime(2026, 1, 1, tzinfo=UTC), NOW),
    ],
)
def test_timestamp_formats(ts, expected):
    v = events({"user_id": "u", "item_id": "i", "kind": "view", "ts": ts})
    assert v.rejected == [] and v.frame["ts"].tolist() == [expected]


def test_timestamp_columns_of_a_frame():
    frame = pd.DataFrame(
        {
            "user_id": ["u", "u"],
            "item_id": ["i", "j"],
            "kind": ["view", "view"],
            "ts": pd.to_datetime(["2026-01-01T00:00:00", None]),
        }
    )
    v = validate_events(frame, SETTINGS, received_at=5_000_000_000_000)
    assert v.frame["ts"].tolist() == [NOW, 5_000_000_000_000]


def test_event_ids_are_deterministic_and_depend_on_every_field():
    record = {"user_id": "u", "item_id": "i", "kind": "view", "ts": 1_700_000_000}
    first, again = events(record), events(dict(record))
    assert first.frame["event_id"].tolist() == again.frame["event_id"].tolist()
    for change in ({"ts": 1_700_000_001}, {"value": 1.0}, {"session_id": "s"}, {"kind": "click"}):
        other = events(record | change)
        assert other.frame["event_id"].iloc[0] != first.frame["event_id"].iloc[0], change


def test_event_id_is_a_stable_blake2b_of_the_fields():
    # Pinned: if this changes, re-importing old files would store every event a second time.
    frame = pd.DataFrame(
        {
            "user_id": ["u"],
            "item_id": ["i"],
            "kind": ["view"],
            "ts": [1_700_000_000_000],
            "value": [np.nan],
            "session_id": [None],
            "channel": [None],
            "query": [None],
            "text": [None],
        }
    )
    import hashlib

    key = "u\x1fi\x1fview\x1f1700000000000\x1f\x1f\x1f\x1f\x1f"
    assert event_ids(frame).tolist() == [hashlib.blake2b(key.encode(), digest_size=16).hexdigest()]


def test_duplicate_event_ids_keep_the_first_and_are_counted():
    same = {"user_id": "u", "item_id": "i", "kind": "view", "ts": 1_700_000_000}
    v = events(
        same,
        same | {"item_id": "j"},
        same,
        {"event_id": "e1", "user_id": "a", "item_id": "x", "kind": "view"},
        {"event_id": "e1", "user_id": "b", "item_id": "x", "kind": "view"},
    )
    assert v.duplicates == 2
    assert v.frame["item_id"].tolist() == ["i", "j", "x"]
    assert v.frame["user_id"].tolist()[-1] == "a"


def test_chinese_and_emoji_ids_round_trip():
    v = events({"user_id": "用户😀", "item_id": "商品-🌸", "kind": "view"})
    assert v.frame[["user_id", "item_id"]].iloc[0].tolist() == ["用户😀", "商品-🌸"]
    assert (
        validate_events([{"user_id": "😀" * 16, "item_id": "i", "kind": "view"}], SETTINGS).rejected
        == []
    )


def test_non_object_records_are_rejected():
    v = events("junk", {"user_id": "u", "item_id": "i", "kind": "view"})
    assert reasons(v) == {(0, "record"): "must be a JSON object"} and len(v.frame) == 1


def test_text_values_from_files_are_parsed_when_asked():
    frame = pd.DataFrame(
        {
            "user_id": ["001", "002", "003"],
            "item_id": ["i", "i", "i"],
            "kind": ["rating"] * 3,
            "value": ["4.5", "", "five"],
            "ts": ["1700000000", None, "2026-01-01T00:00:00Z"],
        }
    )
    v = validate_events(frame, SETTINGS, parse_strings=True, received_at=NOW)
    assert v.frame["user_id"].tolist() == ["001", "002"]  # leading zeros kept
    assert v.frame["value"].tolist()[0] == 4.5 and math.isnan(v.frame["value"].tolist()[1])
    assert reasons(v) == {(2, "value"): "not a number: 'five'"}


def test_items_rules():
    v = validate_items(
        [
            {
                "item_id": "i1",
                "title": "保湿面霜 Hydrating Face Cream",
                "category": " 美妆 / 护肤//面霜 ",
                "price": 99.5,
                "stock": 3,
                "tags": ["新品", "sale"],
                "attributes": {"size": "50ml"},
                "created_at": "2026-01-01",
                "hidden": True,
            },
            {"item_id": "i2", "price": "12"},
            {"item_id": "i3", "price": -1},
            {"item_id": "i4", "stock": 1.5},
            {"item_id": "i5", "stock": -2},
            {"item_id": "i6", "tags": "a|b"},
            {"item_id": "i7", "tags": ["a", 3]},
            {"item_id": "i8", "attributes": [1]},
            {"item_id": "i9", "hidden": "yes"},
            {"item_id": "i10"},
        ],
        SETTINGS,
    )
    assert reasons(v).keys() == {
        (1, "price"),
        (2, "price"),
        (3, "stock"),
        (4, "stock"),
        (5, "tags"),
        (6, "tags"),
        (7, "attributes"),
        (8, "hidden"),
    }
    first, bare = v.frame.iloc[0], v.frame.iloc[1]
    assert first["category"] == "美妆/护肤/面霜" and first["tags"] == ["新品", "sale"]
    assert first["created_at"] == NOW and first["hidden"] and first["stock"] == 3
    assert bare["item_id"] == "i10" and bare["tags"] == [] and bare["attributes"] == {}
    assert pd.isna(bare["created_at"]) and not bare["hidden"] and pd.isna(bare["stock"])
    assert str(v.frame["stock"].dtype) == "Int64"


def test_items_from_a_csv_like_frame_parse_their_cells():
    frame = pd.DataFrame(
        {
            "item_id": ["a", "b"],
            "price": ["1.5", "2"],
            "stock": ["3", None],
            "tags": ['["x", "y"]', "p|q"],
            "attributes": ['{"k": 1}', None],
            "hidden": ["true", "0"],
        }
    )
    v = validate_items(frame, SETTINGS, parse_strings=True)
    assert v.rejected == []
    assert v.frame["tags"].tolist() == [["x", "y"], ["p", "q"]]
    assert v.frame["attributes"].tolist() == [{"k": 1}, {}]
    assert v.frame["hidden"].tolist() == [True, False] and v.frame["price"].tolist() == [1.5, 2.0]


def test_repeated_items_and_users_keep_the_last_row():
    v = validate_items(
        [{"item_id": "a", "title": "old"}, {"item_id": "a", "title": "new"}], SETTINGS
    )
    assert v.frame["title"].tolist() == ["new"] and v.duplicates == 1
    u = validate_users(
        [
            {"user_id": 1, "attributes": {"region": "上海"}, "created_at": 1_700_000_000},
            {"user_id": "2", "attributes": "x"},
        ],
        SETTINGS,
    )
    assert u.frame["user_id"].tolist() == ["1"] and u.frame["created_at"].tolist() == [
        1_700_000_000_000
    ]
    assert reasons(u) == {(1, "attributes"): "must be a JSON object with string keys"}


def test_validating_a_large_frame_is_vectorised():
    n = 100_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 1000, n).astype(str),
            "item_id": rng.integers(0, 500, n),
            "kind": "view",
            "ts": 1_700_000_000_000 + np.arange(n),
        }
    )
    import time

    started = time.process_time()
    v = validate_events(frame, SETTINGS)
    assert len(v.frame) == n and v.rejected == []
    assert time.process_time() - started < 2.0  # about 0.25 s on an idle core


def test_categorical_and_arrow_columns_are_accepted():
    import pyarrow as pa

    frame = pd.DataFrame(
        {
            "user_id": pd.Series(["a", "b"], dtype=pd.ArrowDtype(pa.string())),
            "item_id": pd.Categorical(["x", "y"]),
            "kind": pd.Categorical(["view", "cart"]),
            "ts": pd.Series([1_700_000_000, 1_700_000_001], dtype=pd.ArrowDtype(pa.int64())),
        }
    )
    v = validate_events(frame, SETTINGS)
    assert v.rejected == []
    assert v.frame[["user_id", "item_id", "kind"]].to_numpy().tolist() == [
        ["a", "x", "view"],
        ["b", "y", "cart"],
    ]
    assert v.frame["ts"].tolist() == [1_700_000_000_000, 1_700_000_001_000]


def test_ids_beyond_int64_do_not_crash_the_checks():
    record = {"user_id": 10**20, "item_id": "i1", "kind": "view"}
    big = validate_events([record], IngestSettings(max_id_length=30))
    assert [(r.field, r.reason) for r in big.rejected] == [
        ("user_id", "must be a string or an integer (below 2**53), got int")
    ]  # JSON numbers that large are doubles to most parsers: such ids travel as strings
    huge_float = events({"user_id": 1e19, "item_id": "i1", "kind": "view"})
    assert reasons(huge_float) == {(0, "user_id"): "must be a string or an integer (below 2**53)"}
