"""Validated writes: valid rows are stored, rejected rows are reported with the field and reason.

A write that rejected rows or dropped duplicates is also logged in the store, after its rows (see
`tailor.ingest.write_log`), with origin "api".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tailor.ingest.validate import Validated, validate_events, validate_items, validate_users
from tailor.ingest.write_log import log_write
from tailor.settings import IngestSettings
from tailor.store.base import Store

Records = pd.DataFrame | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class RejectedRow:
    row: int
    field: str | None
    reason: str


@dataclass(frozen=True)
class IngestResult:
    """Events: `accepted` new ones stored; `duplicates` repeated an event_id (stored or earlier in
    the batch) and were not stored again; `rejected` were invalid."""

    accepted: int
    duplicates: int
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass(frozen=True)
class WriteResult:
    """Items or users: `written` rows stored (inserted or replaced), `rejected` invalid."""

    written: int
    rejected: list[RejectedRow] = field(default_factory=list)


def ingest_events(store: Store, records: Records, settings: IngestSettings) -> IngestResult:
    checked = validate_events(records, settings)
    new = store.add_events(checked.frame) if len(checked.frame) else 0
    duplicates = checked.duplicates + len(checked.frame) - new
    _log(store, "events", checked, accepted=new, duplicates=duplicates)
    return IngestResult(accepted=new, duplicates=duplicates, rejected=_rejected(checked.rejected))


def put_items(
    store: Store, records: Records, settings: IngestSettings
) -> tuple[WriteResult, pd.DataFrame]:
    """Upsert items; also returns the stored frame so live caches can follow the change."""
    checked = validate_items(records, settings)
    written = store.upsert_items(checked.frame) if len(checked.frame) else 0
    _log(store, "items", checked, accepted=written, duplicates=checked.duplicates)
    return WriteResult(written=written, rejected=_rejected(checked.rejected)), checked.frame


def put_users(store: Store, records: Records, settings: IngestSettings) -> WriteResult:
    checked = validate_users(records, settings)
    written = store.upsert_users(checked.frame) if len(checked.frame) else 0
    _log(store, "users", checked, accepted=written, duplicates=checked.duplicates)
    return WriteResult(written=written, rejected=_rejected(checked.rejected))


def _rejected(rejections: Sequence[Any]) -> list[RejectedRow]:
    return [RejectedRow(row=int(r.row), field=r.field, reason=r.reason) for r in rejections]


def _log(store: Store, source: str, checked: Validated, *, accepted: int, duplicates: int) -> None:
    log_write(
        store,
        source,
        "api",
        accepted=accepted,
        duplicates=duplicates,
        rejected=checked.rejected_rows,
        rejections=checked.rejected,
        first_row=1,
    )
