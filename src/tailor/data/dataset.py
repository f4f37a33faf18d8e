"""`Dataset`: what models train on. Time-ordered per-user sequences, a weighted CSR matrix, item text.

The sequences are the source of truth, kept flat (CSR-style: `indptr`, `items`, `kinds`, `ts`);
the user x item matrix is derived from them with each event kind's weight. Only events whose kind
has a positive weight become interactions (impressions, searches and dislikes do not).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tailor.types import CATEGORY_SEPARATOR, DEFAULT_EVENT_WEIGHTS, IdMap, UserBatch

# Kind assigned to interactions that come without one (e.g. the Amazon sequential format).
DEFAULT_KIND = "purchase"


@dataclass(frozen=True, eq=False)
class Dataset:
    user_ids: IdMap
    item_ids: IdMap
    kinds: tuple[str, ...]  # kind code -> kind name
    kind_weights: np.ndarray  # (n_kinds,) float32, weight of each kind code
    indptr: np.ndarray  # (n_users + 1,) int64: user u's events are [indptr[u], indptr[u+1])
    items: np.ndarray  # (n_events,) int32 item_idx, time-ordered within each user
    kind_codes: np.ndarray  # (n_events,) int16
    ts: np.ndarray  # (n_events,) int64, milliseconds since the epoch
    item_frame: pd.DataFrame | None = None  # catalogue rows aligned with item_idx, when known

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def from_events(
        cls,
        events: pd.DataFrame,
        items: pd.DataFrame | None = None,
        weights: Mapping[str, float] | None = None,
    ) -> Dataset:
        """Build from an events frame (`user_id, item_id, kind, ts`) and an optional catalogue frame.

        Catalogue items without events still get an index, so cold items can be scored. Hidden
        items are left out of the catalogue but kept if they have events.
        """
        weights = dict(DEFAULT_EVENT_WEIGHTS if weights is None else weights)
        kept = events[events["item_id"].notna()]
        kept = kept[kept["kind"].map(lambda k: weights.get(k, 0.0) > 0).astype(bool)]
        kept = kept.sort_values(["user_id", "ts"], kind="stable")

        item_ids = IdMap()
        if items is not None and len(items):
            visible = items if "hidden" not in items else items[~items["hidden"].fillna(False).astype(bool)]
            item_ids.extend(visible["item_id"].astype(str))
        item_ids.extend(pd.unique(kept["item_id"].astype(str)))
        user_codes, user_uniques = pd.factorize(kept["user_id"].astype(str), sort=False)
        kinds = tuple(sorted(weights))
        kind_index = {k: i for i, k in enumerate(kinds)}

        counts = np.bincount(user_codes, minlength=len(user_uniques))
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(
            user_ids=IdMap(user_uniques.tolist()),
            item_ids=item_ids,
            kinds=kinds,
            kind_weights=np.array([weights[k] for k in kinds], dtype=np.float32),
            indptr=indptr,
            items=item_ids.indices(kept["item_id"].astype(str)).astype(np.int32),
            kind_codes=kept["kind"].map(kind_index).to_numpy(dtype=np.int16),
            ts=kept["ts"].to_numpy(dtype=np.int64),
            item_frame=_align_items(items, item_ids),
        )

    @classmethod
    def from_sequences(
        cls,
        sequences: Mapping[str, Sequence[str]],
        item_text: Mapping[str, str] | None = None,
    ) -> Dataset:
        """Build from time-ordered item-id sequences per user (the Amazon/ML sequential format).

        Every interaction gets the default kind and its position as timestamp. `item_text`, keyed
        by item id, becomes the `title` column of the catalogue.
        """
        item_ids = IdMap()
        if item_text:
            item_ids.extend(item_text)
        lengths = np.fromiter((len(s) for s in sequences.values()), dtype=np.int64, count=len(sequences))
        flat = [item for seq in sequences.values() for item in seq]
        item_ids.extend(flat)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        ts = np.arange(len(flat), dtype=np.int64) - np.repeat(indptr[:-1], lengths)
        kinds = tuple(sorted(DEFAULT_EVENT_WEIGHTS))
        frame = None
        if item_text:
            frame = pd.DataFrame({"item_id": item_ids.to_list()})
            frame["title"] = frame["item_id"].map(item_text).fillna("")
        return cls(
            user_ids=IdMap(sequences.keys()),
            item_ids=item_ids,
            kinds=kinds,
            kind_weights=np.array([DEFAULT_EVENT_WEIGHTS[k] for k in kinds], dtype=np.float32),
            indptr=indptr,
            items=item_ids.indices(flat).astype(np.int32),
            kind_codes=np.full(len(flat), kinds.index(DEFAULT_KIND), dtype=np.int16),
            ts=ts,
            item_frame=frame,
        )

    def with_sequences(
        self, indptr: np.ndarray, items: np.ndarray, kind_codes: np.ndarray, ts: np.ndarray
    ) -> Dataset:
        """The same users, items and kinds with other sequences (used by the splits)."""
        return Dataset(
            user_ids=self.user_ids, item_ids=self.item_ids, kinds=self.kinds,
            kind_weights=self.kind_weights, indptr=indptr, items=items,
            kind_codes=kind_codes, ts=ts, item_frame=self.item_frame,
        )

    # ---- shape --------------------------------------------------------------------------------

    @property
    def n_users(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_events(self) -> int:
        return len(self.items)

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """User x item interaction strength: the sum of the kind weights of each pair's events."""
        rows = np.repeat(np.arange(self.n_users, dtype=np.int32), np.diff(self.indptr))
        data = self.kind_weights[self.kind_codes]
        m = sp.csr_matrix((data, (rows, self.items)), shape=(self.n_users, self.n_items), dtype=np.float32)
        m.sum_duplicates()
        return m

    @cached_property
    def item_counts(self) -> np.ndarray:
        """How many users interacted with each item."""
        return np.bincount(self.matrix.indices, minlength=self.n_items)

    # ---- access -------------------------------------------------------------------------------

    def history(self, user_idx: int) -> np.ndarray:
        return self.items[self.indptr[user_idx] : self.indptr[user_idx + 1]]

    def user_batch(self, user_idx: Sequence[int] | np.ndarray, max_len: int | None = None) -> UserBatch:
        """The given users with their (last `max_len`) events, ready for `Recommender.recommend`."""
        user_idx = np.asarray(user_idx, dtype=np.int64)
        histories, kinds = [], []
        for u in user_idx:
            start, end = self.indptr[u], self.indptr[u + 1]
            if max_len is not None:
                start = max(start, end - max_len)
            histories.append(self.items[start:end])
            kinds.append(self.kind_codes[start:end])
        return UserBatch(user_idx=user_idx, histories=histories, kinds=kinds)

    def item_text(self) -> list[str]:
        """One text per item for the language model: title, brand, category path and description."""
        if self.item_frame is None:
            return [""] * self.n_items
        parts = [
            self.item_frame[col].fillna("").astype(str)
            for col in ("title", "brand", "category", "description")
            if col in self.item_frame
        ]
        if not parts:
            return [""] * self.n_items
        joined = parts[0]
        for part in parts[1:]:
            joined = joined.str.cat(part, sep=" ")
        return joined.str.replace(CATEGORY_SEPARATOR, " ", regex=False).str.strip().tolist()

    def fingerprint(self) -> str:
        """A short, stable hash of the interactions and ids, printed beside every benchmark number."""
        digest = hashlib.sha256()
        for array in (self.indptr, self.items, self.kind_codes, self.ts):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update("\x1f".join(self.item_ids.to_list()).encode())
        digest.update("\x1f".join(self.user_ids.to_list()).encode())
        return digest.hexdigest()[:12]


def _align_items(items: pd.DataFrame | None, item_ids: IdMap) -> pd.DataFrame | None:
    """Catalogue rows reordered to item_idx; items known only from events get empty rows."""
    if items is None or not len(items):
        return None
    unique = items.drop_duplicates("item_id", keep="last")
    aligned = unique.set_index(unique["item_id"].astype(str).rename("_id")).reindex(item_ids.to_list())
    aligned["item_id"] = item_ids.to_list()
    return aligned.reset_index(drop=True)
