"""Jinja filters: how numbers and times read on a console page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def when(ms: Any) -> str:
    """Milliseconds since the epoch as a UTC date and time; an empty string when missing."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(int(ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def count(value: Any) -> str:
    return f"{int(value):,}" if value is not None else ""


def fixed(value: Any, digits: int = 3) -> str:
    return f"{float(value):.{digits}f}" if value is not None else ""


def size(n_bytes: Any) -> str:
    value = float(n_bytes)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


FILTERS = {"when": when, "count": count, "fixed": fixed, "size": size}
