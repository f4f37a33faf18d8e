"""Audiences and coupon campaigns over the store, scored with the current propensity version.

Both read the events of the last `campaigns.lookback_days` once and score every user seen in
them with the pair model: P(user buys the item, or anything in the category, within N days).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from tailor.campaigns.coupons import (
    ASSUMPTION,
    CouponCampaign,
    choose,
    incremental_profit,
    with_coupon,
)
from tailor.campaigns.elasticity import fit_price_sensitivity
from tailor.campaigns.prices import Target, price_positions, resolve_target
from tailor.errors import InvalidInputError, UnknownItemError
from tailor.propensity.features import (
    CATEGORY,
    DAY_MS,
    ITEM,
    before,
    pair_features,
    prepare_events,
    user_features,
)
from tailor.propensity.service import PropensityService
from tailor.settings import Settings
from tailor.store.base import Store


def _round(values: np.ndarray | float) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64), 6)


class Campaigns:
    def __init__(self, store: Store, settings: Settings, propensity: PropensityService) -> None:
        self.store = store
        self.settings = settings
        self.propensity = propensity

    def _history(self, now: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(the catalogue, prepared events of the lookback before `now`)."""
        items = self.store.items()
        since = now - int(self.settings.campaigns.lookback_days * DAY_MS)
        raw = self.store.events(since=since, until=now)
        return items, before(prepare_events(raw, items), now)

    def _probabilities(
        self, past: pd.DataFrame, items: pd.DataFrame, days: int, target: str, level: int
    ) -> pd.Series:
        """P(buy the target within `days`) of every user with events in `past`, by user_id."""
        model = self.propensity.current()
        horizon = self.propensity.horizon(model, days)
        users = user_features(past, self.settings.profiles)
        if users.empty:
            return pd.Series(dtype=np.float64)
        pairs = pd.DataFrame({"user_id": users.index, "target": target, "level": level})
        table = pair_features(
            past,
            pairs,
            users,
            model.popularity,
            model.intervals,
            items.set_index("item_id")["category"],
        )
        return pd.Series(
            np.clip(horizon.pair.predict(table), 0.0, 1.0), index=table["user_id"].astype(str)
        )

    def audience(
        self, item_id: str, k: int, *, days: int | None = None, now: int | None = None
    ) -> dict:
        """The k users most likely to buy the item within `days`, most likely first."""
        limit = self.settings.campaigns.max_audience
        if not 1 <= k <= limit:
            raise InvalidInputError(f"k must be between 1 and {limit}, got {k}", field="k")
        days = days or self.settings.propensity.days[0]
        now = now if now is not None else time.time_ns() // 1_000_000
        items, past = self._history(now)
        if item_id not in set(items["item_id"]):
            raise UnknownItemError(item_id)
        probability = self._probabilities(past, items, days, item_id, ITEM)
        top = probability.sort_values(ascending=False, kind="stable").head(k)
        return {
            "item_id": item_id,
            "days": days,
            "model_version": self.propensity.current().version,
            "users": [
                {"user_id": u, "probability": float(p)} for u, p in zip(top.index, _round(top))
            ],
        }

    def coupon(self, campaign: CouponCampaign) -> dict:
        """The users to give the coupon to, by expected incremental profit (see
        `tailor.campaigns.coupons`), within the budget."""
        days = campaign.days or self.settings.propensity.days[0]
        now = campaign.at if campaign.at is not None else time.time_ns() // 1_000_000
        items, past = self._history(now)
        positions = price_positions(items)
        target = resolve_target(items, positions, campaign.item_id, campaign.category)
        shift = target.price_shift(campaign.value)
        if campaign.max_coupons < 1:
            raise InvalidInputError(
                f"a budget of {campaign.budget:g} does not cover one coupon of {campaign.value:g}",
                field="budget",
            )
        scored = self.score_coupon(past, items, positions, target, campaign, days, shift)
        chosen = scored.loc[choose(scored["expected_profit"], campaign.max_coupons)]
        return {
            "target": {
                "item_id": target.item_id,
                "category": target.category,
                "reference_price": target.price,
                "price_shift_z": round(shift, 6),
            },
            "days": days,
            "model_version": self.propensity.current().version,
            "assumption": ASSUMPTION,
            "scored_users": len(scored),
            "coupons": len(chosen),
            "max_coupons": campaign.max_coupons,
            "worst_case_cost": round(len(chosen) * campaign.value, 2),
            "expected_cost": round(float(chosen["expected_cost"].sum()), 2),
            "expected_incremental_profit": round(float(chosen["expected_profit"].sum()), 2),
            "users": [
                {"user_id": u, **{k: float(v) for k, v in zip(row.index, _round(row.to_numpy()))}}
                for u, row in chosen.iterrows()
            ],
        }

    def score_coupon(
        self,
        past: pd.DataFrame,
        items: pd.DataFrame,
        positions: pd.DataFrame,
        target: Target,
        campaign: CouponCampaign,
        days: int,
        shift: float,
    ) -> pd.DataFrame:
        """Per user: P(buy), P(buy | coupon), sensitivity, expected cost and incremental profit."""
        if target.item_id is not None:
            probability = self._probabilities(past, items, days, target.item_id, ITEM)
        else:
            probability = self._probabilities(past, items, days, target.category, CATEGORY)
        fitted = fit_price_sensitivity(past, positions)
        posterior = fitted.posterior(probability.index)
        p0 = probability.to_numpy()
        p1 = with_coupon(p0, posterior, fitted.grid, shift)
        return pd.DataFrame(
            {
                "probability": p0,
                "probability_with_coupon": p1,
                "price_sensitivity": posterior @ fitted.grid,
                "expected_cost": campaign.value * p1,
                "expected_profit": incremental_profit(
                    p0, p1, campaign.margin * target.price, campaign.value
                ),
            },
            index=probability.index,
        )
