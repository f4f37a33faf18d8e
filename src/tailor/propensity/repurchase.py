"""Repurchase timing of consumables, from inter-purchase intervals.

A category is consumable when at least `min_users` users bought in it on two or more different
days; its interval is the median of those users' median gaps (days). A user who bought in the
category twice or more has their own median gap; otherwise the category's is used. The expected
days to the next purchase is that interval minus the days since the last purchase, floored at 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

DAY_MS = 86_400_000


def _gaps(purchases: pd.DataFrame) -> pd.Series:
    """Median gap in days between distinct purchase days, per (user_id, category) with 2+ days."""
    days = purchases.assign(day=purchases["ts"] // DAY_MS).drop_duplicates(
        ["user_id", "category", "day"]
    )
    days = days.sort_values(["user_id", "category", "day"])
    gap = days.groupby(["user_id", "category"])["day"].diff().dropna()
    keys = days.loc[gap.index, ["user_id", "category"]]
    return gap.groupby([keys["user_id"], keys["category"]]).median()


def category_intervals(events: pd.DataFrame, min_users: int = 5) -> dict[str, float]:
    """category -> median repurchase interval (days), consumable categories only.

    `events` needs user_id, kind, ts and category (see `features.prepare_events`)."""
    purchases = events[(events["kind"] == "purchase") & events["category"].notna()]
    gaps = _gaps(purchases)
    if gaps.empty:
        return {}
    by_category = gaps.groupby(level="category").agg(["median", "size"])
    kept = by_category[by_category["size"] >= min_users]
    return {str(c): float(m) for c, m in kept["median"].items()}


@dataclass(frozen=True)
class RepurchaseTiming:
    category: str
    interval_days: float
    source: str  # "user" (their own gaps) or "category"
    days_since_last_purchase: float
    expected_days_to_next: float


def timing(
    user_events: pd.DataFrame, category: str, intervals: dict[str, float], now: int
) -> RepurchaseTiming | None:
    """When this user will likely buy in `category` again; None if they never bought in it or it
    is not a consumable with a known interval and they have no gaps of their own."""
    bought = user_events[
        (user_events["kind"] == "purchase") & (user_events["category"] == category)
    ]
    if bought.empty:
        return None
    own = _gaps(bought)
    if len(own):
        interval, source = float(own.iloc[0]), "user"
    elif category in intervals:
        interval, source = intervals[category], "category"
    else:
        return None
    since = (now - int(bought["ts"].max())) / DAY_MS
    return RepurchaseTiming(
        category=category,
        interval_days=round(interval, 2),
        source=source,
        days_since_last_purchase=round(since, 2),
        expected_days_to_next=round(max(0.0, interval - since), 2),
    )


__all__ = ["RepurchaseTiming", "category_intervals", "timing"]
