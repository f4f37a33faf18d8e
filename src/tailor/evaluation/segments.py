"""Accuracy by segment: by the test user's history length and by the target item's popularity.

Popularity buckets split the training interactions, not the items: items sorted by interactions
(most first, ties by item index) are `head` while the interactions of the items before them are
under 20% of all, `torso` while under 50% (the next 30%), and `tail` after that, with every item
never interacted with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tailor.evaluation import metrics

HISTORY_BUCKETS = (("1-4", 1), ("5-9", 5), ("10-19", 10), ("20+", 20))  # (label, lowest length)
POPULARITY_BUCKETS = ("head", "torso", "tail")
HEAD_SHARE = 0.2
TORSO_SHARE = 0.3
SEGMENT_K = 10


def history_buckets(lengths: np.ndarray) -> np.ndarray:
    """The HISTORY_BUCKETS label of each history length (0 counts as the shortest bucket)."""
    labels = np.array([label for label, _ in HISTORY_BUCKETS])
    lows = np.array([low for _, low in HISTORY_BUCKETS])
    index = np.searchsorted(lows, np.maximum(np.asarray(lengths), 1), side="right") - 1
    return labels[index]


def popularity_buckets(interactions: np.ndarray) -> np.ndarray:
    """The POPULARITY_BUCKETS label of each item, from its number of training interactions."""
    counts = np.asarray(interactions, dtype=np.float64)
    order = np.argsort(-counts, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(counts[order])[:-1]])
    share_before = before / max(counts.sum(), 1.0)
    ranked = np.full(len(counts), "tail", dtype=object)
    ranked[share_before < HEAD_SHARE + TORSO_SHARE] = "torso"
    ranked[share_before < HEAD_SHARE] = "head"
    ranked[counts[order] == 0] = "tail"
    labels = np.empty(len(counts), dtype=object)
    labels[order] = ranked
    return labels.astype(str)


def _accuracy(rec_items: np.ndarray, targets: Sequence[np.ndarray], k: int) -> dict[str, float]:
    """Mean NDCG@k and Recall@k over the users with targets, and how many users that is."""
    n_targets = metrics.target_counts(targets)
    has = n_targets > 0
    kept = [t for t, h in zip(targets, has, strict=True) if h]
    if not kept:
        return {f"ndcg_at_{k}": 0.0, f"recall_at_{k}": 0.0, "n_users": 0.0}
    hits = metrics.hit_matrix(rec_items[has], kept)
    return {
        f"ndcg_at_{k}": float(metrics.ndcg_at_k(hits, n_targets[has], k).mean()),
        f"recall_at_{k}": float(metrics.recall_at_k(hits, n_targets[has], k).mean()),
        "n_users": float(has.sum()),
    }


def segment_metrics(
    rec_items: np.ndarray,
    targets: Sequence[np.ndarray],
    history_lengths: np.ndarray,
    interactions: np.ndarray,
    k: int = SEGMENT_K,
) -> dict[str, dict[str, dict[str, float]]]:
    """{"history": {bucket: metrics}, "popularity": {bucket: metrics}}; empty buckets left out.

    By history, each user counts in their bucket with all their targets; by popularity, each
    user counts in every bucket that holds one of their targets, scored on those targets only.
    """
    rec_items = np.asarray(rec_items)[:, :k]
    by_history = history_buckets(history_lengths)
    history = {}
    for label, _ in HISTORY_BUCKETS:
        chosen = by_history == label
        if chosen.any():
            picked = [t for t, c in zip(targets, chosen, strict=True) if c]
            history[label] = _accuracy(rec_items[chosen], picked, k)
    bucket_of = popularity_buckets(interactions)
    popularity = {}
    for label in POPULARITY_BUCKETS:
        within = [np.asarray(t)[bucket_of[np.asarray(t, dtype=np.int64)] == label] for t in targets]
        result = _accuracy(rec_items, within, k)
        if result["n_users"]:
            popularity[label] = result
    return {"history": history, "popularity": popularity}
