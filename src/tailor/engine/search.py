"""Personalized search: a query's text vector against the item vectors, re-ranked for the user.

The query goes through the content model's own encoder (multilingual by default, so a Chinese
or English query finds items described in either), into an exact faiss inner-product index over
the content model's unit item vectors: the cosine of query and item. The best `pool` matches
that may be shown are re-ranked by

    (1 - w) * cosine / best cosine  +  w * affinity(user, item's category)

where affinity is the share of the user's recent event weight on the item's leaf category and on
its top-level category (half each), and w is `scenarios.search_personalization` (or the user's
A/B variant's). Without a user, or with w = 0, the text match alone orders the items.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import numpy as np

from tailor.errors import UnsupportedError
from tailor.models import Recommender
from tailor.rank.items import ItemFacts
from tailor.text import TextEncoder, encoder

CONTENT = "content"


@dataclass(frozen=True)
class Matches:
    items: np.ndarray  # item_idx, best first after re-ranking
    scores: np.ndarray  # the blended score
    cosine: np.ndarray  # the text match alone
    affinity: np.ndarray  # the user's taste for each item's category, in [0, 1]


@functools.cache
def query_encoder(name: str) -> tuple[TextEncoder, threading.Lock]:
    """One warmed-up encoder per name for the process, shared by every version served (its
    first call builds the graph: seconds), with the lock its callers take."""
    shared = encoder(name, threads=1)
    shared.encode(["warm up"])
    return shared, threading.Lock()


class TextIndex:
    """Exact cosine search over one artifact's content vectors, with the encoder that made them."""

    def __init__(self, model: Recommender) -> None:
        import faiss

        vectors = np.ascontiguousarray(model.item_vectors_, dtype=np.float32)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)
        self.encoder, self._lock = query_encoder(model.params.text_encoder)

    @classmethod
    def of(cls, models: dict[str, Recommender]) -> TextIndex:
        model = models.get(CONTENT)
        if model is None or getattr(model, "item_vectors_", None) is None:
            raise UnsupportedError(
                'search needs the content model: add "content" to train.models and train again'
            )
        return cls(model)

    def encode(self, query: str) -> np.ndarray:
        with self._lock:
            return self.encoder.encode([query])

    def search(self, query: str, pool: int) -> tuple[np.ndarray, np.ndarray]:
        """The `pool` items closest to the query: (item_idx, cosine), best first."""
        scores, found = self.index.search(self.encode(query), min(pool, self.index.ntotal))
        keep = found[0] >= 0
        return found[0][keep].astype(np.int64), scores[0][keep]


def category_affinity(
    items: ItemFacts, history: np.ndarray, weights: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """Per candidate: half the share of the history's weight on its leaf category plus half the
    share on its top-level category (0 without a category, or for an empty history)."""
    total = float(weights.sum())
    if not len(history) or total <= 0:
        return np.zeros(len(candidates))
    leaves: dict[str, float] = {}
    tops: dict[int, float] = {}
    for leaf, top, weight in zip(
        items.category[history].tolist(), items.top[history].tolist(), weights.tolist()
    ):
        leaves[leaf] = leaves.get(leaf, 0.0) + weight
        tops[top] = tops.get(top, 0.0) + weight
    leaves.pop("", None)
    tops.pop(-1, None)
    shares = [
        0.5 * leaves.get(leaf, 0.0) + 0.5 * tops.get(top, 0.0)
        for leaf, top in zip(items.category[candidates].tolist(), items.top[candidates].tolist())
    ]
    return np.array(shares, dtype=np.float64) / total


def rerank(
    candidates: np.ndarray, cosine: np.ndarray, affinity: np.ndarray, personalization: float
) -> Matches:
    """The candidates ordered by the blended score (see the module doc); ties keep text order.
    `affinity` is aligned with `candidates`."""
    best = float(cosine.max()) if len(cosine) else 1.0
    text = cosine / best if best > 0 else cosine
    scores = (1.0 - personalization) * text + personalization * affinity
    order = np.argsort(-scores, kind="stable")
    return Matches(candidates[order], scores[order], cosine[order], affinity[order])
