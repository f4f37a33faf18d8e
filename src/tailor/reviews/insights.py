"""Per-item review insights: sentiment shares, praised and complained-about aspects, examples.

Answers read the item's stored reviews at request time (its latest `reviews.max_reviews`), so a
review posted after training counts; only the sentiment model comes from training (`tailor train
reviews`). The stored reviews are read again after `reviews.refresh_seconds`, and the model when
its `CURRENT` moves. Each review's sentiment comes from its whole text; an aspect's polarity from
the clause that names it, so "质量很好，但是物流太慢" praises quality and complains about delivery.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor import pointer
from tailor.errors import NotFittedError, UnknownItemError
from tailor.reviews import artifact
from tailor.reviews.aspects import ASPECTS, AspectSpace, clauses
from tailor.reviews.sentiment import NEGATIVE, POSITIVE, SENTIMENTS, SentimentModel
from tailor.reviews.training import stored_reviews
from tailor.settings import Settings
from tailor.store.base import Store
from tailor.text import TextEncoder, encoder

SENTIMENT_LABELS = {
    "zh": {"negative": "差评", "neutral": "中评", "positive": "好评"},
    "en": {"negative": "negative", "neutral": "neutral", "positive": "positive"},
}
MAX_CACHED_TEXTS = 20_000  # sentence vectors kept in memory (2 KB each)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def review_language(text: str) -> str:
    """The language of a text: "zh" when it has Chinese characters, else "en"."""
    return "zh" if _CJK.search(text) else "en"


@dataclass(frozen=True)
class Mention:
    review: int  # position in the texts given
    clause: str
    aspect: str
    polarity: int  # index into SENTIMENTS


def find_mentions(
    texts: Sequence[str],
    model: SentimentModel,
    encode: Callable[[list[str]], np.ndarray],
    space: AspectSpace,
) -> list[Mention]:
    """Every (review, clause, aspect) with the clause's predicted polarity."""
    parts = [(k, c) for k, text in enumerate(texts) for c in clauses(text)]
    if not parts:
        return []
    clause_texts = [c for _, c in parts]
    vectors = encode(clause_texts)
    polarity = model.predict_unskewed(vectors)
    named = space.aspects(clause_texts, vectors)
    return [
        Mention(k, c, aspect, int(p))
        for (k, c), names, p in zip(parts, named, polarity)
        for aspect in names
    ]


def aspect_polarities(
    texts: Sequence[str], model: SentimentModel, text_encoder: TextEncoder, space: AspectSpace
) -> list[dict[str, int]]:
    """Per review: aspect -> polarity of its (last) mention."""
    found: list[dict[str, int]] = [{} for _ in texts]
    for m in find_mentions(texts, model, text_encoder.encode, space):
        found[m.review][m.aspect] = m.polarity
    return found


class ReviewInsights:
    """Review summaries per item over a store; thread-safe. `clock` returns seconds."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        text_encoder: TextEncoder | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.settings = settings
        self.config = settings.reviews
        self.text_encoder = text_encoder or encoder(self.config.text_encoder)
        self.clock = clock
        self._lock = threading.Lock()
        self._model: tuple[artifact.ReviewModelVersion, tuple[int, int]] | None = None
        self._reviews: tuple[pd.DataFrame, float] | None = None
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._space: AspectSpace | None = None

    def current(self) -> artifact.ReviewModelVersion:
        current_file = artifact.root(self.settings.artifacts_dir) / pointer.CURRENT_FILE
        try:
            stat = os.stat(current_file)
        except FileNotFoundError:
            raise NotFittedError(artifact.NOT_TRAINED) from None
        key = (stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if self._model is None or self._model[1] != key:
                self._model = (artifact.load(self.settings.artifacts_dir), key)
            return self._model[0]

    def insights(self, item_id: str, lang: str, k: int = 5, examples: int = 2) -> dict:
        """The item's review summary in `lang` ("zh" or "en")."""
        trained = self.current()
        reviews = self._item_reviews(item_id)
        texts = reviews["text"].tolist()
        sentiment = (
            trained.sentiment.predict(self._encode(texts)) if texts else np.zeros(0, dtype=np.int64)
        )
        mentions = find_mentions(texts, trained.sentiment, self._encode, self._aspect_space())
        rated = reviews["value"].dropna()
        counts = np.bincount(sentiment, minlength=len(SENTIMENTS))
        return {
            "item_id": item_id,
            "lang": lang,
            "model_version": trained.version,
            "reviews": len(texts),
            "rated": len(rated),
            "average_rating": round(float(rated.mean()), 2) if len(rated) else None,
            "sentiment": [
                {
                    "sentiment": name,
                    "label": SENTIMENT_LABELS[lang][name],
                    "count": int(counts[s]),
                    "share": round(counts[s] / len(texts), 4) if texts else None,
                }
                for s, name in reversed(list(enumerate(SENTIMENTS)))
            ],
            "praised": _top_aspects(mentions, POSITIVE, texts, lang, k, examples),
            "complained": _top_aspects(mentions, NEGATIVE, texts, lang, k, examples),
        }

    def _item_reviews(self, item_id: str) -> pd.DataFrame:
        reviews = self._stored_reviews()
        mine = reviews[reviews["item_id"] == item_id]
        if mine.empty and self.store.items([item_id]).empty:
            raise UnknownItemError(item_id)
        return mine.tail(self.config.max_reviews).iloc[::-1]  # newest first

    def _stored_reviews(self) -> pd.DataFrame:
        with self._lock:
            now = self.clock()
            if self._reviews is None or now - self._reviews[1] > self.config.refresh_seconds:
                self._reviews = (stored_reviews(self.store.events()), now)
            return self._reviews[0]

    def _aspect_space(self) -> AspectSpace:
        if self._space is None:
            self._space = AspectSpace(self.text_encoder, self.config.aspect_min_cosine)
        return self._space

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors, from a bounded in-memory cache where already encoded."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh = self.text_encoder.encode(missing) if missing else None
        with self._lock:
            for k, text in enumerate(missing):
                self._vectors[text] = fresh[k]
            out = np.stack([self._vectors[t] for t in texts]) if texts else None
            for text in texts:
                self._vectors.move_to_end(text)
            while len(self._vectors) > MAX_CACHED_TEXTS:
                self._vectors.popitem(last=False)
        return out if out is not None else np.zeros((0, self.text_encoder.dim), np.float32)


def _top_aspects(
    mentions: list[Mention], polarity: int, texts: list[str], lang: str, k: int, examples: int
) -> list[dict]:
    """The k aspects most reviews mention with this polarity; examples in `lang` first."""
    reviews: dict[str, set[int]] = {}
    snippets: dict[str, list[str]] = {}
    for m in mentions:
        if m.polarity == polarity:
            reviews.setdefault(m.aspect, set()).add(m.review)
            snippets.setdefault(m.aspect, []).append(m.clause)
    ranked = sorted(reviews, key=lambda a: (-len(reviews[a]), list(ASPECTS).index(a)))[:k]
    return [
        {
            "aspect": aspect,
            "label": getattr(ASPECTS[aspect], lang),
            "reviews": len(reviews[aspect]),
            "share": round(len(reviews[aspect]) / len(texts), 4),
            "examples": sorted(
                dict.fromkeys(snippets[aspect]), key=lambda s: review_language(s) != lang
            )[:examples],
        }
        for aspect in ranked
    ]
