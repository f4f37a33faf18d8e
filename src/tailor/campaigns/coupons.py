"""Coupon targeting by expected incremental profit.

Uplift assumption: a coupon of value c lowers the effective price of an item from p to p - c,
which moves its position within the category down by `shift = log(p / (p - c)) / spread` (see
`tailor.campaigns.prices`). A user's purchase rate of an item follows their measured price
sensitivity s_u (`tailor.campaigns.elasticity`): it scales by `exp(s_u * shift)`. A category's
coupon cuts cheap items deeper, and a sensitive user's purchases lean to them, so the target's
rate scales by the mix `Target.rate_multiplier(s_u)`. Purchases are treated as a Poisson process
over the horizon, so P(buy | coupon) = 1 - (1 - P(buy)) ** multiplier(s_u), where P(buy) is the
calibrated propensity of the user buying the target within the horizon, averaged over the
posterior of s_u (the uplift is convex in s_u, so a point estimate would understate it for users
whose sensitivity is uncertain).

A coupon is paid only when redeemed, so for a margin m (share of the price that is profit):

    expected incremental profit = (P(buy | coupon) - P(buy)) * m * p - c * P(buy | coupon)

Users with a positive expected incremental profit are chosen, best first. The budget is a hard
limit: every coupon given could be redeemed, so at most floor(budget / c) coupons are given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor.errors import InvalidInputError

ASSUMPTION = (
    "a coupon lowers the effective price of each item priced above its value; a user's purchase "
    "rate of an item scales with exp(price_sensitivity * shift), shift = log(price / (price - "
    "value)) / the category's log-price spread, and their purchases spread over the target's "
    "items by views times exp(-price_sensitivity * price z-score); price_sensitivity is measured "
    "from the user's views and carts across price z-scores; a coupon is paid only when redeemed"
)


@dataclass(frozen=True)
class CouponCampaign:
    value: float  # the coupon's face value, in the shop's currency
    budget: float  # the most the campaign may pay, were every coupon redeemed
    margin: float  # share of the price that is profit, before the coupon
    item_id: str | None = None
    category: str | None = None
    days: int | None = None  # propensity horizon; default the first trained
    at: int | None = None  # as of (ms); default now

    def __post_init__(self) -> None:
        if (self.item_id is None) == (self.category is None):
            raise InvalidInputError("give exactly one of item_id and category", field="item_id")
        for name in ("value", "budget", "margin"):
            number = getattr(self, name)
            high = 1.0 if name == "margin" else math.inf
            if not (math.isfinite(number) and 0 < number <= high):
                bound = " and at most 1" if name == "margin" else ""
                raise InvalidInputError(f"{name} must be above 0{bound}, got {number}", field=name)

    @property
    def max_coupons(self) -> int:
        return math.floor(self.budget / self.value + 1e-9)


def with_coupon(
    probability: np.ndarray, posterior: np.ndarray, multiplier: np.ndarray
) -> np.ndarray:
    """P(buy | coupon) under the uplift assumption above, averaged over each user's posterior
    of their sensitivity (`posterior[u]`: weights on the sensitivity grid; `multiplier`: the
    coupon's rate multiplier at each grid value)."""
    keep = np.clip(1.0 - probability, 0.0, 1.0)[:, None] ** multiplier[None, :]
    return 1.0 - (keep * posterior).sum(axis=1)


def incremental_profit(
    probability: np.ndarray, with_coupon: np.ndarray, margin_value: float, coupon_value: float
) -> np.ndarray:
    """Expected incremental profit of giving each user the coupon."""
    return (with_coupon - probability) * margin_value - coupon_value * with_coupon


def choose(profit: pd.Series, max_coupons: int) -> pd.Index:
    """The users with a positive expected profit, best first, at most `max_coupons` of them
    (ties by user id, so a plan is reproducible)."""
    positive = profit[profit > 0]
    order = pd.DataFrame({"profit": positive.to_numpy(), "user": positive.index.astype(str)})
    order = order.sort_values(["profit", "user"], ascending=[False, True], kind="stable")
    return pd.Index(order["user"].head(max_coupons))
