"""What the rules and explanations know about each item, aligned with an artifact's item_idx.

The facts start from the artifact's catalogue and follow the store's catalogue (at load time and on
every item write), so a price, stock or promotion change counts at once, without retraining.
Unknown values stay unknown: NaN price, stock and creation time, empty brand and category.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tailor.types import CATEGORY_SEPARATOR, IdMap

PROMOTED = "promoted"
MAX_CACHED_CATEGORIES = 1024


class ItemFacts:
    """Per item_idx arrays: title, attributes, category, top-level category code, brand, price,
    stock, created_at (ms), promoted, and whether the item may be shown at all (listed, not hidden)."""

    def __init__(self, item_ids: IdMap, catalogue: pd.DataFrame) -> None:
        n = len(item_ids)
        self.item_ids = item_ids
        self.title = _text(catalogue, "title", n)
        self.category = _text(catalogue, "category", n)
        self.brand = np.full(n, "", dtype=object)
        self.brand_key = np.full(n, "", dtype=object)
        self.attributes = np.full(n, None, dtype=object)
        self.price = _numbers(catalogue, "price", n)
        self.stock = _numbers(catalogue, "stock", n)
        self.created_at = np.full(n, np.nan)
        self.promoted = np.zeros(n, dtype=bool)
        self.shown = _flags(catalogue, "listed", n, True) & ~_flags(catalogue, "hidden", n, False)
        self.top = np.full(n, -1, dtype=np.int32)
        self.top_names: list[str] = []
        self._under: dict[str, np.ndarray] = {}
        self.version = 0  # counts changes, so what is derived from the facts knows when to redo
        self._recode_tops()

    @property
    def in_stock(self) -> np.ndarray:
        """Stock known and 0 (or below) is out; unknown stock counts as in stock."""
        return ~(self.stock <= 0)

    def update(self, items: pd.DataFrame) -> None:
        """Take validated store rows; items the artifact does not know are ignored."""
        idx = self.item_ids.indices(items["item_id"].astype(str))
        known = idx >= 0
        rows, idx = items[known], idx[known]
        self.title[idx] = _text(rows, "title", len(rows))
        self.category[idx] = _text(rows, "category", len(rows))
        self.brand[idx] = _text(rows, "brand", len(rows))
        self.price[idx] = _numbers(rows, "price", len(rows))
        self.stock[idx] = _numbers(rows, "stock", len(rows))
        self.created_at[idx] = _numbers(rows, "created_at", len(rows))
        attributes = rows["attributes"].tolist() if "attributes" in rows else [None] * len(rows)
        tags = rows["tags"].tolist() if "tags" in rows else [None] * len(rows)
        self.attributes[idx] = pd.Series(attributes, dtype=object).to_numpy()
        self.brand_key[idx] = [brand_key(b) for b in self.brand[idx]]
        self.promoted[idx] = [_is_promoted(t, a) for t, a in zip(tags, attributes)]
        hidden = rows["hidden"].fillna(False).to_numpy(dtype=bool) if "hidden" in rows else False
        self.shown[idx] = ~hidden
        self._recode_tops()
        self.version += 1

    def under(self, category: str) -> np.ndarray:
        """Mask of items whose category path is `category` or lies below it (whole levels only),
        the filter normalised like stored paths: blanks around levels and empty levels dropped."""
        prefix = normalise_path(category)
        found = self._under.get(prefix)
        if found is None:
            paths = pd.Series(self.category, dtype=object)
            match = (paths == prefix) | paths.str.startswith(prefix + CATEGORY_SEPARATOR)
            found = match.to_numpy(dtype=bool)
            if len(self._under) >= MAX_CACHED_CATEGORIES:
                self._under.clear()
            self._under[prefix] = found
        return found

    def withdraw(self, idx: np.ndarray) -> None:
        self.shown[idx[idx >= 0]] = False
        self.version += 1

    def _recode_tops(self) -> None:
        tops = pd.Series(self.category, dtype=object).str.split(CATEGORY_SEPARATOR, n=1).str[0]
        codes, names = pd.factorize(tops.where(tops != "", None))
        self.top = codes.astype(np.int32)
        self.top_names = [str(name) for name in names]
        self._under.clear()


def normalise_path(category: str) -> str:
    levels = (level.strip() for level in category.split(CATEGORY_SEPARATOR))
    return CATEGORY_SEPARATOR.join(level for level in levels if level)


def brand_key(brand: str) -> str:
    return " ".join(brand.split()).casefold()


def _text(frame: pd.DataFrame, column: str, n: int) -> np.ndarray:
    if column not in frame:
        return np.full(n, "", dtype=object)
    text = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    return np.array(text.to_numpy(dtype=object), dtype=object)


def _flags(frame: pd.DataFrame, column: str, n: int, default: bool) -> np.ndarray:
    if column not in frame:
        return np.full(n, default)
    return np.array(frame[column].fillna(default).to_numpy(dtype=bool), dtype=bool)


def _numbers(frame: pd.DataFrame, column: str, n: int) -> np.ndarray:
    if column not in frame:
        return np.full(n, np.nan)
    numbers = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return np.array(numbers.to_numpy(na_value=np.nan), dtype=np.float64)


def _is_promoted(tags: Any, attributes: Any) -> bool:
    in_tags = isinstance(tags, list | tuple | np.ndarray) and PROMOTED in list(tags)
    return in_tags or (isinstance(attributes, Mapping) and bool(attributes.get(PROMOTED)))
