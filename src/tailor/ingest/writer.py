"""Validate a batch and write it to the store, accumulating an `ImportReport`.

Files, public data sets and the synthetic shop all reach the store through `write_batch`, so they
obey exactly the rules the HTTP API obeys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from tailor.ingest.validate import (
    Records,
    Rejection,
    Validated,
    validate_events,
    validate_items,
    validate_users,
)
from tailor.ingest.write_log import log_write
from tailor.settings import IngestSettings
from tailor.store.base import Store

Table = Literal["events", "items", "users"]
MAX_REJECTIONS_KEPT = 100


@dataclass
class ImportReport:
    """What an import did. `rows_read = rows_written + rows_rejected + duplicates`.

    `duplicates` counts valid rows not written because their id repeated an earlier row of the same
    input or, for events, an event already in the store (re-importing a file gives all duplicates).
    `rejections` keeps the first MAX_REJECTIONS_KEPT; their `row` is the 1-based record number in the
    source: for CSV the header is not counted (record 1 is on line 2), for JSONL blank
    lines are not counted (without blank lines record n is line n).
    """

    table: str  # "events", "items", "users", or e.g. "items+events" for a combined report
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    duplicates: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0  # wall time; an import_file or import_dataset report includes reading
    parts: list[ImportReport] = field(default_factory=list)  # per table, in a combined report

    @classmethod
    def combine(cls, parts: list[ImportReport]) -> ImportReport:
        """Totals over several tables' reports, which stay available as `parts`."""
        return cls(
            table="+".join(p.table for p in parts),
            rows_read=sum(p.rows_read for p in parts),
            rows_written=sum(p.rows_written for p in parts),
            rows_rejected=sum(p.rows_rejected for p in parts),
            duplicates=sum(p.duplicates for p in parts),
            rejections=[r for p in parts for r in p.rejections][:MAX_REJECTIONS_KEPT],
            seconds=sum(p.seconds for p in parts),
            parts=parts,
        )

    def summary(self) -> str:
        head = (
            f"{self.table}: read {self.rows_read:,}, wrote {self.rows_written:,}, "
            f"rejected {self.rows_rejected:,}, duplicates {self.duplicates:,} in {self.seconds:.1f} s"
        )
        lines = [head]
        lines.extend("  " + part.summary() for part in self.parts)
        return "\n".join(lines)


def validate(
    table: Table, records: Records, settings: IngestSettings, *, parse_strings: bool = False
) -> Validated:
    """Run the validator of `table`."""
    if table == "events":
        return validate_events(records, settings, parse_strings=parse_strings)
    if table == "items":
        return validate_items(records, settings, parse_strings=parse_strings)
    if table == "users":
        return validate_users(records, settings, parse_strings=parse_strings)
    raise ValueError(f"unknown table {table!r}; expected events, items or users")


def _write(store: Store, table: Table, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    if table == "events":
        return store.add_events(frame)
    if table == "items":
        return store.upsert_items(frame)
    return store.upsert_users(frame)


def write_batch(
    store: Store,
    table: Table,
    records: Records,
    settings: IngestSettings,
    report: ImportReport,
    *,
    first_row: int = 1,
    parse_strings: bool = False,
) -> None:
    """Validate `records`, write the valid rows, and add the outcome to `report`.

    `first_row` is the source's record number of the first record, used to number rejections.
    """
    started = time.perf_counter()
    validated = validate(table, records, settings, parse_strings=parse_strings)
    written = _write(store, table, validated.frame)
    report.rows_read += len(records)
    report.rows_rejected += validated.rejected_rows
    report.rows_written += written
    already_stored = len(validated.frame) - written if table == "events" else 0
    report.duplicates += validated.duplicates + already_stored
    room = MAX_REJECTIONS_KEPT - len(report.rejections)
    report.rejections.extend(
        Rejection(first_row + r.row, r.field, r.reason) for r in validated.rejected[:room]
    )
    report.seconds += time.perf_counter() - started


def write_frames(
    store: Store,
    frames: dict[Table, pd.DataFrame],
    settings: IngestSettings,
    *,
    origin: str,
    chunk_rows: int = 1_000_000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Write whole frames in chunks (items and users before events); totals plus one part per table.
    Each table's rejected rows and dropped duplicates go to the write log under `origin`."""
    reports: list[ImportReport] = []
    done = 0
    for table in ("items", "users", "events"):
        if table not in frames:
            continue
        frame, report = frames[table], ImportReport(table)
        for start in range(0, len(frame), chunk_rows):
            chunk = frame.iloc[start : start + chunk_rows]
            write_batch(store, table, chunk, settings, report, first_row=start + 1)
            done += len(chunk)
            if progress is not None:
                progress(done)
        log_write(
            store,
            table,
            origin,
            accepted=report.rows_written,
            duplicates=report.duplicates,
            rejected=report.rows_rejected,
            rejections=report.rejections,
        )
        reports.append(report)
    return ImportReport.combine(reports)
