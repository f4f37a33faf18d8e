"""The Data health page's record of writes (see `tailor.ingest.write_log`): rows accepted, rejected
and dropped as duplicates per source and day, and the latest rejected rows with field and reason.

Only writes that rejected rows or dropped duplicates are logged, so `accepted` counts the rows
those writes stored, not every row ever written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tailor.console.stats import DAY_MS, DailyCounts
from tailor.store.base import Store

COUNTS = ("accepted", "rejected", "duplicates")
CHARTED = ("rejected", "duplicates")  # accepted volumes would flatten them
DAYS = 30
LATEST_REJECTIONS = 50


@dataclass(frozen=True)
class WriteHealth:
    per_day: list[dict[str, Any]]  # day (ms), source, accepted, rejected, duplicates; newest first
    daily: DailyCounts  # CHARTED per day, series "source:count"
    latest: list[dict[str, Any]]  # ts, source, origin, row, field, message; newest first


def rejected_rows(store: Store, source: str, now_ms: int | None = None) -> int:
    """Rows of `source` rejected in the last DAYS days."""
    log = store.write_log(since=_since(now_ms))
    return int(log.loc[log["source"] == source, "rejected"].sum())


def write_health(store: Store, now_ms: int | None = None) -> WriteHealth:
    log = store.write_log(since=_since(now_ms))
    latest = store.recent_rejections(LATEST_REJECTIONS).astype(object)
    latest = latest.where(latest.notna(), None).to_dict("records")
    if log.empty:
        return WriteHealth([], DailyCounts([], {}), latest)
    log["day"] = log["ts"] // DAY_MS * DAY_MS
    totals = log.groupby(["day", "source"], as_index=False)[list(COUNTS)].sum()
    per_day = totals.sort_values(["day", "source"], ascending=[False, True])
    days = list(range(int(totals["day"].min()), int(totals["day"].max()) + DAY_MS, DAY_MS))
    series = {}
    for source, rows in totals.groupby("source"):
        by_day = rows.set_index("day")
        for count in CHARTED:
            values = [int(by_day[count].get(d, 0)) for d in days]
            if any(values):
                series[f"{source}:{count}"] = values
    return WriteHealth(
        [
            {k: (v if k == "source" else int(v)) for k, v in row.items()}
            for row in per_day.to_dict("records")
        ],
        DailyCounts(days, series),
        latest,
    )


def _since(now_ms: int | None) -> int:
    return (int(time.time() * 1000) if now_ms is None else now_ms) - DAYS * DAY_MS
