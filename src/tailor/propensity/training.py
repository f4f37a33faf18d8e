"""Time-based training sets and the two calibrated models of a horizon.

For a horizon of N days and an anchor time A (the end of the data when training for serving,
the test cutoff when evaluating), window k has cutoff `A - N days - k * step_days`: features
from the events before the cutoff, label = a purchase within N days after it. Every label
window ends by A, so nothing after A is used. Calibration is cross-fitted over the windows,
purged of windows that share label time (see `tailor.propensity.model`).

- user model: P(user buys anything within N days), one row per user with events before the cutoff;
- pair model: P(user buys this item / anything in this category within N days), rows for the
  latest `candidate_items` items and all categories the user touched in the last
  `candidate_days`, plus popular items the user did not touch (`negatives_per_user`), so an
  untouched item also gets a probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor.propensity.features import (
    CATEGORY,
    DAY_MS,
    ITEM,
    before,
    item_categories,
    pair_features,
    pair_matrix,
    popularity,
    user_features,
)
from tailor.propensity.model import CalibratedBooster
from tailor.propensity.repurchase import category_intervals
from tailor.settings import Settings


def cutoffs(anchor: int, days: int, settings: Settings) -> list[int]:
    """Window cutoffs, latest (the calibration window) first."""
    step = settings.propensity.step_days * DAY_MS
    return [int(anchor - days * DAY_MS - k * step) for k in range(settings.propensity.windows)]


def label_period(cutoff: int, days: int) -> tuple[int, int]:
    """[start, end) of a window's label time, in ms."""
    return cutoff, cutoff + days * DAY_MS


def user_rows(
    events: pd.DataFrame, cutoff: int, days: int, settings: Settings
) -> tuple[pd.DataFrame, np.ndarray]:
    past = before(events, cutoff)
    features = user_features(past, settings.profiles)
    return features, _buyers(events, cutoff, days, "user_id").reindex(
        features.index, fill_value=False
    ).to_numpy()


def _buyers(events: pd.DataFrame, cutoff: int, days: int, key: str | list[str]) -> pd.Series:
    """True for each key that has a purchase in [cutoff, cutoff + days)."""
    window = events[
        (events["ts"] >= cutoff)
        & (events["ts"] < cutoff + days * DAY_MS)
        & (events["kind"] == "purchase")
    ]
    return pd.Series(
        True,
        index=pd.MultiIndex.from_frame(window[key].drop_duplicates())
        if isinstance(key, list)
        else window[key].drop_duplicates(),
    )


def candidate_pairs(
    past: pd.DataFrame, settings: Settings, rng: np.random.Generator | None
) -> pd.DataFrame:
    """(user_id, target, level) rows: touched items and categories, plus popular untouched items
    (drawn with `rng`; none when rng is None)."""
    recent = past[(past["age"] < settings.propensity.candidate_days) & past["item_id"].notna()]
    latest = recent.sort_values("ts", ascending=False).drop_duplicates(["user_id", "item_id"])
    items = latest.groupby("user_id").head(settings.propensity.candidate_items)
    items = items[["user_id", "item_id"]].rename(columns={"item_id": "target"})
    categories = (
        recent[["user_id", "category"]]
        .dropna()
        .drop_duplicates()
        .rename(columns={"category": "target"})
    )
    parts = [items.assign(level=ITEM), categories.assign(level=CATEGORY)]
    n_negative = settings.propensity.negatives_per_user
    if rng is not None and n_negative:
        pool = recent[recent["age"] < 7]["item_id"].value_counts().index[:200].to_numpy()
        if len(pool):
            users = items["user_id"].unique()
            drawn = rng.choice(pool, size=(len(users), n_negative))
            negatives = pd.DataFrame(
                {"user_id": np.repeat(users, n_negative), "target": drawn.ravel()}
            )
            parts.append(negatives.assign(level=ITEM))
    return pd.concat(parts, ignore_index=True).drop_duplicates(["user_id", "target", "level"])


def pair_rows(
    events: pd.DataFrame,
    cutoff: int,
    days: int,
    settings: Settings,
    intervals: dict[str, float],
    rng: np.random.Generator | None,
) -> pd.DataFrame:
    """Pair features with a `label` column, for one window."""
    past = before(events, cutoff)
    users = user_features(past, settings.profiles)
    pairs = candidate_pairs(past, settings, rng)
    table = pair_features(past, pairs, users, popularity(past), intervals, item_categories(events))
    bought_items = _buyers(events, cutoff, days, ["user_id", "item_id"])
    bought_categories = _buyers(events, cutoff, days, ["user_id", "category"])
    keys = pd.MultiIndex.from_frame(table[["user_id", "target"]])
    table["label"] = np.where(
        table["level"] == ITEM, keys.isin(bought_items.index), keys.isin(bought_categories.index)
    )
    return table


@dataclass
class HorizonModels:
    days: int
    user: CalibratedBooster
    pair: CalibratedBooster


def _booster(settings: Settings) -> CalibratedBooster:
    p = settings.propensity
    return CalibratedBooster(
        n_estimators=p.n_estimators,
        learning_rate=p.learning_rate,
        num_leaves=p.num_leaves,
        min_child_samples=p.min_child_samples,
        calibration=p.calibration,
        folds=p.calibration_folds,
        random_state=settings.train.random_state,
        threads=settings.train.threads,
    )


def fit_user_model(
    events: pd.DataFrame, anchor: int, days: int, settings: Settings
) -> CalibratedBooster:
    windows = [(c, *user_rows(events, c, days, settings)) for c in cutoffs(anchor, days, settings)]
    kept = [(c, x, y) for c, x, y in windows if len(x)]
    return _booster(settings).fit(
        [(x, y) for _, x, y in kept], [label_period(c, days) for c, _, _ in kept]
    )


def fit_pair_model(
    events: pd.DataFrame, anchor: int, days: int, settings: Settings, intervals: dict[str, float]
) -> CalibratedBooster:
    rng = np.random.default_rng(settings.train.random_state)
    windows = [
        (c, pair_rows(events, c, days, settings, intervals, rng))
        for c in cutoffs(anchor, days, settings)
    ]
    kept = [(c, w) for c, w in windows if len(w)]
    return _booster(settings).fit(
        [(pair_matrix(w), w["label"].to_numpy()) for _, w in kept],
        [label_period(c, days) for c, _ in kept],
    )


def fit_horizon(
    events: pd.DataFrame, anchor: int, days: int, settings: Settings, intervals: dict[str, float]
) -> HorizonModels:
    return HorizonModels(
        days=days,
        user=fit_user_model(events, anchor, days, settings),
        pair=fit_pair_model(events, anchor, days, settings, intervals),
    )


def intervals_before(events: pd.DataFrame, anchor: int, settings: Settings) -> dict[str, float]:
    return category_intervals(
        events[events["ts"] < anchor], settings.propensity.consumable_min_users
    )
