"""The event validator's fast path for a small list of plain JSON records (one HTTP request).

pandas costs tens of milliseconds per call whatever the batch size, which would cap a shop posting
single events at a few dozen requests a second. Plain records are checked here in Python and put
in a frame once. "Plain" means every value has the shape a valid JSON event usually has: ids as
str or int, `ts` as int or float epoch seconds/ms, `value` as int or float, text as str, kinds
known. The answer is then exactly what the full checks give. A record this path cannot vouch for
(anything invalid, an ISO-8601 `ts`, a numpy scalar...) returns None, and the full checks decide.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Container, Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tailor.ingest.fields import MAX_TS_MS, NUL, SAFE_INTEGER, SECONDS_BELOW
from tailor.settings import IngestSettings
from tailor.types import EVENT_COLUMNS, ITEMLESS_KINDS

SMALL_BATCH = 2_000  # longer record lists are checked faster by the vectorised path
FIELD_SEPARATOR = "\x1f"  # ASCII unit separator: cannot be confused with text inside a field
_KNOWN = frozenset(EVENT_COLUMNS)
_INT64 = 2**63
_TEXT = pd.Series([], dtype="str").dtype  # the text dtype the full checks give, resolved once


class _NotPlain(Exception):
    """A value the fast path does not vouch for."""


def hashed_ids(keys: Iterable[str]) -> list[str]:
    """Event ids: blake2b (128-bit, hex) of each key."""
    blake = hashlib.blake2b
    return [blake(key.encode(), digest_size=16).hexdigest() for key in keys]


def plain_events(
    records: list[Any], settings: IngestSettings, received_at: int | None
) -> tuple[pd.DataFrame, int] | None:
    """The valid events' frame and the number of repeated ids dropped, or None when any record
    is not plain and valid."""
    try:
        limits = settings.event_weights, settings.max_id_length, settings.max_text_length
        rows = [_plain_event(record, *limits) for record in records]
    except _NotPlain:
        return None
    columns = dict(zip(EVENT_COLUMNS, map(list, zip(*rows)))) if rows else _no_columns()
    if None in columns["ts"]:
        now = received_at if received_at is not None else pd.Timestamp.now("UTC").value // 1_000_000
        columns["ts"] = [now if ts is None else ts for ts in columns["ts"]]
    if None in columns["event_id"]:
        _name_events(columns)
    first = dict(zip(reversed(columns["event_id"]), range(len(rows) - 1, -1, -1)))
    if len(first) < len(rows):
        keep = sorted(first.values())
        columns = {name: [values[i] for i in keep] for name, values in columns.items()}
    return _frame(columns), len(rows) - len(first)


def _no_columns() -> dict[str, list[Any]]:
    return {name: [] for name in EVENT_COLUMNS}


def _plain_event(record: Any, kinds: Container[str], id_len: int, text_len: int) -> tuple[Any, ...]:
    if type(record) is not dict:
        raise _NotPlain
    if not _KNOWN.issuperset(record) and any(record[k] is not None for k in record.keys() - _KNOWN):
        raise _NotPlain  # an unknown field is rejected unless null
    get = record.get
    kind = get("kind")
    if type(kind) is not str or not kind or kind not in kinds:
        raise _NotPlain
    return (
        _text(get("event_id"), id_len, ints=True),
        _text(get("user_id"), id_len, ints=True, required=True),
        _text(get("item_id"), id_len, ints=True, required=kind not in ITEMLESS_KINDS),
        kind,
        _timestamp(get("ts")),
        _number(get("value")),
        _text(get("session_id"), id_len, ints=True),
        _text(get("channel"), id_len),
        _text(get("query"), text_len),
        _text(get("text"), text_len),
    )


def _text(value: Any, limit: int, *, ints: bool = False, required: bool = False) -> str | None:
    if type(value) is str:
        text = value
    elif value is None:
        text = ""
    elif ints and type(value) is int and -SAFE_INTEGER < value < SAFE_INTEGER:
        text = str(value)
    else:
        raise _NotPlain
    if (required and not text) or len(text) > limit or NUL in text:
        raise _NotPlain  # the full checks name the problem
    return text or None


def _timestamp(value: Any) -> int | None:
    """Epoch ms, rounded half to even as numpy does; None when missing."""
    if value is None or value == "":
        return None
    ms = _number(value)
    if math.isnan(ms):
        raise _NotPlain
    ms = round(ms * 1000 if abs(ms) < SECONDS_BELOW else ms)
    if not 0 <= ms < MAX_TS_MS:
        raise _NotPlain
    return ms


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    if type(value) is int and -_INT64 <= value < _INT64:
        return float(value)
    if type(value) is float and math.isfinite(value):
        return value
    raise _NotPlain


def _name_events(columns: dict[str, list[Any]]) -> None:
    """Fill missing event ids the way `validate.event_ids` does: Arrow's text of each field."""
    values = pc.cast(pa.array(columns["value"], pa.float64(), from_pandas=True), pa.string())
    texts = [
        ["" if v is None else str(v) for v in columns[name]]
        if name != "value"
        else ["" if v is None else v for v in values.to_pylist()]
        for name in EVENT_COLUMNS
        if name != "event_id"
    ]
    unnamed = [i for i, event_id in enumerate(columns["event_id"]) if event_id is None]
    keys = (FIELD_SEPARATOR.join(field[i] for field in texts) for i in unnamed)
    for i, event_id in zip(unnamed, hashed_ids(keys)):
        columns["event_id"][i] = event_id


def _frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for name, values in columns.items():
        if name == "ts":
            data[name] = np.array(values, dtype=np.int64)
        elif name == "value":
            data[name] = np.array(values, dtype=np.float64)
        else:
            data[name] = pd.array(values, dtype=_TEXT)
    return pd.DataFrame(data, copy=False)
