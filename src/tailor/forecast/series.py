"""Unit sales on a regular time grid, per item or per category, from purchase events.

A purchase counts its `value` (the quantity) or 1 when it has none. Category series exist for
every level of the category path ("美妆 Beauty", "美妆 Beauty/护肤 Skin care", ...), so a top
category's sales are the sum of its leaves. The grid ends with the step holding the latest
purchase; that step counts as complete.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from tailor.errors import InvalidInputError
from tailor.types import CATEGORY_SEPARATOR

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
Level = Literal["item", "category"]


@dataclass(frozen=True)
class Grid:
    """Steps of `step_ms` from `start`; a season is `season` steps (7 days, or 24 hours)."""

    start: int  # ms
    step_ms: int
    season: int

    @classmethod
    def daily(cls, start: int) -> Grid:
        return cls(start=start - start % DAY_MS, step_ms=DAY_MS, season=7)

    @classmethod
    def hourly(cls, start: int) -> Grid:
        return cls(start=start - start % HOUR_MS, step_ms=HOUR_MS, season=24)

    def phase(self, steps: np.ndarray) -> np.ndarray:
        """Position of each step in its season: the weekday (Monday = 0) or the hour of day."""
        first = (self.start // self.step_ms) + (3 if self.season == 7 else 0)  # 1970-01-01: Thu
        return (first + steps) % self.season

    def times(self, first_step: int, n: int) -> np.ndarray:
        return self.start + (first_step + np.arange(n)) * self.step_ms


@dataclass(frozen=True)
class SalesSeries:
    keys: list[str]  # item ids or category paths, one per row of `values`
    grid: Grid
    values: np.ndarray  # (n_series, n_steps) units sold per step

    @property
    def n_steps(self) -> int:
        return self.values.shape[1]

    def head(self, n_steps: int) -> SalesSeries:
        """The first `n_steps` steps: the history as seen at that origin."""
        return SalesSeries(self.keys, self.grid, self.values[:, :n_steps])

    def fingerprint(self) -> str:
        """A short hash of the keys, the grid and the values."""
        digest = hashlib.sha256("\n".join(self.keys).encode())
        digest.update(repr(self.grid).encode())
        digest.update(np.ascontiguousarray(self.values).tobytes())
        return digest.hexdigest()[:16]


def purchases(events: pd.DataFrame) -> pd.DataFrame:
    """Purchase events with an item: `item_id`, `ts` and `units`."""
    bought = events[(events["kind"] == "purchase") & events["item_id"].notna()]
    units = pd.to_numeric(bought["value"], errors="coerce") if "value" in bought else None
    return pd.DataFrame(
        {
            "item_id": bought["item_id"].astype("str"),
            "ts": bought["ts"].astype(np.int64),
            "units": 1.0 if units is None else units.where(units > 0, 1.0).fillna(1.0),
        }
    )


def category_prefixes(category: str) -> list[str]:
    parts = category.split(CATEGORY_SEPARATOR)
    return [CATEGORY_SEPARATOR.join(parts[: k + 1]) for k in range(len(parts))]


def sales_series(
    sold: pd.DataFrame, items: pd.DataFrame, level: Level, grid: Grid, n_steps: int
) -> SalesSeries:
    """Units per step for every item (of `items`) or every category prefix, zeros included."""
    step = (sold["ts"].to_numpy() - grid.start) // grid.step_ms
    inside = (step >= 0) & (step < n_steps)
    sold = sold[inside].assign(step=step[inside])
    if level == "item":
        keys = items["item_id"].astype("str").tolist()
        frame = sold
        key_column = "item_id"
    else:
        paths = items[["item_id", "category"]].dropna()
        prefixes = paths.assign(category=paths["category"].map(category_prefixes)).explode(
            "category"
        )
        keys = sorted(prefixes["category"].unique().tolist())
        frame = sold.merge(prefixes, on="item_id")
        key_column = "category"
    row = pd.Index(keys).get_indexer(frame[key_column])
    known = row >= 0
    values = np.zeros((len(keys), n_steps))
    steps, units = frame["step"].to_numpy()[known], frame["units"].to_numpy()[known]
    np.add.at(values, (row[known], steps), units)
    return SalesSeries(keys, grid, values)


def grid_of(sold: pd.DataFrame, *, hourly: bool = False) -> tuple[Grid, int]:
    """The grid from the first purchase's step, and its number of steps to the last purchase's."""
    first, last = int(sold["ts"].min()), int(sold["ts"].max())
    grid = Grid.hourly(first) if hourly else Grid.daily(first)
    return grid, (last - grid.start) // grid.step_ms + 1


def series_of(
    events: pd.DataFrame, items: pd.DataFrame, level: Level, *, hourly: bool = False
) -> SalesSeries:
    """The series of all purchases in `events`, daily (or hourly)."""
    sold = purchases(events)
    if sold.empty:
        raise InvalidInputError("there are no purchases to forecast from", field="events")
    return sales_series(sold, items, level, *grid_of(sold, hourly=hourly))
