"""Forecasts answered from the store: per item, per category, and restock alerts.

The forecaster is fitted on the store's daily sales the first time a forecast is asked for, and
its forecasts of the next `MAX_DAYS` days are kept; they are refitted when the number of events or
items has changed, at most once per `refit_seconds`. The last day with a purchase ends the history.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from tailor.errors import InvalidInputError, NotFittedError, UnknownCategoryError, UnknownItemError
from tailor.forecast.model import Forecast, Forecaster, ForecastParams
from tailor.forecast.restock import restock_alerts
from tailor.forecast.series import grid_of, purchases, sales_series
from tailor.store.base import Store

MAX_DAYS = 90
NO_HISTORY = "no_history"  # an item added, or first sold, after the forecast was fitted


@dataclass(frozen=True)
class _Fitted:
    fingerprint: tuple[int, int]
    fitted_at: float  # time.monotonic()
    items: Forecast
    categories: Forecast


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"days must be between 1 and {MAX_DAYS}, got {days}", field="days")
    return days


def _steps(forecast: Forecast, k: int | None, days: int) -> list[dict[str, Any]]:
    """Series k's steps; without a series (no sales before the fit), zero sales."""
    return [
        {
            "date": datetime.fromtimestamp(int(t) / 1000, UTC).date().isoformat(),
            "start": int(t),
            "point": 0.0 if k is None else round(float(forecast.point[k, d]), 3),
            "low": 0.0 if k is None else float(forecast.low[k, d]),
            "high": 0.0 if k is None else float(forecast.high[k, d]),
        }
        for d, t in enumerate(forecast.times[:days])
    ]


def _answer(forecast: Forecast, key: str, days: int) -> dict[str, Any]:
    k = forecast.keys.index(key) if key in forecast.keys else None
    steps = _steps(forecast, k, days)
    return {
        "method": NO_HISTORY if k is None else forecast.methods[k],
        "days": days,
        "level": forecast.level,
        "total": round(sum(s["point"] for s in steps), 3),
        "steps": steps,
    }


class ForecastService:
    def __init__(
        self, store: Store, params: ForecastParams | None = None, refit_seconds: float = 600.0
    ) -> None:
        self.store = store
        self.params = params or ForecastParams()
        self.refit_seconds = refit_seconds
        self._fitted: _Fitted | None = None
        self._lock = threading.Lock()

    def item(self, item_id: str, days: int) -> dict[str, Any]:
        check_days(days)
        items = self.store.items([item_id])
        if items.empty:
            raise UnknownItemError(item_id)
        stock = items["stock"].iloc[0]
        return {
            "item_id": item_id,
            "stock": None if pd.isna(stock) else int(stock),
            **_answer(self._current().items, item_id, days),
        }

    def category(self, category: str, days: int) -> dict[str, Any]:
        check_days(days)
        forecast = self._current().categories
        if category not in forecast.keys:
            raise UnknownCategoryError(category)
        return {"category": category, **_answer(forecast, category, days)}

    def restock(self, days: int) -> dict[str, Any]:
        check_days(days)
        forecast = self._current().items
        return {"days": days, "items": restock_alerts(forecast, self.store.items(), days)}

    def _current(self) -> _Fitted:
        with self._lock:
            counts = self.store.counts()
            fingerprint = (counts["events"], counts["items"])
            fitted = self._fitted
            stale = fitted is None or (
                fitted.fingerprint != fingerprint
                and time.monotonic() - fitted.fitted_at > self.refit_seconds
            )
            if stale:
                self._fitted = fitted = self._fit(fingerprint)
            assert fitted is not None
            return fitted

    def _fit(self, fingerprint: tuple[int, int]) -> _Fitted:
        sold, items = purchases(self.store.events()), self.store.items()
        if sold.empty:
            raise NotFittedError("there are no purchases to forecast from yet")
        grid, n_steps = grid_of(sold)
        forecasts = {}
        for level in ("item", "category"):
            series = sales_series(sold, items, level, grid, n_steps)
            forecasts[level] = Forecaster(self.params).fit(series).predict(series, MAX_DAYS)
        return _Fitted(fingerprint, time.monotonic(), forecasts["item"], forecasts["category"])
