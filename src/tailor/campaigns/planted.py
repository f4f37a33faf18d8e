"""The planted (true) incremental profit of a coupon on the synthetic shop, from `ShopTruth`.

The shop's views do not depend on prices; only the step from a view to the cart does:
P(purchase | a view of item i) = purchase_propensity[u] * exp(-price_sensitivity[u] * price_z[i]).
A coupon of value c on price p lowers price_z by log(p / (p - c)) / PRICE_SPREAD, on items priced
at least MIN_SPEND_RATIO * c (`tailor.campaigns.prices`). The expected
views of each item by a user in the horizon follow from the planted browsing chain (first view
from the user's taste, then the successor, another item of the same leaf, or a fresh draw from
the taste; items within a leaf in proportion to their popularity) and the user's expected
sessions in the horizon. Purchases are Poisson with the summed rate, so

    P(buy) = 1 - exp(-sum_i views_i * q_i),   P(buy | coupon) likewise with the coupon's q_i,
    incremental profit = (P(buy | coupon) - P(buy)) * margin_value - coupon_value * P(buy | coupon)

the same accounting as `tailor.campaigns.coupons`. Left out: the cart rate's cap of 0.9, planted
repurchases (they happen regardless of price), promotions and the weekly rhythm of sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from tailor.campaigns.coupons import incremental_profit
from tailor.campaigns.prices import coupon_shifts
from tailor.ingest.shop_sessions import (
    MAX_SESSION_VIEWS,
    SAME_LEAF_PROB,
    SESSION_END_PROB,
    SESSIONS_PER_60_DAYS,
)
from tailor.ingest.synthetic import DAY_MS, PRICE_SPREAD, SyntheticShop


def _start_ms(shop: SyntheticShop) -> int:
    """Midnight of the shop's first day."""
    return int(shop.events["ts"].min()) // DAY_MS * DAY_MS


def _leaf_of_items(shop: SyntheticShop) -> np.ndarray:
    return pd.Index(shop.truth.leaves).get_indexer(shop.items["category"])


def expected_views_per_session(shop: SyntheticShop) -> np.ndarray:
    """(n_users, n_items): expected views of each item in one session of each user."""
    truth = shop.truth
    leaf = _leaf_of_items(shop)
    n_items, n_leaves = len(leaf), len(truth.leaves)
    within = truth.item_popularity / np.bincount(leaf, truth.item_popularity)[leaf]
    by_popularity = sparse.csr_matrix(
        (within, (leaf, np.arange(n_items))), shape=(n_leaves, n_items)
    )  # leaf -> its items
    in_leaf = sparse.csr_matrix(
        (np.ones(n_items), (np.arange(n_items), leaf)), shape=(n_items, n_leaves)
    )
    ids = pd.Index(shop.items["item_id"])
    successor = ids.get_indexer([truth.successor[i] for i in ids])
    to_successor = sparse.csr_matrix(
        (np.ones(n_items), (np.arange(n_items), successor)), shape=(n_items, n_items)
    )
    fresh_prob = 1.0 - truth.successor_prob - SAME_LEAF_PROB
    first = np.asarray(by_popularity.T @ truth.taste.T).T
    step, views = first, first.copy()
    for t in range(1, MAX_SESSION_VIEWS):
        same_leaf = np.asarray(by_popularity.T @ (in_leaf.T @ step.T)).T
        step = (
            truth.successor_prob * np.asarray(to_successor.T @ step.T).T
            + SAME_LEAF_PROB * same_leaf
            + fresh_prob * first
        )
        views += (1.0 - SESSION_END_PROB) ** t * step
    return views


def expected_sessions(shop: SyntheticShop, shop_days: int, horizon_days: int) -> np.ndarray:
    """Each user's expected sessions in the last `horizon_days` of a `shop_days`-day shop."""
    first_day = np.clip(
        (shop.users["created_at"].to_numpy() - _start_ms(shop)) // DAY_MS, 0, shop_days - 1
    )
    alive = shop_days - first_day
    in_horizon = np.minimum(horizon_days, alive)
    total = shop.truth.activity * SESSIONS_PER_60_DAYS * shop_days / 60
    return total * in_horizon / alive


def planted_coupon_profit(
    shop: SyntheticShop,
    item_ids: list[str],
    coupon_value: float,
    margin_value: float,
    *,
    shop_days: int,
    horizon_days: int,
) -> pd.DataFrame:
    """Per user_id: the true P(buy), P(buy | coupon) of any of `item_ids` in the last
    `horizon_days` of the shop, and the expected incremental profit of the coupon. Only users
    who exist when the campaign runs (at the start of the horizon) can be given a coupon, so
    users created later are left out."""
    truth = shop.truth
    columns = pd.Index(shop.items["item_id"]).get_indexer(item_ids)
    price = shop.items["price"].to_numpy(np.float64)[columns]
    shift = coupon_shifts(price, coupon_value, PRICE_SPREAD)
    views = (
        expected_views_per_session(shop)[:, columns]
        * expected_sessions(shop, shop_days, horizon_days)[:, None]
    )
    sensitivity = truth.price_sensitivity[:, None]
    base = truth.purchase_propensity[:, None] * np.exp(-sensitivity * truth.price_z[columns])
    p0 = 1.0 - np.exp(-(views * base).sum(axis=1))
    p1 = 1.0 - np.exp(-(views * base * np.exp(sensitivity * shift)).sum(axis=1))
    profit = pd.DataFrame(
        {
            "probability": p0,
            "probability_with_coupon": p1,
            "profit": incremental_profit(p0, p1, margin_value, coupon_value),
        },
        index=pd.Index(shop.users["user_id"].astype(str)),
    )
    campaign_at = _start_ms(shop) + (shop_days - horizon_days) * DAY_MS
    return profit[shop.users["created_at"].to_numpy() < campaign_at]


@dataclass(frozen=True)
class TargetingOutcome:
    """Planted incremental profit of a coupon selection, against the oracle's and random picks."""

    coupons: int
    captured: float  # of the chosen users
    oracle: float  # of the best users by planted profit, as many coupons at most
    random: float  # expected, of as many users drawn at random

    @property
    def ratio(self) -> float:
        return self.captured / self.oracle if self.oracle > 0 else float("nan")


def targeting_outcome(
    planted: pd.DataFrame, chosen: list[str], max_coupons: int
) -> TargetingOutcome:
    """`planted`: `planted_coupon_profit`; `chosen`: the users given the coupon."""
    profit = planted["profit"]
    best = profit[profit > 0].nlargest(max_coupons)
    return TargetingOutcome(
        coupons=len(chosen),
        captured=float(profit.reindex(chosen).fillna(0.0).sum()),
        oracle=float(best.sum()),
        random=float(profit.mean() * len(chosen)),
    )
