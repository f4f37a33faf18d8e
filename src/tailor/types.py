"""Shared value types: id maps, user batches, recommendation results and the canonical columns.

The shop speaks in string ids (`user_id`, `item_id`); models speak in dense integer indices
(`user_idx`, `item_idx`). `IdMap` is the one place where the two meet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# Canonical column order of the three tables, shared by the store, the validators and the loaders.
EVENT_COLUMNS: tuple[str, ...] = (
    "event_id", "user_id", "item_id", "kind", "ts", "value",
    "session_id", "channel", "query", "text",
)
ITEM_COLUMNS: tuple[str, ...] = (
    "item_id", "title", "description", "category", "brand", "price", "stock",
    "tags", "attributes", "created_at", "hidden",
)
USER_COLUMNS: tuple[str, ...] = ("user_id", "attributes", "created_at")

# Built-in event kinds and their default weights (view < click < favourite < cart < purchase).
# Kinds with weight 0 are recorded but do not count as interactions; `dislike` is a negative signal.
DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "impression": 0.0,
    "search": 0.0,
    "view": 1.0,
    "click": 2.0,
    "favorite": 4.0,
    "review": 4.0,
    "rating": 4.0,
    "cart": 6.0,
    "purchase": 10.0,
    "dislike": -5.0,
    "coupon": 0.0,  # a coupon redeemed on `item_id`, its face value in `value` (read by risk control)
}
# Kinds that carry no item: everything else needs an `item_id`.
ITEMLESS_KINDS: frozenset[str] = frozenset({"search"})
CATEGORY_SEPARATOR = "/"

# An erased id's place in an id map: it keeps the index, and no id maps to it (ids are never empty).
ERASED_ID = ""


class IdMap:
    """A bijection between the shop's string ids and dense indices 0..n-1, in insertion order."""

    __slots__ = ("_ids", "_index")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self.extend(ids)

    def extend(self, ids: Iterable[str]) -> None:
        for id_ in ids:
            if id_ == ERASED_ID:  # keeps its index, so the ids after it keep theirs
                self._ids.append(id_)
            elif id_ not in self._index:
                self._index[id_] = len(self._ids)
                self._ids.append(id_)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, id_: object) -> bool:
        return id_ in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and self._ids == other._ids

    def index(self, id_: str) -> int:
        """The index of one id; raises KeyError for an unknown id."""
        return self._index[id_]

    def get(self, id_: str, default: int = -1) -> int:
        return self._index.get(id_, default)

    def indices(self, ids: Iterable[str], missing: int = -1) -> np.ndarray:
        """Indices of many ids as int64, with `missing` for unknown ones."""
        get = self._index.get
        return np.fromiter((get(i, missing) for i in ids), dtype=np.int64)

    def id(self, idx: int) -> str:
        return self._ids[idx]

    def ids(self, indices: Iterable[int] | None = None) -> list[str]:
        """The ids of the given indices (all ids when None); negative indices are skipped."""
        if indices is None:
            return list(self._ids)
        return [self._ids[i] for i in indices if i >= 0]

    def forget(self, ids: Iterable[str]) -> int:
        """Erase ids (see `tailor.privacy`): each keeps its index as ERASED_ID, so every other id
        keeps its own, but is no longer found. Returns how many were known."""
        forgotten = 0
        for id_ in ids:
            idx = self._index.pop(id_, None)
            if idx is not None:
                self._ids[idx] = ERASED_ID
                forgotten += 1
        return forgotten

    def to_list(self) -> list[str]:
        return list(self._ids)


@dataclass(frozen=True)
class UserBatch:
    """Users to score, with their time-ordered recent history.

    `user_idx` is -1 for users the model has never seen; their history still lets sequence and
    neighbourhood models score them. `kinds` holds event-kind codes aligned with `histories`
    (see `Dataset.kind_codes`) and is optional.
    """

    user_idx: np.ndarray
    histories: Sequence[np.ndarray]
    kinds: Sequence[np.ndarray] | None = None

    def __post_init__(self) -> None:
        if len(self.user_idx) != len(self.histories):
            raise ValueError("user_idx and histories must have the same length")
        if self.kinds is not None and len(self.kinds) != len(self.histories):
            raise ValueError("kinds and histories must have the same length")

    def __len__(self) -> int:
        return len(self.user_idx)

    @classmethod
    def of_histories(cls, histories: Sequence[Sequence[int]]) -> UserBatch:
        """A batch of anonymous users described only by their histories."""
        return cls(
            user_idx=np.full(len(histories), -1, dtype=np.int64),
            histories=[np.asarray(h, dtype=np.int64) for h in histories],
        )


@dataclass(frozen=True)
class Recs:
    """Top-k results for a batch: row i holds the k best item indices for query i, best first.

    Rows with fewer than k eligible items are padded with item index -1 and score -inf.
    """

    item_idx: np.ndarray  # (n, k) int64
    scores: np.ndarray  # (n, k) float32
    reasons: list[list[str]] | None = field(default=None, compare=False)

    def __len__(self) -> int:
        return self.item_idx.shape[0]

    def row(self, i: int) -> list[tuple[int, float]]:
        """The valid (item_idx, score) pairs of row i, padding dropped."""
        keep = self.item_idx[i] >= 0
        return list(zip(self.item_idx[i][keep].tolist(), self.scores[i][keep].tolist()))
