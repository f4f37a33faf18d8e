"""Where each item's price sits within its category, and the target of a campaign.

A price's position is its log-price z-score among the priced items of its category; the
category's `spread` is the standard deviation of log price there. A coupon of value c on a price p
moves the effective price's position down by `log(p / (p - c)) / spread`. A coupon of a fixed
value is a deeper cut on a cheap item than on a dear one, so a category's coupon moves each of
its items by its own shift. It covers only items priced at least `MIN_SPEND_RATIO` times its
value, the minimum spend a shop sets on such a coupon (满减); that also keeps every shift within
about the range of prices the sensitivities were measured on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor.errors import InvalidInputError, UnknownCategoryError, UnknownItemError

MIN_SPEND_RATIO = 2.0


def coupon_shifts(
    prices: np.ndarray, coupon_value: float, spread: np.ndarray | float
) -> np.ndarray:
    """How far a coupon moves each price's position down, in z units of `spread`; 0 for a price
    below the minimum spend."""
    covered = prices >= MIN_SPEND_RATIO * coupon_value
    shift = np.zeros_like(prices, dtype=np.float64)
    shift[covered] = np.log(prices[covered] / (prices[covered] - coupon_value))
    return shift / spread


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
    items: pd.DataFrame  # the promoted items: price, z, spread and weight (their share of views)
    item_id: str | None = None

    def price_shift(self, coupon_value: float) -> float:
        """How far a coupon moves the reference price down, in the category's z units."""
        if not 0 < coupon_value <= self.price / MIN_SPEND_RATIO:
            raise InvalidInputError(
                f"the coupon value must be positive and at most 1/{MIN_SPEND_RATIO:g} of the "
                f"price ({self.price:g}), got {coupon_value:g}",
                field="value",
            )
        return float(np.log(self.price / (self.price - coupon_value)) / self.spread)

    def rate_multiplier(self, sensitivities: np.ndarray, coupon_value: float) -> np.ndarray:
        """By how much a coupon scales the purchase rate of the target, for a user of each
        price sensitivity s: an item's rate scales by exp(s * its shift), and a user's purchases
        spread over the target's items by their weight times exp(-s * z), so a price-sensitive
        user's purchases lean to the cheap items, where the coupon cuts deepest."""
        shift = coupon_shifts(
            self.items["price"].to_numpy(np.float64),
            coupon_value,
            self.items["spread"].to_numpy(np.float64),
        )
        mix = self.items["weight"].to_numpy(np.float64) * np.exp(
            -np.outer(sensitivities, self.items["z"].to_numpy(np.float64))
        )
        return (mix * np.exp(np.outer(sensitivities, shift))).sum(axis=1) / mix.sum(axis=1)


def resolve_target(
    items: pd.DataFrame,
    positions: pd.DataFrame,
    views: pd.Series,
    item_id: str | None = None,
    category: str | None = None,
) -> Target:
    """The target of an item (its own price) or of a category (its median price); `positions`
    are the catalogue's `price_positions`, `views` counts recent views by item_id (a category's
    items are weighted by their views plus one)."""
    if item_id is not None:
        if item_id not in set(items["item_id"]):
            raise UnknownItemError(item_id)
        if item_id not in positions.index:
            raise InvalidInputError(
                f"item {item_id!r} has no price or category to price a coupon against",
                field="item_id",
            )
        promoted = positions.loc[[item_id]].assign(weight=1.0)
        row = promoted.iloc[0]
        return Target(
            str(row["category"]), float(row["price"]), float(row["spread"]), promoted, item_id
        )
    if category is None or not (items["category"] == category).any():
        raise UnknownCategoryError(str(category))
    promoted = positions[positions["category"] == category]
    if promoted.empty:
        raise InvalidInputError(f"no item of category {category!r} has a price", field="category")
    weight = views.reindex(promoted.index).fillna(0.0).to_numpy(np.float64) + 1.0
    return Target(
        category,
        float(promoted["price"].median()),
        float(promoted["spread"].iloc[0]),
        promoted.assign(weight=weight),
    )
