"""What a profile needs to know about each item: category, brand, tags, price, and where the price
sits among the prices of its category (0 = cheapest, 1 = dearest); plus bilingual labels.

Shop labels are often bilingual in one string ("美妆 Beauty", "热卖 bestseller"). `label_in`
keeps the Chinese words for zh and the others for en, and the whole label when one side is empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor.types import CATEGORY_SEPARATOR

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def has_chinese(text: str) -> bool:
    return _CJK.search(text) is not None


def label_in(label: str, lang: str) -> str:
    """The zh or en part of a bilingual label, path segments handled one by one."""
    if CATEGORY_SEPARATOR in label:
        return CATEGORY_SEPARATOR.join(
            label_in(part, lang) for part in label.split(CATEGORY_SEPARATOR)
        )
    words = label.split()
    chinese = [w for w in words if has_chinese(w)]
    other = [w for w in words if not has_chinese(w)]
    chosen = chinese if lang == "zh" else other
    return " ".join(chosen) if chosen and len(chosen) < len(words) else label


@dataclass(frozen=True)
class ItemFact:
    category: str | None
    brand: str | None
    tags: tuple[str, ...]
    price: float | None
    relative_price: float | None  # in [0, 1] within the item's category
    text: str  # what the language model reads


def relative_prices(categories: pd.Series, prices: pd.Series) -> pd.Series:
    """Mid-rank percentile of each price within its category, in [0, 1]; NaN without a price.

    A category with one priced item puts it at 0.5.
    """
    frame = pd.DataFrame({"category": categories.fillna(""), "price": prices})
    ranks = frame.groupby("category")["price"].rank(method="average")
    counts = frame.groupby("category")["price"].transform("count")
    return (ranks - 0.5) / counts


def item_text(row: dict) -> str:
    parts = [row.get("title"), row.get("brand"), row.get("category"), row.get("description")]
    text = " ".join(str(p) for p in parts if isinstance(p, str) and p)
    return text.replace(CATEGORY_SEPARATOR, " ").strip()


class ItemFacts:
    """Per-item facts built from a catalogue frame (columns of `tailor.types.ITEM_COLUMNS`)."""

    def __init__(self, items: pd.DataFrame) -> None:
        priced = pd.to_numeric(items["price"], errors="coerce") if "price" in items else None
        relative = (
            relative_prices(items["category"], priced)
            if priced is not None and "category" in items
            else None
        )
        facts: dict[str, ItemFact] = {}
        for position, row in enumerate(items.to_dict("records")):
            price = None if priced is None else priced.iloc[position]
            rel = None if relative is None else relative.iloc[position]
            tags = row.get("tags")
            facts[str(row["item_id"])] = ItemFact(
                category=row.get("category") if isinstance(row.get("category"), str) else None,
                brand=row.get("brand") if isinstance(row.get("brand"), str) else None,
                tags=tuple(tags) if isinstance(tags, list | tuple | np.ndarray) else (),
                price=None if price is None or np.isnan(price) else float(price),
                relative_price=None if rel is None or np.isnan(rel) else float(rel),
                text=item_text(row),
            )
        self._facts = facts

    def __len__(self) -> int:
        return len(self._facts)

    def get(self, item_id: str | None) -> ItemFact | None:
        return None if item_id is None else self._facts.get(item_id)

    def texts(self) -> set[str]:
        return {fact.text for fact in self._facts.values()}

    def keywords(self) -> list[str]:
        """Descriptive words of the catalogue: every category path segment and every tag."""
        words: set[str] = set()
        for fact in self._facts.values():
            if fact.category:
                words.update(
                    s.strip() for s in fact.category.split(CATEGORY_SEPARATOR) if s.strip()
                )
            words.update(t for t in fact.tags if t)
        return sorted(words)
