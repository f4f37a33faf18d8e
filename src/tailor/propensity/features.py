"""Features of users, and of (user, item) and (user, category) pairs, as of a cutoff time.

Everything is computed from the events before the cutoff with vectorised pandas, so training
(every user, several cutoffs) and serving (one user, now) run the same code. Profile features
(lifecycle stage, RFM segment) come from `tailor.profiles.stages`, the rules the profiles use.
Recommender scores of a pair come from an item-kNN fitted on the same past
(`tailor.propensity.recommender`), kept with the other all-user tables of `popularity`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tailor.profiles.stages import lifecycle_stage, rfm_segment
from tailor.propensity.recommender import ITEM_LEVEL, item_neighbours, recommender_features
from tailor.settings import PUSH_EVENT_KINDS, ProfileSettings

DAY_MS = 86_400_000
KINDS = ("view", "click", "favorite", "cart", "purchase", "search")
PAIR_KINDS = ("view", "favorite", "cart", "purchase")
# Bounded windows only: counts over all history grow with the data's age, so a model trained on
# early cutoffs would see larger values at serving than it was fitted on.
USER_WINDOWS = (1, 3, 7, 30)  # days
PAIR_WINDOWS = (3, 7, 30)
POPULARITY_DAYS = 7
ITEM, CATEGORY = ITEM_LEVEL, 1
NEIGHBOURS = "neighbours"


def _window_name(days: int) -> str:
    return f"{days}d"


def prepare_events(events: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The columns the features read, with each event's category and price from the catalogue;
    push outcomes left out (they are the shop's doing, not the user's)."""
    frame = events.loc[
        ~events["kind"].isin(PUSH_EVENT_KINDS), ["user_id", "item_id", "kind", "ts"]
    ].copy()
    frame["value"] = events.loc[frame.index, "value"] if "value" in events else np.nan
    catalogue = items.set_index("item_id")
    frame["category"] = (
        frame["item_id"].map(catalogue["category"]) if "category" in catalogue else None
    )
    prices = pd.to_numeric(catalogue["price"], errors="coerce") if "price" in catalogue else None
    frame["price"] = frame["item_id"].map(prices) if prices is not None else np.nan
    frame["ts"] = frame["ts"].astype(np.int64)
    return frame


def item_categories(events: pd.DataFrame) -> pd.Series:
    """item_id -> category of the items in a prepared events frame."""
    return (
        events.dropna(subset=["item_id"])
        .drop_duplicates("item_id")
        .set_index("item_id")["category"]
    )


def before(events: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    """Events strictly before the cutoff, with their age in days at the cutoff."""
    past = events[events["ts"] < cutoff].copy()
    past["age"] = (cutoff - past["ts"]) / DAY_MS
    return past


def _counts(
    past: pd.DataFrame, keys: list[str], kinds: tuple[str, ...], windows: tuple
) -> pd.DataFrame:
    parts = []
    for days in windows:
        window = past[past["age"] < days]
        table = window[window["kind"].isin(kinds)].groupby(keys + ["kind"]).size().unstack("kind")
        table = table.reindex(columns=list(kinds)).fillna(0.0)
        table.columns = [f"n_{kind}_{_window_name(days)}" for kind in kinds]
        parts.append(table)
    return pd.concat(parts, axis=1).fillna(0.0)


def _days_since(past: pd.DataFrame, keys: list[str], kind: str | None, name: str) -> pd.Series:
    rows = past if kind is None else past[past["kind"] == kind]
    return rows.groupby(keys)["age"].min().rename(name)


def user_features(past: pd.DataFrame, profiles: ProfileSettings) -> pd.DataFrame:
    """One row per user with events in `past` (see `before`), indexed by user_id."""
    keys = ["user_id"]
    table = _counts(past, keys, KINDS, USER_WINDOWS)
    recent = past[past["age"] < 7]
    purchases = past[past["kind"] == "purchase"]
    quantity = (
        pd.to_numeric(purchases["value"], errors="coerce").astype(float).where(lambda q: q > 0, 1.0)
    )
    extra = pd.concat(
        [
            _days_since(past, keys, None, "days_since_last_event"),
            past.groupby(keys)["age"].max().rename("days_since_first_event"),
            _days_since(past, keys, "purchase", "days_since_last_purchase"),
            _days_since(past, keys, "cart", "days_since_last_cart"),
            _active_days(recent),
            recent.groupby(keys)["item_id"].nunique().rename("distinct_items_7d"),
            recent.groupby(keys)["category"].nunique().rename("distinct_categories_7d"),
            (purchases["price"].astype(float).fillna(0.0) * quantity)
            .groupby(purchases["user_id"])
            .sum()
            .rename("monetary"),
            _open_carts(recent),
            _purchase_interval(purchases),
        ],
        axis=1,
    )
    table = table.join(extra, how="left")
    for column in (
        "active_days_7d",
        "distinct_items_7d",
        "distinct_categories_7d",
        "monetary",
        "open_carts_7d",
    ):
        table[column] = table[column].fillna(0.0)
    table["lifecycle_stage"] = lifecycle_stage(
        table["days_since_first_event"], table["days_since_last_event"], profiles
    )
    table["rfm_segment"] = rfm_segment(
        table["days_since_last_purchase"], table["n_purchase_30d"], profiles
    )
    return table.drop(columns=["days_since_first_event"]).astype(np.float64)


def _active_days(recent: pd.DataFrame) -> pd.Series:
    """Distinct days (counted back from the cutoff) with an event, per user."""
    days = recent.assign(day=np.floor(recent["age"]))[["user_id", "day"]].drop_duplicates()
    return days.groupby("user_id").size().astype(np.float64).rename("active_days_7d")


def _open_carts(recent: pd.DataFrame) -> pd.Series:
    """Items carted in the window and not bought after the cart, per user."""
    carts = recent[recent["kind"] == "cart"].groupby(["user_id", "item_id"])["ts"].max()
    bought = recent[recent["kind"] == "purchase"].groupby(["user_id", "item_id"])["ts"].max()
    joined = pd.concat([carts.rename("cart"), bought.rename("buy")], axis=1).dropna(subset=["cart"])
    still_open = joined["buy"].isna() | (joined["buy"] < joined["cart"])
    return still_open.groupby(level="user_id").sum().astype(np.float64).rename("open_carts_7d")


def _purchase_interval(purchases: pd.DataFrame) -> pd.Series:
    """Mean days between a user's purchase days."""
    days = purchases.assign(day=np.floor(purchases["age"])).drop_duplicates(["user_id", "day"])
    grouped = days.groupby("user_id")["day"]
    spread = (grouped.max() - grouped.min()) / (grouped.size() - 1).replace(0, np.nan)
    return spread.rename("mean_purchase_interval_days")


def popularity(past: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What all users did before the cutoff: "item" and "category", the views and purchases of
    each over the last POPULARITY_DAYS; NEIGHBOURS, an item-kNN fitted on `past` (see
    `tailor.propensity.recommender`)."""
    recent = past[past["age"] < POPULARITY_DAYS]
    tables = {}
    for level, key in (("item", "item_id"), ("category", "category")):
        counts = recent[recent["kind"].isin(("view", "purchase"))].groupby([key, "kind"]).size()
        table = counts.unstack("kind").reindex(columns=["view", "purchase"]).fillna(0.0)
        table.columns = ["target_views_7d", "target_purchases_7d"]
        tables[level] = table
    tables[NEIGHBOURS] = item_neighbours(past)
    return tables


def pair_features(
    past: pd.DataFrame,
    pairs: pd.DataFrame,
    users: pd.DataFrame,
    popular: Mapping[str, pd.DataFrame],
    repurchase_days: Mapping[str, float],
    item_category: pd.Series,
) -> pd.DataFrame:
    """Rows of `pairs` (user_id, target, level: ITEM or CATEGORY) with the user's features, the
    user's history with the target, the target's popularity, the recommender's scores (when
    `popular` has NEIGHBOURS: versions trained before them have none) and repurchase timing.
    `item_category` maps item_id to category (a Series indexed by item_id)."""
    parts = []
    for level, key in ((ITEM, "item_id"), (CATEGORY, "category")):
        chosen = pairs[pairs["level"] == level]
        if chosen.empty:
            continue
        history = past.rename(columns={key: "target"})
        keys = ["user_id", "target"]
        own = pd.concat(
            [
                _counts(history, keys, PAIR_KINDS, PAIR_WINDOWS),
                _days_since(history, keys, None, "target_days_since_last"),
                _days_since(history, keys, "purchase", "target_days_since_purchase"),
            ],
            axis=1,
        )
        rows = chosen.join(own, on=keys).join(
            popular["item" if level == ITEM else "category"], on="target"
        )
        category = rows["target"] if level == CATEGORY else rows["target"].map(item_category)
        interval = category.map(repurchase_days).astype(np.float64)
        rows["repurchase_interval_days"] = interval
        rows["repurchase_due_ratio"] = rows["target_days_since_purchase"] / interval
        parts.append(rows)
    table = pd.concat(parts, ignore_index=True)
    count_columns = [
        c for c in table.columns if c.startswith(("n_", "target_views", "target_purchases"))
    ]
    table[count_columns] = table[count_columns].fillna(0.0)
    table["target_conversion"] = table["target_purchases_7d"] / (table["target_views_7d"] + 1.0)
    if NEIGHBOURS in popular:
        table = table.join(recommender_features(past, table, popular[NEIGHBOURS]))
    joined = table.join(users.add_prefix("user_"), on="user_id")
    return joined


def pair_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """The model inputs of a pair table: every numeric column but the label."""
    return table.drop(columns=["user_id", "target", "label"], errors="ignore").astype(np.float64)
