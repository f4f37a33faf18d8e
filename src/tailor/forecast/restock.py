"""Restock alerts: items whose stock the forecast demand uses up within the horizon."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tailor.forecast.model import Forecast


def steps_until_empty(demand: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """Per row, the first step (0-based) by whose end cumulative `demand` reaches `stock`; -1 if
    it never does within the horizon. An item with no stock is empty from step 0."""
    reached = np.cumsum(demand, axis=1) >= stock[:, None]
    first = reached.argmax(axis=1)
    return np.where(reached.any(axis=1), first, -1)


def restock_alerts(forecast: Forecast, items: pd.DataFrame, steps: int) -> list[dict[str, Any]]:
    """Visible items with a stock that the point forecast of the first `steps` steps runs out,
    soonest first; `runs_out_high` is the step at which the interval's upper bound does."""
    listed = items[items["stock"].notna() & ~items["hidden"].fillna(False).astype(bool)]
    rows = pd.Index(forecast.keys).get_indexer(listed["item_id"])
    listed, rows = listed[rows >= 0], rows[rows >= 0]
    stock = listed["stock"].to_numpy(dtype=float)
    point, high = forecast.point[rows, :steps], forecast.high[rows, :steps]
    empty = steps_until_empty(point, stock)
    empty_high = steps_until_empty(high, stock)
    alerts = [
        {
            "item_id": item_id,
            "category": category if isinstance(category, str) else None,
            "stock": int(units),
            "expected_demand": round(float(point[k].sum()), 2),
            "runs_out_step": int(empty[k]),
            "runs_out_at": int(forecast.times[empty[k]]),
            "runs_out_high": int(empty_high[k]),
            "method": forecast.methods[rows[k]],
        }
        for k, (item_id, category, units) in enumerate(
            zip(listed["item_id"], listed["category"], stock)
        )
        if empty[k] >= 0 and point[k].sum() > 0
    ]
    return sorted(alerts, key=lambda a: (a["runs_out_step"], -a["expected_demand"], a["item_id"]))
