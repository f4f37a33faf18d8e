"""Keep a bounded record of what writes rejected or dropped, for the console's Data health page.

The record is written after the data and is best effort: a failure to log is itself logged and
swallowed, so it never costs the caller the rows already stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from tailor.errors import StoreError
from tailor.store.base import LoggedRejection, Store, WriteRecord

MAX_REJECTIONS_LOGGED = 100  # per write: a bad file cannot flood the store
MAX_MESSAGE_CHARS = 300

logger = logging.getLogger(__name__)


def log_write(
    store: Store,
    source: str,
    origin: str,
    *,
    accepted: int,
    duplicates: int,
    rejected: int,
    rejections: Sequence[Any],
    first_row: int = 0,
) -> None:
    """Record a write that rejected rows or dropped duplicates (others are not logged).

    `rejections` have `row` (logged as `first_row + row`: record numbers from 1), `field` and
    `reason`; the first MAX_REJECTIONS_LOGGED are kept, their reasons cut to MAX_MESSAGE_CHARS.
    """
    if not rejected and not duplicates:
        return
    record = WriteRecord(
        ts=int(time.time() * 1000),
        source=source,
        origin=origin,
        accepted=accepted,
        rejected=rejected,
        duplicates=duplicates,
        rejections=[
            LoggedRejection(first_row + int(r.row), r.field, str(r.reason)[:MAX_MESSAGE_CHARS])
            for r in rejections[:MAX_REJECTIONS_LOGGED]
        ],
    )
    try:
        store.add_write_record(record)
    except StoreError:
        logger.exception(
            "could not log a write of %s from %s; the rows were stored", source, origin
        )
