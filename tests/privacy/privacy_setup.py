"""The small shop of the privacy tests, with one distinctively named user."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tailor.settings import Settings, load_settings

# Chinese, quotes and a backslash: the id must be found in every form it is written in.
ERASED_USER = '顾客-被遗忘的"人"\\42'
KEY = "k" * 40  # a privacy key of the least accepted length and then some
DAY_MS = 86_400_000


def shop_settings(folder: Path, store_url: str, **overrides: Any) -> Settings:
    """Quick training (no ranker, no risk exclusion), no keys needed, served lists kept pending;
    `overrides` are sections that replace these."""
    sections: dict[str, Any] = {
        "train": {"models": ["popular", "itemknn"], "ranker": {"enabled": False}},
        "service": {"auth": False},
        "online": {"served_flush_seconds": 3600},  # served lists stay pending until flushed
        "risk": {"exclude_flagged": False, "n_estimators": 10},  # scored once, in a test
    }
    return load_settings(
        store_url=store_url, artifacts_dir=folder / "artifacts", **{**sections, **overrides}
    )


def user_events(user_id: str, items: list[str], start_ms: int) -> pd.DataFrame:
    """A view, cart and purchase of each item, a search and a push sent, one minute apart."""
    rows = []
    for item in items:
        for kind in ("view", "cart", "purchase"):
            rows.append({"user_id": user_id, "item_id": item, "kind": kind})
    rows.append({"user_id": user_id, "kind": "search", "query": "面霜"})
    rows.append({"user_id": user_id, "item_id": items[0], "kind": "push_sent"})
    for n, row in enumerate(rows):
        row.update(event_id=f"{user_id}/{n}", ts=start_ms + n * 60_000)
    return pd.DataFrame(rows)
