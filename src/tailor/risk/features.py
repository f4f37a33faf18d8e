"""Behaviour features per user, from the user's events: what rules and the isolation forest read.

Coupons are read from `coupon` events: a coupon redeemed on `item_id`, its face value in `value`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

MS_PER_MINUTE = 60_000
MS_PER_DAY = 86_400_000
MINUTES_PER_DAY = 1_440
BROWSE_KINDS = ("view", "click", "favorite", "cart")
PURCHASE = "purchase"
COUPON = "coupon"

FEATURES: tuple[str, ...] = (
    "n_events",
    "peak_events_per_minute",
    "interval_cv",
    "purchases",
    "blind_purchase_share",
    "purchase_burst",
    "account_age_days_at_first_purchase",
    "top_item_purchase_share",
    "ring_partners",
    "new_account_co_buyers",
    "coupon_week_peak",
    "new_account_coupon_peers",
)


def behaviour_features(
    events: pd.DataFrame,
    users: pd.DataFrame | None = None,
    *,
    burst_minutes: float = 10.0,
    new_account_days: float = 1.0,
) -> pd.DataFrame:
    """One row per user who has events, indexed by user_id, with the columns in FEATURES.

    `users` (user_id, created_at) gives account ages; without it an account is as old as its
    first event.
    """
    frame = events.loc[:, ["user_id", "item_id", "kind", "ts"]].sort_values(
        ["user_id", "ts"], kind="stable"
    )
    by_user = frame.groupby("user_id", sort=True)
    out = pd.DataFrame(index=pd.Index(sorted(frame["user_id"].unique()), name="user_id"))
    out["n_events"] = by_user.size().astype(np.float64)
    minute = frame["ts"] // MS_PER_MINUTE
    out["peak_events_per_minute"] = (
        frame.groupby([frame["user_id"], minute]).size().groupby(level=0).max().astype(np.float64)
    )
    out["interval_cv"] = _interval_cv(frame)
    purchases = frame[frame["kind"] == PURCHASE]
    out["purchases"] = purchases.groupby("user_id").size().reindex(out.index, fill_value=0)
    out["blind_purchase_share"] = _blind_share(frame, purchases).reindex(out.index, fill_value=0.0)
    out["purchase_burst"] = _burst(purchases, burst_minutes).reindex(out.index, fill_value=0)
    out["account_age_days_at_first_purchase"] = _age_at_first(frame, purchases, users)
    out["top_item_purchase_share"] = (
        (
            purchases.groupby(["user_id", "item_id"]).size().groupby(level=0).max()
            / out["purchases"].replace(0, np.nan)
        )
        .reindex(out.index)
        .fillna(0.0)
    )
    out["ring_partners"] = _ring_partners(frame, purchases, out.index)
    new_accounts = out.index[out["account_age_days_at_first_purchase"] < new_account_days]
    out["new_account_co_buyers"] = _new_account_peers(purchases, new_accounts, out.index)
    coupons = frame[frame["kind"] == COUPON]
    out["coupon_week_peak"] = _burst(coupons, 7 * MINUTES_PER_DAY).reindex(out.index, fill_value=0)
    new_redeemers = out.index[_age_at_first(frame, coupons, users) < new_account_days]
    out["new_account_coupon_peers"] = _new_account_peers(coupons, new_redeemers, out.index)
    return out.astype(np.float64).loc[:, list(FEATURES)]


def _interval_cv(frame: pd.DataFrame) -> pd.Series:
    """Coefficient of variation of the gaps between a user's events (NaN below 3 gaps): people
    are bursty (high), a timer is regular (near 0)."""
    gaps = frame.groupby("user_id")["ts"].diff().dropna()
    stats = gaps.groupby(frame.loc[gaps.index, "user_id"]).agg(["mean", "std", "size"])
    cv = stats["std"] / stats["mean"].replace(0, np.nan)
    cv[stats["size"] < 3] = np.nan
    return cv


def _blind_share(frame: pd.DataFrame, purchases: pd.DataFrame) -> pd.Series:
    """Share of a user's purchases whose item the user never browsed before buying it."""
    browsed = frame[frame["kind"].isin(BROWSE_KINDS)]
    first_browse = browsed.groupby(["user_id", "item_id"])["ts"].min().rename("first_browse")
    joined = purchases.join(first_browse, on=["user_id", "item_id"])
    blind = ~(joined["first_browse"] <= joined["ts"])
    return blind.groupby(joined["user_id"]).mean()


def _burst(acts: pd.DataFrame, minutes: float) -> pd.Series:
    """Most of `acts` (purchases, say) a user made within any `minutes` window."""
    window = int(minutes * MS_PER_MINUTE)
    result = {}
    for user_id, ts in acts.groupby("user_id")["ts"]:
        values = np.sort(ts.to_numpy())
        ends = np.searchsorted(values, values + window, side="right")
        result[user_id] = int((ends - np.arange(len(values))).max())
    return pd.Series(result, dtype=np.float64)


def _age_at_first(frame: pd.DataFrame, acts: pd.DataFrame, users: pd.DataFrame | None) -> pd.Series:
    """Days from each user's sign-up to their first of `acts` (purchases, say)."""
    index = pd.Index(sorted(frame["user_id"].unique()), name="user_id")
    created = frame.groupby("user_id")["ts"].min()
    if users is not None and len(users) and "created_at" in users:
        known = users.dropna(subset=["created_at"]).set_index("user_id")["created_at"]
        known = known[~known.index.duplicated()]
        created = pd.concat([known.reindex(index), created], axis=1).min(axis=1)
    first = acts.groupby("user_id")["ts"].min().reindex(index)
    age = (first - created.reindex(index)) / MS_PER_DAY
    # A user who never did it gets a long age, so the feature reads "not a fresh account".
    return age.clip(lower=0).fillna(365.0)


def _ring_partners(frame: pd.DataFrame, purchases: pd.DataFrame, index: pd.Index) -> pd.Series:
    """How many other users bought, without browsing, an item this user also bought without
    browsing: fake-order rings share their target items, honest buyers browse first."""
    browsed = frame[frame["kind"].isin(BROWSE_KINDS)][["user_id", "item_id"]].drop_duplicates()
    blind = purchases.merge(browsed, on=["user_id", "item_id"], how="left", indicator=True)
    blind = blind[blind["_merge"] == "left_only"][["user_id", "item_id"]].drop_duplicates()
    if not len(blind):
        return pd.Series(0.0, index=index)
    rows = index.get_indexer(blind["user_id"])
    item_codes, _ = pd.factorize(blind["item_id"])
    matrix = sparse.csr_matrix(
        (np.ones(len(blind)), (rows, item_codes)), shape=(len(index), item_codes.max() + 1)
    )
    shared = (matrix @ matrix.T).tocsr()
    shared.setdiag(0)
    shared.eliminate_zeros()
    return pd.Series(np.diff(shared.indptr).astype(np.float64), index=index)


def _new_account_peers(acts: pd.DataFrame, new_accounts: pd.Index, index: pd.Index) -> pd.Series:
    """For a new account, the most other new accounts that bought (or redeemed a coupon on) one of
    its items on the same day (UTC): many fresh accounts on one item at once is how fake orders
    and coupon farms look."""
    fresh = acts[acts["user_id"].isin(new_accounts)]
    buyers = fresh.assign(day=fresh["ts"] // MS_PER_DAY)[["user_id", "item_id", "day"]]
    buyers = buyers.drop_duplicates()
    together = buyers.groupby(["item_id", "day"])["user_id"].transform("size") - 1
    return together.groupby(buyers["user_id"]).max().reindex(index, fill_value=0).astype(float)
