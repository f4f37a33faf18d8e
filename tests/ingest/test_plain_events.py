"""The small-batch fast path must answer exactly as the full checks whenever it answers at all."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tailor.ingest.plain import plain_events
from tailor.ingest.validate import validate_events
from tailor.settings import IngestSettings

SETTINGS = IngestSettings(max_id_length=4, max_text_length=6, event_weights={"share": 3.0})
NOW = 1_767_225_600_000

ids = st.one_of(
    st.none(),
    st.sampled_from(["", "a", "b", "abcd", "abcde", " "]),
    st.integers(-20, 20),
    st.integers(10**3, 10**20),
    st.floats(allow_nan=True),
    st.booleans(),
)
texts = st.one_of(st.none(), st.text(max_size=8), st.integers(0, 9))
numbers = st.one_of(
    st.none(),
    st.integers(-(10**14), 10**14),
    st.integers(2**62, 2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=8e12),
    st.booleans(),
    st.sampled_from(["", "12", "2026-01-01T00:00:00Z", "x"]),
)
kinds = st.one_of(st.sampled_from(["view", "purchase", "share", "search", "nope", ""]), ids)
event_fields = {
    "event_id": ids,
    "user_id": ids,
    "item_id": ids,
    "kind": kinds,
    "ts": numbers,
    "value": numbers,
    "session_id": ids,
    "channel": texts,
    "query": texts,
    "text": texts,
    "colour": st.one_of(st.none(), st.just("red")),  # not an event field
}
plain_record = st.fixed_dictionaries(
    {
        "user_id": st.sampled_from(["u1", "u2", 7, "abcd"]),
        "kind": st.sampled_from(["view", "search"]),
        "item_id": st.sampled_from(["i1", "i2", 3, -4]),
    },
    optional={
        "event_id": st.sampled_from(["e1", "e2", None, 12]),
        "ts": st.one_of(st.none(), st.integers(0, 4 * 10**12), st.floats(0, 4e12)),
        "value": st.one_of(st.none(), st.floats(-1e20, 1e20), st.integers(-5, 5)),
        "session_id": st.sampled_from(["s", 1, None]),
        "channel": st.sampled_from(["app", "", None]),
        "query": st.text(max_size=6),
        "colour": st.none(),
    },
)
any_record = st.one_of(
    st.fixed_dictionaries({}, optional=event_fields),
    plain_record,
    st.sampled_from([None, ["user_id", "u1"], "text"]),
)
records = st.one_of(st.lists(plain_record, max_size=6), st.lists(any_record, max_size=6))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_fast_path_agrees_with_the_full_checks(batch: list) -> None:
    full = validate_events(tuple(batch), SETTINGS, received_at=NOW)  # a tuple: no fast path
    plain = plain_events(batch, SETTINGS, NOW)
    event("fast path" if plain is not None else "full checks")
    if plain is not None:
        answer = validate_events(batch, SETTINGS, received_at=NOW)
        assert full.rejected == [] and answer.rejected == []
        assert plain[1] == full.duplicates == answer.duplicates
        pd.testing.assert_frame_equal(plain[0], full.frame)
        pd.testing.assert_frame_equal(answer.frame, full.frame)


def test_plain_records_take_the_fast_path() -> None:
    batch = [
        {"user_id": "u1", "item_id": 5, "kind": "view", "ts": 1_700_000_000},
        {"user_id": 7, "kind": "search", "query": "red", "value": 1e-7, "ts": 1.7e12},
        {"event_id": "e1", "user_id": "u1", "item_id": "i", "kind": "share", "colour": None},
        {"event_id": "e1", "user_id": "u2", "item_id": "j", "kind": "view"},
    ]
    plain = plain_events(batch, SETTINGS, NOW)
    assert plain is not None
    frame, duplicates = plain
    assert duplicates == 1 and frame["event_id"].iloc[2] == "e1"
    assert frame["ts"].tolist() == [1_700_000_000_000, 1_700_000_000_000, NOW]
    assert frame["item_id"].iloc[0] == "5" and math.isnan(frame["value"].iloc[0])
    assert len(set(frame["event_id"])) == 3


def test_anything_unusual_goes_to_the_full_checks() -> None:
    base = {"user_id": "u1", "item_id": "i1", "kind": "view"}
    for unusual in ({"ts": "2026-01-01"}, {"value": math.nan}, {"kind": "nope"}, {"colour": 1}):
        assert plain_events([base, {**base, **unusual}], SETTINGS, NOW) is None
