"""Catalogue rows as the assistant shows them: titles and categories in the answer's language,
price caps read from the question, and the shopper's taste for an item's category."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tailor.assistant.compose import ItemFact
from tailor.rank.explain import localized
from tailor.types import CATEGORY_SEPARATOR

# "under 100", "below ¥80", "less than 50 yuan", "100元以下", "100块以内", "不超过100", "低于80元"
_CAP_EN = re.compile(
    r"(?:under|below|less than|cheaper than|at most|max|<)\s*[¥￥$]?\s*(\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
_CAP_ZH = re.compile(
    r"(?:不超过|低于|少于|不到)\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*(?:元|块)?\s*(?:以下|以内|之内)"
)


def price_cap(question: str) -> float | None:
    """The most the shopper wants to pay, when the question says so."""
    match = _CAP_EN.search(question) or _CAP_ZH.search(question)
    if match is None:
        return None
    return float(next(group for group in match.groups() if group))


def item_title(row: Mapping[str, Any], lang: str) -> str:
    """Attribute `title_<lang>`, else the `lang` half of a bilingual title, else the item id."""
    attributes = row.get("attributes")
    if isinstance(attributes, Mapping) and attributes.get(f"title_{lang}"):
        return str(attributes[f"title_{lang}"])
    text = row.get("title")
    return localized(text, lang) if isinstance(text, str) and text else str(row["item_id"])


def item_fact(row: Mapping[str, Any], lang: str, personal: bool = False) -> ItemFact:
    category = row.get("category")
    leaf = (
        category.split(CATEGORY_SEPARATOR)[-1] if isinstance(category, str) and category else None
    )
    price, stock = row.get("price"), row.get("stock")
    return ItemFact(
        item_id=str(row["item_id"]),
        title=item_title(row, lang),
        price=None if price is None or pd.isna(price) else float(price),
        stock=None if stock is None or pd.isna(stock) else int(stock),
        category=None if leaf is None else localized(leaf, lang),
        personal=personal,
    )


def category_taste(categories: pd.Series, weights: Mapping[str, float]) -> np.ndarray:
    """Per item: half the share of the shopper's category weight on its leaf category plus half
    the share on its top-level category (0 without a taste or a category)."""
    total = sum(weights.values())
    if total <= 0:
        return np.zeros(len(categories))
    tops: dict[str, float] = {}
    for path, weight in weights.items():
        top = path.split(CATEGORY_SEPARATOR)[0]
        tops[top] = tops.get(top, 0.0) + weight
    paths = categories.fillna("").astype(str)
    leaf_share = paths.map(lambda p: weights.get(p, 0.0)).to_numpy(dtype=float)
    top_share = paths.map(lambda p: tops.get(p.split(CATEGORY_SEPARATOR)[0], 0.0) if p else 0.0)
    return (0.5 * leaf_share + 0.5 * top_share.to_numpy(dtype=float)) / total
