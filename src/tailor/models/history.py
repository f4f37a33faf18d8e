"""History-based models: users are scored from their (recent) events, never from a stored user row.

`HistoryModel` remembers the event-kind weights it was trained with, so a user whose events
arrived after training is turned into the same kind of weighted row the model saw at fit time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from tailor.data.dataset import DEFAULT_KIND, Dataset
from tailor.models.base import Params, Recommender
from tailor.types import UserBatch

# Per thread, the last matrix built and what it was built from: the sources of one request
# (item-kNN, ALS, co-bought...) score the same batch with the same weights, so it is built once.
_last_built = threading.local()


class HistoryParams(Params):
    binary: bool = False
    """Count every interacting (user, item) pair as 1, ignoring kind weights and repeats."""


class HistoryModel(Recommender):
    """Base of models that read the weighted user x item matrix and score users from histories."""

    Params = HistoryParams
    params: HistoryParams

    def _remember_weights(self, data: Dataset) -> None:
        self.kind_weights_ = np.asarray(data.kind_weights, dtype=np.float32)
        self.default_weight_ = (
            float(data.kind_weights[data.kinds.index(DEFAULT_KIND)])
            if DEFAULT_KIND in data.kinds
            else 1.0
        )

    def _train_matrix(self, data: Dataset) -> sp.csr_matrix:
        """The fit-time user x item matrix (and remember the weights for scoring)."""
        self._remember_weights(data)
        matrix = data.matrix.astype(np.float32, copy=True)
        if self.params.binary:
            matrix.data[:] = 1.0
        return matrix

    def _history_matrix(self, users: UserBatch) -> sp.csr_matrix:
        """One weighted row per user of the batch, built from its history as `Dataset.matrix` is."""
        return history_matrix(
            users,
            n_items=self.n_items_ or 0,
            kind_weights=self.kind_weights_,
            default_weight=self.default_weight_,
            binary=self.params.binary,
        )


def history_matrix(
    users: UserBatch,
    n_items: int,
    kind_weights: np.ndarray,
    default_weight: float = 1.0,
    binary: bool = False,
) -> sp.csr_matrix:
    """(len(users), n_items) CSR of summed kind weights per item.

    Items outside the catalogue and events of a non-positive or unknown kind are dropped. Without
    kinds, every event weighs `default_weight`. The matrix may be shared: do not modify it.
    """
    key = (n_items, np.asarray(kind_weights).tobytes(), float(default_weight), binary)
    last = getattr(_last_built, "entry", None)
    if last is not None and last[0] is users and last[1] == key:
        return last[2]
    matrix = _weighted_rows(users, n_items, kind_weights, default_weight, binary)
    _last_built.entry = (users, key, matrix)
    return matrix


def _weighted_rows(
    users: UserBatch, n_items: int, kind_weights: np.ndarray, default_weight: float, binary: bool
) -> sp.csr_matrix:
    lengths = np.fromiter((len(h) for h in users.histories), dtype=np.int64, count=len(users))
    items = _flat(users.histories)
    if users.kinds is None:
        weights = np.full(len(items), default_weight, dtype=np.float32)
    else:
        codes = _flat(users.kinds)
        known = (codes >= 0) & (codes < len(kind_weights))
        weights = np.where(known, kind_weights[np.where(known, codes, 0)], 0.0).astype(np.float32)
    rows = np.repeat(np.arange(len(users), dtype=np.int64), lengths)
    keep = (items >= 0) & (items < n_items) & (weights > 0)
    # Built straight in canonical CSR form (sorted, summed): scipy's way through COO costs more
    # than the rest of a one-user request's retrieval.
    keys, inverse = np.unique(rows[keep] * n_items + items[keep], return_inverse=True)
    data = np.zeros(len(keys), dtype=np.float32)
    np.add.at(data, inverse, weights[keep])
    if binary:
        data[:] = 1.0
    counts = np.bincount(keys // max(n_items, 1), minlength=len(users))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = (keys % max(n_items, 1)).astype(np.int32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(users), n_items))


def _flat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    if not len(arrays):
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.asarray(a, dtype=np.int64) for a in arrays])
