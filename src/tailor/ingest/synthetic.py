"""A seeded synthetic shop with planted structure, so that quality can be tested.

`generate_shop(n_users, n_items, days=60, seed=0)` builds a bilingual catalogue (a 3-level
category tree with 6 top categories and 24 leaves, brands, log-normal prices per leaf, stock,
new arrivals), users with latent tastes, and two months of sessions (see `tailor.ingest.shop_sessions`
for the behaviour). `ShopTruth` holds what was planted:

- `user_cluster`, `taste`: each user belongs to one of 6 clusters; a cluster puts about 75% of its
  weight on one top category and 20% on a second one. `taste[u]` is the user's distribution over
  the 24 leaf categories (`leaves`) and drives which categories they browse.
- `successor`: after viewing item i, the next view in the session is `successor[i]` (an item of the
  same top category) with probability `successor_prob`.
- `purchase_propensity[u]`: P(purchase | a view of an item at its leaf's median price).
- `price_sensitivity[u]`: conversion scales with exp(-sensitivity * z), z = the item's log-price
  z-score within its leaf.
- `repurchase_days`: consumable leaves are bought again after about this many days.
- `item_popularity`, `price_z`: an item's view weight within its leaf, and its log-price z-score
  there (log price = log of the leaf's base price + `PRICE_SPREAD * price_z`).
- `item_quality`: drives review ratings (and their text: positive, neutral or negative).
- `activity` (mean 1, heavy-tailed: sessions scale with it), `channel_preference` (over
  web, app, mini-program) and `preferred_hour` of each user.
- `weekday_volume[d]` (Monday = 0, mean 1): sessions per day of week, busiest at the weekend.
- `promotions`: planned discount windows of leaf categories (`category`, `start`, `end` in ms,
  `discount`, `conversion_lift`); during a window the leaf's views go to the cart
  `conversion_lift` times as often (see `tailor.ingest.shop_calendar`).

Arrays are aligned with the rows of `items` and `users`. Everything is vectorised with numpy;
the same seed gives the same shop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from tailor.ingest.shop_calendar import WEEKDAY_VOLUME, PromotionPlan
from tailor.ingest.shop_sessions import Catalogue, Population, labels, simulate_events
from tailor.ingest.shop_words import (
    ADJECTIVES,
    AGE_BANDS,
    BRANDS,
    NEW_TAG,
    REGIONS,
    TAGS,
    TAXONOMY,
    Leaf,
)
from tailor.types import CATEGORY_SEPARATOR

DAY_MS = 86_400_000
N_CLUSTERS = 6
NEW_ARRIVAL_SHARE = 0.1
NEW_USER_SHARE = 0.1
PRICE_SPREAD = 0.45  # std of log price within a leaf


@dataclass(frozen=True)
class ShopTruth:
    leaves: list[str]  # category path of each leaf; taste columns follow this order
    user_cluster: np.ndarray  # (n_users,) int
    taste: np.ndarray  # (n_users, n_leaves) rows sum to 1
    successor: dict[str, str]  # item_id -> the item usually viewed next
    successor_prob: float
    purchase_propensity: np.ndarray  # (n_users,)
    price_sensitivity: np.ndarray  # (n_users,)
    repurchase_days: dict[str, float]  # leaf category path -> period, consumables only
    item_quality: np.ndarray  # (n_items,)
    activity: np.ndarray  # (n_users,)
    channel_preference: np.ndarray  # (n_users, 3): web, app, mini-program
    preferred_hour: np.ndarray  # (n_users,) hour of day (UTC) around which sessions start
    item_popularity: np.ndarray  # (n_items,) view weight of an item within its leaf
    price_z: np.ndarray  # (n_items,) log-price z-score within the leaf (price spread PRICE_SPREAD)
    weekday_volume: np.ndarray  # (7,) session volume by day of week, Monday first, mean 1
    promotions: pd.DataFrame  # category, start, end (ms, end exclusive), discount, conversion_lift


@dataclass
class SyntheticShop:
    items: pd.DataFrame
    users: pd.DataFrame
    events: pd.DataFrame
    truth: ShopTruth


@dataclass(frozen=True)
class _Tree:
    leaves: list[Leaf]
    paths: list[str]
    top_of_leaf: np.ndarray  # (n_leaves,)

    @classmethod
    def build(cls) -> _Tree:
        leaves, paths, tops = [], [], []
        for t, ((top_zh, top_en), subs) in enumerate(TAXONOMY):
            for (sub_zh, sub_en), sub_leaves in subs:
                for leaf in sub_leaves:
                    leaves.append(leaf)
                    paths.append(
                        CATEGORY_SEPARATOR.join(
                            (f"{top_zh} {top_en}", f"{sub_zh} {sub_en}", f"{leaf.zh} {leaf.en}")
                        )
                    )
                    tops.append(t)
        return cls(leaves, paths, np.array(tops))


def _catalogue(
    rng: np.random.Generator, tree: _Tree, n_items: int, start_ms: int, days: int
) -> tuple[pd.DataFrame, Catalogue]:
    """The items frame, and what behaviour needs to know about the items."""
    n_leaves = len(tree.leaves)
    leaf = np.concatenate([np.arange(n_leaves), rng.integers(0, n_leaves, n_items - n_leaves)])
    rng.shuffle(leaf)
    top = tree.top_of_leaf[leaf]
    base = np.array([lf.base_price for lf in tree.leaves])
    price_z = rng.normal(0.0, 1.0, n_items)
    brand = rng.integers(0, 4, n_items)
    adjective = rng.integers(0, len(ADJECTIVES), n_items)
    tagged = rng.random((n_items, len(TAGS))) < 0.12
    is_new = rng.random(n_items) < NEW_ARRIVAL_SHARE
    created = np.where(
        is_new,
        start_ms + rng.integers(0, days * DAY_MS, n_items),
        start_ms - rng.integers(1, 365 * DAY_MS, n_items),
    ).astype(np.int64)
    titles_zh, titles_en, descriptions, queries = [], [], [], []
    for i in range(n_items):
        lf, (b_zh, b_en), (a_zh, a_en) = (
            tree.leaves[leaf[i]],
            BRANDS[top[i]][brand[i]],
            ADJECTIVES[adjective[i]],
        )
        titles_zh.append(f"{b_zh}{a_zh}{lf.zh}")
        titles_en.append(f"{b_en} {a_en} {lf.en} {i % 97 + 1:02d}")
        descriptions.append(
            f"{a_zh}{lf.zh}，{b_zh}出品，适合日常使用。"
            f"{a_en} {lf.en.lower()} by {b_en}, made for everyday use."
        )
        queries.extend((lf.zh, lf.en.lower(), f"{b_zh}{lf.zh}", f"{b_en} {lf.en}".lower()))
    item_ids = [f"i{i}" for i in range(n_items)]
    items = pd.DataFrame(
        {
            "item_id": pd.Series(item_ids, dtype="str"),
            "title": pd.Series([f"{zh} {en}" for zh, en in zip(titles_zh, titles_en)], dtype="str"),
            "description": pd.Series(descriptions, dtype="str"),
            "category": labels(tree.paths, leaf),
            "brand": pd.Series([" ".join(BRANDS[t][b]) for t, b in zip(top, brand)], dtype="str"),
            "price": np.round(np.exp(np.log(base[leaf]) + PRICE_SPREAD * price_z), 1),
            "stock": np.where(rng.random(n_items) < 0.08, 0, rng.integers(1, 500, n_items)),
            "tags": [
                ([NEW_TAG] if new else []) + [TAGS[t] for t in np.flatnonzero(row)]
                for new, row in zip(is_new, tagged)
            ],
            "attributes": [
                {"title_zh": zh, "title_en": en} for zh, en in zip(titles_zh, titles_en)
            ],
            "created_at": created,
            "hidden": rng.random(n_items) < 0.01,
        }
    )
    repurchase = np.array(
        [np.nan if lf.repurchase_days is None else lf.repurchase_days for lf in tree.leaves]
    )
    catalogue = Catalogue(
        item_ids=item_ids,
        leaf=leaf,
        top=top,
        price_z=price_z,
        created_at=created,
        queries=queries,
        repurchase_days=repurchase,
    )
    return items, catalogue


def _tastes(rng: np.random.Generator, tree: _Tree, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    """Planted clusters: cluster c loves top category c and likes one other."""
    n_leaves = len(tree.leaves)
    profiles = np.full((N_CLUSTERS, n_leaves), 0.05 / n_leaves)
    for c in range(N_CLUSTERS):
        second = (c + 1 + rng.integers(0, N_CLUSTERS - 1)) % N_CLUSTERS
        for top, mass in ((c, 0.75), (second, 0.20)):
            in_top = np.flatnonzero(tree.top_of_leaf == top)
            profiles[c, in_top] += mass * rng.dirichlet(np.full(len(in_top), 2.0))
    cluster = rng.integers(0, N_CLUSTERS, n_users)
    own = rng.dirichlet(np.full(n_leaves, 0.5), n_users)
    taste = 0.8 * profiles[cluster] + 0.2 * own
    return cluster, taste / taste.sum(axis=1, keepdims=True)


def _users(rng: np.random.Generator, n_users: int, start_ms: int, days: int) -> pd.DataFrame:
    is_new = rng.random(n_users) < NEW_USER_SHARE
    created = np.where(
        is_new,
        start_ms + rng.integers(0, days * DAY_MS, n_users),
        start_ms - rng.integers(1, 2 * 365 * DAY_MS, n_users),
    )
    region = rng.integers(0, len(REGIONS), n_users)
    age = rng.integers(0, len(AGE_BANDS), n_users)
    return pd.DataFrame(
        {
            "user_id": pd.Series([f"u{u}" for u in range(n_users)], dtype="str"),
            "attributes": [
                {"region": REGIONS[r], "age_band": AGE_BANDS[a]} for r, a in zip(region, age)
            ],
            "created_at": created.astype(np.int64),
        }
    )


def generate_shop(
    n_users: int = 2000,
    n_items: int = 500,
    *,
    days: int = 60,
    seed: int = 0,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    promotions: bool = True,
) -> SyntheticShop:
    """A synthetic shop; the same arguments give the same shop. `promotions=False` plants no
    promotion windows (the rest of the shop's draws stay the same)."""
    tree = _Tree.build()
    if n_items < len(tree.leaves):
        raise ValueError(f"n_items must be at least {len(tree.leaves)}, one per leaf category")
    if n_users < 1 or days < 1:
        raise ValueError("n_users and days must be positive")
    rng = np.random.default_rng(seed)
    start_ms = int(start.timestamp() * 1000)
    items, catalogue = _catalogue(rng, tree, n_items, start_ms, days)
    users = _users(rng, n_users, start_ms, days)
    cluster, taste = _tastes(rng, tree, n_users)
    user_ids = users["user_id"].tolist()
    population = Population.draw(
        rng, catalogue, taste, user_ids, users["created_at"].to_numpy(), start_ms
    )
    n_leaves = len(tree.leaves)
    plan = PromotionPlan.draw(seed, n_leaves, days) if promotions else PromotionPlan.empty()
    events = simulate_events(
        rng, population, catalogue, start_ms, plan.lift_by_leaf_and_day(n_leaves, days), seed
    )
    truth = ShopTruth(
        leaves=tree.paths,
        user_cluster=cluster,
        taste=taste,
        successor=dict(
            zip(catalogue.item_ids, np.asarray(catalogue.item_ids)[population.successor])
        ),
        successor_prob=population.successor_prob,
        purchase_propensity=population.cart_rate * population.buy_given_cart,
        price_sensitivity=population.price_sensitivity,
        repurchase_days={
            p: lf.repurchase_days
            for p, lf in zip(tree.paths, tree.leaves)
            if lf.repurchase_days is not None
        },
        item_quality=population.quality,
        activity=population.activity,
        channel_preference=population.channel_weights,
        preferred_hour=population.hour,
        item_popularity=population.popularity,
        price_z=catalogue.price_z,
        weekday_volume=WEEKDAY_VOLUME.copy(),
        promotions=plan.frame(tree.paths, start_ms),
    )
    return SyntheticShop(items=items, users=users, events=events, truth=truth)
