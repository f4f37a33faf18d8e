"""The interest vector: the mean text vector of a user's latest items, through the same language
model as item and query text, and the catalogue keywords nearest to it in zh and in en."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tailor.profiles.catalogue import ItemFacts, has_chinese, label_in
from tailor.text import TextEncoder


class InterestSpace:
    """Item and keyword vectors, encoded when first needed and then kept.

    `previous` is the space this one replaces (after a catalogue reload): its vectors of texts
    the catalogue still holds are kept, so only new or changed texts are encoded again."""

    def __init__(
        self, encoder: TextEncoder, facts: ItemFacts, previous: InterestSpace | None = None
    ) -> None:
        self.encoder = encoder
        self.facts = facts
        self._by_text: dict[str, np.ndarray] = {}
        if previous is not None:
            kept = facts.texts().union(*(words for words, _ in previous._keywords.values()))
            self._by_text = {t: v for t, v in previous._by_text.items() if t in kept}
        self._keywords: dict[str, tuple[list[str], np.ndarray]] = {}

    def vector(self, item_ids: Sequence[str]) -> np.ndarray | None:
        """Mean text vector of the items the catalogue knows; None when it knows none of them."""
        texts = [fact.text for fact in map(self.facts.get, item_ids) if fact is not None]
        if not texts:
            return None
        return np.mean(self._encoded(texts), axis=0).astype(np.float32)

    def _encoded(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._by_text))
        if missing:
            self._by_text.update(zip(missing, self.encoder.encode(missing)))
        return np.stack([self._by_text[t] for t in texts])

    def nearest_keywords(self, vector: np.ndarray, lang: str, k: int) -> list[str]:
        words, vectors = self.vocabulary(lang)
        if not words:
            return []
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            return []
        scores = vectors @ (vector / norm)
        return [words[i] for i in np.argsort(-scores, kind="stable")[:k]]

    def vocabulary(self, lang: str) -> tuple[list[str], np.ndarray]:
        if lang not in self._keywords:
            words = sorted({label_in(w, lang) for w in self.facts.keywords()})
            in_language = [w for w in words if has_chinese(w) == (lang == "zh")]
            words = in_language or words
            self._keywords[lang] = (words, self._encoded(words) if words else np.empty((0, 0)))
        return self._keywords[lang]
