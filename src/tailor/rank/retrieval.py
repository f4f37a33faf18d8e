"""Candidate retrieval: every source's own top N for a batch of users, merged into one table.

Three kinds of source, chosen by what the fitted model exposes:

- vector sources (ALS factors, content text vectors, the sequence Transformer's item table): a
  user vector searched against the item vectors in a faiss inner-product index, exact
  (`IndexFlatIP`) up to `hnsw_threshold` items and HNSW above it;
- prior sources (popular, trending): one fixed ranking, filtered per request;
- similarity sources (item-kNN, co-bought: a sparse item-item similarity): the sum of the
  similarity rows of the user's history items, over the items they reach only;
- model sources (EASE, anything else): the model's own top N over the whole catalogue.

The merged `Candidates` hold one row per distinct (user, item) with each source's score and
1-based rank; a source that did not retrieve the item has score NaN and rank `depth + 1`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from tailor.models.base import Recommender, top_k
from tailor.models.history import HistoryModel, history_matrix
from tailor.rank.sparse_rows import similarity_sums
from tailor.settings import RankerSettings
from tailor.types import Recs, UserBatch

UserVectors = Callable[[UserBatch], np.ndarray]
INDEX_SUFFIX = ".faiss"


@dataclass(frozen=True)
class Candidates:
    """Rows sorted by user row, then item: `indptr[r]:indptr[r + 1]` are batch row r's."""

    sources: tuple[str, ...]
    indptr: np.ndarray  # (n_users + 1,)
    item: np.ndarray  # (n,) item_idx
    scores: np.ndarray  # (n, n_sources) float32, NaN where the source did not retrieve it
    ranks: np.ndarray  # (n, n_sources) float32, 1-based; depth + 1 where not retrieved

    def __len__(self) -> int:
        return len(self.item)

    @property
    def row(self) -> np.ndarray:
        """The batch row of every candidate."""
        return np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))

    def best_source(
        self, prefer: np.ndarray | None = None, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Per candidate (of `rows`, or all), the index of the source that ranked it highest;
        among the `prefer`red sources (a mask over `sources`) when any of them retrieved it."""
        ranks = self.ranks if rows is None else self.ranks[rows]
        if prefer is None:
            return np.argmin(ranks, axis=1)
        scores = self.scores if rows is None else self.scores[rows]
        preferred = np.isfinite(scores) & prefer
        ranks = np.where(preferred | ~preferred.any(axis=1, keepdims=True), ranks, np.inf)
        return np.argmin(ranks, axis=1)


class VectorIndex:
    """Inner-product search over item vectors: exact when small, HNSW when large."""

    def __init__(self, index: Any) -> None:
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, settings: RankerSettings) -> VectorIndex:
        faiss = _faiss()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) <= settings.hnsw_threshold:
            index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = settings.hnsw_ef_construction
        index.add(vectors)
        return cls(index)

    @property
    def is_exact(self) -> bool:
        return not hasattr(self.index, "hnsw")

    def search(
        self, queries: np.ndarray, depth: int, ef_search: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, item_idx), each (len(queries), depth), -1 padded."""
        if not self.is_exact:
            self.index.hnsw.efSearch = max(ef_search, depth)
        depth = min(depth, self.index.ntotal)
        scores, items = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), depth)
        return scores, items.astype(np.int64)

    def save(self, path: Path) -> None:
        _faiss().write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        return cls(_faiss().read_index(str(path)))


class Source(ABC):
    """One retriever: the top `depth` allowed, not excluded items for each user of a batch."""

    @abstractmethod
    def retrieve(
        self, users: UserBatch, depth: int, allowed: np.ndarray, exclude: Sequence[np.ndarray]
    ) -> Recs: ...


class VectorSource(Source):
    def __init__(self, user_vectors: UserVectors, items: np.ndarray, index: VectorIndex,
                 ef_search: int) -> None:  # fmt: skip
        self.user_vectors = user_vectors
        self.items = items
        self.index = index
        self.ef_search = ef_search

    def retrieve(
        self, users: UserBatch, depth: int, allowed: np.ndarray, exclude: Sequence[np.ndarray]
    ) -> Recs:
        queries = np.asarray(self.user_vectors(users), dtype=np.float32)
        n_allowed = max(int(allowed.sum()), 1)
        excluded = [
            min(len(exclude[r]), depth) if r < len(exclude) else 0 for r in range(len(queries))
        ]
        # Each user is searched deep enough that filtering should leave about `depth`, with a
        # margin of a quarter (a long history of excluded items can cost a few: they rarely
        # all rank high), so an answer does not depend on who else is in the batch; a narrow
        # filter (a small category) is answered exactly instead.
        wanted = [int((depth + e) * len(allowed) / n_allowed) + depth // 4 for e in excluded]
        if max(wanted, default=0) * 4 >= len(allowed):
            scores = queries @ self.items.T
            return _masked_top(scores, depth, allowed, exclude)
        items = np.full((len(queries), max(wanted, default=0)), -1, dtype=np.int64)
        scores = np.full(items.shape, -np.inf, dtype=np.float32)
        for row, k in enumerate(wanted):
            found_scores, found = self.index.search(queries[row : row + 1], k, self.ef_search)
            items[row, : found.shape[1]], scores[row, : found.shape[1]] = found[0], found_scores[0]
        return _filtered(items, scores, depth, allowed, exclude)


class PriorSource(Source):
    """One ranking shared by every user (popularity, trending)."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = np.asarray(scores, dtype=np.float32)
        self.order = np.argsort(-self.scores, kind="stable")

    def retrieve(
        self, users: UserBatch, depth: int, allowed: np.ndarray, exclude: Sequence[np.ndarray]
    ) -> Recs:
        head = self._head(allowed, depth + max((len(e) for e in exclude), default=0))
        items = np.broadcast_to(head, (len(users), len(head)))
        return _filtered(items, np.broadcast_to(self.scores[head], items.shape), depth,
                         allowed, exclude)  # fmt: skip

    def _head(self, allowed: np.ndarray, n: int) -> np.ndarray:
        """The first `n` allowed items of the ranking: a short prefix usually holds them, so the
        whole catalogue is filtered only when it does not."""
        prefix = self.order[: 4 * n]
        head = prefix[allowed[prefix]]
        if len(head) < n and len(prefix) < len(self.order):
            head = self.order[allowed[self.order]]
        return head[:n]


class SimilaritySource(Source):
    """A history model with a sparse item-item `similarity_` (item-kNN, co-bought): a user's
    scores are the kind-weighted sum of the rows of the history items; items no row reaches
    (score 0) are not retrieved."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def retrieve(
        self, users: UserBatch, depth: int, allowed: np.ndarray, exclude: Sequence[np.ndarray]
    ) -> Recs:
        m = self.model
        history = history_matrix(
            users, m.n_items_, m.kind_weights_, m.default_weight_, m.params.binary
        )
        rows, items, values = similarity_sums(history, m.similarity_)
        keep = (values > 0) & allowed[items]
        blocked = _flat_keys(exclude, m.n_items_)
        if len(blocked):
            keep &= ~_member(rows * m.n_items_ + items, blocked)
        return _top_per_row(rows[keep], items[keep], values[keep], len(users), depth)


class ModelSource(Source):
    """The model's own scores over the whole catalogue."""

    def __init__(self, model: Recommender) -> None:
        self.model = model

    def retrieve(
        self, users: UserBatch, depth: int, allowed: np.ndarray, exclude: Sequence[np.ndarray]
    ) -> Recs:
        return self.model.recommend(
            users, depth, exclude_seen=False, candidates=np.flatnonzero(allowed), exclude=exclude
        )


class Retriever:
    """The sources of an artifact's models, queried together."""

    def __init__(
        self,
        models: Mapping[str, Recommender],
        settings: RankerSettings,
        indexes: Mapping[str, VectorIndex] | None = None,
    ) -> None:
        self.settings = settings
        wanted = settings.sources or list(models)
        self.indexes: dict[str, VectorIndex] = dict(indexes or {})
        self.sources: dict[str, Source] = {}
        for name in wanted:
            if name not in models:
                continue
            vectors = item_vectors(models[name])
            if vectors is None:
                self.sources[name] = _plain_source(models[name])
                continue
            user_vectors, items = vectors
            if name not in self.indexes:
                self.indexes[name] = VectorIndex.build(items, settings)
            self.sources[name] = VectorSource(
                user_vectors, items, self.indexes[name], settings.hnsw_ef_search
            )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.sources)

    def retrieve(
        self,
        users: UserBatch,
        allowed: np.ndarray,
        exclude: Sequence[np.ndarray],
        depth: int | None = None,
    ) -> Candidates:
        """Each source's top `depth` (default `candidates_per_source`) for every user; `allowed`
        is a keep-mask over items shared by all users, `exclude` one item array per user."""
        depth = depth or self.settings.candidates_per_source
        found = {
            name: s.retrieve(users, depth, allowed, exclude) for name, s in self.sources.items()
        }
        return merge(found, len(users), depth)

    def save(self, path: Path) -> None:
        """The approximate (HNSW) indexes only: exact ones are rebuilt from the model in no time."""
        path.mkdir(parents=True, exist_ok=True)
        for name, index in self.indexes.items():
            if name in self.sources and not index.is_exact:
                index.save(path / f"{name}{INDEX_SUFFIX}")

    @staticmethod
    def load_indexes(path: Path) -> dict[str, VectorIndex]:
        if not path.is_dir():
            return {}
        return {p.stem: VectorIndex.load(p) for p in sorted(path.glob(f"*{INDEX_SUFFIX}"))}


def merge(found: Mapping[str, Recs], n_users: int, depth: int) -> Candidates:
    """One row per distinct (user, item) retrieved by any source."""
    names = tuple(found)
    rows, items, source, rank, score = [], [], [], [], []
    for s, recs in enumerate(found.values()):
        r, position = np.nonzero(recs.item_idx >= 0)
        rows.append(r)
        items.append(recs.item_idx[r, position])
        source.append(np.full(len(r), s))
        rank.append(position + 1)
        score.append(recs.scores[r, position])
    row = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    item = np.concatenate(items) if items else np.zeros(0, np.int64)
    width = int(item.max(initial=0)) + 1
    keys, inverse = np.unique(row * width + item, return_inverse=True)
    scores = np.full((len(keys), len(names)), np.nan, dtype=np.float32)
    ranks = np.full((len(keys), len(names)), depth + 1, dtype=np.float32)
    if len(names):
        at = np.concatenate(source)
        scores[inverse, at] = np.concatenate(score)
        ranks[inverse, at] = np.concatenate(rank)
    counts = np.bincount(keys // width, minlength=n_users)
    return Candidates(
        sources=names,
        indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        item=keys % width,
        scores=scores,
        ranks=ranks,
    )


def item_vectors(model: Recommender) -> tuple[UserVectors, np.ndarray] | None:
    """(user vectors of a batch, item vectors) whose inner product is the model's score, for the
    models that expose them; None for the others."""
    name = getattr(model, "name", "")
    if name == "als":
        return model.user_factors, model.item_factors_  # type: ignore[attr-defined]
    if name == "content":
        vector = model._user_vector  # type: ignore[attr-defined]  # the model's own decayed sum
        items = model.item_vectors_  # type: ignore[attr-defined]
        return lambda users: _stacked([vector(h) for h in users.histories], items.shape[1]), items
    if name == "transformer":
        return _transformer_vectors(model), model.item_table_[1:]  # type: ignore[attr-defined]
    return None


def _transformer_vectors(model: Any) -> UserVectors:
    n_items = model.item_table_.shape[0] - 1

    def user_vectors(users: UserBatch) -> np.ndarray:
        histories, kinds = [], []
        for i, history in enumerate(users.histories):
            history = np.asarray(history, dtype=np.int64)
            known = (history >= 0) & (history < n_items)  # items newer than the model
            histories.append(history[known])
            kinds.append(
                np.full(int(known.sum()), model.default_kind_)
                if users.kinds is None
                else np.asarray(users.kinds[i])[known]
            )
        out = np.zeros((len(users), model.item_table_.shape[1]), dtype=np.float32)
        rows = [i for i, h in enumerate(histories) if len(h)]
        if rows:
            out[rows] = model._user_vectors([histories[i] for i in rows], [kinds[i] for i in rows])
        return out

    return user_vectors


def _plain_source(model: Recommender) -> Source:
    scores = getattr(model, "scores_", None)  # the item priors: popular, trending
    if isinstance(scores, np.ndarray):
        return PriorSource(scores)
    if isinstance(model, HistoryModel) and sp.issparse(getattr(model, "similarity_", None)):
        return SimilaritySource(model)
    return ModelSource(model)


def _flat_keys(per_row: Sequence[np.ndarray], width: int) -> np.ndarray:
    """row * width + item of every item of every row."""
    lengths = [len(items) for items in per_row]
    if not sum(lengths):
        return np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(per_row)), lengths)
    return rows * width + np.concatenate([np.asarray(i, dtype=np.int64) for i in per_row])


def _top_per_row(
    rows: np.ndarray, items: np.ndarray, values: np.ndarray, n_rows: int, depth: int
) -> Recs:
    """The `depth` best (item, value) of each row (`rows` ascending), ties by ascending item,
    -1 padded."""
    # Sort only what can place: per row, the values at least its depth-th largest.
    bounds = np.searchsorted(rows, np.arange(n_rows + 1))
    floor = np.full(n_rows, -np.inf, dtype=np.float32)
    for row in np.flatnonzero(np.diff(bounds) > depth).tolist():
        own = values[bounds[row] : bounds[row + 1]]
        floor[row] = np.partition(own, len(own) - depth)[len(own) - depth]
    near = values >= floor[rows]
    rows, items, values = rows[near], items[near], values[near]
    order = np.lexsort((items, -values, rows))
    rows, items, values = rows[order], items[order], values[order]
    starts = np.searchsorted(rows, np.arange(n_rows))
    position = np.arange(len(rows)) - starts[rows]
    keep = position < depth
    out_items = np.full((n_rows, depth), -1, dtype=np.int64)
    out_scores = np.full((n_rows, depth), -np.inf, dtype=np.float32)
    out_items[rows[keep], position[keep]] = items[keep]
    out_scores[rows[keep], position[keep]] = values[keep]
    return Recs(item_idx=out_items, scores=out_scores)


def _member(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Mask of the `values` found in `members` by binary search: np.isin would build a table
    over the whole range of item indices for a few dozen members."""
    members = np.sort(np.asarray(members, dtype=np.int64))
    at = np.minimum(np.searchsorted(members, values), len(members) - 1)
    return members[at] == values


def _stacked(vectors: list[np.ndarray], dim: int) -> np.ndarray:
    return np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, dim), np.float32)


def _masked_top(
    scores: np.ndarray, depth: int, allowed: np.ndarray, exclude: Sequence[np.ndarray]
) -> Recs:
    scores = np.array(scores, dtype=np.float32)
    scores[:, ~allowed] = -np.inf
    for row, items in enumerate(exclude):
        scores[row, items[(items >= 0) & (items < scores.shape[1])]] = -np.inf
    return top_k(scores, depth)


def _filtered(
    items: np.ndarray,
    scores: np.ndarray,
    depth: int,
    allowed: np.ndarray,
    exclude: Sequence[np.ndarray],
) -> Recs:
    """The first `depth` items of each ranked row that are allowed and not excluded."""
    keep = (items >= 0) & allowed[np.maximum(items, 0)]
    for row, blocked in enumerate(exclude):
        if len(blocked):
            keep[row] &= ~_member(items[row], blocked)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :depth]  # kept first, in rank order
    kept = np.take_along_axis(keep, order, axis=1)
    out_items = np.where(kept, np.take_along_axis(items, order, axis=1), -1)
    out_scores = np.where(kept, np.take_along_axis(scores, order, axis=1), -np.inf)
    if out_items.shape[1] < depth:
        pad = depth - out_items.shape[1]
        out_items = np.pad(out_items, ((0, 0), (0, pad)), constant_values=-1)
        out_scores = np.pad(out_scores, ((0, 0), (0, pad)), constant_values=-np.inf)
    return Recs(item_idx=out_items.astype(np.int64), scores=out_scores.astype(np.float32))


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ImportError("retrieval needs faiss: pip install faiss-cpu") from exc
    return faiss
