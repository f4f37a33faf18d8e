"""The interest vector: the mean text vector of a user's latest items, through the same language
model as item and query text, and the catalogue keywords nearest to it in zh and in en."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tailor.profiles.catalogue import ItemFacts, has_chinese, label_in
from tailor.text import TextEncoder


class InterestSpace:
    """Item and keyword vectors, encoded when first needed and then kept."""

    def __init__(self, encoder: TextEncoder, facts: ItemFacts) -> None:
        self.encoder = encoder
        self.facts = facts
        self._items: dict[str, np.ndarray] = {}
        self._keywords: dict[str, tuple[list[str], np.ndarray]] = {}

    def vector(self, item_ids: Sequence[str]) -> np.ndarray | None:
        """Mean text vector of the items the catalogue knows; None when it knows none of them."""
        known = [i for i in item_ids if self.facts.get(i) is not None]
        missing = [i for i in known if i not in self._items]
        if missing:
            encoded = self.encoder.encode([self.facts.get(i).text for i in missing])  # type: ignore[union-attr]
            self._items.update(zip(missing, encoded))
        if not known:
            return None
        return np.mean([self._items[i] for i in known], axis=0).astype(np.float32)

    def nearest_keywords(self, vector: np.ndarray, lang: str, k: int) -> list[str]:
        words, vectors = self._vocabulary(lang)
        if not words:
            return []
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            return []
        scores = vectors @ (vector / norm)
        return [words[i] for i in np.argsort(-scores, kind="stable")[:k]]

    def _vocabulary(self, lang: str) -> tuple[list[str], np.ndarray]:
        if lang not in self._keywords:
            words = sorted({label_in(w, lang) for w in self.facts.keywords()})
            in_language = [w for w in words if has_chinese(w) == (lang == "zh")]
            words = in_language or words
            self._keywords[lang] = (words, self.encoder.encode(words))
        return self._keywords[lang]
