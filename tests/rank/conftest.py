"""A hand-made eight-item catalogue for the rule and explanation tests."""

from __future__ import annotations

import pandas as pd
import pytest

from tailor.rank.items import ItemFacts
from tailor.rank.rules import DAY_MS, RuleContext, Rules
from tailor.types import IdMap

NOW = 1_800_000_000_000


def catalogue() -> pd.DataFrame:
    """Beauty (i0-i2), Home (i3-i5), a hidden Food item (i6) and an item without category (i7)."""
    return pd.DataFrame(
        {
            "item_id": [f"i{n}" for n in range(8)],
            "title": [
                "光感面霜 Glow Cream", "精华 Serum", "洗发水 Shampoo", "平底锅 Pan",
                "炒锅 Wok", "毛巾 Towel", "绿茶 Green tea", "礼品卡",
            ],
            "category": [
                "美妆 Beauty/护肤 Skin/面霜 Cream", "美妆 Beauty/护肤 Skin/精华 Serum",
                "美妆 Beauty/护发 Hair/洗发水 Shampoo", "家居 Home/厨房 Kitchen/锅 Pan",
                "家居 Home/厨房 Kitchen/炒锅 Wok", "家居 Home/浴室 Bath/毛巾 Towel",
                "食品 Food/茶 Tea/绿茶 Green", None,
            ],
            "brand": ["Aura", "Aura", "Bloom", "Cozen", " cozen ", "Bloom", "Leaf", None],
            "price": [10.0, 50.0, 30.0, 80.0, 120.0, None, 5.0, 15.0],
            "stock": [5, 0, None, 3, 1, 2, 9, 4],
            "tags": [["promoted"], [], [], [], [], None, [], []],
            "attributes": [None] * 3 + [{"promoted": True}] + [None] * 3 + [{"title_en": "Gift card"}],
            "created_at": [NOW - d * DAY_MS if d else None for d in (2, 200, 200, None, 100, 200, 200, 200)],
            "hidden": [False] * 6 + [True, False],
        }
    )  # fmt: skip


@pytest.fixture
def items() -> ItemFacts:
    frame = catalogue()
    facts = ItemFacts(IdMap(frame["item_id"]), frame[["item_id"]])
    facts.update(frame)
    return facts


@pytest.fixture
def context(items):
    """context(**rules) -> a RuleContext over the hand-made catalogue at NOW."""

    def make(vectors=None, **rules) -> RuleContext:
        ruled = Rules(**rules)
        return RuleContext(
            items=items,
            rules=ruled,
            now_ms=NOW,
            excluded_ids=items.item_ids.indices(ruled.exclude_ids),
            vectors=vectors,
        )

    return make
