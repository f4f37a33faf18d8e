"""Ranking metrics as pure functions over (n_users, k) arrays of recommended item indices.

Lists are best first and padded with -1. Per-user metrics return an (n_users,) array, so callers
can average, bootstrap or compare users; catalogue coverage is a property of all lists together
and returns a float.

Definitions (k = the number of columns passed):
- recall@k: hits in the top k / number of targets (with one target, recall@k = HR@k).
- ndcg@k: sum of 1/log2(rank + 1) over hits, divided by the same sum for min(k, |targets|) hits.
- mrr: 1/rank of the first hit in the list, 0 without a hit.
- hit rate: 1 if any target is in the top k.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def hit_matrix(rec_items: np.ndarray, targets: Sequence[np.ndarray]) -> np.ndarray:
    """(n_users, k) bool: whether each recommended item is one of the user's targets."""
    rec_items = np.asarray(rec_items)
    n_users, k = rec_items.shape
    if len(targets) != n_users:
        raise ValueError("one target array per row of rec_items is needed")
    lengths = target_counts(targets)
    if lengths.sum() == 0:
        return np.zeros((n_users, k), dtype=bool)
    flat_targets = np.concatenate([np.asarray(t, dtype=np.int64) for t in targets])
    owner = np.repeat(np.arange(n_users, dtype=np.int64), lengths)
    # Encode (user, item) pairs as one int64 and look the recommended pairs up among the targets.
    width = int(max(rec_items.max(initial=0), flat_targets.max(initial=0))) + 2
    target_keys = np.unique(owner * width + flat_targets + 1)
    rec_keys = np.arange(n_users, dtype=np.int64)[:, None] * width + rec_items.astype(np.int64) + 1
    hits = np.isin(rec_keys, target_keys)
    return hits & (rec_items >= 0)


def target_counts(targets: Sequence[np.ndarray]) -> np.ndarray:
    """The number of targets of each user, as the metrics below take it."""
    return np.fromiter((len(t) for t in targets), dtype=np.int64, count=len(targets))


def recall_at_k(hits: np.ndarray, n_targets: np.ndarray, k: int) -> np.ndarray:
    """Users without targets get 0."""
    return hits[:, :k].sum(axis=1) / np.maximum(n_targets, 1)


def hit_rate(hits: np.ndarray, k: int) -> np.ndarray:
    return hits[:, :k].any(axis=1).astype(np.float64)


def ndcg_at_k(hits: np.ndarray, n_targets: np.ndarray, k: int) -> np.ndarray:
    top = hits[:, :k]
    discounts = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))
    dcg = (top * discounts).sum(axis=1)
    ideal_hits = np.minimum(n_targets, top.shape[1]).astype(np.int64)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[ideal_hits]
    return np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)


def mrr(hits: np.ndarray) -> np.ndarray:
    first = hits.argmax(axis=1)
    return np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)


def catalogue_coverage(rec_items: np.ndarray, n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    shown = np.unique(rec_items[rec_items >= 0])
    return len(shown) / n_items if n_items else 0.0


def novelty(rec_items: np.ndarray, item_counts: np.ndarray, n_users: int) -> np.ndarray:
    """Mean self-information -log2 p(i) of each list's items, p(i) = share of training users who
    interacted with i, smoothed as (count + 1) / (n_users + 1) so unseen items stay finite."""
    p = (np.asarray(item_counts, dtype=np.float64) + 1.0) / (n_users + 1.0)
    info = -np.log2(p)
    valid = rec_items >= 0
    per_item = np.where(valid, info[np.where(valid, rec_items, 0)], 0.0)
    return per_item.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)


def intra_list_diversity(
    rec_items: np.ndarray,
    item_vectors: np.ndarray | None = None,
    item_categories: np.ndarray | None = None,
) -> np.ndarray:
    """Mean pairwise distance within each list: 1 - cosine of item vectors, or 1 when two items'
    categories differ (pass exactly one of the two). Lists with fewer than 2 items get 0."""
    if (item_vectors is None) == (item_categories is None):
        raise ValueError("pass exactly one of item_vectors and item_categories")
    valid = rec_items >= 0
    safe = np.where(valid, rec_items, 0)
    if item_vectors is not None:
        vectors = np.asarray(item_vectors, dtype=np.float64)
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        chosen = unit[safe]
        distance = 1.0 - np.einsum("ukd,uld->ukl", chosen, chosen)
    else:
        cats = np.asarray(item_categories)[safe]
        distance = (cats[:, :, None] != cats[:, None, :]).astype(np.float64)
    pair = valid[:, :, None] & valid[:, None, :]
    k = rec_items.shape[1]
    pair &= ~np.eye(k, dtype=bool)[None]
    n_pairs = pair.sum(axis=(1, 2))
    total = np.where(pair, distance, 0.0).sum(axis=(1, 2))
    return np.divide(total, n_pairs, out=np.zeros(len(rec_items)), where=n_pairs > 0)
