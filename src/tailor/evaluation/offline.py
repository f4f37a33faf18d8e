"""Offline evaluation: rank the full catalogue for every user, in batches, and score the lists."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tailor.data.dataset import Dataset
from tailor.data.splits import EvalSet
from tailor.evaluation import metrics
from tailor.models.base import Recommender
from tailor.types import UserBatch

DEFAULT_BATCH_SIZE = 1024


def slice_users(users: UserBatch, start: int, stop: int) -> UserBatch:
    return UserBatch(
        user_idx=users.user_idx[start:stop],
        histories=users.histories[start:stop],
        kinds=None if users.kinds is None else users.kinds[start:stop],
    )


def rank(
    model: Recommender,
    users: UserBatch,
    k: int,
    *,
    exclude_seen: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> np.ndarray:
    """(len(users), k) best-first item indices over the whole catalogue, padded with -1.

    Scores are materialised for `batch_size` users at a time, so memory stays at
    batch_size x n_items floats whatever the number of users.
    """
    out = np.full((len(users), k), -1, dtype=np.int64)
    for start in range(0, len(users), batch_size):
        stop = min(start + batch_size, len(users))
        recs = model.recommend(slice_users(users, start, stop), k, exclude_seen=exclude_seen)
        out[start:stop] = recs.item_idx
    return out


def ranking_metrics(
    rec_items: np.ndarray,
    targets: Sequence[np.ndarray],
    ks: Sequence[int] = (5, 10),
    *,
    train: Dataset | None = None,
    item_vectors: np.ndarray | None = None,
) -> dict[str, float]:
    """Mean metrics over users that have targets.

    Accuracy at each k; MRR, and with `train` catalogue coverage and novelty, at the largest k;
    with `item_vectors` intra-list diversity at the largest k too.
    """
    n_targets = metrics.target_counts(targets)
    has = n_targets > 0
    rec_items, n_targets = rec_items[has], n_targets[has]
    hits = metrics.hit_matrix(rec_items, [t for t, h in zip(targets, has, strict=True) if h])
    top = max(ks)
    if rec_items.shape[1] < top:
        raise ValueError(f"need at least {top} recommendations per user, got {rec_items.shape[1]}")
    result: dict[str, float] = {}
    for k in ks:
        result[f"recall_at_{k}"] = float(metrics.recall_at_k(hits, n_targets, k).mean())
        result[f"ndcg_at_{k}"] = float(metrics.ndcg_at_k(hits, n_targets, k).mean())
        result[f"hit_rate_at_{k}"] = float(metrics.hit_rate(hits, k).mean())
    result[f"mrr_at_{top}"] = float(metrics.mrr(hits[:, :top]).mean())
    lists = rec_items[:, :top]
    if train is not None:
        result[f"coverage_at_{top}"] = metrics.catalogue_coverage(lists, train.n_items)
        result[f"novelty_at_{top}"] = float(
            metrics.novelty(lists, train.item_counts, train.n_users).mean()
        )
    if item_vectors is not None:
        diversity = metrics.intra_list_diversity(lists, item_vectors=item_vectors)
        result[f"diversity_at_{top}"] = float(diversity.mean())
    return result


def evaluate(
    model: Recommender,
    eval_set: EvalSet,
    ks: Sequence[int] = (5, 10),
    exclude_seen: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    train: Dataset | None = None,
    item_vectors: np.ndarray | None = None,
) -> dict[str, float]:
    """Rank the full catalogue for every user of `eval_set` and average the metrics."""
    rec_items = rank(
        model, eval_set.users, max(ks), exclude_seen=exclude_seen, batch_size=batch_size
    )
    return ranking_metrics(rec_items, eval_set.targets, ks, train=train, item_vectors=item_vectors)
