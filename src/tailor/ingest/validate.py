"""One vectorised validator per table, used by the HTTP API and the file importers alike.

A validator takes a DataFrame or a list of JSON-like records and returns the valid rows in the
canonical columns and dtypes of `tailor.types`, plus one `Rejection` per failing (row, field).
Valid rows are kept even when others in the batch fail.

Rules worth knowing (see `tailor.ingest.fields` for each column's checks):
- Timestamps are int64 milliseconds since the epoch, UTC. Numbers below 1e11 are read as epoch
  seconds, larger ones as milliseconds. ISO-8601 strings are accepted; without an offset they are
  UTC. An event without `ts` gets the server's receive time (`received_at`, default: now).
  An item's or user's missing `created_at` stays missing (NA): "now" would be a guess.
- Ids are non-empty strings or integers (converted to str), at most `max_id_length` characters.
- A field the table does not have rejects the row, naming the field. File loaders map columns
  first and drop the others, so this only bites API clients who misspell a field.
- An event without `event_id` gets a deterministic one, a 32-hex-digit blake2b hash of all its
  canonical fields, so importing the same file twice stores nothing new. Duplicate event ids within
  a batch keep the first row; duplicate item or user ids keep the last (a later row updates).
- `value`: in a float column (pandas, Parquet, CSV) NaN means missing; a NaN sent explicitly inside
  a JSON-like record is rejected, as is infinity anywhere.

A small list of event records whose values all have the plain JSON shapes (see `tailor.ingest.plain`)
skips pandas' per-column overhead; any record it cannot vouch for sends the batch to the full checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tailor.ingest.fields import (
    category_column,
    choice_column,
    flag_column,
    id_column,
    mapping_column,
    normalise,
    number_column,
    tags_column,
    text_column,
    timestamp_column,
)
from tailor.ingest.plain import FIELD_SEPARATOR, SMALL_BATCH, hashed_ids, plain_events
from tailor.ingest.problems import Problems, Rejection
from tailor.settings import IngestSettings
from tailor.types import EVENT_COLUMNS, ITEM_COLUMNS, ITEMLESS_KINDS, USER_COLUMNS

__all__ = ["Rejection", "Validated", "validate_events", "validate_items", "validate_users"]

Records = pd.DataFrame | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Validated:
    frame: pd.DataFrame  # the valid rows: canonical columns and dtypes, index 0..n-1
    rejected: list[Rejection]  # ordered by row; a row failing several fields appears once per field
    duplicates: int = 0  # valid rows dropped because their id repeated an earlier one in the batch

    @property
    def rejected_rows(self) -> int:
        return len({r.row for r in self.rejected})


class _Input:
    """The records as a frame with positional index, and the columns' raw values."""

    def __init__(self, records: Records, columns: Sequence[str]) -> None:
        self.problems: Problems
        if isinstance(records, pd.DataFrame):
            self.frame = records.reset_index(drop=True)
            self.problems = Problems(len(self.frame))
        else:
            rows = [_as_dict(r) for r in records]
            self.frame = _frame_of_records([{} if r is None else r for r in rows])
            self.problems = Problems(len(self.frame))
            not_object = np.array([r is None for r in rows], dtype=bool)
            self.problems.settle(not_object, "record", "must be a JSON object")
        known = ", ".join(columns)
        for name in self.frame.columns:
            if name not in columns:
                present = self.frame[name].notna().to_numpy()
                self.problems.add(present, str(name), f"unknown field; known fields: {known}")

    def __call__(self, name: str) -> pd.Series:
        if name in self.frame.columns:
            return normalise(self.frame[name])
        return pd.Series(np.nan, index=self.frame.index, dtype="str")


def _as_dict(record: Any) -> dict[str, Any] | None:
    if isinstance(record, dict):  # the common case, checked first: cheaper than the Mapping ABC
        return record
    return dict(record) if isinstance(record, Mapping) else None


def _frame_of_records(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Object columns, so that None, NaN, strings and numbers keep their identity for the checks."""
    names = sorted(set().union(*rows))
    columns = {
        name: pd.Series(list(map(dict.get, rows, repeat(name))), dtype=object) for name in names
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))


def _keep_valid(out: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    return out[~problems.mask()].reset_index(drop=True)


def _drop_repeats(frame: pd.DataFrame, key: str, keep: str) -> tuple[pd.DataFrame, int]:
    repeated = frame[key].duplicated(keep=keep).to_numpy()  # type: ignore[arg-type]
    if not repeated.any():
        return frame, 0
    return frame[~repeated].reset_index(drop=True), int(repeated.sum())


def _as_strings(col: pd.Series) -> pa.Array:
    return pc.cast(pa.array(col, from_pandas=True), pa.string())


def event_ids(events: pd.DataFrame) -> pd.Series:
    """Deterministic ids: blake2b (128-bit, hex) of every canonical field but `event_id`."""
    fields = [_as_strings(events[name]) for name in EVENT_COLUMNS if name != "event_id"]
    keys = pc.binary_join_element_wise(
        *fields, FIELD_SEPARATOR, null_handling="replace", null_replacement=""
    )
    return pd.Series(hashed_ids(keys.to_pylist()), index=events.index, dtype="str")


def validate_events(
    records: Records,
    settings: IngestSettings,
    *,
    parse_strings: bool = False,
    received_at: int | None = None,
) -> Validated:
    """Check events; fill missing `ts` with `received_at` (ms, default now) and missing ids."""
    if not parse_strings and isinstance(records, list) and len(records) <= SMALL_BATCH:
        plain = plain_events(records, settings, received_at)
        if plain is not None:
            frame, duplicates = plain
            return Validated(frame, [], duplicates)
    raw = _Input(records, EVENT_COLUMNS)
    problems = raw.problems
    id_len, text_len = settings.max_id_length, settings.max_text_length
    kind = choice_column(raw("kind"), "kind", problems, settings.event_weights)
    needs_item = ~kind.isin(ITEMLESS_KINDS).to_numpy()
    itemless = ", ".join(sorted(ITEMLESS_KINDS))
    out = pd.DataFrame(
        {
            "event_id": id_column(
                raw("event_id"), "event_id", problems, max_length=id_len, required=False
            ),
            "user_id": id_column(
                raw("user_id"), "user_id", problems, max_length=id_len, required=True
            ),
            "item_id": id_column(
                raw("item_id"),
                "item_id",
                problems,
                max_length=id_len,
                required=needs_item,
                required_reason=f"missing; only these kinds have no item: {itemless}",
            ),
            "kind": kind,
            "ts": timestamp_column(raw("ts"), "ts", problems),
            "value": number_column(raw("value"), "value", problems, parse_strings=parse_strings),
            "session_id": id_column(
                raw("session_id"), "session_id", problems, max_length=id_len, required=False
            ),
            "channel": text_column(raw("channel"), "channel", problems, max_length=id_len),
            "query": text_column(raw("query"), "query", problems, max_length=text_len),
            "text": text_column(raw("text"), "text", problems, max_length=text_len),
        }
    )
    frame = _keep_valid(out, problems)
    now = (
        received_at if received_at is not None else int(pd.Timestamp.now("UTC").value // 1_000_000)
    )
    frame["ts"] = frame["ts"].fillna(now).astype("int64")
    unnamed = frame["event_id"].isna().to_numpy()
    if unnamed.all():
        frame["event_id"] = event_ids(frame)
    elif unnamed.any():
        frame.loc[unnamed, "event_id"] = event_ids(frame[unnamed])
    frame, duplicates = _drop_repeats(frame, "event_id", keep="first")
    return Validated(frame, problems.rejections(), duplicates)


def validate_items(
    records: Records, settings: IngestSettings, *, parse_strings: bool = False
) -> Validated:
    """Check catalogue rows; a repeated `item_id` keeps its last row."""
    raw = _Input(records, ITEM_COLUMNS)
    problems = raw.problems
    id_len, text_len = settings.max_id_length, settings.max_text_length
    out = pd.DataFrame(
        {
            "item_id": id_column(
                raw("item_id"), "item_id", problems, max_length=id_len, required=True
            ),
            "title": text_column(raw("title"), "title", problems, max_length=text_len),
            "description": text_column(
                raw("description"), "description", problems, max_length=text_len
            ),
            "category": category_column(raw("category"), "category", problems, max_length=text_len),
            "brand": text_column(raw("brand"), "brand", problems, max_length=text_len),
            "price": number_column(
                raw("price"), "price", problems, parse_strings=parse_strings, minimum=0.0
            ),
            "stock": number_column(
                raw("stock"),
                "stock",
                problems,
                parse_strings=parse_strings,
                minimum=0.0,
                integer=True,
            ),
            "tags": tags_column(raw("tags"), "tags", problems, parse_strings=parse_strings),
            "attributes": mapping_column(
                raw("attributes"), "attributes", problems, parse_strings=parse_strings
            ),
            "created_at": timestamp_column(raw("created_at"), "created_at", problems),
            "hidden": flag_column(raw("hidden"), "hidden", problems, parse_strings=parse_strings),
        }
    )
    frame, duplicates = _drop_repeats(_keep_valid(out, problems), "item_id", keep="last")
    return Validated(frame, problems.rejections(), duplicates)


def validate_users(
    records: Records, settings: IngestSettings, *, parse_strings: bool = False
) -> Validated:
    """Check user rows; a repeated `user_id` keeps its last row."""
    raw = _Input(records, USER_COLUMNS)
    problems = raw.problems
    out = pd.DataFrame(
        {
            "user_id": id_column(
                raw("user_id"),
                "user_id",
                problems,
                max_length=settings.max_id_length,
                required=True,
            ),
            "attributes": mapping_column(
                raw("attributes"), "attributes", problems, parse_strings=parse_strings
            ),
            "created_at": timestamp_column(raw("created_at"), "created_at", problems),
        }
    )
    frame, duplicates = _drop_repeats(_keep_valid(out, problems), "user_id", keep="last")
    return Validated(frame, problems.rejections(), duplicates)
