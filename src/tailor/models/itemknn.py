"""Item-based nearest neighbours: cosine similarity of item columns, top-k neighbours kept sparse.

score(u, j) = sum over items i in u's history of w(u, i) * sim(i, j), where row i of `sim` keeps
only i's `neighbours` most similar items. Similarities are computed in blocks of items, so memory
stays bounded by the block and the sparse result.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from tailor.data.dataset import Dataset
from tailor.models.history import HistoryModel, HistoryParams
from tailor.types import UserBatch

_BLOCK_CELLS = 1 << 25  # dense cells per similarity block (128 MB of float32)


class ItemKNNParams(HistoryParams):
    neighbours: int = Field(100, ge=1)
    shrink: float = Field(0.0, ge=0)
    """Added to the cosine denominator: damps similarities resting on few co-occurrences."""


class ItemKNN(HistoryModel):
    name = "itemknn"
    Params = ItemKNNParams
    params: ItemKNNParams
    supports_similar_items = True

    def _fit(self, data: Dataset) -> None:
        self.similarity_ = cosine_neighbours(
            self._train_matrix(data), self.params.neighbours, self.params.shrink
        )

    def _score(self, users: UserBatch) -> np.ndarray:
        return np.asarray(
            (self._history_matrix(users) @ self.similarity_).todense(), dtype=np.float32
        )

    def _similar(self, items: np.ndarray) -> np.ndarray:
        return self.similarity_[items].toarray()


def cosine_neighbours(matrix: sp.csr_matrix, neighbours: int, shrink: float = 0.0) -> sp.csr_matrix:
    """(n_items, n_items) CSR: row i holds the `neighbours` highest positive cosines of item i."""
    n_items = matrix.shape[1]
    item_major = matrix.T.tocsr()
    norms = np.sqrt(np.asarray(item_major.multiply(item_major).sum(axis=1)).ravel())
    block = max(1, _BLOCK_CELLS // max(n_items, 1))
    kk = min(neighbours, n_items)
    rows, cols, vals = [], [], []
    for start in range(0, n_items, block):
        stop = min(start + block, n_items)
        dots = (item_major[start:stop] @ item_major.T).toarray()
        sims = dots / (np.outer(norms[start:stop], norms) + shrink + 1e-12)
        sims[np.arange(stop - start), np.arange(start, stop)] = 0.0
        top = _top_columns(sims, kk)
        top_vals = np.take_along_axis(sims, top, axis=1)
        keep = top_vals > 0
        rows.append(np.repeat(np.arange(start, stop), kk).reshape(-1, kk)[keep])
        cols.append(top[keep])
        vals.append(top_vals[keep])
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_items, n_items),
    )


def _top_columns(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest entries, in no particular order."""
    if k >= scores.shape[1]:
        return np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    return np.argpartition(-scores, k - 1, axis=1)[:, :k]
