"""Hand-made event frames for the store tests."""

from __future__ import annotations

from typing import Any

import pandas as pd


def event_rows(*rows: dict[str, Any]) -> pd.DataFrame:
    """An events frame from partial rows: `kind` defaults to "view", `ts` to the row number."""
    full = [{"kind": "view", "ts": i, **row} for i, row in enumerate(rows)]
    return pd.DataFrame(full)


def numbered_events(n: int, users: int = 7, prefix: str = "e") -> pd.DataFrame:
    """`n` events spread over `users` users, with ids `{prefix}0..` and a few tied timestamps."""
    return pd.DataFrame(
        {
            "event_id": [f"{prefix}{i}" for i in range(n)],
            "user_id": [f"u{i % users}" for i in range(n)],
            "item_id": [f"i{i % 13}" for i in range(n)],
            "kind": "view",
            "ts": [1_700_000_000_000 + (i // 3) * 1000 for i in range(n)],
            "value": [float(i % 5) for i in range(n)],
        }
    )
