"""A small shop with planted structure: users in 4 clusters, each clicking within its own block
of items, plus a few globally popular items everyone touches now and then. Each block's items
are products of one topic, titled in English or Chinese in turn, so text models see the blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tailor.data.dataset import Dataset

N_CLUSTERS = 4
USERS_PER_CLUSTER = 50
ITEMS_PER_BLOCK = 20
N_GLOBAL = 8  # items after the blocks, popular with everybody
N_ITEMS = N_CLUSTERS * ITEMS_PER_BLOCK + N_GLOBAL
# (English, Chinese) titles: ITEMS_PER_BLOCK / 2 products per topic, one topic per cluster.
TOPICS = [
    [
        ("Hydrating face cream", "保湿面霜"),
        ("Vitamin C facial serum", "维C精华液"),
        ("Sunscreen SPF 50", "防晒霜"),
        ("Gentle cleansing foam", "洗面奶"),
        ("Soothing toner", "爽肤水"),
        ("Anti-wrinkle eye cream", "抗皱眼霜"),
        ("Moisturising sheet mask", "补水面膜"),
        ("Lip balm", "润唇膏"),
        ("Body lotion", "身体乳"),
        ("Makeup remover", "卸妆水"),
    ],
    [
        ("Running shoes", "跑步鞋"),
        ("Official size basketball", "篮球"),
        ("Yoga mat", "瑜伽垫"),
        ("Tennis racket", "网球拍"),
        ("Soccer ball", "足球"),
        ("Adjustable dumbbells", "健身哑铃"),
        ("Cycling helmet", "自行车头盔"),
        ("Swimming goggles", "游泳镜"),
        ("Jump rope", "跳绳"),
        ("Sports water bottle", "运动水壶"),
    ],
    [
        ("Non-stick frying pan", "不粘平底锅"),
        ("Chef's kitchen knife", "厨房菜刀"),
        ("Electric rice cooker", "电饭煲"),
        ("Wooden cutting board", "木砧板"),
        ("Stainless steel soup pot", "不锈钢汤锅"),
        ("Carbon steel wok", "炒锅"),
        ("Electric kettle", "电热水壶"),
        ("Cooking spatula", "锅铲"),
        ("Bamboo steamer", "竹蒸笼"),
        ("Kitchen blender", "料理机"),
    ],
    [
        ("Dry dog food", "狗粮"),
        ("Clumping cat litter", "猫砂"),
        ("Dog leash", "遛狗绳"),
        ("Cat scratching post", "猫抓板"),
        ("Pet bed", "宠物窝"),
        ("Aquarium filter", "鱼缸过滤器"),
        ("Bird cage", "鸟笼"),
        ("Dog chew toy", "狗狗磨牙玩具"),
        ("Cat treats", "猫零食"),
        ("Pet shampoo", "宠物沐浴露"),
    ],
]
GLOBAL_TITLES = [
    "Gift card",
    "礼品卡",
    "AA batteries",
    "充电宝",
    "Umbrella",
    "纸巾",
    "Tote bag",
    "贺卡",
]


def block_of(item_idx: np.ndarray, data: Dataset) -> np.ndarray:
    """The cluster an item belongs to (-1 for the global items), from its id `c<cluster>-<n>`."""
    ids = data.item_ids.ids(item_idx)
    return np.array([int(i[1]) if i.startswith("c") else -1 for i in ids])


def catalogue() -> pd.DataFrame:
    """Every item with its title; item `c<k>-<i>` is product i // 2 of topic k, in language i % 2."""
    rows = [
        (f"c{k}-{i}", TOPICS[k][i // 2][i % 2])
        for k in range(N_CLUSTERS)
        for i in range(ITEMS_PER_BLOCK)
    ]
    rows += [(f"g{i}", title) for i, title in enumerate(GLOBAL_TITLES)]
    return pd.DataFrame(rows, columns=["item_id", "title"])


def make_clustered(seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    rows = []
    for cluster in range(N_CLUSTERS):
        for u in range(USERS_PER_CLUSTER):
            user = f"u{cluster}-{u}"
            n_events = int(rng.integers(6, 12))
            ts = 1_700_000_000_000 + np.sort(rng.integers(0, 30 * 86_400_000, n_events))
            for t in ts:
                if rng.random() < 0.1:
                    item = f"g{rng.integers(N_GLOBAL)}"
                else:
                    item = f"c{cluster}-{rng.integers(ITEMS_PER_BLOCK)}"
                kind = "purchase" if rng.random() < 0.2 else "view"
                rows.append((user, item, kind, int(t)))
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "kind", "ts"])
    return Dataset.from_events(events, catalogue())


@pytest.fixture(scope="session")
def item_block():
    """`item_block(item_idx, data)`: each item's cluster, -1 for the global items."""
    return block_of


@pytest.fixture(scope="session")
def clustered() -> Dataset:
    return make_clustered()
