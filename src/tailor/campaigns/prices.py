"""Where each item's price sits within its category, and the target of a campaign.

A price's position is its log-price z-score among the priced items of its category; the
category's `spread` is the standard deviation of log price there. A coupon of value c on a price p
moves the effective price's position down by `log(p / (p - c)) / spread`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor.errors import InvalidInputError, UnknownCategoryError, UnknownItemError


def price_positions(items: pd.DataFrame) -> pd.DataFrame:
    """item_id -> category, price, z (log-price z-score in the category) and the category's spread;
    items without a positive price are left out."""
    priced = items[["item_id", "category", "price"]].copy()
    priced["price"] = pd.to_numeric(priced["price"], errors="coerce")
    priced = priced[(priced["price"] > 0) & priced["category"].notna()]
    log_price = np.log(priced["price"].astype(np.float64))
    grouped = log_price.groupby(priced["category"])
    spread = grouped.transform(lambda x: x.std(ddof=0))
    fallback = float(log_price.std(ddof=0)) if len(log_price) > 1 else 1.0
    spread = spread.where(spread > 0, fallback if fallback > 0 else 1.0)
    priced["spread"] = spread
    priced["z"] = (log_price - grouped.transform("mean")) / spread
    return priced.set_index("item_id")


@dataclass(frozen=True)
class Target:
    """What a campaign promotes: one item, or any item of a category."""

    category: str
    price: float  # the item's price, or the median price of the category
    spread: float  # std of log price in the category
    item_id: str | None = None

    def price_shift(self, coupon_value: float) -> float:
        """How far a coupon moves the effective price down, in the category's z units."""
        if not 0 < coupon_value < self.price:
            raise InvalidInputError(
                f"the coupon value must be positive and below the price ({self.price:g}), "
                f"got {coupon_value:g}",
                field="value",
            )
        return float(np.log(self.price / (self.price - coupon_value)) / self.spread)


def resolve_target(
    items: pd.DataFrame,
    positions: pd.DataFrame,
    item_id: str | None = None,
    category: str | None = None,
) -> Target:
    """The target of an item (its own price) or of a category (its median price); `positions`
    are the catalogue's `price_positions`."""
    if item_id is not None:
        if item_id not in set(items["item_id"]):
            raise UnknownItemError(item_id)
        if item_id not in positions.index:
            raise InvalidInputError(
                f"item {item_id!r} has no price or category to price a coupon against",
                field="item_id",
            )
        row = positions.loc[item_id]
        return Target(str(row["category"]), float(row["price"]), float(row["spread"]), item_id)
    if category is None or not (items["category"] == category).any():
        raise UnknownCategoryError(str(category))
    in_category = positions[positions["category"] == category]
    if in_category.empty:
        raise InvalidInputError(
            f"no item of category {category!r} has a price", field="category"
        )
    return Target(
        category, float(in_category["price"].median()), float(in_category["spread"].iloc[0])
    )
