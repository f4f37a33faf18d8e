"""The synthetic shop's calendar: a weekly rhythm of session volume and planned promotions.

`WEEKDAY_VOLUME[d]` (Monday = 0, mean 1) scales how many sessions fall on a day of week: the
weekend is busier than midweek. A `PromotionPlan` gives some leaf categories discounted windows
of one to three days; while a window runs, a view of an item of that leaf goes to the cart
`conversion_lift = (1 - discount) ** -PROMOTION_ELASTICITY` times as often. Promotions are drawn
from their own random stream, so planting them leaves the rest of the shop's draws unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DAY_MS = 86_400_000
WEEKDAY_VOLUME = np.array([0.8, 0.75, 0.8, 0.9, 1.05, 1.4, 1.3])  # sums to 7: mean 1
PROMOTION_ELASTICITY = 3.0
PROMOTIONS_PER_LEAF_PER_28_DAYS = 1.0
PROMOTION_STREAM = 7_919  # mixed into the seed for the promotions' own generator


def weekday_of(start_ms: int, days: int) -> np.ndarray:
    """Day of week (Monday = 0) of each day of the window."""
    first = pd.Timestamp(start_ms, unit="ms", tz="UTC").day_of_week
    return (first + np.arange(days)) % 7


def draw_session_days(
    uniform: np.ndarray, first_day: np.ndarray, start_ms: int, days: int
) -> np.ndarray:
    """Days in `[first_day, days)` drawn by inverse CDF from `uniform`, weighted by the weekday."""
    cum = np.concatenate([[0.0], np.cumsum(WEEKDAY_VOLUME[weekday_of(start_ms, days)])])
    target = cum[first_day] + uniform * (cum[days] - cum[first_day])
    day = np.searchsorted(cum, target, side="right") - 1
    return np.clip(day, first_day, days - 1)


@dataclass(frozen=True)
class PromotionPlan:
    """Discount windows per leaf category; days count from the start of the window."""

    leaf: np.ndarray  # leaf category index of each promotion
    first_day: np.ndarray
    n_days: np.ndarray
    discount: np.ndarray  # share of the price taken off

    @classmethod
    def draw(cls, seed: int, n_leaves: int, days: int) -> PromotionPlan:
        rng = np.random.default_rng([seed, PROMOTION_STREAM])
        n = max(1, round(n_leaves * days * PROMOTIONS_PER_LEAF_PER_28_DAYS / 28))
        n_days = rng.integers(1, 4, n)
        return cls(
            leaf=rng.integers(0, n_leaves, n),
            first_day=(rng.random(n) * np.maximum(days - n_days + 1, 1)).astype(np.int64),
            n_days=n_days,
            discount=np.round(rng.uniform(0.1, 0.3, n), 2),
        )

    @classmethod
    def empty(cls) -> PromotionPlan:
        none = np.zeros(0, dtype=np.int64)
        return cls(leaf=none, first_day=none, n_days=none, discount=np.zeros(0))

    @property
    def conversion_lift(self) -> np.ndarray:
        return (1.0 - self.discount) ** -PROMOTION_ELASTICITY

    def lift_by_leaf_and_day(self, n_leaves: int, days: int) -> np.ndarray:
        """(n_leaves, days) multiplier of the cart rate; overlapping windows keep the larger."""
        lift = np.ones((n_leaves, days))
        offsets = np.arange(3)
        day = self.first_day[:, None] + offsets
        inside = (offsets < self.n_days[:, None]) & (day < days)
        rows = np.broadcast_to(self.leaf[:, None], day.shape)[inside]
        gain = np.broadcast_to(self.conversion_lift[:, None], day.shape)[inside]
        np.maximum.at(lift, (rows, day[inside]), gain)
        return lift

    def frame(self, leaf_paths: list[str], start_ms: int) -> pd.DataFrame:
        """One row per promotion: category path, start and end (ms, end exclusive), discount and
        lift."""
        order = np.lexsort((self.leaf, self.first_day))
        start = start_ms + self.first_day[order] * DAY_MS
        return pd.DataFrame(
            {
                "category": pd.Series(np.asarray(leaf_paths)[self.leaf[order]], dtype="str"),
                "start": start.astype(np.int64),
                "end": (start + self.n_days[order] * DAY_MS).astype(np.int64),
                "discount": self.discount[order],
                "conversion_lift": self.conversion_lift[order],
            }
        )
