"""Audiences and coupon campaigns over the store, scored with the current propensity version.

Both read the events of the last `campaigns.lookback_days` once and score every user seen in
them with the pair model: P(user buys the item, or anything in the category, within N days).
Reading and featurizing the lookback is most of the cost and does not depend on the item, so a
request "as of now" reuses the latest snapshot. Once it is older than `campaigns.snapshot_seconds`
a background thread reads a new one while requests keep the old (stale while revalidating), so
a request waits for the read only when there is no snapshot yet or a user was erased since it was
read. A request with an explicit time always reads afresh.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from tailor.campaigns.coupons import (
    ASSUMPTION,
    CouponCampaign,
    choose,
    incremental_profit,
    with_coupon,
)
from tailor.campaigns.elasticity import PriceSensitivity, fit_price_sensitivity
from tailor.campaigns.prices import Target, price_positions, resolve_target
from tailor.errors import InvalidInputError, UnknownItemError
from tailor.privacy.audit import erased_since
from tailor.propensity.features import (
    CATEGORY,
    DAY_MS,
    ITEM,
    before,
    prepare_events,
    user_features,
)
from tailor.propensity.service import PropensityService, score_pairs
from tailor.settings import Settings
from tailor.store.base import Store

log = logging.getLogger(__name__)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _round(values: np.ndarray | float) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64), 6)


@dataclass(frozen=True)
class Snapshot:
    """The catalogue and the lookback's prepared events before `now`, with every user's features.
    What coupons read from it besides is worked out once, on first use."""

    now: int
    items: pd.DataFrame
    past: pd.DataFrame
    users: pd.DataFrame
    made: float  # time.monotonic() when read

    @cached_property
    def positions(self) -> pd.DataFrame:
        return price_positions(self.items)

    @cached_property
    def views(self) -> pd.Series:
        """Views in the lookback, by item_id."""
        return self.past.loc[self.past["kind"] == "view", "item_id"].value_counts()

    @cached_property
    def sensitivity(self) -> PriceSensitivity:
        return fit_price_sensitivity(self.past, self.positions)


class Campaigns:
    def __init__(self, store: Store, settings: Settings, propensity: PropensityService) -> None:
        self.store = store
        self.settings = settings
        self.propensity = propensity
        self._latest: Snapshot | None = None
        self._lock = threading.Lock()
        # Bumped by every erasure: a read that began before it may hold the erased user's events.
        self._generation = 0
        self._refresh: threading.Thread | None = None

    def snapshot(self, at: int | None = None) -> Snapshot:
        """As of `at`, or as of now: the latest snapshot, refreshed in the background once it
        is older than snapshot_seconds. It is read in the caller's thread when there is none, or
        when a user was erased since it was read (by any replica: the audit log tells)."""
        if at is not None:
            return self._read(at)
        with self._lock:
            latest = self._latest
            if latest is None or erased_since(self.store, latest.now):
                latest = self._latest = self._read(_now_ms())
            elif time.monotonic() - latest.made > self.settings.campaigns.snapshot_seconds:
                self._start_refresh()
            return latest

    def wait_for_refresh(self, timeout: float | None = None) -> None:
        refresh = self._refresh
        if refresh is not None:
            refresh.join(timeout)

    def _start_refresh(self) -> None:
        if self._refresh is not None and self._refresh.is_alive():
            return
        self._refresh = threading.Thread(
            target=self._refresh_latest,
            args=(self._generation,),
            name="campaign-snapshot",
            daemon=True,
        )
        self._refresh.start()

    def _refresh_latest(self, generation: int) -> None:
        try:
            fresh = self._read(_now_ms())
        except Exception:  # the stale snapshot stays; the next request tries again
            log.exception("campaign snapshot refresh failed")
            return
        with self._lock:
            if generation == self._generation:  # else an erasure came in during the read
                self._latest = fresh

    def holds_user(self, user_id: str) -> bool:
        latest = self._latest
        return latest is not None and user_id in latest.users.index

    def forget_user(self, user_id: str) -> int:
        """Drop the latest snapshot if it holds the user (the next request reads afresh), and
        any background read already under way."""
        with self._lock:
            self._generation += 1
            if not self.holds_user(user_id):
                return 0
            self._latest = None
            return 1

    def _read(self, now: int) -> Snapshot:
        items = self.store.items()
        since = now - int(self.settings.campaigns.lookback_days * DAY_MS)
        raw = self.store.events(since=since, until=now)
        past = before(prepare_events(raw, items), now)
        users = user_features(past, self.settings.profiles)
        return Snapshot(now, items, past, users, time.monotonic())

    def _probabilities(self, snapshot: Snapshot, days: int, target: str, level: int) -> pd.Series:
        """P(buy the target within `days`) of every user with events in the snapshot, by user_id."""
        model = self.propensity.current()
        horizon = self.propensity.horizon(model, days)
        past, items, users = snapshot.past, snapshot.items, snapshot.users
        if users.empty:
            return pd.Series(dtype=np.float64)
        pairs = pd.DataFrame({"user_id": users.index, "target": target, "level": level})
        table, probabilities = score_pairs(model, horizon, past, pairs, users, items)
        return pd.Series(np.clip(probabilities, 0.0, 1.0), index=table["user_id"].astype(str))

    def audience(
        self, item_id: str, k: int, *, days: int | None = None, now: int | None = None
    ) -> dict:
        """The k users most likely to buy the item within `days`, most likely first."""
        limit = self.settings.campaigns.max_audience
        if not 1 <= k <= limit:
            raise InvalidInputError(f"k must be between 1 and {limit}, got {k}", field="k")
        days = days or self.settings.propensity.days[0]
        snapshot = self.snapshot(now)
        if item_id not in set(snapshot.items["item_id"]):
            raise UnknownItemError(item_id)
        probability = self._probabilities(snapshot, days, item_id, ITEM)
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
        snapshot = self.snapshot(campaign.at)
        target = resolve_target(
            snapshot.items, snapshot.positions, snapshot.views, campaign.item_id, campaign.category
        )
        shift = target.price_shift(campaign.value)
        if campaign.max_coupons < 1:
            raise InvalidInputError(
                f"a budget of {campaign.budget:g} does not cover one coupon of {campaign.value:g}",
                field="budget",
            )
        scored = self.score_coupon(snapshot, target, campaign, days)
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
        snapshot: Snapshot,
        target: Target,
        campaign: CouponCampaign,
        days: int,
    ) -> pd.DataFrame:
        """Per user: P(buy), P(buy | coupon), sensitivity, expected cost and incremental profit."""
        if target.item_id is not None:
            probability = self._probabilities(snapshot, days, target.item_id, ITEM)
        else:
            probability = self._probabilities(snapshot, days, target.category, CATEGORY)
        fitted = snapshot.sensitivity
        posterior = fitted.posterior(probability.index)
        p0 = probability.to_numpy()
        p1 = with_coupon(p0, posterior, target.rate_multiplier(fitted.grid, campaign.value))
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
