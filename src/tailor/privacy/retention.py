"""Retention: delete events older than an age, and what depends on them (`Store.purge_before`)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tailor.errors import InvalidInputError
from tailor.privacy.audit import audited
from tailor.store.base import Store

PURGE_ACTION = "purge"
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
# An age as the API schema states it (ASCII only, so Python and the schema's regex agree).
AGE_PATTERN = "^[1-9][0-9]{0,5}[hdw]$"
_AGE = re.compile(AGE_PATTERN.strip("^$"))


def parse_age(text: str, field: str = "older_than") -> timedelta:
    """`365d`, `12w` or `48h` as a timedelta; InvalidInputError naming `field` otherwise."""
    match = _AGE.fullmatch(text)
    if match is None:
        raise InvalidInputError(
            f"{field} must be a positive whole number of hours, days or weeks, like 365d, 52w "
            f"or 48h; got {text!r}",
            field=field,
        )
    return int(text[:-1]) * _UNITS[text[-1]]


@dataclass(frozen=True)
class PurgeResult:
    before: str  # ISO 8601 UTC: rows older than this went
    tables: dict[str, int]  # rows deleted per table


def purge(
    store: Store, older_than: timedelta, *, actor: str, now_ms: int | None = None
) -> PurgeResult:
    """Delete events (and dependent rows) older than `older_than` before `now_ms` (default: now)."""
    now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    # Nothing stored is older than 1970 (ingestion refuses it), and datetime ends before year 1.
    cutoff = max(now_ms - int(older_than.total_seconds() * 1000), 0)
    before = datetime.fromtimestamp(cutoff / 1000, UTC).isoformat(timespec="seconds")
    with audited(store, actor, PURGE_ACTION, f"before {before}"):
        tables = store.purge_before(cutoff)
    return PurgeResult(before=before, tables=tables)
