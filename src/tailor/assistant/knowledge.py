"""What the assistant can cite: the shop's FAQ entries and catalogue items, searchable by meaning.

A document's score for a question blends two cosines:

    dense_weight * cosine(language-model vectors) + (1 - dense_weight) * cosine(char n-gram TF-IDF)

The language-model vectors (the multilingual encoder of `tailor.text`) match paraphrases across
Chinese and English; the character n-grams match names the encoder never learnt (brands such as
"Galaxa", "星河") and survive typos. Hidden items are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor.profiles.catalogue import item_text
from tailor.store.base import FaqEntry
from tailor.text import TextEncoder

DENSE_WEIGHT = 0.6


@dataclass(frozen=True)
class Hit:
    position: int  # row in the index's documents
    score: float


class DocumentIndex:
    """Dense and sparse vectors of one set of documents (FAQ questions or item texts)."""

    def __init__(self, encoder: TextEncoder, texts: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.size = len(texts)
        self.dense_ = encoder.encode(list(texts)) if texts else np.zeros((0, encoder.dim))
        self.tfidf_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        self.sparse_ = self.tfidf_.fit_transform(texts) if texts else None

    def scores(self, vector: np.ndarray, text: str) -> np.ndarray:
        """The blended score of every document for a question (its vector and its text)."""
        if self.sparse_ is None:
            return np.zeros(0)
        dense = self.dense_ @ vector
        sparse = (self.sparse_ @ self.tfidf_.transform([text]).T).toarray().ravel()
        return DENSE_WEIGHT * dense + (1.0 - DENSE_WEIGHT) * sparse

    def best(self, scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[Hit]:
        """The k best documents (among `allowed` when given), best first."""
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        order = np.argsort(-scores, kind="stable")[:k]
        return [Hit(int(i), float(scores[i])) for i in order if np.isfinite(scores[i])]


class FaqIndex:
    def __init__(self, encoder: TextEncoder, entries: list[FaqEntry]) -> None:
        self.entries = entries
        self.langs = np.array([entry.lang for entry in entries])
        self.index = DocumentIndex(encoder, [entry.question for entry in entries])

    def search(self, vector: np.ndarray, text: str, lang: str, k: int) -> list[Hit]:
        """The k best entries, in `lang` when the FAQ has any in it."""
        same = self.langs == lang
        return self.index.best(self.index.scores(vector, text), k, same if same.any() else None)


class ItemIndex:
    def __init__(self, encoder: TextEncoder, items: pd.DataFrame) -> None:
        shown = items[~items["hidden"].fillna(False).astype(bool)].reset_index(drop=True)
        self.items = shown
        self.index = DocumentIndex(encoder, [item_text(row) for row in shown.to_dict("records")])

    def scores(self, vector: np.ndarray, text: str) -> np.ndarray:
        return self.index.scores(vector, text)
