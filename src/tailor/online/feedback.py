"""Feedback on served lists: impressions, clicks and conversions, each naming a `request_id`.

A batch is checked whole before anything is stored: every row must name a request id the service
answered (else `UnknownRequestError`, 404) and a known kind; a click or conversion names the item,
and any named item must be in that list (else `InvalidInputError`, 422). An impression without an
item means the whole list was shown. Attribution (scenario, user, A/B variant, model version) comes
from the served list alone: a row setting any field but FIELDS is refused, naming it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tailor.errors import InvalidInputError, NotFoundError
from tailor.ingest.fields import MAX_TS_MS
from tailor.online.served import ServedLog
from tailor.store.base import Feedback, ServedList

IMPRESSION, CLICK, CONVERSION = "impression", "click", "conversion"
FEEDBACK_KINDS = (IMPRESSION, CLICK, CONVERSION)
FIELDS = ("request_id", "kind", "item_id", "ts", "value")


class UnknownRequestError(NotFoundError):
    def __init__(self, request_id: str, row: int) -> None:
        super().__init__(
            f"row {row}: unknown request_id {request_id!r}: send the request_id of a response "
            "this service gave (lists are kept until their user is deleted)"
        )
        self.field = "request_id"


def record_feedback(log: ServedLog, rows: Sequence[Mapping[str, Any]]) -> int:
    """Check every row (see the module doc), then store them all; returns how many."""
    now = time.time_ns() // 1_000_000
    wanted = [_text(row, "request_id", position) for position, row in enumerate(rows)]
    served = log.find(sorted(set(wanted)))
    checked = [
        _check(row, position, served.get(request_id), now)
        for position, (row, request_id) in enumerate(zip(rows, wanted))
    ]
    return log.store.add_feedback(checked)


def _check(row: Mapping[str, Any], position: int, served: ServedList | None, now: int) -> Feedback:
    unknown = sorted(
        name for name, value in row.items() if name not in FIELDS and value is not None
    )
    if unknown:
        raise _invalid(
            position, unknown[0], f"is not a feedback field (fields: {', '.join(FIELDS)})"
        )
    request_id = _text(row, "request_id", position)
    if served is None:
        raise UnknownRequestError(request_id, position)
    kind = _text(row, "kind", position)
    if kind not in FEEDBACK_KINDS:
        known = ", ".join(FEEDBACK_KINDS)
        raise _invalid(position, "kind", f"must be one of {known}, not {kind!r}")
    item_id = row.get("item_id")
    if item_id is None and kind != IMPRESSION:
        raise _invalid(position, "item_id", f"a {kind} names the item")
    if item_id is not None and str(item_id) not in served.item_ids:
        raise _invalid(position, "item_id", f"{item_id!r} is not in the list of {request_id!r}")
    return Feedback(
        request_id=request_id,
        kind=kind,
        ts=_timestamp(row, position, now),
        item_id=None if item_id is None else str(item_id),
        value=_number(row, "value", position, float, None),
    )


def _text(row: Mapping[str, Any], name: str, position: int) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value:
        raise _invalid(position, name, "is required (a non-empty string)")
    return value


def _timestamp(row: Mapping[str, Any], position: int, now: int) -> int:
    ts = _number(row, "ts", position, int, now)
    if not 0 <= ts < MAX_TS_MS:
        raise _invalid(position, "ts", f"must be ms since the epoch, before 2200, not {ts}")
    return ts


def _number(row: Mapping[str, Any], name: str, position: int, kind: type, default: Any) -> Any:
    value = row.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(position, name, f"must be a number, not {value!r}")
    if not math.isfinite(value):
        raise _invalid(position, name, f"must be finite, not {value!r}")
    if kind is int and value != int(value):
        raise _invalid(position, name, "must be whole milliseconds since the epoch")
    return kind(value)


def _invalid(position: int, name: str, problem: str) -> InvalidInputError:
    return InvalidInputError(f"row {position}: {name} {problem}", field=name)
